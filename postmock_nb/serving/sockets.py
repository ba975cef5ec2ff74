"""WebSocket connections: a ``%%websocket`` script played to one client, its transcript kept for the log.

The app matches an upgrade like a ``GET`` (path with ``:vars``, query) and, when the winner is an example
marked ``x-mock-websocket: true``, accepts it and plays the script here (:mod:`postmock_nb.answers.websocket`
reads it). A private mock checks its key on the upgrade first (:func:`socket_key`).

Browsers cannot set headers on a WebSocket (``new WebSocket(url, protocols)`` takes a URL and subprotocols
only), so besides the ``x-api-key`` header an upgrade may carry the key as a subprotocol,
``postmock-key.<KEY>`` (``new WebSocket(url, ["postmock-key." + key])``; the mock accepts that subprotocol,
as browsers require), or as ``?api_key=<KEY>``. Both are accepted on upgrades only: an HTTP request that
could carry its key in a header must, so keys do not end up in URLs of ordinary requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from postmock_nb.answers.templating import RenderContext, render
from postmock_nb.answers.websocket import EXPECT, EXPECT_TIMEOUT_S, MISMATCH_CLOSE, Step, mismatch
from postmock_nb.config import MockConfig
from postmock_nb.core.wire import KEY_QUERY, KEY_SUBPROTOCOL
from postmock_nb.serving.refusal import key_ok, raw_header

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_ANY_SPLIT = re.compile(r"(\{\{\$any\w*\}\})")
_ANY = re.compile(r"\{\{\$any\w*\}\}")
"""The ``{{$any}}`` matchers of a ``>`` line: kept as they are, its other placeholders filled."""


def subprotocols(scope: dict[str, Any]) -> list[str]:
    """The subprotocols the client offers: the scope's (ASGI), else ``Sec-WebSocket-Protocol`` (comma-separated;
    some servers leave it out of the headers)."""
    listed = [str(p) for p in scope.get("subprotocols") or ()]
    return listed or [p.strip() for name, value in scope["headers"] if name.lower() == b"sec-websocket-protocol"
                      for p in value.decode("latin-1").split(",") if p.strip()]


def socket_key(settings: MockConfig, scope: dict[str, Any]) -> tuple[str, str | None]:
    """Why a private mock refuses this upgrade (``""``: it does not), and the subprotocol to accept
    (the key's, when the key came that way)."""
    raw_headers, query_string = list(scope["headers"]), scope.get("query_string", b"")
    offered = subprotocols(scope)
    keyed = next((p for p in offered if p.startswith(KEY_SUBPROTOCOL)), None)
    if not settings.private:
        return "", keyed
    if key_ok(settings, raw_header(list(raw_headers), b"x-api-key")):
        return "", None
    if keyed is not None and key_ok(settings, keyed[len(KEY_SUBPROTOCOL) :].encode("utf-8")):
        return "", keyed
    query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    if KEY_QUERY in query and key_ok(settings, query[KEY_QUERY].encode("utf-8")):
        return "", None
    if keyed is not None or KEY_QUERY in query or raw_header(list(raw_headers), b"x-api-key") is not None:
        return "wrong key (x-api-key, postmock-key.<KEY> subprotocol or ?api_key=)", None
    return "missing key (x-api-key header, postmock-key.<KEY> subprotocol or ?api_key=)", None


@dataclass(slots=True)
class Transcript:
    """What went over one connection: its lines (``< sent``, ``> received``, ``! near miss``), counts, close."""

    lines: list[str] = field(default_factory=list)
    sent: int = 0
    received: int = 0
    near_misses: int = 0
    close_code: int | None = None
    close_reason: str = ""
    closed_by: str = ""
    """``mock`` or ``client``."""

    def summary(self) -> str:
        close = f"closed {self.close_code}" if self.close_code is not None else "closed"
        by = f" by the {self.closed_by}" if self.closed_by else ""
        reason = f" ({self.close_reason})" if self.close_reason else ""
        misses = f", {self.near_misses} near miss{'es' if self.near_misses != 1 else ''}" if self.near_misses else ""
        return f"WebSocket: {self.sent} sent, {self.received} received{misses}, {close}{by}{reason}"

    def text(self) -> str:
        return "\n".join([*self.lines, f"-- {self.summary()}"])


class _Gone(Exception):
    """The client left (or the server stops): the script ends quietly."""


class Player:
    """One connection's script: the steps in order, the client's messages read by a task of their own."""

    def __init__(self, receive: Receive, send: Send, ctx: RenderContext, stopping: asyncio.Event | None) -> None:
        self._receive, self._send, self._ctx = receive, send, ctx
        self._stopping = stopping
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._gone = asyncio.Event()
        """Set when the client leaves: a pause ends at once."""
        self.transcript = Transcript()

    async def _read(self) -> None:
        while True:
            message = await self._receive()
            kind = message.get("type")
            if kind == "websocket.receive":
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                self.transcript.received += 1
                self.transcript.lines.append(f"> {text}")
                self._inbox.put_nowait(text)
            elif kind == "websocket.disconnect":
                if not self.transcript.closed_by:  # else the mock closed it, with its own code
                    self.transcript.close_code = message.get("code", 1005)
                    self.transcript.closed_by = "client"
                self._gone.set()
                self._inbox.put_nowait(None)
                return

    async def play(self, steps: Sequence[Step], interval_s: float, repeat: bool, subprotocol: str | None) -> None:
        await self._send({"type": "websocket.accept", "subprotocol": subprotocol})
        reader = asyncio.ensure_future(self._read())
        try:
            await self._steps(steps, interval_s, repeat)
        except _Gone:  # the client left, or the mock stops (then it says so)
            await self._close(1001, "the mock stopped")
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def _steps(self, steps: Sequence[Step], interval_s: float, repeat: bool) -> None:
        """The steps in order (again and again with ``repeat``); then the socket stays open until the client
        leaves or the mock stops (what the client sends meanwhile is in the transcript)."""
        while True:
            for step in steps:
                if step.kind == EXPECT:
                    await self._expect(step.text)
                else:
                    await self._out(render(step.text, self._ctx))
                    await self._wait(interval_s)
            if not repeat or not steps:
                break
        while True:
            await self._wait(3600.0)

    async def _out(self, text: str) -> None:
        if self.transcript.closed_by:
            raise _Gone
        try:
            await self._send({"type": "websocket.send", "text": text})
        except Exception:  # the client left between two messages: nothing to report
            self.transcript.closed_by = self.transcript.closed_by or "client"
            raise _Gone from None
        self.transcript.sent += 1
        self.transcript.lines.append(f"< {text}")

    async def _wait(self, seconds: float) -> None:
        """Pause between two sends; ends early (raising :class:`_Gone`) when the client leaves or the mock stops."""
        waits = [asyncio.ensure_future(self._gone.wait())]
        if self._stopping is not None:
            waits.append(asyncio.ensure_future(self._stopping.wait()))
        try:
            done, _ = await asyncio.wait(waits, timeout=max(seconds, 0.0), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        if done or self.transcript.closed_by:
            raise _Gone

    async def _expect(self, expected: str) -> None:
        """Wait for a message matching ``expected``; others are near misses; none in time: close with 1008."""
        wanted = "".join(part if _ANY.fullmatch(part) else render(part, self._ctx)
                         for part in _ANY_SPLIT.split(expected))
        deadline = time.monotonic() + EXPECT_TIMEOUT_S
        last = ""
        while (left := deadline - time.monotonic()) > 0:
            got = await self._next(left)
            if got is None:
                break

            why = mismatch(wanted, got)
            if not why:
                return
            last = why
            self.transcript.near_misses += 1
            self.transcript.lines.append(f"! near miss, expected {expected}: {why}")
        reason = f"expected {expected[:60]}" + (f" ({last[:50]})" if last else ": nothing came")
        await self._close(MISMATCH_CLOSE, reason[:120])
        raise _Gone

    async def _next(self, seconds: float) -> str | None:
        """The client's next message, None when none comes in ``seconds``; :class:`_Gone` when the client
        leaves or the mock stops meanwhile."""
        getting = asyncio.ensure_future(self._inbox.get())
        waits: list[asyncio.Future[Any]] = [getting]
        if self._stopping is not None:
            waits.append(asyncio.ensure_future(self._stopping.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits[1:]:
                waiting.cancel()
        if not getting.done():
            getting.cancel()
            if self._stopping is not None and self._stopping.is_set():
                raise _Gone
            return None
        got = getting.result()
        if got is None:
            raise _Gone
        return got

    async def _close(self, code: int, reason: str) -> None:
        if self.transcript.closed_by:
            return
        self.transcript.close_code, self.transcript.close_reason, self.transcript.closed_by = code, reason, "mock"
        with contextlib.suppress(Exception):  # the client may have left meanwhile
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
