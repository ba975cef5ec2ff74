"""core/model.py: the frozen records, and a collection's edits (each gives a new collection)."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from support.builders import make_collection, make_example

from postmock_nb.core.model import (
    METHODS,
    Collection,
    Example,
    Item,
    RequestSpec,
    ResponseSpec,
    default_item_name,
    new_id,
    path_with_query,
    reason_phrase,
)


@pytest.mark.parametrize("path, query, bare, shown", [
    ("/users", (), False, "/users"),
    ("/users", (("role", "admin"), ("page", "2")), False, "/users?role=admin&page=2"),
    ("/users", (("flag", ""), ("a", "1")), False, "/users?flag=&a=1"),
    ("/users", (("flag", ""), ("a", "1")), True, "/users?flag&a=1"),
    ("/users", (("a", "1"), ("a", "2")), True, "/users?a=1&a=2"),  # repeats kept in order
])
def test_path_with_query(path: str, query: tuple[tuple[str, str], ...], bare: bool, shown: str) -> None:
    assert path_with_query(path, query, bare_names=bare) == shown


@pytest.mark.parametrize("status, phrase", [(200, "OK"), (404, "Not Found"), (418, "I'm a Teapot"), (299, ""),
                                            (999, ""), (-1, "")])
def test_reason_phrase(status: int, phrase: str) -> None:
    assert reason_phrase(status).lower() == phrase.lower()


def test_new_ids_are_fresh_uuid4s() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert make_example("GET /a").id != make_example("GET /a").id
    assert "GET" in METHODS and "OPTIONS" in METHODS and len(set(METHODS)) == len(METHODS)


def test_request_url_describe_and_default_item_name() -> None:
    example = make_example("GET /users/:id?verbose&role=admin", "Admin", status=404)
    assert example.request.url == "/users/:id?verbose&role=admin"
    assert example.describe() == 'GET /users/:id?verbose&role=admin → 404 "Admin"'
    assert default_item_name(example) == "GET /users/:id"
    assert RequestSpec("POST").url == "/" and RequestSpec("POST").base == "{{baseUrl}}"


def test_response_header_is_the_first_of_that_name_in_any_case() -> None:
    response = ResponseSpec(headers=(("Content-Type", "text/plain"), ("X-Tag", "a"), ("x-tag", "b")))
    assert response.header("content-type") == "text/plain"
    assert response.header("X-TAG") == "a"
    assert response.header("missing") is None
    assert ResponseSpec().header("x") is None


def test_records_are_frozen() -> None:
    example = make_example("GET /a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.name = "b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.request.path = "/b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Collection().items = ()  # type: ignore[misc]


def test_examples_of_the_same_request_share_an_item_in_order() -> None:
    one, two, other = make_example("GET /a", "one"), make_example("GET /a", "two"), make_example("POST /a", "other")
    collection = make_collection(one, other, two)
    assert [item.name for item in collection.items] == ["GET /a", "POST /a"]
    assert [e.name for e in collection.items[0].examples] == ["one", "two"]
    assert collection.examples == (one, two, other)  # in collection (item) order
    assert [(i.name, e.name) for i, e in collection.iter_examples()] == [
        ("GET /a", "one"), ("GET /a", "two"), ("POST /a", "other")]


def test_a_new_item_sends_the_request_without_the_mock_markers() -> None:
    example = make_example("GET /a", request_headers={"X-Mock-Match-Request-Body": "true", "Accept": "json"})
    item = Collection().with_example(example).items[0]
    assert item.request.headers == (("Accept", "json"),)
    assert item.examples[0].request.headers == example.request.headers  # the example keeps its markers


def test_item_name_and_folder_choose_the_item() -> None:
    a, b, c = make_example("GET /a"), make_example("GET /b"), make_example("GET /c")
    collection = (Collection().with_example(a, item_name="Things")
                  .with_example(b, item_name="Things")
                  .with_example(c, item_name="Things", folder=("Admin",)))
    assert [(item.folder, item.name, len(item.examples)) for item in collection.items] == [
        ((), "Things", 2), (("Admin",), "Things", 1)]
    assert collection.items[0].request.path == "/a"  # the item's request is its first example's


def test_with_example_replaces_the_same_id_in_place() -> None:
    first, second = make_example("GET /a", "first"), make_example("GET /b", "second")
    collection = make_collection(first, second)
    changed = dataclasses.replace(first, name="renamed", response=ResponseSpec(status=500))
    edited = collection.with_example(changed, item_name="ignored")
    assert [e.name for e in edited.examples] == ["renamed", "second"]
    assert [item.name for item in edited.items] == ["GET /a", "GET /b"]
    assert edited.examples[0].response.status == 500
    assert [e.name for e in collection.examples] == ["first", "second"]  # the original is untouched


def test_with_new_examples_adds_many_as_one_by_one() -> None:
    examples = [make_example(f"GET /{path}", f"{path}{n}") for n in range(3) for path in "ab"]
    at_once = Collection().with_new_examples(examples)
    one_by_one = make_collection(*examples)
    assert [(item.name, [e.name for e in item.examples]) for item in at_once.items] == [
        (item.name, [e.name for e in item.examples]) for item in one_by_one.items]
    assert [e.name for e in at_once.items[0].examples] == ["a0", "a1", "a2"]
    assert Collection().with_new_examples([]).items == ()


def test_find_prefers_an_id_over_a_name() -> None:
    named = make_example("GET /a", "shared")
    clash = make_example("GET /b", named.id)  # named like the other's id
    twin = make_example("GET /c", "shared")
    collection = make_collection(named, clash, twin)
    assert [e for _, e in collection.find(named.id)] == [named]
    assert [e.name for _, e in collection.find("shared")] == ["shared", "shared"]
    assert collection.find("nothing") == []
    assert collection.item_of(twin.id) is collection.items[2]
    assert collection.item_of("nothing") is None


def test_without_examples_drops_items_left_empty_but_keeps_items_that_had_none() -> None:
    a, b, c = make_example("GET /a"), make_example("GET /b"), make_example("GET /b", "second b")
    empty = Item(name="folder placeholder", request=RequestSpec("GET"))
    collection = dataclasses.replace(make_collection(a, b, c), items=make_collection(a, b, c).items + (empty,))
    left = collection.without_examples([a.id, b.id])
    assert [item.name for item in left.items] == ["GET /b", "folder placeholder"]
    assert left.examples == (c,)
    assert collection.without_examples(["unknown"]).examples == collection.examples
    assert collection.without_examples(iter([c.id, b.id, a.id])).items == (empty,)


def test_with_variables_adds_and_replaces() -> None:
    collection = make_collection(variables={"baseUrl": "http://a", "token": "t"})
    merged = collection.with_variables((("token", "u"), ("new", "n")))
    assert merged.variables == (("baseUrl", "http://a"), ("token", "u"), ("new", "n"))
    assert collection.variables == (("baseUrl", "http://a"), ("token", "t"))
    assert merged.id == collection.id and merged.name == collection.name


def test_examples_is_worked_out_per_collection() -> None:
    collection = make_collection(make_example("GET /a"))
    grown = collection.with_example(make_example("GET /b"))
    assert len(collection.examples) == 1 and len(grown.examples) == 2
    assert isinstance(grown.examples[1], Example)
