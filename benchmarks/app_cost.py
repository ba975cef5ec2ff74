"""The app's own cost per request, without any HTTP server: ``MockApp`` called with ASGI messages in a loop.

    .venv/bin/python benchmarks/app_cost.py [--requests 20000] [--rounds 7] [--examples 1]
                                            [--headers 8] [--path /items/2500]

Calls ``MockApp`` (a collection from :mod:`workload`) and the pure-ASGI hello world of
``serve_target.py`` with the same scope, a ``receive`` that hands over an empty body and a
``send`` that drops what it gets, on one asyncio loop, in interleaved rounds; prints the median
µs per request of each and their difference: what postmock adds to a request on any server,
before the server's own cost of sending more headers. ``--headers`` sets how many request
headers the scope carries (a browser sends 8-15; wrk sends 1).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import median  # noqa: E402
from serve_target import AsgiHello  # noqa: E402
from workload import PRIMARY, build_collection  # noqa: E402

from postmock_nb.config import MockConfig  # noqa: E402
from postmock_nb.matching.store import LiveCollection  # noqa: E402
from postmock_nb.serving.build import assemble  # noqa: E402

BROWSER_HEADERS = [
    (b"host", b"127.0.0.1:8000"), (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"),
    (b"accept", b"application/json, text/plain, */*"), (b"accept-language", b"en-GB,en;q=0.9"),
    (b"accept-encoding", b"gzip, deflate, br"), (b"referer", b"http://127.0.0.1:3000/"),
    (b"origin", b"http://127.0.0.1:3000"), (b"connection", b"keep-alive"), (b"sec-fetch-mode", b"cors"),
    (b"sec-fetch-site", b"same-site"), (b"sec-fetch-dest", b"empty"), (b"cache-control", b"no-cache"),
]


async def _per_request_us(app: Any, scope: dict[str, Any], requests: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, send)  # a fresh scope each time, as a server makes one
    return (time.perf_counter() - started) / requests * 1e6


def scope_for(path: str, headers: int) -> dict[str, Any]:
    """The scope of ``GET path`` with the first ``headers`` of a browser's request headers (at least the Host)."""
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": BROWSER_HEADERS[:max(1, headers)], "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="MockApp's own µs per request, against a pure-ASGI hello world")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--examples", type=int, default=1)
    parser.add_argument("--headers", type=int, default=1, help="request headers in the scope (1: wrk's Host only)")
    parser.add_argument("--path", default=PRIMARY)
    args = parser.parse_args(argv)
    scope = scope_for(args.path, args.headers)
    mock = assemble(store=LiveCollection(build_collection(args.examples)), config=MockConfig()).app
    hello = AsgiHello()
    figures: dict[str, list[float]] = {"asgi-hello": [], "mock": []}
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_per_request_us(mock, scope, 2_000))  # warm: caches, first-call imports
        for _ in range(args.rounds):
            figures["asgi-hello"].append(loop.run_until_complete(_per_request_us(hello, scope, args.requests)))
            figures["mock"].append(loop.run_until_complete(_per_request_us(mock, scope, args.requests)))
    finally:
        loop.close()
    hello_us, mock_us = median(figures["asgi-hello"]), median(figures["mock"])
    print(f"GET {args.path}, {args.examples} examples, {len(scope['headers'])} request headers, "
          f"{args.requests} requests x {args.rounds} interleaved rounds (medians)")
    print(f"asgi-hello {hello_us:7.2f} µs/request")
    print(f"mock       {mock_us:7.2f} µs/request   (postmock's own work: {mock_us - hello_us:.2f} µs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
