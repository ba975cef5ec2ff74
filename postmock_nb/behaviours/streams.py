"""Streaming handlers: a handler that returns a generator (or an async generator) streams what it yields.

- :class:`~postmock_nb.answers.sse.Event` items go out as Server-Sent Events (``text/event-stream``,
  ``Cache-Control: no-cache``); ``str`` and ``bytes`` items as a chunked body (``text/plain; charset=utf-8``
  and ``application/octet-stream`` unless the handler's ``Reply`` names a Content-Type). The first item
  decides which; each item is one ``send``, so the client reads it before the next is asked for.
- A plain generator is pulled one item at a time in the handler's worker thread (never on the server's
  loop); an async generator is iterated on the loop.
- The client leaving (or the mock stopping) stops the stream: the generator is closed, so its ``finally``
  runs (in the worker for a plain generator, once the item being pulled, if any, is done); nothing is printed.
- What the generator raises ends the stream where it is (the body ends cleanly) and is noted in the log.
- ``mock.callback(...)`` (and ``request.callback(...)``) work in the generator's body too: every pull records
  into the stream's :attr:`HandlerStream.callbacks` (the request's list: what the handler asked for before
  returning the generator is there already), and the app sends them all once the stream has ended, however it
  ended (:data:`~postmock_nb.behaviours.callbacks.MAX_CALLBACKS` in all).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncGenerator, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from postmock_nb.answers import sse
from postmock_nb.behaviours import callbacks as callbacks_
from postmock_nb.behaviours.workers import HandlerAborted, Lane

_END = object()
"""What a pull gives once the generator is exhausted."""
_TEXT = ((b"content-type", b"text/plain; charset=utf-8"),)
_BYTES = ((b"content-type", b"application/octet-stream"),)


def is_stream(value: Any) -> bool:
    """Whether a handler's return value (or its ``Reply``'s body) is a generator to stream."""
    return inspect.isgenerator(value) or inspect.isasyncgen(value)


def _next(pull: tuple[Generator[Any, Any, Any], list[callbacks_.Callback]]) -> Any:
    """The next item of a plain generator (in its worker thread), ``mock.callback`` recording into the list."""
    generator, into = pull
    token = callbacks_.collecting(into)
    try:
        return next(generator, _END)
    finally:
        callbacks_.done(token)


async def _anext(generator: AsyncGenerator[Any, Any], into: list[callbacks_.Callback]) -> Any:
    """The next item of an async generator (in a task of its own: the context set here is the task's)."""
    token = callbacks_.collecting(into)
    try:
        return await generator.__anext__()
    finally:
        callbacks_.done(token)


def _close(generator: Generator[Any, Any, Any]) -> None:
    generator.close()


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # read, so that asyncio never prints "exception was never retrieved"


@dataclass
class HandlerStream:
    """A handler's generator and how its items are pulled: in ``lane`` (a plain generator) or on the loop."""

    generator: Generator[Any, Any, Any] | AsyncGenerator[Any, Any]
    lane: Lane
    label: str
    name: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    callbacks: list[callbacks_.Callback] = field(default_factory=list)
    """What the handler asked to call back, before returning the generator and while it streams: sent once the
    stream has ended."""
    _pending: asyncio.Future[Any] | None = field(default=None, init=False, repr=False)

    def pull(self) -> asyncio.Future[Any]:
        """The next item (or ``_END``), as a future to race against the client leaving."""
        generator = self.generator
        if isinstance(generator, AsyncGenerator):
            future: asyncio.Future[Any] = asyncio.ensure_future(_anext(generator, self.callbacks))
        else:
            future = self.lane.submit(_next, (generator, self.callbacks), self.label).future
        self._pending = future
        return future

    async def close(self) -> None:
        """Stop the generator (its ``finally`` runs); an item being pulled from a plain one is waited for in its
        worker, not here: the close follows it there."""
        generator, pending = self.generator, self._pending
        if isinstance(generator, AsyncGenerator):
            if pending is not None and not pending.done():
                pending.cancel()  # thrown into the generator where it awaits: its finally runs
                with contextlib.suppress(BaseException):
                    await pending
            with contextlib.suppress(Exception):
                await generator.aclose()
            return
        if pending is not None and not pending.done():
            pending.add_done_callback(lambda _: self._close_in_lane())
        else:
            self._close_in_lane()

    def _close_in_lane(self) -> None:
        assert isinstance(self.generator, Generator)
        self.lane.submit(_close, self.generator, self.label).future.add_done_callback(_retrieve)


def _chunk(item: Any) -> tuple[bytes, str]:
    """An item's bytes and kind (``sse``, ``text``, ``bytes``); a TypeError for anything else."""
    if isinstance(item, sse.Event):
        return item.encode(), "sse"
    if isinstance(item, str):
        return item.encode("utf-8"), "text"
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item), "bytes"
    raise TypeError(f"yielded a {type(item).__name__}: a streaming handler yields postmock_nb.Event, str or bytes")


