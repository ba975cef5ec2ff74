"""formats/openapi_export.py: a collection out as an OpenAPI 3.1 document, valid, and read back as it was.

The round trip here is of the records (every example read back from the exported document equals the
original: request, status, headers, body, markers); tests/cli/test_openapi_export_cli.py serves both and
compares the answers over real sockets."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from support.builders import make_collection, make_example
from support.paths import ROOT
from support.roundtrip import request_of, served

from postmock_nb.behaviours.resources import Resource
from postmock_nb.bridges.validation import RequestValidator
from postmock_nb.core.model import Collection, Example, Item, RequestSpec
from postmock_nb.formats.openapi import collection_from_openapi, load_spec
from postmock_nb.formats.openapi_export import openapi_path, save_openapi, to_openapi
from postmock_nb.formats.openapi_writing import _NoAliases, dump_openapi
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


# -- request headers, credentials, path parameters, YAML --------------------------------------------

TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.s1gn4tur3"
BASIC = "Basic YWRhOnMzY3IzdA=="  # ada:s3cr3t
API_KEY = "k-4f2b9c1d8e7a6b5c"


def operation_of(document: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][path][method]
    return operation


def parameters_of(operation: dict[str, Any], place: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == place}


def without_extensions(node: Any) -> Any:
    """The document as OpenAPI tools read it: every ``x-postmock-*`` extension left out."""
    if isinstance(node, dict):
        return {key: without_extensions(value) for key, value in node.items() if not key.startswith("x-postmock-")}
    if isinstance(node, list):
        return [without_extensions(value) for value in node]
    return node


def validator_of(document: dict[str, Any]) -> RequestValidator:
    return RequestValidator(load_spec(document, "exported.json"))


def own_request_violations(validator: RequestValidator, example: Example, collection: Collection) -> list[str]:
    """What ``--validate-requests`` on the exported document says of the example's own request (as Send sends it)."""
    method, path, headers, query, body = request_of(example, dict(collection.variables))
    lowered = {key.lower(): value for key, value in headers.items()}
    return [f"{v.path}: {v.message}" for v in validator.check(method, path, tuple(query), lowered, body)]


HEADERED = make_collection(
    make_example("GET /reports?access_token=tok-0123456789abcdef", "Daily", body='{"n": 1}', headers=JSON,
                 request_headers={"X-Tenant": "acme", "X-Request-Date": "2024-05-01", "Authorization": f"Bearer {TOKEN}",
                                  "Accept": "application/json", "Cookie": "sid=1", "Keep-Alive": "timeout=5",
                                  "Host": "api.example.com", "Content-Length": "0", "Connection": "close",
                                  "x-mock-match-request-headers": "x-tenant"}),
    make_example("GET /reports?access_token=tok-0123456789abcdef", "Weekly", body='{"n": 7}', headers=JSON,
                 request_headers={"x-tenant": "globex", "X-API-Key": API_KEY}),
    make_example("GET /reports?access_token=tok-0123456789abcdef", "Public", body='{"n": 0}', headers=JSON,
                 request_headers={"X-Tenant": "{{tenant}}"}),
    variables={"tenant": "initech"})


def test_request_headers_are_header_parameters_required_when_every_example_sends_them() -> None:
    headers = parameters_of(operation_of(export(HEADERED), "/reports"), "header")
    assert headers == {
        "X-Tenant": {"name": "X-Tenant", "in": "header", "required": True, "schema": {"type": "string"},
                     "example": "acme"},
        "X-Request-Date": {"name": "X-Request-Date", "in": "header", "required": False,
                           "schema": {"type": "string", "format": "date"}, "example": "2024-05-01"},
    }  # not Accept, Cookie, Host, Content-Length, Connection, Keep-Alive (hop-by-hop), x-mock-*, nor a credential


def test_credentials_are_security_schemes_and_each_operation_says_which_it_takes() -> None:
    document = export(HEADERED)
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer"},
        "X-API-Key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
    assert operation_of(document, "/reports")["security"] == [{"bearerAuth": []}, {"X-API-Key": []}, {}]


