"""Memory: RSS of the mock server process before and after 1,000,000 requests.

    .venv/bin/python benchmarks/memory.py [--requests 1000000] [--warmup 100000] [--examples 10000]
                                          [--misses 10] [--json out.json]

The mock (``serve_target.py mock``) runs pinned to CPU 0 and ``wrk`` to CPU 1. The load
is a mix of hits, rotated request by request by ``memory_mix.lua``, with values that never
repeat so that nothing keyed by URL, header or captured value can hide a leak:

* ``GET /items/<1..5000>``, exact paths (every cached response of the collection is built),
  each with a unique ``X-Request-Id`` header;
* ``GET /items/2500``, the throughput benchmark's request;
* ``GET /api/v2/res<0..249>/<unique>`` and ``.../<unique>/history``: path variables, echoed
  by a templated body (rendered on every request);
* ``GET /api/v1/search0042?q=term2&page=1&r=<unique>``: a query hit with an unknown parameter.

VmRSS (``/proc/<pid>/status``) is read after the warm-up, which fills the request log
(1,000 entries) and the response cache, and then after ``--requests`` more requests
(counted by wrk, run in chunks so RSS can be followed). Goal: growth < 20 MB.

Then, for information, two kinds of expensive request are sent one at a time and the RSS
read after each batch: ``--misses`` unmatched requests (404 with near-miss diagnostics) and
``--unknown-ids`` requests for ``/items/<id>`` with an id no example has (decided by the
ID-stripping rule, where all 5,000 ``/items/<n>`` examples tie). What their log entries keep
stays in memory until the log (1,000 entries) drops them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    HERE,
    WrkResult,
    fetch,
    machine_line,
    mock_target,
    proc_status,
    require_tools,
    rss_kib,
    stop_all,
    wrk,
)
from workload import MISS, PRIMARY  # noqa: E402

GOAL_MB = 20.0
SCRIPT = HERE / "memory_mix.lua"


def _mb(kib: int) -> float:
    return kib / 1024


def _load(url: str, count: int, offset: int, rate: float | None, connections: int) -> Iterator[tuple[int, WrkResult]]:
    """Send at least ``count`` requests with the mix, in wrk runs of at most 30 s (the first
    of at most 5 s when the rate is not known yet); yields (requests sent so far, last run)."""
    sent = 0
    while sent < count:
        longest = 30 if rate else 5
        seconds = int(min(longest, max(1, (count - sent) / (rate or 1) + 0.999)))
        result = wrk_mix(url, seconds, connections, offset + sent)
        sent += result.requests
        rate = result.rps
        yield sent, result


def wrk_mix(url: str, seconds: int, connections: int, offset: int) -> WrkResult:
    result = wrk(url, seconds=seconds, connections=connections, script=str(SCRIPT), extra=(str(offset),))
    if result.non_2xx or result.socket_errors:
        raise RuntimeError(f"unexpected answers: {result.non_2xx} non-2xx, socket errors {result.socket_errors}")
    return result


def run(requests: int = 1_000_000, warmup: int = 100_000, examples: int = 10_000, connections: int = 32,
        misses: int = 10, unknown_ids: int = 10, log: Callable[[str], None] = print) -> dict[str, Any]:
    require_tools()
    target = mock_target(examples)
    results: dict[str, Any] = {"machine": machine_line(), "examples": examples, "connections": connections,
                     "goal_mb": GOAL_MB}
    try:
        target.start()
        log(f"started {target.name}: {target.ready_line}")
        status, headers, _ = fetch(target.url + PRIMARY)
        assert status == 200 and headers.get("x-mock-example-name") == "item 2500", (status, headers)
        results["rss_start_kib"] = rss_kib(target.pid)
        log(f"RSS after start: {_mb(results['rss_start_kib']):.1f} MB; warm-up: {warmup:,} requests")
        rate: float | None = None
        warm_sent = 0
        for sent_so_far, result in _load(target.url, warmup, 0, rate, connections):
            warm_sent, rate = sent_so_far, result.rps
        time.sleep(1.0)
        before = rss_kib(target.pid)
        results.update(warmup_requests=warm_sent, rss_before_kib=before)
        log(f"RSS after warm-up ({warm_sent:,} requests): {_mb(before):.1f} MB; now {requests:,} requests")

        trace = []
        sent = 0
        started = time.monotonic()
        for sent, result in _load(target.url, requests, warm_sent, rate, connections):
            rss = rss_kib(target.pid)
            trace.append((sent, rss))
            log(f"  {sent:>10,} requests  {result.rps:8.0f} req/s  RSS {_mb(rss):7.1f} MB  "
                f"({_mb(rss - before):+.1f} MB)")
        elapsed = time.monotonic() - started
        time.sleep(1.0)
        after = rss_kib(target.pid)
        process_status = proc_status(target.pid)
        results.update(requests=sent, seconds=elapsed, rss_after_kib=after, growth_kib=after - before,
                       hwm_kib=int(process_status["VmHWM"].split()[0]), trace=trace,
                       met=_mb(after - before) < GOAL_MB)

        results["extra"] = []
        base = after
        extras: tuple[tuple[str, int, Callable[[int], str], int], ...] = (
                ("misses (404 + near-miss diagnostics)", misses, lambda n: f"{MISS}/{n}", 404),
                ("unknown /items/<id> (all 5,000 /items examples tie under ID stripping)", unknown_ids,
                 lambda n: f"/items/{100_000 + n}", 200))
        for label, count, make_url, status in extras:
            if not count:
                continue
            log(f"information: {count} {label}, one at a time")
            started = time.monotonic()
            for n in range(count):
                code, _, _ = fetch(target.url + make_url(n), timeout=120)
                assert code == status, (code, make_url(n))
            each = (time.monotonic() - started) / count
            time.sleep(1.0)
            rss = rss_kib(target.pid)
            results["extra"].append({"label": label, "count": count, "rss_after_kib": rss,
                                     "growth_kib": rss - base, "seconds_each": each})
            log(f"  RSS {_mb(rss):.1f} MB ({_mb(rss - base):+.1f} MB, {each * 1000:.0f} ms each)")
            base = rss
        # the server's own count, asked last: the admin API loads Quart into the process
        _, _, body = fetch(target.url + "/__postmock/health")
        results["server_health"] = json.loads(body)
    finally:
        stop_all([target])
    return results


def report(results: dict[str, Any], out: Callable[[str], None] = print) -> None:
    out(f"machine: {results['machine']}")
    out(f"mock with {results['examples']:,} examples; "
        f"wrk -t1 -c{results['connections']} with benchmarks/memory_mix.lua")
    out(f"RSS after start          {_mb(results['rss_start_kib']):8.1f} MB")
    out(f"RSS after warm-up        {_mb(results['rss_before_kib']):8.1f} MB  ({results['warmup_requests']:,} requests)")
    out(f"RSS after {results['requests']:>11,} more {_mb(results['rss_after_kib']):6.1f} MB  "
        f"(in {results['seconds']:.0f} s; peak VmHWM {_mb(results['hwm_kib']):.1f} MB)")
    out(f"growth                   {_mb(results['growth_kib']):+8.1f} MB  "
        f"(goal < {results['goal_mb']:.0f} MB: {'MET' if results['met'] else 'MISSED'})")
    health = results.get("server_health", {})
    out(f"server counted {health.get('requests', '?'):,} requests, {health.get('misses', '?')} misses, "
        f"{health.get('errors', '?')} errors")
    for extra in results.get("extra", []):
        out(f"information: {extra['count']} {extra['label']} then added {_mb(extra['growth_kib']):+.1f} MB "
            f"({_mb(extra['growth_kib']) / extra['count']:.2f} MB and {extra['seconds_each'] * 1000:.0f} ms each)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="RSS of the mock before and after N requests")
    parser.add_argument("--requests", type=int, default=1_000_000, help="requests after warm-up (default 1,000,000)")
    parser.add_argument("--warmup", type=int, default=100_000, help="warm-up requests (default 100,000)")
    parser.add_argument("--examples", type=int, default=10_000, help="collection size (default 10,000)")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (default 32)")
    parser.add_argument("--misses", type=int, default=10, help="misses sent afterwards, for information (default 10)")
    parser.add_argument("--unknown-ids", type=int, default=10,
                        help="requests for unknown /items/<id> sent afterwards, for information (default 10)")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    results = run(args.requests, args.warmup, args.examples, args.connections, args.misses, args.unknown_ids)
    print()
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
