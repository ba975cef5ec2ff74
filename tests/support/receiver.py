"""A local receiver for callbacks and webhooks: a tiny HTTP server on 127.0.0.1 that keeps what it is sent
(shared by the server tests of callbacks)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that keeps what it is sent and answers 204 (or ``status``)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 204
        self.failures = 0
        """How many requests to answer 503 first (a receiver that is down for a while)."""
        received, owner = self.received, self

        class Handle(BaseHTTPRequestHandler):
            def _any(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                received.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                 "body": self.rfile.read(size)})
                failing = owner.failures > 0
                owner.failures -= 1
                self.send_response(503 if failing else owner.status)
                self.send_header("content-length", "0")
                self.end_headers()

            do_POST = do_PUT = do_GET = _any  # noqa: N815 - http.server's names

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