@pytest.mark.parametrize(("sent", "schemes", "security"), [
    ({"Authorization": BASIC}, {"basicAuth": {"type": "http", "scheme": "basic"}}, [{"basicAuth": []}]),
    ({"Authorization": "Digest username=ada"}, {"digestAuth": {"type": "http", "scheme": "digest"}},
     [{"digestAuth": []}]),
    ({"Authorization": "{{auth}}"}, {"Authorization": {"type": "apiKey", "in": "header", "name": "Authorization"}},
     [{"Authorization": []}]),
    ({"X-Auth-Token": API_KEY, "Authorization": f"Bearer {TOKEN}"},
     {"X-Auth-Token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
      "bearerAuth": {"type": "http", "scheme": "bearer"}}, [{"X-Auth-Token": [], "bearerAuth": []}]),
    ({"X-API-Key": ""}, None, None),
], ids=["basic", "another scheme", "no scheme", "two at once", "sent empty"])
def test_each_kind_of_credential(sent: dict[str, str], schemes: dict[str, Any] | None,
                                 security: list[dict[str, list[str]]] | None) -> None:
    document = export(make_collection(make_example("GET /me", "Me", body="{}", headers=JSON, request_headers=sent)))
    assert document.get("components", {}).get("securitySchemes") == schemes
    assert operation_of(document, "/me").get("security") == security
    assert "parameters" not in operation_of(document, "/me")


def test_one_scheme_for_a_header_whatever_its_case_and_across_operations() -> None:
    collection = make_collection(make_example("GET /a", "A", request_headers={"X-API-Key": API_KEY}),
                                 make_example("GET /b", "B", request_headers={"x-api-key": API_KEY}),
                                 make_example("GET /c", "C", request_headers={"Authorization": f"bearer {TOKEN}"}))
    document = export(collection)
    assert list(document["components"]["securitySchemes"]) == ["X-API-Key", "bearerAuth"]
    assert [operation_of(document, path)["security"] for path in ("/a", "/b", "/c")] == [
        [{"X-API-Key": []}], [{"X-API-Key": []}], [{"bearerAuth": []}]]


def test_no_token_is_written_into_the_contract() -> None:
    document = export(HEADERED)
    contract = json.dumps(without_extensions(document))
    for secret in (TOKEN, API_KEY, "tok-0123456789abcdef", "0123456789abcdef"):
        assert secret not in contract
    query = parameters_of(operation_of(document, "/reports"), "query")["access_token"]
    assert query == {"name": "access_token", "in": "query", "required": True, "schema": {"type": "string"},
                     "example": "tok-…"}


def test_the_read_back_keeps_every_request_header_the_matching_compares() -> None:
    back = by_id(read_back(export(HEADERED)))
    for example in HEADERED.examples:
        same_example(example, back[example.id])


def test_validate_requests_on_the_export_takes_the_examples_own_requests_and_refuses_what_they_never_send() -> None:
    validator = validator_of(export(HEADERED))
    for example in HEADERED.examples:
        assert own_request_violations(validator, example, HEADERED) == [], example.describe()
    query = (("access_token", "t"),)
    missing = validator.check("GET", "/reports", query, {}, b"")
    assert [(v.path, v.status) for v in missing] == [("$.header.X-Tenant", 422)]
    bearer_only = make_collection(make_example("GET /me", "Me", request_headers={"Authorization": f"Bearer {TOKEN}"}))
    refused = validator_of(export(bearer_only)).check("GET", "/me", (), {}, b"")
    assert [(v.path, v.status) for v in refused] == [("$.header.authorization", 401)]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_validate_requests_on_each_fixture_export_takes_every_examples_own_request(path: Path) -> None:
    original = load_any(path).collection
    validator = validator_of(export(original))
    for example in served(original):
        assert own_request_violations(validator, example, original) == [], example.describe()


def saved_id(name: str, value: str) -> Example:
    """``GET /users/:id`` saved with ``id`` = ``value`` (what Postman's mock matches)."""
    example = make_example("GET /users/:id", name, body='{"id": 1}', headers=JSON)
    return replace(example, request=replace(example.request, path_variables=(("id", value),)))


