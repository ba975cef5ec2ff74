"""The matching engine (postmock_nb.matching, postmock_nb.core.paths): one table per rule.

Every rule of the module docstring of ``matching.py`` and every :class:`PathRule` has a
table here, then the exact scores postman-local-mock-server's own tests give for its fixture
collections (``tests/data/postman-local-mock-server/``, MIT),
then a property: the pruned search picks the same winner as scoring every example.
"""

from __future__ import annotations

import json

import pytest

from postmock_nb.config import MockConfig
from postmock_nb.core.bodies import bodies_equal
from postmock_nb.core.model import Collection
from postmock_nb.core.paths import PathRule, is_id_segment
from postmock_nb.formats.openapi import collection_from_openapi
from postmock_nb.matching import IncomingRequest, MatchResult, explain, match
from postmock_nb.matching.snapshot import Snapshot

UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
OBJECT_ID = "507f1f77bcf86cd799439011"


def run(collection: Collection, request: str, headers: dict[str, str] | None = None, body: str = "",
        settings: MockConfig = MockConfig()) -> MatchResult:
    """``run(collection, "GET /users?x=1")``."""
    method, _, url = request.partition(" ")
    return match(Snapshot(collection), IncomingRequest.build(method, url, headers, body), settings)


def describe(result: MatchResult) -> str:
    """The whole outcome, for assertion messages: the request, the winner, every candidate."""
    request = result.request
    winner = f"{result.winner.name!r} ({result.score})" if result.winner else f"no winner ({result.error})"
    lines = [f"{request.method} {request.url} headers={dict(request.headers)} → {winner}"]
    lines += [f"  candidate {c.example.describe()} score={c.score} rule={c.path_rule} lost={c.lost!r}"
              for c in result.candidates]
    return "\n".join(lines)


def winner_name(result: MatchResult) -> str | None:
    return result.winner.name if result.winner else None


# -- 1. method filter ---------------------------------------------------------------------------


@pytest.mark.parametrize("method, expected", [
    ("GET", "get things"),
    ("POST", "post things"),
    ("DELETE", "delete things"),
    ("PUT", None),
    ("PATCH", None),
    ("OPTIONS", None),
    ("HEAD", "get things"),  # no HEAD example at all: HEAD is answered like GET
])
def test_method_filter(build, method, expected):
    collection = build.collection(build.example("GET /things", "get things"),
                                  build.example("POST /things", "post things"),
                                  build.example("DELETE /things", "delete things"))
    result = run(collection, f"{method} /things")
    assert winner_name(result) == expected, describe(result)
    if expected is None:
        assert result.error == f"no example for method {method}", describe(result)


@pytest.mark.parametrize("request_line, expected, searched", [
    ("HEAD /head", "HEAD head", "HEAD"),         # a HEAD example of this path wins over its GET one
    ("HEAD /get", "GET get", "GET"),             # no HEAD example fits /get: answered like GET
    ("HEAD /nothing", None, "GET"),
    ("GET /head", "GET head", "GET"),
])
def test_head_falls_back_to_get_per_path(build, request_line, expected, searched):
    collection = build.collection(build.example("GET /get", "GET get"), build.example("GET /head", "GET head"),
                                  build.example("HEAD /head", "HEAD head"))
    result = run(collection, request_line)
    assert winner_name(result) == expected, describe(result)
    assert result.method == searched, describe(result)


def test_head_fallback_in_the_fixture_with_a_head_example(load_fixture):
    """all-request-types.json has a HEAD example for /head only; HEAD /get must still be served."""
    result = run(load_fixture("all-request-types.json"), "HEAD /get")
    assert result.winner is not None and result.winner.request.method == "GET", describe(result)
    explained = {c.example.id: c for c in explain(result)}
    head_example = next(c for c in explained.values() if c.example.request.method == "HEAD")
    assert head_example.score is None and "path" in head_example.lost, head_example.lost


