"""ReDoS through --validate-requests: how long a backtracking pattern holds the mock.

    .venv/bin/python benchmarks/redos.py [--length 28] [--repo PATH]

Starts ``postmock serve --validate-requests`` (from ``--repo``, default this checkout, so an
older checkout can be measured the same way) on a document whose query parameter has
``pattern: ^(a+)+$``, sends ``q=aaa…a!`` (``--length`` a's), and while it is in flight asks
``/__postmock/health``. Prints the time of the evil request, of that health request, and of
a health request alone (after one warm-up request of each kind).
Not a test; 127.0.0.1 only; the server is stopped by its PID.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import requests
from harness import served_document

ROOT = Path(__file__).resolve().parents[1]
SPEC = """\
openapi: 3.0.3
info: {title: evil patterns, version: "1"}
paths:
  /search:
    get:
      parameters:
        - {name: q, in: query, required: true, schema: {type: string, pattern: '^(a+)+$'}}
      responses:
        "200": {description: ok}
"""


def timed_get(url: str, **params: str) -> tuple[float, int]:
    started = time.perf_counter()
    status = requests.get(url, params=params, timeout=600).status_code
    return (time.perf_counter() - started) * 1000, status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--length", type=int, default=28, help="how many a's before the '!' (default 28)")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose postmock_nb is measured")
    args = parser.parse_args()
    with served_document(SPEC, "evil.yaml", args.repo, "--validate-requests") as url:
        timed_get(url + "/__postmock/health")  # warm-up: the admin API starts on its first request
        timed_get(url + "/search", q="aaa")  # and the validator is built on its first check
        alone_ms, _ = timed_get(url + "/__postmock/health")
        evil: list[tuple[float, int]] = []
        sender = threading.Thread(target=lambda: evil.append(
            timed_get(url + "/search", q="a" * args.length + "!")))
        sender.start()
        time.sleep(0.005)  # let the evil request reach the server first (a benchmark, not a test)
        during_ms, health_status = timed_get(url + "/__postmock/health")
        sender.join()
        evil_ms, evil_status = evil[0]
    print(f"checkout: {args.repo}")
    print(f"evil request (q = {args.length} a's and '!'): {evil_ms:9.1f} ms  -> {evil_status}")
    print(f"health while it is in flight:        {during_ms:9.1f} ms  -> {health_status}")
    print(f"health alone:                        {alone_ms:9.1f} ms")


if __name__ == "__main__":
    main()
