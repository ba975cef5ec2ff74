"""Serve one benchmark target in the foreground until SIGTERM/SIGINT.

    python benchmarks/serve_target.py mock --examples 10000 --port 8001
    python benchmarks/serve_target.py quart --port 8002

``mock`` is postmock_nb's :class:`~postmock_nb.server.MockServer` on a collection from
:mod:`workload`. ``quart`` is a Quart hello world served by the *same* machinery: a
``MockServer`` subclass whose ASGI app is the Quart app, so both targets get the same
Hypercorn version and ``Config`` (``MockServer._config``), the same single process, the
same event loop type (a fresh ``asyncio`` loop in a daemon thread) and the same startup
wrapper. Only the ASGI app differs.

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
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from postmock_nb.server import MockServer  # noqa: E402

HELLO = "Hello, World!"


def quart_hello_app():
    """The classic Quart hello world (any path answers, so the URL can be the mock's)."""
    from quart import Quart

    app = Quart("hello")

    @app.route("/", defaults={"path": ""})
    @app.route("/<path:path>")
    async def hello(path: str) -> str:
        return HELLO

    return app


class QuartHelloServer(MockServer):
    """``MockServer`` with its ASGI app swapped for the Quart hello world: same Hypercorn
    config, thread, loop and lifespan handling as the mock."""

    def __init__(self, port: int) -> None:
        super().__init__(None, port=port)
        self.app = quart_hello_app()  # MockServer.errors reads the server's own error log


def make_server(target: str, examples: int, port: int) -> MockServer:
    if target == "quart":
        return QuartHelloServer(port)
    from workload import build_collection

    return MockServer(build_collection(examples), port=port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=("mock", "quart"))
    parser.add_argument("--examples", type=int, default=1, help="collection size for the mock (default 1)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: a free one)")
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = make_server(args.target, args.examples, args.port)
    server.start()
    try:
        loop = type(server._loop).__name__ if server._loop is not None else "?"
        print(f"READY target={args.target} examples={args.examples if args.target == 'mock' else 0} "
              f"url={server.url} pid={os.getpid()} loop={loop} hypercorn={version('hypercorn')} "
              f"python={sys.version.split()[0]}", flush=True)
        while not stop.wait(1.0):
            if not server.running:
                print("server thread stopped:", *server.errors[-1:], file=sys.stderr, flush=True)
                return 1
    finally:
        server.stop()
        for error in server.errors:
            print("server error:", error, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
