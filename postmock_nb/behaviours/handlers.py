"""Python handlers: a function defined in a cell answers the requests its example wins.

A handler is an ordinary example of the collection (so matching, selectors, diagnostics and the
Examples tab treat it like any other) whose request carries the marker ``x-mock-handler: <key>``;
the app, when such an example wins, calls the function registered under that key here instead of
sending the saved response. The saved response is the handler's sample (its declared status and
body, and after each call its most recent answer), which is what ``%mock save`` exports.

Threading model: a plain ``def`` runs in a worker thread (:mod:`postmock_nb.behaviours.workers`), never on the
server's event loop; an ``async def`` runs on the server's loop. Handlers run one at a time (one
shared worker, and one lock for coroutines) unless registered with ``concurrent=True``. Each call
has a timeout (504); a ``def`` still running past it is left to its (daemon) thread and the worker
replaced, and an ``async def`` that blocks the loop without awaiting is reported in the log and in
``%mock status``. Whatever a handler raises, ``SystemExit`` and ``KeyboardInterrupt`` included, is
its caller's 500, never the server's end.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Generator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import Any
from urllib.parse import parse_qs

from postmock_nb.answers.responses import error_body
from postmock_nb.behaviours import callbacks as callbacks_
from postmock_nb.behaviours.streams import HandlerStream, is_stream
from postmock_nb.behaviours.workers import HandlerAborted, Lane
from postmock_nb.core import limits
from postmock_nb.core.model import Pairs, reason_phrase

DEFAULT_TIMEOUT_S = 5.0
CONCURRENT_WORKERS = 8
"""Worker threads for handlers registered with ``concurrent=True`` (all of them together)."""
MAX_STUCK_CALLS = 4
"""Calls of one handler left running in threads past their timeout before its next calls answer 503."""
BLOCKING_WARN_S = 0.1
"""An ``async def`` that holds the event loop this long without awaiting is reported (asyncio's own threshold
for a slow callback in debug mode)."""
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False)  # NaN: the handler is told, never JSON.parse
"""One encoder for every handler's answer (``json.dumps`` with an option builds a new one per call)."""


class BadRequestBody(ValueError):
    """``request.json`` of a body that is not JSON, or too deep: the caller's mistake, answered 400."""


class QueryAndHeaders:
    """What a handler's :class:`Request` and a socket handler's ``Socket`` read the same way: the query by name,
    the headers in any case (from their ``query_pairs`` and lower-case ``header_map``)."""

    query_pairs: Pairs
    header_map: Mapping[str, str]

    @cached_property
    def query(self) -> dict[str, list[str]]:
        """Every value of every query parameter: ``{"tag": ["a", "b"]}``."""
        return query_lists(self.query_pairs)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    @property
    def headers(self) -> AnyCase:
        """Headers looked up in any case: ``request.headers["Content-Type"]``."""
        return AnyCase(self.header_map)


