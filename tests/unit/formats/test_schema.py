"""The shipped official Postman v2.1 schema and validate_postman()."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from support.fixture_collections import FIXTURES_DIR, fixture_names

from postmock_nb.formats.schema import collection_schema, validate_postman

FIXTURES = FIXTURES_DIR
SCHEMA_FILE = Path(__file__).resolve().parents[3] / "postmock_nb" / "formats" / "schemas" / "collection-v2.1.json"

DEFINITIONS = {
    "auth", "auth-attribute", "certificate", "certificate-list", "cookie", "cookie-list", "description",
    "event", "event-list", "header", "header-list", "info", "item", "item-group",
    "protocol-profile-behavior", "proxy-config", "request", "response", "script", "url", "variable",
    "variable-list", "version",
}

MINIMAL = {
    "info": {"name": "Minimal", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
    "item": [{
        "name": "Get user",
        "request": {"method": "GET", "url": {"raw": "{{baseUrl}}/users/1", "host": ["{{baseUrl}}"],
                                             "path": ["users", "1"]}},
        "response": [{"name": "OK", "code": 200, "status": "OK", "header": [], "body": "{}"}],
    }],
}


def test_schema_file_is_shipped_in_the_package_and_is_draft07() -> None:
    assert SCHEMA_FILE.is_file(), "postmock_nb/formats/schemas/collection-v2.1.json is missing"
    assert (SCHEMA_FILE.parent / "README.md").is_file(), "the schema's provenance note is missing"
    schema = collection_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"] == "https://schema.getpostman.com/json/draft-07/collection/v2.1.0/"
    Draft7Validator.check_schema(schema)


def test_schema_is_self_contained() -> None:
    schema = collection_schema()
    assert set(schema["definitions"]) == DEFINITIONS
    for name, definition in schema["definitions"].items():
        assert definition["$id"] == f"#/definitions/{name}", f"definition {name} has $id {definition['$id']}"
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    refs = {ref.split("/")[-1] for ref in _refs(schema)}
    assert refs <= DEFINITIONS, f"dangling $ref: {sorted(refs - DEFINITIONS)}"
    assert "//" not in text.replace("://", ""), "JavaScript comments left in the compiled schema"


def test_schema_keeps_the_official_rules() -> None:
    """Spot checks of facts of the official v2.1.0 text (not a re-typed approximation)."""
    definitions = collection_schema()["definitions"]
    assert collection_schema()["required"] == ["info", "item"]
    assert definitions["info"]["required"] == ["name", "schema"]
    assert definitions["item"]["required"] == ["request"]
    assert definitions["item-group"]["required"] == ["item"]
    assert definitions["header"]["required"] == ["key", "value"]
    assert definitions["event"]["required"] == ["listen"]
    assert definitions["response"]["properties"]["code"]["type"] == "integer"
    body_modes = definitions["request"]["oneOf"][0]["properties"]["body"]["oneOf"][0]["properties"]["mode"]["enum"]
    assert body_modes == ["raw", "urlencoded", "formdata", "file", "graphql"]
    assert definitions["variable"]["properties"]["type"]["enum"] == ["string", "boolean", "any", "number"]
    assert "apikey" in definitions["auth"]["properties"]["type"]["enum"]


def test_a_minimal_collection_is_valid() -> None:
    assert validate_postman(MINIMAL) == []


@pytest.mark.parametrize("fixture", fixture_names())
def test_fixtures_are_valid_except_the_single_response_object(fixture: str) -> None:
    problems = validate_postman(json.loads((FIXTURES / fixture).read_text(encoding="utf-8")))
    if fixture == "all-request-types.json":
        # Its first three items save one response as an object, not a list: Postman's schema says no,
        # our import is lenient. The validator must point at exactly those.
        assert problems == [f"$.item[{i}].response: must be an array, not an object" for i in range(3)]
    else:
        assert problems == [], f"{fixture}: {problems}"


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d.pop("info"), "$: 'info' is a required property"),
    (lambda d: d["info"].pop("schema"), "$.info: 'schema' is a required property"),
    (lambda d: d["info"].__setitem__("name", 7), "$.info.name: must be a string, not an integer"),
    (lambda d: d.__setitem__("item", {}), "$.item: must be an array, not an object"),
    (lambda d: d["item"][0]["response"][0].__setitem__("code", "200"),
     "$.item[0].response[0].code: must be an integer, not a string"),
    (lambda d: d["item"][0]["request"].__setitem__("header", [{"key": "Accept"}]),
     "$.item[0].request.header[0]: 'value' is a required property"),
    (lambda d: d.__setitem__("variable", [{"key": "baseUrl", "type": "text"}]),
     "$.variable[0].type: 'text' is not one of ['string', 'boolean', 'any', 'number']"),
    (lambda d: d["item"][0]["request"]["url"].__setitem__("query", [{"key": 1}]),
     "$.item[0].request.url.query[0].key: must be a string or null, not an integer"),
])
def test_each_problem_names_its_json_path(edit, expected: str) -> None:
    data = copy.deepcopy(MINIMAL)
    edit(data)
    problems = validate_postman(data)
    assert expected in problems, f"expected {expected!r} in {problems}"


def test_problems_in_a_folder_point_into_the_folder() -> None:
    data = copy.deepcopy(MINIMAL)
    data["item"] = [{"name": "Users", "item": [copy.deepcopy(MINIMAL["item"][0])]}]
    data["item"][0]["item"][0]["response"][0]["header"] = [{"value": "x"}]
    assert validate_postman(data) == ["$.item[0].item[0].response[0].header[0]: 'key' is a required property"]


def test_not_an_object_at_all() -> None:
    assert validate_postman([]) == ["$: must be an object, not an array"]


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


# -- postmock validate: structure + import, what it serves, schema warnings -----------------


def run_validate(path: Path, capsys) -> tuple[int, str, str]:
    from postmock_nb.cli import main

    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_lists_what_a_mock_would_serve(capsys) -> None:
    code, out, err = run_validate(FIXTURES / "test-scoring-collection.json", capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith("can be served: 4 examples")
    rows = [line.split() for line in lines[1:]]
    assert rows and all(row[0] == "GET" for row in rows)
    assert ["GET", "/get", "200", "Success"] in rows
    assert "warning" not in out and err == ""


def test_validate_warns_about_schema_problems_but_succeeds_when_importable(capsys) -> None:
    code, out, err = run_validate(FIXTURES / "all-request-types.json", capsys)
    assert code == 0, err
    assert "can be served: 9 examples" in out
    assert "warning: the official Postman Collection v2.1 schema finds 3 problems" in out
    assert "  $.item[0].response: must be an array, not an object" in out
    for method in ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"):
        assert any(line.split()[:1] == [method] for line in out.splitlines()), method


def test_validate_exits_2_with_one_error_when_not_importable(tmp_path: Path, capsys) -> None:
    data = copy.deepcopy(MINIMAL)
    data["item"] = [{"name": "Users", "item": [copy.deepcopy(MINIMAL["item"][0])]}]
    data["item"][0]["item"][0]["response"][0]["code"] = "abc"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out, err = run_validate(path, capsys)
    assert code == 2
    assert out == ""
    assert 'cannot be served: item[0] "Users" > item[0] "Get user" > response[0] "OK": \'code\'' in err
    assert "$.item[0].item[0].response[0].code: must be an integer, not a string" in err


@pytest.mark.parametrize("text, expected", [
    ("{oops", "not valid JSON"),
    (json.dumps({"name": "Old", "requests": []}), "Collection v1"),
    (json.dumps({"item": []}), "'info' is missing"),
])
def test_validate_refuses_bad_files(tmp_path: Path, capsys, text: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_validate(path, capsys)
    assert code == 2 and out == ""
    assert expected in err


def test_validate_of_a_missing_file(tmp_path: Path, capsys) -> None:
    code, _, err = run_validate(tmp_path / "nope.json", capsys)
    assert code == 2 and "no such file" in err


def test_validate_of_a_v2_0_file_says_it_was_checked_against_v2_1(capsys) -> None:
    code, out, err = run_validate(Path(__file__).resolve().parents[2] / "data" / "v2.0-collection.json", capsys)
    assert code == 0, err
    assert "can be served: 4 examples" in out
    assert "(this is a v2.0 file, checked against v2.1, the format postmock exports)" in out
    assert "  $.auth.bearer: must be an array, not an object" in out  # v2.0 auth style
