"""The collection shared on Redis (postmock_nb.serving.shared.collection), on fakeredis: the store contract,
the startup rule, edits applied again when another replica wrote first, Redis out of reach, the follower."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import fakeredis
import fakeredis.aioredis
import pytest
import redis
from support.collectionstore_contract import CollectionStoreContract

from postmock_nb.core.model import Collection
from postmock_nb.matching.store import CollectionStore, LiveCollection
from postmock_nb.serving.shared import collection as module
from postmock_nb.serving.shared.collection import SharedCollection, decode, encode, shared_collection
from postmock_nb.serving.shared.connection import SharedState, StateUnavailable


class FakeShared(SharedState):
    """A SharedState whose clients talk to one in-process fakeredis server (the replicas of a test share it)."""

    def __init__(self, server: fakeredis.FakeServer, prefix: str = "team") -> None:
        super().__init__("redis://:secret@127.0.0.1:1/0", prefix)
        self.server = server

    def sync_client(self) -> Any:
        with self._lock:
            if self._sync is None:
                self._sync = fakeredis.FakeRedis(server=self.server)
            return self._sync

    def client(self) -> Any:
        loop = id(asyncio.get_running_loop())
        if loop not in self._clients:
            self._clients[loop] = fakeredis.aioredis.FakeRedis(server=self.server)
        return self._clients[loop]


@pytest.fixture
def server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


def replica(server: fakeredis.FakeServer, collection: Collection | None = None) -> SharedCollection:
    return SharedCollection(FakeShared(server), LiveCollection(collection))


async def turns_until(condition: Callable[[], object]) -> None:
    """Let the loop run (the follower's polls) until ``condition`` holds: 500 turns of 10 ms at most."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)


def paths(store: CollectionStore) -> list[str]:
    return sorted(e.request.path for e in store.collection.examples)


class TestSharedCollection(CollectionStoreContract):
    def make(self, collection: Collection | None = None) -> CollectionStore:
        return replica(fakeredis.FakeServer(), collection)


def test_a_collection_travels_as_postman_json_with_its_ids_and_markers(build):
    handler = build.example("GET /h", "handler", request_headers={"x-mock-handler": "key-1"})
    collection = build.collection(build.example("GET /a", "a", body='{"x": 1}'), handler)
    back = decode(encode(collection))
    assert [(e.id, e.name, e.request.headers, e.response.body) for e in back.examples] == \
        [(e.id, e.name, e.request.headers, e.response.body) for e in collection.examples]
    assert (back.name, back.id) == (collection.name, collection.id)


def test_a_replica_serves_its_own_until_an_edit_and_one_started_later_adopts_what_is_stored(server, build):
    first = replica(server, build.collection(build.example("GET /a", "a")))
    raw = fakeredis.FakeRedis(server=server)
    assert raw.keys("*") == [] and first.version == 0  # nothing stored until an edit
    first.update(lambda c: c.with_example(build.example("GET /b", "b")))
    assert raw.hget("postmock:team:collection", "version") == b"1"
    later = replica(server, build.collection(build.example("GET /own", "own")))
    assert paths(later) == ["/a", "/b"] and later.version == 1
    without = SharedCollection(FakeShared(server), LiveCollection(build.collection(build.example("GET /own", "o"))),
                               adopt=False)
    assert paths(without) == ["/own"]


def test_an_edit_applies_to_what_another_replica_stored(server, build):
    one, two = replica(server, build.collection()), replica(server, build.collection())
    one.update(lambda c: c.with_example(build.example("GET /one", "one")))
    two.update(lambda c: c.with_example(build.example("GET /two", "two")))  # two never followed one's edit
    assert paths(two) == ["/one", "/two"] and two.version == 2
    assert one.adopt() and paths(one) == ["/one", "/two"]


def test_an_edit_that_lost_the_race_is_applied_again_to_the_winner(server, build):
    one, two = replica(server, build.collection()), replica(server, build.collection())
    calls = []

    def edit(current: Collection) -> Collection:
        calls.append(paths(LiveCollection(current)))
        if len(calls) == 1:  # another replica writes between this edit's WATCH and its EXEC
            two.update(lambda c: c.with_example(build.example("GET /two", "two")))
        return current.with_example(build.example("GET /one", "one"))

    one.update(edit)
    assert calls == [[], ["/two"]]  # applied again, to what the other stored
    assert paths(one) == ["/one", "/two"] and one.version == 2


def test_edits_of_two_replicas_from_many_threads_are_all_kept(server, build):
    stores = [replica(server, build.collection()), replica(server, build.collection())]
    start = threading.Barrier(4)

    def edit(number: int) -> None:
        start.wait()
        for each in range(10):
            stores[number % 2].update(
                lambda c, n=number, e=each: c.with_example(build.example(f"GET /t{n}/{e}", f"t{n}-{e}")))

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stores[0].adopt()
    stores[1].adopt()
    assert len(stores[0].snapshot) == len(stores[1].snapshot) == 40
    assert stores[0].version == stores[1].version == 40


def test_a_failing_edit_stores_nothing(server, build):
    store = replica(server, build.collection(build.example("GET /a", "a")))

    def broken(collection: Collection) -> Collection:
        raise OSError("not Redis's")  # an OSError of the edit's own is not taken for Redis out of reach

    with pytest.raises(OSError, match="not Redis's"):
        store.update(broken)
    assert fakeredis.FakeRedis(server=server).keys("*") == [] and store.shared.error is None


def test_redis_out_of_reach_refuses_edits_and_keeps_serving_then_edits_resume(server, build):
    store = replica(server, build.collection(build.example("GET /a", "a")))
    before = store.snapshot
    server.connected = False
    with pytest.raises(StateUnavailable) as refused:
        store.update(lambda c: c.with_example(build.example("GET /b", "b")))
    assert refused.value.store == "collection" and "secret" not in str(refused.value)
    assert store.snapshot is before and store.shared.status()["available"] is False
    server.connected = True
    store.update(lambda c: c.with_example(build.example("GET /b", "b")))
    assert paths(store) == ["/a", "/b"] and store.shared.status()["available"] is True


def test_a_replica_starting_while_redis_is_out_of_reach_serves_its_own(server, build):
    server.connected = False
    store = replica(server, build.collection(build.example("GET /a", "a")))
    assert paths(store) == ["/a"] and store.version == 0


def test_a_stored_collection_that_does_not_read_is_kept_out_and_said(server, build):
    raw = fakeredis.FakeRedis(server=server)
    raw.hset("postmock:team:collection", mapping={"version": 3, "collection": b"{not json"})
    store = replica(server, build.collection(build.example("GET /a", "a")))
    assert paths(store) == ["/a"] and "version 3" in store.status()["error"]


def test_the_follower_swaps_in_what_another_replica_stores_and_stops_when_cancelled(server, build, monkeypatch):
    monkeypatch.setattr(module, "POLL_S", 0.01)
    follower, editor = replica(server, build.collection()), replica(server, build.collection())
    heard = []
    follower.subscribe(heard.append)

    async def scenario() -> None:
        task = asyncio.ensure_future(follower.follow())
        await asyncio.to_thread(editor.update, lambda c: c.with_example(build.example("GET /b", "b")))
        await turns_until(lambda: follower.version == 1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.done()

    asyncio.run(scenario())
    assert paths(follower) == ["/b"] and len(heard) == 1 and heard[0] is follower.snapshot


def test_the_follower_goes_on_after_redis_was_out_of_reach(server, build, monkeypatch):
    monkeypatch.setattr(module, "POLL_S", 0.01)
    follower, editor = replica(server, build.collection()), replica(server, build.collection())

    async def scenario() -> None:
        server.connected = False
        task = asyncio.ensure_future(follower.follow())
        await turns_until(lambda: follower.unfollowed is not None)
        assert "ConnectionError" in follower.status()["unfollowed"] and follower.shared.failures == 0
        server.connected = True
        await asyncio.to_thread(editor.update, lambda c: c.with_example(build.example("GET /b", "b")))
        await turns_until(lambda: follower.version == 1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    assert paths(follower) == ["/b"] and follower.unfollowed is None


def test_shared_collection_wraps_once_and_only_with_state(server, build):
    local = LiveCollection(build.collection())
    assert shared_collection(local, None) is local
    wrapped = shared_collection(local, FakeShared(server))
    assert isinstance(wrapped, SharedCollection) and wrapped.local is local
    assert shared_collection(wrapped, FakeShared(server)) is wrapped


def test_an_edit_whose_answer_was_lost_is_not_applied_twice(server, build, monkeypatch):
    store = replica(server, build.collection())
    real_execute = redis.client.Pipeline.execute
    lost = []

    def execute_then_lose_the_answer(pipe: Any, *args: Any, **kwargs: Any) -> Any:
        answer = real_execute(pipe, *args, **kwargs)
        if not lost:  # EXEC applied, then the connection broke: redis-py says WatchError while watching
            lost.append(answer)
            raise redis.exceptions.WatchError("A ConnectionError occurred on while watching one or more keys")
        return answer

    monkeypatch.setattr(redis.client.Pipeline, "execute", execute_then_lose_the_answer)
    calls = []
    store.update(lambda c: calls.append(1) or c.with_example(build.example(f"GET /n{len(calls)}", "n")))
    assert lost and calls == [1] and store.version == 1 and paths(store) == ["/n1"]
    assert fakeredis.FakeRedis(server=server).hget("postmock:team:collection", "version") == b"1"


def test_the_follower_goes_on_past_a_stored_version_that_does_not_read(server, build, monkeypatch):
    monkeypatch.setattr(module, "POLL_S", 0.01)
    follower, editor = replica(server, build.collection()), replica(server, build.collection())
    raw = fakeredis.FakeRedis(server=server)
    raw.hset("postmock:team:collection", "version", b"not a number")

    async def scenario() -> None:
        task = asyncio.ensure_future(follower.follow())
        await turns_until(lambda: follower.unfollowed is not None)
        assert "ValueError" in (follower.unfollowed or "")
        raw.delete("postmock:team:collection")
        await asyncio.to_thread(editor.update, lambda c: c.with_example(build.example("GET /b", "b")))
        await turns_until(lambda: follower.version == 1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    assert paths(follower) == ["/b"] and follower.unfollowed is None


def test_a_redis_restarted_empty_starts_a_new_history_that_old_replicas_follow_and_build_on(server, build):
    old = replica(server, build.collection())
    for path in ("/one", "/two", "/three"):  # the old history reaches version 3
        old.update(lambda c, path=path: c.with_example(build.example(f"GET {path}", path)))
    fakeredis.FakeRedis(server=server).flushall()  # Redis restarted without persistence
    new = replica(server, build.collection(build.example("GET /fresh", "fresh")))
    new.update(lambda c: c.with_example(build.example("GET /four", "four")))  # version 1 of a new history
    assert old.adopt()  # a lower version, but of another history: followed, not ignored
    assert paths(old) == ["/four", "/fresh"]
    old.update(lambda c: c.with_example(build.example("GET /five", "five")))  # built on the new history
    assert new.adopt() and paths(new) == paths(old) == ["/five", "/four", "/fresh"]
