"""Resource records on Redis (postmock_nb.serving.shared.records), in process on fakeredis (with its Lua).

The store keeps the contract of every record store (:class:`RecordStoreContract`); the tests below it are what
sharing adds: two stores on one Redis are two replicas; a race is played step by step (an operation is a
generator of Redis steps), so it is the same race every run.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import fakeredis
import pytest
from support.recordstore_contract import SEED, RecordStoreContract, _body

from postmock_nb.behaviours.dispatch import Behaviours, answered_by
from postmock_nb.behaviours.records import RecordStore
from postmock_nb.behaviours.resources import Resource, ResourceStore
from postmock_nb.serving.shared.connection import SharedState, StateUnavailable
from postmock_nb.serving.shared.records import SharedRecords, SharedRecordStore, Step, records_for


class FakeShared(SharedState):
    """A SharedState whose clients are fakeredis's, on one in-process server."""

    def __init__(self, server: fakeredis.FakeServer, prefix: str = "test") -> None:
        super().__init__("redis://127.0.0.1:6379/0", prefix)
        self.server = server
        self._fake_sync = fakeredis.FakeRedis(server=server)

    def sync_client(self) -> Any:
        return self._fake_sync

    def client(self) -> Any:
        return fakeredis.FakeAsyncRedis(server=self.server)


def _replicas(count: int = 2) -> list[SharedRecordStore]:
    server = fakeredis.FakeServer()
    return [SharedRecordStore(FakeShared(server)) for _ in range(count)]


def _step(records: SharedRecords, step: Step) -> Any:
    """Run one step as the blocking runner does."""
    client = records.shared.sync_client()
    assert step.script is not None
    return client.eval(step.script.text, len(step.keys), *step.keys, *step.args)


def _finish(records: SharedRecords, steps: Any, reply: Any) -> Any:
    """Run the rest of an operation whose last step got ``reply``; its result."""
    while True:
        try:
            step = steps.send(reply)
        except StopIteration as done:
            return done.value
        reply = _step(records, step)


class TestSharedRecordStore(RecordStoreContract):
    def make(self) -> RecordStore:
        return SharedRecordStore(FakeShared(fakeredis.FakeServer()))


def test_a_record_made_on_one_replica_is_served_by_the_other() -> None:
    one, two = _replicas()
    users_one = one.define("users", SEED)
    users_two = two.define("users")  # asked for by name: Redis holds it, nothing is wiped
    assert _body(users_one, "create", body={"name": "Carol"}) == (201, {"name": "Carol", "id": 3})
    assert _body(users_two, "get", "3") == (200, {"name": "Carol", "id": 3})
    assert _body(users_two, "create", body={"name": "Dan"})[1] == {"name": "Dan", "id": 4}
    assert [r["id"] for r in users_one.records] == [1, 2, 3, 4] and len(users_two) == 4


def test_restore_on_a_second_replica_keeps_the_records_and_define_with_records_reseeds() -> None:
    one, two = _replicas()
    users = one.define("users", SEED)
    users.operate("delete", "1", (), b"")
    examples = users.examples()  # a collection whose list example's body is the seed [2]
    restored = two.restore(examples)
    assert [r.name for r in restored] == ["users"] and restored[0].records == [SEED[1]]
    two.define("users", [{"id": 7}])  # records given: re-seeded for every replica
    assert users.records == [{"id": 7}]


def test_a_redis_that_lost_the_resource_is_seeded_again_from_the_seed() -> None:
    (store,) = _replicas(1)
    users = store.define("users", SEED)
    users.operate("create", None, (), b'{"name": "Carol"}')
    users.shared.sync_client().flushall()  # a restart without persistence
    assert _body(users, "get", "3")[0] == 404 and users.records == SEED
    assert _body(users, "create", body={"name": "Eve"}) == (201, {"name": "Eve", "id": 3})


def test_a_merge_that_lost_the_race_merges_onto_the_winner() -> None:
    one, two = _replicas()
    users_one, users_two = one.define("users", SEED), two.define("users")
    late = users_one._operation("merge", "1", (), b'{"role": "admin"}')
    read = _step(users_one, next(late))  # replica one read the record...
    assert _body(users_two, "merge", "1", {"team": "red"})[0] == 200  # ...replica two changed it meanwhile
    rendered, _ = _finish(users_one, late, read)
    assert json.loads(rendered.body) == {"id": 1, "name": "Alice", "team": "red", "role": "admin"}
    assert users_two.records[0] == {"id": 1, "name": "Alice", "team": "red", "role": "admin"}


def test_a_deleted_record_is_not_brought_back_by_a_racing_merge() -> None:
    one, two = _replicas()
    users_one, users_two = one.define("users", SEED), two.define("users")
    late = users_one._operation("merge", "1", (), b'{"role": "admin"}')
    read = _step(users_one, next(late))  # replica one read the record...
    assert _body(users_two, "delete", "1")[0] == 204  # ...replica two deleted it meanwhile
    assert _finish(users_one, late, read)[0].status == 404
    assert users_one.records == [SEED[1]]


def test_string_ids_make_uuids_and_the_limits_count_every_replica() -> None:
    one, two = _replicas()
    notes = one.define("notes", [{"id": "a"}], max_records=3)
    other = two.define("notes", max_records=3)  # the limits are each replica's (its marker), the records Redis's
    status, made = _body(other, "create", body={"text": "x"})
    assert status == 201 and isinstance(made, dict) and len(made["id"]) == 36
    assert _body(notes, "create", body={"id": "a"})[0] == 409
    assert _body(notes, "create", body={"id": "b"})[0] == 201
    assert _body(other, "create", body={"id": "c"})[0] == 507  # three records, made on two replicas
    assert len(notes) == 3


