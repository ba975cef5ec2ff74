"""Verification over HTTP and from the kernel: the journal read through its interface, judged by
:mod:`postmock_nb.answers.verification`.

Routes (registered on the admin app by :func:`register_verification`):

* ``GET /__postmock/requests?method=POST&path=/users/:id&query=page=2&header=x-role:admin&limit=N``: the
  journal's entries, matched or not, newest first, filtered by method, path pattern, query subset and
  header subset (a name with no value: sent, with any value); secret header values masked as the log masks them.
* ``POST /__postmock/verify`` with ``{"request": "POST /users", "times": 1, "at_least": null, "at_most": null,
  "json": {...}, "body": "...", "headers": {...}, "query": {...}, "contains": false}`` →
  ``{"verified": bool, "count": n, "message": "..."}`` (the AssertionError's text, "" when verified);
  400 in the one error shape for a verification that cannot be read.

Only what an entry read back from a shared journal has is used (method, path, query string, raw headers and
body, status, example id), so with ``--state redis://…`` verification sees every replica's requests.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import TYPE_CHECKING, Any, Protocol

from postmock_nb.answers.responses import error_body
from postmock_nb.answers.verification import Expectation, ExpectationError, JournalView, Received, Verification, verify
from postmock_nb.config import MockConfig
from postmock_nb.core import limits
from postmock_nb.core.masking import mask_parameter
from postmock_nb.serving.journal import Journal
from postmock_nb.serving.requestlog import LogEntry

if TYPE_CHECKING:  # quart loads with the admin API, when a mock starts
    from quart import Quart

MAX_LIMIT_DIGITS = 9
"""A ``limit`` longer than this is refused (a journal keeps far fewer entries)."""
ANY_VALUE = "{{$any}}"
"""What a filter's name alone asks for: the parameter or header sent, with any value."""
REQUESTS_PATH = "/__postmock/requests"
VERIFY_PATH = "/__postmock/verify"
VERIFY_KEYS = ("request", "times", "at_least", "at_most", "json", "body", "headers", "query", "contains")
"""What a ``POST /__postmock/verify`` body may hold (``request`` is required)."""


class Journaled(Protocol):
    """What the routes read of a mock: its journal and settings, at each request."""

    log: Journal
    settings: MockConfig


def received(entry: LogEntry) -> Received:
    """A journal entry as verification reads it."""
    return Received(entry.seq, entry.request(), entry.status, entry.example_id, entry.time,
                    body_cut=(entry.body_size or 0) > len(entry.raw_body))


def _served(journal: Journal) -> list[LogEntry]:
    """The entries kept, newest first, but the lines standing for bursts of refused requests and the callbacks
    the mock sent (requests it made, not received)."""
    return [entry for entry in journal.recent() if not entry.refused and not entry.direction]


def worker_scope(settings: MockConfig) -> str:
    """What a journal covers when it is not the whole mock's: one of several workers, with no shared state."""
    if settings.workers <= 1 or settings.state is not None:
        return ""
    return (f"this is one worker of {settings.workers} (pid {os.getpid()}), each with its own journal: "
            "serve with --state redis://… to verify across them")


def verify_journal(journal: Journal, expectation: Expectation, *, scope: str = "") -> Verification:
    """Judge ``expectation`` against every request ``journal`` keeps (``scope``: see :func:`worker_scope`)."""
    counts = journal.counts()
    view = JournalView(journal.maxlen, counts.total - counts.refused, counts.refused, scope)
    return verify(expectation, [received(entry) for entry in _served(journal)], view)


def requested(journal: Journal, wanted: Expectation, limit: int | None = None) -> list[LogEntry]:
    """The entries ``wanted`` matches (its counts aside), newest first, at most ``limit``."""
    found = [entry for entry in _served(journal) if wanted.matches(received(entry))]
    return found[:limit] if limit is not None else found


def entry_json(entry: LogEntry) -> dict[str, Any]:
    """One entry as ``GET /__postmock/requests`` lists it (secret header values masked)."""
    request = entry.request()
    return {"seq": entry.seq, "time": entry.time, "method": entry.method, "path": entry.path,
            "query": [[name, mask_parameter(name, value)] for name, value in request.query], "url": entry.url,
            "headers": [list(pair) for pair in entry.headers], "body": entry.body, "status": entry.status,
            "example_id": entry.example_id, "example": entry.example_name, "matched": entry.matched}


