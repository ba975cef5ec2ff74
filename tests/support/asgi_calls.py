"""An ASGI app called in-process as an HTTP server calls it, every message it sends kept as sent: no socket, and no
client library between the test and the bytes (httpx's ``ASGITransport`` joins the body and re-parses the head).

``await call(app, "GET", "/users/7?full=1", [(b"x-trace", b"1")])`` gives a :class:`Sent`: its ``status``,
``headers`` (the raw pairs, in order) and ``body`` (every body message joined), and the ``messages`` themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

Message = dict[str, Any]
App = Callable[[dict[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
               Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]


def raw_pairs(headers: Any) -> RawHeaders:
    """Headers as a list of (name, value) bytes pairs, whatever sequence holds them (to compare them byte for byte)."""
    return [(bytes(k), bytes(v)) for k, v in headers]


@dataclass
class Sent:
    """What the app sent for one request, in order."""

    messages: list[Message] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        """The status of the response's head (None: no head went out)."""
        return next((m["status"] for m in self.messages if m["type"] == "http.response.start"), None)

    @property
    def headers(self) -> RawHeaders:
        """The response's headers exactly as sent: (name, value) bytes, in order."""
        head = next((m for m in self.messages if m["type"] == "http.response.start"), None)
        return raw_pairs(head.get("headers", ())) if head is not None else []

    @property
    def body(self) -> bytes:
        """Every body message's bytes, joined."""
        return b"".join(bytes(m.get("body", b"")) for m in self.messages if m["type"] == "http.response.body")

    @property
    def finished(self) -> bool:
        """Whether the last body message said no more comes (``more_body`` false)."""
        bodies = [m for m in self.messages if m["type"] == "http.response.body"]
        return bool(bodies) and not bodies[-1].get("more_body", False)


def http_scope(method: str, target: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> dict[str, Any]:
    """The scope a server makes for ``method target`` (the target as sent: its path percent-encoded as written,
    ``scope["path"]`` decoded from it, the query string raw). No ``client`` or ``server``: a fault finds no socket
    to act on and answers through ASGI."""
    path, _, query = target.partition("?")
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": unquote(path), "raw_path": path.encode("latin-1"), "query_string": query.encode("latin-1"),
            "root_path": "", "headers": list(headers)}


async def call(app: App, method: str, target: str, headers: Sequence[tuple[bytes, bytes]] = (),
               body: bytes = b"") -> Sent:
    """``method target`` with ``headers`` (a Content-Length is added for a ``body``) sent to ``app``; what it sent.
    The body comes in one message; a later ``receive`` waits, as a client that stays connected does."""
    sent = Sent()
    raw = list(headers)
    if body and not any(k.lower() == b"content-length" for k, _ in raw):
        raw.append((b"content-length", str(len(body)).encode()))
    given = False
    stays = asyncio.Event()  # never set: the client neither sends more nor leaves

    async def receive() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await stays.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.messages.append(message)

    await app(http_scope(method, target, raw), receive, send)
    return sent