def test_the_bytes_limit_holds_across_replicas() -> None:
    one, two = _replicas()
    small = one.define("small", [], max_bytes=60)
    other = two.define("small", max_bytes=60)
    assert _body(small, "create", body={"t": "x" * 20})[0] == 201
    assert _body(other, "create", body={"t": "y" * 20})[0] == 507
    assert _body(other, "replace", "1", {"t": "z" * 80})[0] == 413
    assert _body(other, "delete", "1")[0] == 204 and _body(other, "create", body={"t": "y" * 20})[0] == 201


def test_the_server_awaits_the_same_operations_on_its_loop() -> None:
    (store,) = _replicas(1)
    users = store.define("users", SEED)

    async def serve() -> list[int]:
        made = await asyncio.gather(*(users.operate_async("create", None, (), b'{"n": 1}') for _ in range(20)))
        listed, _ = await users.operate_async("list", None, (("_per_page", "50"),), b"")
        assert len(json.loads(listed.body)) == 22
        await users.reset_async()
        return sorted(new_id for _, new_id in made)

    assert asyncio.run(serve()) == list(range(3, 23)) and users.records == SEED


def test_redis_out_of_reach_is_state_unavailable_naming_the_store() -> None:
    server = fakeredis.FakeServer()
    shared = FakeShared(server)
    users = SharedRecordStore(shared).define("users", SEED)
    server.connected = False  # Redis down
    for op, record_id, body in (("list", None, b""), ("create", None, b'{"n": 1}'), ("merge", "1", b'{"n": 1}')):
        with pytest.raises(StateUnavailable) as refused:
            users.operate(op, record_id, (), body)
        assert refused.value.store == "resources" and shared.status()["available"] is False
    with pytest.raises(StateUnavailable):
        asyncio.run(users.operate_async("get", "1", (), b""))
    assert users.tally() is None
    server.connected = True  # back: served again, nothing was half written
    assert users.records == SEED and shared.status()["available"] is True


def test_records_for_moves_resources_into_redis_and_back_to_memory() -> None:
    memory = ResourceStore()
    todos = memory.define("todos", [{"id": 1}], max_records=9)
    todos.append({"id": 2})  # the notebook changed them before --state
    shared_store = records_for(FakeShared(fakeredis.FakeServer()), memory)
    shared_todos = shared_store.get("todos")
    assert isinstance(shared_store, SharedRecordStore) and shared_todos.records == [{"id": 1}, {"id": 2}]
    assert shared_todos.max_records == 9 and shared_todos.seed == [{"id": 1}]
    assert records_for(shared_store.shared, shared_store) is shared_store  # the same Redis: kept
    back = records_for(None, shared_store)
    assert isinstance(back, ResourceStore) and isinstance(back.get("todos"), Resource)
    assert back.get("todos").records == [{"id": 1}] and records_for(None, back) is back


OPERATIONS = [
    ("create", None, {"name": "Carol"}), ("create", None, {"id": None, "name": "Dan"}),
    ("create", None, {"id": 40, "name": "Ed"}), ("create", None, {"name": "Flo", "tags": ["ü", {"a": 1}]}),
    ("merge", "2", {"name": None, "role": {"admin": True}}), ("replace", "40", {"id": 99, "x": 1.5}),
    ("get", "40", None), ("get", "nobody", None), ("delete", "1", None), ("delete", "1", None),
    ("create", None, {"id": 2}), ("merge", "3", [1]), ("list", None, None),
]


def test_every_operation_answers_as_the_in_memory_resource_does() -> None:
    memory = ResourceStore().define("users", SEED)
    (store,) = _replicas(1)
    shared = store.define("users", SEED)
    for op, record_id, body in OPERATIONS:
        sent = json.dumps(body).encode() if body is not None else b""
        assert shared.operate(op, record_id, (), sent) == memory.operate(op, record_id, (), sent), (op, body)
    ids = {op: f"example-{op}" for op in ("list", "get", "create", "replace", "merge", "delete")}
    assert shared.records == memory.records and shared.examples(ids) == memory.examples(ids)


def test_string_ids_are_kept_as_in_memory_and_the_last_integer_id_finds_a_free_one() -> None:
    (store,) = _replicas(1)
    users = store.define("users", [{"id": 9007199254740991}])
    assert _body(users, "create", body={"n": 1})[1] == {"n": 1, "id": 1}  # all the way up: the first free id
    assert _body(users, "create", body={"id": "x"})[0] == 201
    rendered, made = users.operate("create", None, (), b'{"n": 2}')
    assert rendered.status == 201 and isinstance(made, str) and json.loads(rendered.body)["id"] == made


def test_answered_by_counts_the_shared_records_or_says_they_cannot_be_read() -> None:
    server = fakeredis.FakeServer()
    behaviours = Behaviours(resources=SharedRecordStore(FakeShared(server)))
    users = behaviours.define_resource("users", SEED)
    get = next(e for e in users.examples() if e.request.method == "GET" and e.request.path.endswith("/:id"))
    assert answered_by(get, behaviours) == "resource users get (2 records, changed " + time.strftime(
        "%H:%M:%S", time.localtime(users.last_change)) + ")"
    server.connected = False
    assert answered_by(get, behaviours) == "resource users get (its records cannot be read now)"
