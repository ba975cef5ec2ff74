"""uvicorn with httptools (the C HTTP/1.1 parser) on the running asyncio loop.

The scope's ``raw_path`` is the request target's path as sent, without the query (``/files/a%2Fb``), and
``path`` its decoded form (``/files/a/b``): the app matches on the first (``serving.reading.matched_path``).
"""

from __future__ import annotations

import asyncio
import os
import socket
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.wsproto_impl import WSProtocol

from postmock_nb.serving.servers import ASGIApp, Report
from postmock_nb.serving.servers._logs import errors_to

if TYPE_CHECKING:
    from postmock_nb.serving.tls import Certificate

STOP_GRACE_S = 1.0
"""How long a busy connection may take to finish once the server stops before it is aborted (uvicorn's own
grace period, 2 s, ends with an error in the server's errors)."""
SETTLE_S = 1.0
"""How long a stop waits for the requests uvicorn cancelled to finish."""


def _abort_if_unread(transport: asyncio.BaseTransport) -> None:
    """Drop a connection whose client has not taken what it was sent (a request still being answered, with
    nothing written yet, is left to uvicorn: its 500 after the grace period)."""
    if isinstance(transport, asyncio.WriteTransport) and transport.get_write_buffer_size():
        transport.abort()


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers: the mock's owner decides when it stops."""

    def capture_signals(self) -> AbstractContextManager[None]:  # type: ignore[override]
        return nullcontext()


class _HeadTimed(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request head does not arrive whole.

    uvicorn arms its keep-alive timer only after an answer, and disarms it at the first byte received:
    a new connection that sends nothing, or half a head (a slowloris), was held for good. Here the
    timer runs from the connection's start, and after each answer, until a whole head has arrived.
    """

    _head_pending = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_pending = False  # the timer goes with the connection
        self._unset_keepalive_if_required()
        super().connection_lost(exc)

    def _unset_keepalive_if_required(self) -> None:
        if not self._head_pending:  # bytes of a head still coming do not stop the timer
            super()._unset_keepalive_if_required()

    def on_headers_complete(self) -> None:
        self._head_pending = False
        self._unset_keepalive_if_required()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._head_pending = False
        super().on_response_complete()  # arms the timer when no pipelined request waits
        self._head_pending = self.timeout_keep_alive_task is not None

    def shutdown(self) -> None:
        """The server stops: an idle TLS connection is dropped at once. (A polite TLS close waits for the
        client's close_notify, which a client holding its connection without reading never sends: the
        stop waited for uvicorn's whole grace period.)"""
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self.transport.get_extra_info("ssl_object") is not None:
            self.transport.abort()
            return
        super().shutdown()
        if not idle:  # a client that does not read what it is sent (a stream) would hold the stop: dropped later
            self.loop.call_later(STOP_GRACE_S, _abort_if_unread, self.transport)


class _WsStopped(WSProtocol):
    """uvicorn's wsproto WebSocket protocol, dropping at a stop the connection of a client that does not read.

    uvicorn's stop writes a close frame and closes the transport, which first waits for the client to take
    what is still buffered: a client that never reads held the stop for uvicorn's whole grace period (and
    left "timeout graceful shutdown exceeded" in the server's errors). It is aborted :data:`STOP_GRACE_S` later
    if its client still has not taken what was sent (see :func:`_abort_if_unread`)."""

    def shutdown(self) -> None:
        super().shutdown()
        asyncio.get_running_loop().call_later(STOP_GRACE_S, _abort_if_unread, self.transport)


async def serve(app: ASGIApp, sock: socket.socket, stop: asyncio.Event, report: Report, *,
                read_timeout: float = 30.0, tls: Certificate | None = None) -> None:
    """Serve ``app`` on ``sock`` until ``stop`` is set; an idle connection or a half-sent head is closed after
    ``read_timeout`` s (a stalled body is the app's own read timeout); https with ``tls`` (uvicorn's
    ``ssl_certfile``/``ssl_keyfile``: its asyncio server wraps our socket)."""
    config = uvicorn.Config(
        app, loop="none", http=_HeadTimed, ws=_WsStopped, lifespan="on", interface="asgi3",
        log_config=None, access_log=False,
        proxy_headers=False,  # the mock answers whoever connects; no X-Forwarded-* rewriting per request
        timeout_keep_alive=int(read_timeout), timeout_graceful_shutdown=2, backlog=1024,
        ssl_certfile=tls.cert if tls is not None else None, ssl_keyfile=tls.key if tls is not None else None)
    server = _Server(config)
    listener = socket.socket(fileno=os.dup(sock.fileno()))  # uvicorn closes the sockets it is given

    async def stop_when_asked() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.get_running_loop().create_task(stop_when_asked())
    try:
        with errors_to(report, "uvicorn.error", "uvicorn.asgi"):
            try:
                await server.serve(sockets=[listener])
            finally:
                # uvicorn cancels the requests still running after its grace period and returns at once: they
                # finish (the app logs what went out; uvicorn logs the cancellation) while the collector listens
                running = set(server.server_state.tasks)
                if running:
                    await asyncio.wait(running, timeout=SETTLE_S)
    finally:
        watcher.cancel()
        listener.close()
