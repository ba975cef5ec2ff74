"""The HTTP servers a mock can run on: one adapter per server, one way to call them.

Every adapter does the same thing: serve this ASGI app on this already-bound, listening
socket, on the running event loop, until ``stop`` is set. :class:`~postmock_nb.serving.server.MockServer`
binds the socket itself (so ``start()`` knows the port and reports a port in use before any
server is involved) and runs the adapter on its own loop in a daemon thread; the CLI's worker
processes run it on the socket they inherited.

=========  ===========================================  =====================================
name       what it is                                   in a notebook thread (``%mock start``)
=========  ===========================================  =====================================
hypercorn  Hypercorn + h11, pure Python (the default)   yes
uvicorn    uvicorn + httptools (C parser), asyncio      yes
granian    granian: Rust HTTP stack, app on our loop    yes (granian's embedded mode)
=========  ===========================================  =====================================

uvicorn and granian come with the ``fast`` extra (in a clone: ``pip install ".[fast]"``).
This module imports no server: :func:`check` only looks whether one is installed. The table of servers
(:data:`SERVERS`: names, packages, how to install them) lives in :mod:`postmock_nb.config`, which checks
``--server`` when a :class:`~postmock_nb.config.MockConfig` is built; the adapters are here.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from postmock_nb.config import (
    DEFAULT_SERVER,
    FAST_EXTRA,
    SERVER_NAMES,
    SERVERS,
    ServerInfo,
    check_server,
    missing_packages,
)

if TYPE_CHECKING:
    from postmock_nb.serving.tls import Certificate

__all__ = ["DEFAULT", "FAST_EXTRA", "NAMES", "SERVERS", "ASGIApp", "Report", "Serve", "ServerInfo", "check",
           "installed", "missing", "serve_function"]

DEFAULT = DEFAULT_SERVER
NAMES = SERVER_NAMES
check = check_server
"""``name`` if it is a known server whose packages are installed; a ConfigError saying why not."""
missing = missing_packages
"""The packages server ``name`` needs that are not installed (nothing is imported)."""

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]
Report = Callable[[str], None]
"""Where an adapter sends the server's error messages (the mock's error log)."""


class Serve(Protocol):
    """An adapter's entry point: with ``tls``, the server speaks https on ``sock`` with that certificate
    (each server's own TLS: :mod:`postmock_nb.serving.tls`)."""

    def __call__(self, app: ASGIApp, sock: socket.socket, stop: asyncio.Event, report: Report, *,
                 read_timeout: float = 30.0, tls: Certificate | None = None) -> Awaitable[None]: ...


def installed() -> list[str]:
    """The servers that can be used here, the default first."""
    return [name for name in NAMES if not missing(name)]


def serve_function(name: str) -> Serve:
    """The adapter of server ``name`` (checked; imports the server)."""
    module = importlib.import_module(f"{__name__}.{SERVERS[check(name)].module}")
    serve: Serve = module.serve
    return serve
