"""formats/openapi_export.py: a collection out as an OpenAPI 3.1 document, valid, and read back as it was.

The round trip here is of the records (every example read back from the exported document equals the
original: request, status, headers, body, markers); tests/cli/test_openapi_export_cli.py serves both and
compares the answers over real sockets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from support.builders import make_collection, make_example
from support.paths import ROOT

from postmock_nb.behaviours.resources import Resource
from postmock_nb.core.model import Collection, Example, Item, RequestSpec
from postmock_nb.formats.openapi import collection_from_openapi
from postmock_nb.formats.openapi_export import dump_openapi, openapi_path, save_openapi, to_openapi
from postmock_nb.formats.sources import load_any

FIXTURES = sorted([*(ROOT / "tests" / "data").glob("**/*.json"), *(ROOT / "notebooks" / "data").glob("*.json")])
FIXTURES = [path for path in FIXTURES if "openapi" not in path.parts]
JSON = {"Content-Type": "application/json"}


def export(collection: Collection) -> dict[str, Any]:
    """The exported document, checked valid OpenAPI 3.1 (through JSON, as a file would carry it)."""
    document = json.loads(json.dumps(to_openapi(collection).document))
    validate(document)
    return document


def read_back(document: dict[str, Any]) -> Collection:
    return collection_from_openapi(document, "exported.json")[0]


def by_id(collection: Collection) -> dict[str, Example]:
    return {example.id: example for example in collection.examples}


def same_example(original: Example, back: Example) -> None:
    assert back.name == original.name
    assert back.request.method == original.request.method
    assert back.request.path == original.request.path
    assert back.request.query == original.request.query
    assert sorted(h for h in back.request.headers if h[0] != "x-mock-openapi") == sorted(original.request.headers)
    assert back.request.body == original.request.body
    assert back.request.path_variables == original.request.path_variables
    assert back.response.status == original.response.status
    assert back.response.headers == original.response.headers
    try:
        assert json.loads(back.response.body) == json.loads(original.response.body)
    except ValueError:
        assert back.response.body == original.response.body


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_every_fixture_collection_exports_valid_and_reads_back_the_same(path: Path) -> None:
    original = load_any(path).collection
    back = by_id(read_back(export(original)))
    served = [example for example in original.examples if example.response.status >= 200]
    assert set(back) == {example.id for example in served}
    for example in served:
        same_example(example, back[example.id])
    assert dict(read_back(export(original)).variables).items() >= dict(original.variables).items()


@pytest.mark.parametrize(("path", "template", "names"), [
    ("/users/:id", "/users/{id}", ["id"]),
    ("/users/{{userId}}/posts/:postId", "/users/{userId}/posts/{postId}", ["userId", "postId"]),
    ("/a/:id/b/:id", "/a/{id}/b/{id2}", ["id", "id2"]),
    ("/files/v{{version}}.json", "/files/v{version}.json", ["version"]),
    ("users", "/users", []),
    ("/", "/", []),
])
def test_path_templates(path: str, template: str, names: list[str]) -> None:
    assert openapi_path(path) == (template, names)


def test_one_path_per_request_with_its_path_parameter() -> None:
    collection = make_collection(make_example("GET /users/:id", "Found", body='{"id": 1}', headers=JSON),
                                 make_example("GET /users/:id", "Missing", status=404, body='{"error": "no"}',
                                              headers=JSON))
    document = export(collection)
    assert list(document["paths"]) == ["/users/{id}"]
    operation = document["paths"]["/users/{id}"]["get"]
    assert operation["parameters"] == [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert list(operation["responses"]) == ["200", "404"]


def test_a_collection_variable_in_the_path_gives_the_parameter_its_example() -> None:
    document = export(make_collection(make_example("GET /users/{{userId}}", body="{}", headers=JSON),
                                      variables={"userId": "42"}))
    assert document["paths"]["/users/{userId}"]["get"]["parameters"][0]["example"] == "42"
    assert document["x-postmock-variables"] == [["userId", "42"]]


def test_query_parameters_are_required_when_every_example_sends_them() -> None:
    collection = make_collection(make_example("GET /search?q=a&page=1", "A"), make_example("GET /search?q=b", "B"))
    parameters = {p["name"]: p for p in export(collection)["paths"]["/search"]["get"]["parameters"]}
    assert parameters["q"]["required"] is True and parameters["page"]["required"] is False
    assert parameters["q"]["in"] == "query" and parameters["q"]["schema"] == {"type": "string"}


def test_request_bodies_have_an_inferred_schema_and_named_examples() -> None:
    collection = make_collection(
        make_example("POST /users", "Ada", status=201, request_headers=JSON,
                     request_body='{"name": "Ada", "email": "ada@example.com"}'),
        make_example("POST /users", "Bob", status=201, request_headers=JSON, request_body='{"name": "Bob"}'))
    body = export(collection)["paths"]["/users"]["post"]["requestBody"]
    media = body["content"]["application/json"]
    assert body["required"] is True
    assert media["schema"]["required"] == ["name"]
    assert media["schema"]["properties"]["email"] == {"type": "string", "format": "email"}
    assert [entry["summary"] for entry in media["examples"].values()] == ["Ada", "Bob"]


def test_responses_per_status_with_named_examples_headers_and_schema() -> None:
    collection = make_collection(
        make_example("GET /orders", "Two", body='[{"id": 1, "state": "open"}, {"id": 2, "state": "open"}]',
                     headers={**JSON, "X-Total-Count": "2"}),
        make_example("GET /orders", "One", body='[{"id": 3, "state": "shipped", "note": null}]',
                     headers={**JSON, "X-Total-Count": "1", "X-Page": "1"}))
    response = export(collection)["paths"]["/orders"]["get"]["responses"]["200"]
    media = response["content"]["application/json"]
    assert media["schema"]["items"]["required"] == ["id", "state"]
    assert media["schema"]["items"]["properties"]["note"] == {"type": "null"}
    assert [entry["summary"] for entry in media["examples"].values()] == ["Two", "One"]
    assert media["examples"]["Two"]["value"][0] == {"id": 1, "state": "open"}
    assert response["headers"]["X-Total-Count"] == {"schema": {"type": "string"}, "example": "2", "required": True}
    assert "required" not in response["headers"]["X-Page"]


def test_a_body_that_is_not_json_yet_gets_no_schema_and_is_kept_as_written() -> None:
    template = '{"n": {{$randomInt}}}'
    collection = make_collection(make_example("GET /n", "Random", body=template, headers=JSON))
    document = export(collection)
    media = document["paths"]["/n"]["get"]["responses"]["200"]["content"]["application/json"]
    assert "schema" not in media
    assert next(iter(by_id(read_back(document)).values())).response.body == template


def test_an_example_without_a_body_is_kept_on_the_response() -> None:
    collection = make_collection(make_example("DELETE /users/:id", "Gone", status=204))
    response = export(collection)["paths"]["/users/{id}"]["delete"]["responses"]["204"]
    assert "content" not in response
    assert [entry["x-postmock-example"]["name"] for entry in response["x-postmock-examples"]] == ["Gone"]


def test_markers_are_kept_as_extensions_and_read_back_as_markers() -> None:
    markers = {"x-mock-scenario": "jobs; requires=Started; next=done", "x-mock-sequence": "cycle",
               "x-mock-delay": "200-900", "x-mock-fault": "reset"}
    collection = make_collection(make_example("GET /jobs", "Step", body='{"ok": true}', headers=JSON,
                                              request_headers=markers))
    document = export(collection)
    entry = next(iter(document["paths"]["/jobs"]["get"]["responses"]["200"]["content"]["application/json"]
                      ["examples"].values()))
    assert entry["x-postmock-markers"] == markers
    assert entry["x-postmock-example"]["originalRequest"]["header"] == []
    back = next(iter(read_back(document).examples))
    assert {k: v for k, v in back.request.headers if k != "x-mock-openapi"} == markers


def test_a_named_example_read_back_points_into_the_exported_document() -> None:
    collection = make_collection(make_example("GET /pets/:id", "A cat", body='{"kind": "cat"}', headers=JSON,
                                              request_headers={"x-mock-openapi": "#/paths/~1elsewhere/get"}))
    (back,) = read_back(export(collection)).examples
    assert dict(back.request.headers) == {
        "x-mock-openapi": "#/paths/~1pets~1{id}/get/responses/200/content/application~1json/examples/A-cat"}


def test_example_keys_are_the_names_numbered_when_taken() -> None:
    collection = make_collection(*(make_example("GET /a", name, body="{}", headers=JSON) for name in ("Order found", "B", "B")))
    media = export(collection)["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]
    assert list(media["examples"]) == ["Order-found", "B", "B-2"]


def test_an_sse_example_is_an_event_stream() -> None:
    body = "data: one\n\ndata: two"
    collection = make_collection(make_example("GET /events", "Ticks", body=body, headers={"Content-Type": "text/event-stream"},
                                              request_headers={"x-mock-sse": "true", "x-mock-interval": "100"}))
    document = export(collection)
    media = document["paths"]["/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    assert media["schema"] == {"type": "string"}
    back = next(iter(read_back(document).examples))
    assert back.response.body == body and ("x-mock-sse", "true") in back.request.headers


def test_a_handler_is_described_as_computed_with_its_sample() -> None:
    collection = make_collection(make_example("GET /now", "now", body='{"time": "2024-05-01T10:00:00Z"}', headers=JSON,
                                              request_headers={"x-mock-handler": "now"}))
    operation = export(collection)["paths"]["/now"]["get"]
    assert operation["x-postmock-computed"] == {"handler": "now"}
    assert operation["description"].startswith("Computed: answered by the Python handler `now`")
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["time"] == {"type": "string", "format": "date-time"}


def test_a_resource_is_six_operations_on_one_record_schema() -> None:
    users = Resource("users", [{"id": 1, "name": "Ada", "role": "admin"}, {"id": 2, "name": "Bob", "role": "user"}])
    collection = make_collection()
    for example in users.examples():
        collection = collection.with_example(example)
    document = export(collection)
    record = document["components"]["schemas"]["Users"]
    assert record["required"] == ["id", "name", "role"]
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert operations == {("/users", "get"), ("/users", "post"), ("/users/{id}", "get"), ("/users/{id}", "put"),
                          ("/users/{id}", "patch"), ("/users/{id}", "delete")}
    ref = {"$ref": "#/components/schemas/Users"}
    paths = document["paths"]
    assert paths["/users"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": ref}
    assert paths["/users/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == ref
    assert paths["/users"]["post"]["requestBody"]["content"]["application/json"]["schema"] == ref
    assert "required" not in paths["/users/{id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert paths["/users"]["post"]["x-postmock-computed"] == {"resource": "name=users; op=create; id=id"}
    back = by_id(read_back(document))
    for example in collection.examples:
        same_example(example, back[example.id])


def test_what_openapi_cannot_hold_is_a_warning() -> None:
    exported = to_openapi(make_collection(make_example("LINK /a", "Linked"), make_example("GET /b", "B")))
    assert list(exported.document["paths"]) == ["/b"]
    assert exported.warnings == ['LINK /a → 200 "Linked": OpenAPI has no LINK operation: not exported']


def test_items_without_examples_are_left_out_with_a_warning() -> None:
    collection = Collection("c", (Item("Empty", RequestSpec("GET", "/e")),))
    exported = to_openapi(collection)
    assert exported.document["paths"] == {}
    assert exported.warnings == ["'Empty' has no example: not exported (a mock does not serve it)"]


@pytest.mark.parametrize("name", ["api.yaml", "api.yml", "api.json"])
def test_saved_as_yaml_or_json_by_the_name(tmp_path: Path, name: str) -> None:
    collection = make_collection(make_example("GET /a", "A", body='{"a": 1}', headers=JSON))
    path, warnings = save_openapi(collection, tmp_path / name)
    text = path.read_text()
    data = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    assert data == json.loads(json.dumps(to_openapi(collection).document)) and warnings == []
    assert text == dump_openapi(to_openapi(collection).document, name)
    assert load_any(path).collection.examples[0].name == "A"


@pytest.mark.parametrize(("request_headers", "headers", "body"), [
    ({"x-mock-websocket": "true", "x-mock-interval": "500", "x-mock-repeat": "true"},
     {"Content-Type": "text/plain; charset=utf-8"}, '< {"price": {{$randomInt}}}'),
    ({"x-mock-callback": "POST http://127.0.0.1:9000/hooks; delay=2000", "x-mock-callback-body": '{"done": true}'},
     JSON, '{"accepted": true}'),
], ids=["websocket script", "callback"])
def test_websocket_scripts_and_callbacks_read_back_the_same(request_headers: dict[str, str], headers: dict[str, str],
                                                           body: str) -> None:
    original = make_collection(make_example("GET /ws/prices", "Script", body=body, headers=headers,
                                            request_headers=request_headers))
    (back,) = read_back(export(original)).examples
    same_example(original.examples[0], back)
