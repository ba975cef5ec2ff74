"""Masking secrets in everything the mock shows: keys, and the headers that carry credentials."""

from __future__ import annotations

from urllib.parse import unquote_plus

from postmock_nb.core.wire import KEY_SUBPROTOCOL, SECRET_QUERY, SECRET_RESPONSE_HEADERS
from postmock_nb.core.wire import SECRET_HEADERS as SECRET_HEADERS  # the header sets live in core.wire


def mask(secret: str) -> str:
    """``PMAK-1234…cdef``: enough to recognise a long key, little or nothing of a short one.

    Most of the characters stay hidden whatever the length: a key of 32 characters or more
    (``PMAK-`` keys have 37) shows its first 9 and last 4; one of 16-31 its first 4; one of
    8-15 its first 2; a shorter one none.
    """
    if len(secret) >= 32:
        return f"{secret[:9]}…{secret[-4:]}"
    if len(secret) >= 16:
        return f"{secret[:4]}…"
    if len(secret) >= 8:
        return f"{secret[:2]}…"
    return "…"


def mask_header(name: str, value: str) -> str:
    """``value`` masked when ``name`` carries credentials (the auth scheme is kept: ``Bearer ey…``; a WebSocket
    upgrade's key subprotocol keeps its prefix: ``postmock-key.se…``)."""
    if name.lower() == "sec-websocket-protocol" and KEY_SUBPROTOCOL in value:
        return ", ".join(f"{KEY_SUBPROTOCOL}{mask(p.strip()[len(KEY_SUBPROTOCOL):])}"
                         if p.strip().startswith(KEY_SUBPROTOCOL) else p.strip() for p in value.split(","))
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, space, rest = value.partition(" ")
    if space and name.lower().endswith("authorization") and scheme.isalpha():
        return f"{scheme} {mask(rest)}"
    return mask(value)


def mask_compared(name: str, value: str) -> str:
    """A compared header value as a diagnosis shows it: :func:`mask_header`'s, but the placeholders a
    diagnosis writes for no value (``(absent)``, ``(any)``) are kept as they are."""
    return value if value in NO_VALUE else mask_header(name, value)


NO_VALUE = frozenset({"(absent)", "(any)", ""})
"""What a diagnosis writes on a side that has no value to hide."""


def mask_response_header(name: str, value: str) -> str:
    """``value`` masked when ``name`` carries credentials: a ``Set-Cookie`` keeps its cookie's name and
    attributes, not its value (``session=…; Path=/; HttpOnly``)."""
    if name.lower() not in SECRET_RESPONSE_HEADERS:
        return value
    cookie, semicolon, attributes = value.partition(";")
    key, equals, secret = cookie.partition("=")
    if not equals:
        return mask(value)
    return f"{key}={mask(secret.strip())}{semicolon}{attributes}"


def mask_query(query: str) -> str:
    """A query string as sent, the values of its secret parameters masked (``?api_key=se…``)."""
    if "key" not in query.lower():  # the common case: nothing to look at (``api%5Fkey`` is looked at too)
        return query
    pairs = (part.partition("=") for part in query.split("&"))
    return "&".join(f"{name}={mask(unquote_plus(value))}" if eq and unquote_plus(name).lower() in SECRET_QUERY
                    else f"{name}{eq}{value}" for name, eq, value in pairs)


def mask_query_value(name: str, value: str) -> str:
    """A query parameter's value as a view shows it: masked when ``name`` carries credentials (``api_key``)."""
    return mask_compared("x-api-key", value) if name.lower() in SECRET_QUERY else value


def mask_url(url: str) -> str:
    """A path with its query string, the values of secret query parameters masked (:func:`mask_query`)."""
    path, mark, query = url.partition("?")
    return f"{path}{mark}{mask_query(query)}" if mark else url
