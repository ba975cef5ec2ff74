"""The read stage of a mock request: its path as matched, its body (bounded in size and time) and its
``x-mock-*`` values."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from postmock_nb.answers.faults import RESPONSE_FAULT, FaultError, parse_fault
from postmock_nb.config import MAX_DELAY_MS
from postmock_nb.core import limits, wire
from postmock_nb.core.headers import RequestHeaders
from postmock_nb.core.paths import encode_segment, path_as_matched
from postmock_nb.core.selectors import (
    MOCK_SELECTORS,
    PREFER,
    PREFER_DYNAMIC,
    PREFER_EXAMPLE,
    PREFER_QUERY,
    PREFER_SEED,
    RESPONSE_CODE,
    RESPONSE_DELAY,
    RESPONSE_ID,
    RESPONSE_NAME,
    mock_values,
    query_value,
)
from postmock_nb.serving.problems import RequestProblem, bad_mock_value, too_large

Receive = Callable[[], Awaitable[dict[str, Any]]]
Query = tuple[tuple[str, str], ...]

BODY_LOST = ("the request body did not arrive whole: the client stalled past the read timeout or closed the "
             "connection, or the HTTP server refused the body (a malformed chunked body) and may have answered itself")
_PERCENT = ord("%")
"""Looked for as a byte: ``37 in raw`` costs a tenth of ``b"%" in raw`` (this runs on every request)."""
MOCK_NAMES = frozenset((*MOCK_SELECTORS, RESPONSE_FAULT, PREFER, *PREFER_QUERY))
"""The ``x-mock-*`` names a request may send (as a header or a query parameter), and Prism's (``Prefer``,
``__code``…)."""
MOCK_HEADER_NAMES = frozenset(name.encode("latin-1") for name in MOCK_NAMES)
"""The same names, as the header names of the request are read before they are decoded."""
BODY_NAMES = frozenset((b"content-length", b"transfer-encoding"))
"""The headers that announce a request body on HTTP/1."""


def matched_path(scope: dict[str, Any]) -> str:
    """The request's path as matching reads it (:func:`~postmock_nb.core.paths.path_as_matched`): made from
    ``raw_path``, the path as sent, so that ``/files/a%2Fb`` stays one segment (``scope["path"]`` is decoded
    whole: ``/files/a/b``, two segments).

    What each server gives (measured, tests/server/test_encoded_paths.py): uvicorn (httptools), Hypercorn (h11;
    an absolute-form target cut to its path by its adapter, ``origin_form``) and granian all give ``raw_path``,
    the target's path as sent, without the query. A server that gives none (``raw_path`` is optional in
    ASGI): the decoded path, its ``%``/``?``/``#`` re-encoded, in which an encoded ``/`` cannot be told apart.
    A path without ``%`` (most) is ``scope["path"]`` as it is.
    """
    raw = scope.get("raw_path")
    if raw is not None:
        return path_as_matched(raw.decode("utf-8", "replace")) if _PERCENT in raw else scope["path"]
    path: str = scope["path"]
    return "/".join(map(encode_segment, path.split("/"))) if "%" in path or "?" in path or "#" in path else path


def body_announced(scope: dict[str, Any], headers: RequestHeaders) -> bool:
    """Whether a body may come: HTTP/1 without a length or chunks has none (nothing to wait for)."""
    return scope.get("http_version") not in wire.HTTP1 or headers.names_any_of(BODY_NAMES)


async def read_body(receive: Receive, headers: Mapping[str, str], *, max_bytes: int, timeout_s: float) -> bytes:
    """The whole request body (when :func:`body_announced`): a 413 over ``max_bytes`` (before buffering,
    when declared), a 408 when a part does not come within ``timeout_s``."""
    declared = declared_length(headers)
    if declared is not None and declared > max_bytes:  # refused before buffering anything
        raise too_large(max_bytes)
    message = await receive_body(receive, timeout_s)
    if not message.get("more_body", False):  # the usual case: the whole body (often none) at once
        body = message.get("body", b"")
        if len(body) > max_bytes:
            raise too_large(max_bytes)
        return bytes(body)
    chunks = []
    size = 0
    while True:
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
        message = await receive_body(receive, timeout_s)


async def receive_body(receive: Receive, timeout_s: float) -> dict[str, Any]:
    """The next part of the request body; a 408 when none comes within the read timeout (a stalled body,
    on every server: none of them bounds it) or the client left."""
    try:
        message: dict[str, Any] = await asyncio.wait_for(receive(), timeout_s)
    except TimeoutError:
        raise RequestProblem(408, "mockRequestTimeout", BODY_LOST) from None
    if message["type"] == "http.disconnect":
        raise RequestProblem(408, "mockRequestTimeout", BODY_LOST)
    return message


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The request's Content-Length, if it is a plain number (the HTTP server has checked it)."""
    value = headers.get("content-length", "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def sends_mock_values(headers: RequestHeaders, query: Query) -> bool:
    """Whether the request sends an ``x-mock-*`` value (header or query): they are checked, and they
    make the match read more than the request line."""
    return headers.names_any_of(MOCK_HEADER_NAMES) or (
        bool(query) and any(key.lower() in MOCK_NAMES for key, _ in query))


def _number(name: str, value: str, low: int, high: int, what: str) -> int:
    """``value`` as a whole number from ``low`` to ``high``, or a 400 naming the header and the (shortened) value."""
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= limits.MAX_MOCK_VALUE) or not low <= int(text) <= high:
        raise bad_mock_value(f"{name} must be {what}, got {wire.shorten(value)}")
    return int(text)


