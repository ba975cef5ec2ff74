"""OpenAPI 3.0/3.1 documents in (postmock_nb.openapi, .sources, .schemagen): every operation
and every response code of public documents becomes an example a real mock serves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from postmock_nb.errors import CollectionFormatError
from postmock_nb.openapi import OPERATION_METHODS, status_of
from postmock_nb.schemagen import example_value
from postmock_nb.server import MockServer
from postmock_nb.sources import load_any

DATA = Path(__file__).parent / "data" / "openapi"
PUBLIC = ["oai-v3.0-api-with-examples.yaml", "oai-v3.0-callback-example.yaml", "oai-v3.0-link-example.yaml",
          "oai-v3.0-petstore-expanded.yaml", "oai-v3.0-petstore.yaml", "oai-v3.0-petstore.json",
          "oai-v3.0-uspto.yaml", "oai-v3.1-webhook-example.yaml", "swagger-petstore-v3.yaml",
          "prism-dynamic-generation.oas3.json"]
ALL = PUBLIC + ["local-3.1-shapes.yaml"]


def _raw(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def _base_path(url: str, variables: dict[str, Any]) -> str:
    for key, value in variables.items():
        url = url.replace("{" + key + "}", str(value.get("default", "")))
    path = re.sub(r"^[a-z]+://[^/]+", "", url).strip("/")
    return "/" + path if path else ""


def _expected(name: str) -> set[tuple[str, str, int]]:
    """(METHOD, /path/:var, status) of every operation × response code, read from the raw document."""
    raw = _raw(name)
    servers = raw.get("servers") or [{}]
    base = _base_path(servers[0].get("url", ""), servers[0].get("variables", {}))
    found = set()
    for template, item in (raw.get("paths") or {}).items():
        for method in OPERATION_METHODS:
            if method in item:
                path = re.sub(r"\{([^}]+)\}", r":\1", base + template)
                for code in item[method]["responses"]:
                    found.add((method.upper(), path, status_of(str(code))))
    return found


@pytest.mark.parametrize("name", ALL)
def test_every_operation_and_status_becomes_an_example(name):
    collection = load_any(DATA / name).collection
    served = {(e.request.method, e.request.path, e.response.status) for e in collection.examples}
    assert served == _expected(name)


def _concrete(path: str) -> str:
    return re.sub(r":[^/]+", "1", path)


@pytest.mark.parametrize("name", ALL)
def test_a_real_mock_serves_every_example(name):
    collection = load_any(DATA / name).collection
    with MockServer(collection) as mock:
        for item in collection.items:
            names = [e.name for e in item.examples]
            for example in item.examples:
                unique = names.count(example.name) == 1 and example.name.isascii()
                selector = ({"x-mock-response-name": example.name} if unique
                            else {"x-mock-response-code": str(example.response.status)})
                response = requests.request(example.request.method, mock.url + _concrete(example.request.path),
                                            headers=selector, timeout=10)
                assert response.status_code == example.response.status, (example.describe(), response.text)
                if example.request.method == "HEAD":
                    continue
                bodies = [e.response.body for e in item.examples if e.response.status == example.response.status]
                body = example.response.body if unique else response.text
                assert response.text == body and body in bodies
                for key, value in example.response.headers:
                    assert response.headers[key] == value


def test_json_and_yaml_forms_give_the_same_examples():
    def shape(name: str) -> list[tuple[Any, ...]]:
        collection = load_any(DATA / name).collection
        return [(i.name, e.name, e.request.method, e.request.path, e.response.status, e.response.headers,
                 json.loads(e.response.body) if e.response.body else None) for i, e in collection.iter_examples()]

    assert shape("oai-v3.0-petstore.yaml") == shape("oai-v3.0-petstore.json")


def test_content_not_the_extension_decides(tmp_path):
    hidden = tmp_path / "spec.txt"
    hidden.write_text((DATA / "oai-v3.0-petstore.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    loaded = load_any(hidden)
    assert loaded.spec is not None and loaded.kind == "OpenAPI 3.0.0 document"
    assert len(loaded.collection.examples) == 6


def test_servers_base_path_variables_and_names():
    collection = load_any(DATA / "local-3.1-shapes.yaml").collection
    assert dict(collection.variables)["baseUrl"] == "https://shapes.example.com"
    node = next(i for i in collection.items if i.name == "getNode")
    assert node.folder == ("nodes",)
    assert node.request.path == "/api/v2/nodes/:nodeId"
    assert dict(node.request.path_variables) == {"nodeId": "1"}
    assert dict(node.request.headers)["X-Request-Id"] == "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    ok = node.examples[0]
    assert ok.response.status == 200
    assert dict(ok.response.headers) == {"Content-Type": "application/json", "X-Rate-Limit": "100", "ETag": '"abc"'}
    body = json.loads(ok.response.body)
    assert body["children"] == [] and "parent" not in body  # the circular reference is cut
    assert body["created"] == "2024-01-01T00:00:00Z" and body["owner"] == "user@example.com"
    put = next(i for i in collection.items if i.name == "putNode")
    assert [e.name for e in put.examples] == ["Saved - A small node", "Saved - A bigger node"]
    assert json.loads(put.request.body)["name"] == "string" and "id" not in json.loads(put.request.body)  # readOnly
    health = next(i for i in collection.items if i.name == "GET /health")
    assert [e.response.status for e in health.examples] == [204, 200]  # explicit codes before 2XX
    assert health.examples[1].response.body == "fine"


def test_named_examples_one_example_each():
    collection = load_any(DATA / "prism-dynamic-generation.oas3.json").collection
    names = [e.name for e in collection.examples]
    assert names == ["Expected response to a valid request - Example1",
                     "Expected response to a valid request - Example2", "unexpected error"]
    assert json.loads(collection.examples[1].response.body) == {"name": "doe", "surname": "john"}
    assert json.loads(collection.examples[2].response.body) == {"code": 0, "message": "string"}


# -- schema → example ----------------------------------------------------------------------------


def _no_refs(ref: str) -> Any:
    raise AssertionError(ref)


@pytest.mark.parametrize("schema, value", [
    ({"type": "string", "example": "x", "default": "y"}, "x"),
    ({"type": "string", "default": "y", "enum": ["a"]}, "y"),
    ({"enum": ["a", "b"]}, "a"),
    ({"type": "string", "format": "uuid"}, "3fa85f64-5717-4562-b3fc-2c963f66afa6"),
    ({"type": "string", "format": "date"}, "2024-01-01"),
    ({"type": "string", "format": "uri"}, "https://example.com"),
    ({"type": "string", "minLength": 9}, "stringstr"),
    ({"type": "string", "maxLength": 3}, "str"),
    ({"type": "integer", "minimum": 5}, 5),
    ({"type": "integer", "minimum": 5, "exclusiveMinimum": True}, 6),
    ({"type": "integer", "exclusiveMinimum": 5}, 6),
    ({"type": "number"}, 0),
    ({"type": "boolean"}, True),
    ({"type": ["null", "integer"]}, 0),
    ({"type": "array", "items": {"type": "integer"}, "minItems": 2}, [0, 0]),
    ({"type": "string", "examples": ["first", "second"]}, "first"),
    ({"oneOf": [{"type": "integer"}, {"type": "string"}]}, 0),
    ({"allOf": [{"properties": {"a": {"type": "integer"}}}, {"properties": {"b": {"const": "c"}}}]},
     {"a": 0, "b": "c"}),
    ({"type": "object", "additionalProperties": {"type": "string"}}, {"additionalProp1": "string"}),
    ({"properties": {"secret": {"type": "string", "writeOnly": True}, "id": {"type": "integer"}}}, {"id": 0}),
])
def test_schema_example_values(schema, value):
    assert example_value(schema, _no_refs) == value


def test_circular_schemas_are_cut_deterministically():
    schemas = {"#/Tree": {"type": "object", "required": ["name"],
                          "properties": {"name": {"type": "string"}, "next": {"$ref": "#/Tree"},
                                         "kids": {"type": "array", "items": {"$ref": "#/Tree"}}}}}
    first = example_value({"$ref": "#/Tree"}, schemas.__getitem__)
    assert first == {"name": "string", "kids": []}
    assert example_value({"$ref": "#/Tree"}, schemas.__getitem__) == first


# -- bad files: one clear error naming where ------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("openapi: 3.0.0\ninfo: {title: x\npaths: {}\n", "neither JSON nor valid YAML"),
    (('{"openapi": "3.0.0", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"get": {"responses": '
      '{"200": {"description": "ok", "content": {"application/json": {"schema": '
      '{"$ref": "#/components/schemas/Nope"}}}}}}}}}'),
     "$ref '#/components/schemas/Nope' points to nothing"),
    ('{"openapi": "3.0.0", "paths": {"/a": {"get": {"responses": {"200": {"$ref": "other.yaml#/R"}}}}}}',
     "points outside the document"),
    ('{"name": "not an API", "values": []}', "neither a Postman collection"),
    ('{"swagger": "2.0", "paths": {}}', "Swagger 2.0 (OpenAPI 2) document, which is not supported"),
    ('openapi: 4.0.0\npaths: {}\n', "unsupported OpenAPI version '4.0.0'"),
])
def test_bad_files_get_one_clear_error(tmp_path, text, message):
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CollectionFormatError) as raised:
        load_any(path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("openapi: 3.0.0\npaths:\n  /a:\n    get: [\n", encoding="utf-8")
    with pytest.raises(CollectionFormatError, match=r"spec\.yaml, line 5, column 1"):
        load_any(path)


def test_ref_to_nowhere_names_the_json_pointer(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text('{"openapi": "3.1.0", "paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/X"}], '
                    '"responses": {}}}}}', encoding="utf-8")
    with pytest.raises(CollectionFormatError, match=re.escape("at #/paths/~1a/get/parameters/0")):
        load_any(path)
