"""What scenarios and sequences cost in MockApp, per request: this tree against an older commit (in memory), and
with ``--state URL`` also on Redis (the atomic decision: one script round trip a step).

    .venv/bin/python benchmarks/flows_ab.py [--commit main] [--rounds 200] [--state redis://127.0.0.1:6379/15]

The collection (built by each tree's own model): a 4-step scenario (GET /order), a cycle of four (GET /ticket) and a
static example (GET /ping) beside them, plus fillers. Interleaved rounds as in benchmarks/app_ab.py (whose
helpers this reuses); the Redis column is measured after, on the same loop (its database is emptied first).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from app_ab import (  # noqa: E402
    Scenario,
    _head,
    compare,
    extract_old,
    per_request_us,
    scope_of,
    statuses,
)
from app_cost import BROWSER_HEADERS  # noqa: E402

STEPS = [("Started", "placed"), ("placed", "paid"), ("paid", "shipped"), ("shipped", "Started")]
SCENARIOS = [Scenario("static beside flows", "/ping", BROWSER_HEADERS[:1]),
             Scenario("scenario step", "/order", BROWSER_HEADERS[:1]),
             Scenario("cycle sequence", "/ticket", BROWSER_HEADERS[:1])]


def collection(package: str, fillers: int) -> Any:
    """The benchmark's collection, made with ``package``'s model (``postmock_nb`` or the old tree's)."""
    model = importlib.import_module(f"{package}.core.model")

    def example(path: str, name: str, body: str, marks: dict[str, str]) -> Any:
        return model.Example(name=name, request=model.RequestSpec(method="GET", path=path,
                                                                   headers=tuple(marks.items())),
                             response=model.ResponseSpec(status=200, body=body))

    made = model.Collection(name="flows bench")
    examples = [example("/order", f"step {i}", json.dumps({"step": i}),
                        {"x-mock-scenario": f"order; requires={r}; next={n}"}) for i, (r, n) in enumerate(STEPS)]
    examples += [example("/ticket", f"ticket {i}", str(i), {"x-mock-sequence": "cycle"}) for i in range(4)]
    examples += [example("/ping", "ping", "pong", {})]
    examples += [example(f"/filler/{i}", f"filler {i}", "{}", {}) for i in range(fillers)]
    for one in examples:
        made = made.with_example(one)
    return made


def app_of(package: str, fillers: int, **config: Any) -> Any:
    store = importlib.import_module(f"{package}.matching.store").LiveCollection(collection(package, fillers))
    settings = importlib.import_module(f"{package}.config").MockConfig(**config)
    log = importlib.import_module(f"{package}.serving.requestlog").RequestLog(1000)
    return importlib.import_module(f"{package}.serving.build").assemble(store=store, config=settings, log=log).app


def redis_us(loop: asyncio.AbstractEventLoop, app: Any, scope: dict[str, Any], rounds: int, requests: int) -> float:
    """The median µs per request of ``app`` on Redis (wall clock: the round trip is the cost)."""
    figures = [loop.run_until_complete(per_request_us(app, scope, requests, time.perf_counter))
               for _ in range(rounds)]
    return statistics.median(figures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scenarios and sequences: this tree against an older commit")
    parser.add_argument("--commit", default="main", help="the older commit (default main)")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--batch-ms", type=float, default=10.0)
    parser.add_argument("--fillers", type=int, default=80, help="static examples beside the flows")
    parser.add_argument("--clock", choices=("perf", "thread"), default="thread")
    parser.add_argument("--state", help="a Redis URL (its database is emptied): adds the column on Redis")
    args = parser.parse_args(argv)
    clock = time.perf_counter if args.clock == "perf" else time.thread_time
    with tempfile.TemporaryDirectory(prefix="flows_ab_") as folder:
        root = Path(folder)
        extract_old(args.commit, root)
        sys.path.insert(0, str(root))
        apps = {"old": app_of("postmock_old", args.fillers), "new": app_of("postmock_nb", args.fillers)}
        shared = None
        if args.state:
            import redis  # deferred: only with --state

            with redis.Redis.from_url(args.state) as client:
                client.flushdb()
            shared = app_of("postmock_nb", args.fillers, state=args.state, state_prefix="bench")
        loop = asyncio.new_event_loop()
        try:
            print(f"old {args.commit} vs new {_head()}: {args.fillers} fillers, {args.rounds} interleaved rounds "
                  f"of about {args.batch_ms:g} ms per app, clock {args.clock}"
                  + ("; redis: wall clock, same loop" if shared is not None else ""))
            print(f"{'scenario':22} {'status':>6} {'requests':>8} {'old µs':>8} {'new µs':>8} {'new/old':>8}"
                  + (f" {'redis µs':>9}" if shared is not None else ""))
            for scenario in SCENARIOS:
                scope = scope_of(scenario)
                status = {name: statuses(loop, app, scope) for name, app in apps.items()}
                shown = str(status["new"]) if status["old"] == status["new"] else f"{status['old']}/{status['new']}"
                requests, old_us, new_us, ratio = compare(loop, apps, scope, rounds=args.rounds,
                                                          batch_ms=args.batch_ms, clock=clock)
                extra = (f" {redis_us(loop, shared, scope, max(20, args.rounds // 10), requests):9.1f}"
                         if shared is not None else "")
                print(f"{scenario.name:22} {shown:>6} {requests:8d} {old_us:8.2f} {new_us:8.2f} {ratio:8.3f}{extra}",
                      flush=True)
        finally:
            loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
