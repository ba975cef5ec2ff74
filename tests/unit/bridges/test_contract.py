"""bridges/contract.py without a network: the requests a sketch sends, how an answer is compared, the report."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from postmock_nb.behaviours.resources import Resource
from postmock_nb.bridges import contract
from postmock_nb.bridges.contract import Checker, check
from postmock_nb.bridges.contract_probes import collection_probes, openapi_probes, parse_headers, resolved, secrets_of
from postmock_nb.bridges.contract_report import CheckError, Expected, Outcome, Probe, Report, junit_target, write_junit
from postmock_nb.bridges.drift import DRIFT, ERROR, OK, SKIPPED, Difference
from postmock_nb.core import limits
from postmock_nb.core.model import Collection, Example, RequestSpec, ResponseSpec
from postmock_nb.formats.openapi import load_spec, spec_to_collection

JSON = (("Content-Type", "application/json"),)


def _example(method: str, path: str, status: int, answer: Any, **request: Any) -> Example:
    return Example(name=f"{method} {path} {status}", request=RequestSpec(method=method, path=path, **request),
                   response=ResponseSpec(status, "", JSON, json.dumps(answer)))


def _collection(*examples: Example) -> Collection:
    collection = Collection()
    for example in examples:
        collection = collection.with_example(example)
    return collection


def test_one_probe_per_distinct_request_expecting_each_status_its_examples_give() -> None:
    collection = _collection(
        _example("GET", "/users/:id", 200, {"id": 1, "name": "Ann"}, path_variables=(("id", "1"),)),
        _example("GET", "/users/:id", 200, {"id": 2, "name": "Bob", "admin": True}, path_variables=(("id", "2"),)),
        _example("GET", "/users/:id", 404, {"error": "no"}, path_variables=(("id", "1"),),
                 headers=(("x-mock-response-code", "404"),)),
        _example("POST", "/users", 201, {"id": 3}, body='{"name": "Cy"}'))
    probes = collection_probes(collection)
    assert [(p.label, [e.code for e in p.expected]) for p in probes] == [
        ("GET /users/1", ["200", "404"]), ("GET /users/2", ["200"]), ("POST /users", ["201"])]
    schema = probes[0].expected[0].media[0][1]  # inferred from both 200 examples of the request
    assert probes[0].expected[0].media[0][0] == "application/json"
    assert set(schema["required"]) == {"id", "name"} and "admin" in schema["properties"]
    assert probes[0].expected == (probes[1].expected[0], probes[0].expected[1])


def test_a_body_that_is_not_json_gives_no_schema() -> None:
    example = Example(name="text", request=RequestSpec("GET", "/t"),
                      response=ResponseSpec(200, "", (("Content-Type", "text/plain"),), "hello"))
    assert collection_probes(_collection(example))[0].expected == (Expected("200", (("text/plain", None),)),)
    empty = Example(name="none", request=RequestSpec("GET", "/e"), response=ResponseSpec(204))
    assert collection_probes(_collection(empty))[0].expected == (Expected("204"),)


def test_resolving_variables_headers_and_what_is_not_sent() -> None:
    probe = Probe("GET", "/orgs/{{org}}/users", query=(("key", "{{apiKey}}"),),
                  headers=(("x-mock-response-code", "200"), ("Accept", "application/json"), ("Host", "x"),
                           ("Authorization", "Bearer old")))
    sent = resolved(probe, {"org": "acme", "apiKey": "k-123"}, (("Authorization", "Bearer new"),), unsafe=False)
    assert (sent.path, sent.query, sent.skipped) == ("/orgs/acme/users", (("key", "k-123"),), "")
    assert sent.headers == (("Accept", "application/json"), ("Authorization", "Bearer new"))
    assert resolved(probe, {}, (), unsafe=False).skipped.startswith("no value for org, apiKey:")
    assert resolved(Probe("GET", "/users/:id"), {}, (), unsafe=False).skipped.startswith("no value for id:")
    post = Probe("POST", "/users")
    assert resolved(post, {}, (), unsafe=False).skipped == (
        "POST is sent only with --unsafe (it may change the real API's data)")
    assert resolved(post, {}, (), unsafe=True).skipped == ""


DOCUMENT = {
    "openapi": "3.1.0", "info": {"title": "Pets", "version": "1"}, "servers": [{"url": "https://api.example.com/v1"}],
    "paths": {"/pets/{petId}": {"get": {
        "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}, "example": 7}],
        "responses": {
            "200": {"description": "a pet", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Pet"}}}},
            "4XX": {"description": "no pet", "content": {"application/problem+json": {"schema": {"type": "object"}}}},
        }}}},
    "components": {"schemas": {"Pet": {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string", "enum": ["cat", "dog"]}}}}},
}


def test_an_openapi_document_gives_one_probe_per_operation_with_its_documented_answers() -> None:
    spec = load_spec(DOCUMENT)
    [probe] = openapi_probes(spec)
    assert probe.label == "GET /v1/pets/7" and not probe.skipped
    assert [e.code for e in probe.expected] == ["200", "4XX"]
    checker = Checker("http://127.0.0.1:1", lookup=spec.lookup)
    assert checker.compare(probe, 200, "application/json", b'{"id": 7, "kind": "cat"}') == []
    assert [d.describe() for d in checker.compare(probe, 200, "application/json", b'{"id": "7", "kind": "cow"}')] == [
        "$.id: expected integer, got string", '$.kind: expected one of "cat", "dog", got "cow"']
    assert checker.compare(probe, 404, "application/problem+json", b"{}") == []  # 4XX documents 404
    assert [d.describe() for d in checker.compare(probe, 500, "application/json", b"{}")] == [
        "status: expected 200 or 4XX, got 500"]
    assert [d.describe() for d in checker.compare(probe, 200, "text/html", b"<p>")] == [
        "content-type: expected application/json, got text/html"]
    assert [d.describe() for d in checker.compare(probe, 200, "application/json", b"<p>")] == [
        "body: expected JSON, got '<p>'"]
    head = Probe("HEAD", "/v1/pets/7", expected=probe.expected)
    assert checker.compare(head, 200, "application/json", b"") == []


def test_the_checker_refuses_what_it_cannot_send_to() -> None:
    with pytest.raises(CheckError, match="is not an http"):
        Checker("ftp://example.com")
    with pytest.raises(CheckError, match="--timeout must be more than 0"):
        Checker("http://127.0.0.1:1", timeout=0)


def test_headers_given_on_the_command_line() -> None:
    assert parse_headers(["Authorization: Bearer abc", "X-A:1"]) == (("Authorization", "Bearer abc"), ("X-A", "1"))
    with pytest.raises(CheckError, match="is not 'Name: value'"):
        parse_headers(["Authorization Bearer abc"])


def test_secrets_are_credential_headers_and_secret_sounding_variables() -> None:
    found = secrets_of((("Authorization", "Bearer tok-123456"), ("Accept", "application/json"),
                        ("api_key", "k-99999"), ("X-Auth-Token", "x-77777")),
                       {"userId": "7", "apiToken": "t-55555", "baseUrl": "http://x", "password": "p-33333",
                        "client_secret": "c-44444", "monkey": "banana"})  # core/masking's rule: not any "key"
    assert set(found) == {"Bearer tok-123456", "tok-123456", "k-99999", "x-77777", "t-55555", "p-33333", "c-44444"}


def test_token_shaped_values_and_an_environment_s_secret_values_are_masked_whatever_their_names() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    found = secrets_of((), {"sig": jwt, "opaque": "a1B2c3D4e5F6g7H8i9J0k1L2m3", "region": "eu-west-1",
                            "userId": "1234", "baseUrl": "http://127.0.0.1:8000/a-long-path-without-digits",
                            "pin": "4321-9876"}, secret_names=("pin",))
    assert set(found) == {jwt, "a1B2c3D4e5F6g7H8i9J0k1L2m3", "4321-9876"}


def _report() -> Report:
    drift = Outcome(Probe("GET", "/users/7", query=(("token", "t-5555555555"),)), DRIFT,
                    (Difference("$.name", "missing (required)"), Difference("$.x", "unexpected field", fails=False)),
                    200, "application/json", 12.0)
    return Report((drift, Outcome(Probe("GET", "/ok"), OK, (), 200, "application/json", 3.0),
                   Outcome(Probe("POST", "/users"), SKIPPED, reason="POST is sent only with --unsafe"),
                   Outcome(Probe("GET", "/slow"), ERROR, elapsed_ms=1000.0, reason="no answer within 1 s")),
                  "http://127.0.0.1:9", "shop.json", ("t-5555555555",))


def test_the_report_as_text_rows_and_summary() -> None:
    report = _report()
    assert report.failed
    assert report.text().splitlines() == [
        "drift    GET /users/7?token=t-…  (200 application/json, 12 ms)",
        "         $.name: missing (required)",
        "         note: $.x: unexpected field",
        "ok       GET /ok  (200 application/json, 3 ms)",
        "skipped  POST /users  (POST is sent only with --unsafe)",
        "error    GET /slow  (no answer within 1 s)",
        "4 requests checked against http://127.0.0.1:9: 1 ok, 1 drift, 1 error, 1 skipped; "
        "1 difference reported, not failed"]
    assert report.rows()[1] == ("", "", "$.name", "missing (required)")
    assert "t-5555555555" not in repr(report.rows())
    assert not Report((report.outcomes[1],), "http://x").failed


def test_the_report_as_junit_xml() -> None:
    text = _report().junit()
    assert "t-5555555555" not in text
    suite = ElementTree.fromstring(text).find("testsuite")
    assert suite is not None
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4", "failures": "1", "errors": "1", "skipped": "1"}
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["GET /users/7?token=t-…", "GET /ok", "POST /users", "GET /slow"]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("message") == "$.name: missing (required)"
    assert failure.text == "$.name: missing (required)\n$.x: unexpected field (reported, not failed)"
    assert cases[1].find("failure") is None and cases[2].find("skipped") is not None
    error = cases[3].find("error")
    assert error is not None and error.get("message") == "no answer within 1 s"


def test_a_websocket_example_is_skipped_even_with_unsafe() -> None:
    socket = Example(name="chat", request=RequestSpec("GET", "/ws/chat", headers=(("x-mock-websocket", "true"),)),
                     response=ResponseSpec(101))
    [probe] = collection_probes(_collection(socket))
    assert resolved(probe, {}, (), unsafe=True).skipped == "a WebSocket example: not checked (only HTTP answers are)"


# -- path parameters: resources, OpenAPI documents ---------------------------------------------------------------


def _resource(name: str, records: list[dict[str, Any]], **options: Any) -> Collection:
    return _collection(*Resource(name, records, path=f"/{name}", **options).examples())


def test_a_resource_is_checked_with_the_id_of_its_first_seed_record() -> None:
    probes = collection_probes(_resource("orders", [{"id": 5, "total": 3.5}, {"id": 6, "total": 1}]))
    assert [(p.label, p.skipped) for p in probes] == [
        ("GET /orders", ""), ("GET /orders/5", ""), ("POST /orders", ""), ("PUT /orders/5", ""),
        ("PATCH /orders/5", ""), ("DELETE /orders/5", "")]
    assert [resolved(p, {}, (), unsafe=False).skipped == "" for p in probes] == [
        True, True, False, False, False, False]  # the writes only with --unsafe
    by_sku = collection_probes(_resource("items", [{"sku": "a/b 1"}], id_field="sku"))
    assert by_sku[1].label == "GET /items/a%2Fb%201"  # the resource's own id field, one path segment


def test_a_resource_without_records_is_skipped_saying_why_and_a_saved_value_wins() -> None:
    [_, get, *_] = collection_probes(_resource("empty", []))
    assert get.label == "GET /empty/:id"
    assert get.skipped == ("no value for id: resource 'empty' has no record to take one from (seed it, or save a "
                           "value for :id in the example)")
    examples = Resource("orders", [{"id": 5}], path="/orders").examples()
    saved = replace(examples[1], request=replace(examples[1].request, path_variables=(("id", "77"),)))
    assert collection_probes(_collection(saved))[0].label == "GET /orders/77"
    alone = collection_probes(_collection(examples[1]))  # no list example: the record the example answers with
    assert alone[0].label == "GET /orders/5"


def test_a_resource_s_create_is_sent_without_the_record_s_id_and_deletes_go_last(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """M6: the create posted its seed's record, id and all: the resource (as most APIs) answered 409 for an id it
    holds. A document read back lists DELETE before PATCH: the record deleted, the PATCH got 404."""
    probes = collection_probes(_resource("orders", [{"id": 5, "total": 3.5}]))
    assert json.loads(probes[2].body) == {"total": 3.5}
    reordered = [probes[0], probes[5], probes[4]]  # GET /orders, DELETE, PATCH: as an OpenAPI path item orders them
    sent: list[str] = []

    def check(self: Checker, client: httpx.Client, probe: Probe) -> Outcome:
        sent.append(probe.method)
        return Outcome(probe, OK)

    monkeypatch.setattr(Checker, "check", check)
    outcomes = Checker("http://api.test").run(reordered)
    assert sent == ["GET", "PATCH", "DELETE"]
    assert [o.probe.method for o in outcomes] == ["GET", "DELETE", "PATCH"]  # reported in the sketch's order


PARAMETERS: dict[str, Any] = {
    "openapi": "3.1.0", "info": {"title": "Ids", "version": "1"},
    "paths": {f"/{place}/{{id}}": {"get": {"parameters": [{"name": "id", "in": "path", "required": True, **given}],
                                          "responses": {"200": {"description": "ok"}}}}
              for place, given in [
                  ("example", {"example": 7, "schema": {"type": "integer"}}),
                  ("examples", {"examples": {"one": {"value": "abc"}}, "schema": {"type": "string"}}),
                  ("enum", {"schema": {"type": "string", "enum": ["eu", "us"]}}),
                  ("default", {"schema": {"type": "integer", "default": 9}}),
                  ("ref", {"schema": {"$ref": "#/components/schemas/Id"}}),
                  ("none", {"schema": {"type": "string", "format": "uuid"}})]},
    "components": {"schemas": {"Id": {"type": "string", "example": "id-1"}}},
}
NO_ID = ("no value for path parameter id: give it an example in the document (the parameter's example or "
         "examples, or its schema's example, enum or default)")


def test_an_operation_s_path_parameter_takes_the_document_s_value_or_is_skipped_naming_it() -> None:
    spec = load_spec(PARAMETERS)
    expected = [("GET /example/7", ""), ("GET /examples/abc", ""), ("GET /enum/eu", ""), ("GET /default/9", ""),
                ("GET /ref/id-1", ""), ("GET /none/:id", NO_ID)]  # not a made-up uuid
    assert [(p.label, p.skipped) for p in openapi_probes(spec)] == expected
    loaded = spec_to_collection(spec)  # %mock load: the examples save no path values; the document has them
    assert [(p.label, p.skipped) for p in collection_probes(loaded, specs=[spec])] == expected
    without = [resolved(p, {}, (), unsafe=False).skipped for p in collection_probes(loaded)]  # no document
    assert all(reason.startswith("no value for id: save one") for reason in without)


# -- sending, in process (httpx.MockTransport) -------------------------------------------------------------------


def test_a_sketch_checked_against_an_answering_api_in_process() -> None:
    """A resource whose records give an enum and formats; the real API differs from each."""
    sketch = _collection(*Resource("orders", [
        {"id": n, "state": state, "at": "2024-05-01T10:00:00Z", "email": "ann@example.com"}
        for n, state in enumerate(("open", "open", "paid", "paid"), 5)], path="/orders").examples())
    real = {"/orders": [{"id": 5, "state": "lost", "at": "2024-05-01T10:00:00Z", "email": "ann@example.com"}],
            "/orders/5": {"id": 5, "state": "open", "at": "yesterday", "email": "nobody"}}
    received: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json=real[request.url.path])

    checker = Checker("http://api.test")
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        outcomes = [checker.check(client, resolved(p, {}, (), unsafe=False)) for p in collection_probes(sketch)]
    assert received == ["GET /orders", "GET /orders/5"]
    assert [(o.probe.label, o.verdict) for o in outcomes] == [
        ("GET /orders", DRIFT), ("GET /orders/5", DRIFT), ("POST /orders", SKIPPED), ("PUT /orders/5", SKIPPED),
        ("PATCH /orders/5", SKIPPED), ("DELETE /orders/5", SKIPPED)]
    assert [d.describe() for d in outcomes[0].differences] == [
        '$[0].state: expected one of "open", "paid", got "lost"']  # four records seen: an enum (formats/inference)
    assert [d.describe() for d in outcomes[1].differences] == [
        '$.at: expected format date-time, got "yesterday"', '$.email: expected format email, got "nobody"']


# -- the hostile tester's findings (issue 24) --------------------------------------------------------------------


def _run(checker: Checker, probes: list[Probe], answer: Any, **resolve: Any) -> list[Outcome]:
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        return [checker.check(client, resolved(p, {**resolve}, (), unsafe=True)) for p in probes]


def test_a_body_that_trickles_in_is_cut_at_the_request_s_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each read waits at most the timeout, but a byte a second never trips that: the whole request has one."""
    clock = [0.0]
    monkeypatch.setattr(contract.time, "perf_counter", lambda: clock[0])

    def drip() -> Iterator[bytes]:
        for _ in range(100_000):
            clock[0] += 1.0  # a byte a second (a fake clock: no sleep)
            yield b"x"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "application/json"}, content=drip())

    [outcome] = _run(Checker("http://api.test", timeout=2), [Probe("GET", "/drip")], answer)
    assert (outcome.verdict, outcome.reason) == (ERROR, "no whole answer within 2 s (3 bytes of the body came)")


