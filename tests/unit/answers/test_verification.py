"""answers/verification.py: expectations compared with the requests received, the counts judged, and the
failure message (the closest requests, each with its near-miss rows) read as text."""

from __future__ import annotations

import pytest

from postmock_nb.answers.diagnostics import FAIL_MARK
from postmock_nb.answers.verification import (
    Expectation,
    ExpectationError,
    JournalView,
    Received,
    verify,
)
from postmock_nb.matching import IncomingRequest

JOURNAL = JournalView(kept=1000)
KEY_EXPECTED = "PMAK-0123456789abcdef0123456789abcdef01"
KEY_SENT = "PMAK-ffffffffffffffffffffffffffffffffff"


def got(seq: int, line: str, body: str = "", headers: dict[str, str] | None = None, status: int = 200,
        *, cut: bool = False) -> Received:
    """A request as the journal keeps it: ``got(1, "POST /users?page=2", '{"name": "Ann"}')``."""
    method, _, url = line.partition(" ")
    return Received(seq, IncomingRequest.build(method, url, headers, body), status, body_cut=cut)


def matches(expectation: Expectation, received: Received) -> bool:
    return expectation.matches(received)


# -- paths and methods ---------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "path", "fits"), [
    ("/users", "/users", True),
    ("/users", "/users/", False),
    ("/users", "/Users", False),
    ("/users", "/user", False),
    ("/users/:id", "/users/7", True),
    ("/users/:id", "/users/7/orders", False),
    ("/users/{{id}}/orders", "/users/abc/orders", True),
    ("/users/:id", "/users", False),
    ("/files/:name", "/files/a%2Fb", True),   # issue 23: an encoded slash stays in its segment
    ("/files/:name", "/files/a/b", False),
    ("/files/a%2Fb", "/files/a%2fb", True),
    ("/files/a%2Fb", "/files/a/b", False),
])
def test_a_path_fits_exactly_or_by_its_variables(pattern: str, path: str, fits: bool) -> None:
    assert matches(Expectation.of(f"GET {pattern}"), got(1, f"GET {path}")) is fits


def test_the_method_must_match_unless_any_method_is_asked_for() -> None:
    assert not matches(Expectation.of("POST /users"), got(1, "GET /users"))
    assert matches(Expectation.of("post /users"), got(1, "POST /users"))
    assert matches(Expectation.of("/users"), got(1, "DELETE /users"))
    assert matches(Expectation.of("ANY /users"), got(1, "PATCH /users"))


# -- query and headers: subsets ------------------------------------------------------------------


@pytest.mark.parametrize(("query", "url", "fits"), [
    ({"page": "2"}, "/users?page=2&size=10", True),
    ({"page": 2}, "/users?page=2", True),
    ({"page": "2"}, "/users?page=3", False),
    ({"page": "2"}, "/users", False),
    ({"tag": ["a", "b"]}, "/users?tag=b&tag=a&tag=c", True),
    ({"tag": ["a", "d"]}, "/users?tag=a&tag=b", False),
    ({"page": "{{$any}}"}, "/users?page=9", True),
    ({"page": "{{$any}}"}, "/users", False),
])
def test_the_query_expected_is_a_subset_of_the_query_sent(query: dict[str, object], url: str, fits: bool) -> None:
    assert matches(Expectation.of("GET /users", query=query), got(1, f"GET {url}")) is fits


def test_a_query_written_in_the_request_line_is_expected_too() -> None:
    expectation = Expectation.of("GET /users?page=2", query={"size": "10"})
    assert matches(expectation, got(1, "GET /users?size=10&page=2"))
    assert not matches(expectation, got(2, "GET /users?size=10"))


@pytest.mark.parametrize(("headers", "sent", "fits"), [
    ({"X-Role": "admin"}, {"x-role": "admin", "accept": "*/*"}, True),
    ({"x-role": "admin"}, {"X-Role": "ADMIN"}, True),
    ({"x-role": "admin"}, {"x-role": "guest"}, False),
    ({"x-role": "admin"}, {}, False),
    ({"x-role": "{{$any}}"}, {"x-role": "guest"}, True),
    ({"x-role": ""}, {"x-role": "guest"}, True),
    ({"content-type": "application/json"}, {"content-type": "application/json; charset=utf-8"}, True),
])
def test_the_headers_expected_are_a_subset_of_those_sent(headers: dict[str, str], sent: dict[str, str],
                                                         fits: bool) -> None:
    assert matches(Expectation.of("GET /users", headers=headers), got(1, "GET /users", headers=sent)) is fits