def checked_mock_values(headers: Mapping[str, str], query: Query) -> int | None:
    """Refuse bad ``x-mock-response-code`` / ``-delay`` values (header or query); return the delay asked (ms)."""
    raw = headers.get(RESPONSE_DELAY)
    if raw is None:
        raw = query_value(query, RESPONSE_DELAY)
    code = headers.get(RESPONSE_CODE) or query_value(query, RESPONSE_CODE)
    if code is not None:
        _number(RESPONSE_CODE, code, 100, 599, "an HTTP status 100-599")
    if raw is None:
        return None
    return _number(RESPONSE_DELAY, raw, 1, MAX_DELAY_MS, f"a whole number of milliseconds 1-{MAX_DELAY_MS}")


def asked_preferences(headers: Mapping[str, str], query: Query) -> tuple[bool | None, str | None]:
    """Prism's preferences (``Prefer: code=404, example=cat, dynamic=true, seed=7``, or ``?__code=404``…) checked
    (a 400 for a code or a ``dynamic`` that cannot be used); returns what ``dynamic`` asks (None: not asked) and
    the seed (an example picked by key, name or id: never a fresh body, as in Prism)."""
    values = mock_values(headers, query)
    code = values.get(RESPONSE_CODE)
    if code is not None and headers.get(RESPONSE_CODE) is None and query_value(query, RESPONSE_CODE) is None:
        _number("Prefer code", code, 100, 599, "an HTTP status 100-599")  # Prism's, not x-mock-response-code
    dynamic = values.get(PREFER_DYNAMIC)
    if dynamic is not None and dynamic.strip().lower() not in ("true", "false"):
        raise bad_mock_value(f"Prefer dynamic must be true or false, got {wire.shorten(dynamic)}")
    seed = values.get(PREFER_SEED)
    if seed is not None and not (seed.strip() and len(seed) <= limits.MAX_MOCK_VALUE):
        raise bad_mock_value(f"Prefer seed must be 1-{limits.MAX_MOCK_VALUE} characters, got {wire.shorten(seed)}")
    if PREFER_EXAMPLE in values or RESPONSE_NAME in values or RESPONSE_ID in values:
        return False, seed  # an example asked for by its key, name or id is served as saved (Prism: the key wins)
    return (None if dynamic is None else dynamic.strip().lower() == "true"), seed


def asked_fault(headers: Mapping[str, str], query: Query) -> str | None:
    """The request's ``x-mock-response-fault`` (header, else query), checked: an unknown one is a 400."""
    raw = headers.get(RESPONSE_FAULT)
    if raw is None:
        raw = query_value(query, RESPONSE_FAULT)
    if raw is None:
        return None
    try:
        return parse_fault(raw)
    except FaultError as error:
        raise bad_mock_value(f"{RESPONSE_FAULT}: {error}") from None
