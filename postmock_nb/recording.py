"""Turning real answers into examples: ``--record FILE`` and ``%mock call … --save NAME``.

What is kept of a real exchange is cleaned (:func:`example_from_exchange`):

- response headers: ``Date``, ``Server``, the hop-by-hop ones, ``Content-Length``,
  ``Content-Encoding`` (the body is stored decoded) and ``Set-Cookie`` are dropped;
- request headers: only ``Content-Type`` and ``Accept`` are kept; the secrets
  ``Authorization``, ``Cookie``, ``x-api-key`` (and ``Proxy-Authorization``) never, unless
  ``keep_secrets`` is asked for.

A body that is not UTF-8 text (an image…) cannot be an example's body: it is not recorded.

**Distinct requests** (what ``--record`` keeps one example of): the same method, path, query
parameters (in any order) and request body (by its SHA-256) are the same request; headers
do not count. The first answer of a distinct request is recorded, later ones are not.
The file is rewritten whole after each new example, through a temporary file and a rename,
so a crash never leaves half a file, and ``postmock serve FILE`` replays it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from .environment import atomic_write
from .model import Collection, Example, Pairs, RequestSpec, ResponseSpec, reason_phrase
from .postman import load_collection, to_postman
from .proxy import HOP_BY_HOP

if TYPE_CHECKING:
    from .store import LiveCollection

DROPPED_RESPONSE_HEADERS = HOP_BY_HOP | {"date", "server", "content-length", "content-encoding", "set-cookie"}
SECRET_HEADERS = frozenset({"authorization", "cookie", "x-api-key", "proxy-authorization"})
KEPT_REQUEST_HEADERS = frozenset({"content-type", "accept"})


def decoded_body(body: bytes, encoding: str) -> bytes | None:
    """The body without its ``Content-Encoding`` (gzip/deflate/identity); None when unknown."""
    coding = encoding.strip().lower()
    try:
        if coding in ("", "identity"):
            return body
        if coding in ("gzip", "x-gzip"):
            return gzip.decompress(body)
        if coding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except (OSError, zlib.error, EOFError):
        return None
    return None


def _header(headers: Pairs, name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def clean_request_headers(headers: Pairs, *, keep_secrets: bool = False) -> Pairs:
    """The request headers an example keeps (see the module's docstring)."""
    kept = KEPT_REQUEST_HEADERS | (SECRET_HEADERS if keep_secrets else frozenset())
    return tuple((k, v) for k, v in headers if k.lower() in kept)


def clean_response_headers(headers: Pairs) -> Pairs:
    """The response headers an example keeps."""
    named = {t.strip().lower() for k, v in headers if k.lower() == "connection" for t in v.split(",")}
    return tuple((k, v) for k, v in headers if k.lower() not in DROPPED_RESPONSE_HEADERS | named)


def _language(content_type: str) -> str:
    lowered = content_type.lower()
    return next((word for word in ("json", "xml", "html") if word in lowered), "text")


@dataclass(frozen=True)
class Exchange:
    """A real request and the answer it got, as plain values."""

    method: str
    path: str
    query: Pairs
    request_headers: Pairs
    request_body: bytes
    status: int
    response_headers: Pairs
    response_body: bytes
    base: str = "{{baseUrl}}"


def example_from_exchange(exchange: Exchange, name: str = "", *, keep_secrets: bool = False) -> Example | None:
    """A cleaned example of ``exchange``; None when its body is not text."""
    raw = decoded_body(exchange.response_body, _header(exchange.response_headers, "content-encoding"))
    try:
        body = raw.decode("utf-8") if raw is not None else None
        request_body = exchange.request_body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if body is None:
        return None
    response_headers = clean_response_headers(exchange.response_headers)
    content_type = _header(response_headers, "content-type")
    request = RequestSpec(method=exchange.method.upper(), path=exchange.path, query=exchange.query,
                          headers=clean_request_headers(exchange.request_headers, keep_secrets=keep_secrets),
                          body=request_body, base=exchange.base)
    response = ResponseSpec(exchange.status, reason_phrase(exchange.status), response_headers, body,
                            _language(content_type))
    return Example(name or f"{exchange.method.upper()} {exchange.path} {exchange.status}", request, response)


def request_key(method: str, path: str, query: Pairs, body: bytes) -> str:
    """What makes two requests the same one for recording (see the module's docstring)."""
    digest = hashlib.sha256(body).hexdigest() if body else ""
    return json.dumps([method.upper(), path, sorted(query), digest])


class Recorder:
    """Keeps one example per distinct proxied request, in a Postman v2.1 file rewritten as it records.

    An existing file is read first and added to (its requests count as recorded). With a
    ``store`` (the notebook), each new example also joins the live collection at once.
    """

    def __init__(self, path: str | Path, *, store: LiveCollection | None = None,
                 name: str = "Recorded with postmock_nb") -> None:
        self.path = Path(path)
        self.store = store
        self._lock = threading.Lock()
        self.collection = load_collection(self.path) if self.path.exists() else Collection(name=name)
        self._keys = {request_key(e.request.method, e.request.path, e.request.query, e.request.body.encode("utf-8"))
                      for e in self.collection.examples}
        self.skipped: list[str] = []
        """Requests not recorded (binary bodies), newest last."""
        self.listeners: list[Callable[[Example], None]] = []

    def record(self, exchange: Exchange) -> Example | None:
        """Record ``exchange`` unless its request was recorded before; returns the new example."""
        key = request_key(exchange.method, exchange.path, exchange.query, exchange.request_body)
        with self._lock:
            if key in self._keys:
                return None
            example = example_from_exchange(exchange)
            if example is None:
                self.skipped.append(f"{exchange.method} {exchange.path}: the body is not UTF-8 text")
                return None
            self._keys.add(key)
            self.collection = self.collection.with_example(example)
            self.save()
        if self.store is not None:
            self.store.update(lambda current: current.with_example(example))
        for listener in list(self.listeners):
            listener(example)
        return example

    def save(self) -> Path:
        """Rewrite the file atomically with everything recorded so far."""
        return atomic_write(self.path, json.dumps(to_postman(self.collection), indent=2, ensure_ascii=False) + "\n")


def exchange_of(method: str, path: str, query_string: bytes, request_headers: list[tuple[bytes, bytes]],
                request_body: bytes, status: int, response_headers: list[tuple[bytes, bytes]],
                response_body: bytes) -> Exchange:
    """An :class:`Exchange` from the raw ASGI/httpx values the proxy sees."""
    def pairs(raw: list[tuple[bytes, bytes]]) -> Pairs:
        return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)

    query = tuple(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)) if query_string else ()
    return Exchange(method, path, query, pairs(request_headers), request_body, status, pairs(response_headers),
                    response_body)