def test_a_path_parameter_has_the_saved_values_as_examples_never_as_an_enum() -> None:
    collection = make_collection(saved_id("Found", "1"), saved_id("Other", "2"), saved_id("Again", "1"))
    document = export(collection)
    (parameter,) = operation_of(document, "/users/{id}")["parameters"]
    assert parameter == {"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
                         "examples": {"1": {"summary": "Found", "value": "1"}, "2": {"summary": "Other", "value": "2"}}}
    assert [e.request.path_variables for e in read_back(document).examples] == [(("id", "1"),), (("id", "2"),),
                                                                                (("id", "1"),)]
    (one,) = operation_of(export(make_collection(saved_id("Found", "7"))), "/users/{id}")["parameters"]
    assert one == {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "example": "7"}


def test_yaml_has_no_anchors_or_aliases(tmp_path: Path) -> None:
    users = Resource("users", [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}])
    collection = make_collection()
    for example in users.examples():
        collection = collection.with_example(example)
    document = to_openapi(collection).document
    assert "&id" in yaml.safe_dump(document)  # the record's properties are in its schema and in the merge body's
    path, _ = save_openapi(collection, tmp_path / "users.yaml")
    text = path.read_text()
    assert "&id" not in text and "*id" not in text
    assert yaml.safe_load(text) == json.loads(json.dumps(document))


# -- the hostile tester's findings (FINDINGS24): order, paths, credentials, types, surrogates, WebSocket ------


def test_responses_keep_the_collections_order_and_read_back_in_it() -> None:
    """A plain request gets an item's first example: a 500 listed before a 200 stays first, and examples of
    statuses that alternate (500, 200, 500) come back in the collection's order (``x-postmock-order``)."""
    collection = make_collection(make_example("GET /o", "err", status=500, body='{"e": 1}', headers=JSON),
                                 make_example("GET /o", "ok", body='{"ok": 1}', headers=JSON),
                                 make_example("GET /o", "again", status=500, body='{"e": 2}', headers=JSON))
    document = export(collection)
    responses = operation_of(document, "/o")["responses"]
    assert list(responses) == ["500", "200"]
    assert [entry["x-postmock-order"] for entry in responses["500"]["content"]["application/json"]["examples"]
            .values()] == [0, 2]
    assert [example.name for example in read_back(document).examples] == ["err", "ok", "again"]


def test_an_openapi_style_segment_is_a_path_parameter_and_one_shape_is_one_path() -> None:
    """``/users/{id}`` (pasted from a document) has its parameter; ``/users/:userId`` and ``/users/:name`` are
    one path (OpenAPI forbids two of one shape), named as the first, each example keeping its own request."""
    assert openapi_path("/users/{id}/posts/{{postId}}") == ("/users/{id}/posts/{postId}", ["id", "postId"])
    by_id = replace(saved_id("By id", "7"), request=replace(saved_id("By id", "7").request, path="/users/:userId",
                                                             path_variables=(("userId", "7"),)))
    by_name = make_example("DELETE /users/:name", "By name", status=204)
    by_name = replace(by_name, request=replace(by_name.request, path_variables=(("name", "ada"),)))
    collection = make_collection(make_example("GET /files/{id}", "File", body="{}", headers=JSON), by_id, by_name)
    document = export(collection)  # valid: no unresolved parameter, no two paths of one shape
    assert list(document["paths"]) == ["/files/{id}", "/users/{userId}"]
    assert [p["name"] for p in operation_of(document, "/files/{id}")["parameters"]] == ["id"]
    assert operation_of(document, "/users/{userId}", "delete")["parameters"][0]["example"] == "ada"
    back = {example.name: example for example in read_back(document).examples}
    assert back["By name"].request.path == "/users/:name"
    assert back["By name"].request.path_variables == (("name", "ada"),)


