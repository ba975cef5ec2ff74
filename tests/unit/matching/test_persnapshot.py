"""matching/persnapshot: one value per snapshot version, replaced whole when the snapshot changes."""

from __future__ import annotations

from postmock_nb.core.model import Collection
from postmock_nb.matching.persnapshot import PerSnapshot
from postmock_nb.matching.snapshot import Snapshot


def test_one_value_per_snapshot_version() -> None:
    held: PerSnapshot[dict[str, int]] = PerSnapshot(dict)
    assert held.peek() is None
    first, second = Snapshot(Collection(name="a")), Snapshot(Collection(name="b"))
    value = held.get(first)
    value["n"] = 1
    assert held.get(first) is value and held.peek() is value
    fresh = held.get(second)
    assert fresh == {} and fresh is not value  # a newer snapshot starts afresh
    assert held.get(first) is not value  # and the old one's value is not kept beside it


def test_renew_starts_the_same_snapshot_again() -> None:
    held: PerSnapshot[list[int]] = PerSnapshot(list)
    snapshot = Snapshot(Collection(name="a"))
    held.get(snapshot).append(1)
    renewed = held.renew(snapshot)
    assert renewed == [] and held.get(snapshot) is renewed
