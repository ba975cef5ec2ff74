"""Masking secrets in everything the mock shows: keys, and the headers that carry credentials."""

from __future__ import annotations

from postmock_nb.core.wire import SECRET_HEADERS as SECRET_HEADERS  # the header sets live in core.wire
from postmock_nb.core.wire import SECRET_RESPONSE_HEADERS


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
    """``value`` masked when ``name`` carries credentials (the auth scheme is kept: ``Bearer ey…``)."""
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