def verify_body(raw: bytes) -> object:
    """The JSON a ``POST /__postmock/verify`` sent (ExpectationError: not UTF-8, not JSON, nested too deep)."""
    try:
        return limits.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ExpectationError(f"the body is not UTF-8 text (byte {error.start})") from None
    except limits.TooDeep:
        raise ExpectationError(f"the JSON nests more than {limits.MAX_JSON_DEPTH} levels deep") from None
    except json.JSONDecodeError as error:
        raise ExpectationError(f"the body must be a JSON object: not valid JSON ({error.msg} at line "
                               f"{error.lineno}, column {error.colno})",
                               hint='{"request": "POST /users", "times": 1}') from None
    except ValueError as error:  # an integer longer than Python converts
        raise ExpectationError(f"cannot read the JSON: {error}") from None


def expectation_of(data: object) -> Expectation:
    """The expectation a ``POST /__postmock/verify`` body describes (ExpectationError: it cannot be read)."""
    if not isinstance(data, dict):
        raise ExpectationError("the body must be a JSON object", hint='{"request": "POST /users", "times": 1}')
    unknown = sorted(set(data) - set(VERIFY_KEYS))
    if unknown:
        raise ExpectationError(f"unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
                               hint="the fields are " + ", ".join(VERIFY_KEYS))
    if "request" not in data:
        raise ExpectationError("the request to verify is missing", hint='"request": "POST /users"')
    for name in ("headers", "query"):
        if data.get(name) is not None and not isinstance(data[name], dict):
            raise ExpectationError(f"{name} must be an object of names and values", hint=f'"{name}": {{"k": "v"}}')
    contains = data.get("contains", False)
    if not isinstance(contains, bool):
        raise ExpectationError(f"contains must be true or false, got {contains!r}")
    return Expectation.of(data["request"], times=data.get("times"), at_least=data.get("at_least"),
                          at_most=data.get("at_most"), json=data.get("json"), body=data.get("body"),
                          headers=data.get("headers"), query=data.get("query"), contains=contains)


def _pair(text: str, separator: str, what: str) -> tuple[str, str]:
    """``x-role:admin`` → (``x-role``, ``admin``); a name alone (``x-role``, ``page``): sent, with any value."""
    name, given, value = text.partition(separator)
    if not name.strip():
        raise ExpectationError(f"{what}={text!r}: a name is missing", hint=f"{what}=name{separator}value")
    if not given:
        return name.strip(), ANY_VALUE
    return name.strip(), value.strip() if what == "header" else value


def filter_of(args: Any) -> tuple[Expectation, int | None]:
    """The filters of ``GET /__postmock/requests`` (its query arguments) and its limit."""
    limit_text = args.get("limit")
    limit = None
    if limit_text is not None:
        if not (limit_text.isascii() and limit_text.isdigit()) or len(limit_text) > MAX_LIMIT_DIGITS:
            raise ExpectationError(f"limit must be a whole number, got {limit_text!r}", hint="limit=20")
        limit = int(limit_text)
    wanted = Expectation.filter(method=args.get("method") or None, path=args.get("path") or None,
                                query=[_pair(q, "=", "query") for q in args.getlist("query")],
                                headers=[_pair(h, ":", "header") for h in args.getlist("header")])
    return wanted, limit


def register_verification(admin: Quart, mock: Journaled) -> None:
    """Add ``GET /__postmock/requests`` and ``POST /__postmock/verify`` to the admin app (Quart)."""
    from quart import Response, jsonify, request  # deferred: quart is slow to import (only the admin API needs it)

    def bad(error: ExpectationError) -> Any:
        body = error_body("invalidVerification", "Bad Request", str(error))
        return Response(body, status=400, content_type="application/json")

    @admin.get(REQUESTS_PATH)
    async def requests_list() -> Any:
        try:
            wanted, limit = filter_of(request.args)
        except ExpectationError as error:
            return bad(error)
        found = await asyncio.to_thread(requested, mock.log, wanted, limit)  # off the loop: bodies get compared
        return jsonify([entry_json(entry) for entry in found])

    @admin.post(VERIFY_PATH)
    async def verify_route() -> Any:
        raw = await request.get_data(cache=False)
        assert isinstance(raw, bytes)
        try:
            expectation = expectation_of(await asyncio.to_thread(verify_body, raw))  # off the loop: up to 10 MB
        except ExpectationError as error:
            return bad(error)
        scope = worker_scope(mock.settings)
        verification = await asyncio.to_thread(lambda: verify_journal(mock.log, expectation, scope=scope))
        return jsonify(verification.as_json() | ({"scope": scope} if scope else {}))
