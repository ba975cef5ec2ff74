"""RedisFlowState (postmock_nb.serving.shared.flowstate) on fakeredis: the FlowState contract, its keys, what it
knows without a round trip, and Redis out of reach. Its atomic decision (a Lua script, which fakeredis runs only
with lupa) is tested on a real redis-server: tests/server/test_shared_flows.py."""

from __future__ import annotations

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