def test_no_credential_value_in_what_other_tools_read_and_a_warning_names_what_the_mock_keeps() -> None:
    collection = make_collection(
        make_example("GET /me", "signed in", body='{"me": 1}', headers={**JSON, "Set-Cookie": "session=SUPERSECRET1; Path=/"},
                     request_headers={"Authorization": f"Bearer {TOKEN}"}),
        variables={"baseUrl": "https://user:S3CRETPASS@api.example.com", "apiKey": "VARSECRETKEY999", "page": "2"})
    exported = to_openapi(collection)
    document = json.loads(json.dumps(exported.document))
    validate(document)
    assert document["servers"] == [{"url": "https://api.example.com"}]
    assert document["x-postmock-variables"] == [["baseUrl", "https://api.example.com"], ["apiKey", "VA…"],
                                                ["page", "2"]]
    assert "S3CRETPASS" not in json.dumps(document) and "VARSECRETKEY999" not in json.dumps(document)
    read_by_others = json.dumps(without_extensions(document))
    for secret in ("SUPERSECRET1", TOKEN):
        assert secret not in read_by_others
    header = operation_of(document, "/me")["responses"]["200"]["headers"]["Set-Cookie"]
    assert header["example"] == "session=SU…; Path=/"
    assert any("variables baseUrl, apiKey are credentials or hold one" in warning for warning in exported.warnings)
    (kept,) = [warning for warning in exported.warnings if warning.startswith("x-postmock-example keeps")]
    assert "Authorization in 'signed in'" in kept and "Set-Cookie in 'signed in'" in kept
    (back,) = read_back(document).examples  # the mock still compares and answers them
    assert ("Authorization", f"Bearer {TOKEN}") in back.request.headers
    assert back.response.header("set-cookie") == "session=SUPERSECRET1; Path=/"


def test_query_and_header_parameters_are_typed_by_their_values() -> None:
    collection = make_collection(
        make_example("GET /items?limit=2&price=1.5&open=true&code=007&tag=a", "A", request_headers={"X-Page": "1"}),
        make_example("GET /items?limit=10&price=3&open=false&code=42&tag=b", "B", request_headers={"X-Page": "2"}))
    operation = operation_of(export(collection), "/items")
    query = parameters_of(operation, "query")
    assert {name: (p["schema"], p["example"]) for name, p in query.items()} == {
        "limit": ({"type": "integer"}, 2), "price": ({"type": "number"}, 1.5), "open": ({"type": "boolean"}, True),
        "code": ({"type": "string"}, "007"), "tag": ({"type": "string"}, "a")}
    assert parameters_of(operation, "header")["X-Page"]["schema"] == {"type": "integer"}
    validator = validator_of(export(collection))
    for example in collection.examples:  # --validate-requests takes the examples' own requests
        assert own_request_violations(validator, example, collection) == []


def test_only_header_names_a_client_can_send_are_header_parameters() -> None:
    """Empty, spaced, colon, tab, {{variable}} and non-ASCII names are no header (no client sends them; OpenAPI's
    ``name`` of one is meaningless); the same header in three cases is one; 200 headers are 200 parameters."""
    odd = {"": "1", " ": "2", "X:Colon": "3", "X Space": "4", "X-Tab\t": "5", "{{hdr}}": "6", "X-Ünï": "7"}
    collection = make_collection(
        make_example("GET /odd", "odd", request_headers={**odd, "X-Ok": "1"}),
        make_example("GET /dup", "dup", request_headers={"X-Dup": "a", "x-dup": "b", "X-DUP": "c"}),
        make_example("GET /dup", "dup2", request_headers={"x-dup": "z"}),
        make_example("GET /many", "many", request_headers={f"X-H{i}": str(i) for i in range(200)}))
    document = export(collection)
    assert list(parameters_of(operation_of(document, "/odd"), "header")) == ["X-Ok"]
    assert [(p["name"], p["required"]) for p in parameters_of(operation_of(document, "/dup"), "header").values()] == [
        ("X-Dup", True)]
    assert len(parameters_of(operation_of(document, "/many"), "header")) == 200
    assert by_id(read_back(document))[collection.examples[0].id].request.headers == collection.examples[0].request.headers


