"""WebSocket connections: a ``%%websocket`` script played to one client, or a Python socket handler awaited
with it; each connection's transcript kept for the log, and every open one reachable by ``mock.broadcast``.

The app matches an upgrade like a ``GET`` (path with ``:vars``, query, headers) and, when the winner is an
example marked ``x-mock-websocket: true``, accepts it and plays the script here
(:mod:`postmock_nb.answers.websocket` reads it); marked ``x-mock-websocket: handler``, it awaits the socket
handler (:mod:`postmock_nb.behaviours.sockets`). A private mock checks its key on the upgrade first
(:func:`socket_key`).

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
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from postmock_nb.answers.templating import RenderContext, render
from postmock_nb.answers.websocket import EXPECT, EXPECT_TIMEOUT_S, MISMATCH_CLOSE, Step, mismatch
from postmock_nb.behaviours.sockets import (
    HANDLER_ERROR_CLOSE,
    NORMAL_CLOSE,
    NOT_JSON_CLOSE,
    BadMessage,
    Disconnected,
    Socket,
    SocketFunction,
)
from postmock_nb.config import MockConfig
from postmock_nb.core.wire import KEY_QUERY, KEY_SUBPROTOCOL
from postmock_nb.serving.refusal import key_ok, raw_header

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_ANY_SPLIT = re.compile(r"(\{\{\$any\w*\}\})")
_ANY = re.compile(r"\{\{\$any\w*\}\}")
"""The ``{{$any}}`` matchers of a ``>`` line: kept as they are, its other placeholders filled."""
TRANSCRIPT_LINES = 1000
"""Lines a connection's transcript keeps (the latest; the counts go on): a connection may live for days."""
LINE_CHARS = 500
"""Characters of one message a transcript line keeps."""
STOPPED = (1001, "the mock stopped")
TOO_BIG_CLOSE = 1009
"""The close code for a client's message larger than ``max_body_bytes`` (RFC 6455 §7.4.1, message too big)."""
UNREAD_MESSAGES = 1000
UNREAD_BYTES = 16 * 1024 * 1024
"""How many of the client's messages (and bytes) a connection keeps unread; past either, the oldest go."""
BROADCAST_SEND_S = 2.0
"""How long ``mock.broadcast`` waits for one connection to take its message; the connections are sent to at once,
so a client that does not read holds up neither the others nor the broadcast longer than this."""
CLOSE_WAIT_S = 1.0
"""How long the close frame may wait for a client to take it once the mock stops."""
LEAVE_GRACE_S = 1.0
"""How long a socket handler may go on after its client left (to read what was sent before) before it is
cancelled: a handler that never reads again still ends."""


def subprotocols(scope: dict[str, Any]) -> list[str]:
    """The subprotocols the client offers: the scope's (ASGI), else ``Sec-WebSocket-Protocol`` (comma-separated;
    some servers leave it out of the headers)."""
    listed = [str(p) for p in scope.get("subprotocols") or ()]
    return listed or [p.strip() for name, value in scope["headers"] if name.lower() == b"sec-websocket-protocol"
                      for p in value.decode("latin-1").split(",") if p.strip()]


def socket_key(settings: MockConfig, scope: dict[str, Any]) -> tuple[str, str | None]:
    """Why a private mock refuses this upgrade (``""``: it does not), and the subprotocol to accept: the key's,
    when the key came that way, else the first the client offers (a browser asking for one, a GraphQL or STOMP
    client's, fails the connection when none comes back), else None."""
    raw_headers, query_string = list(scope["headers"]), scope.get("query_string", b"")
    offered = subprotocols(scope)
    keyed = next((p for p in offered if p.startswith(KEY_SUBPROTOCOL)), None)
    accepted = keyed or next(iter(offered), None)
    if not settings.private:
        return "", accepted
    if key_ok(settings, raw_header(list(raw_headers), b"x-api-key")):
        return "", accepted
    if keyed is not None and key_ok(settings, keyed[len(KEY_SUBPROTOCOL) :].encode("utf-8")):
        return "", keyed
    query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    if KEY_QUERY in query and key_ok(settings, query[KEY_QUERY].encode("utf-8")):
        return "", accepted
    if keyed is not None or KEY_QUERY in query or raw_header(list(raw_headers), b"x-api-key") is not None:
        return "wrong key (x-api-key, postmock-key.<KEY> subprotocol or ?api_key=)", None
    return "missing key (x-api-key header, postmock-key.<KEY> subprotocol or ?api_key=)", None


