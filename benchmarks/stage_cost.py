"""Where the app's own µs per request go, stage by stage: :mod:`app_cost`'s loop under cProfile.

    .venv/bin/python benchmarks/stage_cost.py [--requests 20000] [--rounds 5] [--headers 12]
                                              [--examples 1] [--path /items/2500]

First measures the app's µs per request without the profiler (as :mod:`app_cost` does: median of
``--rounds``), then runs the same loop once under cProfile and splits the profiled time of a
request among the calls the mock's request handler makes (its stages: header decoding, read,
select, answer, log, send…) and its own time. cProfile slows every Python call down several-fold
(C builtins less), so each stage's share of the profiled time is applied to the unprofiled figure:
"µs" below is that share of the real cost, an estimate to compare one profile with another
(before/after a cut), not a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_cost import _per_request_us, scope_for  # noqa: E402
from harness import machine_line, median  # noqa: E402
from workload import PRIMARY, build_collection  # noqa: E402

from postmock_nb.config import MockConfig  # noqa: E402
from postmock_nb.matching.store import LiveCollection  # noqa: E402
from postmock_nb.serving.build import assemble  # noqa: E402

HANDLER = "serve_mock"
"""The app's handler of a mock request: its callees are the stages."""

Function = tuple[str, int, str]


def _label(function: Function) -> str:
    filename, line, name = function
    if filename == "~":
        return name
    return f"{name} ({'/'.join(Path(filename).parts[-2:])}:{line})"


def stages(stats: pstats.Stats) -> tuple[float, dict[str, float]]:
    """The profiled seconds of the whole handler, and of each callee of it (its own time as ``(own)``)."""
    table: dict[Function, Any] = stats.stats  # type: ignore[attr-defined]
    handler = next(function for function in table if function[2] == HANDLER)
    _, _, own, total, _ = table[handler]
    split: dict[str, float] = {"(own time of serve_mock)": own}
    for function, (_, _, _, _, callers) in table.items():
        if handler in callers:
            split[_label(function)] = callers[handler][3]  # cumulative time of the calls serve_mock made
    caller = next((function for function in table if function[2] == "__call__"
                   and function[0].endswith("app.py")), None)
    if caller is not None:  # the dispatch into serve_mock (scope type, admin prefix)
        split["(MockApp.__call__ around it)"] = table[caller][2]
        total += table[caller][2]
    return total, split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the app's µs per request, split by stage (cProfile shares)")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--examples", type=int, default=1)
    parser.add_argument("--headers", type=int, default=12, help="request headers in the scope (a browser's: 12)")
    parser.add_argument("--path", default=PRIMARY)
    args = parser.parse_args(argv)
    scope = scope_for(args.path, args.headers)
    mock = assemble(store=LiveCollection(build_collection(args.examples)), config=MockConfig()).app
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_per_request_us(mock, scope, 2_000))
        real_us = median([loop.run_until_complete(_per_request_us(mock, scope, args.requests))
                          for _ in range(args.rounds)])
        profiler = cProfile.Profile()
        profiler.enable()
        loop.run_until_complete(_per_request_us(mock, scope, args.requests))
        profiler.disable()
    finally:
        loop.close()
    log_us = _log_entry_us(mock, scope, args.requests, args.rounds)
    total, split = stages(pstats.Stats(profiler))
    scale = real_us / (total / args.requests * 1e6)
    print(machine_line())
    print(f"GET {args.path}, {args.examples} examples, {len(scope['headers'])} request headers: "
          f"{real_us:.2f} µs per request unprofiled (median of {args.rounds} x {args.requests}); "
          f"profiled {total / args.requests * 1e6:.1f} µs")
    print(f"{'µs':>6} {'share':>6}  stage (a call serve_mock makes)")
    for name, seconds in sorted(split.items(), key=lambda item: item[1], reverse=True):
        share = seconds / total
        if share >= 0.005:
            print(f"{seconds / args.requests * 1e6 * scale:6.2f} {share:6.1%}  {name}")
    if log_us is not None:
        entry_us, kept_us = log_us
        print(f"the log entry, timed directly (medians of {args.rounds} x {args.requests}): the entry itself "
              f"(LogEntry.again) {entry_us:.2f} µs; made, numbered, counted and kept by the journal "
              f"(MockApp._log_ready) {kept_us:.2f} µs")
    return 0


def _log_entry_us(mock: Any, scope: dict[str, Any], requests: int, rounds: int) -> tuple[float, float] | None:
    """µs of one log entry as the fast path makes it: the entry alone, and the entry numbered, counted and kept by
    the journal; timed without the profiler. None when the request is not answered by the fast path (an older
    tree)."""
    ready_answers = getattr(mock, "ready", None)
    if ready_answers is None:
        return None
    line = (scope["method"], scope["path"], scope["query_string"])
    ready = ready_answers.find(mock.store.snapshot, line)
    if ready is None:
        return None
    entry_class, raw = type(mock.log.recent(1)[0]), scope["headers"]
    made, kept = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(requests):
            entry_class.again(ready.logged, 0.0, raw, 0.1)
        made.append((time.perf_counter() - started) / requests * 1e6)
        started = time.perf_counter()
        for _ in range(requests):
            mock._log_ready(ready, raw, started)
        kept.append((time.perf_counter() - started) / requests * 1e6)
    return median(made), median(kept)


if __name__ == "__main__":
    sys.exit(main())
