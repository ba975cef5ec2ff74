"""What may go on the wire: the one rule that keeps every response the mock sends valid HTTP.

HTTP/1.1 (RFC 9110/9112) and HTTP/2 refuse some things an example can hold. Decided once, here:

* a saved header whose **name** is not an RFC 9110 token (a space, a colon, empty, non-ASCII)
  or whose **value** holds CR, LF, NUL or another control character is **dropped** (and listed
  by ``postmock validate``, ``postmock serve`` and ``%mock load``);
* an example's **name or id** in ``x-mock-example-name`` / ``-id`` is sent as it is when it can
  be, else **percent-encoded** (``a%0D%0Ab``) — a client decodes it with ``unquote``;
* a header **echoed from the request** (``Location: /users/{{id}}`` with ``%0d%0a`` in the
  id, ``{{$queryParams}}``, ``{{$body}}``) that would carry a control character is the
  caller's mistake: the request gets a 400 naming the header (:class:`UnsafeEcho`);
* a **1xx** status cannot be a final answer: refused when an example is defined in a cell; in
  a file (``%mock load``, ``postmock serve``, the ASGI app) the example is **left out** — kept in
  the collection, so a save gives it back, but never indexed for matching (:func:`left_out`) —
  and listed with the other changes; one built by hand that reaches the server anyway is answered
  with an explaining 500;
* **204 and 304** go out with no body and no Content-Length; **205** with an empty body
  (Content-Length 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from postmock_nb.core.model import Example

Headers = list[tuple[bytes, bytes]]
HTTP1 = ("1.1", "1.0")
"""The ASGI ``http_version`` values of HTTP/1: a request with neither Content-Length nor
Transfer-Encoding has no body (RFC 9112, 6.3), and a response may be written as raw bytes."""

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
LABEL_SAFE = " !#$&'()*+,/:;=?@[]~"
"""Characters left as they are when a header value must be percent-encoded."""

# -- the header sets: every set of header names the mock treats alike is written here, once ---------------------------

COMPUTED_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive",
                              "date", "server", "upgrade", "proxy-connection", "te", "trailer"})
"""Headers saved with an example that would be wrong on our response: framing and connection
headers are the HTTP server's (and HTTP/2 forbids the connection-specific ones); the server
adds its own Date and Server, so a replayed recording would send them twice."""

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "trailers", "transfer-encoding", "upgrade", "proxy-connection"})
"""Headers that belong to one connection and are never forwarded (RFC 9110 §7.6.1); so are the
headers a ``Connection`` header names (:func:`connection_tokens`)."""

SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie", "x-postmock-admin-key"})
"""Request headers that carry credentials (the mock's admin key too, should a client send it to a mocked
route): their values are masked in the log views and the admin API by default
(:mod:`postmock_nb.core.masking`), and a recorded example keeps them only when asked."""

SECRET_RESPONSE_HEADERS = frozenset({"set-cookie"})
"""Response headers whose values are masked there too (an upstream's session cookie, under ``--proxy``)."""

KEY_SUBPROTOCOL = "postmock-key."
"""The prefix of the WebSocket subprotocol that carries a private mock's key (``postmock-key.<KEY>``): browsers
cannot set headers on a WebSocket. Masked in ``Sec-WebSocket-Protocol`` wherever the log is shown."""
KEY_QUERY = "api_key"
"""The query parameter that carries a private mock's key on a WebSocket upgrade (``?api_key=<KEY>``); its value is
masked in every URL the log shows (on any request: a key sent the wrong way is still a key)."""

KEPT_REQUEST_HEADERS = frozenset({"content-type", "accept"})
"""The request headers a recorded example keeps (with :data:`SECRET_HEADERS` only when asked)."""

DROPPED_RESPONSE_HEADERS = HOP_BY_HOP | {"date", "server", "content-length", "content-encoding", "set-cookie"}
"""The response headers a recorded example leaves out: the connection's, the server's own, the
framing (the body is stored decoded) and the upstream's cookies."""


def connection_tokens(names_and_values: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> set[str]:
    """The header names a ``Connection`` header lists (lower case): hop-by-hop for this connection only."""
    return {token.strip().lower() for name, value in names_and_values if name.lower() == "connection"
            for token in value.split(",") if token.strip()}

NO_BODY = frozenset({204, 304})
"""Statuses sent with no body and no Content-Length."""
EMPTY_BODY = 205
"""Reset Content: an empty body, Content-Length 0."""


class UnsafeEcho(Exception):
    """A response header filled from the request would carry a control character."""

    def __init__(self, header: str, value: str) -> None:
        shown = shorten(value)
        super().__init__(f"the response header {header} would echo a control character from the request "
                         f"({shown}): control characters (CR, LF, NUL...) cannot be sent in a header")
        self.header, self.value = header, value


def request_headers(raw: Headers) -> dict[str, str]:
    """A request's headers as text (Latin-1, as ASGI servers pass them), by lower-case name; a repeated
    header's values joined with ", " (RFC 9110, 5.3)."""
    headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in raw}
    if len(headers) == len(raw):
        return headers  # the usual case: no name repeated
    headers = {}
    for key, value in raw:
        name, text = key.decode("latin-1").lower(), value.decode("latin-1")
        headers[name] = f"{headers[name]}, {text}" if name in headers else text
    return headers


def shorten(value: str, width: int = 60) -> str:
    """``repr`` of a value, cut to ``width`` characters: safe to put in a message."""
    shown = repr(value)
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def is_token(name: str) -> bool:
    """Whether ``name`` is an RFC 9110 token (what a header name must be)."""
    return _TOKEN.fullmatch(name) is not None


def has_control(value: str) -> bool:
    """Whether ``value`` holds a control character other than a tab (CR, LF, NUL, DEL...)."""
    return _CONTROL.search(value) is not None


def header_value(value: str) -> bytes:
    """A control-free value as bytes: as it is when Latin-1 allows, else percent-encoded UTF-8."""
    value = value.strip(" \t")
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return quote(value, safe=LABEL_SAFE).encode("latin-1")


def label(value: str) -> bytes:
    """An example name or id for ``x-mock-example-*``: sent as it is if it can be, else percent-encoded."""
    if has_control(value) or value != value.strip(" \t"):
        return quote(value, safe=LABEL_SAFE).encode("latin-1")
    return header_value(value)


def header_problem(name: str, value: str) -> str:
    """Why a saved header cannot be sent ("" when it can)."""
    if not is_token(name):
        return f"header {shorten(name)} is dropped: its name is not an HTTP token"
    if has_control(value):
        return f"header {name} is dropped: its value {shorten(value)} holds a control character"
    return ""


def saved_headers(pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> Headers:
    """An example's own headers as they go out: computed ones skipped, unsendable ones dropped."""
    out: Headers = []
    for name, value in pairs:
        lowered = name.lower()
        if lowered in COMPUTED_HEADERS or lowered == "content-type" or header_problem(name, value):
            continue
        out.append((lowered.encode("ascii"), header_value(value)))
    return out


def echoed_headers(pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]],
                   templates: tuple[tuple[str, str], ...]) -> Headers:
    """Headers rendered from the request: as :func:`saved_headers`, but a control character
    that only the request brought in refuses the request (:class:`UnsafeEcho`)."""
    out: Headers = []
    for (name, value), (_, template) in zip(pairs, templates, strict=True):
        lowered = name.lower()
        if lowered in COMPUTED_HEADERS or lowered == "content-type" or not is_token(name) or has_control(template):
            continue  # unsendable as saved: dropped, as for a static example
        if has_control(value):
            raise UnsafeEcho(name, value)
        out.append((lowered.encode("ascii"), header_value(value)))
    return out


