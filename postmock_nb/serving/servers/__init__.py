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
This module imports no server: :func:`check` only looks whether one is installed.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from postmock_nb.errors import ConfigError

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]
Report = Callable[[str], None]
"""Where an adapter sends the server's error messages (the mock's error log)."""

DEFAULT = "hypercorn"
FAST_EXTRA = 'pip install ".[fast]" in a clone of the repository'


class Serve(Protocol):
    """An adapter's entry point."""

    def __call__(self, app: ASGIApp, sock: socket.socket, stop: asyncio.Event, report: Report, *,
                 read_timeout: float = 30.0) -> Awaitable[None]: ...


@dataclass(frozen=True)
class ServerInfo:
    """One server postmock can run on."""

    name: str
    module: str
    """The adapter module (in this package), imported only when the server is used."""
    requires: tuple[str, ...]
    """Top-level packages it needs."""
    install: str
    """How to install what it needs."""


SERVERS: dict[str, ServerInfo] = {
    "hypercorn": ServerInfo("hypercorn", "hypercorn_server", ("hypercorn",), 'pip install "postmock_nb"'),
    "uvicorn": ServerInfo("uvicorn", "uvicorn_server", ("uvicorn", "httptools"), FAST_EXTRA),
    "granian": ServerInfo("granian", "granian_server", ("granian",), FAST_EXTRA),
}
NAMES = tuple(SERVERS)


def missing(name: str) -> list[str]:
    """The packages server ``name`` needs that are not installed (nothing is imported)."""
    return [package for package in SERVERS[name].requires if importlib.util.find_spec(package) is None]


def check(name: object) -> str:
    """``name`` if it is a known server whose packages are installed; a :class:`ConfigError` saying why not."""
    if not isinstance(name, str) or name not in SERVERS:
        raise ConfigError(f"--server must be one of {', '.join(NAMES)}, got {name!r}",
                          hint=f"{DEFAULT} is the default; uvicorn and granian are the fast ones")
    absent = missing(name)
    if absent:
        raise ConfigError(f"the {name} server is not installed (missing: {', '.join(absent)})",
                          hint=f"{SERVERS[name].install}, or choose another --server")
    return name


def installed() -> list[str]:
    """The servers that can be used here, the default first."""
    return [name for name in NAMES if not missing(name)]


def serve_function(name: str) -> Serve:
    """The adapter of server ``name`` (checked; imports the server)."""
    module = importlib.import_module(f"{__name__}.{SERVERS[check(name)].module}")
    serve: Serve = module.serve
    return serve
