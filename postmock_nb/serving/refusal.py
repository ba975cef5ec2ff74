"""The first stage of a mock request: answers given before the body is read (CORS preflight, the key)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl

from postmock_nb.answers.responses import HttpResponse, error_response
from postmock_nb.config import MockConfig
from postmock_nb.core import wire

RawHeaders = list[tuple[bytes, bytes]]

UNAUTHORIZED_MESSAGE = "This mock is private: send its key in the x-api-key header."
CORS_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", b"*"))
"""What ``--cors`` adds to every answer (a preflight gets its own)."""


def key_ok(settings: MockConfig, given: bytes | None) -> bool:
    """Constant-time comparison of the x-api-key header, as received (bytes), with the mock's key."""
    return given is not None and hmac.compare_digest(given.strip(b" \t"), settings.key.encode("utf-8"))


def key_refused(settings: MockConfig, headers: Mapping[str, str], raw_headers: RawHeaders,
                query_string: bytes = b"") -> str:
    """Why a private mock refuses this request ("" when public, or the key is right).

    An ``EventSource`` cannot send a header, so a request for an event stream (``Accept: text/event-stream``,
    which every ``EventSource`` sends) may carry the key as ``?api_key=KEY`` instead, as a WebSocket upgrade may;
    ordinary requests must use the header (keys in URLs end up in histories and logs; the log masks it)."""
    if not settings.private or key_ok(settings, raw_header(raw_headers, b"x-api-key")):
        return ""
    if "x-api-key" not in headers and b"api_key=" in query_string and _wants_events(headers):
        query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        if "api_key" in query:
            return "" if key_ok(settings, query["api_key"].encode("latin-1")) else "wrong api_key"
    return "missing x-api-key header" if "x-api-key" not in headers else "wrong x-api-key"


def _wants_events(headers: Mapping[str, str]) -> bool:
    return "text/event-stream" in headers.get("accept", "").lower()


def is_preflight(settings: MockConfig, method: str, headers: Mapping[str, str]) -> bool:
    """A CORS preflight the mock answers itself (with ``--cors``)."""
    return settings.cors and method == "OPTIONS" and "access-control-request-method" in headers


def preflight_response(headers: Mapping[str, str]) -> HttpResponse:
    """The 204 that allows what a CORS preflight asks (its values echoed, unless unsafe to)."""
    return HttpResponse(204, [
        (b"access-control-allow-origin", echoable(headers.get("origin", "*"))),
        (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"),
        (b"access-control-allow-headers", echoable(headers.get("access-control-request-headers", "*"))),
        (b"access-control-max-age", b"600"), (b"vary", b"Origin")], b"")


def refusal(settings: MockConfig, method: str, headers: Mapping[str, str],
            raw_headers: RawHeaders, query_string: bytes = b"") -> tuple[HttpResponse | None, str]:
    """The answer given before any matching (a preflight, a 401), if any, and why the key was refused
    ("" unless it was: such requests are logged as bursts)."""
    if method == "OPTIONS" and is_preflight(settings, method, headers):
        return preflight_response(headers), ""
    refused = key_refused(settings, headers, raw_headers, query_string) if settings.private else ""
    if refused:
        return unauthorized(refused, CORS_HEADERS if settings.cors else ()), refused
    return None, ""


def unauthorized(reason: str, extra: tuple[tuple[bytes, bytes], ...] = ()) -> HttpResponse:
    """The 401 of a private mock, saying why (``reason``)."""
    return error_response(401, "AuthenticationError", "Unauthorized", f"{UNAUTHORIZED_MESSAGE} ({reason})",
                          extra=extra)


def echoable(value: str) -> bytes:
    """A request header value echoed in a preflight answer: ``*`` when it holds a control character."""
    return b"*" if wire.has_control(value) else value.encode("latin-1")


def raw_header(raw_headers: RawHeaders, name: bytes) -> bytes | None:
    """The first value of header ``name`` as received (the one key comparison works on bytes)."""
    return next((v for k, v in raw_headers if k.lower() == name), None)
