"""formats/postman.py: the module's own helpers that test_postman_import/export.py leave out — what a mock
serves (iter_served), request_json's edge cases, preview languages, descriptions and ids, the saved file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from support.builders import make_collection, make_example

from postmock_nb.core.model import Collection, Example, Item, RequestSpec, ResponseSpec
from postmock_nb.errors import CollectionFormatError
from postmock_nb.formats.postman import (
    SCHEMA_V21,
    iter_served,
    load_collection,
    parse_collection,
    request_json,
    save_collection,
    to_postman,
)


def one_item(request: object, responses: object = None, **entry: object) -> dict[str, object]:
    item: dict[str, object] = {"name": "a", "request": request, **entry}
    if responses is not None:
        item["response"] = responses
    return {"info": {"name": "c", "schema": SCHEMA_V21}, "item": [item]}


def test_iter_served_lists_what_a_mock_answers_leaving_1xx_out() -> None:
    collection = make_collection(make_example("GET /users?page=2", "list"),
                                 make_example("POST /users", "created", status=201),
                                 make_example("GET /upgrade", "switching", status=101))
    assert list(iter_served(collection)) == [("GET", "/users?page=2", 200, "list"),
                                             ("POST", "/users", 201, "created")]
    assert list(iter_served(Collection(name="empty"))) == []


def test_request_json_minimal_request() -> None:
    assert request_json(RequestSpec("GET", "/")) == {
        "method": "GET", "header": [], "url": {"raw": "{{baseUrl}}/", "host": ["{{baseUrl}}"], "path": []}}


def test_request_json_keeps_a_trailing_slash_and_path_variables() -> None:
    data = request_json(RequestSpec("GET", "/users/:id/", path_variables=(("id", "7"),), description="One"))
    assert data["url"]["path"] == ["users", ":id", ""]
    assert data["url"]["variable"] == [{"key": "id", "value": "7"}]
    assert data["description"] == "One"


def test_a_raw_json_body_gets_the_json_language_unless_one_is_given() -> None:
    assert request_json(RequestSpec("POST", "/x", body='{"a": 1}'))["body"] == {
        "mode": "raw", "raw": '{"a": 1}', "options": {"raw": {"language": "json"}}}
    assert request_json(RequestSpec("POST", "/x", body='{"a": 1}', body_language="text"))["body"]["options"] == {
        "raw": {"language": "text"}}


@pytest.mark.parametrize(("body", "graphql"), [
    ("query { me }", {"query": "query { me }"}),  # not JSON: the text is the query
    ("[1, 2]", {"query": "[1, 2]"}),               # JSON but not an object
    ("", {}),
])
def test_a_graphql_body_that_is_not_a_json_object_becomes_its_query(body: str, graphql: dict[str, str]) -> None:
    assert request_json(RequestSpec("POST", "/gql", body=body, body_mode="graphql"))["body"] == {
        "mode": "graphql", "graphql": graphql}


def test_a_file_body_and_an_empty_form_keep_their_mode() -> None:
    assert request_json(RequestSpec("POST", "/upload", body_mode="file"))["body"] == {"mode": "file", "file": {}}
    assert request_json(RequestSpec("POST", "/form", body_mode="urlencoded"))["body"] == {
        "mode": "urlencoded", "urlencoded": []}


@pytest.mark.parametrize(("headers", "body", "language"), [
    ((("Content-Type", "application/problem+json"),), "x", "json"),
    ((("Content-Type", "text/html; charset=utf-8"),), "x", "html"),
    ((("Content-Type", "application/xml"),), "x", "xml"),
    ((("Content-Type", "application/javascript"),), "x", "javascript"),
    ((), '{"a": 1}', "json"),
    ((), "plain", "text"),
])
def test_the_preview_language_of_an_export_follows_the_content_type_then_the_body(
        headers: tuple[tuple[str, str], ...], body: str, language: str) -> None:
    example = Example("e", RequestSpec("GET", "/"), ResponseSpec(200, headers=headers, body=body))
    data = to_postman(make_collection(example))
    assert data["item"][0]["response"][0]["_postman_previewlanguage"] == language


def test_an_exported_example_names_its_status_and_keeps_a_given_language() -> None:
    example = Example("e", RequestSpec("GET", "/"), ResponseSpec(418, body="{}", preview_language="text"))
    saved = to_postman(make_collection(example))["item"][0]["response"][0]
    assert (saved["status"], saved["code"], saved["_postman_previewlanguage"]) == ("I'm a Teapot", 418, "text")
    assert saved["cookie"] == [] and saved["header"] == []


def test_the_collection_description_is_exported_and_read_back() -> None:
    collection = Collection(name="Described", description="All about it")
    data = to_postman(collection)
    assert data["info"] == {"_postman_id": collection.id, "name": "Described", "schema": SCHEMA_V21,
                            "description": "All about it"}
    assert "variable" not in data and data["item"] == []
    again = parse_collection(data)
    assert (again.id, again.description) == (collection.id, "All about it")


def test_descriptions_given_as_objects_and_ids_are_read() -> None:
    data = one_item({"url": "/x", "description": {"content": "from the request", "type": "text/markdown"}},
                    [{"name": "r", "id": "ex-1"}], id="item-1")
    data["info"]["description"] = {"content": "the collection"}
    data["info"]["_postman_id"] = "coll-1"
    collection = parse_collection(data)
    item = collection.items[0]
    assert (collection.id, collection.description) == ("coll-1", "the collection")
    assert (item.id, item.description, item.request.description) == ("item-1", "from the request", "from the request")
    assert collection.examples[0].id == "ex-1"


def test_an_item_description_equal_to_its_requests_is_written_once() -> None:
    request = RequestSpec("GET", "/x", description="same")
    item = Item(name="x", request=request, examples=(Example("e", request, ResponseSpec(200)),), description="same")
    saved = to_postman(Collection(name="c", items=(item,)))["item"][0]
    assert "description" not in saved and saved["request"]["description"] == "same"


def test_a_raw_url_drops_its_fragment_and_keeps_a_bare_host() -> None:
    item = parse_collection(one_item({"url": "api.example.com/v1/users?x=1#section"})).items[0]
    assert (item.request.base, item.request.path, item.request.query) == ("api.example.com", "/v1/users",
                                                                         (("x", "1"),))


def test_an_item_with_examples_may_lack_a_url_but_one_without_may_not() -> None:
    item = parse_collection(one_item({"method": "DELETE"}, [{"name": "r"}])).items[0]
    assert (item.request.method, item.request.base, item.request.path) == ("DELETE", "{{baseUrl}}", "/")
    assert item.examples[0].request == item.request
    with pytest.raises(CollectionFormatError) as caught:
        parse_collection(one_item({"method": "GET"}, []))
    assert (caught.value.location, caught.value.message, caught.value.hint) == (
        'item[0] "a"', "url missing", "every request needs a URL")


@pytest.mark.parametrize("code", [99, 600, True, 2.5, "2xx"])
def test_an_example_code_must_be_a_status_number(code: object) -> None:
    with pytest.raises(CollectionFormatError, match="'code' must be an HTTP status number 100-599"):
        parse_collection(one_item({"url": "/x"}, [{"name": "r", "code": code}]))


def test_an_entry_that_is_neither_request_nor_folder_is_named() -> None:
    data = {"info": {"name": "c"}, "item": [{"name": "lost"}]}
    with pytest.raises(CollectionFormatError) as caught:
        parse_collection(data)
    assert (caught.value.location, caught.value.message) == (
        'item[0] "lost"', "neither a request (no 'request') nor a folder (no 'item')")


def test_save_collection_writes_json_with_a_final_newline_keeping_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "out.postman_collection.json"
    path.write_text("old", encoding="utf-8")
    os.chmod(path, 0o600)
    collection = make_collection(make_example("GET /é", "café", body="☕"))
    assert save_collection(collection, str(path)) == path
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and "café" in text  # not \u-escaped
    assert json.loads(text) == to_postman(collection)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [e.name for e in load_collection(path).examples] == ["café"]
