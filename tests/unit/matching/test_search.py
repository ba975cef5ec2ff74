"""matching/search.py: ``match`` on its own — the method index, the ladder, pruning and the decision's fields.

Postman's scoring rules, rule by rule, are test_matching.py's; here: what the search itself decides
(which index, what is pruned, the selectors, the error and ``lost`` texts).
"""

from __future__ import annotations

import pytest
from support.builders import make_collection, make_example

from postmock_nb.config import MockConfig
from postmock_nb.core.model import Example
from postmock_nb.matching.search import ALWAYS_SCORED, match
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.matching.types import BASE_SCORE, IncomingRequest, MatchResult

ME = make_example("GET /users/me", "me")
BY_ID = make_example("GET /users/:id", "by id", id="ex-1")
CREATE = make_example("POST /users", "create")


def search(examples: list[Example], request: str, headers: dict[str, str] | None = None,
           settings: MockConfig = MockConfig()) -> MatchResult:
    method, _, url = request.partition(" ")
    return match(Snapshot(make_collection(*examples)), IncomingRequest.build(method, url, headers), settings)


def names(result: MatchResult) -> list[tuple[str, int | None, str]]:
    return [(c.example.name, c.score, c.lost) for c in result.candidates]


def test_the_result_keeps_the_request_the_snapshot_and_the_settings() -> None:
    snapshot = Snapshot(make_collection(ME))
    request = IncomingRequest.build("GET", "/users/me")
    settings = MockConfig(match_body=True)
    result = match(snapshot, request, settings)
    assert (result.request, result.snapshot, result.settings) == (request, snapshot, settings)
    assert result.winner == ME and result.score == BASE_SCORE + 10  # an empty body equals an empty body


def test_a_method_without_examples_is_an_error_with_no_candidates() -> None:
    result = search([ME, BY_ID], "PUT /users/7")
    assert (result.winner, result.candidates, result.method) == (None, [], "")
    assert result.error == "no example for method PUT"


def test_pruned_counts_the_examples_of_the_method_not_considered() -> None:
    result = search([ME, BY_ID, CREATE], "GET /users/me")
    assert names(result) == [("me", 100, "")]
    assert (result.pruned, result.method) == (1, "GET")


def test_a_stricter_rule_that_wins_skips_the_weaker_rules_unscored() -> None:
    many = [make_example(f"GET /items/:id?v={i}", f"wild {i}") for i in range(5)]
    result = search([*many, make_example("GET /items/7", "exact")], "GET /items/7")
    assert result.winner is not None and result.winner.name == "exact"
    assert len(result.candidates) == 1 and result.pruned == 5


def test_head_is_answered_from_get_when_no_head_example_fits() -> None:
    for examples in ([ME, BY_ID], [make_example("HEAD /other", "head"), ME, BY_ID]):
        result = search(examples, "HEAD /users/7")
        assert result.winner == BY_ID
        assert result.method == "GET"


def test_a_head_example_that_fits_answers_head() -> None:
    head = make_example("HEAD /users/7", "head")
    result = search([head, BY_ID], "HEAD /users/7")
    assert (result.winner, result.method) == (head, "HEAD")


def test_edit_distance_is_the_last_resort() -> None:
    orders = make_example("GET /orders", "orders")
    near = search([orders], "GET /ordrs")
    assert (near.winner, near.score) == (orders, BASE_SCORE - 30)
    far = search([orders], "GET /zzz")
    assert (far.winner, far.candidates, far.pruned) == (None, [], 1)
    assert far.error == "no example for this method and path"


def test_a_tie_goes_to_the_example_defined_first_and_says_so() -> None:
    first, second = make_example("GET /a", "first"), make_example("GET /a", "second")
    result = search([first, second], "GET /a")
    assert result.winner == first
    assert names(result) == [("first", 100, ""), ("second", 100, "tie at 100: 'first' is defined earlier")]


