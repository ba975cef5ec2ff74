"""OpenAPI 3.0/3.1 documents in (postmock_nb.formats.openapi, .sources, .schemagen), in-process: every operation
and every response code of public documents becomes an example; validation and patterns in bounded time.
(A real mock serving them, validation on a socket: test_openapi_served.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.openapi_documents import ALL, BROKEN_EXAMPLES, DATA

from postmock_nb.errors import CollectionFormatError
from postmock_nb.formats.openapi import (
    NO_RESPONSES_NOTE,
    NOTE_HEADER,
    OPERATION_METHODS,
    REPLACED_NOTE,
    SpecFormatError,
    collection_from_openapi,
    status_of,
)
from postmock_nb.formats.schemagen import example_value
from postmock_nb.formats.sources import load_any


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
    ('{"swagger": "1.2", "paths": {}}', "unsupported Swagger version '1.2'"),
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


# -- request validation (--validate-requests) on a real socket --------------------------------------


def test_validation_of_a_31_document_with_header_and_nullable_query():
    from postmock_nb.bridges.validation import RequestValidator

    loaded = load_any(DATA / "local-3.1-shapes.yaml")
    assert loaded.spec is not None
    validator = RequestValidator(loaded.spec)
    good = {"x-request-id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}  # format: uuid, checked
    assert validator.check("GET", "/api/v2/nodes/3", (("depth", "2"),), good, b"") == []
    assert [v.message for v in validator.check("GET", "/api/v2/nodes/3", (), {"x-request-id": "r1"}, b"")] == [
        "'r1' is not a 'uuid'"]
    problems = validator.check("GET", "/api/v2/nodes/0", (("depth", "9"),), {}, b"")
    assert [(v.path, v.message) for v in problems] == [
        ("$.path.nodeId", "0 is less than the minimum of 1"),
        ("$.query.depth", "9 is greater than the maximum of 5"),
        ("$.header.X-Request-Id", "required header parameter 'X-Request-Id' is missing")]
    assert [v.path for v in validator.check("PUT", "/api/v2/nodes/3", (), {}, b"")] == ["$.body"]
    circular = b'{"id": 1, "name": "ab", "children": [{"id": 2, "name": 5}]}'
    assert [v.path for v in validator.check("PUT", "/api/v2/nodes/3", (), {"content-type": "application/json"},
                                            circular)] == ["$.body.children[0].name"]


def test_validation_of_30_nullable():
    from postmock_nb.bridges.validation import RequestValidator
    from postmock_nb.formats.openapi import load_spec

    spec = load_spec({"openapi": "3.0.3", "paths": {"/a": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {"n": {"type": "integer", "nullable": True},
                                             "m": {"type": "integer"}}}}}},
        "responses": {"200": {"description": "ok"}}}}}})
    validator = RequestValidator(spec)
    assert validator.check("POST", "/a", (), {"content-type": "application/json"}, b'{"n": null}') == []
    assert [v.path for v in validator.check("POST", "/a", (), {"content-type": "application/json"},
                                            b'{"m": null}')] == ["$.body.m"]


# -- the CLI ------------------------------------------------------------------------------------------


def test_cli_validate_lists_an_openapi_document(capsys):
    from postmock_nb.cli import main

    assert main(["validate", str(DATA / "oai-v3.0-petstore-expanded.yaml")]) == 0
    out = capsys.readouterr().out
    assert "OpenAPI 3.0.0 document 'Swagger Petstore' can be served: 8 examples" in out
    assert re.search(r"^\s+DELETE\s+/api/pets/:id\s+204\s+pet deleted$", out, re.MULTILINE), out


def test_cli_reads_swagger_2_and_refuses_validation_of_postman(capsys, tmp_path):
    from postmock_nb.cli import main

    assert main(["validate", str(DATA / "oai-v2.0-petstore.json")]) == 0
    out = capsys.readouterr().out
    assert "Swagger 2.0 document (read as OpenAPI 3.0) 'Swagger Petstore' can be served: 6 examples" in out
    assert "Postman" not in out
    postman = tmp_path / "c.json"
    postman.write_text('{"info": {"name": "c"}, "item": []}', encoding="utf-8")
    assert main(["serve", str(postman), "--validate-requests"]) == 2
    assert "--validate-requests needs an OpenAPI document" in capsys.readouterr().err


def test_the_sample_document_is_the_one_notebook_09_writes():
    import nbformat

    root = Path(__file__).resolve().parents[3]
    notebook = nbformat.read(root / "notebooks" / "09-from-openapi.ipynb", as_version=4)
    written = next(c.source for c in notebook.cells if c.get("id") == "spec").split("\n", 1)[1]
    sample = root / "notebooks" / "data" / "petstore.openapi.yaml"
    assert yaml.safe_load(sample.read_text(encoding="utf-8")) == yaml.safe_load(written)


def _pattern_validator(schema: dict[str, Any], version: str = "3.0.3"):
    from postmock_nb.bridges.validation import RequestValidator
    from postmock_nb.formats.openapi import load_spec

    return RequestValidator(load_spec({"openapi": version, "paths": {"/a": {"post": {
        "requestBody": {"content": {"application/json": {"schema": schema}}},
        "responses": {"200": {"description": "ok"}}}}}}))


def _body_problems(validator, body: Any) -> list[tuple[str, str]]:
    found = validator.check("POST", "/a", (), {"content-type": "application/json"}, json.dumps(body).encode())
    return [(v.path, v.message) for v in found]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_backtracking_patterns_get_a_verdict(version):
    evil = "a" * 30 + "!"
    validator = _pattern_validator({"type": "object", "properties": {"q": {"type": "string", "pattern": "^(a+)+$"}},
                                    "patternProperties": {"^(b+)+$": {"type": "integer"}},
                                    "additionalProperties": False}, version)
    assert _body_problems(validator, {"q": "aaa", "bbb": 1}) == []
    assert _body_problems(validator, {"q": evil}) == [("$.body.q", f"'{evil}' does not match '^(a+)+$'")]
    assert _body_problems(validator, {"bbb": "x"}) == [("$.body.bbb", "'x' is not of type 'integer'")]
    assert _body_problems(validator, {"b" * 30 + "!": 1}) == [
        ("$.body", f"'{'b' * 30}!' does not match any of the regexes: '^(b+)+$'")]


def test_patterns_re2_cannot_run_are_checked_or_named():
    # lookahead: RE2 lacks it, the regex module checks it (a common password rule)
    validator = _pattern_validator({"type": "string", "pattern": "^(?=.*[A-Z]).{8,}$"})
    assert _body_problems(validator, "Password1") == []
    assert _body_problems(validator, "password1") == [
        ("$.body", "'password1' does not match '^(?=.*[A-Z]).{8,}$'")]
    # a backreference that backtracks without end: named as not checkable, never a stall
    slow = r"^((a|a)+)\1?b$"
    validator = _pattern_validator({"type": "string", "pattern": slow})
    assert _body_problems(validator, "aab") == []
    assert _body_problems(validator, "a" * 40) == [
        ("$.body", f"the pattern {slow!r} could not be checked in time; the value is not checked against it")]
    # not a regular expression: listed as a warning when the document is loaded, requests are not refused for it
    validator = _pattern_validator({"type": "string", "pattern": "(unclosed"})
    assert _body_problems(validator, "x") == []


@pytest.mark.timeout(60)
def test_templated_paths_do_not_backtrack():
    from postmock_nb.bridges.validation import RequestValidator
    from postmock_nb.formats.openapi import load_spec

    validator = RequestValidator(load_spec({"openapi": "3.0.3", "paths": {"/x/{a}{b}{c}{d}{e}{f}/y": {"get": {
        "responses": {"200": {"description": "ok"}}}}}}))
    assert validator.find("GET", "/x/" + "a" * 200 + "/z") is None
    found = validator.find("GET", "/x/abcdef/y")
    assert found is not None and found[1] == {"a": "a", "b": "b", "c": "c", "d": "d", "e": "e", "f": "f"}


# -- input bombs: bounded, with one clear error (the CLI and %mock load are tested in test_cli/test_magics) ----


def test_a_recursive_yaml_alias_is_refused_with_its_line(tmp_path):
    path = tmp_path / "endless.yaml"
    path.write_text('openapi: 3.0.3\ninfo: {title: t, version: "1"}\npaths: {}\nx-loop: &loop\n  - *loop\n')
    with pytest.raises(CollectionFormatError, match=r"endless\.yaml, line 4: a YAML alias \(\*name\) refers to a node"):
        load_any(path)


def test_example_values_have_a_budget():
    from postmock_nb.formats.schemagen import Budget, ExampleTooBig

    with pytest.raises(ExampleTooBig, match="more than 100,000 steps"):
        example_value({"type": "array", "minItems": 10**9}, _no_refs)
    with pytest.raises(ExampleTooBig, match="more than 10 steps"):
        example_value({"type": "object", "properties": {str(n): {"type": "integer"} for n in range(20)}}, _no_refs,
                      budget=Budget(10))
    assert example_value({"type": "array", "minItems": 3, "items": {"type": "integer"}}, _no_refs) == [0, 0, 0]


def _large_legit_spec(operations: int) -> str:
    """A large document written the way people write them: shared schemas by $ref, shared responses by alias."""
    lines = ["openapi: 3.0.3", 'info: {title: large, version: "1"}', "x-errors: &errors",
             '  "404": {description: not found, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}',
             '  "500": {description: broken, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}',
             "paths:"]
    for n in range(operations):
        lines += [f"  /things{n}/{{id}}:", "    get:", f"      operationId: get{n}",
                  "      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]",
                  "      responses:", "        <<: *errors",
                  '        "200": {description: ok, content: {application/json: {schema: '
                  '{$ref: "#/components/schemas/Pet"}}}}']
    lines += ["components:", "  schemas:",
              "    Error: {type: object, properties: {code: {type: integer}, message: {type: string}}}",
              "    Tag: {type: object, properties: {id: {type: integer}, name: {type: string}}}",
              "    Address: {type: object, properties: {street: {type: string}, city: {type: string}}}",
              '    Owner: {type: object, properties: {name: {type: string}, address: {$ref: "#/components/schemas/Address"}}}',
              '    Pet: {type: object, properties: {id: {type: integer}, owner: {$ref: "#/components/schemas/Owner"},'
              ' tags: {type: array, minItems: 3, items: {$ref: "#/components/schemas/Tag"}}}}']
    return "\n".join(lines) + "\n"


def test_a_large_legitimate_document_still_loads(tmp_path):
    path = tmp_path / "large.yaml"
    path.write_text(_large_legit_spec(1000), encoding="utf-8")
    loaded = load_any(path)
    examples = loaded.collection.examples
    assert len(examples) == 3 * 1000
    pet = json.loads(examples[-3].response.body)
    assert pet == {"id": 0, "owner": {"name": "string", "address": {"street": "string", "city": "string"}},
                   "tags": [{"id": 0, "name": "string"}] * 3}
    assert json.loads(examples[-1].response.body) == {"code": 0, "message": "string"}


def test_the_document_shares_one_example_budget(monkeypatch, tmp_path):
    from postmock_nb.core import limits

    monkeypatch.setattr(limits, "MAX_DOCUMENT_EXAMPLE_STEPS", 5000)  # 1,000 operations of about 20 steps each
    path = tmp_path / "large.yaml"
    path.write_text(_large_legit_spec(1000), encoding="utf-8")
    with pytest.raises(CollectionFormatError, match="the document's example values, up to this schema, would take "
                                                    "more than [0-9,]+ steps to make") as raised:
        load_any(path)
    assert "large.yaml at #/paths/~1things" in str(raised.value)


def test_an_event_stream_response_becomes_one_sse_example(tmp_path: Path) -> None:
    spec = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/s": {"get": {"responses": {
        "200": {"description": "ok", "content": {"text/event-stream": {"examples": {
            "a": {"value": {"x": 1}}, "b": {"value": "two\nlines"}, "c": {"value": "id: 3\ndata: c"}}}}}}}}}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(spec))
    (example,) = load_any(path).collection.examples
    assert ("x-mock-sse", "true") in example.request.headers
    assert ("Content-Type", "text/event-stream") in example.response.headers
    assert example.response.body == 'data: {"x":1}\n\ndata: two\ndata: lines\n\nid: 3\ndata: c'


# -- Prism's reading of a document (issue 23: defects 1, 4, 5) ----------------------------------------------


def _document(paths: dict[str, Any], components: dict[str, Any] | None = None, version: str = "3.0.3") -> dict[str, Any]:
    return {"openapi": version, "info": {"title": "t", "version": "1"}, "paths": paths,
            "components": components or {}}


def test_default_as_the_only_response_answers_200_with_its_content():
    """Petstore's ``GET /user/logout``: ``responses: {default: {description: successful operation}}``."""
    document = _document({
        "/user/logout": {"get": {"responses": {"default": {"description": "successful operation"}}}},
        "/user": {"post": {"responses": {"default": {"description": "ok", "content": {
            "application/json": {"example": {"id": 1}}}}}}},
        "/pets": {"get": {"responses": {"200": {"description": "ok"}, "default": {"description": "error"}}}},
    })
    collection, _ = collection_from_openapi(document)
    got = {(e.request.method, e.request.path, e.response.status, e.response.body) for e in collection.examples}
    assert got == {("GET", "/user/logout", 200, ""), ("POST", "/user", 200, '{\n  "id": 1\n}'),
                   ("GET", "/pets", 200, ""), ("GET", "/pets", 500, "")}


