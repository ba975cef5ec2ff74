"""Throughput: the mock against a Quart hello world, and 10,000 examples against 1.

    .venv/bin/python benchmarks/throughput.py [--seconds 5] [--reps 7] [--connections 32] [--json out.json]

Three servers are started, each pinned to CPU 0 (``taskset -c 0``), all on Hypercorn with
the same config in one process each (see ``serve_target.py``):

* ``quart-hello``  a Quart hello world,
* ``mock-1``       the mock with 1 example,
* ``mock-10000``   the mock with the adversarial 10,000-example collection (``workload.py``).

``wrk`` runs on CPU 1 (``taskset -c 1 wrk -t1 -c32 -d5s``) against one server at a time;
each repetition runs every target once, in a rotated order, and the figure kept is the
median over repetitions. The request is ``GET /items/2500`` for all three (an exact path of
the 10k collection that collides with 4,999 others once IDs are stripped).

Ratios (goals from the issue):

1. mock-1 / quart-hello          goal >= 1.5
2. mock-10000 / mock-1           goal >= 0.9

Beside req/s, each run reads the server's CPU time (user + system, ``/proc/<pid>/stat``)
before and after: server CPU-µs per request, and the ratios of those, move less than req/s
when other processes share the machine, so they are printed as a cross-check.

Then, for information only, other requests to the 10k mock: a path-variable hit, a hit among
examples differing by query, an unknown ID under ``/items/`` (scored against the 5,000
colliding examples) and a miss (404 with near-miss diagnostics).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    Target,
    cpu_seconds,
    fetch,
    machine_line,
    median,
    mock_target,
    quart_target,
    require_tools,
    stop_all,
    wrk,
)
from workload import MISS, PATH_VARIABLE_HIT, PRIMARY, QUERY_HIT  # noqa: E402

GOAL_VS_QUART = 1.5
GOAL_10K_VS_1 = 0.9
BIG = 10_000

# (label, path, expected status, expected x-mock-example-name)
INFO_REQUESTS = [
    ("path variable hit", PATH_VARIABLE_HIT, 200, "res0042 one 200"),
    ("query hit", QUERY_HIT, 200, "search0042 term2"),
    ("unknown /items/ ID (5,000 colliding)", "/items/7777", 200, "item 1"),
    ("miss (404 + diagnostics)", MISS, 404, None),
]


def _check(target: Target, path: str, status: int, example: str | None) -> None:
    got, headers, body = fetch(target.url + path)
    if got != status or headers.get("x-mock-example-name") != example:
        raise RuntimeError(f"{target.name} {path}: expected {status} {example!r}, got {got} "
                           f"{headers.get('x-mock-example-name')!r}: {body[:200]!r}")


def run(seconds: int = 5, reps: int = 7, connections: int = 32, info_reps: int = 3, big: int = BIG,
        info: bool = True, log: Callable[[str], None] = print) -> dict[str, Any]:
    require_tools()
    quart, small, large = quart_target(), mock_target(1), mock_target(big)
    targets = [quart, small, large]
    results: dict[str, Any] = {"machine": machine_line(), "seconds": seconds, "reps": reps, "connections": connections,
                     "request": f"GET {PRIMARY}", "targets": {}, "info": {}}
    try:
        for target in targets:
            target.start()
            log(f"started {target.name}: {target.ready_line}")
        status, _, body = fetch(quart.url + PRIMARY)
        assert status == 200 and body == b"Hello, World!", (status, body)
        for target in (small, large):
            _check(target, PRIMARY, 200, "item 2500")
        for _, path, status, example in INFO_REQUESTS:
            _check(large, path, status, example)

        log("warm-up: 2 s of wrk per target")
        for target in targets:
            wrk(target.url + PRIMARY, seconds=2, connections=connections)

        runs: dict[str, list[float]] = {t.name: [] for t in targets}
        cpu: dict[str, list[float]] = {t.name: [] for t in targets}
        for rep in range(reps):
            order = targets[rep % 3:] + targets[:rep % 3]
            for target in order:
                before = cpu_seconds(target.pid)
                result = wrk(target.url + PRIMARY, seconds=seconds, connections=connections)
                cpu_us = (cpu_seconds(target.pid) - before) / result.requests * 1e6
                if result.non_2xx or result.socket_errors:
                    raise RuntimeError(f"{target.name}: {result.non_2xx} non-2xx, socket errors {result.socket_errors}")
                runs[target.name].append(result.rps)
                cpu[target.name].append(cpu_us)
                log(f"  rep {rep + 1}/{reps} {target.name:<12} {result.rps:10.1f} req/s  {cpu_us:6.1f} CPU-us/req  "
                    f"(latency avg {result.latency_avg}, p99 {result.latency_p99})")
        for target in targets:
            results["targets"][target.name] = {"median_rps": median(runs[target.name]), "runs": runs[target.name],
                                               "median_cpu_us": median(cpu[target.name]), "cpu_us": cpu[target.name],
                                               "pid": target.pid, "ready": target.ready_line}
        q, s, big_rps = (median(runs[t.name]) for t in targets)
        cq, cs, cl = (median(cpu[t.name]) for t in targets)
        paired_vs_quart = [a / b for a, b in zip(runs[small.name], runs[quart.name], strict=True)]
        paired_big = [a / b for a, b in zip(runs[large.name], runs[small.name], strict=True)]
        results["ratios"] = {
            "mock_vs_quart": {"value": s / q, "goal": GOAL_VS_QUART, "met": s / q >= GOAL_VS_QUART,
                              "paired_min": min(paired_vs_quart), "paired_max": max(paired_vs_quart)},
            "mock10k_vs_quart": {"value": big_rps / q},
            "cpu_mock_vs_quart": {"value": cq / cs},
            "cpu_mock10k_vs_mock1": {"value": cs / cl},
            "mock10k_vs_mock1": {"value": big_rps / s, "goal": GOAL_10K_VS_1, "met": big_rps / s >= GOAL_10K_VS_1,
                                 "paired_min": min(paired_big), "paired_max": max(paired_big)},
        }

        if info:
            log(f"information: other requests to {large.name} ({info_reps} x {seconds} s each)")
            for label, path, status, _ in INFO_REQUESTS:
                rates = []
                for _ in range(max(1, info_reps)):
                    last = wrk(large.url + path, seconds=seconds, connections=connections, timeout_s=30)
                    rates.append(last.rps)
                results["info"][label] = {"path": path, "status": status, "median_rps": median(rates),
                                          "runs": rates, "latency_avg": last.latency_avg,
                                          "ratio_vs_primary": median(rates) / big_rps}
                log(f"  {label:<38} {median(rates):10.1f} req/s  (latency avg {last.latency_avg})")
    finally:
        stop_all(targets)
    return results


def report(results: dict[str, Any], out: Callable[[str], None] = print) -> None:
    out(f"machine: {results['machine']}")
    out(f"wrk -t1 -c{results['connections']} -d{results['seconds']}s, {results['reps']} repetitions, "
        f"median; request {results['request']}")
    out(f"{'target':<14}{'median req/s':>14}{'CPU-us/req':>12}   runs (req/s)")
    for name, data in results["targets"].items():
        out(f"{name:<14}{data['median_rps']:>14.1f}{data['median_cpu_us']:>12.1f}   "
            + " ".join(f"{r:.0f}" for r in data["runs"]))
    r = results["ratios"]
    for key, cpu_key, label in (("mock_vs_quart", "cpu_mock_vs_quart", "mock-1 / quart-hello"),
                                ("mock10k_vs_mock1", "cpu_mock10k_vs_mock1", "mock-10000 / mock-1")):
        data = r[key]
        out(f"{label:<26} {data['value']:.2f}x  (goal >= {data['goal']}x: {'MET' if data['met'] else 'MISSED'}; "
            f"per-repetition {data['paired_min']:.2f}-{data['paired_max']:.2f}x; "
            f"by server CPU per request {r[cpu_key]['value']:.2f}x)")
    out(f"{'mock-10000 / quart-hello':<26} {r['mock10k_vs_quart']['value']:.2f}x")
    if results["info"]:
        out("information (10k mock):")
        for label, data in results["info"].items():
            out(f"  {label:<38} {data['median_rps']:>10.1f} req/s  {data['ratio_vs_primary']:.3f}x of the main request"
                f"  (GET {data['path']} -> {data['status']}, latency avg {data['latency_avg']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mock vs Quart hello world, and 10k vs 1 example")
    parser.add_argument("--seconds", type=int, default=5, help="wrk -d per run (default 5)")
    parser.add_argument("--reps", type=int, default=7, help="repetitions per target (default 7)")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (default 32)")
    parser.add_argument("--info-reps", type=int, default=3, help="repetitions of the information rows (default 3)")
    parser.add_argument("--no-info", action="store_true", help="skip the information rows")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    results = run(args.seconds, args.reps, args.connections, args.info_reps, info=not args.no_info)
    print()
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
