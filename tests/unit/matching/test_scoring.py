"""matching/scoring.py: one example against one request, step by step (the search is test_search.py's)."""

from __future__ import annotations

import pytest
from support.builders import make_collection, make_example

from postmock_nb.config import MockConfig
from postmock_nb.core.paths import PathRule
from postmock_nb.matching.scoring import (
    NOT_ITS_ROUTE,
    RequestContext,
    drop_reason,
    failed_code,
    failed_path,
    path_check,
    request_context,
    score,
    score_query,
)
from postmock_nb.matching.snapshot import CompiledExample, Snapshot
from postmock_nb.matching.types import BASE_SCORE, Candidate, Check, IncomingRequest


def compiled(request: str, **fields: object) -> CompiledExample:
    """The one example of ``request`` as the snapshot compiles it."""
    return Snapshot(make_collection(make_example(request, **fields))).examples[0]  # type: ignore[arg-type]


def context(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: str = "",
            settings: MockConfig = MockConfig()) -> RequestContext:
    return request_context(IncomingRequest.build(method, url, headers, body), settings)


# -- request_context -----------------------------------------------------------------------------


def test_the_context_takes_the_selectors_out_of_the_query() -> None:
    ctx = context("/a?x=1&x=2&X-Mock-Response-Code=404")
    assert ctx.query == {"x": ["1", "2"]}
    assert ctx.selectors == {"x-mock-response-code": "404"}


def test_without_selectors_the_mock_settings_apply() -> None:
    settings = MockConfig(match_headers=("x-tenant",), match_body=True)
    ctx = context("/a?q=1", headers={"Content-Type": "text/plain"}, settings=settings)
    assert (ctx.match_headers, ctx.match_body, ctx.content_type) == (("x-tenant",), True, "text/plain")
    assert ctx.mock_headers == frozenset({"x-tenant"})
    assert ctx.max_bonus == 10 * (1 + 1 + 1)


def test_a_request_asks_for_more_headers_and_they_stop_being_the_mock_s_alone() -> None:
    ctx = context("/a", headers={"x-mock-match-request-headers": "X-Role, x-tenant"},
                  settings=MockConfig(match_headers=("x-tenant", "accept")))
    assert ctx.match_headers == ("x-tenant", "accept", "x-role")
    assert ctx.mock_headers == frozenset({"accept"})


@pytest.mark.parametrize("switch, match_body, contains", [
    ("true", True, False),
    ("false", False, False),
    ("contains", True, True),
    ("  ", True, False),  # blank: the mock's own setting
])
def test_the_body_switch_of_a_request(switch: str, match_body: bool, contains: bool) -> None:
    ctx = context("/a", headers={"x-mock-match-request-body": switch, "x-mock-response-code": "200"},
                  settings=MockConfig(match_body=True))
    assert (ctx.match_body, ctx.body_contains) == (match_body, contains)


def test_the_query_switch_contains() -> None:
    assert context("/a?x-mock-match-request-query=contains").query_contains
    assert not context("/a?x-mock-response-code=200").query_contains


# -- score_query ---------------------------------------------------------------------------------


@pytest.mark.parametrize("example, request_url, points, note", [
    ("GET /a?x=1", "/a?x=1", 10, "equal"),
    ("GET /a?x=1&x=2", "/a?x=2&x=1", 10, "equal"),  # order of repeated values does not matter
    ("GET /a?x=Admin", "/a?x=admin", 5, "equal ignoring case"),
    ("GET /a?x=", "/a?x=anything", 5, "any value accepted"),
    ("GET /a?x={{undefined}}", "/a?x=anything", 5, "any value accepted"),
    ("GET /a?x=1", "/a?x=2", -5, "different value"),
    ("GET /a?x=1", "/a", -10, "missing from the request"),
    ("GET /a", "/a?x=1", -10, "not in the example"),
])
def test_each_query_parameter_gets_its_points_and_one_check(example: str, request_url: str, points: int,
                                                            note: str) -> None:
    checks: list[Check] = []
    assert score_query(compiled(example), context(request_url), checks) == points
    assert [(c.part, c.name, c.points, c.note) for c in checks] == [("query", "x", points, note)]


def test_an_extra_parameter_is_free_when_the_request_asks_for_contains() -> None:
    checks: list[Check] = []
    points = score_query(compiled("GET /a?x=1"), context("/a?x=1&y=2&x-mock-match-request-query=contains"), checks)
    assert points == 10
    assert [(c.name, c.ok, c.points, c.expected) for c in checks] == [("x", True, 10, "1"),
                                                                     ("y", True, 0, "(absent)")]


def test_no_query_on_either_side_adds_no_check() -> None:
    checks: list[Check] = []
    assert score_query(compiled("GET /a"), context("/a"), checks) == 0
    assert checks == []


# -- path_check ----------------------------------------------------------------------------------


def test_path_check_of_no_rule_fails() -> None:
    check = path_check(compiled("GET /users"), None, "/orders")
    assert (check.ok, check.expected, check.actual, check.note) == (False, "/users", "/orders", "does not match")


def test_path_check_names_the_rule_and_takes_its_penalty() -> None:
    check = path_check(compiled("GET /users/:id"), PathRule.WILDCARD, "/users/7")
    assert (check.ok, check.name, check.points, check.note) == (True, "wildcard", -20, "path variables / wildcards")


