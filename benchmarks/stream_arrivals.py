"""Streaming handlers: when each yielded event reaches a real SSE client, and how many items a second a
generator can stream, on each server (127.0.0.1, in this process).

- spacing: a generator (plain ``def``, pulled in its worker; and ``async def``) yields ``--events`` events
  ``--interval`` ms apart; the client (``httpx-sse``) notes each arrival. Reported: the median and the
  largest gap between two arrivals, and the median lag of an arrival behind its yield (the event carries
  its yield time): events arrive one at a time, spaced by the generator, not in one chunk.
- throughput: a generator that yields ``--items`` events at once; items per second read by the client
  (each plain-generator item is one hop to the worker thread and back).

    .venv/bin/python benchmarks/stream_arrivals.py [--events 20] [--interval 50] [--items 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Iterator

import httpx
from httpx_sse import connect_sse

from postmock_nb.answers.sse import Event
from postmock_nb.behaviours.handlers import Request
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.session import Session

SERVERS = ("hypercorn", "uvicorn", "granian")


def build(events: int, interval_s: float, items: int) -> Session:
    session = Session()
    proto = Prototype(session)

    @proto.handler("GET /sync", concurrent=True)
    def spaced_sync(request: Request) -> Iterator[Event]:
        for n in range(events):
            if n:
                time.sleep(interval_s)
            yield Event(time.perf_counter(), id=str(n))

    @proto.handler("GET /async")
    async def spaced_async(request: Request) -> AsyncIterator[Event]:
        for n in range(events):
            if n:
                await asyncio.sleep(interval_s)
            yield Event(time.perf_counter(), id=str(n))

    @proto.handler("GET /many")
    def many(request: Request) -> Iterator[Event]:
        for n in range(items):
            yield Event(n)

    return session


def spacing(url: str) -> tuple[float, float, float]:
    """(median gap ms, largest gap ms, median lag ms) of one stream."""
    arrivals: list[float] = []
    lags: list[float] = []
    with httpx.Client(timeout=30) as client, connect_sse(client, "GET", url) as source:
        for event in source.iter_sse():
            now = time.perf_counter()
            arrivals.append(now)
            lags.append((now - float(event.data)) * 1000)
    gaps = [(b - a) * 1000 for a, b in zip(arrivals, arrivals[1:], strict=False)]
    return statistics.median(gaps), max(gaps), statistics.median(lags)


def throughput(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    with httpx.Client(timeout=60) as client, connect_sse(client, "GET", url) as source:
        count = sum(1 for _ in source.iter_sse())
    return count, count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--interval", type=float, default=50.0, help="ms between two yields")
    parser.add_argument("--items", type=int, default=5000)
    args = parser.parse_args()
    print(f"{args.events} events {args.interval:g} ms apart; {args.items} items at once")
    print(f"{'server':10} {'generator':9} {'median gap ms':>14} {'max gap ms':>11} {'median lag ms':>14} "
          f"{'items/s':>9}")
    for server in SERVERS:
        session = build(args.events, args.interval / 1000, args.items)
        session.start(port=0, server=server)
        try:
            count, rate = throughput(session.url + "/many")
            assert count == args.items, count
            for kind in ("sync", "async"):
                gap, largest, lag = spacing(f"{session.url}/{kind}")
                print(f"{server:10} {kind:9} {gap:14.1f} {largest:11.1f} {lag:14.2f} "
                      f"{rate if kind == 'sync' else float('nan'):9.0f}")
        finally:
            session.close()


if __name__ == "__main__":
    main()
