"""Faults: answers that break the way real networks and servers break.

Asked per example (the marker ``x-mock-fault: reset`` in its saved request headers, ``%%example --fault``)
or per request (header or query ``x-mock-response-fault: reset``; the request's wins):

- ``reset``: the connection is reset (the client sees ECONNRESET), no byte of an answer sent;
- ``close``: the connection is closed without an answer (the client sees the connection end);
- ``timeout``: no answer until the client gives up and leaves, bounded by :data:`HANG_MAX_S`;
- ``malformed``: bytes that are not HTTP, then the connection closes;
- ``truncate``: the head promises the whole body, half of it is sent, then the connection closes;
- ``slow``: the whole answer, its body trickled in small chunks (:data:`SLOW_CHUNK` bytes every
  :data:`SLOW_PAUSE_S` s); a larger body in larger chunks, so that the trickle takes at most
  :data:`SLOW_TOTAL_S` s (like WireMock's chunked dribble delay: a total duration spread over the chunks).

``slow`` and ``timeout`` go through ASGI. ``reset``, ``close``, ``malformed`` and (on HTTP/1)
``truncate`` need the connection's socket, which ASGI does not hand out: it is found among the
process's open sockets by the addresses in the request's scope (Linux ``/proc/self/fd``; the servers
run in this process, granian's Rust side too). All six work on Hypercorn, uvicorn and granian (tested
on each), and none is reported as a server error. Where the socket is not found (not Linux), the
first three fall back to a ``truncate`` through ASGI, and the log says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from postmock_nb.config import FAULTS as FAULTS  # the names are the settings' (--chaos-with checks them)
from postmock_nb.core import wire
from postmock_nb.core.markers import FAULT_MARKER as FAULT_MARKER  # the names live in core.markers
from postmock_nb.core.markers import RESPONSE_FAULT as RESPONSE_FAULT
from postmock_nb.core.markers import FaultError as FaultError
from postmock_nb.core.markers import parse_fault as parse_fault
from postmock_nb.core.model import reason_phrase
from postmock_nb.core.text import plural

STATUS_FAULTS = ("slow", "truncate")
"""The faults whose answer begins with the response's status line; the others send none (the log says so)."""
HANG_MAX_S = 30.0
"""The longest a ``timeout`` fault holds a request whose client does not give up."""
GONE_MAX_S = 1.0
"""How long a ``close``, ``malformed`` or ``truncate`` answer waits for the server to see its connection gone."""
SLOW_CHUNK = 16
"""The smallest chunk of a ``slow`` answer (the size of each, for a body of up to 1.6 kB)."""
SLOW_PAUSE_S = 0.05
"""The pause between two chunks of a ``slow`` answer."""
SLOW_TOTAL_S = 5.0
"""The longest a ``slow`` trickle takes (its pauses), whatever the body's size: 20 kB took 70 s at 16 bytes a chunk."""
MALFORMED = b"HTTP/1.1 2OO K\r\n\x00\xff not http \x01\r\n\r\n"

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


def status_went_out(done: str) -> bool:
    """Whether the answer :func:`perform` described as ``done`` began with a status line: a ``slow`` or
    ``truncate`` fault, or one that fell back to a truncate because its socket was not found."""
    return done.startswith(STATUS_FAULTS) or "socket not found" in done


def connection_socket(scope: dict[str, Any]) -> socket.socket | None:
    """A duplicate of the socket of this request's connection (the caller closes it), or None."""
    client, server = _address(scope.get("client")), _address(scope.get("server"))
    if client is None or server is None or not os.path.isdir("/proc/self/fd"):
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
            if tuple(found.getpeername()[:2]) == client and found.getsockname()[1] == server[1]:
                return found
        except OSError:
            pass
        found.close()
    return None


def _address(value: Any) -> tuple[str, int] | None:
    """An ASGI ``client``/``server`` pair as (host, port); granian gives the port as text."""
    try:
        host, port = value[0], value[1]
        return str(host), int(port)
    except (TypeError, ValueError, IndexError):
        return None


def _reset(sock: socket.socket) -> bool:
    """Reset: linger 0, and the server's descriptor pointed elsewhere so that closing ours is the last close.

    False when the server's descriptor was not found (it closed it meanwhile): then the connection is
    shut down instead.
    """
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    originals = _server_fds(sock)
    with socket.socket(sock.family, socket.SOCK_STREAM) as dummy:
        for original in originals:
            os.dup2(dummy.fileno(), original)  # the server writes into an unconnected socket, fails, closes it
    if not originals:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    return bool(originals)


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