def test_a_lower_score_loses_with_both_scores() -> None:
    result = search([make_example("GET /a?x=1", "query"), make_example("GET /a?x=2", "other")], "GET /a?x=2")
    assert names(result)[1] == ("query", 95, "score 95 < 110")


def test_the_response_code_selector_decides_and_is_named() -> None:
    ok, gone = make_example("GET /a", "ok"), make_example("GET /a", "gone", status=404)
    result = search([ok, gone], "GET /a?x-mock-response-code=404")
    assert result.winner == gone and result.selector == "x-mock-response-code: 404"
    assert names(result)[1] == ("ok", None, "selector x-mock-response-code: another status was asked for")


def test_every_example_ruled_out_is_an_error_with_each_reason() -> None:
    result = search([make_example("GET /a", "ok")], "GET /a?x-mock-response-code=500")
    assert result.winner is None
    assert result.error == "no example with status 500 for GET /a (statuses for this path: 200)"
    assert names(result) == [("ok", None, "selector x-mock-response-code: another status was asked for")]


def test_the_id_selector_picks_an_example_that_scores_lower() -> None:
    result = search([ME, BY_ID], "GET /users/me", {"x-mock-response-id": "ex-1"})
    assert (result.winner, result.score, result.selector) == (BY_ID, 80, "x-mock-response-id: ex-1")
    assert names(result)[1] == ("me", 100, "x-mock-response-id: ex-1 picked 'by id'")


def test_the_id_selector_accepts_postman_s_uid_form_only_with_a_numeric_owner() -> None:
    assert search([ME, BY_ID], "GET /users/me?x-mock-response-id=1234-ex-1").winner == BY_ID
    wrong = search([ME, BY_ID], "GET /users/me?x-mock-response-id=abc-ex-1")
    assert wrong.winner is None
    assert wrong.error.startswith("no example with id 'abc-ex-1' for GET /users/me")


def test_a_name_nobody_has_lists_the_names_here() -> None:
    result = search([ME, BY_ID], "GET /users/me?x-mock-response-name=nobody")
    assert result.winner is None and result.selector == "x-mock-response-name: nobody"
    assert result.error == ("no example with name 'nobody' for GET /users/me "
                            "(examples for this path: 'by id', 'me')")
    assert names(result) == [("me", 100, "name is 'me', not 'nobody'"), ("by id", 80, "name is 'by id', not 'nobody'")]


def test_a_name_shared_by_several_goes_to_the_best_fitting_path() -> None:
    wild, exact = make_example("GET /users/:id", "user"), make_example("GET /users/me", "user")
    assert search([wild, exact], "GET /users/me?x-mock-response-name=user").winner == exact


def test_a_picked_example_dropped_by_its_query_gets_the_base_score_less_its_rule() -> None:
    tenant = make_example("GET /users/:id", "tenant", request_headers={"x-tenant": "t1"})
    result = search([ME, tenant], "GET /users/me?x-mock-response-name=tenant", {"x-tenant": "t2"},
                    MockConfig(match_headers=("x-tenant",)))
    assert (result.winner, result.score) == (tenant, BASE_SCORE - 20)


def test_beyond_always_scored_examples_that_can_at_best_tie_are_not_scored() -> None:
    same = [make_example("GET /a", f"n{i}") for i in range(ALWAYS_SCORED + 10)]
    result = search(same, "GET /a")
    assert result.winner == same[0]
    assert len(result.candidates) == ALWAYS_SCORED
    assert result.pruned == 10


def test_beyond_always_scored_examples_whose_query_cannot_win_are_skipped_unscored() -> None:
    best = make_example("GET /a?x=1", "best")
    losers = [make_example(f"GET /a?y={i}", f"n{i}") for i in range(ALWAYS_SCORED + 10)]
    result = search([best, *losers], "GET /a?x=1")
    assert (result.winner, result.score) == (best, 110)
    assert len(result.candidates) == ALWAYS_SCORED
    assert result.pruned == 11


