"""A/B of a resource's operations, in one process: this tree against an older commit (in memory), and, with
``--state redis://…``, this tree's records in memory against the same records on Redis.

    .venv/bin/python benchmarks/records_ab.py [--commit main] [--rounds 100] [--clock perf|thread]
    .venv/bin/python benchmarks/records_ab.py --state redis://127.0.0.1:6379/15 [--rounds 30]

Each app serves a resource ``todos`` of 100 records, defined as a notebook defines it, and is called with
ASGI messages on one asyncio loop (:mod:`app_ab`'s method: the older tree extracted and renamed
``postmock_old``, interleaved rounds alternating which app goes first). Prints, per operation, the median µs
per request of each and the median of the per-round ratios (new/old, or redis/memory). The POSTs grow each
resource alike. With ``--state`` the keys live under a prefix of their own, deleted at the end; the Redis
figures are a round trip each (two for a PATCH or PUT: the read, then the compare-and-set script), so they
are the network's and Redis's as much as the mock's.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from app_ab import OLD, _head, extract_old  # noqa: E402

SEED = [{"id": i, "title": f"task {i}", "done": False, "tags": ["a", "b"]} for i in range(1, 101)]


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    body: bytes = b""
    query: bytes = b""


OPERATIONS = [
    Operation("GET one", "GET", "/todos/50"),
    Operation("GET a page", "GET", "/todos", query=b"_page=2&_per_page=10"),
    Operation("PATCH one", "PATCH", "/todos/50", json.dumps({"done": True}).encode()),
    Operation("PUT one", "PUT", "/todos/50", json.dumps({"title": "task 50", "done": True}).encode()),
    Operation("POST", "POST", "/todos", json.dumps({"title": "new", "done": False}).encode()),
]


def records_app(package: str, state: str | None = None) -> Any:
    """``package``'s MockApp (postmock_nb, or the old tree's) serving ``todos``, in memory or on ``state``."""
    session = importlib.import_module(f"{package}.session").Session()
    prototype = importlib.import_module(f"{package}.notebook.prototype").Prototype(session)
    prototype.resource("todos", SEED, max_records=10**6)
    config = session.config
    if state is not None:
        config = dataclasses.replace(config, state=state, state_prefix=f"records-ab-{os.getpid()}")
    build = importlib.import_module(f"{package}.serving.build")
    return build.assemble(store=session.store, config=config, behaviours=session.behaviours)


def scope_of(operation: Operation) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1"), (b"accept", b"*/*")]
    if operation.body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(operation.body)).encode())]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": operation.method,
            "scheme": "http", "path": operation.path, "raw_path": operation.path.encode(),
            "query_string": operation.query, "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def per_request_us(app: Any, operation: Operation, requests: int,
                         clock: Callable[[], float]) -> tuple[float, int]:
    """µs per request, and the last status."""
    scope = scope_of(operation)
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": operation.body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    started = clock()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    return (clock() - started) / requests * 1e6, status


def compare(loop: asyncio.AbstractEventLoop, apps: dict[str, Any], operation: Operation, *, rounds: int,
            batch_ms: float, clock: Callable[[], float]) -> tuple[str, int, list[float], float]:
    """Statuses, requests per round, the median µs of each app and the median per-round ratio (second/first)."""
    names = list(apps)
    warm = {name: loop.run_until_complete(per_request_us(apps[name], operation, 50, clock)) for name in names}
    statuses = "/".join(sorted({str(status) for _, status in warm.values()}))
    requests = max(5, round(batch_ms * 1000 / max(us for us, _ in warm.values())))
    figures: dict[str, list[float]] = {name: [] for name in names}
    ratios = []
    for i in range(rounds):
        for name in (names if i % 2 == 0 else names[::-1]):
            figures[name].append(loop.run_until_complete(per_request_us(apps[name], operation, requests, clock))[0])
        ratios.append(figures[names[1]][-1] / figures[names[0]][-1])
    return statuses, requests, [statistics.median(figures[n]) for n in names], statistics.median(ratios)


def report(loop: asyncio.AbstractEventLoop, apps: dict[str, Any], args: argparse.Namespace) -> None:
    first, second = apps
    clock = time.perf_counter if args.clock == "perf" else time.thread_time
    print(f"{'operation':12} {'status':>7} {'requests':>8} {first + ' µs':>10} {second + ' µs':>10} "
          f"{second + '/' + first:>14}")
    for operation in OPERATIONS:
        statuses, requests, (a, b), ratio = compare(loop, apps, operation, rounds=args.rounds,
                                                    batch_ms=args.batch_ms, clock=clock)
        print(f"{operation.name:12} {statuses:>7} {requests:8d} {a:10.2f} {b:10.2f} {ratio:14.3f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="a resource's µs per operation: old vs new, or memory vs Redis")
    parser.add_argument("--commit", default="main", help="the older commit (default main)")
    parser.add_argument("--state", help="instead: this tree in memory vs on this Redis (redis://HOST:PORT/DB)")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--batch-ms", type=float, default=10.0, help="each app's share of a round, ms")
    parser.add_argument("--clock", choices=("perf", "thread"), default="perf",
                        help="perf: time.perf_counter (with --state: Redis's time counts); thread: CPU of this thread")
    args = parser.parse_args(argv)
    loop = asyncio.new_event_loop()
    try:
        if args.state is not None:
            shared_mock = records_app("postmock_nb", args.state)
            apps = {"memory": records_app("postmock_nb").app, "redis": shared_mock.app}
            print(f"this tree {_head()}: resource todos (100 records) in memory vs on {shared_mock.shared.shown_url}, "
                  f"{args.rounds} interleaved rounds, clock {args.clock}")
            try:
                report(loop, apps, args)
            finally:
                client = shared_mock.shared.sync_client()
                client.delete(*client.keys(shared_mock.shared.key("*")))
            return 0
        with tempfile.TemporaryDirectory(prefix="records_ab_") as folder:
            root = Path(folder)
            extract_old(args.commit, root)
            sys.path.insert(0, str(root))
            apps = {"old": records_app(OLD).app, "new": records_app("postmock_nb").app}
            print(f"old {args.commit} vs new {_head()}: resource todos (100 records) in memory, {args.rounds} "
                  f"interleaved rounds, clock {args.clock}")
            report(loop, apps, args)
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