def test_an_operation_without_responses_answers_200_and_says_why():
    document = _document({"/ping": {"get": {"summary": "ping"}}, "/pong": {"get": {"responses": {}}}}, version="3.1.0")
    collection, _ = collection_from_openapi(document)
    for example in collection.examples:
        assert (example.response.status, example.response.body) == (200, "")
        assert dict(example.response.headers) == {NOTE_HEADER: NO_RESPONSES_NOTE}
    assert len(collection.examples) == 2


def test_a_ref_that_is_the_whole_example_value_is_followed():
    """shutterstock: ``example: {$ref: '#/components/schemas/GenreList/example'}``; GitHub: a named example's
    ``value: {$ref: '#/components/examples/issue'}`` (an Example Object: its value)."""
    components = {
        "schemas": {"GenreList": {"type": "object", "example": {"data": ["Jazz"]}},
                    "Issue": {"type": "object", "example": {"$ref": "#/components/examples/issue"}}},
        "examples": {"issue": {"summary": "an issue", "value": {"number": 7}}},
    }
    json_of = lambda example: {"application/json": example}  # noqa: E731
    document = _document({
        "/genres": {"get": {"responses": {"200": {"description": "ok", "content": json_of(
            {"example": {"$ref": "#/components/schemas/GenreList/example"}})}}}},
        "/issues/1": {"get": {"responses": {"200": {"description": "ok", "content": json_of(
            {"examples": {"one": {"value": {"$ref": "#/components/examples/issue"}}}})}}}},
        "/issues/2": {"get": {"responses": {"200": {"description": "ok", "content": json_of(
            {"schema": {"$ref": "#/components/schemas/Issue"}})}}}},
        "/literal": {"get": {"responses": {"200": {"description": "ok", "content": json_of(
            {"example": {"$ref": "#/nowhere", "note": "two keys: data"}})}}}},
    }, components)
    collection, _ = collection_from_openapi(document)
    bodies = {e.request.path: json.loads(e.response.body) for e in collection.examples}
    assert bodies == {"/genres": {"data": ["Jazz"]}, "/issues/1": {"number": 7}, "/issues/2": {"number": 7},
                      "/literal": {"$ref": "#/nowhere", "note": "two keys: data"}}