# -- 2. path rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("example_path, request_path, variables, rule, score, captured", [
    ("/users", "/users", {}, PathRule.EXACT, 100, {}),
    ("/", "/", {}, PathRule.EXACT, 100, {}),
    ("/users/john%20doe", "/users/john%20doe", {}, PathRule.EXACT, 100, {}),   # both sides decoded
    ("/users/john doe", "/users/john%20doe", {}, PathRule.EXACT, 100, {}),
    ("/users", "/users/", {}, PathRule.TRAILING_SLASH, 95, {}),
    ("/users/", "/users", {}, PathRule.TRAILING_SLASH, 95, {}),
    ("/Users", "/users", {}, PathRule.CASE, 90, {}),
    ("/users", "/USERS", {}, PathRule.CASE, 90, {}),
    ("/Users/", "/users", {}, PathRule.TRAILING_SLASH_AND_CASE, 85, {}),
    ("/users", "/USERS/", {}, PathRule.TRAILING_SLASH_AND_CASE, 85, {}),
    ("/users/:id", "/users/7", {}, PathRule.WILDCARD, 80, {"id": "7"}),
    ("/users/:id", "/users/carol", {}, PathRule.WILDCARD, 80, {"id": "carol"}),
    ("/users/:id", "/users/7/", {}, PathRule.WILDCARD, 80, {"id": "7"}),
    ("/users/{{userId}}", "/users/abc", {}, PathRule.WILDCARD, 80, {"userId": "abc"}),
    ("/users/:id/orders/:orderId", "/users/7/orders/x1", {}, PathRule.WILDCARD, 80, {"id": "7", "orderId": "x1"}),
    ("/users/{{userId}}", "/users/7", {"userId": "7"}, PathRule.EXACT, 100, {}),  # defined: not a wildcard
    ("/{{version}}/users", "/v2/users", {"version": "v2"}, PathRule.EXACT, 100, {}),
    ("/users/10", "/users/20", {}, PathRule.IDS, 79, {}),
    ("/users/10", f"/users/{UUID}", {}, PathRule.IDS, 79, {}),
    (f"/users/{UUID}", "/users/10", {}, PathRule.IDS, 79, {}),
    ("/users/10", f"/users/{OBJECT_ID}", {}, PathRule.IDS, 79, {}),
    ("/users/10", "/users/" + "x" * 300, {}, PathRule.IDS, 79, {}),
    ("/users/10/orders", "/users/99/orders", {}, PathRule.IDS, 79, {}),
    ("/Users/10", "/users/20", {}, PathRule.IDS, 79, {}),  # ID stripping also ignores case
    ("/users/10/", "/users/20", {}, PathRule.TRAILING_SLASH_AND_IDS, 75, {}),
    ("/users/10", "/users/20/", {}, PathRule.TRAILING_SLASH_AND_IDS, 75, {}),
    ("/employees/carolyne", "/employees/caroline", {}, PathRule.DISTANCE, 70, {}),
    ("/documents/my-document", "/documents/my-documents", {}, PathRule.DISTANCE, 70, {}),
    # issue 19: the loose rules capture variables as the strict ones do (case ignored: its own rule)
    ("/users/:id", "/USERS/7", {}, PathRule.WILDCARD_AND_CASE, 74, {"id": "7"}),
    ("/greet/:name", "/GREET/Ann/", {}, PathRule.WILDCARD_AND_CASE, 74, {"name": "Ann"}),
    ("/Orders/{{orderId}}/lines", "/orders/A1/LINES", {}, PathRule.WILDCARD_AND_CASE, 74, {"orderId": "A1"}),
    ("/users/:id", "/user/7", {}, PathRule.DISTANCE, 70, {"id": "7"}),
    # issue 23: matched on the segments as sent, each captured value decoded once
    ("/files/:name", "/files/a%2Fb", {}, PathRule.WILDCARD, 80, {"name": "a/b"}),
    ("/repos/:owner/:repo/git/ref/:ref", "/repos/octo/hello/git/ref/heads%2Ffeature-a", {}, PathRule.WILDCARD, 80,
     {"owner": "octo", "repo": "hello", "ref": "heads/feature-a"}),
    ("/v2/:name/blobs/:digest", "/v2/test%2Fbash/blobs/sha256:abc", {}, PathRule.WILDCARD, 80,
     {"name": "test/bash", "digest": "sha256:abc"}),
    ("/files/:name", "/files/a%252Fb", {}, PathRule.WILDCARD, 80, {"name": "a%2Fb"}),  # double-encoded: once
    ("/files/a%2Fb", "/files/a%2Fb", {}, PathRule.EXACT, 100, {}),  # an encoded slash in a literal segment
    ("/files/a%2Fb", "/files/a%2fb", {}, PathRule.EXACT, 100, {}),
    ("/files/a%2Fb", "/FILES/A%2FB", {}, PathRule.CASE, 90, {}),
    ("/caf%C3%A9", "/café", {}, PathRule.EXACT, 100, {}),
    ("/café", "/caf%C3%A9", {}, PathRule.EXACT, 100, {}),
])
def test_path_rule(build, example_path, request_path, variables, rule, score, captured):
    collection = build.collection(build.example(f"GET {example_path}", "the example"), variables=variables)
    result = run(collection, f"GET {request_path}")
    assert result.winner is not None, f"{example_path} should match {request_path} by {rule}\n{describe(result)}"
    candidate = result.winner_candidate
    assert (candidate.path_rule, result.score) == (rule, score), describe(result)
    assert result.captured == captured, describe(result)
    path_check = candidate.checks[0]
    assert (path_check.part, path_check.points, path_check.note) == ("path", -rule.penalty, rule.label)


@pytest.mark.parametrize("example_path, request_path", [
    ("/users/10", "/users/carol"),          # "carol" is not an ID
    ("/users", "/orders"),
    ("/users/:id", "/users/7/orders"),      # a wildcard is one whole segment
    ("/users/:id", "/users"),
    ("/users/{{userId}}", "/users/8"),      # userId is defined ("seven"): not a wildcard
    ("/employees/carolyne", "/employees/johnson"),
    ("/users/abcdefgh", "/users/zzzzzzzz"),  # letters only: neither ID nor near
    ("/users/deadbeefdeadbeef", "/users/cafebabecafebabe"),  # long hex without a digit is a word
    ("/files/:name", "/files/a/b"),         # a real slash: two segments (issue 23)
    ("/files/a%2Fb", "/files/a/b"),         # an encoded slash is not a slash
    ("/files/a/b", "/files/a%2Fb"),
])
def test_path_does_not_match(build, example_path, request_path):
    collection = build.collection(build.example(f"GET {example_path}", "the example"), variables={"userId": "seven"})
    result = run(collection, f"GET {request_path}")
    assert result.winner is None, f"{example_path} must not match {request_path}\n{describe(result)}"


@pytest.mark.parametrize("segment, expected", [
    ("123", True),
    ("0", True),
    (UUID, True),
    (UUID.upper(), True),
    (OBJECT_ID, True),
    ("a" * 256, True),
    ("a" * 300, True),
    ("a" * 255, False),
    ("carol", False),
    ("v1", False),
    ("12ab", False),                         # hex, but short
    ("deadbeefdeadbeef", False),             # long hex, but no digit: a word
    ("", False),
])
def test_is_id_segment(segment, expected):
    assert is_id_segment(segment) is expected, f"is_id_segment({segment[:40]!r}{'…' if len(segment) > 40 else ''})"


LADDER = [  # (example path, rule it fits /users/7 by, score): strictest first
    ("/users/7", PathRule.EXACT, 100),
    ("/users/7/", PathRule.TRAILING_SLASH, 95),
    ("/USERS/7", PathRule.CASE, 90),
    ("/USERS/7/", PathRule.TRAILING_SLASH_AND_CASE, 85),
    ("/users/:id", PathRule.WILDCARD, 80),
    ("/users/8", PathRule.IDS, 79),
    ("/users/8/", PathRule.TRAILING_SLASH_AND_IDS, 75),
    ("/userz/7", PathRule.DISTANCE, 70),
]


@pytest.mark.parametrize("strictest", range(len(LADDER)), ids=[rule.name for _, rule, _ in LADDER])
def test_path_rules_are_tried_in_order(build, strictest):
    """The strictest rule that fits wins even though its example is defined last."""
    examples = [build.example(f"GET {path}", rule.name) for path, rule, _ in reversed(LADDER[strictest:])]
    result = run(build.collection(*examples), "GET /users/7")
    _, rule, score = LADDER[strictest]
    assert (winner_name(result), result.score) == (rule.name, score), describe(result)


