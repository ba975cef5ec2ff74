"""matching/explain.py: every example scored without shortcuts, and the near misses of a result."""

from __future__ import annotations

from dataclasses import dataclass

from support.builders import make_collection, make_example

from postmock_nb.config import MockConfig
from postmock_nb.core.model import Example
from postmock_nb.core.paths import PathRule
from postmock_nb.matching.explain import explain, near_misses
from postmock_nb.matching.search import match
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.matching.types import Candidate, IncomingRequest, MatchResult

ME = make_example("GET /users/me", "me")
BY_ID = make_example("GET /users/:id", "by id")
CREATE = make_example("POST /users/7", "create")
ORDERS = make_example("GET /orders", "orders")
SLASH = make_example("GET /users/7/", "slash")


def result_of(examples: list[Example], request: str, headers: dict[str, str] | None = None,
              settings: MockConfig = MockConfig()) -> MatchResult:
    method, _, url = request.partition(" ")
    return match(Snapshot(make_collection(*examples)), IncomingRequest.build(method, url, headers), settings)


def rows(candidates: list[Candidate]) -> list[tuple[str, int | None, str]]:
    return [(c.example.name, c.score, c.lost) for c in candidates]


def test_explain_scores_every_example_winner_first() -> None:
    result = result_of([ME, BY_ID, CREATE, ORDERS, SLASH], "GET /users/7")
    assert rows(explain(result)) == [
        ("slash", 95, ""),
        ("by id", 80, "score 80 < 95 (skipped: could not win)"),
        ("create", None, "method: POST expected"),
        ("me", None, "path: does not match"),
        ("orders", None, "path: does not match"),
    ]


def test_explain_keeps_the_search_s_own_candidates_as_they_are() -> None:
    result = result_of([ME, BY_ID], "GET /users/7")
    assert explain(result)[0] is result.candidates[0]


def test_another_method_gets_a_method_check_and_its_path_check() -> None:
    create = next(c for c in explain(result_of([BY_ID, CREATE], "GET /users/7")) if c.example is CREATE)
    assert [(c.part, c.ok) for c in create.checks] == [("method", False), ("path", True)]
    assert create.path_rule is PathRule.EXACT and create.dropped


def test_a_head_request_answered_as_get_does_not_fault_the_get_examples_method() -> None:
    orders = next(c for c in explain(result_of([BY_ID, ORDERS], "HEAD /users/7")) if c.example is ORDERS)
    assert [c.part for c in orders.checks] == ["path"]
    assert orders.lost == "path: does not match"


def test_a_path_that_does_not_fit_still_shows_its_query_checks() -> None:
    wanted = make_example("GET /orders?status=open", "open orders")
    explained = explain(result_of([BY_ID, wanted], "GET /users/7?status=open"))
    orders = next(c for c in explained if c.example is wanted)
    assert [(c.part, c.name, c.ok) for c in orders.checks] == [("path", "", False), ("query", "status", True)]
    assert orders.path_rule is None and orders.captured == {}


def test_edit_distance_is_explained_as_not_considered_when_a_stricter_rule_fitted() -> None:
    typo, users = make_example("GET /usrs", "typo"), make_example("GET /users", "users")
    assert rows(explain(result_of([typo, users], "GET /users"))) == [
        ("users", 100, ""),
        ("typo", 70, "not considered: edit distance is tried only when no stricter path rule fits"),
    ]


def test_a_dropped_example_says_why() -> None:
    tenant = make_example("GET /users/me", "tenant", request_headers={"x-tenant": "t1"})
    result = result_of([BY_ID, tenant], "GET /users/me", {"x-tenant": "t2"}, MockConfig(match_headers=("x-tenant",)))
    explained = {c.example.name: c for c in explain(result)}
    assert explained["tenant"].lost == "header x-tenant: different value"


def test_only_limits_explain_to_the_ids_given() -> None:
    result = result_of([ME, BY_ID, ORDERS], "GET /users/7")
    assert [c.example.name for c in explain(result, {ORDERS.id, BY_ID.id})] == ["by id", "orders"]
    assert explain(result, set()) == []


def test_explain_does_not_change_the_result() -> None:
    result = result_of([ME, BY_ID, ORDERS], "GET /users/7")
    before = list(result.candidates)
    explain(result)
    near_misses(result)
    assert result.candidates == before


def test_near_misses_leave_out_the_winner_and_stop_at_the_limit() -> None:
    result = result_of([ME, BY_ID, CREATE, ORDERS, SLASH], "GET /users/7")
    assert [c.example.name for c in near_misses(result, 2)] == ["by id", "create"]
    assert len(near_misses(result)) == 3


def test_near_misses_of_a_miss_put_the_most_alike_path_first() -> None:
    result = result_of([ORDERS, make_example("GET /customers/:id/invoices", "invoices")], "GET /customer/invoices/x/7")
    assert result.winner is None
    assert [c.example.name for c in near_misses(result)] == ["invoices", "orders"]


def test_a_collection_without_examples_has_no_near_misses() -> None:
    assert near_misses(result_of([], "GET /a")) == []


@dataclass(frozen=True, eq=False)
class _Detached(MatchResult):
    """A result that kept its explanation (as the request log's results do)."""

    keeps: tuple[list[Candidate], tuple[Candidate, ...]] = ([], ())

    @property
    def kept(self) -> tuple[list[Candidate], tuple[Candidate, ...]] | None:
        return self.keeps


def test_a_detached_result_gives_what_it_kept() -> None:
    live = result_of([ME, BY_ID, ORDERS], "GET /users/7")
    everything, near = explain(live), tuple(near_misses(live))
    detached = _Detached(live.request, Snapshot(make_collection()), live.settings, *live.decision,
                         keeps=(everything, near))
    assert explain(detached) == everything
    assert near_misses(detached, 1) == list(near[:1])