@dataclass(slots=True)
class Transcript:
    """What went over one connection: its lines (``< sent``, ``> received``, ``! near miss``), counts, close."""

    lines: deque[str] = field(default_factory=lambda: deque(maxlen=TRANSCRIPT_LINES))
    sent: int = 0
    received: int = 0
    near_misses: int = 0
    dropped: int = 0
    """Messages of the client's dropped unread (see :meth:`Connection._keep_unread`)."""
    close_code: int | None = None
    close_reason: str = ""
    closed_by: str = ""
    """``mock`` or ``client``."""
    on_line: Callable[[str], object] | None = field(default=None, repr=False, compare=False)
    """Told each line as it is added, its count already updated (the app: the connection's log row, live)."""

    def add(self, direction: str, message: str | bytes) -> None:
        """A line of the transcript: ``<`` sent, ``>`` received, ``!`` a note (a binary frame by its size)."""
        text = message if isinstance(message, str) else f"(binary, {len(message)} bytes)"
        line = f"{direction} {text[:LINE_CHARS]}" + ("…" if len(text) > LINE_CHARS else "")
        self.lines.append(line)
        if self.on_line is not None:
            self.on_line(line)

    def _counts(self) -> str:
        misses = f", {self.near_misses} near miss{'es' if self.near_misses != 1 else ''}" if self.near_misses else ""
        dropped = f" ({self.dropped} dropped unread)" if self.dropped else ""
        return f"{self.sent} sent, {self.received} received{dropped}{misses}"

    def progress(self) -> str:
        """The summary while the connection is open: ``WebSocket open: 3 sent, 2 received``."""
        return f"WebSocket open: {self._counts()}"

    def summary(self) -> str:
        close = f"closed {self.close_code}" if self.close_code is not None else "closed"
        by = f" by the {self.closed_by}" if self.closed_by else ""
        reason = f" ({self.close_reason})" if self.close_reason else ""
        return f"WebSocket: {self._counts()}, {close}{by}{reason}"

    def text(self) -> str:
        dropped = self.sent + self.received + self.near_misses - len(self.lines)
        first = [f"… {dropped} earlier lines not kept"] if dropped > 0 and len(self.lines) == TRANSCRIPT_LINES else []
        return "\n".join([*first, *self.lines, f"-- {self.summary()}"])


