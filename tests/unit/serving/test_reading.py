"""serving/reading.py: the request body (bounded in size and time) and the x-mock-* values."""

from __future__ import annotations

import asyncio

import pytest

from postmock_nb.core.headers import RequestHeaders
from postmock_nb.serving.problems import RequestProblem
from postmock_nb.serving.reading import (
    Query,
    asked_fault,
    asked_preferences,
    body_announced,
    checked_mock_values,
    declared_length,
    matched_path,
    read_body,
    sends_mock_values,
)


def _receiver(*messages: dict):
    queue = list(messages)

    async def receive() -> dict:
        return queue.pop(0)

    return receive


def _read(headers: dict[str, str], *messages: dict, max_bytes: int = 10) -> bytes:
    return asyncio.run(read_body(_receiver(*messages), headers, max_bytes=max_bytes, timeout_s=5.0))


def test_http1_without_a_length_or_chunks_has_no_body_to_wait_for() -> None:
    assert not body_announced({"http_version": "1.1"}, RequestHeaders([]))
    assert body_announced({"http_version": "1.1"}, RequestHeaders([(b"content-length", b"3")]))
    assert body_announced({"http_version": "1.1"}, RequestHeaders([(b"Transfer-Encoding", b"chunked")]))
    assert body_announced({"http_version": "2"}, RequestHeaders([]))


def test_a_body_in_parts_is_joined() -> None:
    body = _read({"transfer-encoding": "chunked"}, {"type": "http.request", "body": b"ab", "more_body": True},
                 {"type": "http.request", "body": b"cd", "more_body": False})
    assert body == b"abcd"


def test_a_declared_body_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(RequestProblem) as refused:
        _read({"content-length": "11"})  # no message given: reading one would fail
    assert refused.value.status == 413


def test_a_body_growing_over_the_limit_is_refused() -> None:
    with pytest.raises(RequestProblem) as refused:
        _read({"transfer-encoding": "chunked"}, {"type": "http.request", "body": b"123456", "more_body": True},
              {"type": "http.request", "body": b"789012", "more_body": False})
    assert refused.value.status == 413


def test_a_client_that_leaves_mid_body_is_a_408() -> None:
    with pytest.raises(RequestProblem) as refused:
        _read({"content-length": "4"}, {"type": "http.disconnect"})
    assert (refused.value.status, refused.value.name) == (408, "mockRequestTimeout")


def test_a_declared_length_is_read_only_when_it_is_a_plain_number() -> None:
    assert declared_length({"content-length": " 42 "}) == 42
    assert declared_length({"content-length": "4e2"}) is None
    assert declared_length({}) is None


def test_mock_values_are_seen_in_headers_or_query_in_any_case() -> None:
    assert sends_mock_values(RequestHeaders([(b"x-mock-response-code", b"201")]), ())
    assert sends_mock_values(RequestHeaders([(b"X-Mock-Response-Code", b"201")]), ())
    assert sends_mock_values(RequestHeaders([]), (("X-Mock-Response-Delay", "5"),))
    assert not sends_mock_values(RequestHeaders([(b"accept", b"*/*")]), (("page", "2"),))


def test_checked_mock_values_give_the_delay_and_refuse_bad_ones() -> None:
    assert checked_mock_values({"x-mock-response-delay": "15"}, ()) == 15
    assert checked_mock_values({}, (("x-mock-response-code", "404"),)) is None
    with pytest.raises(RequestProblem, match="x-mock-response-code must be an HTTP status 100-599"):
        checked_mock_values({"x-mock-response-code": "99"}, ())
    with pytest.raises(RequestProblem, match="x-mock-response-delay must be a whole number"):
        checked_mock_values({}, (("x-mock-response-delay", "-1"),))


def test_an_unknown_fault_is_a_400_and_a_known_one_is_given() -> None:
    assert asked_fault({"x-mock-response-fault": "reset"}, ()) == "reset"
    assert asked_fault({}, ()) is None
    with pytest.raises(RequestProblem) as refused:
        asked_fault({}, (("x-mock-response-fault", "explode"),))
    assert refused.value.status == 400 and refused.value.message.startswith("x-mock-response-fault: ")


def test_prisms_preferences_make_a_request_send_mock_values() -> None:
    assert sends_mock_values(RequestHeaders([(b"Prefer", b"code=404")]), ())
    assert sends_mock_values(RequestHeaders([]), (("__example", "cat"),))
    assert not sends_mock_values(RequestHeaders([]), (("_code", "1"),))


@pytest.mark.parametrize(("headers", "query", "asked"), [
    ({"prefer": "dynamic=true"}, (), (True, None)),
    ({"prefer": "dynamic=FALSE, seed=7"}, (), (False, "7")),
    ({}, (("__dynamic", "true"), ("__seed", "abc")), (True, "abc")),
    ({"prefer": "code=404"}, (), (None, None)),
    ({"prefer": "example=cat, dynamic=true"}, (), (False, None)),  # the key wins, as in Prism
    ({"x-mock-response-name": "Cat", "prefer": "dynamic=true"}, (), (False, None)),
])
def test_asked_preferences_gives_dynamic_and_the_seed(headers: dict[str, str], query: Query,
                                                       asked: tuple[bool | None, str | None]) -> None:
    assert asked_preferences(headers, query) == asked


@pytest.mark.parametrize(("headers", "query", "message"), [
    ({"prefer": "code=4044"}, (), "Prefer code must be an HTTP status 100-599, got '4044'"),
    ({}, (("__code", "x"),), "Prefer code must be an HTTP status 100-599, got 'x'"),
    ({"prefer": "dynamic=1"}, (), "Prefer dynamic must be true or false, got '1'"),
    ({"prefer": "dynamic=true, seed=" + "9" * 20}, (), "Prefer seed must be 1-12 characters"),
])
def test_asked_preferences_refuses_what_cannot_be_used(headers: dict[str, str], query: Query, message: str) -> None:
    with pytest.raises(RequestProblem) as refused:
        asked_preferences(headers, query)
    assert refused.value.status == 400 and refused.value.message.startswith(message)


@pytest.mark.parametrize("scope, path", [
    ({"path": "/files/a/b", "raw_path": b"/files/a%2Fb"}, "/files/a%2Fb"),  # the segments as sent (issue 23)
    ({"path": "/caf\u00e9", "raw_path": b"/caf%C3%A9"}, "/caf\u00e9"),
    ({"path": "/x%2Fy", "raw_path": b"/x%252Fy"}, "/x%252Fy"),          # decoded once, its "%" kept encoded
    ({"path": "/users/7", "raw_path": b"/users/7"}, "/users/7"),          # no "%": the decoded path as it is
    ({"path": "/files/a/b"}, "/files/a/b"),                               # no raw_path: what the server decoded
    ({"path": "/50%"}, "/50%25"),                                         # ... with its own "%" encoded
])
def test_the_path_as_matched_is_made_from_the_raw_path(scope: dict, path: str) -> None:
    assert matched_path(scope) == path
