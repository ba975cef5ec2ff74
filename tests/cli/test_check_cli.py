"""``postmock check SOURCE --against URL`` in a subprocess, against a real API on 127.0.0.1 (tests/support/
drift_upstream.py) that differs from the sketch in known ways, or not at all; and an OpenAPI document checked
against ``postmock serve`` of itself, and of a document that drifted from it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from support.cli import SERVING, STOP_TIMEOUT, Cli, postmock
from support.drift_upstream import QUERY_SECRET, TOKEN, upstream, write_sketch

AUTH = f"Authorization: Bearer {TOKEN}"


def _check(*args: str) -> tuple[int, str, str]:
    cli = Cli("check", *args)
    try:
        code = cli.process.wait(STOP_TIMEOUT * 4)
    except subprocess.TimeoutExpired:
        pytest.fail(f"postmock check did not end\nstdout: {cli.stdout}\nstderr: {cli.stderr}")
    finally:
        cli.kill()
    out = cli.output()
    return code, out, "\n".join(cli.stderr)


def _lines_of(out: str, request: str) -> list[str]:
    """The request's line and its differences' lines."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line[9:].startswith(request + "  ("))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return lines[start:end]


def test_each_known_difference_is_found_and_reported_once(tmp_path: Path) -> None:
    collection, environment = write_sketch(tmp_path)
    junit = tmp_path / "results" / "check.xml"
    with upstream(drifting=True) as api:
        code, out, err = _check(str(collection), "--against", api.url, "--header", AUTH, "--environment",
                                str(environment), "--timeout", "1", "--junit", str(junit))
    assert code == 1, (out, err)
    assert err == ""
    verdicts = {line[9:].split("  (")[0]: line[:8].strip() for line in out.splitlines() if line[:1] != " "
                and "  (" in line}
    assert verdicts == {"GET /users/7": "drift", "GET /products/1": "drift", "GET /products/2": "ok",
                        "GET /orders": "drift", "GET /profile": "ok", "GET /slow": "error",
                        f"GET /health?token={QUERY_SECRET[:4]}…": "ok", "POST /products": "skipped"}
    assert _lines_of(out, "GET /users/7")[1:] == ["         $.name: missing (required)",
                                                  "         note: $.full_name: unexpected field (not in the schema)"]
    assert _lines_of(out, "GET /products/1")[1:] == ["         $.price: expected number, got string"]
    assert _lines_of(out, "GET /orders")[1:] == ["         status: expected 200, got 500"]
    assert _lines_of(out, "GET /profile")[1:] == ["         note: $.beta: unexpected field (not in the schema)"]
    assert _lines_of(out, "GET /slow")[0].endswith("(no answer within 1 s (ReadTimeout))")
    for difference in ("$.name: missing", "$.price: expected number", "status: expected 200, got 500",
                       "$.beta: unexpected", "no answer within"):
        assert out.count(difference) == 1, difference
    assert "8 requests checked against" in out and ": 3 ok, 3 drift, 1 error, 1 skipped; 2 differences reported" in out
    assert api.received.count("GET /slow") == 1 and "POST /products" not in api.received

    text = junit.read_text()
    suite = ElementTree.fromstring(text).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("8", "3", "1", "1")
    failed = {c.get("name"): c.find("failure") for c in suite.findall("testcase") if c.find("failure") is not None}
    assert {name: f.get("message") for name, f in failed.items()} == {
        "GET /users/7": "$.name: missing (required)", "GET /products/1": "$.price: expected number, got string",
        "GET /orders": "status: expected 200, got 500"}
    for shown in (out, err, text):
        assert TOKEN not in shown and QUERY_SECRET not in shown


def test_strict_fails_on_an_extra_field(tmp_path: Path) -> None:
    collection, environment = write_sketch(tmp_path)
    with upstream(drifting=True) as api:
        api.release.set()  # the slow endpoint answers at once here
        code, out, _ = _check(str(collection), "--against", api.url, "-H", AUTH, "--environment", str(environment),
                              "--strict")
    assert code == 1
    assert _lines_of(out, "GET /profile") == ["drift    GET /profile  (200 application/json, "
                                              + _lines_of(out, "GET /profile")[0].split(", ")[1],
                                              "         $.beta: unexpected field (not in the schema)"]


def test_a_matching_api_reports_all_ok(tmp_path: Path) -> None:
    collection, environment = write_sketch(tmp_path)
    with upstream(drifting=False) as api:
        code, out, err = _check(str(collection), "--against", api.url + "/", "-H", AUTH, "--environment",
                                str(environment), "--unsafe")
    assert (code, err) == (0, ""), out
    assert all(line.startswith("ok ") for line in out.splitlines()[:-1]), out
    assert out.splitlines()[-1].endswith(": 8 ok")
    assert "POST /products" in api.received


def test_missing_credentials_show_as_drift_and_bad_options_exit_2(tmp_path: Path) -> None:
    collection, _ = write_sketch(tmp_path)
    with upstream(drifting=False) as api:
        code, out, _ = _check(str(collection), "--against", api.url)
        assert code == 1 and "status: expected 200, got 401" in out
        code, _, err = _check(str(collection), "--against", api.url, "--header", "Authorization Bearer x")
        assert code == 2 and "is not 'Name: value'" in err
        before = collection.read_text()  # --junit naming the sketch: refused before anything is sent
        code, _, err = _check(str(collection), "--against", api.url, "--junit", str(collection))
        assert code == 2 and "the output is the source" in err and collection.read_text() == before
    assert api.received == ["GET /users/7", "GET /products/1", "GET /products/2", "GET /orders", "GET /profile",
                            "GET /slow", "GET /health"]


def _document(price_type: str, price: object, created: str) -> dict[str, object]:
    product = {"type": "object", "required": ["id", "price"],
               "properties": {"id": {"type": "integer"}, "price": {"type": price_type},
                              "created": {"type": "string", "format": "date-time"}}}
    return {"openapi": "3.0.3", "info": {"title": "Shop", "version": "1"}, "paths": {
        "/products/{id}": {"get": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"},
                            "example": 1}],
            "responses": {"200": {"description": "a product", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Product"},
                "example": {"id": 1, "price": price, "created": created}}}},
                          "404": {"description": "none"}}}},
        "/products/{id}/reviews": {"get": {  # no value for id anywhere: skipped, saying so
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "reviews"}}}},
        "/products": {"post": {"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                               "responses": {"201": {"description": "made"}}}}},
        "components": {"schemas": {"Product": product}}}


def test_an_openapi_document_is_checked_against_its_own_schemas(tmp_path: Path) -> None:
    sketch = tmp_path / "shop.json"
    sketch.write_text(json.dumps(_document("number", 2.5, "2024-05-01T10:00:00Z")))
    drifted = tmp_path / "drifted.json"
    drifted.write_text(json.dumps(_document("string", "2.50", "yesterday")))
    for served, expected_code, expected_line in ((sketch, 0, "ok       GET /products/1"),
                                                 (drifted, 1, "drift    GET /products/1")):
        with postmock("serve", str(served), "--port", "0") as mock:
            url = mock.wait_for(SERVING).group(3)
            code, out, err = _check(str(sketch), "--against", url)
        assert (code, err) == (expected_code, ""), out
        assert out.splitlines()[0].startswith(expected_line)
        assert out.splitlines()[-1].endswith("2 skipped") and "skipped  POST /products" in out
        assert "skipped  GET /products/:id/reviews  (no value for path parameter id: give it an example" in out
    assert _lines_of(out, "GET /products/1")[1:] == ["         $.price: expected number, got string",
                                                     '         $.created: expected format date-time, got "yesterday"']