@dataclass(frozen=True)
class Request(QueryAndHeaders):
    """What a handler receives: the request, its path variables and the mock's collection variables."""

    method: str
    path: str
    path_vars: Mapping[str, str]
    query_pairs: Pairs
    header_map: Mapping[str, str]
    body: bytes
    variables: Mapping[str, str] = field(default_factory=dict)
    callbacks: list[callbacks_.Callback] = field(default_factory=list, compare=False, repr=False)
    """The callbacks asked for while handling it (sent after the response; see :meth:`callback`)."""

    def callback(self, method: str, url: str, *, json: Any = None, data: str | bytes | None = None,
                 headers: Mapping[str, str] | None = None, delay: float = 0.0, retries: int = 0) -> None:
        """Send ``method url`` (a webhook) ``delay`` seconds after this request is answered, with ``json`` (or
        ``data``) and ``headers``, tried ``retries`` more times (with backoff) while unreachable or 5xx; only to
        loopback or a host allowed with ``--callback-allow``."""
        if len(self.callbacks) >= callbacks_.MAX_CALLBACKS:
            raise callbacks_.CallbackError(f"a handler call may ask for at most {callbacks_.MAX_CALLBACKS} callbacks")
        self.callbacks.append(callbacks_.build(method, url, json=json, data=data, headers=headers, delay=delay,
                                                 retries=retries))

    @property
    def last_event_id(self) -> str | None:
        """The ``Last-Event-ID`` header a reconnecting Server-Sent Events client sends (None without one)."""
        return self.header_map.get("last-event-id")


    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @cached_property
    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body); raises :class:`BadRequestBody` (a ValueError)
        if it is not JSON or nests deeper than the mock reads. Left uncaught, that answers 400, not 500:
        the caller sent it."""
        if not self.body.strip():
            return None
        try:
            return limits.loads(self.body, strict=True)  # NaN, Infinity, 1e400: 400, as JSON.parse would
        except ValueError as error:
            raise BadRequestBody(f"the request body is not JSON the mock can read: {error}") from error

    @cached_property
    def form(self) -> dict[str, list[str]]:
        """The body parsed as an HTML form (``application/x-www-form-urlencoded``)."""
        return parse_qs(self.text, keep_blank_values=True)


def query_lists(pairs: Pairs) -> dict[str, list[str]]:
    """Query pairs as every value of each name: ``{"tag": ["a", "b"]}``."""
    found: dict[str, list[str]] = {}
    for key, value in pairs:
        found.setdefault(key, []).append(value)
    return found


class AnyCase(Mapping[str, str]):
    """Request headers (kept lower-case) looked up in any case: ``headers["Content-Type"]``."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = headers

    def __getitem__(self, key: str) -> str:
        return self._headers[key.lower()]

    def __iter__(self) -> Any:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)


@dataclass(frozen=True)
class Reply:
    """An explicit response from a handler: ``return Reply({"error": "no"}, 409, {"X-Why": "taken"})``."""

    body: Any = ""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    """A handler's answer as HTTP: status, headers, body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class HandlerReturnError(Exception):
    """A handler returned something that is not a response."""


def to_rendered(value: Any, name: str) -> Rendered:
    """A handler's return value as HTTP: dict/list → JSON 200, str → text, (body, status[, headers]), Reply."""
    if isinstance(value, Reply):
        body, status, headers = value.body, value.status, dict(value.headers)
    elif isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[1], int):
        body, status = value[0], value[1]
        headers = dict(value[2]) if len(value) == 3 else {}
        if not isinstance(headers, dict):
            raise HandlerReturnError(f"handler {name!r} returned headers of type {type(value[2]).__name__}")
    else:
        body, status, headers = value, 200, {}
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise HandlerReturnError(f"handler {name!r} returned status {status!r}: give an HTTP status 100-599")
    lowered = {k.lower() for k in headers}
    if isinstance(body, (dict, list)):
        try:
            data = _JSON.encode(body).encode("utf-8")
        except (TypeError, ValueError) as error:
            raise HandlerReturnError(f"handler {name!r} returned a {type(body).__name__} that is not JSON: {error}") \
                from None
        content_type = "application/json"
    elif isinstance(body, str):
        data, content_type = body.encode("utf-8"), "text/plain; charset=utf-8"
    elif isinstance(body, bytes):
        data, content_type = body, "application/octet-stream"
    elif body is None and status in (204, 304):
        data, content_type = b"", ""
    else:
        raise HandlerReturnError(
            f"handler {name!r} returned {type(value).__name__} {_short(value)}: return a dict or list (JSON), "
            "a str, a (body, status[, headers]) tuple or a Reply")
    pairs = [(str(k), str(v)) for k, v in headers.items()]
    if content_type and "content-type" not in lowered:
        pairs.append(("content-type", content_type))
    return Rendered(status, tuple(pairs), data)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class Handler:
    """A registered handler: the function and how it is called."""

    key: str
    name: str
    function: Callable[..., Any]
    timeout_s: float = DEFAULT_TIMEOUT_S
    concurrent: bool = False
    calls: int = 0
    last: Rendered | None = None
    last_error: str = ""
    last_ms: float = 0.0
    blocked_calls: int = 0
    """Calls (of an ``async def``) that held the server's event loop for :data:`BLOCKING_WARN_S` or more."""
    blocked_ms: float = 0.0
    """The longest such hold, in ms."""

    is_async: bool = field(init=False, default=False)
    """An ``async def`` (worked out once, not on every call)."""

    def __post_init__(self) -> None:
        self.is_async = inspect.iscoroutinefunction(self.function)