def test_an_answer_whose_head_never_comes_whole_is_given_up_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """An upstream trickling its status line and headers (each read within the timeout) is stopped by a wall clock:
    the request is an error row and the next one is checked (the blocked send is left on its daemon thread)."""
    monkeypatch.setattr(contract, "DEADLINE_GRACE_S", 0.05)
    release = threading.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/stuck":
            release.wait(10)  # its head never comes whole while the check waits
        return httpx.Response(200, headers={"Content-Type": "application/json"}, content=b"{}")

    try:
        stuck, fine = _run(Checker("http://api.test", timeout=0.1),
                           [Probe("GET", "/stuck", expected=(Expected("200"),)),
                            Probe("GET", "/fine", expected=(Expected("200"),))], answer)
    finally:
        release.set()
    assert (stuck.verdict, stuck.reason) == (
        ERROR, "no whole answer within 0.1 s (its status line and headers still coming)")
    assert fine.verdict == OK


def test_examples_that_differ_by_headers_are_separate_requests_each_with_its_own_statuses() -> None:
    """A 401 to the authorized request is drift, not "one of the statuses" (H2); Accept variants are each sent."""
    collection = _collection(
        _example("GET", "/me", 200, {"name": "me"}, headers=(("Authorization", "Bearer {{token}}"),)),
        _example("GET", "/me", 401, {"error": "no"}),
        _example("GET", "/report", 200, {"a": 1}, headers=(("Accept", "application/json"),)),
        Example(name="csv", request=RequestSpec("GET", "/report", headers=(("Accept", "text/csv"),)),
                response=ResponseSpec(200, "", (("Content-Type", "text/csv"),), "a\n1\n")))
    probes = collection_probes(collection)
    assert [(p.label, [e.code for e in p.expected]) for p in probes] == [
        ("GET /me [GET /me 200]", ["200"]), ("GET /me [GET /me 401]", ["401"]),
        ("GET /report [GET /report 200]", ["200"]), ("GET /report [csv]", ["200"])]
    received: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:  # rejects the token; JSON whatever is accepted
        received.append(request.headers.get("accept", ""))
        if request.url.path == "/me":
            return httpx.Response(401, json={"error": "no"})
        return httpx.Response(200, json={"a": 1})

    outcomes = _run(Checker("http://api.test"), probes, answer, token="t-1")
    assert [(o.verdict, [d.describe() for d in o.differences]) for o in outcomes] == [
        (DRIFT, ["status: expected 200, got 401"]), (OK, []), (OK, []),
        (DRIFT, ["content-type: expected text/csv, got application/json"])]
    assert received[2:] == ["application/json", "text/csv"]


