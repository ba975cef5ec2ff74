"""Resource cost: µs per POST (and GET/PUT/PATCH/DELETE of one record) as a resource grows, in-process.

The ASGI app is called directly on one event loop (no sockets, no HTTP parsing), so the figures are
the mock's own cost. The resource is filled by POSTs; the cost of the POSTs that bring it from
0 to ``--window`` records is compared with those that bring it to ``--records`` (20,000 by default).
Then each single-record operation is timed on a record in the middle. Runs on any version
(before issue 19 a resource had no limits to raise).

    .venv/bin/python benchmarks/resource_cost.py [--records 20000] [--window 1000]
    .venv/bin/python benchmarks/resource_cost.py --big 20   # memory: 20 POSTs of 9.5 MB records
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from postmock_nb.notebook.prototype import Prototype
from postmock_nb.serving.app import MockApp
from postmock_nb.serving.build import assemble
from postmock_nb.session import Session

RECORD = json.dumps({"title": "write the benchmark", "done": False, "tags": ["a", "b"]}).encode()


def build(records: int) -> MockApp:
    session = Session()
    proto = Prototype(session)
    try:  # limits came with issue 19: raise them above what this run stores
        proto.resource("todos", [], max_records=records * 2)  # type: ignore[call-arg,unused-ignore]
    except TypeError:
        proto.resource("todos", [])
    return assemble(store=session.store, config=session.config, behaviours=session.behaviours).app


async def one(app: MockApp, method: str, path: str, body: bytes = b"") -> int:
    headers = [(b"host", b"127.0.0.1"), (b"accept", b"*/*")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": headers,
             "http_version": "1.1"}
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def posts(app: MockApp, count: int) -> float:
    """µs per POST for ``count`` POSTs."""
    started = time.perf_counter()
    for _ in range(count):
        status = await one(app, "POST", "/todos", RECORD)
        if status != 201:
            raise SystemExit(f"POST answered {status}")
    return (time.perf_counter() - started) / count * 1e6


async def each(app: MockApp, method: str, path: str, body: bytes, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await one(app, method, path, body)
    return (time.perf_counter() - started) / count * 1e6


async def main(records: int, window: int) -> None:
    app = build(records)
    first = await posts(app, window)
    done = window
    while done < records - window:
        step = min(5000, records - window - done)
        await posts(app, step)
        done += step
    last = await posts(app, window)
    print(f"POST cost in-process (µs per request), resource 'todos' filled by POSTs to {records:,} records")
    print(f"  POSTs 1-{window:,}:{'':12s} {first:8.1f}")
    print(f"  POSTs {records - window + 1:,}-{records:,}: {last:8.1f}   ({last / first:.2f}× the first window)")
    middle = f"/todos/{records // 2}"
    print(f"one record in the middle ({middle}) at {records:,} records, µs per request:")
    for method, body in (("GET", b""), ("PUT", RECORD), ("PATCH", b'{"done": true}')):
        print(f"  {method:6s} {await each(app, method, middle, body, window):8.1f}")
    started = time.perf_counter()
    for n in range(records // 2 - window // 2, records // 2 + window // 2):  # a different record each time
        await one(app, "DELETE", f"/todos/{n}")
    print(f"  DELETE {(time.perf_counter() - started) / window * 1e6:8.1f}")


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


async def big(count: int) -> None:
    """``count`` POSTs of a 9.5 MB record (under the 10 MB request limit): statuses and RSS growth."""
    session = Session()
    Prototype(session).resource("files", [])  # the default limits (none before issue 19)
    app = assemble(store=session.store, config=session.config, behaviours=session.behaviours).app
    body = json.dumps({"name": "scan.pdf", "data": "x" * int(9.5 * 1024 * 1024)}).encode()
    before = rss_mb()
    statuses = [await one(app, "POST", "/files", body) for _ in range(count)]
    del body
    print(f"{count} POSTs of 9.5 MB: statuses {statuses}")
    held = len(session.behaviours.resources.get("files") or [])
    print(f"  RSS growth {rss_mb() - before:.0f} MB (the resource holds {held} records)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=1000)
    parser.add_argument("--big", type=int, default=0, metavar="N", help="instead: N POSTs of 9.5 MB, RSS growth")
    args = parser.parse_args()
    asyncio.run(big(args.big) if args.big else main(args.records, args.window))
