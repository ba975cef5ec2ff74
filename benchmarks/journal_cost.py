"""What the shared journal (``--state redis://…``) adds to a request: ``MockApp`` called with ASGI messages on one
loop, its journal in memory or on a real redis-server (started here on a free port, no persistence, stopped).

    .venv/bin/python benchmarks/journal_cost.py [--requests 5000] [--rounds 5] [--concurrency 1 16]

For each concurrency (requests in flight at once on the loop), prints the median µs per request (wall clock, and
the CPU of the loop's thread: the batch writer's work included) of the in-memory journal and of the shared one,
and the shared journal's mean batch size (entries per ``MULTI``/``EXEC``): no request waits for a round trip, so
the wall-clock difference is the writer's CPU, and batches grow with the concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import median  # noqa: E402
from workload import PRIMARY, build_collection  # noqa: E402

from postmock_nb.config import MockConfig  # noqa: E402
from postmock_nb.matching.store import LiveCollection  # noqa: E402
from postmock_nb.serving.build import assemble  # noqa: E402
from postmock_nb.serving.shared.journal import SharedJournal  # noqa: E402

SCOPE = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
         "path": PRIMARY, "raw_path": PRIMARY.encode(), "query_string": b"", "root_path": "",
         "headers": [(b"host", b"127.0.0.1:8000"), (b"accept", b"application/json")],
         "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


async def _round(app: Any, requests: int, concurrency: int) -> tuple[float, float]:
    """µs per request: wall clock, and CPU of this thread (the writer's tasks run here too)."""
    async def client(count: int) -> None:
        for _ in range(count):
            await app(dict(SCOPE), _receive, _send)

    wall, cpu = time.perf_counter(), time.thread_time()
    await asyncio.gather(*(client(requests // concurrency) for _ in range(concurrency)))
    journal = app.log
    if isinstance(journal, SharedJournal):  # its last batch acknowledged: its whole cost counted
        while journal._queue or (journal._pipe is not None and journal._pipe.in_flight):
            await asyncio.sleep(0)
    done = (requests // concurrency) * concurrency
    return (time.perf_counter() - wall) / done * 1e6, (time.thread_time() - cpu) / done * 1e6


def _redis(port: int) -> subprocess.Popen[bytes]:
    program = shutil.which("redis-server")
    if program is None:
        raise SystemExit("redis-server is not installed (bash scripts/install-system-deps.sh)")
    process = subprocess.Popen([program, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the shared journal's cost per request, against the in-memory one")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args(argv)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _redis(port)
    loop = asyncio.new_event_loop()
    try:
        collection = build_collection(1)
        apps = {"memory": assemble(store=LiveCollection(collection), config=MockConfig()).app,
                "redis": assemble(store=LiveCollection(collection),
                                  config=MockConfig(state=f"redis://127.0.0.1:{port}/0")).app}
        print(f"GET {PRIMARY} (a static example), {args.requests} requests x {args.rounds} interleaved rounds "
              f"(medians), redis-server on 127.0.0.1")
        print(f"{'concurrency':>11} {'journal':>8} {'wall µs':>8} {'cpu µs':>7} {'batch':>6}")
        for concurrency in args.concurrency:
            figures: dict[str, list[tuple[float, float]]] = {name: [] for name in apps}
            for app in apps.values():
                loop.run_until_complete(_round(app, 1000, concurrency))  # warm
            journal = apps["redis"].log
            assert isinstance(journal, SharedJournal)
            written, batches = journal.written, journal.batches
            for _ in range(args.rounds):
                for name, app in apps.items():
                    figures[name].append(loop.run_until_complete(_round(app, args.requests, concurrency)))
            batch = (journal.written - written) / max(1, journal.batches - batches)
            for name in apps:
                wall = median([w for w, _ in figures[name]])
                cpu = median([c for _, c in figures[name]])
                shown = f"{batch:6.1f}" if name == "redis" else f"{'-':>6}"
                print(f"{concurrency:>11} {name:>8} {wall:8.2f} {cpu:7.2f} {shown}")
        journal = apps["redis"].log
        assert isinstance(journal, SharedJournal)
        loop.run_until_complete(journal.aclose())
    finally:
        loop.close()
        server.kill()
        server.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