def test_several_content_types_of_one_status_are_each_kept_with_its_own_schema() -> None:
    """M1: a JSON 200 and a text 200 of one item (``?fmt=text``): each request expects what its examples give,
    the text one among them; a JSON answer is compared with the JSON examples' schema."""
    text = Example(name="text", request=RequestSpec("GET", "/mt", query=(("fmt", "text"),)),
                   response=ResponseSpec(200, "", (("Content-Type", "text/plain"),), "n=1"))
    collection = _collection(_example("GET", "/mt", 200, {"n": 1}), text)
    item = collection.items[0]
    both = collection_probes(_collection(*item.examples, replace(text, name="text too",
                                                                request=RequestSpec("GET", "/mt"))))
    assert [(p.label, p.expected) for p in both] == [("GET /mt", (Expected("200", (
        ("application/json", both[0].expected[0].media[0][1]), ("text/plain", None))),))]
    checker = Checker("http://api.test")
    assert checker.compare(both[0], 200, "text/plain", b"n=1") == []
    assert [d.describe() for d in checker.compare(both[0], 200, "application/json", b'{"n": "1"}')] == [
        "$.n: expected integer, got string"]
    by_query = collection_probes(collection)
    assert [p.expected[0].media[0][0] for p in by_query] == ["application/json", "text/plain"]