def media_type(value: str) -> str:
    """A ``Content-Type`` (or ``Accept`` range) without its parameters, lower case: ``application/json``."""
    return value.split(";", 1)[0].strip().lower()


def content_type_value(value: str) -> bytes:
    """The Content-Type as sent; one holding control characters falls back to text/plain."""
    return b"text/plain; charset=utf-8" if has_control(value) else header_value(value)


def status_problem(status: int) -> str:
    """Why HTTP cannot send ``status`` as a final response ("" when it can)."""
    if 100 <= status <= 199:
        return (f"status {status} is an interim (1xx) status: HTTP cannot send it as the answer to a request")
    if not 200 <= status <= 599:
        return f"status {status} is not an HTTP status (200-599)"
    return ""


def left_out(example: Example) -> bool:
    """An example a mock does not serve: its status cannot be a final answer (a 1xx)."""
    return 100 <= example.response.status <= 199


def frame(status: int, headers: Headers, body: bytes, method: str) -> tuple[Headers, bytes]:
    """The final headers (with Content-Length where one belongs) and the body bytes to send."""
    if status in NO_BODY:
        return [h for h in headers if h[0] != b"content-length"], b""
    if status == EMPTY_BODY:
        return headers + [(b"content-length", b"0")], b""
    return headers + [(b"content-length", str(len(body)).encode())], b"" if method == "HEAD" else body


@dataclass(frozen=True)
class Change:
    """Something the mock will change (or refuse) when it serves an example."""

    example: Example
    what: str

    def describe(self) -> str:
        request = self.example.request
        return f'"{shorten(self.example.name, 50)[1:-1]}" ({request.method} {request.path}): {self.what}'


def example_changes(example: Example) -> list[Change]:
    """Every part of ``example`` HTTP cannot send as saved, and what is done instead."""
    changes = []
    response = example.response
    problem = status_problem(response.status)
    if problem:
        changes.append(Change(example, f"left out (not served): {problem}"))
    for field, value in (("name", example.name), ("id", example.id)):
        if label(value) != header_value(value) or has_control(value):
            changes.append(Change(example, f"its {field} is sent percent-encoded in x-mock-example-{field}"))
    for name, value in response.headers:
        if name.lower() == "content-type" and has_control(value):
            changes.append(Change(example, "its Content-Type holds a control character: sent as text/plain"))
        elif header_problem(name, value):
            changes.append(Change(example, header_problem(name, value)))
    if response.body and response.status in NO_BODY | {EMPTY_BODY}:
        changes.append(Change(example, f"its body is not sent: a {response.status} response has none"))
    return changes


def collection_changes(examples: list[Example] | tuple[Example, ...]) -> list[Change]:
    """:func:`example_changes` for every example."""
    return [change for example in examples for change in example_changes(example)]
