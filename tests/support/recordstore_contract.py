"""The contract every RecordStore keeps (postmock_nb.behaviours.records): :class:`RecordStoreContract` is written
against the protocols only; a store of another backend reuses it by subclassing with its own ``make``:
tests/unit/behaviours/test_records.py (in memory), tests/unit/serving/shared/test_records.py (on Redis)."""

from __future__ import annotations

import json
import threading

from postmock_nb.behaviours.records import Records, RecordStore

SEED = [{"id": 1, "name": "Alice"}, {"id": 2, "name": "Bob"}]


def _body(records: Records, op: str, record_id: str | None = None, body: dict | None = None,
          query: tuple[tuple[str, str], ...] = ()) -> tuple[int, object]:
    rendered, _ = records.operate(op, record_id, query, json.dumps(body).encode() if body is not None else b"")
    return rendered.status, json.loads(rendered.body) if rendered.body else None


class RecordStoreContract:
    """The tests every RecordStore passes. Subclass it (``Test…``) and define ``make``."""

    def make(self) -> RecordStore:
        raise NotImplementedError

    def test_define_get_and_the_crud_operations(self) -> None:
        store = self.make()
        users: Records = store.define("users", SEED)
        assert store.get("users") is users and "users" in store and len(store) == 1 and store.get("nobody") is None
        assert _body(users, "list") == (200, SEED)
        assert _body(users, "get", "2") == (200, SEED[1])
        assert _body(users, "create", body={"name": "Carol"}) == (201, {"name": "Carol", "id": 3})
        assert _body(users, "replace", "3", {"name": "Caroline"}) == (200, {"name": "Caroline", "id": 3})
        assert _body(users, "merge", "3", {"role": "admin"}) == (200, {"name": "Caroline", "id": 3, "role": "admin"})
        assert _body(users, "delete", "1") == (204, None)
        assert _body(users, "get", "1")[0] == 404 and len(users) == 2
        assert [r["id"] for r in users.records] == [2, 3] and users.last_change is not None

    def test_list_filters_sorts_and_pages(self) -> None:
        store = self.make()
        users = store.define("users", [{"id": i, "team": "a" if i % 2 else "b"} for i in range(1, 8)])
        status, found = _body(users, "list", query=(("team", "a"), ("_sort", "-id"), ("_page", "1"),
                                                    ("_per_page", "2")))
        assert (status, found) == (200, [{"id": 7, "team": "a"}, {"id": 5, "team": "a"}])
        assert _body(users, "list", query=(("_per_page", "0"),))[0] == 400
        assert _body(users, "list", query=(("_page", "x"),))[0] == 400

    def test_bad_bodies_are_refused_and_change_nothing(self) -> None:
        store = self.make()
        users = store.define("users", SEED)
        for body in (b"", b"[1]", b"{not json", b'{"id": 1e400}', b'{"id": true}'):
            rendered, _ = users.operate("create", None, (), body)
            assert rendered.status == 400, body
        assert users.records == SEED

    def test_reset_goes_back_to_the_seed_or_a_new_one(self) -> None:
        store = self.make()
        users = store.define("users", SEED)
        users.operate("delete", "1", (), b"")
        users.reset()
        assert users.records == SEED
        users.reset([{"id": "x"}])
        users.operate("delete", "x", (), b"")
        users.reset()
        assert users.records == [{"id": "x"}]

    def test_store_reset_resets_one_or_all(self) -> None:
        store = self.make()
        users, todos = store.define("users", SEED), store.define("todos", [{"id": 1}])
        users.operate("delete", "1", (), b"")
        todos.operate("delete", "1", (), b"")
        assert [r.name for r in store.reset("users")] == ["users"]
        assert len(users) == 2 and len(todos) == 0
        assert sorted(r.name for r in store.reset()) == ["todos", "users"] and len(todos) == 1
        assert store.reset("nobody") == []

    def test_limits_are_kept_and_enforced(self) -> None:
        store = self.make()
        small = store.define("small", [{"id": 1}], max_records=2, max_bytes=200)
        assert (small.max_records, small.max_bytes) == (2, 200)
        assert _body(small, "create", body={"name": "x"})[0] == 201
        assert _body(small, "create", body={"name": "y"})[0] == 507  # full
        assert _body(small, "replace", "1", {"text": "z" * 500})[0] == 413  # one record too large
        again = store.define("small")  # asked for by name: kept as it is, limits too
        assert again is small and (again.max_records, again.max_bytes) == (2, 200) and len(again) == 2
        store.define("small", max_records=5)
        assert (small.max_records, small.max_bytes) == (5, 200)

    def test_define_without_records_never_wipes_and_with_records_reseeds(self) -> None:
        store = self.make()
        users = store.define("users", SEED)
        users.operate("create", None, (), b'{"name": "Carol"}')
        assert len(store.define("users")) == 3
        assert store.define("users", [{"id": 9}]).records == [{"id": 9}]

    def test_remove_forgets_a_resource(self) -> None:
        store = self.make()
        users = store.define("users", SEED)
        assert store.remove("users") is users and store.remove("users") is None
        assert "users" not in store and list(store) == []

    def test_restore_from_the_examples_of_a_saved_resource(self) -> None:
        store = self.make()
        examples = store.define("users", SEED, max_records=50).examples()
        other = self.make()
        restored = other.restore(examples)
        assert [r.name for r in restored] == ["users"] and other.get("users").records == SEED
        assert other.get("users").max_records == 50
        assert other.restore(examples) == []  # known already: kept as it is

    def test_creates_from_many_threads_each_get_their_own_id(self) -> None:
        store = self.make()
        users = store.define("users", [])
        made: list[object] = []
        lock = threading.Lock()
        start = threading.Barrier(4)

        def serve() -> None:
            start.wait()
            for _ in range(100):
                rendered, new_id = users.operate("create", None, (), b'{"name": "n"}')
                assert rendered.status == 201
                with lock:
                    made.append(new_id)

        threads = [threading.Thread(target=serve) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(made) == list(range(1, 401)) and len(users) == 400