def test_a_header_that_cannot_be_sent_is_an_error_row_and_the_others_are_checked() -> None:
    """H3: "X-User: José" once raised UnicodeEncodeError out of the whole check (no report, no JUnit)."""
    probes = [Probe("GET", "/a", headers=(("X-User", "José"),)), Probe("GET", "/b", expected=(Expected("200"),)),
              Probe("GET", "/c", headers=(("X-Note", "line\nbreak secret"),))]
    outcomes = _run(Checker("http://api.test"), probes, lambda request: httpx.Response(200))
    assert [(o.verdict, o.reason) for o in outcomes] == [
        (ERROR, "cannot send the header 'X-User': its value holds 'é' (U+00E9), not printable ASCII"),
        (OK, ""),
        (ERROR, "cannot send the header 'X-Note': its value holds a line break (U+000A), not printable ASCII")]
    report = Report(tuple(outcomes), "http://api.test")
    assert ElementTree.fromstring(report.junit()).find("testsuite") is not None
    with pytest.raises(CheckError, match=r"--header 'X-A': its value holds 'ä' \(U\+00E4\)"):
        parse_headers(["X-A: vä"])
    with pytest.raises(CheckError, match=r"--header 'X-Ü': its name holds 'Ü'"):
        parse_headers(["X-Ü: v"])


