"""Python WebSocket handlers: ``@mock.websocket("/ws/chat")`` on an ``async def handler(socket)``.

A socket handler is an example of the collection (``GET`` its route, markers ``x-mock-handler: <key>`` and
``x-mock-websocket: handler``), so an upgrade is matched like every request (path with ``:vars``, query,
required headers); when it wins, the app accepts the upgrade and awaits the function with a :class:`Socket`,
on the server's loop, for as long as the connection lasts::

    @mock.websocket("/ws/rooms/:room")
    async def chat(socket):
        await socket.send_json({"joined": socket.path_vars["room"]})
        async for message in socket:      # ends when the client leaves
            await socket.send(message)

Over plain HTTP the route answers its saved response: 426 Upgrade Required, which is also what ``%mock save``
keeps (Postman cannot run Python: a described placeholder, with a warning). The client leaving is not an
error: :meth:`Socket.receive` raises :class:`Disconnected`, which ends the handler quietly. Anything else a
handler raises closes the socket with 1011 and puts the traceback in the connection's log row.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from postmock_nb.behaviours.handlers import QueryAndHeaders
from postmock_nb.core import limits
from postmock_nb.core.markers import WEBSOCKET_MARKER
from postmock_nb.core.model import Collection, Pairs
from postmock_nb.core.paths import split_segments
from postmock_nb.errors import ExampleDefinitionError

NORMAL_CLOSE = 1000
HANDLER_ERROR_CLOSE = 1011
"""The close code when a socket handler raises (internal error, RFC 6455 §7.4.1)."""
NOT_JSON_CLOSE = 1007
"""The close code when ``receive_json()`` gets a message that is not JSON and the handler leaves it uncaught."""
PLACEHOLDER_STATUS = 426
PLACEHOLDER_NOTE = ("WebSocket handler {name!r}: Python in a notebook (postmock_nb) answers this route's upgrades; "
                    "over plain HTTP it answers 426 Upgrade Required.")

SocketFunction = Callable[["Socket"], Coroutine[Any, Any, Any]]


class Disconnected(Exception):
    """The client left (or the mock stops): raised by :meth:`Socket.receive` and by a send after that."""

    def __init__(self, code: int = 1005, reason: str = "") -> None:
        super().__init__(f"the WebSocket closed ({code}{', ' + reason if reason else ''})")
        self.code, self.reason = code, reason


class BadMessage(ValueError):
    """``receive_json()`` of a message that is not JSON: the client's mistake (closed with 1007 if uncaught)."""


class Channel(Protocol):
    """The connection under a :class:`Socket`, kept by the server (see ``postmock_nb.serving.sockets``)."""

    async def next_message(self) -> str | bytes:
        """The client's next message; raises :class:`Disconnected` once it left."""
        ...

    async def send_message(self, message: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) frame; raises :class:`Disconnected` once closed."""
        ...

    async def close(self, code: int, reason: str) -> None:
        ...


@dataclass(frozen=True)
class Socket(QueryAndHeaders):
    """One WebSocket connection, as a socket handler sees it: ``await receive()`` / ``receive_json()``,
    ``await send(text_or_bytes)`` / ``send_json(data)``, ``await close(code=1000, reason="")``, ``async for
    message in socket`` (until the client leaves); the upgrade's ``path``, ``path_vars``, ``query`` (every
    value), ``arg(name)``, ``headers`` (any case) and the ``subprotocol`` accepted (``postmock-key.<KEY>``
    when the client sent its key so, else the first it offered, else None)."""

    channel: Channel = field(repr=False)
    path: str
    path_vars: Mapping[str, str]
    query_pairs: Pairs
    header_map: Mapping[str, str] = field(repr=False)
    subprotocol: str | None = None

    async def receive(self) -> str | bytes:
        """The client's next message: ``str`` for a text frame, ``bytes`` for a binary one; raises
        :class:`Disconnected` when the client has left."""
        return await self.channel.next_message()

    async def receive_json(self) -> Any:
        """The client's next message parsed as JSON; raises :class:`BadMessage` (a ValueError) if it is not."""
        message = await self.receive()
        try:
            return limits.loads(message, strict=True)
        except ValueError as error:
            raise BadMessage(f"the client's message is not JSON: {error}") from error

    async def send(self, message: str | bytes) -> None:
        """Send ``message``: a ``str`` as a text frame, ``bytes`` as a binary frame."""
        if not isinstance(message, (str, bytes)):
            raise TypeError(f"socket.send takes str or bytes, got {type(message).__name__} (send_json for data)")
        await self.channel.send_message(message)

    async def send_json(self, data: Any) -> None:
        """Send ``data`` as JSON in a text frame."""
        await self.channel.send_message(json.dumps(data, ensure_ascii=False, allow_nan=False))

    async def close(self, code: int = NORMAL_CLOSE, reason: str = "") -> None:
        """Close the connection with ``code`` and ``reason`` (at most 123 bytes, as the protocol allows).
        ``code`` is one a close frame may carry (RFC 6455 §7.4): 1000-1003, 1007-1014 or 3000-4999; any other
        (1005, 1006 and 1015 only say that no code came) raises ValueError."""
        if not sendable_close(code):
            raise ValueError(f"socket.close({code!r}): not a close code a WebSocket may send (1000-1003, "
                             "1007-1014, or 3000-4999 for your application's own)")
        await self.channel.close(code, reason.encode("utf-8")[:123].decode("utf-8", "ignore"))

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[str | bytes]:
        """Each message the client sends, until it leaves (``async for message in socket``)."""
        while True:
            try:
                message = await self.receive()
            except Disconnected:
                return
            yield message