def test_edit_distance_is_a_last_resort(build):
    """A near path is tried only when no stricter rule fits, even if it would score higher."""
    near = build.example("GET /employes/carolyne?q=1", "near, better query")
    wildcard = build.example("GET /employees/:name", "wildcard")
    result = run(build.collection(near, wildcard), "GET /employees/carolyne?q=1")
    assert (winner_name(result), result.score) == ("wildcard", 70), describe(result)
    explained = {c.example.name: c for c in explain(result)}
    assert explained["near, better query"].score == 80
    assert "edit distance is tried only when no stricter path rule fits" in explained["near, better query"].lost

    alone = run(build.collection(near), "GET /employees/carolyne?q=1")
    assert (winner_name(alone), alone.score, alone.winner_candidate.path_rule) == (
        "near, better query", 80, PathRule.DISTANCE), describe(alone)


# -- 3. query parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("example_query, request_query, variables, score, note", [
    ("a=1", "a=1", {}, 110, "equal"),
    ("a=1&b=2", "b=2&a=1", {}, 120, "equal"),
    ("a=Fred", "a=fred", {}, 105, "equal ignoring case"),
    ("a=", "a=anything", {}, 105, "any value accepted"),
    ("a={{undefinedVar}}", "a=anything", {}, 105, "any value accepted"),
    ("a={{v}}", "a=1", {"v": "1"}, 110, "equal"),         # a defined variable is resolved, not a wildcard
    ("a={{v}}", "a=2", {"v": "1"}, 95, "different value"),
    ("a=Fred", "a=John", {}, 95, "different value"),
    ("a=1", "", {}, 90, "missing from the request"),
    ("", "b=2", {}, 90, "not in the example"),
    ("a=1", "a=1&b=2", {}, 100, "not in the example"),
    ("a=1&a=2", "a=2&a=1", {}, 110, "equal"),             # multi-valued: order does not count
    ("a=1&a=2", "a=1", {}, 95, "different value"),
    ("q=hello%20world", "q=hello+world", {}, 110, "equal"),  # both sides decoded
    ("q=a+b", "q=a+b", {}, 110, "equal"),                   # the same URL matches itself
    ("p=1%2B1&q=a%26b", "q=a%26b&p=1%2B1", {}, 120, "equal"),
])
def test_query_scoring(build, example_query, request_query, variables, score, note):
    example_url = "/search" + (f"?{example_query}" if example_query else "")
    request_url = "/search" + (f"?{request_query}" if request_query else "")
    collection = build.collection(build.example(f"GET {example_url}", "search"), variables=variables)
    result = run(collection, f"GET {request_url}")
    assert result.score == score, describe(result)
    notes = [c.note for c in result.winner_candidate.checks if c.part == "query"]
    assert note in notes, f"{example_url} vs {request_url}: query checks {notes}"


def test_query_decides_between_examples_of_one_path(build):
    collection = build.collection(build.example("GET /users", "all"),
                                  build.example("GET /users?role=admin", "admins"),
                                  build.example("GET /users?role=guest", "guests"))
    assert winner_name(run(collection, "GET /users?role=guest")) == "guests"
    assert winner_name(run(collection, "GET /users?role=admin")) == "admins"
    assert winner_name(run(collection, "GET /users")) == "all"
    # unknown value: -5 for admins/guests (95) beats -10 for "all" (90)
    result = run(collection, "GET /users?role=owner")
    assert (winner_name(result), result.score) == ("admins", 95), describe(result)


# -- 4. selectors: x-mock-response-code / -id / -name (headers or query parameters) ------------


@pytest.fixture
def orders(build) -> Collection:
    """GET /orders with four statuses, and other requests sharing example names."""
    return build.collection(
        build.example("GET /users", "Special", body="users special"),   # another request, defined first
        build.example("GET /orders", "OK", body="ok"),
        build.example("GET /orders", "Missing", status=404, body="missing 1"),
        build.example("GET /orders", "Also missing", status=404, body="missing 2"),
        build.example("GET /orders", "Boom", status=500, body="boom"),
        build.example("POST /orders", "Created", status=201, body="created"),
        build.example("GET /shared", "Shared", body="shared first"),
        build.example("GET /orders", "Shared", body="orders shared"),
        build.example("GET /orders", "Dup", body="dup first"),
        build.example("GET /orders", "Dup", body="dup second"),
    )


@pytest.mark.parametrize("via", ["header", "query"])
@pytest.mark.parametrize("selector, value, expected_body", [
    ("x-mock-response-code", "404", "missing 1"),        # first defined among the 404s
    ("x-mock-response-code", "500", "boom"),
    ("x-mock-response-code", "200", "ok"),
    ("x-mock-response-name", "Boom", "boom"),
    ("x-mock-response-name", "Also missing", "missing 2"),
    ("x-mock-response-name", "Shared", "orders shared"),  # never the same-named example of GET /shared
    ("x-mock-response-name", "Dup", "dup first"),         # names repeat: the first defined wins
])
def test_selectors(orders, via, selector, value, expected_body):
    if via == "header":
        result = run(orders, "GET /orders", {selector: value})
    else:
        result = run(orders, f"GET /orders?{selector}={value.replace(' ', '%20')}")
    assert result.winner is not None and result.winner.response.body == expected_body, describe(result)
    assert result.winner.request.path == "/orders", describe(result)
    assert result.score == 100, f"a selector query parameter must not count as a query parameter\n{describe(result)}"


def test_selector_by_id(orders):
    boom = next(e for e in orders.examples if e.name == "Boom")
    result = run(orders, "GET /orders", {"x-mock-response-id": boom.id})
    assert result.winner is boom, describe(result)
    assert result.selector == f"x-mock-response-id: {boom.id}"
    losers = [c.lost for c in result.candidates[1:]]
    assert all(lost == f"x-mock-response-id: {boom.id} picked 'Boom'" for lost in losers), losers


