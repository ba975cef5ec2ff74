"""SSE cut by a fault: how many of the events meant to arrive before the cut (half, rounded down) a real client
reads, per server and fault, with ``--interval 0`` (nothing between the last event and the cut); and how long the
cut takes after the last of them (the mock waits for the client's acknowledgement on plain HTTP/1).

A mock on a real server (127.0.0.1) streams 9 events of ~200 bytes; each run is asked for one fault with
``?x-mock-response-fault=``; an ``httpx-sse`` client reads until the connection breaks. A run is *whole* when it
read exactly the first 4 events.

    .venv/bin/python benchmarks/sse_cut.py [--runs 100] [--servers hypercorn uvicorn granian] [--faults reset close]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
from httpx_sse import connect_sse

from postmock_nb.answers.sse import CUT_FAULTS
from postmock_nb.session import Session

EVENTS = 9
BODY = "\n\n".join(f"id: {n}\ndata: {'x' * 200}" for n in range(1, EVENTS + 1))
WANTED = [str(n) for n in range(1, EVENTS // 2 + 1)]


def run_once(client: httpx.Client, url: str) -> tuple[list[str], float]:
    """The ids read, and ms from the last event read to the connection breaking."""
    ids: list[str] = []
    last = time.perf_counter()
    try:
        with connect_sse(client, "GET", url) as source:
            for event in source.iter_sse():
                ids.append(event.id)
                last = time.perf_counter()
    except httpx.HTTPError:
        pass
    return ids, (time.perf_counter() - last) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--servers", nargs="+", default=["hypercorn", "uvicorn", "granian"])
    parser.add_argument("--faults", nargs="+", default=sorted(CUT_FAULTS))
    args = parser.parse_args()
    print(f"{EVENTS} events, --interval 0, {args.runs} runs each; whole: exactly events {WANTED[0]}-{WANTED[-1]} read")
    print("| server | fault | whole | fewer | median cut after last event, ms | worst, ms |")
    print("|---|---|---:|---:|---:|---:|")
    for server in args.servers:
        session = Session()
        session.define("GET /burst", BODY, name="burst", request_headers=["x-mock-sse: true"])
        session.start(port=0, server=server)
        try:
            for fault in args.faults:
                whole, fewer, waits = 0, 0, []
                for _ in range(args.runs):
                    with httpx.Client(timeout=10) as client:
                        ids, after = run_once(client, f"{session.url}/burst?x-mock-response-fault={fault}")
                    whole += ids == WANTED
                    fewer += len(ids) < len(WANTED)
                    waits.append(after)
                print(f"| {server} | {fault} | {whole} | {fewer} | {statistics.median(waits):.2f} | {max(waits):.2f} |")
        finally:
            session.close()


if __name__ == "__main__":
    main()
