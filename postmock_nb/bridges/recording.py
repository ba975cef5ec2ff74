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

**Writing the file.** Recording a request costs the same whatever the file holds: the new
example is kept in memory and a writer thread rewrites the file in batches — at once for
the first new example, then at most every :data:`FLUSH_INTERVAL` seconds (longer when a
write itself is slow, so writing never takes more than a fifth of the time) — and once more
when recording stops (:meth:`Recorder.close`, which the server calls at its shutdown). Each
write replaces the file whole in one rename (:mod:`postmock_nb.formats.atomicfile`): the file is a
loadable collection at every moment, keeps its permissions, and a process killed mid-write
leaves no temporary file. A kill loses at most the examples of the last batch.

**Compressed answers** are decoded for the example, and the decoded size is bounded like
the compressed one (:data:`~postmock_nb.core.limits.MAX_UPSTREAM_BYTES`): a small gzip that
would expand past it is refused (:class:`BodyTooLarge`; the proxy answers 502 naming the
limit) instead of filling memory and the file.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import threading
import time
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from postmock_nb.core.limits import MAX_UPSTREAM_BYTES
from postmock_nb.core.model import Collection, Example, Pairs, RequestSpec, ResponseSpec, reason_phrase
from postmock_nb.core.wire import DROPPED_RESPONSE_HEADERS, KEPT_REQUEST_HEADERS, SECRET_HEADERS, connection_tokens
from postmock_nb.errors import ExampleDefinitionError
from postmock_nb.formats.atomicfile import remove_leftovers, replace_text
from postmock_nb.formats.postman import load_collection, to_postman

if TYPE_CHECKING:
    from postmock_nb.matching.store import CollectionStore

FLUSH_INTERVAL = 0.25
"""Seconds between two writes of the record file (at least; see the module's docstring)."""
WRITE_SHARE = 5
"""A write that took ``d`` seconds is followed by at least ``WRITE_SHARE * d`` seconds without one."""
INFLATE_CHUNK = 64 * 1024


class BodyTooLarge(ValueError):
    """A compressed body decodes to more than the limit."""

    def __init__(self, coding: str, limit: int) -> None:
        super().__init__(f"the upstream's {coding} body decodes to over {limit} bytes "
                         f"(the limit on upstream bodies)")
        self.limit = limit


def _inflate(body: bytes, wbits: int, limit: int, coding: str) -> bytes:
    """Decompress ``body`` (every gzip member of it), never holding more than ``limit`` bytes of output."""
    out: list[bytes] = []
    size = 0
    data = body
    while data:
        inflater = zlib.decompressobj(wbits)
        while data and not inflater.eof:
            chunk = inflater.decompress(data, INFLATE_CHUNK)
            data = inflater.unconsumed_tail
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(coding, limit)
            out.append(chunk)
            if not chunk and not data:
                break
        if not inflater.eof:
            raise EOFError("the compressed stream ends early")
        data = inflater.unused_data if wbits > zlib.MAX_WBITS else b""  # gzip: the next member
    return b"".join(out)


def decoded_body(body: bytes, encoding: str, *, limit: int = MAX_UPSTREAM_BYTES) -> bytes | None:
    """The body without its ``Content-Encoding`` (gzip/deflate/identity); None when unknown or broken.

    Raises :class:`BodyTooLarge` when it decodes to more than ``limit`` bytes (checked while
    decoding: no more than ``limit`` bytes are ever held).
    """
    coding = encoding.strip().lower()
    try:
        if coding in ("", "identity"):
            return body
        if coding in ("gzip", "x-gzip"):
            return _inflate(body, 16 + zlib.MAX_WBITS, limit, coding)
        if coding == "deflate":
            try:
                return _inflate(body, zlib.MAX_WBITS, limit, coding)
            except zlib.error:
                return _inflate(body, -zlib.MAX_WBITS, limit, coding)
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
    named = connection_tokens(headers)
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


def example_from_exchange(exchange: Exchange, name: str = "", *, keep_secrets: bool = False,
                          limit: int = MAX_UPSTREAM_BYTES) -> Example | None:
    """A cleaned example of ``exchange``; None when its body is not text.

    Raises :class:`BodyTooLarge` when a compressed body decodes to more than ``limit`` bytes.
    """
    raw = decoded_body(exchange.response_body, _header(exchange.response_headers, "content-encoding"), limit=limit)
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


_open_recorders: weakref.WeakSet[Recorder] = weakref.WeakSet()


@atexit.register
def _close_open_recorders() -> None:
    """At interpreter exit (a kernel shut down while recording): write what is not yet written."""
    for recorder in list(_open_recorders):
        recorder.close()


