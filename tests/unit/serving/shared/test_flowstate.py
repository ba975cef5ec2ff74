"""RedisFlowState (postmock_nb.serving.shared.flowstate) on fakeredis: the FlowState contract, its keys, what it
knows without a round trip, Redis out of reach, and its atomic decision (one Lua script, which fakeredis runs with
lupa) deciding as memory does. Replicas racing on a real redis-server: tests/server/test_shared_flows.py."""

from __future__ import annotations

import asyncio

import fakeredis
import pytest
from support.flowstate_contract import FlowStateContract

from postmock_nb.behaviours.state import AtomicFlowState, FlowState
from postmock_nb.serving.shared.connection import SharedState, StateUnavailable
from postmock_nb.serving.shared.flowstate import STORE, RedisFlowState, field_of


def _shared(server: fakeredis.FakeServer, prefix: str = "shop") -> SharedState:
    shared = SharedState("redis://:secret@127.0.0.1:6399/0", prefix)
    shared._sync = fakeredis.FakeRedis(server=server)  # the blocking client, on a fake server
    return shared


class TestRedisFlowState(FlowStateContract):
    def make(self) -> FlowState:
        return RedisFlowState(_shared(fakeredis.FakeServer()))


def test_it_is_the_atomic_kind() -> None:
    store = RedisFlowState(_shared(fakeredis.FakeServer()))
    assert isinstance(store, AtomicFlowState)


def test_its_keys_are_under_the_mocks_prefix() -> None:
    server = fakeredis.FakeServer()
    store = RedisFlowState(_shared(server, "shop"))
    store.set_state("jobs", "done")
    store.advance(("Users", "list"))
    store.draw(("dice",), 3, 6)
    raw = fakeredis.FakeRedis(server=server, decode_responses=True)
    assert sorted(raw.keys()) == ["postmock:shop:flows:draws", "postmock:shop:flows:states",
                                  "postmock:shop:flows:turns"]
    assert raw.hgetall("postmock:shop:flows:states") == {"jobs": "done"}
    assert raw.hgetall("postmock:shop:flows:turns") == {field_of(("Users", "list")): "1"}


def test_two_stores_on_one_redis_are_one_state_and_two_prefixes_are_two() -> None:
    server = fakeredis.FakeServer()
    a, b, other = (RedisFlowState(_shared(server, p)) for p in ("shop", "shop", "blog"))
    a.set_state("jobs", "done")
    assert b.state("jobs") == "done" and other.state("jobs") == "Started"
    assert [a.advance(("s",)), b.advance(("s",)), a.advance(("s",))] == [0, 1, 2] and other.advance(("s",)) == 0
    assert b.reset() == ["jobs"] and a.states() == {}


def test_a_sequence_field_keeps_folders_and_names_apart() -> None:
    assert field_of(("a:b", "c")) != field_of(("a", "b:c"))
    assert field_of(("Ünïcode", "x")) == '["Ünïcode", "x"]'


def test_it_knows_the_states_it_last_read_without_a_round_trip() -> None:
    server = fakeredis.FakeServer()
    mine, theirs = RedisFlowState(_shared(server)), RedisFlowState(_shared(server))
    theirs.set_state("jobs", "done")
    assert mine.known_states() == {}  # nothing read yet
    assert mine.states() == {"jobs": "done"} and mine.known_states() == {"jobs": "done"}
    theirs.reset()
    mine.states()
    assert mine.known_states() == {}


def test_a_redis_out_of_reach_is_state_unavailable_naming_the_store_and_comes_back() -> None:
    server = fakeredis.FakeServer()
    shared = _shared(server)
    store = RedisFlowState(shared)
    store.set_state("jobs", "done")
    server.connected = False
    with pytest.raises(StateUnavailable) as raised:
        store.states()
    assert raised.value.store == STORE == "scenarios"
    status = shared.status()
    assert status["available"] is False and "secret" not in str(status) and "does not answer" in status["error"]
    with pytest.raises(StateUnavailable):
        store.reset()
    server.connected = True  # Redis is back: the next call answers, nothing to restart
    assert store.states() == {"jobs": "done"} and shared.status()["available"] is True