def test_examples_that_may_win_are_scored_past_always_scored() -> None:
    losers = [make_example(f"GET /a?x={i}", f"n{i}") for i in range(ALWAYS_SCORED + 10)]
    best = make_example("GET /a?x=best", "best")
    result = search([*losers, best], "GET /a?x=best")  # same query names: the bound cannot tell them apart
    assert result.winner == best
    assert len(result.candidates) == ALWAYS_SCORED + 11


def test_a_selector_turns_pruning_off() -> None:
    same = [make_example("GET /a", f"n{i}") for i in range(ALWAYS_SCORED + 10)]
    result = search(same, "GET /a?x-mock-response-name=n59")
    assert result.winner == same[59]
    assert len(result.candidates) == ALWAYS_SCORED + 10 and result.pruned == 0


MOUNTED = make_example("GET /v1/pets/:id", "pet", request_headers={"x-mock-base-path": "/v1"})
AT_ROOT = make_example("GET /pets/mine", "mine")


def test_a_path_asked_without_its_base_path_is_matched_under_it() -> None:
    result = search([MOUNTED], "GET /pets/7")
    assert result.winner == MOUNTED and result.request.path == "/pets/7"  # the request as sent
    path_check = result.candidates[0].checks[0]
    assert result.captured == {"id": "7"} and (path_check.part, path_check.actual) == ("path", "/v1/pets/7")
    assert search([MOUNTED], "GET /v1/pets/7").winner == MOUNTED  # under it: as before


def test_a_path_that_fits_at_the_root_keeps_the_root_example() -> None:
    result = search([MOUNTED, AT_ROOT], "GET /pets/mine")
    assert result.winner == AT_ROOT and result.request.path == "/pets/mine"


def test_only_the_examples_marked_with_that_base_path_are_mounted() -> None:
    unmarked = make_example("GET /v1/cats/:id", "cat")
    assert search([MOUNTED, unmarked], "GET /cats/7").winner is None
    assert search([MOUNTED], "POST /pets/7").winner is None  # the method still counts


def test_head_asked_without_the_base_path_is_answered_as_get_under_it() -> None:
    result = search([MOUNTED], "HEAD /pets/7")
    assert result.winner == MOUNTED and result.method == "GET"


MEDIA = "#/paths/~1pets/get/responses/{}/content/application~1json"
CAT = make_example("GET /pets", "A pet - A cat", request_headers={"x-mock-openapi": MEDIA.format(200) + "/examples/cat"})
DOG = make_example("GET /pets", "A pet - A dog", request_headers={"x-mock-openapi": MEDIA.format(200) + "/examples/dog"})
GONE = make_example("GET /pets", "Gone", status=404,
                    request_headers={"x-mock-openapi": MEDIA.format(404) + "/examples/dog"})
NAMED = make_example("GET /pets", "bird")


@pytest.mark.parametrize(("request_line", "headers", "winner"), [
    ("GET /pets", {"prefer": "example=dog"}, DOG),
    ("GET /pets?__example=dog&__code=404", None, GONE),
    ("GET /pets", {"prefer": "code=404, example=dog"}, GONE),
    ("GET /pets", {"prefer": "example=bird"}, NAMED),  # no key: an example's name
])
def test_prefer_example_picks_an_openapi_key_else_a_name(request_line: str, headers: dict[str, str] | None,
                                                         winner: Example) -> None:
    result = search([CAT, DOG, GONE, NAMED], request_line, headers)
    assert result.winner == winner, names(result)
    assert result.selector.startswith(("Prefer: example=", "x-mock-response-code"))


def test_an_unknown_key_names_the_keys_there_are() -> None:
    result = search([CAT, DOG, NAMED], "GET /pets", {"prefer": "example=fish"})
    assert result.winner is None and result.selector == "Prefer: example=fish"
    assert result.error == ("no example with key 'fish' for GET /pets (examples for this path: "
                            "'A pet - A cat' (example=cat), 'A pet - A dog' (example=dog), 'bird')")
    assert names(result)[0][2] == "key is 'cat', not 'fish'"
