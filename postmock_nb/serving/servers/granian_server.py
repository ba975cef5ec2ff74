"""granian: a Rust HTTP stack (hyper on its own threads) calling the app on the running asyncio loop.

granian's embedded server (``granian.server.embed.Server``, marked experimental by granian) runs
the app on the caller's event loop, which is what a mock in a notebook thread needs. It binds
its own listener; we hand it ours instead (the socket :class:`~postmock_nb.serving.server.MockServer`
already bound), through granian's ``SocketHolder``, which is how granian passes a listener to
its own worker processes.

The scope's ``raw_path`` is the request target's path as sent, without the query (``/files/a%2Fb``), and
``path`` its decoded form (``/files/a/b``): the app matches on the first (``serving.reading.matched_path``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from granian._granian import SocketHolder
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.server.embed import Server

from postmock_nb.serving.servers import ASGIApp, Report
from postmock_nb.serving.servers._logs import ErrorCollector, errors_to

if TYPE_CHECKING:
    from postmock_nb.serving.tls import Certificate

BACKLOG = 1024
LOGGERS = ("_granian", "granian.access")
"""granian's loggers (the Rust side logs through ``_granian`` too)."""


class _Embedded(Server):
    """granian's embedded server on a listener we bound."""

    def __init__(self, app: ASGIApp, sock: socket.socket, read_timeout: float = 30.0,
                 tls: Certificate | None = None) -> None:
        host, port = sock.getsockname()[:2]
        # a half-sent request head is closed after ``read_timeout`` (hyper's header read timeout);
        # https with ``tls``: granian's own TLS (rustls) on our listener
        super().__init__(app, address=host, port=port, interface=Interfaces.ASGI, http=HTTPModes.auto,
                         websockets=True, backlog=BACKLOG, runtime_threads=1, log_enabled=True,
                         http1_settings=HTTP1Settings(header_read_timeout=int(read_timeout * 1000)),
                         ssl_cert=Path(tls.cert) if tls is not None else None,
                         ssl_key=Path(tls.key) if tls is not None else None)
        # granian owns (and closes) the duplicate; its stub omits the constructor granian's pickling uses
        self._holder = SocketHolder(os.dup(sock.fileno()), False, BACKLOG)  # type: ignore[call-arg]

    def _init_shared_socket(self) -> None:
        self._ssp, self._shd = None, self._holder  # type: ignore[assignment]

    def stop(self) -> None:
        self.interrupt_signal = True
        self.main_loop_interrupt.set()


async def serve(app: ASGIApp, sock: socket.socket, stop: asyncio.Event, report: Report, *,
                read_timeout: float = 30.0, tls: Certificate | None = None) -> None:
    """Serve ``app`` on ``sock`` until ``stop`` is set; a half-sent head is closed after ``read_timeout`` s
    (a stalled body is the app's own read timeout); https with ``tls``."""
    loggers = [logging.getLogger(name) for name in LOGGERS]
    before = [list(logger.handlers) for logger in loggers]
    server = _Embedded(app, sock, read_timeout, tls)  # (re)configures granian's loggers, to stdout: undone here
    for logger, handlers in zip(loggers, before, strict=True):
        logger.handlers = [handler for handler in handlers if isinstance(handler, ErrorCollector)]

    async def stop_when_asked() -> None:
        await stop.wait()
        server.stop()

    watcher: asyncio.Task[Any] = asyncio.get_running_loop().create_task(stop_when_asked())
    try:
        with errors_to(report, *LOGGERS):
            await server.serve()
    finally:
        watcher.cancel()