def test_header_names_as_postman_sends_them_empty_left_out_variables_filled_odd_ones_an_error_row() -> None:
    """A row with no key is not sent (Postman's Send leaves it out; h11 raised "Illegal header name b''");
    ``{{name}}`` in a header's name is filled like its value; a name with a colon or a space is that request's
    error row."""
    probe = Probe("GET", "/a", headers=(("", "v"), (" ", "w"), ("{{hdr}}", "1"), ("X-Ok", "2")),
                  expected=(Expected("200"),))
    sent = resolved(probe, {"hdr": "X-Tenant"}, (), unsafe=False)
    assert (sent.headers, sent.skipped) == ((("X-Tenant", "1"), ("X-Ok", "2")), "")
    assert resolved(probe, {}, (), unsafe=False).skipped.startswith("no value for hdr:")
    outcomes = _run(Checker("http://api.test"), [Probe("GET", "/b", headers=(("X:Colon", "secret"),)), sent],
                    lambda request: httpx.Response(200))
    assert [(o.verdict, o.reason) for o in outcomes] == [
        (ERROR, "cannot send the header 'X:Colon': no header name (letters, digits and !#$%&'*+-.^_`|~ only)"),
        (OK, "")]


def test_a_password_in_the_url_is_never_shown(tmp_path: Path) -> None:
    """H4: as ``postmock push`` shows ``--to``: ``user:***@``, in the text, the rows and the JUnit XML."""
    report = check([Probe("POST", "/x")], against="http://ann:URLPASSWORD@127.0.0.1:9/v1", source="s.json")
    assert report.against == "http://ann:***@127.0.0.1:9/v1"
    shown = report.text() + report.junit() + repr(report.rows())
    assert "URLPASSWORD" not in shown and "ann:***@127.0.0.1:9/v1" in shown
    assert "URLPASSWORD" in report.secrets  # an error message naming the URL is masked too


