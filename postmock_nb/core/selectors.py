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
    PREFER,
    PREFER_DYNAMIC,
    PREFER_EXAMPLE,
    PREFER_QUERY,
    PREFER_SEED,
    RESPONSE_CODE,
    RESPONSE_DELAY,
    RESPONSE_ID,
    RESPONSE_NAME,
    SCORE_HEADER,
    header_names,
    is_contains,
    is_mock_name,
    is_on,
    prefer_values,
)

__all__ = [
    "CONTAINS", "EXAMPLE_ID_HEADER", "EXAMPLE_NAME_HEADER", "MATCH_BODY", "MATCH_HEADERS", "MATCH_QUERY",
    "MOCK_PREFIX", "MOCK_SELECTORS", "PREFER", "PREFER_DYNAMIC", "PREFER_EXAMPLE", "PREFER_QUERY", "PREFER_SEED",
    "QUERY_SELECTORS", "RESPONSE_CODE", "RESPONSE_DELAY", "RESPONSE_ID", "RESPONSE_NAME",
    "SCORE_HEADER", "header_names", "is_contains", "is_mock_name", "is_on", "mock_values", "query_value",
    "utf8_header",
]

QUERY_SELECTORS = frozenset((*MOCK_SELECTORS, *PREFER_QUERY))
"""The query parameters that are selectors, never matched as the request's own (``x-mock-*``, Prism's ``__code``…)."""


def mock_values(headers: Mapping[str, str], query: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The selectors a request sent (lower-case header names): a header wins over a query parameter,
    the first of repeated query parameters counts. Prism's preferences fill in what the ``x-mock-*`` values
    leave (``Prefer: code=404`` is ``x-mock-response-code: 404``; ``example``, ``dynamic``, ``seed`` are their
    own): the ``Prefer`` header's, else (no such header, as Prism reads them) the ``__code``-style parameters'."""
    values: dict[str, str] = {}
    preferred: dict[str, str] = {}
    for key, value in query:
        lowered = key.lower()
        if lowered in MOCK_SELECTORS:
            values.setdefault(lowered, value)
        elif lowered in PREFER_QUERY:
            preferred.setdefault(PREFER_QUERY[lowered], value)
    for name in MOCK_SELECTORS:
        sent = headers.get(name)
        if sent is not None:
            values[name] = utf8_header(sent) if name == RESPONSE_NAME else sent
    prefer = headers.get(PREFER)
    if prefer is not None:
        preferred = prefer_values(utf8_header(prefer))
    for name, value in preferred.items():
        values.setdefault(name, value)
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
