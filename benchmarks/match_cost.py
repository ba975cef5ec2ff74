"""The matching engine's own cost: ``match(snapshot, request)`` on the 10,000-example workload, no app, no server.

    .venv/bin/python benchmarks/match_cost.py [--examples 10000] [--repeats 7]

Compiles the collection of :mod:`workload` once (and prints how long that took), then times
``match`` for each kind of request the throughput benchmark sends (a hit among colliding IDs, a
path-variable hit, a hit among examples that differ by query, an unknown ``/items/<id>`` all
5,000 ``/items/<n>`` examples fit, a miss) and for a ``x-mock-response-name`` that names no
example (every colliding example scored). Times are CPU time of this thread (``time.thread_time``),
the least of ``--repeats`` repetitions: on a shared machine, what another process takes is not
counted. To compare two trees, run it in each, interleaved (``PYTHONPATH=<tree>:<tree>/benchmarks``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import MISS, PATH_VARIABLE_HIT, PRIMARY, QUERY_HIT, build_collection  # noqa: E402

from postmock_nb.matching import IncomingRequest, match  # noqa: E402
from postmock_nb.matching.snapshot import Snapshot  # noqa: E402

REQUESTS = {"primary": (PRIMARY, 1000), "path_variable": (PATH_VARIABLE_HIT, 1000), "query": (QUERY_HIT, 1000),
            "unknown_id": ("/items/999999", 100), "miss": (MISS, 50),
            "name_selector": (PRIMARY + "?x-mock-response-name=nobody", 2)}
"""Each request and how many times one repetition matches it."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="match()'s µs per request on the workload collection")
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    collection = build_collection(args.examples)
    started = time.thread_time()
    snapshot = Snapshot(collection)
    figures = {"snapshot_build_ms": (time.thread_time() - started) * 1e3}
    for name, (url, times) in REQUESTS.items():
        request = IncomingRequest.build("GET", url)
        match(snapshot, request)
        best = float("inf")
        for _ in range(args.repeats):
            started = time.thread_time()
            for _ in range(times):
                match(snapshot, request)
            best = min(best, (time.thread_time() - started) / times * 1e6)
        figures[f"{name}_us"] = best
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