def test_the_junit_file_is_refused_when_it_is_the_source_or_a_directory(tmp_path: Path) -> None:
    """H5 and M9: refused before anything is sent; an unwritable place named, not a temporary file's name."""
    source = tmp_path / "v.postman_collection.json"
    source.write_text("{}")
    with pytest.raises(CheckError, match="the output is the source"):
        junit_target(str(tmp_path / "." / source.name), sources=(str(source), None))
    with pytest.raises(CheckError, match="is a directory, not a file"):
        junit_target(str(tmp_path), sources=(str(source),))
    pipe = tmp_path / "pipe.xml"
    os.mkfifo(pipe)
    (tmp_path / "stdout").symlink_to(pipe)  # as /dev/stdout: replacing it by a file (as root) lost it
    for device in (pipe, tmp_path / "stdout"):
        with pytest.raises(CheckError, match="is not a regular file"):
            junit_target(str(device))
    assert junit_target(str(tmp_path / "out" / "check.xml"), sources=(str(source),)) == tmp_path / "out" / "check.xml"
    with pytest.raises(CheckError, match=r"cannot write the JUnit XML to .*v.postman_collection.json/x.xml: "):
        write_junit(source / "x.xml", _report())
    assert source.read_text() == "{}"


def test_request_bodies_go_with_the_content_type_postman_s_send_adds() -> None:
    """H7: raw JSON (by its language, or JSON text), urlencoded, form data as multipart, GraphQL as JSON; an
    example's own Content-Type wins."""
    def sent(**request: Any) -> tuple[str, str]:
        [probe] = collection_probes(_collection(_example("POST", "/echo", 200, {}, **request)))
        return dict(probe.headers).get("Content-Type", ""), probe.body

    assert sent(body='{"t": 1}', body_language="json")[0] == "application/json"
    assert sent(body='{"t": 1}')[0] == "application/json"
    assert sent(body="<a/>", body_language="xml")[0] == "application/xml"
    assert sent(body="hello")[0] == "text/plain"
    assert sent(body="a=1", body_mode="urlencoded") == ("application/x-www-form-urlencoded", "a=1")
    assert sent(body='{"query": "{ a }"}', body_mode="graphql", body_language="json")[0] == "application/json"
    assert sent(body="x", headers=(("Content-Type", "text/csv"),))[0] == "text/csv"
    assert sent() == ("", "")
    kind, body = sent(body="a=1&b=two+words", body_mode="formdata")
    boundary = kind.partition("boundary=")[2]
    assert kind.startswith("multipart/form-data; boundary=postmock-") and body == (
        f'--{boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="b"\r\n\r\ntwo words\r\n--{boundary}--\r\n')


