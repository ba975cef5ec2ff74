"""A "real API" for ``postmock check``'s tests: a tiny HTTP server on 127.0.0.1, in the test's process, and the
sketch (a Postman collection) it is checked against.

:func:`sketch` is what the front end was built against. :class:`Upstream` answers the same requests; with
``drifting=True`` it differs from the sketch in five known ways, each in its own request:

=====================  =========================================  ===============================================
request                what the sketch says                       what the drifting upstream does
=====================  =========================================  ===============================================
``GET /users/7``       ``name``                                   renames it ``full_name``
``GET /products/1``    ``price`` a number                         sends ``"1.50"`` (a number as a string)
``GET /orders``        200 with a list                            500
``GET /profile``       ``{id, plan}``                             adds ``beta`` (an extra field: reported only)
``GET /slow``          200                                        answers only once the test releases it
=====================  =========================================  ===============================================

``GET /health?token={{apiToken}}`` and ``GET /products/2`` match either way (so does ``GET /events``, not in the
sketch: Server-Sent Events that never end); ``POST /products`` is never sent
without ``--unsafe``. Every request must carry ``Authorization: Bearer`` :data:`TOKEN` (401 otherwise), and
``/health`` the environment's :data:`QUERY_SECRET` as its ``token`` (403 otherwise): the secrets the report
must not show.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from postmock_nb import save_collection
from postmock_nb.core.model import Collection, Example, RequestSpec, ResponseSpec

TOKEN = "s3cr3t-upstream-bearer-token-0042"
QUERY_SECRET = "query-secret-value-7781"
RELEASE_TIMEOUT = 60.0
"""The longest the slow endpoint holds a request when nobody releases it (the test's teardown does)."""

JSON = (("Content-Type", "application/json"),)

SKETCH: tuple[tuple[str, str, int, Any], ...] = (
    ("GET", "/users/:id", 200, {"id": 7, "name": "Ann", "email": "ann@example.com"}),
    ("GET", "/products/1", 200, {"id": 1, "name": "Pen", "price": 1.5, "tags": ["office"]}),
    ("GET", "/products/2", 200, {"id": 2, "name": "Ink", "price": 3, "tags": []}),
    ("GET", "/orders", 200, [{"id": 1, "total": 5.0}, {"id": 2, "total": 7.5}]),
    ("GET", "/profile", 200, {"id": 1, "plan": "pro"}),
    ("GET", "/slow", 200, {"ok": True}),
    ("GET", "/health?token={{apiToken}}", 200, {"status": "up"}),
    ("POST", "/products", 201, {"id": 3, "name": "Cap", "price": 2, "tags": []}),
)

DRIFTED = {
    "/users/7": (200, {"id": 7, "full_name": "Ann", "email": "ann@example.com"}),
    "/products/1": (200, {"id": 1, "name": "Pen", "price": "1.50", "tags": ["office"]}),
    "/orders": (500, {"error": "database down"}),
    "/profile": (200, {"id": 1, "plan": "pro", "beta": True}),
}


def sketch() -> Collection:
    """The collection the front end was built against (``/users/:id`` saved with ``id`` = 7)."""
    collection = Collection(name="Shop sketch", variables=(("apiToken", "placeholder"),))
    for method, url, status, body in SKETCH:
        path, _, query = url.partition("?")
        request = RequestSpec(method=method, path=path, query=tuple(tuple(p.split("=", 1)) for p in query.split("&")
                                                                     if p),  # type: ignore[misc]
                              path_variables=(("id", "7"),) if ":id" in path else (),
                              headers=JSON if method == "POST" else (), body='{"name": "Cap"}' if method == "POST" else "")
        collection = collection.with_example(Example(name=f"{method} {url}", request=request,
                                                     response=ResponseSpec(status, "", JSON, json.dumps(body))))
    return collection


def write_sketch(folder: Path) -> tuple[Path, Path]:
    """The sketch as a collection file, and an environment file giving ``apiToken`` its secret value."""
    collection = save_collection(sketch(), folder / "shop.postman_collection.json")
    environment = folder / "real.postman_environment.json"
    environment.write_text(json.dumps({"name": "real", "values": [{"key": "apiToken", "value": QUERY_SECRET}]}))
    return Path(collection), environment


class _Quiet(ThreadingHTTPServer):
    """A server that says nothing when a client leaves before its answer (the slow endpoint, after a timeout)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class Upstream:
    """The real API, serving on 127.0.0.1 in a thread of the test's process until :meth:`stop`."""

    def __init__(self, *, drifting: bool) -> None:
        self.drifting = drifting
        self.release = threading.Event()
        self.received: list[str] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                upstream.answer(self)

            do_HEAD = do_OPTIONS = do_POST = do_GET  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

        self.server = _Quiet(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="drift-upstream", daemon=True)
        self.thread.start()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        self.received.append(f"{handler.command} {url.path}")
        if url.path == "/events":  # Server-Sent Events that never end (until the test releases them)
            handler.send_response(200)
            handler.send_header("Content-Type", "text/event-stream")
            handler.end_headers()
            handler.wfile.write(b"data: 1\n\n")
            handler.wfile.flush()
            self.release.wait(RELEASE_TIMEOUT)
            return
        status, body = self._answer_for(handler, url.path, parse_qs(url.query))
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)

    def _answer_for(self, handler: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"error": "no credentials"}
        if path == "/health":
            return (200, {"status": "up"}) if query.get("token") == [QUERY_SECRET] else (403, {"error": "token"})
        if path == "/slow" and self.drifting:
            self.release.wait(RELEASE_TIMEOUT)
        if self.drifting and path in DRIFTED:
            return DRIFTED[path]
        for method, url, status, body in SKETCH:
            if method == handler.command and url.replace(":id", "7") == path:
                return status, body
        return 404, {"error": "not found"}

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@contextmanager
def upstream(*, drifting: bool) -> Iterator[Upstream]:
    """An :class:`Upstream`, stopped on the way out."""
    running = Upstream(drifting=drifting)
    try:
        yield running
    finally:
        running.stop()