def test_each_example_is_marked_with_its_servers_base_path():
    collection = load_any(DATA / "local-3.1-shapes.yaml").collection
    node = next(i for i in collection.items if i.name == "getNode")
    assert all(dict(e.request.headers)["x-mock-base-path"] == "/api/v2" for e in node.examples)
    assert "x-mock-base-path" not in dict(node.request.headers)  # what Send would send: no marker


def test_a_deprecated_operation_answers_with_a_deprecation_header_as_prism_does():
    document = _document({"/old": {"get": {"deprecated": True, "responses": {
        "200": {"description": "ok"}, "404": {"description": "gone"}}}}, "/new": {"get": {"responses": {
            "200": {"description": "ok"}}}}})
    collection, _ = collection_from_openapi(document)
    marked = {(e.request.path, e.response.status): dict(e.response.headers).get("Deprecation")
              for e in collection.examples}
    assert marked == {("/old", 200): "true", ("/old", 404): "true", ("/new", 200): None}


@pytest.mark.parametrize(("url", "base"), [("//budgea.biapi.pro/2.0", "/2.0"), ("https://x.example/v1/", "/v1"),
                                           ("/api", "/api"), ("api/v3", "/api/v3"), ("//host.example", "")])
def test_the_base_path_of_a_scheme_relative_or_relative_server_url(url, base):
    document = {**_document({"/pets": {"get": {"responses": {"200": {"description": "ok"}}}}}), "servers": [{"url": url}]}
    collection, _ = collection_from_openapi(document)
    assert collection.examples[0].request.path == base + "/pets"