def test_selector_by_id_of_another_request_is_an_error(orders):
    created = next(e for e in orders.examples if e.name == "Created")
    result = run(orders, "GET /orders", {"x-mock-response-id": created.id})
    assert result.winner is None, describe(result)
    assert result.error.startswith(f"no example with id {created.id!r} for GET /orders"), result.error


@pytest.mark.parametrize("name", [
    "Special",   # an example of GET /users only
    "Created",   # an example of POST /orders only (same path, other method)
    "Nope",      # nobody's
    "boom",      # names are case-sensitive
])
def test_unknown_name_for_this_request_is_an_error(orders, name):
    result = run(orders, "GET /orders", {"x-mock-response-name": name})
    assert result.winner is None, f"x-mock-response-name {name!r} must not pick another request's example\n{describe(result)}"
    assert result.error == (f"no example with name {name!r} for GET /orders (examples for this path: 'Also missing', "
                            f"'Boom', 'Dup', 'Missing', 'OK', 'Shared')"), result.error
    assert all(c.lost == f"name is {c.example.name!r}, not {name!r}" for c in result.candidates), describe(result)


def test_same_name_in_two_requests_each_gets_its_own(orders):
    shared = run(orders, "GET /shared", {"x-mock-response-name": "Shared"})
    assert shared.winner.response.body == "shared first", describe(shared)
    users = run(orders, "GET /users", {"x-mock-response-name": "Special"})
    assert users.winner.response.body == "users special", describe(users)


def test_same_name_prefers_the_example_whose_path_fits_best(build):
    """/users/:id also fits /users/me, but naming "Success" must not swap /users/me's example for it."""
    collection = build.collection(build.example("GET /users/:id", "Success", body="any user"),
                                  build.example("GET /users/me", "Success", body="me"))
    plain = run(collection, "GET /users/me")
    named = run(collection, "GET /users/me", {"x-mock-response-name": "Success"})
    assert plain.winner.response.body == named.winner.response.body == "me", f"{describe(plain)}\n{describe(named)}"
    other = run(collection, "GET /users/7", {"x-mock-response-name": "Success"})
    assert other.winner.response.body == "any user", describe(other)


def test_name_repeats_loser_is_told(orders):
    result = run(orders, "GET /orders", {"x-mock-response-name": "Dup"})
    second = next(c for c in result.candidates if c.example.response.body == "dup second")
    assert second.lost == "x-mock-response-name: Dup picked 'Dup'", second.lost


def test_code_selector_with_no_such_status(orders):
    result = run(orders, "GET /orders", {"x-mock-response-code": "418"})
    assert result.winner is None, describe(result)
    assert result.error == "every example for this path was ruled out"
    assert all(c.lost == "selector x-mock-response-code: another status was asked for" for c in result.candidates)


def test_code_and_name_together(orders):
    result = run(orders, "GET /orders", {"x-mock-response-code": "404", "x-mock-response-name": "Also missing"})
    assert result.winner.response.body == "missing 2", describe(result)
    result = run(orders, "GET /orders", {"x-mock-response-code": "404", "x-mock-response-name": "Boom"})
    assert result.winner is None, describe(result)


def test_header_selector_overrides_query_selector(orders):
    result = run(orders, "GET /orders?x-mock-response-name=Boom", {"x-mock-response-name": "OK"})
    assert winner_name(result) == "OK", describe(result)


def test_selector_name_matching_is_case_insensitive_for_the_query_key(orders):
    result = run(orders, "GET /orders?X-Mock-Response-Code=500")
    assert winner_name(result) == "Boom", describe(result)


# -- 5. headers and body ------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["request header", "query parameter", "mock settings"])
@pytest.mark.parametrize("name_header, expected, score", [
    ("Fred", "Match Header Name", 105),              # "" in the example: any value (+5)
    ("John", "Match Header Name & Value", 110),      # equal value (+10) beats any value
    ("john", "Match Header Name", 105),              # equal ignoring case (+5) ties with any value: the first defined
    (None, None, None),                              # missing from the request: everyone drops out
])
def test_header_matching_on_the_scoring_fixture(load_fixture, how, name_header, expected, score):
    headers = {"name": name_header} if name_header is not None else {}
    if how == "mock settings" and name_header is None:
        # asked for by the mock only: the examples that do not set it either are not ruled out
        expected, score = "Success", 100
    url, settings = "GET /get", MockConfig()
    if how == "request header":
        headers["X-Mock-Match-Request-Headers"] = "Name"   # header names are not case-sensitive
    elif how == "query parameter":
        url += "?x-mock-match-request-headers=name"
    else:
        settings = MockConfig(match_headers=("Name",))
    result = run(load_fixture("test-scoring-collection.json"), url, headers, settings=settings)
    assert (winner_name(result), result.score) == (expected, score), describe(result)
    if expected is None:
        assert result.error == "every example for this path was ruled out"
        assert all(c.lost.startswith("header name:") for c in result.candidates), describe(result)
    elif name_header is None:
        dropped = {c.example.name for c in result.candidates if c.dropped}
        assert dropped == {"Match Header Name", "Match Header Name & Value"}, describe(result)


def test_several_headers_must_all_match(build):
    collection = build.collection(
        build.example("GET /me", "tenant a", request_headers={"X-Tenant": "a", "Accept": "application/json"}),
        build.example("GET /me", "tenant b", request_headers={"X-Tenant": "b", "Accept": "application/json"}))
    switch = {"x-mock-match-request-headers": "x-tenant, accept"}
    result = run(collection, "GET /me", {**switch, "X-Tenant": "b", "Accept": "application/json"})
    assert (winner_name(result), result.score) == ("tenant b", 120), describe(result)
    result = run(collection, "GET /me", {**switch, "X-Tenant": "b", "Accept": "text/html"})
    assert result.winner is None, describe(result)
    # switched off, headers do not count and the first defined wins
    assert winner_name(run(collection, "GET /me", {"X-Tenant": "b"})) == "tenant a"


