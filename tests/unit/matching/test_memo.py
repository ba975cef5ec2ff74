"""matching/memo.py: decisions remembered per snapshot, and when a request is searched afresh instead."""

from __future__ import annotations

from support.builders import make_collection, make_example

from postmock_nb.config import MockConfig
from postmock_nb.matching.memo import MAX_LINE, MatchMemo
from postmock_nb.matching.search import match
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.matching.types import IncomingRequest, MatchResult

SNAPSHOT = Snapshot(make_collection(make_example("GET /users/:id", "user"), make_example("GET /users/me", "me"),
                                    make_example("GET /users/:id?full=1", "full")))


def ask(memo: MatchMemo, url: str, snapshot: Snapshot = SNAPSHOT, *, selectors: bool = False,
        headers: dict[str, str] | None = None) -> MatchResult:
    request = IncomingRequest.build("GET", url, headers)
    return memo.match(snapshot, request, url.partition("?")[2].encode(), selectors=selectors)


def test_an_empty_memo() -> None:
    memo = MatchMemo(MockConfig())
    assert (len(memo), memo.kept_candidates) == (0, 0)


def test_a_match_is_remembered_and_given_back_with_the_new_request() -> None:
    memo = MatchMemo(MockConfig())
    first = ask(memo, "/users/7?full=1")
    again = ask(memo, "/users/7?full=1", headers={"x-trace": "2"})
    assert (len(memo), memo.kept_candidates) == (1, len(first.candidates))
    assert again.candidates is first.candidates  # the decision kept, not a new search
    assert again.request.headers == {"x-trace": "2"} and again is not first
    assert again.snapshot is SNAPSHOT


def test_a_remembered_result_is_what_a_fresh_search_gives() -> None:
    memo = MatchMemo(MockConfig())
    ask(memo, "/users/7")
    remembered = ask(memo, "/users/7")
    fresh = match(SNAPSHOT, IncomingRequest.build("GET", "/users/7"), MockConfig())
    assert remembered.decision == fresh.decision
    assert remembered.captured == fresh.captured == {"id": "7"}


def test_the_path_and_the_query_string_are_the_key() -> None:
    memo = MatchMemo(MockConfig())
    names = [ask(memo, url).winner.name for url in ("/users/7", "/users/me", "/users/7?full=1")]  # type: ignore[union-attr]
    assert names == ["user", "me", "full"]
    assert len(memo) == 3


def test_an_encoded_slash_is_its_own_key() -> None:
    """The memo keys on the path as matched: ``/users/a%2Fb`` (one segment) is not ``/users/a/b`` (two)."""
    memo = MatchMemo(MockConfig())
    first = ask(memo, "/users/a%2Fb")
    assert first.winner is not None and first.captured == {"id": "a/b"}
    assert ask(memo, "/users/a/b").winner is None
    assert ask(memo, "/users/a%2fb").candidates is first.candidates  # the same path, written another way
    assert ask(memo, "/users/a%252Fb").captured == {"id": "a%2Fb"}
    assert len(memo) == 2


def test_a_miss_is_not_remembered() -> None:
    memo = MatchMemo(MockConfig())
    assert not ask(memo, "/orders").matched
    assert len(memo) == 0


def test_a_request_with_selectors_is_searched_every_time() -> None:
    memo = MatchMemo(MockConfig())
    result = ask(memo, "/users/me?x-mock-response-name=user", selectors=True)
    assert result.winner is not None and result.winner.name == "user"
    assert len(memo) == 0


def test_settings_that_read_headers_or_bodies_turn_the_memo_off() -> None:
    for settings in (MockConfig(match_headers=("x-tenant",)), MockConfig(match_body=True)):
        memo = MatchMemo(settings)
        assert ask(memo, "/users/me").matched
        assert len(memo) == 0


def test_a_snapshot_whose_examples_read_request_content_is_searched_every_time() -> None:
    snapshot = Snapshot(make_collection(make_example("GET /a", request_headers={
        "x-mock-match-request-headers": "x-tenant", "x-tenant": "t1"})))
    assert snapshot.reads_request_content
    memo = MatchMemo(MockConfig())
    assert ask(memo, "/a", snapshot, headers={"x-tenant": "t1"}).matched
    assert not ask(memo, "/a", snapshot, headers={"x-tenant": "t2"}).matched
    assert len(memo) == 0


def test_a_request_line_longer_than_max_line_is_not_kept() -> None:
    memo = MatchMemo(MockConfig())
    path = "/users/" + "x" * (MAX_LINE - len("/users/"))
    assert ask(memo, path).matched  # exactly MAX_LINE: kept
    assert ask(memo, path + "y").matched
    assert len(memo) == 1


def test_a_new_snapshot_starts_afresh() -> None:
    memo = MatchMemo(MockConfig())
    ask(memo, "/users/7")
    ask(memo, "/users/8")
    other = Snapshot(make_collection(make_example("GET /users/:id", "other")))
    result = ask(memo, "/users/7", other)
    assert result.winner is not None and result.winner.name == "other"
    assert len(memo) == 1


def test_a_memo_holding_maxsize_decisions_empties_before_keeping_one_more() -> None:
    memo = MatchMemo(MockConfig(), maxsize=2)
    for n in (1, 2):
        ask(memo, f"/users/{n}")
    assert len(memo) == 2
    ask(memo, "/users/3")
    assert len(memo) == 1
    assert ask(memo, "/users/3").candidates is ask(memo, "/users/3").candidates


def test_a_memo_past_max_candidates_empties_before_keeping_one_more() -> None:
    memo = MatchMemo(MockConfig(), max_candidates=3)
    ask(memo, "/users/me")  # 'me' (exact) wins: the wildcard rules are skipped, one candidate
    assert memo.kept_candidates == 1
    two = ask(memo, "/users/7?full=1")  # 'full' and 'user' both fit
    assert memo.kept_candidates == 1 + len(two.candidates) == 3
    ask(memo, "/users/8?full=1")
    assert (len(memo), memo.kept_candidates) == (1, 2)
