"""Handler overhead: µs per request for a Python handler vs a static example, in-process.

The ASGI app is called directly on one event loop (no sockets, no HTTP parsing), so the figures
are the mock's own cost. Rounds are interleaved (static, sync handler, async handler, resource get,
repeat) and the median of the rounds is reported.

    .venv/bin/python benchmarks/handler_overhead.py [--rounds 15] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from postmock_nb.app import MockApp
from postmock_nb.requestlog import RequestLog
from postmock_nb.prototype import Prototype
from postmock_nb.session import Session

BODY = {"id": 7, "name": "Alice Park", "role": "admin"}


def build() -> MockApp:
    session = Session()
    proto = Prototype(session)
    session.define("GET /static/:id 200", '{"id": 7, "name": "Alice Park", "role": "admin"}')

    @proto.handler("GET /sync/:id")
    def sync(request):  # type: ignore[no-untyped-def]
        return BODY

    @proto.handler("GET /async/:id")
    async def coro(request):  # type: ignore[no-untyped-def]
        return BODY

    proto.resource("users", [dict(BODY)])
    return MockApp(session.store, RequestLog(1000), session.config, session.behaviours)


async def one(app: MockApp, path: str) -> None:
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
             "headers": [(b"host", b"127.0.0.1"), (b"accept", b"*/*")]}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        return None

    await app(scope, receive, send)


async def timed(app: MockApp, path: str, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await one(app, path)
    return (time.perf_counter() - started) / count * 1e6


async def main(rounds: int, count: int) -> None:
    app = build()
    paths = {"static example": "/static/7", "sync handler (worker thread)": "/sync/7",
             "async handler (on the loop)": "/async/7", "resource get": "/users/7"}
    for path in paths.values():  # warm up
        await timed(app, path, 200)
    results: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, path in paths.items():
            results[name].append(await timed(app, path, count))
    static = statistics.median(results["static example"])
    print(f"{rounds} interleaved rounds × {count} requests, median µs per request (in-process ASGI)")
    for name, values in results.items():
        median = statistics.median(values)
        extra = "" if name == "static example" else f"   (+{median - static:.1f} µs vs static)"
        print(f"  {name:30s} {median:8.1f}{extra}")
    app.behaviours.handlers.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.requests))
