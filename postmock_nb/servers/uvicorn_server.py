"""uvicorn with httptools (the C HTTP/1.1 parser) on the running asyncio loop."""

from __future__ import annotations

import asyncio
import os
import socket
from contextlib import AbstractContextManager, nullcontext

import uvicorn

from . import ASGIApp, Report
from ._logs import errors_to

SETTLE_S = 1.0
"""How long a stop waits for the requests uvicorn cancelled to finish."""


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers: the mock's owner decides when it stops."""

    def capture_signals(self) -> AbstractContextManager[None]:  # type: ignore[override]
        return nullcontext()


async def serve(app: ASGIApp, sock: socket.socket, stop: asyncio.Event, report: Report, *,
                read_timeout: float = 30.0) -> None:
    """Serve ``app`` on ``sock`` until ``stop`` is set (``read_timeout``: Hypercorn only; this server keeps its own)."""
    config = uvicorn.Config(
        app, loop="none", http="httptools", ws="none", lifespan="on", interface="asgi3",
        log_config=None, access_log=False,
        proxy_headers=False,  # the mock answers whoever connects; no X-Forwarded-* rewriting per request
        timeout_keep_alive=30, timeout_graceful_shutdown=2, backlog=1024)
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
