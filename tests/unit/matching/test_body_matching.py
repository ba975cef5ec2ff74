"""Looser body matching (issue 13, section 3): partial JSON, any-value placeholders, form and query
"contains", and near misses shown field by field. Pure: the engine and the diagnostics, no socket."""

from __future__ import annotations

import json

import pytest

from postmock_nb.answers.diagnostics import FAIL_MARK, near_miss_text
from postmock_nb.config import MockConfig
from postmock_nb.core.bodies import MAX_BODY_DIFFERENCES, body_differences
from postmock_nb.core.model import Collection
from postmock_nb.matching import IncomingRequest, MatchResult, match
from postmock_nb.matching.snapshot import Snapshot

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
ORDER = '{"customer": "ann", "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}'


def run(collection: Collection, request: str, headers: dict[str, str] | None = None, body: str = "",
        settings: MockConfig = MockConfig()) -> MatchResult:
    method, _, url = request.partition(" ")
    return match(Snapshot(collection), IncomingRequest.build(method, url, headers, body), settings)


@pytest.mark.parametrize("expected, actual, contains, differences", [
    # exact (Postman's comparison): key order and spacing do not count, nothing else may differ
    (ORDER, ' {"items": [{"qty": 1, "sku": "a"}, {"sku": "b", "qty": 2}], "customer": "ann"}', False, []),
    (ORDER, ORDER.replace('"qty": 2', '"qty": 3'), False, [("$.items[1].qty", "expected 2, got 3")]),
    ('{"a": 1}', '{"a": 1, "b": 2}', False, [("$.b", "not in the example")]),
    ('[1, 2]', '[1, 2, 3]', False, [("$[2]", "not in the example")]),
    ('{"on": true}', '{"on": 1}', False, [("$.on", "expected true, got 1")]),
    # contains: extra fields anywhere, extra trailing array items
    ('{"customer": "ann"}', ORDER, True, []),
    ('{"items": [{"sku": "a"}]}', ORDER, True, []),
    ('{"items": [{"sku": "b"}]}', ORDER, True, [("$.items[0].sku", 'expected "b", got "a"')]),  # by position
    ('{"items": [{}, {}, {"sku": "c"}]}', ORDER, True, [("$.items[2]", "missing from the request")]),
    ('{"customer": "ann", "note": "x"}', ORDER, True, [("$.note", "missing from the request")]),
    ('{"items": {"sku": "a"}}', ORDER, True,
     [("$.items", 'expected {"sku": "a"}, got [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]')]),
    # any-value placeholders, in either mode
    ('{"customer": "{{$any}}", "items": "{{$any}}"}', ORDER, False, []),
    ('{"id": "{{$anyNumber}}"}', '{"id": 7.5}', False, []),
    ('{"id": "{{$anyNumber}}"}', '{"id": "7"}', False, [("$.id", 'expected any number, got "7"')]),
    ('{"id": "{{$anyNumber}}"}', '{"id": true}', False, [("$.id", "expected any number, got true")]),
    ('{"name": "{{$anyString}}"}', '{"name": null}', False, [("$.name", "expected any string, got null")]),
    ('{"name": "{{$any}}"}', '{}', True, [("$.name", "missing from the request")]),  # any value, not no value
    ('{"a b": {"c-d": 1}}', '{"a b": {"c-d": 2}}', False, [('$["a b"]["c-d"]', "expected 1, got 2")]),
])
def test_json_differences(expected, actual, contains, differences):
    found = body_differences(expected, actual, JSON, contains=contains)
    assert [(d.path, d.note) for d in found] == differences, found


@pytest.mark.parametrize("expected, actual, contains, differences", [
    ("a=1&b=2", "b=2&a=1", False, []),
    ("a=1", "a=1&c=3", False, [("c", "not in the example")]),
    ("a=1", "a=1&c=3", True, []),
    ("a=1&b={{$any}}", "b=zz&a=1&c=3", True, []),
    ("a=1&b=2", "a=1&c=3", True, [("b", "missing from the request")]),
    ("a=1", "a=2", True, [("a", "expected 1, got 2")]),
])
def test_form_differences(expected, actual, contains, differences):
    found = body_differences(expected, actual, FORM, contains=contains)
    assert [(d.path, d.note) for d in found] == differences, found


def test_differences_are_bounded():
    expected = json.dumps({f"k{i}": i for i in range(50)})
    actual = json.dumps({f"k{i}": -i - 1 for i in range(50)})
    found = body_differences(expected, actual, JSON)
    assert [d.path for d in found] == [f"$.k{i}" for i in range(MAX_BODY_DIFFERENCES)]
    assert [d.more for d in found] == [0] * (MAX_BODY_DIFFERENCES - 1) + [50 - MAX_BODY_DIFFERENCES], \
        "the last one listed counts those not listed"