@pytest.mark.parametrize("broken", ["x", [1], None])
def test_a_hand_broken_x_postmock_example_reads_the_response_as_any_other(broken: Any) -> None:
    """Every example of a response whose ``x-postmock-example`` is no object was dropped (the operation then
    answered nothing); they are read from their values, as a document not written by postmock is."""
    collection = make_collection(make_example("GET /o", "ok", body='{"ok": 1}', headers=JSON),
                                 make_example("GET /o", "err", status=500, body='{"e": 1}', headers=JSON))
    document = export(collection)
    for response in operation_of(document, "/o")["responses"].values():
        for entry in response["content"]["application/json"]["examples"].values():
            entry["x-postmock-example"] = broken
    back = read_back(document)
    assert sorted((e.response.status, json.loads(e.response.body)) for e in back.examples) == [
        (200, {"ok": 1}), (500, {"e": 1})]


def test_a_query_value_python_cannot_read_as_a_number_is_text() -> None:
    collection = make_collection(make_example("GET /n?big=" + "9" * 5000 + "&inf=1e400&nan=NaN", "n"))
    query = parameters_of(operation_of(export(collection), "/n"), "query")
    assert {name: p["schema"] for name, p in query.items()} == {name: {"type": "string"} for name in ("big", "inf", "nan")}


SURROGATE = '{"s": "\\ud800"}'  # valid JSON text; its value no UTF-8 text holds


@pytest.mark.parametrize("name", ["api.yaml", "api.json"])
def test_a_lone_surrogate_in_a_body_is_kept_as_text_and_read_back(tmp_path: Path, name: str) -> None:
    collection = make_collection(make_example("GET /sur", "sur", body=SURROGATE, headers=JSON),
                                 make_example("POST /sur", "posted", request_body=SURROGATE,
                                              request_headers=JSON, status=204))
    path, warnings = save_openapi(collection, tmp_path / name)
    assert [w for w in warnings if "lone surrogate" in w] == [
        f"{e.describe()}: its body holds a lone surrogate (\\ud800…), which UTF-8 cannot hold: kept as text, "
        "no schema inferred from it" for e in collection.examples]
    back = {example.name: example for example in load_any(path).collection.examples}
    assert back["sur"].response.body == SURROGATE
    assert back["posted"].request.body == SURROGATE


def test_a_lone_surrogate_character_is_escaped_in_json_and_replaced_in_yaml(tmp_path: Path) -> None:
    collection = make_collection(make_example("GET /t", "t", body="a\ud800b", headers={"Content-Type": "text/plain"}))
    json_path, json_warnings = save_openapi(collection, tmp_path / "api.json")
    assert "\\ud800" in json_path.read_text() and not [w for w in json_warnings if "YAML" in w]
    assert load_any(json_path).collection.examples[0].response.body == "a\ud800b"
    yaml_path, yaml_warnings = save_openapi(collection, tmp_path / "api.yaml")
    assert [w for w in yaml_warnings if "YAML cannot hold" in w]
    assert load_any(yaml_path).collection.examples[0].response.body == "a\ufffdb"


def test_yaml_is_written_by_libyaml_when_pyyaml_has_it() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML is built without libyaml here")
    assert issubclass(_NoAliases, yaml.CSafeDumper)


def test_a_websocket_is_described_as_the_upgrade_not_as_a_get_answered_with_its_script() -> None:
    script = make_example("GET /ws/prices", "Prices", body='< {"price": 1}', headers={"Content-Type": "text/plain"},
                          request_headers={"x-mock-websocket": "true"})
    plain = make_example("GET /ws/prices", "Page", body="<html/>", headers={"Content-Type": "text/html"})
    document = export(make_collection(script, plain))
    operation = operation_of(document, "/ws/prices")
    assert operation["description"].startswith("A WebSocket: the client opens it with this GET")
    responses = operation["responses"]
    assert list(responses) == ["101", "200"]
    assert "WebSocket" in responses["101"]["description"] and "content" not in responses["101"]
    assert '< {"price"' not in json.dumps(without_extensions(document))
    assert [example.name for example in read_back(document).examples] == ["Prices", "Page"]
