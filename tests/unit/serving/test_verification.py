"""serving/verification.py: the journal read through its interface for verification, the verify body and the
requests list's filters read (the routes themselves are tested over a socket, tests/server/test_verification.py)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from postmock_nb.answers.verification import ExpectationError
from postmock_nb.config import MockConfig
from postmock_nb.serving.requestlog import BODY_LIMIT, LogEntry, RequestLog
from postmock_nb.serving.verification import (
    entry_json,
    expectation_of,
    filter_of,
    received,
    requested,
    verify_body,
    verify_journal,
    worker_scope,
)

SECRET = "Bearer abcdefghijklmnopqrstuvwxyz012345"


def entry(log: RequestLog, method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None,
          status: int = 200, example_id: str | None = "e1") -> LogEntry:
    path, _, query = url.partition("?")
    return LogEntry(seq=log.next_seq(), time=0.0, method=method, path=path, query_string=query.encode(),
                    raw_headers=[(k.encode(), v.encode()) for k, v in (headers or {}).items()], raw_body=body,
                    status=status, example_id=example_id, example_name="an example" if example_id else None,
                    score=None, latency_ms=0.1)


@pytest.fixture
def log() -> RequestLog:
    return three_requests(RequestLog(maxlen=3))


def three_requests(log: RequestLog) -> RequestLog:
    for line, body, headers in [("POST /users?page=2", b'{"name": "Ann"}', {"x-role": "admin", "Authorization": SECRET}),
                                ("POST /users", b'{"name": "Bob"}', {"content-type": "application/json"}),
                                ("GET /users/7", b"", {})]:
        method, _, url = line.partition(" ")
        log.append(entry(log, method, url, body, headers))
    return log


def test_a_verification_reads_every_entry_the_journal_keeps(log: RequestLog) -> None:
    assert verify_journal(log, expectation_of({"request": "POST /users", "times": 2})).verified
    failed = verify_journal(log, expectation_of({"request": "POST /users", "json": {"name": "Cy"}}))
    assert (failed.verified, failed.count) == (False, 0)
    assert "Checked the 3 requests the journal holds (it keeps the last 3); 0 matched." in failed.message
    log.append(entry(log, "GET", "/health"))  # the oldest is pushed out, and the message says so
    failed = verify_journal(log, expectation_of({"request": "POST /users", "json": {"name": "Ann"}}))
    assert "4 were received, so the oldest 1 is gone" in failed.message


def test_refused_bursts_are_left_out_and_said() -> None:
    log = three_requests(RequestLog(maxlen=10))
    refused = entry(log, "POST", "/users", b'{"name": "Ann"}', status=401, example_id=None)
    log.append_refused(refused, "no key")
    verdict = verify_journal(log, expectation_of({"request": "POST /users", "times": 2}))
    assert verdict.verified and verdict.count == 2
    failed = verify_journal(log, expectation_of({"request": "POST /users", "times": 3}))
    assert "(1 request refused for want of the key are not verified)" in failed.message


def test_a_long_body_the_journal_cut_is_marked() -> None:
    log = RequestLog()
    log.append(entry(log, "POST", "/files", b"x" * (BODY_LIMIT + 10)))
    assert received(log.recent()[0]).body_cut
    log.append(entry(log, "POST", "/files", b"short"))
    assert not received(log.recent()[0]).body_cut


def test_the_requests_list_filters_and_masks(log: RequestLog) -> None:
    wanted, limit = filter_of(MultiDict([("method", "POST"), ("path", "/users"), ("query", "page=2"),
                                         ("header", "x-role: admin")]))
    found = requested(log, wanted, limit)
    assert [e.seq for e in found] == [1]
    shown = entry_json(found[0])
    assert shown["query"] == [["page", "2"]] and shown["matched"] is True and shown["status"] == 200
    assert ["authorization", "Bearer abcdefghi…2345"] in [[k.lower(), v] for k, v in shown["headers"]]
    assert SECRET not in str(shown)
    assert set(shown) >= {"seq", "time", "method", "path", "query", "headers", "body", "status", "example_id",
                          "matched"}
    everything, limit = filter_of(MultiDict([("limit", "2")]))
    assert [e.seq for e in requested(log, everything, limit)] == [3, 2]  # newest first
    by_path, _ = filter_of(MultiDict([("path", "/users/:id")]))
    assert [e.seq for e in requested(log, by_path)] == [3]
    any_role, _ = filter_of(MultiDict([("header", "x-role")]))
    assert [e.seq for e in requested(log, any_role)] == [1]


@pytest.mark.parametrize(("args", "complaint"), [
    ([("limit", "ten")], "limit must be a whole number, got 'ten'"),
    ([("limit", "-1")], "limit must be a whole number"),
    ([("limit", "\u00b2")], "limit must be a whole number, got '\u00b2'"),  # a digit int() does not read
    ([("limit", "9" * 5000)], "limit must be a whole number"),  # longer than int() converts
    ([("path", "users")], "path must start with '/'"),
    ([("header", ":admin")], "header=':admin': a name is missing"),
    ([("query", "=2")], "query='=2': a name is missing"),
    ([("method", "P O")], "is not an HTTP method"),
])
def test_filters_that_cannot_be_read(args: list[tuple[str, str]], complaint: str) -> None:
    with pytest.raises(ExpectationError) as raised:
        filter_of(MultiDict(args))
    assert complaint in str(raised.value)


@pytest.mark.parametrize(("body", "complaint"), [
    ([1], "the body must be a JSON object"),
    (None, "the body must be a JSON object"),
    ({"times": 1}, "the request to verify is missing"),
    ({"request": "POST /users", "atLeast": 1}, "unknown field: atLeast"),
    ({"request": "POST /users", "headers": ["x-role"]}, "headers must be an object"),
    ({"request": "POST /users", "contains": "yes"}, "contains must be true or false"),
    ({"request": "POST /users", "times": 1.5}, "times must be a whole number"),
    ({"request": 7}, "the request must be text"),
])
def test_a_verify_body_that_cannot_be_read(body: object, complaint: str) -> None:
    with pytest.raises(ExpectationError) as raised:
        expectation_of(body)
    assert complaint in str(raised.value)


@pytest.mark.parametrize(("raw", "complaint"), [
    (b"[" * 100_000 + b"]" * 100_000, "the JSON nests more than 200 levels deep"),
    (b'{"request": "GET /x", "json": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nests more than 200 levels"),
    (b"\xff{}", "the body is not UTF-8 text (byte 0)"),
    (b"{", "the body must be a JSON object: not valid JSON (Expecting property name"),
    (b'{"times": ' + b"9" * 5000 + b"}", "cannot read the JSON"),
])
def test_a_verify_body_that_is_not_json_is_an_expectation_error(raw: bytes, complaint: str) -> None:
    with pytest.raises(ExpectationError) as raised:
        verify_body(raw)
    assert complaint in str(raised.value)


def test_a_verify_body_with_every_field() -> None:
    expectation = expectation_of({"request": "POST /users", "times": None, "at_least": 1, "at_most": 2,
                                  "json": {"name": "Ann"}, "body": None, "headers": {"X-Role": "admin"},
                                  "query": {"page": "2"}, "contains": True})
    assert (expectation.method, expectation.times, expectation.at_least, expectation.at_most) == ("POST", None, 1, 2)
    assert (expectation.body, expectation.json_body, expectation.contains) == ('{"name": "Ann"}', True, True)
    assert (expectation.headers, expectation.query) == ((("x-role", "admin"),), (("page", "2"),))


def test_one_worker_of_several_says_its_journal_is_its_own(log: RequestLog) -> None:
    assert worker_scope(MockConfig()) == ""
    assert worker_scope(MockConfig(workers=2, state="redis://127.0.0.1:6379/0")) == ""
    scope = worker_scope(MockConfig(workers=4))
    assert scope.startswith("this is one worker of 4 (pid ") and "--state redis://" in scope
    failed = verify_journal(log, expectation_of({"request": "PUT /users"}), scope=scope)
    assert f"0 matched.\nNote: {scope}." in failed.message


def test_a_filter_name_alone_asks_only_that_it_was_sent() -> None:
    log = RequestLog()
    for url in ("/users?page=2", "/users?page=", "/users"):
        log.append(entry(log, "GET", url))
    any_page, _ = filter_of(MultiDict([("query", "page")]))
    assert [e.url for e in requested(log, any_page)] == ["/users?page=", "/users?page=2"]
    empty_page, _ = filter_of(MultiDict([("query", "page=")]))
    assert [e.url for e in requested(log, empty_page)] == ["/users?page="]


def test_callbacks_the_mock_sent_are_not_requests_it_received() -> None:
    log = three_requests(RequestLog(maxlen=10))
    sent = entry(log, "POST", "/users", b'{"name": "Ann"}', status=204, example_id=None)
    sent.direction = "out"  # a callback's row (its path would be a whole URL; the same one here on purpose)
    log.append(sent)
    assert verify_journal(log, expectation_of({"request": "POST /users", "times": 2})).verified
    assert sent not in requested(log, expectation_of({"request": "POST /users"}))