# -- --examples generate: an example that breaks its own schema is served as a value generated from it ----------


def _generated(source: Any) -> Any:
    from postmock_nb.serving.build import example_check  # jsonschema: what postmock serve --examples generate uses

    return load_any(source, check=example_check("generate"))


def _served(loaded: Any) -> dict[tuple[str, str], Any]:
    """(path, example name) → (body as JSON, headers, the example's description)."""
    return {(e.request.path, e.name): (json.loads(e.response.body), dict(e.response.headers), e.request.description)
            for e in loaded.collection.examples}


BROKEN_KINDS = [  # (path, example, what the document writes, what must hold of the value served instead)
    ("/pets/:id", "ok", {"status": "sold", "tags": ["a"]},  # a missing required field
     lambda body: isinstance(body["name"], str)),
    ("/pets/:id/status", "ok - lost", {"name": "Rex", "status": "lost"},  # a value outside its enum
     lambda body: body["status"] in ("available", "sold")),
    ("/owners/:id", "ok", {"id": 7, "name": 42},  # a number where a string is declared
     lambda body: isinstance(body["name"], str)),
    ("/owners/:id/address", "ok", {"address": '{"city": "Lyon"}'},  # a JSON object written as a string
     lambda body: isinstance(body["address"], dict) and isinstance(body["address"]["city"], str)),
    ("/badges", "ok", {"level": 1},  # the schema's own example ("gold" for an integer): made from the types alone
     lambda body: body == {"level": 1}),
]