def test_dynamic_variables_are_filled_and_a_run_that_checks_nothing_fails() -> None:
    """M3: ``{{$randomInt}}``/``{{$guid}}`` filled as Postman's Send fills them; all skipped: exit 1, saying so."""
    probe = resolved(Probe("GET", "/echo/{{$guid}}", query=(("r", "{{$randomInt}}"), ("x", "{{$nope}}"))),
                      {}, (), unsafe=False)
    assert re.fullmatch(r"/echo/[0-9a-f-]{36}", probe.path) and probe.query[0][1].isdigit()
    assert probe.skipped.startswith("no value for $nope:")
    report = check([Probe("POST", "/x"), Probe("DELETE", "/y")], against="http://127.0.0.1:9")
    assert report.failed
    assert report.summary() == "nothing was checked against http://127.0.0.1:9: every request was skipped (2 skipped)"
    assert check([], against="http://127.0.0.1:9").summary() == (
        "nothing was checked against http://127.0.0.1:9: the sketch has no requests")


@pytest.mark.parametrize(("url", "message"), [
    ("http://[::1", r"--against 'http://\[::1' is not a URL \(Invalid port: ':1'\)"),
    ("http://a:pw@host?x=1", r"--against 'http://a:\*\*\*@host\?x=1' has a query or a fragment"),
    ("http://host/#frag", "has a query or a fragment"),
    ("notaurl", "--against 'notaurl' is not an http"),
])
def test_a_url_that_cannot_be_a_base_is_refused_saying_why(url: str, message: str) -> None:
    with pytest.raises(CheckError, match=message):
        Checker(url)


