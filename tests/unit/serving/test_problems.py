"""serving/problems.py: refusals of the request itself, and the JSON errors that say why."""

from __future__ import annotations

import json

from postmock_nb.bridges.validation import Refusal, Violation
from postmock_nb.serving.problems import (
    MAX_LISTED,
    RequestProblem,
    bad_mock_value,
    internal_error_response,
    invalid_request,
    problem_response,
    refused_request,
    too_large,
    unchecked_note,
    unsafe_echo_response,
)


def _error(response) -> dict:
    return json.loads(response.body)["error"]


def test_a_422_names_the_first_three_violations_and_counts_the_rest() -> None:
    violations = [Violation(f"$.query.p{n}", "is required") for n in range(5)]
    problem = invalid_request(violations)
    assert (problem.status, problem.name) == (422, "mockRequestInvalid")
    assert problem.message == ("the request breaks the OpenAPI document: $.query.p0: is required; "
                               "$.query.p1: is required; $.query.p2: is required (and 2 more)")
    assert problem.extra == {"violations": [v.json() for v in violations], "count": 5}


def test_a_422_lists_at_most_max_listed_violations() -> None:
    problem = invalid_request([Violation(f"$.body.a[{n}]", "wrong") for n in range(MAX_LISTED + 5)])
    assert len(problem.extra["violations"]) == MAX_LISTED
    assert problem.extra["count"] == MAX_LISTED + 5


def test_a_single_violation_has_no_more_clause() -> None:
    problem = invalid_request([Violation("$.path.id", "is not an integer")])
    assert problem.message == "the request breaks the OpenAPI document: $.path.id: is not an integer"


def test_the_422_body_keeps_the_shared_shape_with_the_violations_after_it() -> None:
    response = problem_response(invalid_request([Violation("$.header.x-id", "is required")]))
    assert response.status == 422
    assert list(_error(response)) == ["name", "header", "message", "violations", "count"]
    assert _error(response)["header"] == "Bad mock request"


def test_unchecked_patterns_make_a_note_and_none_make_none() -> None:
    assert unchecked_note([]) == ""
    assert unchecked_note(["(?=a)", "b(?!c)"]) == "not checked against '(?=a)', 'b(?!c)': not a regular expression"


def test_a_408_closes_the_connection_and_other_refusals_do_not() -> None:
    stalled = problem_response(RequestProblem(408, "mockRequestTimeout", "slow"))
    assert (b"connection", b"close") in stalled.headers
    big = problem_response(too_large(10))
    assert big.status == 413 and _error(big)["message"] == "request body over 10 bytes"
    assert all(name != b"connection" for name, _ in big.headers)


def test_every_error_the_pipeline_builds_has_the_one_shape() -> None:
    for response in (problem_response(bad_mock_value("x-mock-response-code must be a number")),
                     unsafe_echo_response("a header value with a newline"), internal_error_response("KeyError: 'a'")):
        assert response.headers[0] == (b"content-type", b"application/json")
        assert list(_error(response)) == ["name", "header", "message"]
    assert _error(internal_error_response("KeyError: 'a'")) == {
        "name": "mockServerError", "header": "Internal mock error", "message": "KeyError: 'a'"}


def test_a_refusal_without_the_document_s_answer_is_our_error_with_its_header() -> None:
    allow = Violation("$.method", "PATCH is not one of the methods the document gives this path: GET", 405,
                      ("Allow", "GET"))
    problem = refused_request(Refusal(405, (allow,), (("Allow", "GET"),)))
    response = problem_response(problem)
    assert (response.status, (b"allow", b"GET") in response.headers) == (405, True)
    assert _error(response)["name"] == "mockMethodNotAllowed"
    assert _error(response)["violations"] == [allow.json()]
    assert problem.message == f"the OpenAPI document does not give this method to this path: $.method: {allow.message}"
    invalid = refused_request(Refusal(422, (Violation("$.body", "bad"),), ()))
    assert (invalid.status, invalid.name) == (422, "mockRequestInvalid")


def test_the_document_s_own_answer_keeps_its_headers_and_adds_ours_it_lacks() -> None:
    key = Violation("$.header.authorization", "needs a token", 401, ("WWW-Authenticate", "Bearer"))
    documented = (401, (("Content-Type", "application/json"), ("X-Trace", "1"), ("Bad\nName", "x")), '{"code": 1}')
    problem = refused_request(Refusal(401, (key,), (("WWW-Authenticate", "Bearer"),), documented))
    response = problem_response(problem)
    assert (response.status, response.body) == (401, b'{"code": 1}')
    assert response.headers == [(b"content-type", b"application/json"), (b"x-trace", b"1"),
                                (b"www-authenticate", b"Bearer")]  # an unsendable header dropped
    assert problem.message.endswith("(answered with the document's 401 response)")
    own = (401, (("WWW-Authenticate", 'Bearer realm="pets"'),), "")
    response = problem_response(refused_request(Refusal(401, (key,), (("WWW-Authenticate", "Bearer"),), own)))
    assert response.headers == [(b"www-authenticate", b'Bearer realm="pets"')]  # the document's challenge kept
