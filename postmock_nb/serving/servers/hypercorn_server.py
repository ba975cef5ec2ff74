"""Hypercorn (h11, pure Python): the default server, the one the design started with.

Hypercorn hands h11 a response without its reason phrase, so its status lines read ``HTTP/1.1 404 ``
(uvicorn and granian send ``404 Not Found``, and ``requests`` prints the phrase in its errors). The
seam: Hypercorn picks its HTTP/1 protocol class by the name ``hypercorn.protocol.H11Protocol``, and
every event it sends goes through that class's ``_send_h11_event``; :class:`_PhrasedH11` fills the
phrase there. It is installed once, in place of Hypercorn's class, and changes only the servers
started with this module's :class:`_Config` (any other Hypercorn server of the process is left as is).

The scope's ``raw_path`` is the request target's path as sent, without the query (``/files/a%2Fb``; an
absolute-form target cut to its path by :func:`origin_form`), and ``path`` its decoded form (``/files/a/b``):
the app matches on the first (``serving.reading.matched_path``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

import h11
import hypercorn.asyncio.run
import hypercorn.protocol
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.config import Config
from hypercorn.protocol.h11 import H11Protocol

from postmock_nb.core.model import reason_phrase
from postmock_nb.serving.servers import ASGIApp, Report
from postmock_nb.serving.servers._logs import ErrorCollector

if TYPE_CHECKING:
    from hypercorn.typing import ASGIFramework

    from postmock_nb.serving.tls import Certificate


STOP_GRACE_S = 1.0
"""How long a connection may take to finish once the server stops (its answer's rest, a close frame) before it is
aborted; less than the servers' grace period (2 s), which ends with an error."""
_SCHEME_AND_AUTHORITY = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
"""``http://host:port`` at the start of an absolute-form request target."""


class _Config(Config):
    """Hypercorn's settings, marking a server of ours (its status lines get their reason phrase)."""


class _PhrasedH11(H11Protocol):
    """Hypercorn's HTTP/1 protocol, sending the standard reason phrase (``404 Not Found``) for our servers."""

    async def _send_h11_event(self, event: Any) -> None:
        if (isinstance(event, h11.Response | h11.InformationalResponse) and not event.reason
                and isinstance(self.config, _Config)):
            # set on the event Hypercorn just made for this send (nothing else holds it): building a new one
            # runs h11's checks again, 6 µs a response (benchmarks/servers_bench.py's Hypercorn rows)
            object.__setattr__(event, "reason", reason_phrase(event.status_code).encode("latin-1"))
        await super()._send_h11_event(event)


class _StoppingTCPServer(TCPServer):
    """Hypercorn's connection, dropping a TLS connection, or one whose client does not read, at once when one
    of our servers stops.

    Closing a TLS connection sends the client a close_notify and waits for its own (asyncio's
    ``ssl_shutdown_timeout``, 30 s): a client that keeps its connection open without reading (a
    ``requests`` response still held, a browser's keep-alive) held ``stop()`` that long, past its
    timeout. While the server stops, the connection is aborted instead; any other close stays polite.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._tls = isinstance(self.config, _Config) and self.writer.get_extra_info("ssl_object") is not None

    async def run(self) -> None:
        watcher = asyncio.ensure_future(self._drop_unread_at_stop()) if isinstance(self.config, _Config) else None
        try:
            await super().run()
        finally:
            if watcher is not None:
                watcher.cancel()

    async def _drop_unread_at_stop(self) -> None:
        """Once the server stops, a connection still open :data:`STOP_GRACE_S` later, with bytes its client has
        not taken, is aborted: the client does not read (a WebSocket or a stream it holds), so the writes wait
        for it, and the stop waited for them past the grace period ("the server thread did not stop within
        10.0 s")."""
        await self.context.terminated.wait()
        await asyncio.sleep(STOP_GRACE_S)
        transport = self.writer.transport
        if transport.get_write_buffer_size():  # a request still being answered, nothing written: Hypercorn's 500
            transport.abort()

    def _abort_if_stopping(self) -> None:
        if self._tls and self.context.terminated.is_set():
            self.writer.transport.abort()  # idempotent: a transport aborted already stays so

    async def _initiate_server_close(self) -> None:  # an idle connection, closed as the server stops
        self._abort_if_stopping()
        await super()._initiate_server_close()

    async def _close(self) -> None:
        self._abort_if_stopping()
        await super()._close()


# the names Hypercorn looks up for each connection (a reload of this module replaces them, never chains)
vars(hypercorn.protocol)["H11Protocol"] = _PhrasedH11
vars(hypercorn.asyncio.run)["TCPServer"] = _StoppingTCPServer


def origin_form(app: ASGIApp) -> ASGIApp:
    """``app``, given the path of an absolute-form request target (``GET http://host/users HTTP/1.1``).

    HTTP/1.1 servers must accept the absolute form (RFC 9112, 3.2.2), which is what a client
    configured to use the mock as its HTTP proxy sends. uvicorn and granian give the app its
    path (``/users``); Hypercorn passes the whole target on as ``path`` and ``raw_path``, which
    no example matches. Any other target (the origin form ``/users``, ``*``) goes through as is.
    """

    async def served(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raw = scope.get("raw_path", b"/")
        if raw[:1] != b"/" and (found := _SCHEME_AND_AUTHORITY.match(raw)) is not None:
            raw = raw[found.end():] or b"/"
            scope = {**scope, "raw_path": raw, "path": unquote(raw.decode("ascii"))}
        await app(scope, receive, send)

    return served


def config(sock: socket.socket, report: Report, read_timeout: float = 30.0, tls: Certificate | None = None) -> Config:
    """Hypercorn's settings for serving ``sock``: no access log, errors to ``report``, an idle connection or a
    half-sent head closed after ``read_timeout`` s; https with ``tls`` (Hypercorn's ``certfile``/``keyfile``)."""
    settings = _Config()
    settings.bind = [f"fd://{os.dup(sock.fileno())}"]  # Hypercorn owns and closes the duplicate
    if tls is not None:  # Hypercorn wraps the sockets of ``bind`` in TLS once a certificate is set
        settings.certfile, settings.keyfile = tls.cert, tls.key
    settings.accesslog = None
    # A logger of this socket's own, not registered with logging: it goes with the server instead of
    # living on after it (one leaked logger per start otherwise), and no other mock shares it.
    error_logger = logging.Logger(f"postmock_nb.hypercorn.{sock.getsockname()[1]}")  # noqa: LOG001
    error_logger.propagate = False
    error_logger.handlers = [ErrorCollector(report)]
    settings.errorlog = error_logger
    settings.graceful_timeout = 2.0
    # Hypercorn's ``read_timeout`` bounds every wait for the client's bytes, a request in flight or not:
    # a client that sent its whole request and is reading a long answer (a delay, a slow fault, a slow
    # handler) sends nothing, so the connection was closed mid-answer and its keep-alive lost. It is off;
    # what it guarded is kept: the idle timer (``keep_alive_timeout``) runs from the connection's start
    # until a whole request head has arrived, so a half-sent head is closed, like an idle keep-alive
    # connection; a stalled body is the app's own read timeout (a 408, see ``MockApp._read_body``).
    settings.keep_alive_timeout = read_timeout
    settings.read_timeout = None
    return settings


async def serve(app: ASGIApp, sock: socket.socket, stop: asyncio.Event, report: Report, *,
                read_timeout: float = 30.0, tls: Certificate | None = None) -> None:
    """Serve ``app`` on ``sock`` until ``stop`` is set (https with ``tls``)."""
    # Hypercorn's TypedDict events are the plain dicts the app reads and writes
    await hypercorn_serve(cast("ASGIFramework", origin_form(app)), config(sock, report, read_timeout, tls),
                          shutdown_trigger=stop.wait)