def _head(kind: str, headers: tuple[tuple[str, str], ...],
          extra: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The stream's response headers: the handler's, its kind's Content-Type, then ``extra`` (the mock's CORS)."""
    own = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    if kind == "sse":
        return [*sse.stream_headers(own), *extra]
    own = [h for h in own if h[0] != b"content-length"]
    if not any(h[0] == b"content-type" for h in own):
        own += _BYTES if kind == "bytes" else _TEXT
    return [*own, *extra]


@dataclass
class Streamed:
    """What went out of a handler's stream (for the log)."""

    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    size: int = 0
    count: int = 0
    note: str = ""
    error: str = ""


async def send_stream(stream: HandlerStream, send: sse.Send, receive: sse.Receive, *, body_limit: int,
                      stopping: asyncio.Event | None = None, extra: Sequence[tuple[bytes, bytes]] = (),
                      progress: sse.Progress | None = None) -> Streamed:
    """Send what the handler's generator yields, one item per ``send``, until it ends, raises, the client leaves
    or the mock stops; the generator is closed in every case. ``extra``: headers the mock adds to every answer
    (CORS), as to a handler's plain reply: a page's ``EventSource`` on another origin needs them.
    ``progress(count, chunk)`` is told each item once it went out (the log row, live)."""
    left = asyncio.ensure_future(sse.disconnected(receive))
    stop = asyncio.ensure_future(stopping.wait() if stopping is not None else asyncio.Event().wait())
    out = Streamed()
    kind = ""
    chunks: list[bytes] = []
    try:
        while True:
            pull = stream.pull()
            await asyncio.wait({pull, left, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not pull.done():
                break
            try:
                item = pull.result()
                if item is _END:
                    break
                chunk, item_kind = _chunk(item)
            except (Exception, StopAsyncIteration) as error:
                if isinstance(error, StopAsyncIteration):
                    break
                raised = error.error if isinstance(error, HandlerAborted) else error
                out.error = f"{type(raised).__name__}: {raised}"
                break
            if not kind:
                kind = item_kind
                out.headers = _head(kind, stream.headers, extra)
                await send({"type": "http.response.start", "status": stream.status, "headers": out.headers})
            if left.done():
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            out.count += 1
            out.size += len(chunk)
            if out.size - len(chunk) < body_limit:
                chunks.append(chunk)
            if progress is not None:
                progress(out.count, chunk)
        if not kind:  # nothing was yielded: an empty body
            out.headers = _head("text", stream.headers, extra)
            await send({"type": "http.response.start", "status": stream.status, "headers": out.headers})
        if not left.done():
            await send({"type": "http.response.body", "body": b""})
    finally:
        left_now = left.done()
        left.cancel()
        stop.cancel()
        await stream.close()
    out.body = b"".join(chunks)[:body_limit]
    items = f"{out.count} item{'s' if out.count != 1 else ''}"
    out.note = f"handler {stream.name} streamed {items} ({kind or 'empty'})"
    if out.error:
        out.note += f", then raised {out.error}"
    elif left_now:
        out.note += ", the client left"
    elif stop.done() and not stop.cancelled():
        out.note += ", the mock stopped"
    return out