# -- bodies: the mock's body matchers ------------------------------------------------------------


@pytest.mark.parametrize(("expected", "sent", "contains", "fits"), [
    ({"name": "Ann", "age": 3}, '{"age": 3, "name": "Ann"}', False, True),       # JSON as data: order is no matter
    ({"name": "Ann"}, '{"name": "Ann", "age": 3}', False, False),                 # exact: no field more
    ({"name": "Ann"}, '{"name": "Ann", "age": 3}', True, True),                   # contains: more is fine
    ({"name": "Ann", "age": 3}, '{"name": "Ann"}', True, False),                  # contains: none missing
    ({"name": "{{$any}}"}, '{"name": 7}', False, True),
    ({"name": "{{$anyString}}"}, '{"name": 7}', False, False),
    ({"id": "{{$anyNumber}}", "name": "Ann"}, '{"id": 12, "name": "Ann"}', False, True),
    ([1, 2], "[1, 2]", False, True),
    ({"name": "Ann"}, "name=Ann", False, False),
])
def test_a_json_body_is_compared_by_the_body_matchers(expected: object, sent: str, contains: bool, fits: bool) -> None:
    expectation = Expectation.of("POST /users", json=expected, contains=contains)
    assert matches(expectation, got(1, "POST /users", sent, {"content-type": "text/plain"})) is fits


def test_a_text_body_is_compared_as_the_request_says_it_is() -> None:
    form = Expectation.of("POST /login", body="user=ann&password={{$any}}")
    assert matches(form, got(1, "POST /login", "password=secret&user=ann",
                             {"content-type": "application/x-www-form-urlencoded"}))
    assert not matches(form, got(2, "POST /login", "user=bob&password=x",
                                 {"content-type": "application/x-www-form-urlencoded"}))
    assert matches(Expectation.of("POST /notes", body="hello"), got(3, "POST /notes", " hello\n"))
    assert not matches(Expectation.of("POST /notes", body="hello"), got(4, "POST /notes", "hello!"))


def test_no_body_expected_accepts_any_body() -> None:
    assert matches(Expectation.of("POST /users"), got(1, "POST /users", '{"anything": true}'))


# -- counting --------------------------------------------------------------------------------------

THREE = [got(3, "POST /users", '{"name": "Ann"}'), got(2, "POST /users", '{"name": "Ann"}'),
         got(1, "GET /users")]


@pytest.mark.parametrize(("counts", "verified"), [
    ({}, True),                               # none given: at least once
    ({"times": 2}, True),
    ({"times": 1}, False),
    ({"times": 3}, False),
    ({"at_least": 2}, True),
    ({"at_least": 3}, False),
    ({"at_most": 2}, True),
    ({"at_most": 1}, False),
    ({"at_least": 1, "at_most": 2}, True),
    ({"at_least": 3, "at_most": 5}, False),
    ({"times": 0}, False),
])
def test_times_at_least_and_at_most(counts: dict[str, int], verified: bool) -> None:
    result = verify(Expectation.of("POST /users", json={"name": "Ann"}, **counts), THREE, JOURNAL)
    assert (result.verified, result.count) == (verified, 2)
    assert (result.message == "") is verified
    assert [r.seq for r in result.matched] == [3, 2]


def test_none_given_means_at_least_once_as_wiremock() -> None:
    expectation = Expectation.of("DELETE /users/:id")
    assert (expectation.times, expectation.at_least, expectation.at_most) == (None, 1, None)
    assert expectation.wanted == "at least 1 time"
    assert not verify(expectation, THREE, JOURNAL).verified


