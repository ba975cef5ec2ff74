"""Running the mock: a server (Hypercorn by default) on its own event loop in a daemon thread.

The server never runs on the caller's event loop. In a notebook the kernel's loop is busy
running the cell, so a cell that calls the mock synchronously (``requests.get(...)``) would
deadlock if the mock shared that loop. ``start()`` returns once the port is bound and the
app has started; ``stop()`` sets the adapter's stop event and releases the port. Which server
serves is ``MockConfig.server``; the adapters live in :mod:`postmock_nb.serving.servers`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import os
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from postmock_nb.config import MockConfig, new_api_key
from postmock_nb.core.model import Collection
from postmock_nb.core.text import plural
from postmock_nb.errors import ServerError
from postmock_nb.matching.store import CollectionStore, LiveCollection
from postmock_nb.serving.adminwrites import is_loopback
from postmock_nb.serving.app import Message, Receive, Scope, Send
from postmock_nb.serving.build import AssembledMock, assemble
from postmock_nb.serving.journal import Journal
from postmock_nb.serving.requestlog import LogEntry
from postmock_nb.serving.servers import serve_function
from postmock_nb.serving.servers._logs import unreadable_handshake
from postmock_nb.serving.tls import Certificate, certificate_for

if TYPE_CHECKING:
    from postmock_nb.behaviours.callbacks import Callback
    from postmock_nb.behaviours.dispatch import Behaviours
    from postmock_nb.bridges.bridges import Bridges

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
SEND_TIMEOUT_S = 15.0
"""How long ``send_callback`` waits for the receiver (one try times out after 10 s)."""
BROADCAST_TIMEOUT_S = 5.0
"""How long ``broadcast`` waits for every open connection of the route to take the message."""


__all__ = ["MockServer", "new_api_key"]

REUSE_PORT = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
"""Whether the processes of ``postmock serve --workers N`` each listen on a socket of their own, all bound to the
port with SO_REUSEPORT: the kernel spreads the new connections over them by a hash of their addresses. On Linux
only (macOS has the option, but hands every new connection to one of the sockets); elsewhere they share one socket,
and whichever process is quickest takes the connections (all of a load test's, often)."""



def exposure_warning(host: str) -> str:
    """What to tell the person when ``host`` lets other machines reach the mock ("" for loopback)."""
    if is_loopback(host):  # an address check: 127.0.0.1.nip.io is a name that resolves anywhere
        return ""
    where = "every network interface" if host in ("0.0.0.0", "::", "") else host
    return (f"warning: the mock listens on {where}: other machines can reach it "
            f"(use --host 127.0.0.1 for this machine only, --private to require a key)")



class MockServer:
    """A mock server for a collection, running in the background.

    >>> with MockServer(collection) as mock:          # doctest: +SKIP
    ...     requests.get(mock.url + "/users")

    Settings come as one :class:`~postmock_nb.config.MockConfig`, or as its fields by name
    (``MockServer(collection, port=8000, private=True)``), which build one. The mock itself is assembled by
    :func:`postmock_nb.serving.build.assemble`; a front end that assembled one already passes it as ``mock``
    (then nothing else).
    """

    def __init__(self, collection: Collection | CollectionStore | None = None, config: MockConfig | None = None,
                 *, bridges: Bridges | None = None, behaviours: Behaviours | None = None, log: Journal | None = None,
                 mock: AssembledMock | None = None, **options: Any) -> None:
        """``collection``: a collection, or the store holding it (a LiveCollection in memory); ``log``: the
        request journal (a RequestLog of ``log_size`` entries unless given); ``mock``: a mock assembled
        already (postmock_nb.serving.build), given alone."""
        if mock is None:
            store = (collection if collection is not None and not isinstance(collection, Collection)
                     else LiveCollection(collection))
            mock = assemble(store=store, config=MockConfig.of(config, **options), bridges=bridges,
                            behaviours=behaviours, log=log)
        elif options or any(part is not None for part in (collection, config, bridges, behaviours, log)):
            raise TypeError("MockServer(mock=...) takes the assembled mock alone")
        self.mock = mock
        """What this server runs (postmock_nb.serving.build.AssembledMock)."""
        self.store: CollectionStore = mock.store
        self.config = mock.config
        self.host = self.config.host
        self.requested_port = self.config.port
        self.log: Journal = mock.log
        self.error_log = mock.error_log
        """This server's errors: the app, Hypercorn and the dashboards report into it."""
        self.app = mock.app
        self.port: int | None = None
        self.started_at: float | None = None
        self._socket: socket.socket | None = None
        self._worker_listeners: list[socket.socket] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.tls: Certificate | None = None
        """The certificate it serves https with (``--tls``, ``--tls-cert``): made or checked by ``bind()``."""
        self._owns_tls = False

    # -- state -------------------------------------------------------------------------------

    @property
    def errors(self) -> list[str]:
        """Errors from the server thread (app exceptions, Hypercorn errors), the newest kept, oldest first."""
        return self.error_log.recent()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def url(self) -> str:
        if self.port is None:
            raise ServerError("the mock is not running", hint="start it first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def scheme(self) -> str:
        """``https`` with ``--tls``/``--tls-cert``, else ``http``."""
        return "https" if self.config.tls else "http"

    @property
    def exposure_warning(self) -> str:
        """A warning when the mock listens beyond this machine ("" on loopback)."""
        return exposure_warning(self.host)

    @property
    def bridges(self) -> Bridges:
        """Request validation, proxy and recorder, as the app serves with them now."""
        return self.app.bridges

    def use_bridges(self, bridges: Bridges) -> Bridges:
        """Serve with ``bridges`` from the next request on (one swap: a request sees the old or the new,
        whole); returns the ones replaced."""
        old, self.app.bridges = self.app.bridges, bridges
        return old

    def scenario_states(self) -> dict[str, str]:
        """Every scenario of the collection served (and every one moved) → its current state."""
        return self.app.behaviours.scenario_states(self.store.snapshot)

    def send_callback(self, callback: Callback, origin: str, timeout: float = SEND_TIMEOUT_S) -> LogEntry | None:
        """Send ``callback`` from the server's loop, as a handler's callbacks go (the allow list, a row of the
        log noted ``origin``), and wait for its row (from any thread but the server's). Raises ServerError when
        the mock is not running or the row is not there within ``timeout`` (the callback still goes)."""
        loop = self._loop
        if loop is None or not self.running:
            raise ServerError("the mock is not running, so it sends nothing", hint="%mock start first")
        if threading.current_thread() is self._thread:
            raise ServerError("a webhook sent from the server's own thread would wait for itself",
                              hint="in a handler: mock.callback(...)")
        done = asyncio.run_coroutine_threadsafe(self.app.callbacks.send(callback, origin), loop)
        try:
            return done.result(timeout)
        except concurrent.futures.TimeoutError:
            raise ServerError(f"{callback.method} {callback.shown_url} was not answered within {timeout:g} s",
                              hint="its row in %mock log shows how it ended") from None

    @property
    def private(self) -> bool:
        return self.config.private

    @property
    def api_key(self) -> str:
        """The private mock's key ("" for a public mock)."""
        return self.config.key

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> MockServer:
        """Bind the port, start serving in a daemon thread, and return once it serves."""
        if self.running:
            raise ServerError(f"the mock is already running at {self.url}", hint="stop it first, or use it as it is")
        self.bind()
        self._ready.clear()
        self._failure = None
        self._thread = threading.Thread(target=self._run, name=f"postmock-server-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT) or self._failure is not None:
            failure = self._failure
            self.stop()
            raise ServerError(f"the mock did not start: {failure or 'timed out'}") from failure
        self.started_at = time.time()
        return self

    def bind(self, workers: int = 1) -> int:
        """Make or check the certificate (with TLS), bind and listen (done by ``start()`` if not done before);
        returns the port. A bad ``--tls-cert``/``--tls-key`` is a ConfigError here, before anything serves.
        ``workers``: how many processes will serve the port, this one included (``postmock serve --workers``):
        the others' listening sockets are made too, for :meth:`worker_listeners`."""
        if self.tls is None and self.config.tls:
            self.tls, self._owns_tls = certificate_for(self.config), True
        if self._socket is None:
            if workers > 1 and REUSE_PORT:
                listeners = self._bind_reused(workers)
                self._socket, self._worker_listeners = listeners[0], listeners[1:]
            else:
                self._socket = self._bind(self.requested_port)
                self._worker_listeners = [self._socket.dup() for _ in range(workers - 1)]
            self.port = self._socket.getsockname()[1]
        return self.port or 0

    def worker_listeners(self) -> list[socket.socket]:
        """The listening sockets ``bind(workers=N)`` made for the N - 1 worker processes forked after it, one each,
        handed over: the caller closes them once the workers are forked. Each is a socket of its own bound to the
        port with SO_REUSEPORT (:data:`REUSE_PORT`), so that the kernel spreads the connections over the
        processes; elsewhere a duplicate of this server's socket, which they all share."""
        listeners, self._worker_listeners = self._worker_listeners, []
        return listeners

    def listening_fd(self) -> int:
        """The listening socket's file descriptor (a forked worker closes its copy: it serves its own)."""
        if self._socket is None:
            raise ServerError("the mock is not bound", hint="call bind() or start() first")
        return self._socket.fileno()

    def serve_inherited(self, fd: int, tls: Certificate | None = None) -> None:
        """Serve an inherited listening socket in this thread until the process ends (CLI workers), with the
        parent's certificate ``tls`` (the parent removes its files)."""
        self.tls = tls
        self._socket = socket.socket(fileno=os.dup(fd))
        self.port = self._socket.getsockname()[1]
        self._run()

    def stop(self) -> None:
        """Stop serving, wait for the thread, and release the port. Safe to call twice."""
        thread, loop, event = self._thread, self._loop, self._stop_event
        if thread is not None and loop is not None and event is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(event.set)
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                self.error_log.report(f"the server thread did not stop within {STOP_TIMEOUT} s")
        for listener in (self._socket, *self.worker_listeners()):
            if listener is not None:
                listener.close()
        if self.mock.shared is not None:  # --state: the blocking client (the loop's closed at its shutdown)
            self.mock.shared.close()
        if self.tls is not None and self._owns_tls:  # a certificate made on the fly goes with the server
            self.tls.remove()
            self.tls, self._owns_tls = None, False
        self._socket = None
        self._thread = None
        self._loop = None
        self.port = None
        self.started_at = None

    def call_in_server_thread(self, function: Any, delay: float = 0.0) -> bool:
        """Run ``function()`` on the server's thread after ``delay`` seconds; False if not running."""
        loop = self._loop
        if loop is None or not self.running:
            return False
        try:
            loop.call_soon_threadsafe(loop.call_later, delay, function)
        except RuntimeError:  # the loop closed meanwhile
            return False
        return True

    def broadcast(self, route: str, message: str | bytes, timeout: float = BROADCAST_TIMEOUT_S) -> int:
        """Send ``message`` to every open WebSocket connection of ``route`` (from any thread but the server's),
        and with ``--state`` to every other process's; how many of this one's got it. Raises ServerError when the
        mock is not running (StateUnavailable when Redis is out of reach)."""
        loop = self._loop
        if loop is None or not self.running:
            raise ServerError("the mock is not running, so no WebSocket is open", hint="%mock start first")
        if threading.current_thread() is self._thread:
            raise ServerError("broadcast from the server's own thread would wait for itself",
                              hint="in a socket handler: await socket.send(...) to each socket you keep")
        done = asyncio.run_coroutine_threadsafe(self.app.broadcast(route, message), loop)
        try:
            return done.result(timeout)
        except concurrent.futures.TimeoutError:
            done.cancel()
            raise ServerError(f"the broadcast to {route} did not finish within {timeout:g} s (a client that "
                              "does not read?)", hint="the connections still open are in %mock log") from None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running at {self.url}" if self.running else "stopped"
        private = ", private" if self.private else ""
        return f"<MockServer {state}, {plural(len(self.store.snapshot), 'example')}{private}>"

    # -- internals ---------------------------------------------------------------------------

    def _bind(self, port: int, *, reuse_port: bool = False, listen: bool = True) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((self.host, port))
        except OSError as error:
            sock.close()
            if error.errno == errno.EADDRINUSE:
                raise ServerError(f"port {port} on {self.host} is already in use",
                                  hint="choose another --port, or --port 0 for a free one") from None
            raise ServerError(f"cannot listen on {self.host}:{port}: {error.strerror}",
                              hint="check --host (127.0.0.1 serves this machine only)") from None
        if listen:
            sock.listen(1024)
        return sock

    def _bind_reused(self, count: int) -> list[socket.socket]:
        """``count`` listening sockets bound to one port with SO_REUSEPORT, the requested one or (``--port 0``) a
        free one. The port is first bound without the option, never listening: a port in use, even by a mock
        of other workers, is refused as with one process (a bind with the option would join their sockets)."""
        probe = self._bind(self.requested_port, listen=False)
        port = probe.getsockname()[1]
        probe.close()  # never listened: no connection was waiting on it
        listeners: list[socket.socket] = []
        try:
            for _ in range(count):
                listeners.append(self._bind(port, reuse_port=True))
        except ServerError:
            for listener in listeners:
                listener.close()
            raise
        return listeners

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._loop_exception)
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # noqa: BLE001 - reported to the caller, never lost
            self._failure = error
            self.error_log.report(f"server stopped: {error!r}")
        finally:
            self._ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Errors the server's event loop would print: kept in the error log, never in a cell.
        A connection cancelled by ``stop()`` is not an error, nor a handshake a client sent unreadable bytes in."""
        error = context.get("exception")
        if isinstance(error, (asyncio.CancelledError, ConnectionError)) or unreadable_handshake(error):
            return
        self.error_log.report(f"{context.get('message', 'event loop error')}: {error!r}" if error else
                              str(context.get("message", "event loop error")))

    async def _serve(self) -> None:
        self._stop_event = asyncio.Event()
        app = self.app
        ready = self._ready

        async def app_with_ready_signal(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "lifespan":
                async def send_and_signal(message: Message) -> None:
                    await send(message)
                    if message["type"] == "lifespan.startup.complete":
                        ready.set()
                await app(scope, receive, send_and_signal)
            else:
                await app(scope, receive, send)

        served: Any = app_with_ready_signal
        if hasattr(app, "on_startup"):  # the app says when its startup is done: no wrapper around every request
            app.on_startup = ready.set
            served = app
        if hasattr(app, "stopping"):  # a stop cuts the delays of requests in flight short
            app.stopping = self._stop_event
        assert self._socket is not None
        serve = serve_function(self.config.server)
        await serve(served, self._socket, self._stop_event, self.error_log.report,
                    read_timeout=self.config.read_timeout_s, tls=self.tls)
