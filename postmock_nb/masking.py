"""Masking secrets in everything the mock shows: keys, and the headers that carry credentials."""

from __future__ import annotations

SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie"})
"""Request headers whose values are masked in the log views and the admin API by default."""


def mask(secret: str) -> str:
    """``PMAK-1234…cdef``: enough to recognise a long key, nothing of a short one.

    At least two thirds of the characters stay hidden, whatever the length: a key of 24
    characters or more shows its first 9 and last 4; one of 8-23 its first 2; a shorter one none.
    """
    if len(secret) >= 40:
        return f"{secret[:9]}…{secret[-4:]}"
    if len(secret) >= 24:
        return f"{secret[:5]}…{secret[-2:]}"
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
