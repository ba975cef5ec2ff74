"""Server-Sent Events: an example's body sent as an event stream, one event at a time.

An example marked ``x-mock-sse: true`` (``%%example GET /chat/stream 200 --sse --interval 250``) is
answered with ``Content-Type: text/event-stream``, ``Cache-Control: no-cache`` and no Content-Length
(chunked on HTTP/1.1): its events go out one ``send`` each, ``x-mock-interval`` ms apart.

- The body is the stream written as SSE itself: ``event:``, ``data:``, ``id:``, ``retry:`` (and ``:``
  comment) lines, a blank line ending each event; or a JSON array, one ``data:`` event per item (the
  item as compact JSON).
- Placeholders (``{{$randomUUID}}``, ``{{$timestamp}}``, path variables...) are filled per event, when it is sent.
- A request with ``Last-Event-ID: X`` resumes after the event whose ``id:`` is X (from the start when
  no event has that id); after the last event there is nothing to resume: 204 No Content, which tells an
  ``EventSource`` to stop reconnecting (the HTML standard's rule).
- A fault (``reset``, ``close``, ``truncate``, ``malformed``) cuts the stream after half its events
  (rounded down, at least one), where the next event would have gone: see :func:`cut_after`. On plain
  HTTP/1 the app writes such a stream to the socket itself and cuts it once those events are acknowledged
  (:class:`postmock_nb.answers.faults.DirectHttp1`), so none is lost, with no interval either.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from postmock_nb.answers.templating import RenderContext, render
from postmock_nb.core import limits
from postmock_nb.core.text import plural

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

CONTENT_TYPE = b"text/event-stream; charset=utf-8"
STREAM_HEADERS = ((b"content-type", CONTENT_TYPE), (b"cache-control", b"no-cache"))
"""What an SSE answer sends instead of the example's own Content-Type (and never a Content-Length)."""
_REPLACED = frozenset({b"content-type", b"content-length", b"cache-control"})
CUT_FAULTS = frozenset({"reset", "close", "truncate", "malformed"})
"""The faults that cut a stream mid-way (``slow`` and ``timeout`` apply to the answer as a whole)."""


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One event as written: its lines (without the blank line that ends it) and its ``id:`` (None: none)."""

    text: str
    id: str | None = None


PARSED_KEPT = 128
"""Stream bodies whose events are kept parsed (:func:`events_of`)."""


@functools.lru_cache(maxsize=PARSED_KEPT)
def events_of(body: str) -> tuple[SseEvent, ...]:
    """:func:`parse_events`, kept for the bodies served lately: a stream of many events is read once, not at
    every request on the server's loop (a ``str`` keeps its hash, so finding it again costs no reading)."""
    return tuple(parse_events(body))


def parse_events(body: str) -> list[SseEvent]:
    """The events of ``body``: a JSON array (one ``data:`` event per item), else SSE text."""
    stripped = body.strip()
    if stripped.startswith("["):
        try:
            items = limits.loads(stripped)
        except ValueError:
            items = None
        if isinstance(items, list):
            return [SseEvent("data: " + json.dumps(item, ensure_ascii=False, separators=(",", ":")))
                    for item in items]
    events: list[SseEvent] = []
    lines: list[str] = []
    for line in [*body.replace("\r\n", "\n").replace("\r", "\n").split("\n"), ""]:
        if line.strip():
            lines.append(line.rstrip())
        elif lines:
            events.append(SseEvent("\n".join(lines), _event_id(lines)))
            lines = []
    return events


def _event_id(lines: Sequence[str]) -> str | None:
    found = None
    for line in lines:
        name, colon, value = line.partition(":")
        if colon and name == "id":
            found = value.removeprefix(" ")
    return found


BODY_HEADERS = (b"content-type", b"content-length", b"transfer-encoding")
"""Headers of a saved response a 204 (the stream resumed after its last event) goes without."""
ENDED_NOTE = "sse: resumed after the last event: 204, so EventSource stops reconnecting"


def resume(events: Sequence[SseEvent], last_event_id: str | None) -> Sequence[SseEvent]:
    """The events after the one whose id is ``last_event_id`` (all of them without one, or when none has it)."""
    if last_event_id is None:
        return events
    for index in range(len(events) - 1, -1, -1):
        if events[index].id == last_event_id:
            return events[index + 1:]
    return events