def relative_path(url: str, base: str) -> str:
    """The path of ``url`` after ``base`` (``https://api.example.com/v1``), or its whole path."""
    from urllib.parse import urlsplit

    path = urlsplit(url).path or "/"
    if base:
        base_path = urlsplit(base.rstrip("/")).path
        same_origin = urlsplit(base).netloc in ("", urlsplit(url).netloc)
        if same_origin and (path == base_path or path.startswith(base_path + "/")):
            path = path[len(base_path):] or "/"
    return path


def save_response_example(response: Any, name: str, *, base: str = "", as_path: str = "",
                          keep_secrets: bool = False) -> Example:
    """A cleaned example of a ``requests`` Response (and the request that got it)."""
    from urllib.parse import urlsplit

    from .errors import ExampleDefinitionError

    if as_path and not as_path.startswith("/"):
        raise ExampleDefinitionError(f"--as must be a path starting with '/', got {as_path!r}",
                                     hint="--as /users/:id")
    sent = response.request
    url = str(sent.url)
    query = tuple(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    body = sent.body or b""
    # requests has already undone the Content-Encoding: the header no longer describes the bytes
    headers = tuple((k, v) for k, v in response.headers.items() if k.lower() != "content-encoding")
    exchange = Exchange(sent.method, as_path or relative_path(url, base), query, tuple(sent.headers.items()),
                        body.encode("utf-8") if isinstance(body, str) else bytes(body), response.status_code,
                        headers, response.content, base=base.rstrip("/") if base else "{{baseUrl}}")
    example = example_from_exchange(exchange, name, keep_secrets=keep_secrets)
    if example is None:
        raise ExampleDefinitionError("the response body is not UTF-8 text, so it cannot be saved as an example",
                                     hint="examples hold text bodies (JSON, XML, HTML, plain text)")
    return example
