"""The live collection (postmock_nb.matching.store): whole-snapshot swaps, listeners, failed edits.

:class:`CollectionStoreContract` holds the tests every :class:`CollectionStore` passes.
"""

from __future__ import annotations

import pytest
from support.collectionstore_contract import CollectionStoreContract

from postmock_nb.core.model import Collection
from postmock_nb.matching.store import CollectionStore, LiveCollection


def test_update_swaps_a_new_snapshot_and_notifies(build):
    store = LiveCollection()
    seen = []
    unsubscribe = store.subscribe(seen.append)
    first = store.snapshot
    second = store.update(lambda c: c.with_example(build.example("GET /a", "a")))
    assert second is store.snapshot and second is not first and second.version > first.version
    assert (len(first), len(second)) == (0, 1)  # the old snapshot is never changed
    assert seen == [second]
    unsubscribe()
    store.replace(Collection())
    assert seen == [second] and len(store.snapshot) == 0
    unsubscribe()  # twice: harmless


def test_a_failing_edit_changes_nothing(build):
    store = LiveCollection(build.collection(build.example("GET /a", "a")))
    before = store.snapshot
    seen = []
    store.subscribe(seen.append)

    def broken(collection: Collection) -> Collection:
        raise ValueError("no")

    with pytest.raises(ValueError):
        store.update(broken)
    assert store.snapshot is before and seen == []


class TestLiveCollection(CollectionStoreContract):
    def make(self, collection: Collection | None = None) -> CollectionStore:
        return LiveCollection(collection)