@dataclass(frozen=True, slots=True)
class Event:
    """One Server-Sent Event a streaming handler yields: ``yield Event({"token": "Hel"}, event="token", id="1")``.

    ``data``: a dict or list is sent as compact JSON, anything else as its text (one ``data:`` line per
    line of it); ``event``, ``id`` and ``retry`` (ms) become their own lines when given."""

    data: Any = ""
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    def __post_init__(self) -> None:
        for name in ("event", "id"):
            value = getattr(self, name)
            if value is not None and ("\n" in str(value) or "\r" in str(value)):
                raise ValueError(f"an Event's {name} cannot hold a line break: {value!r}")
        if self.retry is not None and (isinstance(self.retry, bool) or not isinstance(self.retry, int)
                                       or self.retry < 0):
            raise ValueError(f"an Event's retry is a number of ms (an int >= 0), not {self.retry!r}")

    def encode(self) -> bytes:
        """The event on the wire, ended by a blank line."""
        data = self.data
        text = (json.dumps(data, ensure_ascii=False, separators=(",", ":")) if isinstance(data, (dict, list))
                else str(data))
        lines = [f"event: {self.event}"] if self.event is not None else []
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        lines.extend("data: " + line for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        return ("\n".join(lines) + "\n\n").encode("utf-8")


def cut_after(count: int) -> int:
    """After how many of ``count`` events a fault cuts the stream: half of them, rounded down (like
    ``truncate``, which sends half a body), but at least one: a client that reconnects with
    ``Last-Event-ID`` after each cut gets one more event each time, so it gets them all in the end
    (with none, a stream's last event would never go out)."""
    return max(count // 2, min(count, 1))


def encode(event: SseEvent, ctx: RenderContext) -> bytes:
    """The event's bytes on the wire, its placeholders filled now, ended by a blank line."""
    return (render(event.text, ctx) + "\n\n").encode("utf-8")


def stream_headers(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The example's headers with the stream's Content-Type and Cache-Control, without a Content-Length."""
    return [*(h for h in headers if h[0].lower() not in _REPLACED), *STREAM_HEADERS]


Progress = Callable[[int, bytes], object]
"""Told how many events (or chunks) went out so far, and the last one, as each goes out."""


@dataclass
class Sent:
    """What went out of a stream: the events' bytes, how many, and what happened (for the log)."""

    body: bytes = b""
    count: int = 0
    note: str = ""


async def stream(events: Sequence[SseEvent], ctx: RenderContext, send: Send, receive: Receive, *, status: int,
                 headers: list[tuple[bytes, bytes]], interval_s: float, cut: int | None = None,
                 stopping: asyncio.Event | None = None, progress: Progress | None = None) -> Sent:
    """Send ``events`` one at a time, ``interval_s`` apart. ``cut``: stop after that many (a fault cuts the
    connection then: the caller's part; the response is left unfinished). The client leaving stops the
    stream quietly; the mock stopping sends the rest at once (its delays end, like a ``--delay``).
    ``progress(count, chunk)`` is told each event once it went out (the log row, live)."""
    left = asyncio.ensure_future(disconnected(receive))
    stop = asyncio.ensure_future(stopping.wait() if stopping is not None else asyncio.Event().wait())
    sent = Sent()
    chunks: list[bytes] = []
    limit = len(events) if cut is None else cut
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for index, event in enumerate(events[:limit]):
            if index and interval_s and not stop.done():
                await asyncio.wait({left, stop}, timeout=interval_s, return_when=asyncio.FIRST_COMPLETED)
            elif index:  # a send to a connection the client closed may not fail: let its leaving be seen
                await asyncio.sleep(0)
            if left.done():
                break
            chunk = encode(event, ctx)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            chunks.append(chunk)
            sent.count += 1
            if progress is not None:
                progress(sent.count, chunk)
        if cut is not None and not left.done() and interval_s and not stop.done():
            # the cut comes where the next event would have gone: the last one sent has reached the client
            await asyncio.wait({left, stop}, timeout=interval_s, return_when=asyncio.FIRST_COMPLETED)
        sent.body = b"".join(chunks)
        total = plural(len(events), "event")
        if left.done():
            sent.note = f"sse: {sent.count} of {total} sent, the client left"
        elif cut is not None:
            sent.note = f"sse: {sent.count} of {total} sent, then cut"
        else:
            await send({"type": "http.response.body", "body": b""})
            sent.note = f"sse: {sent.count} of {total} sent" + ("; the mock stopped: the rest at once"
                                                                 if stop.done() and sent.count > 1 else "")
    finally:
        left.cancel()
        stop.cancel()
    return sent


async def disconnected(receive: Receive) -> None:
    """Returns once the client has left (``http.disconnect``)."""
    while (await receive())["type"] != "http.disconnect":
        pass