@pytest.mark.parametrize(("counts", "said"), [
    ({"times": 1}, "exactly 1 time"), ({"times": 2}, "exactly 2 times"), ({"times": 0}, "never"),
    ({"at_most": 0}, "never"), ({"at_least": 2}, "at least 2 times"), ({"at_most": 3}, "at most 3 times"),
    ({"at_least": 1, "at_most": 3}, "between 1 and 3 times"), ({"at_least": 2, "at_most": 2}, "exactly 2 times"),
])
def test_how_the_count_expected_is_said(counts: dict[str, int], said: str) -> None:
    assert Expectation.of("GET /users", **counts).wanted == said


@pytest.mark.parametrize(("request_line", "options", "complaint"), [
    ("POST", {}, "expected METHOD PATH, got 'POST'"),
    ("POST users", {}, "expected METHOD PATH"),
    ("POST /users extra", {}, "expected METHOD PATH"),
    ("P0ST /users", {}, "'P0ST' is not an HTTP method"),
    ("POST /users", {"times": -1}, "times cannot be negative"),
    ("POST /users", {"at_least": "2"}, "at_least must be a whole number, got '2'"),
    ("POST /users", {"times": True}, "times must be a whole number"),
    ("POST /users", {"times": 1, "at_least": 1}, "give times, or at_least and/or at_most, not both"),
    ("POST /users", {"at_least": 3, "at_most": 1}, "at_least (3) is more than at_most (1)"),
    ("POST /users", {"json": {}, "body": "x"}, "give json or body, not both"),
    ("POST /users", {"json": {1, 2}}, "json cannot be written as JSON"),
    ("POST /users", {"body": b"x"}, "body must be text"),
    ("POST /users", {"headers": {"x": {"a": 1}}}, "headers x: a value must be text"),
])
def test_an_expectation_that_cannot_be_read_says_why(request_line: str, options: dict[str, object],
                                                     complaint: str) -> None:
    with pytest.raises(ExpectationError) as raised:
        Expectation.of(request_line, **options)  # type: ignore[arg-type]
    assert complaint in str(raised.value)
    assert isinstance(raised.value, ValueError)


# -- the failure message -------------------------------------------------------------------------


def test_the_message_lists_the_closest_requests_with_their_differences() -> None:
    received = [got(4, "GET /health"),
                got(3, "POST /users?page=2", '{"name": "Bob", "age": 3}', {"x-role": "admin"}, 201),
                got(2, "POST /user", '{"name": "Ann"}', {"x-role": "admin"}, 404),
                got(1, "POST /users", '{"name": "Ann"}', {"x-role": "guest"}, 201)]
    expectation = Expectation.of("POST /users", times=1, json={"name": "Ann"}, headers={"x-role": "admin"})
    result = verify(expectation, received, JournalView(kept=1000, total=4))
    assert not result.verified and result.count == 0
    assert result.message.split("\n\n")[:3] == [
        "Expected POST /users to be received exactly 1 time, but it was received 0 times.",
        'Expected request:\n  POST /users\n  header x-role: admin\n  body (JSON): {"name": "Ann"}',
        "Checked the 4 requests the journal holds (it keeps the last 1000); 0 matched.",
    ]
    closest = result.message.split("The closest requests received that did not match:\n\n")[1].split("\n\n")
    assert len(closest) == 3  # the three closest of four: the one to another path and method is left out
    first = closest[0].splitlines()
    assert first[0] == "1. #1 POST /users → 201 — 1 difference"
    assert first[1].split() == ["Request", "|", "Expected"]
    assert [line.split(" | ")[0].strip() for line in first[3:]] == ["POST", "/users", "header x-role: guest"]
    assert first[5].split(" | ")[1].split() == ["header", "x-role:", "admin", FAIL_MARK, "different", "value"]
    second = closest[1].splitlines()  # the right call sent wrong comes before a call to another path
    assert second[0] == "2. #3 POST /users?page=2 → 201 — 2 differences"
    assert 'body $.name: "Bob"' in second[5] and 'body $.name: "Ann"' in second[5]
    assert second[5].endswith(f'{FAIL_MARK} expected "Ann", got "Bob"')
    assert second[6].endswith(f"{FAIL_MARK} not expected (contains=True allows it)")
    third = closest[2].splitlines()
    assert third[0] == "3. #2 POST /user → 404 — 1 difference"
    assert third[4].split(" | ")[1].split() == ["/users", FAIL_MARK, "path", "does", "not", "match"]
    assert "#4 GET /health" not in result.message


