"""What a verification costs: ``verify`` over a full journal (1000 entries by default), in one process.

    .venv/bin/python benchmarks/verify_cost.py [--entries 1000] [--rounds 20]

Fills a :class:`~postmock_nb.serving.requestlog.RequestLog` with JSON POSTs and GETs (a tenth of them the
request verified), then times :func:`~postmock_nb.serving.verification.verify_journal` for a verification that
passes (no message) and one that fails (the closest requests and their rows written), and the requests list's
filter. Prints the median ms of each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from postmock_nb.serving.requestlog import LogEntry, RequestLog
from postmock_nb.serving.verification import expectation_of, filter_of, requested, verify_journal


def _journal(entries: int) -> RequestLog:
    log = RequestLog(maxlen=entries)
    for n in range(entries):
        post = n % 2 == 0
        body = json.dumps({"name": "Ann" if n % 10 == 0 else f"user {n}", "tags": ["a", "b"], "n": n}).encode()
        log.append(LogEntry(seq=log.next_seq(), time=float(n), method="POST" if post else "GET",
                            path="/users" if post else f"/users/{n}", query_string=b"page=2" if n % 3 else b"",
                            raw_headers=[(b"content-type", b"application/json"), (b"x-role", b"admin")],
                            raw_body=body if post else b"", status=201 if post else 200, example_id="e",
                            example_name="e", score=None, latency_ms=0.1))
    return log


def _median_ms(call: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


class _Args(dict[str, str]):
    def getlist(self, name: str) -> list[str]:
        value = self.get(name)
        return [] if value is None else [value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    log = _journal(options.entries)
    passing = expectation_of({"request": "POST /users", "at_least": 1, "json": {"name": "Ann"}, "contains": True})
    failing = expectation_of({"request": "POST /users", "times": 1, "json": {"name": "Cy"}})
    wanted, limit = filter_of(_Args(method="GET", path="/users/:id", header="x-role:admin"))
    assert verify_journal(log, passing).verified and not verify_journal(log, failing).verified
    print(f"verify over {options.entries} journal entries ({options.rounds} rounds, median):")
    rows = [("passes (json contains)", lambda: verify_journal(log, passing)),
            ("fails (message with 3 closest)", lambda: verify_journal(log, failing)),
            ("GET /__postmock/requests filter", lambda: requested(log, wanted, limit))]
    for label, call in rows:
        print(f"  {label + ':':<34}{_median_ms(call, options.rounds):8.2f} ms")

if __name__ == "__main__":
    main()
