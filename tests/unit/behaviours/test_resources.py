"""CRUD resources (postmock_nb.behaviours.resources), in-process: ids, limits, the marker, merge patch, and each
operation a resource answers — list (filters, sort, pages), get, create, replace, merge, delete — as the status and
JSON a client gets. Over real sockets, through the Session and the magics: tests/server/test_behaviours.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from postmock_nb.behaviours.resources import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_RECORDS,
    MAX_ID,
    OPERATIONS,
    RESOURCE_MARKER,
    BadId,
    Resource,
    ResourceStore,
    check_id,
    check_limits,
    check_records,
    check_seeds,
    dumps,
    marker_value,
    merge_patch,
    parse_marker,
    size_value,
)
from postmock_nb.errors import ExampleDefinitionError

USERS = [{"id": 1, "name": "Alice", "role": "admin"}, {"id": 2, "name": "ben", "role": "user"},
         {"id": 3, "name": "Chloe", "role": "user"}]


def call(resource: Resource, op: str, record_id: str | None = None, body: Any = None,
         query: tuple[tuple[str, str], ...] = ()) -> tuple[int, dict[str, str], Any]:
    """One operation as a client sees it: status, headers, the JSON body (None when empty)."""
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    rendered, _ = resource.operate(op, record_id, query, raw)
    return rendered.status, dict(rendered.headers), json.loads(rendered.body) if rendered.body else None


def test_check_id_keeps_strings_and_safe_whole_numbers() -> None:
    assert check_id("a-1") == "a-1" and check_id(7) == 7 and check_id(3.0) == 3 and check_id(-MAX_ID) == -MAX_ID
    for bad, says in ((MAX_ID + 1, "between"), (10**5000, "about 5001 digits"), (True, "a string or a whole number"),
                      (1.5, "a string or a whole number"), (None, "the JSON null body"), ([1], "a JSON array")):
        with pytest.raises(BadId, match=says):
            check_id(bad)


def test_dumps_writes_non_finite_numbers_as_null() -> None:
    assert dumps({"a": "é", "b": [1.5]}) == '{"a": "é", "b": [1.5]}'
    assert json.loads(dumps({"a": float("nan"), "b": [float("inf"), 1]})) == {"a": None, "b": [None, 1]}


def test_the_marker_keeps_only_the_limits_that_differ_and_reads_back() -> None:
    assert marker_value("users", "get", "id") == "name=users; op=get; id=id"
    text = marker_value("users", "list", "uid", max_records=50, max_bytes=DEFAULT_MAX_BYTES)
    assert text == "name=users; op=list; id=uid; max_records=50"
    assert parse_marker(text) == {"name": "users", "op": "list", "id": "uid", "max_records": "50"}
    assert parse_marker(" name = x ;; op=list ") == {"name": "x", "op": "list"}


@pytest.mark.parametrize(("value", "size"), [
    ("65536", 65536), ("512K", 512 * 1024), ("64mb", 64 * 1024**2), ("1 GiB", 1024**3), (10, 10), ("lots", "lots"),
    ("5T", "5T"),
])
def test_size_value(value: Any, size: Any) -> None:
    assert size_value(value) == size


def test_check_limits_wants_whole_numbers_from_one() -> None:
    assert check_limits("users", 5, "1K") == (5, 1024)
    for records, size in ((0, 10), (True, 10), (5, "many"), (5, -1)):
        with pytest.raises(ExampleDefinitionError, match="must be a whole number from 1"):
            check_limits("users", records, size)


def test_merge_patch_is_rfc_7396() -> None:
    target = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}
    assert merge_patch(target, {"a": None, "b": {"c": 9}, "e": [2], "f": "new"}) == \
        {"b": {"c": 9, "d": 3}, "e": [2], "f": "new"}
    assert merge_patch(target, [1, 2]) == [1, 2] and merge_patch("x", {"a": 1}) == {"a": 1}
    assert target == {"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}  # unchanged


def test_check_records_copies_a_good_seed_and_names_what_is_wrong() -> None:
    seed = [{"id": 1.0, "tags": ["a"]}]
    checked = check_records(seed, "todos", "id")
    assert checked == [{"id": 1, "tags": ["a"]}] and checked[0]["tags"] is not seed[0]["tags"]
    for bad, says in (({"id": 1}, "needs a JSON array of objects"), ([{"name": "x"}], "has no 'id' field"),
                      ([{"id": 1}, {"id": "1"}], "has the id '1' twice"), ([{"id": 1, "v": float("nan")}], "NaN"),
                      ([{"id": MAX_ID + 1}], "its 'id' is")):
        with pytest.raises(ExampleDefinitionError, match=says):
            check_records(bad, "todos", "id")


def test_list_filters_sorts_and_pages() -> None:
    users = Resource("users", USERS)
    status, headers, body = call(users, "list")
    assert status == 200 and body == USERS and headers["x-total-count"] == "3"
    assert [u["id"] for u in call(users, "list", query=(("role", "user"),))[2]] == [2, 3]
    assert [u["name"] for u in call(users, "list", query=(("_sort", "name"),))[2]] == ["Alice", "ben", "Chloe"]
    assert [u["id"] for u in call(users, "list", query=(("_sort", "role,-id"),))[2]] == [1, 3, 2]
    status, headers, body = call(users, "list", query=(("_page", "2"), ("_per_page", "2")))
    assert [u["id"] for u in body] == [3] and headers["x-total-count"] == "3"
    assert call(users, "list", query=(("_page", "0"),))[:3:2] == (400, {"error": "_page must be a whole number from 1, got '0'"})
    assert call(users, "list", query=(("_per_page", "x"),))[0] == 400


def test_get_create_replace_merge_delete() -> None:
    users = Resource("users", USERS, path="/api/users")
    assert call(users, "get", "2")[2] == USERS[1]
    status, headers, created = call(users, "create", body={"name": "Dan"})
    assert status == 201 and created == {"name": "Dan", "id": 4} and headers["location"] == "/api/users/4"
    assert call(users, "replace", "4", {"id": 99, "name": "Daniel"})[2] == {"id": 4, "name": "Daniel"}  # path's id
    assert call(users, "merge", "1", {"role": None, "team": "core"})[2] == {"id": 1, "name": "Alice", "team": "core"}
    assert call(users, "delete", "1") == (204, {}, None)
    assert call(users, "get", "1") == (404, {"content-type": "application/json"}, {"error": "users '1' not found"})
    assert [u["id"] for u in users.records] == [2, 3, 4] and users.changes == 4


def test_create_with_a_given_id_and_string_ids() -> None:
    users = Resource("users", USERS)
    assert call(users, "create", body={"id": 2})[0] == 409
    assert call(users, "create", body={"id": 10})[2] == {"id": 10}
    assert call(users, "create", body={})[2] == {"id": 11}  # ids count on from the highest
    keyed = Resource("keys", [{"key": "a"}], id_field="key")
    made = call(keyed, "create", body={"v": 1})[2]
    assert isinstance(made["key"], str) and len(made["key"]) == 36  # a uuid when the ids are strings


@pytest.mark.parametrize(("body", "says"), [
    (b"", "the body is empty"), (b"[1]", "must be a JSON object, got a JSON array"), (b"{", "the body is not JSON"),
    (b'{"a": NaN}', "the body is refused"), (b"[" * 5000 + b"]" * 5000, "the body is refused"),
    (json.dumps({"id": True}).encode(), "the body is refused: $.id is true"),
])
def test_a_body_that_cannot_be_a_record_gets_400(body: bytes, says: str) -> None:
    status, _, answer = call(Resource("users", USERS), "create", body=body)
    assert status == 400 and says in answer["error"]


def test_the_limits_give_413_and_507() -> None:
    small = Resource("notes", [], max_records=2, max_bytes=60)
    assert call(small, "create", body={"t": "x" * 100})[0] == 413
    assert call(small, "create", body={"t": "a"})[0] == 201 and call(small, "create", body={"t": "b"})[0] == 201
    status, _, full = call(small, "create", body={"t": "c"})
    assert status == 507 and "resource 'notes' is full: it holds 2 records" in full["error"]
    assert call(small, "replace", "1", {"t": "y" * 40})[0] == 507  # the records' bytes, all told


def test_the_notebook_side_is_a_live_list_and_reset_goes_back_to_the_seed() -> None:
    users = Resource("users", USERS)
    users.append({"id": 7, "name": "Eve"})
    users[0]["name"] = "Alicia"  # changed in place by the notebook: the server sees it
    assert call(users, "get", "7")[2] == {"id": 7, "name": "Eve"} and call(users, "get", "1")[2]["name"] == "Alicia"
    assert isinstance(users, list) and json.loads(json.dumps(users))[-1]["id"] == 7
    users.reset()
    assert users.records == USERS and call(users, "create", body={})[2] == {"id": 4}
    users.reset([{"id": "x"}])
    assert users.records == [{"id": "x"}]


def test_the_six_examples_carry_the_current_state_and_the_marker() -> None:
    users = Resource("users", USERS[:1], max_records=50)
    examples = users.examples()
    assert [e.name for e in examples] == [f"users · {op}" for op in OPERATIONS]
    routes = [(e.request.method, e.request.path, e.response.status) for e in examples]
    assert routes == [("GET", "/users", 200), ("GET", "/users/:id", 200), ("POST", "/users", 201),
                      ("PUT", "/users/:id", 200), ("PATCH", "/users/:id", 200), ("DELETE", "/users/:id", 204)]
    assert json.loads(examples[0].response.body) == USERS[:1]
    assert dict(examples[0].request.headers)[RESOURCE_MARKER] == "name=users; op=list; id=id; max_records=50"
    assert users.examples({"get": "kept-id"})[1].id == "kept-id"


def test_the_store_defines_once_and_restores_from_saved_examples() -> None:
    store = ResourceStore()
    users = store.define("users", USERS)
    assert store.define("users") is users and users.records == USERS  # asked by name: never wiped
    assert store.define("users", [{"id": 9}]) is users and users.records == [{"id": 9}]  # re-seeded in place
    assert store.define("users", max_records=5).max_records == 5 and "users" in store and len(store) == 1
    restored = ResourceStore().restore(Resource("todos", [{"id": 1}], max_bytes=4096).examples())
    assert [(r.name, r.records, r.max_bytes, r.max_records) for r in restored] == \
        [("todos", [{"id": 1}], 4096, DEFAULT_MAX_RECORDS)]
    assert store.remove("users") is users and store.get("users") is None and list(store) == []


def test_check_seeds_refuses_a_seed_a_resource_cannot_hold() -> None:
    good = Resource("todos", [{"id": 1}]).examples()
    check_seeds(good)
    bad = Resource("todos", [{"id": 1}]).examples()
    listed = bad[0]
    broken = type(listed)(listed.name, listed.request, type(listed.response)(
        listed.response.status, listed.response.reason, listed.response.headers, '[{"id": 1}, {"id": 1}]'))
    with pytest.raises(ExampleDefinitionError, match="the seed of resource 'todos'.*has the id 1 twice"):
        check_seeds([broken])