@pytest.mark.parametrize("expected_body, actual_body, content_type, equal", [
    ('{"a": 1, "b": [1, 2]}', '{"b":[1,2],"a":1}', "application/json", True),
    ('{"a": 1}', '{ "a" : 1 }', "application/json; charset=utf-8", True),
    ('{"a": 1}', '{"a": 1}', "application/vnd.api+json", True),
    ('{"a": {"x": 1, "y": 2}}', '{"a": {"y": 2, "x": 1}}', "", True),   # no Content-Type: the body says JSON
    ('{"a": 1}', '{"a": 2}', "application/json", False),
    ('{"a": 1}', '{"a": "1"}', "application/json", False),
    ('[1, 2]', '[2, 1]', "application/json", False),                    # list order counts
    ("a=1&b=2", "b=2&a=1", "application/x-www-form-urlencoded", True),
    ("name=John+Smith", "name=John%20Smith", "application/x-www-form-urlencoded", True),
    ("a=1&b=2", "a=1&b=3", "application/x-www-form-urlencoded", False),
    ("<a><b>1</b><c/></a>", "<a>\n  <b>1</b>\n  <c></c>\n</a>\n", "application/xml", True),
    ('<?xml version="1.0"?>\n<a x="1" y="2"><b> 1 </b></a>', '<a y="2" x="1"><b>1</b></a>', "text/xml", True),
    ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Get id="7"/></s:Body></s:Envelope>',
     '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">\n <s:Body>\n  <Get id="7"/>\n </s:Body>\n</s:Envelope>',
     "application/soap+xml; charset=utf-8", True),
    ("<a><b>1</b></a>", "<a><b>2</b></a>", "application/xml", False),
    ("hello world", "  hello world\n", "text/plain", True),
    ("hello world", "Hello world", "text/plain", False),
    ('{"a": 1}', '{"b":1,"a":1}', "text/plain", False),                 # declared text: compared as text
])
def test_bodies_equal(expected_body, actual_body, content_type, equal):
    assert bodies_equal(expected_body, actual_body, content_type) is equal, \
        f"example body {expected_body!r} vs request body {actual_body!r} ({content_type or 'no Content-Type'})"


@pytest.mark.parametrize("body, content_type, expected", [
    ('{"text": "Jumped Over The", "number": 2}', "application/json", "Alternate Response 2"),
    ('{\n "number": 3, "text": "Lazy Dog"}', "application/json; charset=utf-8", "Alternate Response 3"),
    ('{"number": 1, "text": "Quick Brown Fox"}', "application/json", "Default Response"),
    ('{"number": 999, "text": "Fred"}', "application/json", None),
])
@pytest.mark.parametrize("how", ["request header", "query parameter", "mock settings"])
def test_body_matching_on_the_fixture(load_fixture, body, content_type, expected, how):
    headers, url, settings = {"Content-Type": content_type}, "POST /post", MockConfig()
    if how == "request header":
        headers["x-mock-match-request-body"] = "true"
    elif how == "query parameter":
        url += "?x-mock-match-request-body=true"
    else:
        settings = MockConfig(match_body=True)
    result = run(load_fixture("test-collection.json"), url, headers, body, settings)
    assert winner_name(result) == expected, describe(result)
    if expected is None:  # field by field: {"number": 999, "text": "Fred"} differs from each example in both
        for candidate in result.candidates:
            wanted = json.loads(candidate.example.request.body)
            rows = {c.name: c.note for c in candidate.checks if c.part == "body"}
            assert rows == {"$.number": f"expected {wanted['number']}, got 999",
                            "$.text": f'expected "{wanted["text"]}", got "Fred"'}, describe(result)
            assert candidate.lost.endswith("(and 1 more)"), candidate.lost


def test_body_matching_off_by_default_and_switchable_off(load_fixture):
    body = '{"number": 2, "text": "Jumped Over The"}'
    collection = load_fixture("test-collection.json")
    assert winner_name(run(collection, "POST /post", {"content-type": "application/json"}, body)) == "Default Response"
    result = run(collection, "POST /post", {"x-mock-match-request-body": "false"}, body, MockConfig(match_body=True))
    assert winner_name(result) == "Default Response", describe(result)


def test_form_and_xml_and_text_bodies_select_examples(build):
    collection = build.collection(
        build.example("POST /login", "form ok", request_body="user=ann&pass=x"),
        build.example("POST /soap", "soap get", request_body="<Envelope><Body><Get id='7'/></Body></Envelope>"),
        build.example("POST /soap", "soap put", request_body="<Envelope><Body><Put id='7'/></Body></Envelope>"),
        build.example("POST /echo", "text hi", request_body="hi"),
        build.example("POST /echo", "text bye", request_body="bye"))
    on = {"x-mock-match-request-body": "true"}
    form = run(collection, "POST /login", {**on, "content-type": "application/x-www-form-urlencoded"}, "pass=x&user=ann")
    assert winner_name(form) == "form ok", describe(form)
    soap = run(collection, "POST /soap", {**on, "content-type": "text/xml"},
               '<Envelope>\n  <Body>\n    <Put id="7"/>\n  </Body>\n</Envelope>')
    assert winner_name(soap) == "soap put", describe(soap)
    text = run(collection, "POST /echo", {**on, "content-type": "text/plain"}, "bye\n")
    assert winner_name(text) == "text bye", describe(text)


# -- 6. winner and ties -------------------------------------------------------------------------


@pytest.mark.parametrize("first, second", [("Alpha", "Beta"), ("Beta", "Alpha")])
def test_tie_goes_to_the_example_defined_first(build, first, second):
    # ids chosen so that breaking ties by id (as Postman does) would pick the other one
    collection = build.collection(build.example("GET /tie", first, id="zzzz"), build.example("GET /tie", second, id="aaaa"))
    result = run(collection, "GET /tie")
    assert winner_name(result) == first, describe(result)
    assert result.candidates[1].lost == f"tie at 100: {first!r} is defined earlier", describe(result)