@pytest.mark.parametrize("kind", [JSON, FORM])
def test_differences_past_the_limit_are_counted(kind: str) -> None:
    """12 fields differ, 10 are listed: the last listed says 2 more (the summary then says "and 11 more")."""
    wanted, sent = {f"f{i}": str(i) for i in range(12)}, {f"f{i}": f"x{i}" for i in range(12)}
    if kind == JSON:
        expected, actual = json.dumps(wanted), json.dumps(sent)
    else:
        expected, actual = "&".join(f"{k}={v}" for k, v in wanted.items()), "&".join(f"{k}={v}" for k, v in sent.items())
    found = body_differences(expected, actual, kind)
    assert len(found) == MAX_BODY_DIFFERENCES and found[-1].more == 12 - MAX_BODY_DIFFERENCES, found
    assert sum(d.more for d in found) + len(found) == 12
    exact = body_differences(expected, actual, kind, limit=12)
    assert len(exact) == 12 and not any(d.more for d in exact)


def test_text_bodies_still_compare_whole():
    assert [d.note for d in body_differences("hello", "hullo", "text/plain", contains=True)] == ["different body"]


@pytest.fixture
def orders(build) -> Collection:
    return build.collection(
        build.example("POST /orders", "Ann's order", status=201, body="created",
                      request_headers={"x-mock-match-request-body": "contains"}, request_body=ORDER),
        build.example("POST /orders", "Anyone's", status=202, body="queued",
                      request_headers={"x-mock-match-request-body": "true"},
                      request_body='{"customer": "{{$anyString}}", "items": "{{$any}}"}'))


def test_contains_marker_on_an_example_matches_a_request_with_more(orders):
    body = json.loads(ORDER)
    body["items"].append({"sku": "c", "qty": 9})
    body["coupon"] = "XMAS"
    result = run(orders, "POST /orders", {"content-type": JSON}, json.dumps(body))
    assert (result.winner.name if result.winner else None, result.score) == ("Ann's order", 110), result.error
    exact = next(c for c in result.candidates if c.example.name == "Anyone's")
    assert exact.lost == "body $.coupon: not in the example", exact.lost


def test_placeholders_accept_any_value_in_an_exact_example(orders):
    result = run(orders, "POST /orders", {"content-type": JSON}, '{"customer": "bob", "items": []}')
    assert result.winner is not None and result.winner.name == "Anyone's", result.error


def test_near_miss_shows_the_body_field_by_field(orders):
    body = ORDER.replace('"qty": 2', '"qty": 3')
    result = run(orders, "POST /orders", {"content-type": JSON}, body.replace('"ann"', "7"))
    assert result.winner is None, result.winner
    ann = next(c for c in result.candidates if c.example.name == "Ann's order")
    assert [(c.name, c.expected, c.actual) for c in ann.checks if c.part == "body"] == [
        ("$.customer", '"ann"', "7"), ("$.items[1].qty", "2", "3")]
    assert ann.lost == 'body $.customer: expected "ann", got 7 (and 1 more)'
    text = near_miss_text(result)
    row = next(line for line in text.splitlines() if "$.items[1].qty" in line)
    assert "body $.items[1].qty: 3" in row and "body $.items[1].qty: 2" in row and FAIL_MARK in row, text
    assert "expected 2, got 3" in row, text


def test_contains_asked_for_per_request(build):
    collection = build.collection(build.example("POST /login", "ok", body="ok", request_body="user=ann&pw=x"))
    sent = {"content-type": FORM, "x-mock-match-request-body": "contains"}
    assert run(collection, "POST /login", sent, "pw=x&user=ann&remember=1").winner is not None
    sent["x-mock-match-request-body"] = "true"
    result = run(collection, "POST /login", sent, "pw=x&user=ann&remember=1")
    assert result.winner is None and result.candidates[0].lost == "body remember: not in the example"


def test_query_contains_makes_extra_parameters_free(build):
    collection = build.collection(
        build.example("GET /search?q=dune", "loose", body="loose",
                      request_headers={"x-mock-match-request-query": "contains"}),
        build.example("GET /search?q=dune", "strict", body="strict"))
    result = run(collection, "GET /search?q=dune&page=2&utm=x")
    assert (result.winner.name if result.winner else None, result.score) == ("loose", 110)
    strict = next(c for c in result.candidates if c.example.name == "strict")
    assert strict.score == 90
    per_request = run(build.collection(collection.examples[1]), "GET /search?q=dune&page=2&x-mock-match-request-query=contains")
    assert per_request.score == 110


def test_contains_asked_for_per_mock_and_switched_back_per_request(build):
    collection = build.collection(build.example("POST /login", "ok", body="ok", request_body='{"user": "ann"}'))
    loose = MockConfig(match_body=True, match_body_contains=True)
    sent = {"content-type": JSON}
    assert run(collection, "POST /login", sent, '{"user": "ann", "pw": "x"}', loose).winner is not None
    assert run(collection, "POST /login", sent, '{"user": "ann", "pw": "x"}', MockConfig(match_body=True)).winner is None
    sent["x-mock-match-request-body"] = "true"  # the request's own switch wins over the mock's
    assert run(collection, "POST /login", sent, '{"user": "ann", "pw": "x"}', loose).winner is None
