"""Masking secrets in everything the mock shows: keys, and the headers that carry credentials."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit

from postmock_nb.core.wire import KEY_QUERY, KEY_SUBPROTOCOL, SECRET_RESPONSE_HEADERS
from postmock_nb.core.wire import SECRET_HEADERS as SECRET_HEADERS  # the header sets live in core.wire

_SUBPROTOCOLS = "sec-websocket-protocol"

SECRET_NAME = re.compile(r"token|secret|passw|api[-_]?key$|apikey|credential|session|signature|(?:^|[-_])auth$")
"""A header or query parameter name that says it carries a credential (``X-Auth-Token``, ``X-API-Key``,
``access_token``, ``client_secret``, ``apikey``, ``X-Session``…): masked as :data:`SECRET_HEADERS` are, so a key an
OpenAPI document's ``apiKey`` scheme names is hidden too, whatever the document calls it."""


def is_secret_header(name: str) -> bool:
    """Whether a request header's value is a credential (:data:`SECRET_HEADERS`, or a name that says so)."""
    lowered = name.lower()
    return lowered in SECRET_HEADERS or SECRET_NAME.search(lowered) is not None


def is_secret_parameter(name: str) -> bool:
    """Whether a query parameter's value is a credential (``api_key``, or a name that says so)."""
    lowered = name.lower()
    return lowered == KEY_QUERY or SECRET_NAME.search(lowered) is not None


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
    lowered = name.lower()
    if not is_secret_header(lowered):
        return _mask_subprotocols(value) if lowered == _SUBPROTOCOLS else value
    scheme, space, rest = value.partition(" ")
    if space and name.lower().endswith("authorization") and scheme.isalpha():
        return f"{scheme} {mask(rest)}"
    return mask(value)


def _mask_subprotocols(value: str) -> str:
    """``Sec-WebSocket-Protocol`` with the key of a ``postmock-key.<KEY>`` subprotocol masked (the others kept)."""
    if KEY_SUBPROTOCOL not in value:
        return value
    offered = (p.strip() for p in value.split(","))
    return ", ".join(KEY_SUBPROTOCOL + mask(p[len(KEY_SUBPROTOCOL):]) if p.startswith(KEY_SUBPROTOCOL) else p
                     for p in offered)


def mask_query(query: str) -> str:
    """A query string as the log shows it: the value of ``api_key`` (the key a WebSocket upgrade may carry, see
    :data:`~postmock_nb.core.wire.KEY_QUERY`) and of any parameter :func:`is_secret_parameter` names masked, the
    rest as it came."""
    if "=" not in query:  # no value to hide (each name is read decoded: ``api%5Fkey`` is ``api_key``)
        return query
    pairs = (pair.partition("=") for pair in query.split("&"))
    return "&".join(f"{name}={mask(unquote_plus(value))}" if equals and is_secret_parameter(unquote_plus(name))
                    else f"{name}{equals}{value}" for name, equals, value in pairs)


def mask_parameter(name: str, value: str) -> str:
    """A query parameter's value as the log shows it: masked when it is a credential (:func:`is_secret_parameter`)."""
    return mask(value) if is_secret_parameter(name) else value


def mask_compared(name: str, value: str) -> str:
    """A compared header value as a diagnosis shows it: :func:`mask_header`'s, but the placeholders a
    diagnosis writes for no value (``(absent)``, ``(any)``) are kept as they are."""
    return value if value in NO_VALUE else mask_header(name, value)


def mask_compared_parameter(name: str, value: str) -> str:
    """A compared query parameter's value as a diagnosis shows it: :func:`mask_parameter`'s, the placeholders
    of no value kept."""
    return value if value in NO_VALUE else mask_parameter(name, value)


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


def shown_url(url: str) -> str:
    """``url`` as messages show it: a password in it (``https://user:secret@host``) as ``***``."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:  # not a URL: nothing in it is read as a password, nor shown as one
        return url.rpartition("@")[2] if "@" in url else url
    return parts._replace(netloc=f"{parts.username or ''}:***@{parts.netloc.rpartition('@')[2]}").geturl()