def test_candidates_say_why_they_lost(build):
    collection = build.collection(
        build.example("GET /items?page=2", "page two"),
        build.example("GET /items?page=1", "page one"),
        build.example("GET /items", "any page"),
        build.example("GET /items", "admin only", request_headers={"x-role": "admin"}),
        build.example("GET /items/", "slash"),
        build.example("POST /items", "create"))
    result = run(collection, "GET /items?page=1", {"x-role": "guest", "x-mock-match-request-headers": "x-role"})
    assert winner_name(result) is None, describe(result)  # nothing sets x-role but "admin only", which differs
    result = run(collection, "GET /items?page=1")
    assert (winner_name(result), result.score) == ("page one", 110), describe(result)
    lost = {c.example.name: c.lost for c in result.candidates}
    assert lost == {"page one": "", "page two": "score 95 < 110", "any page": "score 90 < 110",
                    "admin only": "score 90 < 110"}, describe(result)
    assert result.pruned == 1  # "/items/" (at most 95 + 10) cannot beat 110: never scored
    explained = {c.example.name: c.lost for c in explain(result)}
    assert explained["slash"] == "score 85 < 110 (skipped: could not win)", explained
    assert explained["create"] == "method: POST expected", explained


def test_no_match_errors(build):
    collection = build.collection(build.example("GET /a", "a"))
    result = run(collection, "GET /b")
    assert (result.winner, result.error, result.candidates) == (None, "no example for this method and path", [])
    assert run(Collection(), "GET /").error == "no example for method GET"


# -- 7. pruning gives the same answer as scoring everything -------------------------------------


def reference_winner(result: MatchResult) -> tuple[str | None, int | None]:
    """The winner by the rules, from ``explain()`` (every example scored, no shortcut).

    Method must fit; edit distance counts only when no stricter rule fits any example;
    highest score wins, ties to the example defined first.
    """
    fitting = [c for c in explain(result)
               if c.path_rule is not None and not any(ch.part == "method" and not ch.ok for ch in c.checks)]
    strict = [c for c in fitting if c.path_rule is not PathRule.DISTANCE]
    pool = [c for c in (strict or fitting) if c.score is not None]
    if not pool:
        return None, None
    best = min(pool, key=lambda c: (-c.score, c.order))
    return best.example.id, best.score


def request_variants(collection: Collection) -> list[tuple[str, str]]:
    """Requests near every example: its own URL, and with a slash, other case, another ID, other query."""
    requests: list[tuple[str, str]] = []
    for compiled in Snapshot(collection).examples:
        path = "/" + "/".join("x1" if name else segment
                              for segment, name in zip(compiled.path.segments, compiled.path.wildcards))
        query = "&".join(f"{k}={v}" for k, v in compiled.query)
        method = compiled.method
        requests += [(method, path), (method, path + "/"), (method, path.upper()), ("HEAD", path),
                     (method, path.rsplit("/", 1)[0] + "/999"), (method, path + "?zz=1")]
        if query:
            requests += [(method, f"{path}?{query}"), (method, f"{path}?{query}&extra=1"),
                         (method, f"{path}?{compiled.query[0][0]}=other")]
    return list(dict.fromkeys(requests))


PROPERTY_FIXTURES = ["test-scoring-collection.json", "test-collection.json", "all-request-types.json",
                     "cache-tests.json", "strip-alpha-tests.json", "document-distance-tests.json",
                     "test-with-variables.json", "folder-tests.json"]


@pytest.mark.parametrize("fixture", PROPERTY_FIXTURES)
def test_pruned_match_equals_full_explanation(load_fixture, fixture):
    collection = load_fixture(fixture)
    snapshot = Snapshot(collection)
    checked = 0
    for method, url in request_variants(collection):
        result = match(snapshot, IncomingRequest.build(method, url))
        winner = (result.winner.id if result.winner else None, result.score)
        assert winner == reference_winner(result), f"{fixture}: pruning changed the answer\n{describe(result)}"
        assert sorted(c.example.id for c in explain(result)) == sorted(e.id for e in collection.examples)
        checked += 1
    assert checked >= len(collection.examples)


def test_pruned_match_equals_full_explanation_on_the_ladder(build):
    examples = [build.example(f"GET {path}?q={i}", rule.name) for i, (path, rule, _) in enumerate(LADDER)]
    collection = build.collection(*reversed(examples))
    for url in ["/users/7", "/users/7?q=7", "/users/7?q=4&q=5", "/users/7/?q=6", "/USERS/7?q=3", "/users/9?q=0"]:
        result = run(collection, f"GET {url}")
        winner = (result.winner.id if result.winner else None, result.score)
        assert winner == reference_winner(result), describe(result)


def test_pruning_skips_work(build):
    examples = [build.example(f"GET /users/{n}", f"user {n}") for n in range(50)]
    result = run(build.collection(*examples), "GET /users/7")
    assert (winner_name(result), result.score) == ("user 7", 100), describe(result)
    assert result.pruned == 49 and len(result.candidates) == 1


def test_many_colliding_ids_stay_cheap_and_correct(build):
    """300 examples collide under ID stripping; with queries defeating the rule-level bound,
    examples that cannot win are skipped unscored, and the answer is still the full scoring's."""
    examples = [build.example(f"GET /items/{n}" + (f"?tag=t{n % 7}" if n % 3 == 0 else ""), f"item {n}")
                for n in range(300)]
    examples.insert(150, build.example("GET /items/:id?tag=t3&page=2", "variable with query"))
    collection = build.collection(*examples)
    for url in ["/items/99999", "/items/99999?tag=t3", "/items/99999?tag=t3&page=2", "/items/42?zz=1",
                "/items/99999?tag=t5&x=1"]:
        result = run(collection, f"GET {url}")
        winner = (result.winner.id if result.winner else None, result.score)
        assert winner == reference_winner(result), describe(result)
        assert len(result.candidates) <= 60, f"{url}: {len(result.candidates)} scored, the bound should skip most"


# -- 8. the scores of postman-local-mock-server's own tests, on its fixtures ---------------------


@pytest.mark.parametrize("url, headers, expected, score", [
    ("/get", {}, "Success", 100),
    ("/get/", {}, "Success", 95),
    ("/Get", {}, "Success", 90),
    ("/get?name=Fred", {}, "Match Query Param & Path", 95),
    ("/get?name=John", {}, "Match Query Param & Path", 110),
    ("/get", {"x-mock-match-request-headers": "name", "name": "Fred"}, "Match Header Name", 105),
])
def test_scoring_collection_facts(load_fixture, url, headers, expected, score):
    result = run(load_fixture("test-scoring-collection.json"), f"GET {url}", headers)
    assert (winner_name(result), result.score) == (expected, score), describe(result)


