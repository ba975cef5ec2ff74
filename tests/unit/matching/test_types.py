"""matching/types.py: the records of matching (the request, a check, a candidate, a result) on their own."""

from __future__ import annotations

import dataclasses

import pytest
from support.builders import make_collection, make_example

from postmock_nb.config import MockConfig
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.matching.types import BASE_SCORE, Candidate, Check, Decision, IncomingRequest, MatchResult


def _candidate(score: int | None, *checks: Check, captured: dict[str, str] | None = None) -> Candidate:
    return Candidate(make_example("GET /users/:id", "user"), 0, score, checks, None, captured or {})


# -- IncomingRequest.build ----------------------------------------------------------------------


def test_build_upper_cases_the_method_and_splits_off_the_query() -> None:
    request = IncomingRequest.build("get", "/users?role=admin&role=dev")
    assert (request.method, request.path) == ("GET", "/users")
    assert request.query == (("role", "admin"), ("role", "dev"))


def test_build_decodes_the_path_and_the_query_as_an_asgi_server_does() -> None:
    request = IncomingRequest.build("GET", "/caf%C3%A9/a%20b?q=a+b&x=%26")
    assert request.path == "/café/a b"
    assert request.query == (("q", "a b"), ("x", "&"))


def test_build_keeps_blank_query_values_and_gives_an_empty_path_the_root() -> None:
    request = IncomingRequest.build("GET", "?flag=&other")
    assert request.path == "/"
    assert request.query == (("flag", ""), ("other", ""))


def test_build_lower_cases_header_names_not_their_values() -> None:
    request = IncomingRequest.build("POST", "/x", {"Content-Type": "Application/JSON", "X-Role": "Admin"}, "{}")
    assert request.headers == {"content-type": "Application/JSON", "x-role": "Admin"}
    assert request.body == "{}"


def test_build_without_headers_gives_an_empty_mapping() -> None:
    assert IncomingRequest.build("GET", "/").headers == {}


def test_url_puts_the_query_back_after_the_path() -> None:
    assert IncomingRequest.build("GET", "/users?a=1&b=2").url == "/users?a=1&b=2"
    assert IncomingRequest.build("GET", "/users").url == "/users"


def test_a_request_is_frozen() -> None:
    request = IncomingRequest.build("GET", "/")
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.path = "/other"  # type: ignore[misc]


# -- Check.describe -----------------------------------------------------------------------------


def test_describe_names_the_part_and_the_name() -> None:
    check = Check("query", "role", False, -5, "admin", "dev", "different value")
    assert check.describe() == "query role: different value"


def test_describe_without_a_name_shows_the_part_only() -> None:
    assert Check("body", "", False, 0, "{}", "[]", "type differs").describe() == "body: type differs"


def test_describe_squeezes_a_double_space() -> None:
    assert Check("header", "x", False, 0, "", "", " missing").describe() == "header x: missing"


# -- Candidate ------------------------------------------------------------------------------------


def test_a_candidate_without_a_score_is_dropped() -> None:
    assert _candidate(None).dropped
    assert not _candidate(0).dropped


def test_differences_are_the_failed_checks_and_those_that_cost_points() -> None:
    free = Check("query", "a", True, 10, "1", "1", "equal")
    costs = Check("path", "trailing_slash", True, -5, "/a", "/a/", "trailing slash ignored")
    failed = Check("header", "x", False, 0, "1", "2", "different value")
    assert _candidate(95, free, costs, failed).differences == [costs, failed]
    assert _candidate(110, free).differences == []


# -- MatchResult ----------------------------------------------------------------------------------


def _result(**fields: object) -> MatchResult:
    snapshot = Snapshot(make_collection(make_example("GET /users/:id", "user")))
    return MatchResult(IncomingRequest.build("GET", "/users/7"), snapshot, MockConfig(), **fields)  # type: ignore[arg-type]


def test_a_result_without_a_winner_is_not_matched_and_has_no_capture() -> None:
    result = _result(candidates=[_candidate(None, captured={"id": "7"})], error="ruled out")
    assert not result.matched
    assert result.captured == {}
    assert result.winner_candidate is None


def test_a_result_with_a_winner_reads_its_capture_from_the_first_candidate() -> None:
    first = _candidate(BASE_SCORE - 20, captured={"id": "7"})
    result = _result(winner=first.example, score=first.score, candidates=[first, _candidate(None)])
    assert result.matched
    assert result.captured == {"id": "7"}
    assert result.winner_candidate is first


def test_decision_is_the_fields_after_request_snapshot_and_settings_in_order() -> None:
    first = _candidate(80)
    result = _result(winner=first.example, score=80, candidates=[first], selector="s", error="", pruned=3,
                     method="GET")
    decision = result.decision
    assert isinstance(decision, Decision)
    assert decision == (first.example, 80, [first], "s", "", 3, "GET")
    rebuilt = MatchResult(result.request, result.snapshot, result.settings, *decision)
    assert (rebuilt.winner, rebuilt.score, rebuilt.pruned, rebuilt.method) == (first.example, 80, 3, "GET")


def test_a_result_keeps_nothing_of_its_own_explanation() -> None:
    assert _result().kept is None