class Connection:
    """One accepted WebSocket: what the mock sends (one frame at a time: a script or handler and
    ``mock.broadcast`` may send at once), the client's messages read by a task of their own, the transcript.

    :class:`~postmock_nb.behaviours.sockets.Disconnected` is how every wait ends when the client leaves or the
    mock stops (``stopping`` set: the connection is then closed with 1001).
    """

    def __init__(self, receive: Receive, send: Send, stopping: asyncio.Event | None, *,
                 max_bytes: int | None = None) -> None:
        self._receive, self._send, self._stopping = receive, send, stopping
        self._max_bytes = max_bytes
        """The largest message taken from the client (``max_body_bytes``); a larger one closes with 1009."""
        self._inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self._unread_bytes = 0
        self._gone = asyncio.Event()
        """Set when the client leaves: a pause ends at once."""
        self._sending = asyncio.Lock()
        self._stuck = False
        """A send was given up (the mock stops, the client does not read): nothing more can be sent."""
        self._sending_task: asyncio.Task[Any] | None = None
        self._watcher: asyncio.Future[None] | None = None
        self._reader: asyncio.Future[None] | None = None
        self.transcript = Transcript()
        self.subprotocol: str | None = None
        """The subprotocol accepted (a private mock's key subprotocol, when the key came that way)."""

    async def accept(self, subprotocol: str | None) -> None:
        self.subprotocol = subprotocol
        await self._send({"type": "websocket.accept", "subprotocol": subprotocol})
        self._reader = asyncio.ensure_future(self._read())
        if self._stopping is not None:
            self._watcher = asyncio.ensure_future(self._cut_at_stop(self._stopping))

    async def finish(self) -> None:
        """Stop reading (the connection is over)."""
        for task in (self._reader, self._watcher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    @property
    def gone(self) -> asyncio.Event:
        return self._gone

    @property
    def closed(self) -> bool:
        return bool(self.transcript.closed_by)

    async def _read(self) -> None:
        while True:
            message = await self._receive()
            kind = message.get("type")
            if kind == "websocket.receive":
                got: str | bytes = message["text"] if message.get("text") is not None else message.get("bytes") or b""
                if self._too_big(got):
                    await self.close(TOO_BIG_CLOSE, f"message too big (over {self._max_bytes} bytes: max_body_bytes)")
                    continue  # the server's disconnect follows
                self.transcript.received += 1
                self.transcript.add(">", got)
                self._keep_unread(got)
            elif kind == "websocket.disconnect":
                if not self.transcript.closed_by:  # else the mock closed it, with its own code
                    self.transcript.close_code = message.get("code", 1005)
                    self.transcript.closed_by = "client"
                self._gone.set()
                self._inbox.put_nowait(None)
                return

    def _too_big(self, message: str | bytes) -> bool:
        """Whether ``message`` is larger than a body may be (a text's UTF-8 counted only when it may be)."""
        limit = self._max_bytes
        if limit is None or len(message) * (4 if isinstance(message, str) else 1) <= limit:
            return False
        return len(message.encode("utf-8") if isinstance(message, str) else message) > limit

    def _keep_unread(self, message: str | bytes) -> None:
        """Keep ``message`` until the script or handler reads it; past :data:`UNREAD_MESSAGES` messages or
        :data:`UNREAD_BYTES` bytes unread, the oldest go (counted in the transcript): a client may send for
        as long as it likes to a script that reads no more, or a handler that never reads."""
        self._inbox.put_nowait(message)
        self._unread_bytes += len(message)
        while self._inbox.qsize() > UNREAD_MESSAGES or self._unread_bytes > UNREAD_BYTES:
            oldest = self._inbox.get_nowait()
            self._unread_bytes -= len(oldest or "")
            self.transcript.dropped += 1

    async def send_message(self, message: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) frame; :class:`Disconnected` once the socket closed."""
        async with self._sending:
            if self.transcript.closed_by:
                raise self._disconnected()
            frame = {"type": "websocket.send", "text": message} if isinstance(message, str) else {
                "type": "websocket.send", "bytes": message}
            try:
                sent = await self._send_unless_stopping(frame)
            except Exception:  # the client left between two messages: nothing to report
                self.transcript.closed_by = self.transcript.closed_by or "client"
                raise self._disconnected() from None
            if not sent:  # the mock stops, and the client does not take what it was sent: no frame can follow
                await self.close(*STOPPED)
                raise self._disconnected()
            self.transcript.sent += 1
            self.transcript.add("<", message)

    async def next_message(self) -> str | bytes:
        """The client's next message; :class:`Disconnected` when it left or the mock stops."""
        while True:
            got = await self.next_within(3600.0)
            if got is not None:
                return got

    async def next_within(self, seconds: float) -> str | bytes | None:
        """The client's next message, None when none comes in ``seconds``; :class:`Disconnected` when the
        client leaves or the mock stops meanwhile."""
        getting = asyncio.ensure_future(self._inbox.get())
        waits: list[asyncio.Future[Any]] = [getting]
        if self._stopping is not None:
            waits.append(asyncio.ensure_future(self._stopping.wait()))
        try:
            await asyncio.wait(waits, timeout=max(seconds, 0.0), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled (a handler's task, as the mock stops): the read ends with it
            getting.cancel()
            raise
        finally:
            for waiting in waits[1:]:
                waiting.cancel()
        if not getting.done():
            getting.cancel()
            if self._stopping is not None and self._stopping.is_set():
                await self.close(*STOPPED)
                raise self._disconnected()
            return None
        got = getting.result()
        if got is None:
            self._inbox.put_nowait(None)  # every later read ends too
            raise self._disconnected()
        self._unread_bytes -= len(got)
        return got

    async def wait(self, seconds: float) -> None:
        """Pause; ends early (raising :class:`Disconnected`) when the client leaves or the mock stops."""
        waits = [asyncio.ensure_future(self._gone.wait())]
        if self._stopping is not None:
            waits.append(asyncio.ensure_future(self._stopping.wait()))
        try:
            done, _ = await asyncio.wait(waits, timeout=max(seconds, 0.0), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        if self._stopping is not None and self._stopping.is_set():
            await self.close(*STOPPED)
        if done or self.transcript.closed_by:
            raise self._disconnected()

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code`` and ``reason`` (once: a later close, or one after the client left, does nothing).
        A client that does not read gets no close frame once the mock stops: the server drops the connection."""
        if self.transcript.closed_by:
            return
        self.transcript.close_code, self.transcript.close_reason, self.transcript.closed_by = code, reason, "mock"
        if self._stuck:
            return
        with contextlib.suppress(Exception):  # the client may have left meanwhile
            if self._stopping is not None and self._stopping.is_set():
                await asyncio.wait_for(self._send({"type": "websocket.close", "code": code, "reason": reason}),
                                       CLOSE_WAIT_S)
            else:
                await self._send({"type": "websocket.close", "code": code, "reason": reason})

    async def _send_unless_stopping(self, frame: Message) -> bool:
        """Send ``frame``; False when the mock stopped before the client took it (a client that does not read:
        the send waits for room in its buffer, and a stop must not wait for it: :meth:`_cut_at_stop`)."""
        task = asyncio.current_task()
        self._sending_task = task
        try:
            await self._send(frame)
        except asyncio.CancelledError:
            if not self._stuck or task is None:  # cancelled from elsewhere: not ours to swallow
                raise
            uncancel = getattr(task, "uncancel", None)  # 3.11+: the cancellation is handled here
            if uncancel is not None:
                uncancel()
            return False
        finally:
            self._sending_task = None
        return True

    async def _cut_at_stop(self, stopping: asyncio.Event) -> None:
        """Once the mock stops, a send still waiting for the client to take its frame is given up."""
        await stopping.wait()
        sending = self._sending_task
        if sending is not None:
            self._stuck = True
            sending.cancel()

    def _disconnected(self) -> Disconnected:
        return Disconnected(self.transcript.close_code or 1005, self.transcript.close_reason)


class Player:
    """One connection's ``%%websocket`` script: the steps in order, with the interval."""

    def __init__(self, connection: Connection, ctx: RenderContext) -> None:
        self._connection, self._ctx = connection, ctx
        self._timeout_s = EXPECT_TIMEOUT_S
        """How long a ``>`` step waits for a matching message (``x-mock-timeout``)."""

    async def play(self, steps: Sequence[Step], interval_s: float, repeat: bool,
                   timeout_s: float | None = None) -> None:
        """Play ``steps``; a ``>`` step waits ``timeout_s`` (None: :data:`EXPECT_TIMEOUT_S`)."""
        self._timeout_s = EXPECT_TIMEOUT_S if timeout_s is None else timeout_s
        try:
            await self._steps(steps, interval_s, repeat)
        except Disconnected:  # the client left, or the mock stops (then it says so)
            await self._connection.close(*STOPPED)

    async def _steps(self, steps: Sequence[Step], interval_s: float, repeat: bool) -> None:
        """The steps in order (again and again with ``repeat``); then the socket stays open until the client
        leaves or the mock stops (what the client sends meanwhile is in the transcript)."""
        while True:
            for step in steps:
                if step.kind == EXPECT:
                    await self._expect(step.text)
                else:
                    await self._connection.send_message(render(step.text, self._ctx))
                    await self._connection.wait(interval_s)
            if not repeat or not steps:
                break
        while True:
            await self._connection.wait(3600.0)

    async def _expect(self, expected: str) -> None:
        """Wait for a message matching ``expected``; others are near misses; none in time (``x-mock-timeout``,
        default 10 s): close with 1008."""
        wanted = "".join(part if _ANY.fullmatch(part) else render(part, self._ctx)
                         for part in _ANY_SPLIT.split(expected))
        deadline = time.monotonic() + self._timeout_s
        last = ""
        transcript = self._connection.transcript
        while (left := deadline - time.monotonic()) > 0:
            got = await self._connection.next_within(left)
            if got is None:
                break
            why = mismatch(wanted, got if isinstance(got, str) else got.decode("utf-8", "replace"))
            if not why:
                return
            last = why
            transcript.near_misses += 1
            transcript.add("!", f"near miss, expected {expected}: {why}")
        reason = f"expected {expected[:60]}" + (f" ({last[:50]})" if last else ": nothing came")
        await self._connection.close(MISMATCH_CLOSE, reason[:120])
        raise Disconnected(MISMATCH_CLOSE, reason)


async def run_handler(function: SocketFunction, socket: Socket, connection: Connection,
                      stopping: asyncio.Event | None) -> str:
    """Await a socket handler for as long as the connection lasts; returns the traceback if it raised.

    It returning closes the socket with 1000; :class:`Disconnected` escaping it is the client leaving (quiet);
    :class:`~postmock_nb.behaviours.sockets.BadMessage` closes with 1007, anything else with 1011. The mock
    stopping cancels it (1001); the client leaving cancels it after :data:`LEAVE_GRACE_S` if it does not end.
    """
    task = asyncio.ensure_future(function(socket))
    ending = [asyncio.ensure_future(connection.gone.wait())]
    if stopping is not None:
        ending.append(asyncio.ensure_future(stopping.wait()))
    try:
        await asyncio.wait([task, *ending], return_when=asyncio.FIRST_COMPLETED)
        if not task.done() and connection.gone.is_set():
            await asyncio.wait([task, *ending[1:]], timeout=LEAVE_GRACE_S, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in ending:
            waiting.cancel()
    if not task.done():  # the mock stops, or the client left and the handler does not end by itself
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        await connection.close(*STOPPED)
        return ""
    error = task.exception() if not task.cancelled() else None
    if error is None or isinstance(error, (Disconnected, asyncio.CancelledError)):
        await connection.close(NORMAL_CLOSE, "")
        return ""
    if isinstance(error, BadMessage):
        await connection.close(NOT_JSON_CLOSE, str(error)[:120])
        return ""
    await connection.close(HANDLER_ERROR_CLOSE, f"handler error: {type(error).__name__}"[:120])
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


class Connections:
    """The open connections of one app, by route, for ``mock.broadcast`` (used on the server's loop only)."""

    def __init__(self) -> None:
        self._open: dict[Connection, tuple[str, str]] = {}

    def opened(self, connection: Connection, route: str, path: str) -> None:
        """``connection`` is open on the example of ``route`` (``/ws/rooms/:room``), asked for as ``path``."""
        self._open[connection] = (route, path)

    def closed(self, connection: Connection) -> None:
        self._open.pop(connection, None)

    @property
    def count(self) -> int:
        """How many are open (any thread may read it: the dashboard's status line)."""
        return len(self._open)

    def routes(self) -> dict[str, int]:
        """Each route with open connections → how many (any thread may read it: ``%mock status``)."""
        found: dict[str, int] = {}
        for route, _ in list(self._open.values()):
            found[route] = found.get(route, 0) + 1
        return found

    async def broadcast(self, route: str, message: str | bytes) -> int:
        """Send ``message`` to every open connection of ``route`` (the route as defined, or the path asked
        for), all at once; how many got it (one that left meanwhile, or did not take it within
        :data:`BROADCAST_SEND_S`, is skipped)."""
        sends = [asyncio.ensure_future(connection.send_message(message))
                 for connection, (defined, path) in list(self._open.items()) if route in (defined, path)]
        if not sends:
            return 0
        done, late = await asyncio.wait(sends, timeout=BROADCAST_SEND_S)
        for sending in late:  # a client that does not read: it does not get this one
            sending.cancel()
        if late:
            await asyncio.wait(late)
        return sum(1 for sending in done if sending.exception() is None)