# -- one decision in one Lua script (fakeredis runs it with lupa), the same as in memory -------------------------

def _flows_collection(build):
    steps = [("Started", "a"), ("a", "b"), ("b", "Started")]
    return build.collection(
        *(build.example("GET /job", f"step{i}", request_headers={"x-mock-scenario": f"job; requires={r}; next={n}"})
          for i, (r, n) in enumerate(steps)),
        *(build.example("GET /coin", side, request_headers={"x-mock-sequence": "cycle"}) for side in ("h", "t")),
        *(build.example("GET /retry", name, request_headers={"x-mock-sequence": "stick"})
          for name in ("fail", "fail again", "ok")),
        build.example("GET /gate", "closed", request_headers={"x-mock-scenario": "gate; requires=open"}),
        build.example("GET /open", "opened", request_headers={"x-mock-scenario": "gate; next=open"}),
        build.example("GET /ping", "pong"))


def _answers(flows, snapshot, urls: list[str], *, shared: SharedState | None = None,
             server: fakeredis.FakeServer | None = None) -> list[str | None]:
    from postmock_nb.matching import IncomingRequest, match

    async def walk() -> list[str | None]:
        if shared is not None:  # the asyncio client of this loop, on the fake server
            shared._clients[id(asyncio.get_running_loop())] = fakeredis.aioredis.FakeRedis(server=server)
        names = []
        for url in urls:
            result = await flows.achoose(match(snapshot, IncomingRequest.build("GET", url)), snapshot)
            names.append(None if result.winner is None else result.winner.name)
        return names

    return asyncio.run(walk())


def test_the_script_decides_as_memory_does(build) -> None:  # a seeded random one: on a real Redis (sha1hex)
    from postmock_nb.behaviours.flows import Flows
    from postmock_nb.matching.snapshot import Snapshot

    snapshot = Snapshot(_flows_collection(build))
    urls = ["/job", "/coin", "/ping", "/retry", "/gate", "/job", "/ping", "/coin", "/open", "/gate", "/retry",
            "/job", "/retry", "/ping", "/job", "/coin"]
    server = fakeredis.FakeServer()
    shared = _shared(server)
    on_redis = Flows()
    on_redis.use(RedisFlowState(shared))
    memory = Flows()
    expected = _answers(memory, snapshot, urls)
    assert _answers(on_redis, snapshot, urls, shared=shared, server=server) == expected
    assert expected[:6] == ["step0", "h", "pong", "fail", None, "step1"] and expected[9:11] == ["closed", "fail again"]
    assert on_redis.states() == memory.states() == {"job": "a", "gate": "open"}
    replica = Flows()  # another process on the same Redis goes on from there
    replica.use(RedisFlowState(_shared(server)))
    assert _answers(replica, snapshot, ["/job", "/coin", "/retry"], shared=replica.atomic.shared,  # type: ignore[union-attr]
                    server=server) == _answers(memory, snapshot, ["/job", "/coin", "/retry"])


def test_an_unseeded_random_sequence_picks_among_its_examples(build) -> None:
    from postmock_nb.behaviours.flows import Flows
    from postmock_nb.matching.snapshot import Snapshot

    snapshot = Snapshot(build.collection(*(
        build.example("GET /dice", str(face), request_headers={"x-mock-sequence": "random"}) for face in range(1, 7))))
    server = fakeredis.FakeServer()
    shared = _shared(server)
    flows = Flows()
    flows.use(RedisFlowState(shared))
    faces = _answers(flows, snapshot, ["/dice"] * 40, shared=shared, server=server)
    assert set(faces) <= {"1", "2", "3", "4", "5", "6"} and len(set(faces)) > 1
    raw = fakeredis.FakeRedis(server=server, decode_responses=True)
    assert raw.hgetall("postmock:shop:flows:turns") == {field_of(("GET /dice",)): "40"}
