"""Faults: answers that break the way real networks and servers break.

Asked per example (the marker ``x-mock-fault: reset`` in its saved request headers, ``%%example --fault``)
or per request (header or query ``x-mock-response-fault: reset``; the request's wins):

- ``reset``: the connection is reset (the client sees ECONNRESET), no byte of an answer sent;
- ``close``: the connection is closed without an answer (the client sees the connection end);
- ``timeout``: no answer until the client gives up and leaves, bounded by :data:`HANG_MAX_S`;
- ``malformed``: bytes that are not HTTP, then the connection closes;
- ``truncate``: the head promises the whole body, half of it is sent, then the connection closes;
- ``slow``: the whole answer, its body trickled in small chunks (:data:`SLOW_CHUNK` bytes every
  :data:`SLOW_PAUSE_S` s).

``truncate``, ``slow`` and ``timeout`` go through ASGI and work on every server. ``reset``, ``close``
and ``malformed`` need the connection's socket, which ASGI does not hand out: it is found among the
process's open sockets by the addresses in the request's scope (Linux ``/proc/self/fd``; the servers
run in this process). They work on Hypercorn (the default, tested) and uvicorn (which also reports
"ASGI callable returned without starting response" as a server error); on granian the socket is not
found, so they fall back to ``truncate``'s closing of the connection, and the log says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

FAULT_MARKER = "x-mock-fault"
"""The example's fault (a marker in its saved request headers)."""
RESPONSE_FAULT = "x-mock-response-fault"
"""The request's fault (header or query parameter), like the ``x-mock-response-*`` selectors."""
FAULTS = ("reset", "close", "timeout", "malformed", "truncate", "slow")
HANG_MAX_S = 30.0
"""The longest a ``timeout`` fault holds a request whose client does not give up."""
SLOW_CHUNK = 16
SLOW_PAUSE_S = 0.05
MALFORMED = b"HTTP/1.1 2OO K\r\n\x00\xff not http \x01\r\n\r\n"

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


class FaultError(ValueError):
    """A fault name that is not one of :data:`FAULTS`."""


def parse_fault(text: str) -> str:
    name = text.strip().lower()
    if name not in FAULTS:
        raise FaultError(f"unknown fault {text!r}: one of {', '.join(FAULTS)}")
    return name


def connection_socket(scope: dict[str, Any]) -> socket.socket | None:
    """A duplicate of the socket of this request's connection (the caller closes it), or None."""
    client, server = scope.get("client"), scope.get("server")
    if not client or not server or not os.path.isdir("/proc/self/fd"):
        return None
    for name in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            family = socket.AF_INET6 if ":" in str(client[0]) else socket.AF_INET
            found = socket.fromfd(int(name), family, socket.SOCK_STREAM)
        except OSError:
            continue
        try:
            if tuple(found.getpeername()[:2]) == tuple(client) and tuple(found.getsockname()[:2])[1] == server[1]:
                return found
        except OSError:
            pass
        found.close()
    return None


def _reset(sock: socket.socket) -> None:
    """Reset: linger 0, and the server's descriptor pointed elsewhere so that closing ours is the last close."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with socket.socket(sock.family, socket.SOCK_STREAM) as dummy:
        for original in _server_fds(sock):
            os.dup2(dummy.fileno(), original)  # the server writes into an unconnected socket, fails, closes it
    sock.close()


def _server_fds(sock: socket.socket) -> list[int]:
    """The descriptors (other than ``sock``'s own) that hold the same connection."""
    target = os.fstat(sock.fileno()).st_ino
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd == sock.fileno():
            continue
        try:
            if os.fstat(fd).st_ino == target and os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                found.append(fd)
        except OSError:
            continue
    return found


async def perform(fault: str, scope: dict[str, Any], receive: Receive, send: Send, status: int,
                  headers: list[tuple[bytes, bytes]], body: bytes) -> str:
    """Answer with ``fault`` instead of the response; returns what was done (for the log)."""
    if fault == "slow":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for start in range(0, len(body), SLOW_CHUNK):
            await send({"type": "http.response.body", "body": body[start:start + SLOW_CHUNK], "more_body": True})
            await asyncio.sleep(SLOW_PAUSE_S)
        await send({"type": "http.response.body", "body": b""})
        return f"slow: {len(body)} bytes in chunks of {SLOW_CHUNK}"
    if fault == "timeout":
        try:
            await asyncio.wait_for(_disconnect(receive), HANG_MAX_S)
            return "timeout: no answer, the client left"
        except TimeoutError:
            fault = "close"  # nobody gave up: the connection is closed, bounded
    if fault == "truncate" or (sock := connection_socket(scope)) is None:
        await send({"type": "http.response.start", "status": status, "headers": _whole_length(headers, body)})
        await send({"type": "http.response.body", "body": body[:len(body) // 2], "more_body": True})
        return ("truncate" if fault == "truncate" else f"{fault} (socket not found: truncated instead)") + (
            f": {len(body) // 2} of {len(body)} bytes")
    try:
        if fault == "reset":
            _reset(sock)
            return "reset: connection reset"
        if fault == "malformed":
            with contextlib.suppress(BlockingIOError):
                sock.send(MALFORMED)  # small: fits the send buffer (the socket is shared, its mode is left alone)
        sock.shutdown(socket.SHUT_RDWR)
        return "malformed: bytes that are not HTTP, then closed" if fault == "malformed" else "close: closed unanswered"
    finally:
        sock.close()


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _whole_length(headers: list[tuple[bytes, bytes]], body: bytes) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    return [*kept, (b"content-length", str(len(body)).encode())]