def test_the_url_s_errors_name_the_way_it_was_given_and_the_timeout_its_range() -> None:
    with pytest.raises(CheckError, match=r"^%mock check 'notaurl' is not an http\(s\) URL") as refused:
        check([], against="notaurl", option="%mock check")
    assert refused.value.hint == "%mock check https://api.example.com"
    for timeout in (float("inf"), 1e12, float("nan")):
        with pytest.raises(CheckError, match=r"--timeout must be more than 0 and at most 3600 seconds"):
            Checker("http://127.0.0.1:1", timeout=timeout)


def test_messages_name_no_private_class_and_say_too_deep_for_deep_json() -> None:
    """L2: the size limit's message; a body nested past the JSON limit is JSON, only too deep."""
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"a": "x" * 100})

    [big] = _run(Checker("http://api.test", max_bytes=10), [Probe("GET", "/big")], answer)
    assert big.reason == "the answer's body is over 10 bytes (not read further)"
    probe = Probe("GET", "/deep", expected=(Expected("200", (("application/json", {"type": "array"}),)),))
    deep = b"[" * 100_000 + b"]" * 100_000
    assert [d.describe() for d in Checker("http://api.test").compare(probe, 200, "application/json", deep)] == [
        f"body: JSON nested too deep to compare (over {limits.MAX_JSON_DEPTH} levels)"]


def test_junit_stays_valid_xml_with_control_characters_in_labels() -> None:
    """L7: a label holding a control character (a collection path with one) is written ``\\x00``."""
    outcome = Outcome(Probe("GET", "/a\x00b\x1b"), ERROR, reason="bad \x07 thing")
    text = Report((outcome,), "http://api.test", "c\x01.json").junit()
    suite = ElementTree.fromstring(text).find("testsuite")
    assert suite is not None and suite.get("name") == "postmock check c\\x01.json against http://api.test"
    case = suite.find("testcase")
    assert case is not None and case.get("name") == "GET /a\\x00b\\x1b"
