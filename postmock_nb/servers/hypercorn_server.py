"""Hypercorn (h11, pure Python): the default server, the one the design started with."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import TYPE_CHECKING, cast

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from . import ASGIApp, Report
from ._logs import ErrorCollector

if TYPE_CHECKING:
    from hypercorn.typing import ASGIFramework


def config(sock: socket.socket, report: Report) -> Config:
    """Hypercorn's settings for serving ``sock``: no access log, errors to ``report``."""
    settings = Config()
    settings.bind = [f"fd://{os.dup(sock.fileno())}"]  # Hypercorn owns and closes the duplicate
    settings.accesslog = None
    # A logger of this socket's own: Hypercorn takes a Logger object, so no other mock shares it.
    error_logger = logging.getLogger(f"postmock_nb.hypercorn.{sock.getsockname()[1]}.{id(sock)}")
    error_logger.propagate = False
    error_logger.handlers = [ErrorCollector(report)]
    settings.errorlog = error_logger
    settings.graceful_timeout = 2.0
    settings.keep_alive_timeout = 30.0
    return settings


async def serve(app: ASGIApp, sock: socket.socket, stop: asyncio.Event, report: Report) -> None:
    """Serve ``app`` on ``sock`` until ``stop`` is set."""
    # Hypercorn's TypedDict events are the plain dicts the app reads and writes
    await hypercorn_serve(cast("ASGIFramework", app), config(sock, report), shutdown_trigger=stop.wait)
