"""Run every benchmark and print a summary table against the issue's goals.

    .venv/bin/python benchmarks/run_all.py            # full: 7 x 5 s per target, 1,000,000 requests for RSS
    .venv/bin/python benchmarks/run_all.py --quick    # a few minutes less: 3 x 3 s, 200,000 requests

Needs ``wrk`` and ``taskset`` and two CPUs (``make bench`` installs wrk). Every server is a
subprocess of this script, pinned to CPU 0 and stopped by its PID; wrk runs on CPU 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import memory  # noqa: E402
import throughput  # noqa: E402


def summary(tp: dict[str, Any], mem: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    r = tp["ratios"]
    rows = [
        ("(1) mock / Quart hello world, req/s", f"{r['mock_vs_quart']['value']:.2f}x",
         f">= {throughput.GOAL_VS_QUART}x", "MET" if r["mock_vs_quart"]["met"] else "MISSED"),
        ("(2) 10,000 examples / 1 example, req/s", f"{r['mock10k_vs_mock1']['value']:.2f}x",
         f">= {throughput.GOAL_10K_VS_1}x", "MET" if r["mock10k_vs_mock1"]["met"] else "MISSED"),
        (f"(3) RSS growth over {mem['requests']:,} requests", f"{mem['growth_kib'] / 1024:+.1f} MB",
         f"< {memory.GOAL_MB:.0f} MB", "MET" if mem["met"] else "MISSED"),
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="all benchmarks, with a summary")
    parser.add_argument("--quick", action="store_true", help="3 x 3 s per target and 200,000 requests for RSS")
    parser.add_argument("--seconds", type=int, help="wrk -d per throughput run (default 5, quick 3)")
    parser.add_argument("--reps", type=int, help="throughput repetitions per target (default 7, quick 3)")
    parser.add_argument("--requests", type=int, help="requests for the RSS run (default 1,000,000, quick 200,000)")
    parser.add_argument("--json", help="write every figure as JSON to this file")
    args = parser.parse_args(argv)
    seconds = args.seconds or (3 if args.quick else 5)
    reps = args.reps or (3 if args.quick else 7)
    requests = args.requests or (200_000 if args.quick else 1_000_000)

    started = time.monotonic()
    print("== throughput ==", flush=True)
    tp = throughput.run(seconds, reps, info_reps=2 if args.quick else 3)
    print()
    throughput.report(tp)
    print("\n== memory ==", flush=True)
    mem = memory.run(requests, warmup=min(100_000, requests // 5), misses=5 if args.quick else 10,
                     unknown_ids=5 if args.quick else 10)
    print()
    memory.report(mem)

    print(f"\n== summary ({time.monotonic() - started:.0f} s) ==")
    t = tp["targets"]
    print(f"quart-hello {t['quart-hello']['median_rps']:.0f} req/s, mock-1 {t['mock-1']['median_rps']:.0f} req/s, "
          f"mock-10000 {t['mock-10000']['median_rps']:.0f} req/s (medians of {reps} x {seconds} s, wrk -c32)")
    print(f"RSS {mem['rss_before_kib'] / 1024:.1f} MB after warm-up -> {mem['rss_after_kib'] / 1024:.1f} MB "
          f"after {mem['requests']:,} requests")
    rows = summary(tp, mem)
    width = max(len(row[0]) for row in rows)
    print(f"{'goal':<{width}}  {'measured':>10}  {'target':>8}  result")
    for goal, measured, target, result in rows:
        print(f"{goal:<{width}}  {measured:>10}  {target:>8}  {result}")
    if args.json:
        Path(args.json).write_text(json.dumps({"throughput": tp, "memory": mem}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