def slow_chunk(size: int) -> int:
    """The chunk size of a ``slow`` answer of ``size`` bytes: :data:`SLOW_CHUNK`, or larger so that its pauses
    add up to at most :data:`SLOW_TOTAL_S`."""
    return max(SLOW_CHUNK, -(-size // int(SLOW_TOTAL_S / SLOW_PAUSE_S + 1)))


async def perform(fault: str, scope: dict[str, Any], receive: Receive, send: Send, status: int,
                  headers: list[tuple[bytes, bytes]], body: bytes, *, stopping: asyncio.Event | None = None) -> str:
    """Answer with ``fault`` instead of the response; returns what was done (for the log). ``stopping``: set
    when the mock stops (an answer cut by it is not blamed on the client)."""
    if fault == "slow":
        return await _slow(receive, send, status, headers, body, stopping=stopping)
    if fault == "timeout":
        try:
            await asyncio.wait_for(_disconnect(receive), HANG_MAX_S)
            return "timeout: no answer, the client left"
        except TimeoutError:
            fault = "close"  # nobody gave up: the connection is closed, bounded
    sock = connection_socket(scope)
    if fault == "truncate" or sock is None:
        http1 = scope.get("http_version") in wire.HTTP1
        truncated = await _truncate(sock, receive, send, status, headers, body, http1=http1)
        return truncated if fault == "truncate" else f"{fault} (socket not found: {truncated}, instead)"
    reset = False
    try:
        if fault == "reset":
            reset = _reset(sock)
        else:
            if fault == "malformed":
                with contextlib.suppress(BlockingIOError):
                    sock.send(MALFORMED)  # small: fits the send buffer (the socket is shared, its mode is left alone)
            sock.shutdown(socket.SHUT_RDWR)
    finally:
        sock.close()
    if reset:
        # The server's descriptor now points at an unconnected socket, so the server is never told
        # that the connection has gone. The response is written into that dead socket: the write
        # fails there, and the server drops the connection instead of reporting an app that never answered.
        with contextlib.suppress(Exception):
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        return "reset: connection reset"
    await _gone(receive)
    if fault == "reset":
        return "reset (the server had closed the connection: closed instead)"
    return "malformed: bytes that are not HTTP, then closed" if fault == "malformed" else "close: closed unanswered"


class DirectHttp1:
    """An ASGI ``send`` that writes an HTTP/1.1 answer (chunked) to the connection's socket itself, never through
    the server: every byte sent is in the kernel when the send returns, so a cut after it loses none of it (a
    server that writes from a thread of its own, granian's, may still hold them). For an answer that will be cut:
    the server never sees it begin; the cut then closes the socket (:func:`cut`).

    A write the client is no longer there for is not an error: it ends the writes (``failed`` says why)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.failed: BaseException | None = None

    async def __call__(self, message: dict[str, Any]) -> None:
        if self.failed is not None:
            return
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in _FRAMING]
            data = _http1_head(message["status"], [*kept, (b"transfer-encoding", b"chunked")])
        else:
            body = bytes(message.get("body", b""))
            data = f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b""
            if not message.get("more_body", False):
                data += b"0\r\n\r\n"
        try:
            self.sock.setblocking(False)  # the server's socket is non-blocking already: only Python's view changes
            await asyncio.wait_for(asyncio.get_running_loop().sock_sendall(self.sock, data), HANG_MAX_S)
        except (OSError, TimeoutError) as error:  # the client left, or stopped reading
            self.failed = error


_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection"})
FLUSH_MAX_S = 2.0
"""The longest a cut waits for what was written before it to be acknowledged by the client."""


def direct_writer(scope: dict[str, Any]) -> DirectHttp1 | None:
    """A :class:`DirectHttp1` on this request's connection: plain HTTP/1 with its socket found; else None (TLS,
    HTTP/2, not Linux: the answer goes through the server)."""
    if scope.get("http_version") not in wire.HTTP1 or scope.get("scheme", "http") != "http":
        return None
    sock = connection_socket(scope)
    return DirectHttp1(sock) if sock is not None else None


async def _flushed(sock: socket.socket) -> None:
    """Wait until the kernel holds nothing unacknowledged for ``sock`` (Linux ``SIOCOUTQ``), at most
    :data:`FLUSH_MAX_S`: what was written has reached the client before a reset discards the rest."""
    try:
        import fcntl  # deferred: POSIX only, and only a cut needs it
        import termios  # deferred: POSIX only, and only a cut needs it
    except ImportError:
        return
    outq = getattr(termios, "TIOCOUTQ", None)  # SIOCOUTQ on a socket
    if outq is None:
        return
    deadline = asyncio.get_running_loop().time() + FLUSH_MAX_S
    buffer = bytearray(4)
    while asyncio.get_running_loop().time() < deadline:
        try:
            fcntl.ioctl(sock.fileno(), outq, buffer)
        except OSError:
            return
        if int.from_bytes(buffer, "little") == 0:
            return
        await asyncio.sleep(0.001)


async def cut(fault: str, scope: dict[str, Any], receive: Receive, send: Send, *,
              direct: DirectHttp1 | None = None) -> str:
    """Cut a connection mid-answer (a Server-Sent Events stream after some of its events): ``reset``
    resets it, the others close it (``malformed`` writes its bytes first). Returns what was done.
    ``direct``: the answer so far was written to the socket by the mock (:class:`DirectHttp1`); it is
    acknowledged by the client before the cut."""
    sock = direct.sock if direct is not None else connection_socket(scope)
    if sock is None:
        await _gone(receive)
        return f"{fault}: socket not found, the answer left unfinished"
    if direct is not None and direct.failed is None:
        await _flushed(sock)
    try:
        if fault == "reset" and _reset(sock):
            with contextlib.suppress(Exception):  # into the dead socket: the server ends the answer, unaware
                if direct is not None:  # the server never saw this answer begin: it begins now, as perform's reset
                    await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b""})
            return "reset: connection reset"
        if fault == "malformed":
            with contextlib.suppress(BlockingIOError, OSError):
                sock.send(MALFORMED)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    finally:
        sock.close()
    await _gone(receive)
    return f"{fault}: connection closed"


async def _slow(receive: Receive, send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, *,
                stopping: asyncio.Event | None) -> str:
    """The whole answer, its body trickled; the trickle stops as soon as the server says the connection is
    gone (``http.disconnect``), so nothing is written into a closed connection (Hypercorn's transport warns
    ``socket.send() raised exception.`` on stderr for every such write). A stop of the mock sends the rest
    at once (the server would cancel the answer after its grace period). The note says what happened: the
    whole body went out (the rest at once, after a stop), or the client left."""
    left = asyncio.ensure_future(_disconnect(receive))
    stop = asyncio.ensure_future(stopping.wait() if stopping is not None else asyncio.Event().wait())
    size = slow_chunk(len(body))
    sent = 0
    rushed = ""
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        while sent < len(body) and not left.done():
            if stop.done():  # like a delay, cut short by a stop: the rest at once, within the server's grace period
                rushed = f"; the rest at once after {sent}: the mock stopped"
                size = len(body) - sent
            chunk = body[sent:sent + size]
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            sent += len(chunk)
            if sent < len(body):
                await asyncio.wait({left, stop}, timeout=SLOW_PAUSE_S, return_when=asyncio.FIRST_COMPLETED)
        if sent == len(body):  # every byte went out: a disconnect now (granian's, once the body is whole) is no cut
            if not left.done():
                await send({"type": "http.response.body", "body": b""})
            return f"slow: {plural(len(body), 'byte')} in chunks of {slow_chunk(len(body))}{rushed}"
    finally:
        left.cancel()
        stop.cancel()
    return f"slow: the client left after {sent} of {plural(len(body), 'byte')}"


async def _truncate(sock: socket.socket | None, receive: Receive, send: Send, status: int,
                    headers: list[tuple[bytes, bytes]], body: bytes, *, http1: bool) -> str:
    """The head promising the whole body, half of it, then the connection closed.

    On HTTP/1 with the socket at hand, the bytes are written to the socket and the connection is
    shut down, so no server reports a response the app left unfinished. Otherwise the answer goes
    through ASGI and the app returns mid-body: the server closes the connection, and uvicorn logs
    that as an error.
    """
    half, head = body[:len(body) // 2], _whole_length(headers, body)
    done = f"truncate: {len(half)} of {plural(len(body), 'byte')}"
    if sock is None or not http1:
        if sock is not None:
            sock.close()
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": half, "more_body": True})
        return done
    try:
        sock.setblocking(False)  # the server's socket is non-blocking already: this changes only Python's view of it
        await asyncio.wait_for(asyncio.get_running_loop().sock_sendall(sock, _http1_head(status, head) + half),
                               HANG_MAX_S)
    except (OSError, TimeoutError) as error:  # the client left (or stopped reading) before half the body went out
        done += f" (the client left first: {type(error).__name__})"
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    await _gone(receive)
    return done


def _http1_head(status: int, headers: list[tuple[bytes, bytes]]) -> bytes:
    status_line = f"HTTP/1.1 {status} {reason_phrase(status)}\r\n".encode("latin-1")
    return status_line + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n"


async def _gone(receive: Receive) -> None:
    """Wait, briefly, until the server has seen the connection closed. An app that returns first
    looks like an app that never answered to a server that checks (uvicorn)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_disconnect(receive), GONE_MAX_S)


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _whole_length(headers: list[tuple[bytes, bytes]], body: bytes) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    return [*kept, (b"content-length", str(len(body)).encode())]
