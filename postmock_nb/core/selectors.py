"""Postman's ``x-mock-*`` selectors: what a request sends, and how their values are read.

The names live in :mod:`postmock_nb.core.markers` (re-exported here for the modules that read
selectors); here is how a request's values are read: by the engine, and by the app (values refused
before matching).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from postmock_nb.core.markers import (
    CONTAINS,
    EXAMPLE_ID_HEADER,
    EXAMPLE_NAME_HEADER,
    MATCH_BODY,
    MATCH_HEADERS,
    MATCH_QUERY,
    MOCK_PREFIX,
    MOCK_SELECTORS,
    RESPONSE_CODE,
    RESPONSE_DELAY,
    RESPONSE_ID,
    RESPONSE_NAME,
    SCORE_HEADER,
    header_names,
    is_contains,
    is_mock_name,
    is_on,
)

__all__ = [
    "CONTAINS", "EXAMPLE_ID_HEADER", "EXAMPLE_NAME_HEADER", "MATCH_BODY", "MATCH_HEADERS", "MATCH_QUERY",
    "MOCK_PREFIX", "MOCK_SELECTORS", "RESPONSE_CODE", "RESPONSE_DELAY", "RESPONSE_ID", "RESPONSE_NAME",
    "SCORE_HEADER", "header_names", "is_contains", "is_mock_name", "is_on", "mock_values", "query_value",
    "utf8_header",
]

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