LONG_ID = "1234567890" * 30


@pytest.mark.parametrize("fixture, request_line, headers, expected, score", [
    ("strip-alpha-tests.json", "GET /users/123", {}, "Get by ID", 79),
    ("strip-alpha-tests.json", "GET /users/13debaf5-53ed-4a85-8ee3-d47258ce1078", {}, "Get by ID", 79),
    ("strip-alpha-tests.json", f"GET /users/{LONG_ID}", {}, "Get by ID", 79),
    ("strip-alpha-tests.json", f"GET /users/{'z' * 300}", {}, "Get by ID", 79),
    ("strip-alpha-tests.json", "GET /users/123/", {}, "Get by ID with trailing slash", 79),
    ("strip-alpha-tests.json", "GET /users/456", {}, "Get by ID", 100),
    ("strip-alpha-tests.json", "GET /users/carol", {}, None, None),
    ("document-distance-tests.json", "GET /employees/caroline", {}, "Near Match", 70),
    ("document-distance-tests.json", "GET /documents/my-document", {}, "Perfect Match", 100),
    ("document-distance-tests.json", "GET /employees/johnson", {}, "No Match", 100),
    ("document-distance-tests.json", "GET /employees/zzz", {}, None, None),
    ("wildcard-variables-test.json", "GET /users/fred", {}, "Get by name", 80),
    ("folder-tests.json", "GET /get/folder1", {}, "Folder 1 Response", 100),
    ("folder-tests.json", "GET /get/folder2", {}, "Folder 2 Response", 100),
    ("folder-tests.json", "GET /get?name=Jordan", {}, "No Folder Response", 110),
    ("test-collection-no-path.json", "GET /", {}, "No Path", 100),
    ("test-collection.json", "GET /get", {}, "Default Response", 90),
    ("test-collection.json", "GET /get", {"x-mock-response-name": "200 Different Name"}, "200 Different Name", 90),
    ("test-collection.json", "GET /get", {"x-mock-response-code": "201"}, "201 Created", 90),
    ("test-collection.json", "POST /post", {}, "Default Response", 100),
    ("test-with-variables.json", "GET /get?name=John", {}, "Query Variable", 110),
    ("test-with-variables.json", "GET /get", {"x-mock-match-request-headers": "name", "name": "Jane"},
     "Header Variable", 110),
    ("test-with-variables.json", "GET /get/777", {}, "Path Segment", 79),
    ("all-request-types.json", "OPTIONS /options", {}, "Success", 100),
])
def test_fixture_facts(load_fixture, fixture, request_line, headers, expected, score):
    result = run(load_fixture(fixture), request_line, headers)
    assert (winner_name(result), result.score) == (expected, score), f"{fixture}\n{describe(result)}"


def test_wildcard_fixture_captures_the_name(load_fixture):
    result = run(load_fixture("wildcard-variables-test.json"), "GET /users/fred")
    assert result.captured == {"name": "fred"}, describe(result)


def test_folders_are_kept_and_served(load_fixture):
    collection = load_fixture("folder-tests.json")
    folders = {item.name: item.folder for item in collection.items}
    assert folders == {"Folder 2 Request": ("Folder 1", "Folder 2"), "Folder 1 Request": ("Folder 1",), "No Folder": ()}


def test_collection_variables_resolve_in_query_header_and_body(load_fixture):
    """test-with-variables.json: {{name}} = John in the "All three" example's query, header and body."""
    collection = load_fixture("test-with-variables.json")
    compiled = next(c for c in Snapshot(collection).examples if c.item.name == "All three")
    assert (compiled.query, compiled.headers["name"]) == ((("name", "John"),), "John")
    assert '"name": "John"' in compiled.body
    switches = {"x-mock-match-request-headers": "name", "x-mock-match-request-body": "true",
                "content-type": "application/json"}
    result = run(collection, "POST /post?name=John", {**switches, "name": "John"}, '{"name": "John"}')
    assert (result.winner.name, result.score) == ("All three", 130), describe(result)
    assert result.winner_candidate.example.request.query == (("name", "{{name}}"),)  # kept as written
    result = run(collection, "POST /post?name=John", {**switches, "name": "{{name}}"}, '{"name": "John"}')
    assert result.winner is None, f"a literal {{{{name}}}} must not match the resolved value\n{describe(result)}"


# -- remembered decisions (MatchMemo): the same answer as a fresh search, or no memo at all ---------


def _memo_run(memo, snapshot: Snapshot, request: str, headers: dict[str, str] | None = None,
              body: str = "") -> MatchResult:
    method, _, url = request.partition(" ")
    incoming = IncomingRequest.build(method, url, headers, body)
    query_string = url.partition("?")[2].encode()
    selectors = any(k.lower().startswith("x-mock-") for k in (headers or {})) or b"x-mock-" in query_string.lower()
    return memo.match(snapshot, incoming, query_string, selectors=selectors)


def _same_decision(a: MatchResult, b: MatchResult) -> bool:
    return (a.winner, a.score, a.candidates, a.selector, a.error, a.pruned, a.method) == (
        b.winner, b.score, b.candidates, b.selector, b.error, b.pruned, b.method)


def test_a_remembered_decision_is_what_a_fresh_search_finds(build):
    from postmock_nb.matching import MatchMemo

    collection = build.collection(build.example("GET /items?page=1", "page one"),
                                  build.example("GET /items", "any page"),
                                  build.example("GET /items/:id", "one item"))
    snapshot, memo = Snapshot(collection), MatchMemo(MockConfig())
    for request in ("GET /items?page=1", "GET /items", "GET /items/7", "HEAD /items/7", "GET /items?page=2"):
        first = _memo_run(memo, snapshot, request, {"x-trace": "1"})
        again = _memo_run(memo, snapshot, request, {"x-trace": "2"})
        fresh = match(snapshot, again.request)
        assert _same_decision(again, fresh) and _same_decision(first, fresh), request
        assert again.request.headers == {"x-trace": "2"}, "the result carries the request it answers"
    assert len(memo) == 5
    assert _memo_run(memo, snapshot, "GET /items/7").captured == {"id": "7"}


