"""SSE timing: when each event of an ``--sse --interval MS`` example arrives at a real client, vs the interval.

A mock on a real server (127.0.0.1) streams N events ``--interval`` ms apart; an ``httpx-sse`` client reads
them one at a time and notes each arrival (monotonic clock, from the moment the response head arrived). The
table gives, per event, the arrival time, the gap since the previous one and the gap's error vs the interval;
then the median and worst error over every run. Events that arrived together (a gap near 0 where the
interval is not) would show the stream had been buffered instead of sent event by event.

    .venv/bin/python benchmarks/sse_timing.py [--server hypercorn] [--interval 100] [--events 10] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
from httpx_sse import connect_sse

from postmock_nb.session import Session


def run_once(url: str) -> list[float]:
    """Each event's arrival, ms after the response head arrived."""
    arrivals: list[float] = []
    with httpx.Client(timeout=30) as client, connect_sse(client, "GET", url) as source:
        start = time.perf_counter()
        for _ in source.iter_sse():
            arrivals.append((time.perf_counter() - start) * 1000)
    return arrivals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--server", default="hypercorn")
    parser.add_argument("--interval", type=int, default=100, help="ms between two events")
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    session = Session()
    body = "\n\n".join(f"id: {i}\ndata: token {i} at {{{{$timestamp}}}}" for i in range(1, args.events + 1))
    session.define("GET /stream", body, name="stream",
                   request_headers=["x-mock-sse: true", f"x-mock-interval: {args.interval}"])
    session.start(port=0, server=args.server)
    try:
        runs = [run_once(session.url + "/stream") for _ in range(args.runs)]
    finally:
        session.close()
    print(f"server {args.server}, {args.events} events, --interval {args.interval} ms, {args.runs} runs")
    print("| event | arrival ms (run 1) | gap ms | gap - interval ms |")
    print("|---:|---:|---:|---:|")
    first = runs[0]
    for index, at in enumerate(first):
        gap = at - first[index - 1] if index else at
        error = f"{gap - args.interval:+.2f}" if index else "(first: no wait)"
        print(f"| {index + 1} | {at:.2f} | {gap:.2f} | {error} |")
    errors = [b - a - args.interval for run in runs for a, b in zip(run, run[1:], strict=False)]
    if errors:
        print(f"gap - interval over {len(errors)} gaps: median {statistics.median(errors):+.2f} ms, "
              f"min {min(errors):+.2f} ms, max {max(errors):+.2f} ms")
    print(f"whole stream: median {statistics.median(run[-1] for run in runs):.1f} ms "
          f"(ideal {(args.events - 1) * args.interval} ms)")


if __name__ == "__main__":
    main()