@pytest.mark.parametrize(("path", "name", "written", "holds"), BROKEN_KINDS,
                         ids=["required", "enum", "type", "object-as-string", "schema-example"])
def test_generate_serves_a_conforming_value_instead_of_each_broken_example(path, name, written, holds) -> None:
    from postmock_nb.bridges.validation import SchemaChecker

    as_written = _served(load_any(DATA / BROKEN_EXAMPLES))
    loaded = _generated(DATA / BROKEN_EXAMPLES)
    body, headers, description = _served(loaded)[(path, name)]
    if path != "/badges":  # the author's example, as written by default
        assert as_written[(path, name)][0] == written
    assert body != as_written[(path, name)][0] and holds(body)
    item = next(i for i in loaded.collection.items if i.request.path == path)
    schema_at = {"/pets/:id": "#/components/schemas/Pet", "/pets/:id/status": "#/components/schemas/Pet",
                 "/owners/:id": "#/components/schemas/Owner"}.get(path)
    if schema_at is not None:
        assert SchemaChecker(loaded.spec).problems(schema_at, body) == [], item.name
    assert description.startswith(REPLACED_NOTE)
    assert headers[NOTE_HEADER].startswith(REPLACED_NOTE) and headers[NOTE_HEADER].isascii()


def test_generate_lists_each_replaced_example_with_the_path_it_breaks() -> None:
    loaded = _generated(DATA / BROKEN_EXAMPLES)
    assert loaded.spec.replaced == [
        "GET /pets/{id} 200 (example): $: 'name' is a required property",
        "GET /pets/{id}/status 200 (example 'lost'): $.status: 'lost' is not one of ['available', 'sold']",
        "GET /owners/{id} 200 (example): $.name: 42 is not of type 'string'",
        "GET /owners/{id}/address 200 (example): $.address: '{\"city\": \"Lyon\"}' is not of type 'object'",
        "GET /badges 200 (example): $.level: 'gold' is not of type 'integer'"]
    assert loaded.spec.kept == []


