"""Serve one benchmark target in the foreground until SIGTERM/SIGINT.

    python benchmarks/serve_target.py mock --examples 10000 --port 8001 [--server granian]
    python benchmarks/serve_target.py quart --port 8002 [--server uvicorn]
    python benchmarks/serve_target.py hello --port 8003 [--server hypercorn] [--profile out.prof]

``mock`` is postmock_nb's :class:`~postmock_nb.serving.server.MockServer` on a collection from
:mod:`workload`. ``quart`` is a Quart hello world and ``hello`` a pure-ASGI hello world (the
floor: the least an ASGI app can do), served by the *same* machinery: a ``MockServer``
subclass whose ASGI app is swapped, so every target gets the same server adapter
(``--server``, :mod:`postmock_nb.serving.servers`) and settings, the same single process, the same
event loop type (a fresh ``asyncio`` loop in a daemon thread) and the same startup wrapper.
Only the ASGI app differs.

``--profile FILE``: cProfile runs in the server's thread (where every server calls the app)
from READY until SIGTERM, and the stats are written to FILE (see ``profile_hotpath.py``).

Once serving, one line goes to stdout::

    READY target=mock examples=10000 url=http://127.0.0.1:8001 pid=1234 loop=_UnixSelectorEventLoop ...

The benchmark drivers start this script under ``taskset -c 0`` and stop it by its PID.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from postmock_nb.serving.app import Receive, Scope, Send  # noqa: E402
from postmock_nb.serving.server import MockServer  # noqa: E402

HELLO = "Hello, World!"


def quart_hello_app() -> Any:
    """The classic Quart hello world (any path answers, so the URL can be the mock's)."""
    from quart import Quart

    app = Quart("hello")

    @app.route("/", defaults={"path": ""})
    @app.route("/<path:path>")
    async def hello(path: str) -> str:
        return HELLO

    return app


_HELLO_START = {"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(HELLO)).encode())]}
_HELLO_BODY = {"type": "http.response.body", "body": HELLO.encode()}


class AsgiHello:
    """The least an ASGI app can do: two prebuilt messages (and the lifespan, which every server sends).
    An object with ``__call__``, like ``MockApp``, so both cost the servers the same call."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.on_startup: Callable[[], None] | None = None
        """Set by the server, as on MockApp: called when the startup is done (so neither is wrapped)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send(_HELLO_START)
            await send(_HELLO_BODY)
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                    if self.on_startup is not None:
                        self.on_startup()
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return


class HelloServer(MockServer):
    """``MockServer`` with its ASGI app swapped for a hello world: same server adapter, settings,
    thread, loop and lifespan handling as the mock."""

    def __init__(self, app: Any, port: int, server: str) -> None:
        super().__init__(None, port=port, server=server)
        app.errors = self.app.errors  # MockServer.errors reads app.errors
        self.app = app


def make_server(target: str, examples: int, port: int, server: str = "hypercorn") -> MockServer:
    if target == "quart":
        return HelloServer(quart_hello_app(), port, server)
    if target == "hello":
        return HelloServer(AsgiHello(), port, server)
    from workload import build_collection

    return MockServer(build_collection(examples), port=port, server=server)


class ServerThreadProfiler:
    """cProfile in the server's own thread (enabled and disabled there, through the server's loop)."""

    def __init__(self, server: MockServer) -> None:
        import cProfile

        self.server = server
        self.profile = cProfile.Profile()
        self.done = threading.Event()

    def start(self) -> None:
        if not self.server.call_in_server_thread(self.profile.enable):
            raise RuntimeError("the server is not running")

    def stop(self, path: str) -> None:
        def disable() -> None:
            self.profile.disable()
            self.done.set()

        if self.server.call_in_server_thread(disable) and self.done.wait(10):
            self.profile.dump_stats(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=("mock", "quart", "hello"))
    parser.add_argument("--examples", type=int, default=1, help="collection size for the mock (default 1)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: a free one)")
    parser.add_argument("--server", default="hypercorn", help="hypercorn, uvicorn or granian (default hypercorn)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the server thread into FILE until stopped")
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = make_server(args.target, args.examples, args.port, args.server)
    server.start()
    profiler = ServerThreadProfiler(server) if args.profile else None
    if profiler is not None:
        profiler.start()
    try:
        loop = type(server._loop).__name__ if server._loop is not None else "?"
        print(f"READY target={args.target} examples={args.examples if args.target == 'mock' else 0} "
              f"url={server.url} pid={os.getpid()} loop={loop} server={args.server} "
              f"{args.server}={version(args.server)} "
              f"python={sys.version.split()[0]}", flush=True)
        while not stop.wait(1.0):
            if not server.running:
                print("server thread stopped:", *server.errors[-1:], file=sys.stderr, flush=True)
                return 1
    finally:
        if profiler is not None:
            profiler.stop(args.profile)
        server.stop()
        for error in server.errors:
            print("server error:", error, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