class Recorder:
    """Keeps one example per distinct proxied request, in a Postman v2.1 file written as it records.

    An existing file is read first and added to (its requests count as recorded). With a
    ``store`` (the notebook), each new example also joins the live collection at once. The
    file is written in batches by a writer thread (see the module's docstring); :meth:`flush`
    writes now, :meth:`close` writes and stops the thread (a later :meth:`record` starts it again).
    """

    def __init__(self, path: str | Path, *, store: CollectionStore | None = None,
                 name: str = "Recorded with postmock_nb", interval: float = FLUSH_INTERVAL) -> None:
        self.path = Path(path)
        self.store = store
        self.interval = interval
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._write_lock = threading.Lock()
        """Held while the file is written: one write at a time, newest last."""
        remove_leftovers(self.path)  # a killed writer's names (where there is no O_TMPFILE)
        self._written = load_collection(self.path) if self.path.exists() else Collection(name=name)
        """What the file holds (or is about to)."""
        self._pending: list[Example] = []
        """Recorded examples not yet in ``_written``, oldest first."""
        self._keys = {request_key(e.request.method, e.request.path, e.request.query, e.request.body.encode("utf-8"))
                      for e in self._written.examples}
        self._writer: threading.Thread | None = None
        self._stop = threading.Event()
        """Set to end the current writer thread (each thread has its own)."""
        self._stale = False
        """The last write failed: the file lacks examples that are no longer pending."""
        self.writes = 0
        """How many times the file was written."""
        self.write_error = ""
        """Why the last write failed (empty when it did not): the next batch tries again."""
        self.skipped: list[str] = []
        """Requests not recorded (binary bodies, bodies decoding past the limit), newest last."""
        self.listeners: list[Callable[[Example], None]] = []

    @property
    def collection(self) -> Collection:
        """Everything recorded so far, written or not."""
        with self._lock:
            return self._written.with_new_examples(self._pending) if self._pending else self._written

    def record(self, exchange: Exchange, *, limit: int = MAX_UPSTREAM_BYTES) -> Example | None:
        """Record ``exchange`` unless its request was recorded before; returns the new example.

        Raises :class:`BodyTooLarge` (and records nothing) when its body decodes past ``limit`` bytes.
        """
        key = request_key(exchange.method, exchange.path, exchange.query, exchange.request_body)
        with self._lock:
            if key in self._keys:
                return None
        try:
            example = example_from_exchange(exchange, limit=limit)
        except BodyTooLarge as error:
            with self._lock:
                self.skipped.append(f"{exchange.method} {exchange.path}: {error}")
            raise
        with self._lock:
            if key in self._keys:  # the same request, recorded meanwhile by another thread
                return None
            if example is None:
                self.skipped.append(f"{exchange.method} {exchange.path}: the body is not UTF-8 text")
                return None
            self._keys.add(key)
            self._pending.append(example)
            if self._writer is None:
                self._stop = threading.Event()
                self._writer = threading.Thread(target=self._write_batches, args=(self._stop,), daemon=True,
                                                name=f"postmock record {self.path.name}")
                self._writer.start()
                _open_recorders.add(self)
            self._wake.notify_all()
        if self.store is not None:
            self.store.update(lambda current: current.with_example(example))
        for listener in list(self.listeners):
            listener(example)
        return example

    def _write_batches(self, stop: threading.Event) -> None:
        """The writer thread: a batch at once, then a pause (see :data:`FLUSH_INTERVAL`); ends when ``stop`` is set."""
        while True:
            with self._wake:
                self._wake.wait_for(lambda: bool(self._pending) or stop.is_set())
                if stop.is_set():
                    return
            took = self._write()
            with self._wake:
                self._wake.wait_for(stop.is_set, timeout=max(self.interval, WRITE_SHARE * took))

    def _write(self) -> float:
        """Write the pending examples with the rest; returns the seconds it took."""
        started = time.perf_counter()
        with self._write_lock:
            with self._lock:
                if not self._pending and not self._stale:
                    return 0.0
                self._written = self._written.with_new_examples(self._pending)
                self._pending = []
                collection = self._written
            try:
                replace_text(self.path, json.dumps(to_postman(collection), indent=2, ensure_ascii=False) + "\n")
            except Exception as error:  # a full disk, a directory gone: said, and tried again with the next batch
                cause = error.strerror if isinstance(error, OSError) and error.strerror else f"{error!r}"
                self.write_error = f"{self.path}: {cause}"
                self._stale = True
            else:
                self.writes += 1
                self.write_error = ""
                self._stale = False
        return time.perf_counter() - started

    def flush(self) -> Path:
        """Write what is not yet written, now (in the caller's thread)."""
        self._write()
        return self.path

    def close(self) -> Path:
        """Write what is not yet written and stop the writer thread (recording may start it again)."""
        with self._wake:
            writer, self._writer = self._writer, None
            self._stop.set()
            self._wake.notify_all()
        if writer is not None and writer is not threading.current_thread():
            writer.join()
        self._write()
        _open_recorders.discard(self)
        return self.path

    def save(self) -> Path:
        """Rewrite the file whole with everything recorded so far (also what is written already)."""
        with self._write_lock:
            collection = self.collection
            replace_text(self.path, json.dumps(to_postman(collection), indent=2, ensure_ascii=False) + "\n")
        return self.path


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