@dataclass(frozen=True)
class Outcome:
    """What one handler call gave: the response, its times, and the error (with traceback) if any.

    ``duration_ms`` is the whole call as the server saw it; ``wait_ms`` the part spent queued behind
    other calls of handlers that run one at a time, ``run_ms`` the handler's own run; ``blocked_ms``
    the longest stretch an ``async def`` held the event loop without awaiting (0 for a ``def``).
    """

    rendered: Rendered
    duration_ms: float
    error: str = ""
    traceback: str = ""
    wait_ms: float = 0.0
    run_ms: float = 0.0
    blocked_ms: float = 0.0
    callbacks: tuple[callbacks_.Callback, ...] = ()
    """What the handler asked to send after the response (none when it failed)."""
    stream: HandlerStream | None = None
    """The generator it returned, to stream (see :mod:`postmock_nb.behaviours.streams`)."""

    @property
    def blocked_loop(self) -> bool:
        return self.blocked_ms >= BLOCKING_WARN_S * 1000

    def note(self, name: str) -> str:
        """The log entry's note: ``handler get_user ran 0.4 ms, waited 12.0 ms in the queue``."""
        text = f"handler {name} ran {self.run_ms:.1f} ms, waited {self.wait_ms:.1f} ms in the queue"
        if self.error:
            text += f" — {self.error}"
        if self.blocked_loop:
            text += f" — {blocking_warning(self.blocked_ms)}"
        return text


def blocking_warning(blocked_ms: float) -> str:
    return (f"blocked the server's loop for {blocked_ms:.0f} ms without awaiting, so every other request waited: "
            "in an async def, await (asyncio.sleep, an async client) instead of blocking calls, or make it a plain def")


def _error(status: int, name: str, message: str, **extra: Any) -> Rendered:
    body = error_body(name, reason_phrase(status), message, fields=extra)  # the mock's one error shape
    return Rendered(status, (("content-type", "application/json"),), body)


class _Watched:
    """Awaits a handler's coroutine step by step, timing each step: how long it held the event loop.

    A ``BaseException`` that is not an ``Exception`` (``SystemExit``, ``KeyboardInterrupt``) comes out as
    :class:`HandlerAborted`, so that no task of the server's loop ever re-raises it out of the loop. The
    deadline is armed at the first suspension: a call that never suspends cannot be cancelled, and
    costs no timer.
    """

    __slots__ = ("_coroutine", "_registry", "_handler", "_deadline", "longest")

    def __init__(self, coroutine: Coroutine[Any, Any, Any], registry: HandlerRegistry, handler: Handler,
                 deadline: _Deadline) -> None:
        self._coroutine = coroutine
        self._registry = registry
        self._handler = handler
        self._deadline = deadline
        self.longest = 0.0

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine = self._coroutine
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            began = time.perf_counter()
            self._registry.in_step = (self._handler, began)
            try:
                yielded = coroutine.send(sent) if thrown is None else coroutine.throw(thrown)
            except StopIteration as stop:
                return stop.value
            except (Exception, asyncio.CancelledError):
                raise
            except BaseException as error:  # SystemExit, KeyboardInterrupt, GeneratorExit from the handler
                raise HandlerAborted(error) from None
            finally:
                self._registry.in_step = None
                self.longest = max(self.longest, time.perf_counter() - began)
            self._deadline.arm()
            try:
                sent, thrown = (yield yielded), None
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:  # a cancellation (the timeout), passed on to the handler
                sent, thrown = None, error


class _Deadline:
    """The timeout of an ``async def`` call: cancels the request's own task (no task of its own per call)."""

    __slots__ = ("_at", "_task", "_timer", "expired")

    def __init__(self, at: float, task: asyncio.Task[Any] | None) -> None:
        self._at = at  # time.perf_counter() seconds
        self._task = task
        self._timer: asyncio.TimerHandle | None = None
        self.expired = False

    def arm(self) -> None:
        if self._timer is None and self._task is not None:
            self._timer = asyncio.get_running_loop().call_later(max(0.0, self._at - time.perf_counter()),
                                                                self._expire)

    def _expire(self) -> None:
        self.expired = True
        if self._task is not None:
            self._task.cancel()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.expired:  # take back the cancellation (Python 3.11+ counts them; 3.10 has no count)
            uncancel = getattr(self._task, "uncancel", None)
            if uncancel is not None:
                uncancel()