@dataclass(frozen=True)
class SocketHandler:
    """A socket handler: its key (the example's ``x-mock-handler``), name and function."""

    key: str
    name: str
    function: SocketFunction


def check_function(function: Any) -> None:
    """Raise TypeError unless ``function`` is an ``async def`` taking the socket."""
    if not inspect.iscoroutinefunction(function):
        raise TypeError(f"@mock.websocket decorates an async def taking the socket, got "
                        f"{getattr(function, '__name__', type(function).__name__)!r}")


class SocketHandlerRegistry:
    """The socket handlers of one session, by key (registered on the kernel's thread, read on the server's
    loop: the dict is swapped whole, never changed in place while read)."""

    def __init__(self) -> None:
        self._handlers: dict[str, SocketHandler] = {}
        self._lock = threading.Lock()

    def register(self, handler: SocketHandler) -> None:
        with self._lock:
            self._handlers = {**self._handlers, handler.key: handler}

    def get(self, key: str) -> SocketHandler | None:
        return self._handlers.get(key)

    def __iter__(self) -> Any:
        return iter(list(self._handlers.values()))

    def __len__(self) -> int:
        return len(self._handlers)


def sendable_close(code: object) -> bool:
    """Whether ``code`` may go in a close frame (RFC 6455 §7.4.1-2; 1004-1006 and 1015 are reserved, 1016-2999
    for the protocol's extensions, 3000-4999 for applications)."""
    return type(code) is int and (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999)


def frame_of(message: Any) -> str | bytes:
    """What ``mock.broadcast`` sends for ``message``: ``str`` as text, ``bytes`` as binary, anything else as JSON."""
    if isinstance(message, (str, bytes)):
        return message
    try:
        return json.dumps(message, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ExampleDefinitionError(f"cannot send {type(message).__name__} as JSON: {error}",
                                     hint='mock.broadcast("/ws/chat", {"text": "hi"})  (or a str, or bytes)') from None


def socket_routes(collection: Collection) -> list[str]:
    """The routes WebSocket upgrades are answered on (socket handlers and ``%%websocket`` scripts), sorted."""
    return sorted({e.request.path for e in collection.examples
                   if any(k.lower() == WEBSOCKET_MARKER for k, _ in e.request.headers)})


def unknown_route(route: str, collection: Collection) -> str:
    """Why ``route`` is no WebSocket route of ``collection`` (``""`` when it is one, or a path one matches): what a
    broadcast that reached nobody says, naming the routes there are."""
    routes = socket_routes(collection)
    if route_known(route, routes):
        return ""
    return f"no WebSocket route {route!r} (routes: {', '.join(routes) or 'none'})"


def route_known(route: str, routes: list[str]) -> bool:
    """Whether ``route`` is one of ``routes`` or a path one of them matches (``:name`` segments match any)."""
    asked = split_segments(route)
    for known in routes:
        parts = split_segments(known)
        if len(parts) == len(asked) and all(p.startswith(":") or p == a for p, a in zip(parts, asked, strict=True)):
            return True
    return False