def test_a_new_snapshot_forgets_the_decisions(build):
    from postmock_nb.matching import MatchMemo

    memo = MatchMemo(MockConfig())
    before = Snapshot(build.collection(build.example("GET /items/:id", "one item")))
    assert winner_name(_memo_run(memo, before, "GET /items/7")) == "one item"
    after = Snapshot(build.collection(build.example("GET /items/:id", "one item"),
                                      build.example("GET /items/7", "item seven")))
    assert winner_name(_memo_run(memo, after, "GET /items/7")) == "item seven"


def test_misses_and_long_request_lines_are_not_remembered(build):
    from postmock_nb.matching import MatchMemo
    from postmock_nb.matching.memo import MAX_LINE

    memo = MatchMemo(MockConfig())
    snapshot = Snapshot(build.collection(build.example("GET /items/:id", "one item")))
    assert winner_name(_memo_run(memo, snapshot, "GET /nothing/here")) is None
    assert winner_name(_memo_run(memo, snapshot, "GET /items/" + "7" * MAX_LINE)) == "one item"
    assert len(memo) == 0


@pytest.mark.parametrize("case", ["selector header", "selector in the query", "mock matches headers",
                                  "an example matches headers", "an example matches the body"])
def test_what_reads_headers_or_body_is_searched_every_time(build, case):
    """Whenever the answer may depend on headers or body, nothing is remembered and each request decides."""
    from postmock_nb.matching import MatchMemo

    examples = [build.example("GET /items", "admin", request_headers={"x-role": "admin"}),
                build.example("GET /items", "guest", request_headers={"x-role": "guest"})]
    settings = MockConfig()
    send: dict[str, str] = {}
    url = "GET /items"
    if case == "selector header":
        send = {"x-mock-match-request-headers": "x-role"}
    elif case == "selector in the query":
        url += "?x-mock-match-request-headers=x-role"
    elif case == "mock matches headers":
        settings = MockConfig(match_headers=("x-role",))
    elif case == "an example matches headers":
        examples = [build.example("GET /items", "admin", request_headers={
                        "x-role": "admin", "x-mock-match-request-headers": "x-role"}),
                    build.example("GET /items", "guest", request_headers={
                        "x-role": "guest", "x-mock-match-request-headers": "x-role"})]
    else:
        examples = [build.example("POST /items", "admin", request_headers={"x-mock-match-request-body": "true"},
                                  request_body='{"role": "admin"}'),
                    build.example("POST /items", "guest", request_headers={"x-mock-match-request-body": "true"},
                                  request_body='{"role": "guest"}')]
    snapshot, memo = Snapshot(build.collection(*examples)), MatchMemo(settings)
    if case == "an example matches the body":
        names = [winner_name(_memo_run(memo, snapshot, "POST /items", {"content-type": "application/json"},
                                       json.dumps({"role": role}))) for role in ("guest", "admin", "guest")]
    else:
        names = [winner_name(_memo_run(memo, snapshot, url, send | {"x-role": role}))
                 for role in ("guest", "admin", "guest")]
    assert names == ["guest", "admin", "guest"] and len(memo) == 0


def test_the_memo_is_bounded_by_the_candidates_it_keeps(build):
    """Cache-busted request lines (``?_ts=N``) never fill the memory: every decision keeps all its candidates."""
    from postmock_nb.matching import MatchMemo

    snapshot = Snapshot(build.collection(*[build.example(f"GET /products?category=c{n}", f"c{n}") for n in range(20)]))
    memo = MatchMemo(MockConfig(), max_candidates=100)
    for n in range(50):
        result = _memo_run(memo, snapshot, f"GET /products?category=c{n % 20}&_ts={n}")
        assert winner_name(result) == f"c{n % 20}" and len(result.candidates) == 20
        assert memo.kept_candidates <= 100 and len(memo) <= 5
    assert len(memo) >= 1


def test_distance_never_picks_a_handler_or_resource_and_the_markers_agree(build) -> None:
    """Issue 19: a handler's or resource's example answers only a path fitting its route; edit distance
    rules it out with the reason, even when a selector names it."""
    from postmock_nb.core.markers import CODE_MARKERS, HANDLER_MARKER, RESOURCE_MARKER

    assert CODE_MARKERS == {HANDLER_MARKER, RESOURCE_MARKER}
    for marker in sorted(CODE_MARKERS):
        coded = build.example("GET /greet/:name", "coded", body="hi", request_headers={marker: "k"})
        for url in ("GET /gret/Ann", "GET /gret/Ann?x-mock-response-name=coded"):
            result = run(build.collection(coded), url)
            assert result.winner is None and result.candidates[0].path_rule is PathRule.DISTANCE, describe(result)
            assert "answers only a path that fits its route" in result.candidates[0].lost
        assert run(build.collection(coded), "GET /GREET/Ann").captured == {"name": "Ann"}


@pytest.mark.parametrize("url", ["/v2/test%2Fbash/blobs/sha256:1", "/test%2Fbash/blobs/sha256:1"])
def test_an_encoded_slash_is_captured_under_the_base_path_and_at_the_root(url: str) -> None:
    """Issue 23: Azure's ``/v2/{name}/blobs/{digest}`` (``servers: …/v2``), under its base path or at the root."""
    parameter = {"in": "path", "required": True, "schema": {"type": "string"}}
    document = {"openapi": "3.0.3", "info": {"title": "registry", "version": "1"},
                "servers": [{"url": "https://registry.example/v2"}],
                "paths": {"/{name}/blobs/{digest}": {"get": {
                    "parameters": [{"name": "name", **parameter}, {"name": "digest", **parameter}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"example": {}}}}}}}}}
    collection, _ = collection_from_openapi(document)
    result = match(Snapshot(collection), IncomingRequest.build("GET", url))
    assert result.matched and result.captured == {"name": "test/bash", "digest": "sha256:1"}, describe(result)
