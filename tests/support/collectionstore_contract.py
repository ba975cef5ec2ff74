"""The contract every CollectionStore keeps (postmock_nb.matching.store): :class:`CollectionStoreContract` is written
against the protocol only; a store of another backend reuses it by subclassing with its own ``make``:
tests/unit/matching/test_store.py (in memory), tests/unit/serving/shared/test_collection.py (on Redis)."""

from __future__ import annotations

import threading

import pytest

from postmock_nb.core.model import Collection
from postmock_nb.matching.store import CollectionStore


class CollectionStoreContract:
    """The tests every CollectionStore passes (written against the protocol only). Subclass it (``Test…``)
    and define ``make`` (a fresh store holding ``collection``)."""

    def make(self, collection: Collection | None = None) -> CollectionStore:
        raise NotImplementedError

    def test_a_snapshot_is_read_whole_and_swapped_whole(self, build):
        store = self.make(build.collection(build.example("GET /a", "a")))
        before = store.snapshot
        after = store.update(lambda c: c.with_example(build.example("GET /b", "b")))
        assert store.snapshot is after and store.collection is after.collection
        assert (len(before), len(after)) == (1, 2)  # the snapshot read before never changes
        assert len(store.replace(Collection())) == 0 and len(store.snapshot) == 0

    def test_a_failing_edit_changes_nothing(self, build):
        store = self.make(build.collection(build.example("GET /a", "a")))
        before = store.snapshot

        def broken(collection: Collection) -> Collection:
            raise ValueError("no")

        with pytest.raises(ValueError):
            store.update(broken)
        assert store.snapshot is before

    def test_the_environment_is_laid_over_every_snapshot(self, build):
        store = self.make(build.collection(build.example("GET /a", "a")))
        store.set_environment((("host", "example.com"),))
        assert store.environment == (("host", "example.com"),)
        assert dict(store.snapshot.variables).get("host") == "example.com"
        store.update(lambda c: c)
        assert dict(store.snapshot.variables).get("host") == "example.com"

    def test_listeners_hear_each_edit_until_they_unsubscribe(self, build):
        store = self.make()
        seen = []
        unsubscribe = store.subscribe(seen.append)
        first = store.update(lambda c: c.with_example(build.example("GET /a", "a")))
        unsubscribe()
        store.replace(Collection())
        assert seen == [first]

    def test_edits_from_many_threads_are_all_kept(self, build):
        store = self.make()
        start = threading.Barrier(4)

        def edit(number: int) -> None:
            start.wait()
            for each in range(25):
                store.update(lambda c, n=number, e=each: c.with_example(build.example(f"GET /t{n}/{e}", f"t{n}-{e}")))

        threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(store.snapshot) == 100
