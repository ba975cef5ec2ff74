"""Python handlers: a function defined in a cell answers the requests its example wins.

A handler is an ordinary example of the collection (so matching, selectors, diagnostics and the
Examples tab treat it like any other) whose request carries the marker ``x-mock-handler: <key>``;
the app, when such an example wins, calls the function registered under that key here instead of
sending the saved response. The saved response is the handler's sample (its declared status and
body, and after each call its most recent answer), which is what ``%mock save`` exports.

Threading model: a plain ``def`` runs in a worker thread, never on the server's event loop; an
``async def`` runs on the server's loop. Handlers run one at a time (one shared worker, and one
lock for coroutines) unless registered with ``concurrent=True``. Each call has a timeout (504).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs

from . import limits
from .model import Pairs

DEFAULT_TIMEOUT_S = 5.0
HANDLER_MARKER = "x-mock-handler"
"""The request header (a marker Postman ignores) that names the handler an example stands for."""


@dataclass(frozen=True)
class Request:
    """What a handler receives: the request, its path variables and the mock's collection variables."""

    method: str
    path: str
    path_vars: Mapping[str, str]
    query_pairs: Pairs
    header_map: Mapping[str, str]
    body: bytes
    variables: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def query(self) -> dict[str, list[str]]:
        """Every value of every query parameter: ``{"tag": ["a", "b"]}``."""
        found: dict[str, list[str]] = {}
        for key, value in self.query_pairs:
            found.setdefault(key, []).append(value)
        return found

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    @property
    def headers(self) -> _Headers:
        """Request headers, looked up in any case: ``request.headers["Content-Type"]``."""
        return _Headers(self.header_map)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @cached_property
    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body); raises ValueError if it is not JSON
        (:class:`~postmock_nb.limits.TooDeep` when it nests deeper than the mock reads)."""
        return limits.loads(self.body) if self.body.strip() else None

    @cached_property
    def form(self) -> dict[str, list[str]]:
        """The body parsed as an HTML form (``application/x-www-form-urlencoded``)."""
        return parse_qs(self.text, keep_blank_values=True)


class _Headers(Mapping[str, str]):
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
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
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

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)


@dataclass(frozen=True)
class Outcome:
    """What one handler call gave: the response, how long it took, and the error (with traceback) if any."""

    rendered: Rendered
    duration_ms: float
    error: str = ""
    traceback: str = ""


def _error(status: int, name: str, message: str, **extra: Any) -> Rendered:
    body = json.dumps({"error": {"name": name, "message": message, **extra}}, ensure_ascii=False).encode("utf-8")
    return Rendered(status, (("content-type", "application/json"),), body)


class HandlerRegistry:
    """The handlers of one session, by key; runs them off the event loop with a timeout.

    Owned by a :class:`~postmock_nb.behaviours.Behaviours`; registration happens on the kernel's thread,
    calls on the server's loop (the dict is swapped whole, never changed in place while read).
    """

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._serial = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postmock-handler")
        self._pool: ThreadPoolExecutor | None = None
        self._async_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._lock = threading.Lock()

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

    async def call(self, handler: Handler, request: Request) -> Outcome:
        """Run ``handler`` for ``request`` (on the server's loop): its response, a 500 for an error, a 504."""
        started = time.perf_counter()
        try:
            if handler.is_async:
                value = await asyncio.wait_for(self._run_async(handler, request), handler.timeout_s)
            else:
                pool = self._serial if not handler.concurrent else self._concurrent_pool()
                future = asyncio.get_running_loop().run_in_executor(pool, handler.function, request)
                value = await asyncio.wait_for(future, handler.timeout_s)
            rendered = to_rendered(value, handler.name)
        except asyncio.TimeoutError:
            message = f"handler {handler.name!r} did not answer within {handler.timeout_s:g} s"
            return self._done(handler, _error(504, "mockHandlerTimeout", message, handler=handler.name), started,
                              message)
        except HandlerReturnError as error:
            return self._done(handler, _error(500, "mockHandlerReturn", str(error), handler=handler.name),
                              started, str(error))
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
            return self._done(handler, _error(500, "mockHandlerError", f"handler {handler.name!r} raised {message}",
                                              handler=handler.name, exception=type(error).__name__,
                                              detail=str(error)),
                              started, message, traceback.format_exc())
        return self._done(handler, rendered, started)

    def _done(self, handler: Handler, rendered: Rendered, started: float, error: str = "",
              trace: str = "") -> Outcome:
        duration = (time.perf_counter() - started) * 1000
        handler.calls += 1
        handler.last_ms = duration
        handler.last_error = error
        if not error:
            handler.last = rendered
        return Outcome(rendered, duration, error, trace)

    async def _run_async(self, handler: Handler, request: Request) -> Any:
        if handler.concurrent:
            return await handler.function(request)
        loop = asyncio.get_running_loop()
        if self._async_lock is None or self._async_lock[0] is not loop:  # a lock per server run (per loop)
            self._async_lock = (loop, asyncio.Lock())
        async with self._async_lock[1]:
            return await handler.function(request)

    def _concurrent_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="postmock-handler-c")
        return self._pool

    def close(self) -> None:
        """Stop the worker threads (a handler still running finishes in the background)."""
        self._serial.shutdown(wait=False, cancel_futures=True)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