def test_generate_keeps_the_examples_that_conform() -> None:
    as_written, generated = _served(load_any(DATA / BROKEN_EXAMPLES)), _served(_generated(DATA / BROKEN_EXAMPLES))
    for key in (("/pets/:id/status", "ok - sold"), ("/owners", "ok")):
        assert generated[key] == as_written[key]
        assert NOTE_HEADER not in generated[key][1] and generated[key][2] == ""


def test_as_written_is_the_default_and_checks_nothing() -> None:
    loaded = load_any(DATA / BROKEN_EXAMPLES)
    assert loaded.spec is not None and loaded.spec.example_check is None
    assert loaded.spec.replaced == [] and loaded.spec.kept == []
    assert all(NOTE_HEADER not in dict(e.response.headers) for e in loaded.collection.examples)


def test_an_example_no_generated_value_can_replace_is_served_as_written_and_listed(tmp_path: Path) -> None:
    """A schema nothing satisfies (a string and an integer at once): the author's example stays, and is listed."""
    impossible = {"allOf": [{"type": "string"}, {"type": "integer"}]}
    document = _document({"/odd": {"get": {"responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": impossible, "example": "seven"}}}}}}})
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    loaded = _generated(path)
    (example,) = loaded.collection.examples
    assert json.loads(example.response.body) == "seven" and NOTE_HEADER not in dict(example.response.headers)
    assert loaded.spec.replaced == [] and loaded.spec.kept == ["GET /odd 200 (example): $: 'seven' is not of type "
                                                               "'integer'"]


def test_generate_leaves_what_has_no_json_schema_alone(tmp_path: Path) -> None:
    """Text bodies and media types without a schema are served as written: nothing to check them against."""
    document = _document({"/text": {"get": {"responses": {
        "200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "integer"}, "example": "x"}}},
        "201": {"description": "ok", "content": {"application/json": {"example": {"any": "thing"}}}}}}}})
    path = tmp_path / "text.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    bodies = {e.response.status: e.response.body for e in _generated(path).collection.examples}
    assert bodies[200] == "x" and json.loads(bodies[201]) == {"any": "thing"}


def test_a_value_that_breaks_its_format_is_replaced_too(tmp_path: Path) -> None:
    """``format`` is asserted, as Prism and Schemathesis check a response (GitHub writes dates with quotes in them)."""
    schema = {"type": "object", "properties": {"day": {"type": "string", "format": "date", "example": '"2007-10-29"'},
                                               "host": {"type": "string", "format": "ipv4"}}}
    document = _document({"/day": {"get": {"responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": schema, "example": {"day": "2007-10-29", "host": "localhost"}}}}}}}})
    path = tmp_path / "day.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    loaded = _generated(path)
    (example,) = loaded.collection.examples
    assert json.loads(example.response.body) == {"day": "2024-01-01", "host": "192.0.2.1"}  # the types' values
    assert loaded.spec.replaced == ["GET /day 200 (example): $.host: 'localhost' is not a 'ipv4'"]


def test_a_long_problem_is_cut_in_the_list_and_the_header(tmp_path: Path) -> None:
    written = {"name": "x" * 500}
    schema = {"type": "object", "properties": {"name": {"type": "integer"}}}
    document = _document({"/long": {"get": {"responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": schema, "example": written}}}}}}})
    path = tmp_path / "long.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    loaded = _generated(path)
    (listed,) = loaded.spec.replaced
    assert len(listed) < 200 and listed.endswith("...")
    (example,) = loaded.collection.examples
    assert len(dict(example.response.headers)[NOTE_HEADER]) <= 300


@pytest.mark.parametrize("parameter", [{"name": ["id"], "in": "path"}, {"name": "id", "in": {"path": 1}}])
def test_a_parameter_whose_name_or_place_is_not_a_string_is_one_clear_error(parameter):
    document = _document({"/pets/{id}": {"get": {"parameters": [parameter], "responses": {"200": {"description": "ok"}}}}})
    with pytest.raises(SpecFormatError, match=r"'name' and 'in' must be strings") as raised:
        collection_from_openapi(document)
    assert "#/paths/~1pets~1{id}/get/parameters/0" in str(raised.value)