def test_an_exact_path_check_is_shared_between_requests_for_the_same_path() -> None:
    first = path_check(compiled("GET /users"), PathRule.EXACT, "/users")
    assert first is path_check(compiled("GET /users"), PathRule.EXACT, "/users")
    assert (first.name, first.points, first.note) == ("exact", 0, "exact path")


# -- score ---------------------------------------------------------------------------------------


def test_score_adds_the_rule_penalty_and_the_query_points_to_the_base() -> None:
    candidate = score(compiled("GET /users/:id?full=1"), PathRule.WILDCARD, {"id": "7"}, context("/users/7?full=1"))
    assert candidate.score == BASE_SCORE - 20 + 10
    assert candidate.captured == {"id": "7"}
    assert [c.part for c in candidate.checks] == ["path", "query"]


def test_a_response_code_selector_drops_another_status() -> None:
    candidate = score(compiled("GET /a", status=200), PathRule.EXACT, {}, context("/a?x-mock-response-code=404"))
    assert candidate.dropped
    assert failed_code(candidate) and not failed_path(candidate)
    assert candidate.checks[-1].expected == "200"


def test_a_response_code_selector_ignores_leading_zeros() -> None:
    candidate = score(compiled("GET /a", status=404), PathRule.EXACT, {}, context("/a?x-mock-response-code=0404"))
    assert candidate.score == BASE_SCORE


@pytest.mark.parametrize("expected, sent, points", [
    ("t1", "t1", 10),
    ("T1", "t1", 5),
    ("", "anything", 5),
    ("application/json; charset=utf-8", "application/json", 10),
])
def test_matched_headers_that_fit_score(expected: str, sent: str, points: int) -> None:
    name = "content-type" if "json" in expected else "x-tenant"
    example = compiled("GET /a", request_headers={name: expected})
    candidate = score(example, PathRule.EXACT, {}, context("/a", headers={name: sent},
                                                           settings=MockConfig(match_headers=(name,))))
    assert candidate.score == BASE_SCORE + points


@pytest.mark.parametrize("example_headers, sent, note", [
    ({"x-tenant": "t1"}, {"x-tenant": "t2"}, "different value"),
    ({"x-tenant": "t1"}, {}, "missing from the request"),
    ({}, {"x-tenant": "t1"}, "the example does not set it"),
])
def test_matched_headers_that_do_not_fit_drop_the_example(example_headers: dict[str, str], sent: dict[str, str],
                                                          note: str) -> None:
    example = compiled("GET /a", request_headers=example_headers)
    candidate = score(example, PathRule.EXACT, {}, context("/a", headers=sent,
                                                           settings=MockConfig(match_headers=("x-tenant",))))
    assert candidate.dropped
    assert drop_reason(candidate) == f"header x-tenant: {note}"


def test_a_header_only_the_mock_asks_for_rules_nothing_out_when_absent_on_both_sides() -> None:
    candidate = score(compiled("GET /a"), PathRule.EXACT, {}, context("/a", settings=MockConfig(
        match_headers=("x-tenant",))))
    assert candidate.score == BASE_SCORE
    assert candidate.checks[-1].note == "absent on both sides"


def test_an_equal_body_scores_ten_and_a_different_one_drops_with_each_field() -> None:
    example = compiled("POST /a", request_body='{"a": 1, "b": 2}')
    settings = MockConfig(match_body=True)
    json = {"content-type": "application/json"}
    equal = score(example, PathRule.EXACT, {}, context("/a", "POST", json, '{"b":2,"a":1}', settings))
    assert equal.score == BASE_SCORE + 10
    different = score(example, PathRule.EXACT, {}, context("/a", "POST", json, '{"a":2,"b":3}', settings))
    assert different.dropped
    assert [c.name for c in different.checks if c.part == "body"] == ["$.a", "$.b"]
    assert drop_reason(different) == "body $.a: expected 1, got 2 (and 1 more)"


def test_a_body_asked_to_contain_the_example_fields_accepts_more() -> None:
    example = compiled("POST /a", request_body='{"a": 1}')
    candidate = score(example, PathRule.EXACT, {}, context(
        "/a", "POST", {"content-type": "application/json", "x-mock-match-request-body": "contains"}, '{"a":1,"z":0}'))
    assert candidate.score == BASE_SCORE + 10
    assert candidate.checks[-1].note == "contains the example's fields"


def test_code_is_not_answered_on_a_path_only_nearly_its_route() -> None:
    example = compiled("GET /users", request_headers={"x-mock-handler": "users"})
    candidate = score(example, PathRule.DISTANCE, {}, context("/userz"))
    assert candidate.dropped and failed_path(candidate)
    assert drop_reason(candidate) == f"path distance: {NOT_ITS_ROUTE}"
    assert score(example, PathRule.CASE, {}, context("/USERS")).score == BASE_SCORE - 10


# -- drop_reason ---------------------------------------------------------------------------------


def test_drop_reason_without_a_failed_check() -> None:
    assert drop_reason(Candidate(make_example("GET /a"), 0, None, ())) == "ruled out"


def test_drop_reason_counts_the_body_differences_not_listed() -> None:
    checks = (Check("body", "$.a", False, 0, "1", "2", "expected 1, got 2", more=3),
              Check("body", "$.b", False, 0, "1", "2", "expected 1, got 2"))
    assert drop_reason(Candidate(make_example("POST /a"), 0, None, checks)) == "body $.a: expected 1, got 2 (and 4 more)"
