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


def config(sock: socket.socket, report: Report, read_timeout: float = 30.0) -> Config:
    """Hypercorn's settings for serving ``sock``: no access log, errors to ``report``, stalled reads closed."""
    settings = Config()
    settings.bind = [f"fd://{os.dup(sock.fileno())}"]  # Hypercorn owns and closes the duplicate
    settings.accesslog = None
    # A logger of this socket's own, not registered with logging: it goes with the server instead of
    # living on after it (one leaked logger per start otherwise), and no other mock shares it.
    error_logger = logging.Logger(f"postmock_nb.hypercorn.{sock.getsockname()[1]}")  # noqa: LOG001
    error_logger.propagate = False
    error_logger.handlers = [ErrorCollector(report)]
    settings.errorlog = error_logger
    settings.graceful_timeout = 2.0
    settings.keep_alive_timeout = 30.0
    settings.read_timeout = int(read_timeout)  # a stalled body or head is closed, not held
    return settings


async def serve(app: ASGIApp, sock: socket.socket, stop: asyncio.Event, report: Report, *,
                read_timeout: float = 30.0) -> None:
    """Serve ``app`` on ``sock`` until ``stop`` is set."""
    # Hypercorn's TypedDict events are the plain dicts the app reads and writes
    await hypercorn_serve(cast("ASGIFramework", app), config(sock, report, read_timeout), shutdown_trigger=stop.wait)