class HandlerRegistry:
    """The handlers of one session, by key; runs them off the event loop with a timeout.

    Owned by a :class:`~postmock_nb.behaviours.dispatch.Behaviours`; registration happens on the kernel's thread,
    calls on the server's loop (the dict is swapped whole, never changed in place while read).
    """

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._serial = Lane("postmock-handler", 1)
        self._concurrent = Lane("postmock-handler-c", CONCURRENT_WORKERS)
        self._async_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._lock = threading.Lock()
        self.in_step: tuple[Handler, float] | None = None
        """The async handler running on the loop right now, and since when (read by ``%mock status``)."""

    def register(self, handler: Handler) -> Handler | None:
        """Add or replace the handler of ``handler.key``; returns the one replaced."""
        with self._lock:
            previous = self._handlers.get(handler.key)
            self._handlers = {**self._handlers, handler.key: handler}
        return previous

    def remove(self, key: str) -> Handler | None:
        with self._lock:
            handlers = dict(self._handlers)
            gone = handlers.pop(key, None)
            self._handlers = handlers
        return gone

    def get(self, key: str) -> Handler | None:
        return self._handlers.get(key)

    def __iter__(self) -> Any:
        return iter(list(self._handlers.values()))

    def __len__(self) -> int:
        return len(self._handlers)

    @property
    def waiting(self) -> int:
        """Calls of plain ``def`` handlers queued for a worker thread."""
        return self._serial.waiting + self._concurrent.waiting

    def stuck(self, handler: Handler) -> int:
        """Calls of ``handler`` still running in a thread after their timeout."""
        return (self._concurrent if handler.concurrent else self._serial).stuck(handler.key)

    def warnings(self) -> list[str]:
        """What ``%mock status`` says about handlers: the loop blocked (now or before), calls stuck in threads."""
        found = []
        step = self.in_step
        if step is not None and time.perf_counter() - step[1] >= BLOCKING_WARN_S:
            found.append(f"async handler {step[0].name!r} is blocking the server's loop right now "
                         f"(for {time.perf_counter() - step[1]:.1f} s): no request is answered until it awaits")
        for handler in self:
            if handler.blocked_calls:
                calls = f"{handler.blocked_calls} call{'s' if handler.blocked_calls != 1 else ''}"
                found.append(f"async handler {handler.name!r} blocked the server's loop ({calls}, longest "
                             f"{handler.blocked_ms:.0f} ms): " + blocking_warning(handler.blocked_ms).split(": ", 1)[1])
            stuck = self.stuck(handler)
            if stuck:
                found.append(f"handler {handler.name!r}: {stuck} call{'s' if stuck != 1 else ''} still running past "
                             f"its timeout ({handler.timeout_s:g} s) in a thread"
                             + (", so further calls answer 503 until one ends" if stuck >= MAX_STUCK_CALLS else ""))
        return found

    async def call(self, handler: Handler, request: Request) -> Outcome:
        """Run ``handler`` for ``request`` (on the server's loop): its response, a 500 for an error, a 504."""
        started = time.perf_counter()
        if handler.is_async:
            return await self._call_async(handler, request, started)
        lane = self._concurrent if handler.concurrent else self._serial
        stuck = lane.stuck(handler.key)
        if stuck >= MAX_STUCK_CALLS:  # bounded threads: a handler that hangs is not started again and again
            message = (f"handler {handler.name!r} has {stuck} calls still running past their timeout "
                       f"({handler.timeout_s:g} s): it is called again once one of them ends")
            return self._done(handler, _error(503, "mockHandlerStuck", message, handler=handler.name), started,
                              message)
        job = lane.submit(partial(_run_sync, handler.function), request, handler.key)
        timer = job.loop.call_later(handler.timeout_s, _expire, job.future)
        try:
            value = await job.future
        except asyncio.CancelledError:  # the request was cancelled (the server stops): nobody waits for the call
            lane.abandon(job)
            raise
        except Exception as error:
            wait_ms, run_ms = job.times_ms()
            return self._failed(handler, error, started, wait_ms, run_ms)
        finally:
            timer.cancel()
        wait_ms, run_ms = job.times_ms()
        if value is _TIMED_OUT:
            lane.abandon(job)
            wait_ms, run_ms = job.times_ms()
            if job.started_at is None:
                message = (f"handler {handler.name!r} did not start within {handler.timeout_s:g} s: its call waited "
                           "behind other calls (handlers run one at a time unless concurrent=True)")
            else:
                message = f"handler {handler.name!r} did not answer within {handler.timeout_s:g} s"
            return self._done(handler, _error(504, "mockHandlerTimeout", message, handler=handler.name), started,
                              message, wait_ms=wait_ms, run_ms=run_ms)
        return self._rendered(handler, value, started, wait_ms, run_ms, sends=request.callbacks)

    async def _call_async(self, handler: Handler, request: Request, started: float) -> Outcome:
        """Await the handler in the request's own task: a handler that does not suspend costs no task, no timer
        and no turn of the loop. The timeout cancels this task, told apart from a stop by ``deadline.expired``."""
        deadline = _Deadline(started + handler.timeout_s, asyncio.current_task())
        times = [started, 0.0]  # when the run began (the lock taken), when it ended
        watched = _Watched(self._run_async(handler, request, times), self, handler, deadline)
        try:
            value, error = await watched
        except asyncio.CancelledError:
            if not deadline.expired:  # the server stops: not ours to swallow
                raise
            value, error = None, None
        except HandlerAborted as aborted:  # SystemExit, KeyboardInterrupt: stopped on its way out
            value, error = None, aborted
        finally:
            deadline.cancel()
        now = time.perf_counter()
        begun, ended = times[0], times[1] or now
        wait_ms = ((begun if begun != started else now) - started) * 1000
        run_ms = (ended - begun) * 1000 if begun != started else 0.0
        blocked_ms = watched.longest * 1000
        if deadline.expired:  # the handler's own errors come back as ``error``: this is the timeout
            message = f"handler {handler.name!r} did not answer within {handler.timeout_s:g} s"
            return self._done(handler, _error(504, "mockHandlerTimeout", message, handler=handler.name), started,
                              message, wait_ms=wait_ms, run_ms=run_ms, blocked_ms=blocked_ms)
        if error is not None:
            return self._failed(handler, error, started, wait_ms, run_ms, blocked_ms)
        return self._rendered(handler, value, started, wait_ms, run_ms, blocked_ms, sends=request.callbacks)

    async def _run_async(self, handler: Handler, request: Request,
                         times: list[float]) -> tuple[Any, Exception | None]:
        """The handler's value or error (as a value, so that a ``TimeoutError`` it raises is not the timeout)."""
        if handler.concurrent:
            return await self._run_coroutine(handler, request, times)
        loop = asyncio.get_running_loop()
        if self._async_lock is None or self._async_lock[0] is not loop:  # a lock per server run (per loop)
            self._async_lock = (loop, asyncio.Lock())
        async with self._async_lock[1]:
            return await self._run_coroutine(handler, request, times)

    @staticmethod
    async def _run_coroutine(handler: Handler, request: Request, times: list[float]) -> tuple[Any, Exception | None]:
        times[0] = time.perf_counter()
        token = callbacks_.collecting(request.callbacks)
        try:
            return await handler.function(request), None
        except asyncio.CancelledError:
            raise
        except Exception as error:
            return None, error
        finally:
            callbacks_.done(token)
            times[1] = time.perf_counter()

    def _rendered(self, handler: Handler, value: Any, started: float, wait_ms: float, run_ms: float,
                  blocked_ms: float = 0.0, *, sends: list[callbacks_.Callback] | None = None) -> Outcome:
        """The handler's answer; the callbacks it asked for (``sends``) go with it when it answered well."""
        body = value.body if isinstance(value, Reply) else value
        if is_stream(body):  # its callbacks go once the stream has ended (the stream records those it asks for)
            return self._streaming(handler, value, body, started, wait_ms, run_ms, blocked_ms,
                                   sends if sends is not None else [])
        try:
            rendered = to_rendered(value, handler.name)
        except HandlerReturnError as error:
            return self._done(handler, _error(500, "mockHandlerReturn", str(error), handler=handler.name),
                              started, str(error), wait_ms=wait_ms, run_ms=run_ms, blocked_ms=blocked_ms)
        outcome = self._done(handler, rendered, started, wait_ms=wait_ms, run_ms=run_ms, blocked_ms=blocked_ms)
        return replace(outcome, callbacks=tuple(sends)) if sends else outcome

    def _streaming(self, handler: Handler, value: Any, body: Any, started: float, wait_ms: float, run_ms: float,
                   blocked_ms: float, sends: list[callbacks_.Callback]) -> Outcome:
        """A generator to stream: its items are pulled as they are sent (``handler.last``, the sample, stays);
        ``sends``: the request's callbacks, which the stream's pulls add to."""
        status, headers = (value.status, tuple((str(k), str(v)) for k, v in value.headers.items())) \
            if isinstance(value, Reply) else (200, ())
        lane = self._concurrent if handler.concurrent else self._serial
        stream = HandlerStream(body, lane, handler.key, handler.name, status, headers, sends)
        handler.calls += 1
        handler.last_error = ""
        duration = (time.perf_counter() - started) * 1000
        handler.last_ms = duration
        return Outcome(Rendered(status, headers, b""), duration, wait_ms=wait_ms, run_ms=run_ms,
                       blocked_ms=blocked_ms, stream=stream)

    def _failed(self, handler: Handler, error: Exception, started: float, wait_ms: float, run_ms: float,
                blocked_ms: float = 0.0) -> Outcome:
        """A 500 naming what the handler raised (``SystemExit`` and ``KeyboardInterrupt`` too), with its traceback."""
        raised: BaseException = error.error if isinstance(error, HandlerAborted) else error
        message = f"{type(raised).__name__}: {raised}"
        if isinstance(raised, BadRequestBody):  # request.json of what the caller sent: the caller's mistake
            rendered = _error(400, "mockBadRequestBody", f"{raised} (read by handler {handler.name!r})",
                              handler=handler.name)
            return self._done(handler, rendered, started, message, wait_ms=wait_ms, run_ms=run_ms,
                              blocked_ms=blocked_ms)
        trace = "".join(traceback.format_exception(type(raised), raised, raised.__traceback__))
        rendered = _error(500, "mockHandlerError", f"handler {handler.name!r} raised {message}",
                          handler=handler.name, exception=type(raised).__name__, detail=str(raised))
        return self._done(handler, rendered, started, message, trace, wait_ms=wait_ms, run_ms=run_ms,
                          blocked_ms=blocked_ms)

    def _done(self, handler: Handler, rendered: Rendered, started: float, error: str = "", trace: str = "", *,
              wait_ms: float = 0.0, run_ms: float = 0.0, blocked_ms: float = 0.0) -> Outcome:
        duration = (time.perf_counter() - started) * 1000
        handler.calls += 1
        handler.last_ms = duration
        handler.last_error = error
        if blocked_ms >= BLOCKING_WARN_S * 1000:
            handler.blocked_calls += 1
            handler.blocked_ms = max(handler.blocked_ms, blocked_ms)
        if not error:
            handler.last = rendered
        return Outcome(rendered, duration, error, trace, wait_ms, run_ms, blocked_ms)

    def close(self) -> None:
        """Let the worker threads leave (a handler still running finishes in the background; none holds up exit)."""
        self._serial.close()
        self._concurrent.close()


_TIMED_OUT = object()
"""What a sync handler's future holds when its timeout passed first."""


def _run_sync(function: Callable[[Any], Any], request: Request) -> Any:
    """A ``def`` handler's call in its worker thread, where ``mock.callback`` records on ``request``."""
    token = callbacks_.collecting(request.callbacks)
    try:
        return function(request)
    finally:
        callbacks_.done(token)


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_result(_TIMED_OUT)