def test_the_message_says_when_nothing_was_received_at_all() -> None:
    result = verify(Expectation.of("POST /users"), [], JournalView(kept=1000, total=0))
    assert result.message.splitlines()[0] == (
        "Expected POST /users to be received at least 1 time, but it was received 0 times.")
    assert result.message.splitlines()[-1] == "No requests were received at all (the journal keeps the last 1000)."
    assert "closest" not in result.message


def test_the_message_says_how_many_the_journal_keeps_when_older_ones_are_gone() -> None:
    result = verify(Expectation.of("POST /users"), [got(1, "GET /users")], JournalView(kept=1, total=5, refused=2))
    assert ("Checked the 1 request the journal holds (it keeps the last 1); 5 were received, "
            "so the oldest 4 are gone; 0 matched. (2 requests refused for want of the key are not verified)"
            ) in result.message


def test_too_many_lists_the_matching_requests_not_the_near_misses() -> None:
    received = [got(seq, "POST /users", '{"name": "Ann"}', status=201) for seq in range(8, 0, -1)]
    result = verify(Expectation.of("POST /users", at_most=1), [got(9, "GET /users"), *received], JOURNAL)
    lines = result.message.splitlines()
    assert lines[0] == "Expected POST /users to be received at most 1 time, but it was received 8 times."
    listed = lines[lines.index("The matching requests (newest first):") + 1:]
    assert listed == ["  #8 POST /users → 201", "  #7 POST /users → 201", "  #6 POST /users → 201",
                      "  #5 POST /users → 201", "  #4 POST /users → 201", "  … and 3 more"]
    assert "closest" not in result.message


def test_never_reads_as_never() -> None:
    result = verify(Expectation.of("DELETE /users/:id", times=0), [got(1, "DELETE /users/7", status=204)], JOURNAL)
    assert result.message.startswith("Expected DELETE /users/:id never to be received, but it was received 1 time.")


def test_secret_headers_are_masked_in_the_message() -> None:
    result = verify(Expectation.of("GET /users", headers={"x-api-key": KEY_EXPECTED}),
                    [got(1, "GET /users", headers={"x-api-key": KEY_SENT})], JOURNAL)
    assert KEY_EXPECTED not in result.message and KEY_SENT not in result.message
    assert "header x-api-key: PMAK-0123…ef01" in result.message  # the expected request, and the row
    assert "header x-api-key: PMAK-ffff…ffff" in result.message


def test_a_body_the_journal_cut_says_so() -> None:
    result = verify(Expectation.of("POST /users", json={"name": "Ann"}),
                    [got(1, "POST /users", '{"name": "A', cut=True)], JOURNAL)
    assert "(the journal kept only the start of this body)" in result.message


def test_a_verdict_raises_its_message_and_summarises_itself() -> None:
    passed = verify(Expectation.of("POST /users", times=2), THREE, JOURNAL)
    assert passed.check() is passed
    assert passed.summary == "Verified: POST /users was received 2 times (expected exactly 2 times; 3 requests checked)."
    assert passed.as_json() == {"verified": True, "count": 2, "message": ""}
    failed = verify(Expectation.of("POST /users", times=1), THREE, JOURNAL)
    with pytest.raises(AssertionError) as raised:
        failed.check()
    assert str(raised.value) == failed.message
    assert failed.summary == failed.message.splitlines()[0]
    assert failed.as_json() == {"verified": False, "count": 2, "message": failed.message}


def test_the_filters_of_the_requests_list() -> None:
    wanted = Expectation.filter(method="post", path="/users/:id", query=[("page", "2")], headers=[("X-Role", "")])
    assert matches(wanted, got(1, "POST /users/7?page=2", headers={"x-role": "anything"}))
    assert not matches(wanted, got(2, "POST /users/7?page=2"))
    assert not matches(wanted, got(3, "GET /users/7?page=2", headers={"x-role": "a"}))
    assert matches(Expectation.filter(), got(4, "OPTIONS /anything"))
    with pytest.raises(ExpectationError, match="path must start with '/'"):
        Expectation.filter(path="users")
