"""Requests the mock refuses before answering them, and the JSON errors that say why.

A stage of the request pipeline raises :class:`RequestProblem` (a bad ``x-mock-*`` value, a body
too large or too slow, a request that breaks the OpenAPI document); :func:`problem_response` turns
it into the answer. Every error body comes from :func:`~postmock_nb.answers.responses.error_response`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from postmock_nb.answers.responses import HttpResponse, error_response
from postmock_nb.core import wire
from postmock_nb.serving.shared.connection import StateUnavailable

if TYPE_CHECKING:  # types only: bridges.validation imports jsonschema, slow to import (seconds)
    from postmock_nb.bridges.validation import Refusal, Violation

BAD_MOCK_REQUEST = "Bad mock request"
"""The ``header`` of every refusal of the request itself (400, 401, 405, 408, 413, 415, 422)."""
MAX_LISTED = 20
"""At most this many violations are listed in a 422 (its ``count`` says how many in all)."""
SHOWN_IN_MESSAGE = 3
"""Violations named in a 422's ``message`` (the rest: "and N more")."""


class RequestProblem(Exception):
    """A request we refuse before matching (bad ``x-mock-*`` value, body too large)."""

    def __init__(self, status: int, name: str, message: str, extra: dict[str, Any] | None = None,
                 headers: wire.Headers | None = None, answer: HttpResponse | None = None) -> None:
        super().__init__(message)
        self.status, self.name, self.message = status, name, message
        self.extra = extra or {}
        """More fields for the error's JSON (``violations`` of an OpenAPI check)."""
        self.headers: wire.Headers = headers or []
        """Headers the refusal carries (``Allow``, ``WWW-Authenticate``)."""
        self.answer = answer
        """The answer, when it is not the mock's JSON error (the OpenAPI document's own response)."""


def bad_mock_value(message: str) -> RequestProblem:
    """A 400 for an ``x-mock-*`` value the mock cannot use."""
    return RequestProblem(400, "mockRequestError", message)


def too_large(limit: int) -> RequestProblem:
    """A 413 for a body over ``--max-body`` (``limit`` bytes)."""
    return RequestProblem(413, "mockRequestTooLarge", f"request body over {limit} bytes")


def invalid_request(violations: Sequence[Violation]) -> RequestProblem:
    """The 422 for a request that breaks the OpenAPI document (``violations``: not empty)."""
    listed = "; ".join(f"{v.path}: {v.message}" for v in violations[:SHOWN_IN_MESSAGE])
    more = f" (and {len(violations) - SHOWN_IN_MESSAGE} more)" if len(violations) > SHOWN_IN_MESSAGE else ""
    return RequestProblem(422, "mockRequestInvalid", f"the request breaks the OpenAPI document: {listed}{more}",
                          extra={"violations": [v.json() for v in violations[:MAX_LISTED]],
                                 "count": len(violations)})


_REFUSALS = {405: ("mockMethodNotAllowed", "the OpenAPI document does not give this method to this path"),
             401: ("mockUnauthorized", "the request lacks the credentials the OpenAPI document requires"),
             415: ("mockUnsupportedMediaType", "the OpenAPI document does not accept this request body's media type")}


def refused_request(refusal: Refusal) -> RequestProblem:
    """The answer to a request that breaks the OpenAPI document: the document's own response for the status
    when it has one (:attr:`Refusal.documented`, the refusal's headers added unless it has them), else the
    mock's JSON error (a 422 listing the violations, a 401, 405 or 415 naming what is wanted)."""
    violations = list(refusal.violations)
    own = [(name.lower().encode("ascii"), wire.header_value(value)) for name, value in refusal.headers]
    if refusal.status in _REFUSALS:
        name, why = _REFUSALS[refusal.status]
        listed = "; ".join(f"{v.path}: {v.message}" for v in violations[:SHOWN_IN_MESSAGE])
        problem = RequestProblem(refusal.status, name, f"{why}: {listed}",
                                 extra={"violations": [v.json() for v in violations[:MAX_LISTED]],
                                        "count": len(violations)}, headers=own)
    else:
        problem = invalid_request(violations)
        problem.headers = own
    if refusal.documented is not None:
        status, headers, body = refusal.documented
        saved = wire.saved_headers(headers)  # the document's, Content-Type apart (unsendable ones dropped)
        content_type = next((value for name, value in headers if name.lower() == "content-type"), "")
        if content_type:
            saved.insert(0, (b"content-type", wire.content_type_value(content_type)))
        named = {name for name, _ in saved}
        problem.answer = HttpResponse(status, saved + [header for header in own if header[0] not in named],
                                      body.encode("utf-8"))
        problem.message += f" (answered with the document's {status} response)"
    return problem


def unchecked_note(unchecked: Sequence[str]) -> str:
    """The log note naming the document's patterns that are not regular expressions (not checked), or ``""``."""
    if not unchecked:
        return ""
    listed = ", ".join(repr(pattern) for pattern in unchecked)
    return f"not checked against {listed}: not a regular expression"


def problem_response(problem: RequestProblem) -> HttpResponse:
    """The answer to a refused request; a 408 closes the connection (the rest of a stalled body must not
    be read as the next request)."""
    if problem.answer is not None:
        return problem.answer
    response = error_response(problem.status, problem.name, BAD_MOCK_REQUEST, problem.message, fields=problem.extra,
                              extra=problem.headers)
    if problem.status == 408:
        response.headers.append((b"connection", b"close"))
    return response


def unsafe_echo_response(message: str) -> HttpResponse:
    """A 400 for a request whose values the response would echo unsafely (see ``wire.UnsafeEcho``)."""
    return error_response(400, "mockRequestError", BAD_MOCK_REQUEST, message)


def internal_error_response(last_line: str) -> HttpResponse:
    """The 500 for a bug of ours (``last_line``: the traceback's last line; the whole is in the error log)."""
    return error_response(500, "mockServerError", "Internal mock error", last_line)


def state_unavailable_response(problem: StateUnavailable) -> HttpResponse:
    """503 ``stateUnavailable``: the shared state (``--state``) cannot be reached; naming the store."""
    return error_response(503, "stateUnavailable", "Service Unavailable", str(problem),
                          fields={"store": problem.store})
