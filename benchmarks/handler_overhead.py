"""Handler overhead: µs per request for a Python handler vs a static example, in-process.

The ASGI app is called directly on one event loop (no sockets, no HTTP parsing), so the figures
are the mock's own cost. Rounds are interleaved (static, sync handler, async handler, resource get,
the bare thread hop, repeat); the medians of the rounds' wall and CPU times are reported. Each kind is
checked once before timing: a handler must answer with the handler's body and note, not the
static sample (the published figures once measured static examples by mistake).

    .venv/bin/python benchmarks/handler_overhead.py [--rounds 15] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from postmock_nb.behaviours.handlers import Request
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.serving.app import MockApp
from postmock_nb.serving.build import assemble
from postmock_nb.session import Session

BODY = {"id": 7, "name": "Alice Park", "role": "admin"}
PATHS = {"static example": "/static/7", "sync handler (worker thread)": "/sync/7",
         "async handler (on the loop)": "/async/7", "resource get": "/users/7"}
NOTES = {"/static/7": "", "/sync/7": "handler sync ", "/async/7": "handler coro ", "/users/7": "resource users get"}


def build() -> MockApp:
    session = Session()
    proto = Prototype(session)
    session.define("GET /static/:id 200", '{"id": 7, "name": "Alice Park", "role": "admin"}')

    @proto.handler("GET /sync/:id")
    def sync(request: Request) -> dict[str, Any]:
        return BODY

    @proto.handler("GET /async/:id")
    async def coro(request: Request) -> dict[str, Any]:
        return BODY

    proto.resource("users", [dict(BODY)])
    return assemble(store=session.store, config=session.config, behaviours=session.behaviours).app


async def one(app: MockApp, path: str) -> bytes:
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": path, "query_string": b"",
                             "http_version": "1.1", "headers": [(b"host", b"127.0.0.1"), (b"accept", b"*/*")]}
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(body)


async def check(app: MockApp) -> None:
    """Each path answers as its kind should (the figures would be meaningless otherwise)."""
    for name, path in PATHS.items():
        answered = json.loads(await one(app, path))
        note = app.log.recent(1)[0].note
        if answered != BODY or not note.startswith(NOTES[path]):
            raise SystemExit(f"{name}: answered {answered!r} with note {note!r}, not the {name}")


async def timed(app: MockApp, path: str, count: int) -> tuple[float, float]:
    """(wall µs, CPU µs of the whole process, worker threads included) per request."""
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        await one(app, path)
    return (time.perf_counter() - started) / count * 1e6, (time.process_time() - cpu) / count * 1e6


def noop(value: int) -> int:
    return value


async def hop(pool: ThreadPoolExecutor, count: int) -> tuple[float, float]:
    """The floor of a sync handler: one awaited no-op in a worker thread, nothing else."""
    loop = asyncio.get_running_loop()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        await loop.run_in_executor(pool, noop, 1)
    return (time.perf_counter() - started) / count * 1e6, (time.process_time() - cpu) / count * 1e6


async def main(rounds: int, count: int) -> None:
    app = build()
    await check(app)
    pool = ThreadPoolExecutor(max_workers=1)
    for path in PATHS.values():  # warm up
        await timed(app, path, 200)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in PATHS}
    results["(floor) thread hop alone"] = []
    for _ in range(rounds):
        for name, path in PATHS.items():
            results[name].append(await timed(app, path, count))
        results["(floor) thread hop alone"].append(await hop(pool, count))
    pool.shutdown()
    print(f"{rounds} interleaved rounds × {count} requests, µs per request (in-process ASGI), medians of the rounds:")
    print("wall time, and CPU time of the process (all threads: what the request costs, without the waits")
    print("for a core that other processes on a shared machine add to the wall time)")
    print(f"  {'':30s} {'wall':>8s} {'CPU':>8s}")
    static = [statistics.median(v) for v in zip(*results["static example"], strict=True)]
    for name, values in results.items():
        wall, cpu = (statistics.median(v) for v in zip(*values, strict=True))
        extra = "" if name == "static example" or name.startswith("(floor)") else \
            f"   (+{wall - static[0]:.1f} / +{cpu - static[1]:.1f} vs static)"
        print(f"  {name:30s} {wall:8.1f} {cpu:8.1f}{extra}")
    print("  (the floor: run_in_executor of a no-op, no request and no handler)")
    app.behaviours.handlers.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.requests))
