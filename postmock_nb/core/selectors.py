"""Postman's ``x-mock-*`` names: the selectors and switches a request sends, the markers an example saves.

One place for the names and for how their values are read, used by the engine (selectors), the
snapshot (an example's saved markers), the app (values refused before matching), the response
layer (the headers it adds) and the cell parser (the markers it writes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

MOCK_PREFIX = "x-mock-"
RESPONSE_CODE = "x-mock-response-code"
RESPONSE_ID = "x-mock-response-id"
RESPONSE_NAME = "x-mock-response-name"
MATCH_HEADERS = "x-mock-match-request-headers"
MATCH_BODY = "x-mock-match-request-body"
MATCH_QUERY = "x-mock-match-request-query"
"""Ours: ``contains`` lets a request carry query parameters the example does not (they cost nothing)."""
CONTAINS = "contains"
"""The value of a body or query switch that asks for "contains the example's fields" instead of equality."""
RESPONSE_DELAY = "x-mock-response-delay"
MOCK_SELECTORS = (RESPONSE_CODE, RESPONSE_ID, RESPONSE_NAME, MATCH_HEADERS, MATCH_BODY, MATCH_QUERY, RESPONSE_DELAY)
"""What a request may send as a header, or as a query parameter of the same name (browsers cannot
always set custom headers)."""

EXAMPLE_ID_HEADER = "x-mock-example-id"
EXAMPLE_NAME_HEADER = "x-mock-example-name"
SCORE_HEADER = "x-mock-score"
"""Headers the mock adds to every matched response."""


def is_mock_name(name: str) -> bool:
    """``X-Mock-Response-Code`` and the like: ours, never compared as a plain header or parameter."""
    return name.lower().startswith(MOCK_PREFIX)


def mock_values(headers: Mapping[str, str], query: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The selectors a request sent (lower-case header names): a header wins over a query parameter,
    the first of repeated query parameters counts."""
    values: dict[str, str] = {}
    for key, value in query:
        lowered = key.lower()
        if lowered in MOCK_SELECTORS:
            values.setdefault(lowered, value)
    for name in MOCK_SELECTORS:
        sent = headers.get(name)
        if sent is not None:
            values[name] = utf8_header(sent) if name == RESPONSE_NAME else sent
    return values


def utf8_header(value: str) -> str:
    """A header value as the client wrote it: ASGI servers decode header bytes as latin-1, clients send
    UTF-8 (``x-mock-response-name: Café``); not valid UTF-8 bytes stay as they were decoded."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def query_value(query: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first query parameter called ``name`` (any case), or None."""
    return next((v for k, v in query if k.lower() == name), None)


def header_names(value: str) -> tuple[str, ...]:
    """``"X-Role, accept"`` → ``("x-role", "accept")``: an ``x-mock-match-request-headers`` list."""
    return tuple(h.strip().lower() for h in value.split(",") if h.strip())


def is_on(value: str) -> bool:
    """An ``x-mock-match-request-body`` switch that is on (``true``, or ``contains``)."""
    return value.strip().lower() in ("true", CONTAINS)


def is_contains(value: str) -> bool:
    """An ``x-mock-match-request-body`` / ``x-mock-match-request-query`` switch asking for "contains"."""
    return value.strip().lower() == CONTAINS
