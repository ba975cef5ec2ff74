"""Across cores: ``postmock serve --workers 2`` against ``--workers 1`` (granian by default), in memory and with
``--state redis://…``, for a static example; req/s, p99, the scaling factor, and where the CPU went.

    .venv/bin/python benchmarks/workers_scaling.py [--rounds 5] [--seconds 3] [--connections 32] [--threads 1]
                                                   [--server granian] [--json FILE]

Writes :mod:`state_ab`'s collection and starts a ``redis-server`` on a free loopback port (no persistence) and four
``postmock serve`` processes of it on ``--port 0``: ``--workers 1`` and ``--workers 2`` in memory, and the same two
with ``--state`` (Redis databases 1 and 2). Each is stopped by its PID (its workers with it), Redis by its own.
Every run is ``wrk`` on ``GET /static``, a plain example: no Redis round trip (with ``--state``, the request log's
batched writes only).

**Nothing is pinned**: the mock's processes, ``wrk`` and ``redis-server`` share every core of the machine (on 2
cores, wrk takes its share of the same two cores the workers would use; the output says so). Each round runs every
target once, in an order rotated by one per round; the table has the medians over the rounds, and the scaling
factor is the median of the per-round ratios workers 2 / workers 1.

Where the CPU went during each run (user + system time, as a share of all the machine's cores): ``wrk`` (this
process's reaped children, read with ``getrusage``), the mock's processes (``/proc/PID/stat`` of the ``postmock
serve`` process and of each worker it forked, before and after), ``redis-server``, the rest of the machine
(``/proc/stat``: other processes, interrupts, a hypervisor's steal) and idle. wrk opens its connections at once
and each process of a ``--workers 2`` mock accepts what it can: a run where one process served (next to) nothing is
counted. Before the rounds, a ``--workers 2`` target none of whose 1 s warm-up runs (5 at the most) has both of its
processes answering stops the run. Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import harness  # noqa: E402
from harness import cpu_seconds, median, require_tools, round_ratio  # noqa: E402
from state_ab import PREFIX, REQUESTS, Serve, check, load, p99_ms, redis_keys, write_collection  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402

STATIC = next(request for request in REQUESTS if request.name == "static")
SIDES = ("mock", "wrk", "redis-server", "other", "idle")
"""Where a run's CPU went, each a share of all the machine's cores."""
BALANCED = 0.05
"""A worker doing less than this share of its mock's CPU under load is not answering."""
FULL = 0.10
"""Below this idle share of the cores, they are full: what wrk, Redis and the rest take, the mock cannot have."""


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (by their parent PIDs in /proc), parents first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):  # gone meanwhile
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        found.append(current)
        queue.extend(sorted(children.get(current, [])))
    return found


def machine_seconds() -> tuple[float, float]:
    """CPU seconds so far of every core together (``/proc/stat``): busy, and in all (busy + idle + iowait)."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:9]]  # user nice system idle iowait irq ...
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / tick, sum(fields) / tick


@dataclass(frozen=True)
class Clock:
    """CPU seconds so far: the mock's processes (the serve process first), wrk (reaped children), Redis, the
    machine (busy, in all)."""

    mock: tuple[float, ...]
    wrk: float
    redis: float
    busy: float
    total: float

    @classmethod
    def read(cls, pids: list[int], redis_pid: int | None) -> Clock:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, total = machine_seconds()
        return cls(tuple(cpu_seconds(pid) for pid in pids), children.ru_utime + children.ru_stime,
                   cpu_seconds(redis_pid) if redis_pid else 0.0, busy, total)


def shares(before: Clock, after: Clock) -> tuple[dict[str, float], list[float]]:
    """Each side's share of all the cores between two clocks (``SIDES``), and each mock process's."""
    total = after.total - before.total
    per_process = [(b - a) / total for a, b in zip(before.mock, after.mock, strict=True)]
    mock, wrk, redis = sum(per_process), (after.wrk - before.wrk) / total, (after.redis - before.redis) / total
    busy = (after.busy - before.busy) / total
    return ({"mock": mock, "wrk": wrk, "redis-server": redis, "other": max(0.0, busy - mock - wrk - redis),
             "idle": 1.0 - busy}, per_process)


@dataclass
class Target:
    """One ``postmock serve`` and what its runs measured."""

    serve: Serve
    workers: int
    state: bool
    pids: list[int] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    cpu: list[dict[str, float]] = field(default_factory=list)
    per_process: list[list[float]] = field(default_factory=list)
    mock_us: list[float] = field(default_factory=list)
    """The mock's CPU µs per request (all its processes)."""
    faults: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{'--state redis' if self.state else 'in memory'}, --workers {self.workers}"

    def run(self, args: argparse.Namespace, folder: Path, redis_pid: int | None, *, seconds: int) -> Any:
        """One wrk run on every core, and where the CPU went during it (kept, unless it is the warm-up)."""
        before = Clock.read(self.pids, redis_pid)
        result = load(self.serve.url, STATIC, folder, seconds=seconds, connections=args.connections, pinned=False,
                      threads=args.threads)
        after = Clock.read(self.pids, redis_pid)
        cpu, per_process = shares(before, after)
        return result, cpu, per_process, (after.total - before.total) * cpu["mock"] / max(result.requests, 1) * 1e6

    def keep(self, measured: Any) -> None:
        result, cpu, per_process, mock_us = measured
        self.rps.append(result.rps)
        self.p99.append(p99_ms(result.latency_p99))
        self.cpu.append(cpu)
        self.per_process.append(per_process)
        self.mock_us.append(mock_us)
        if result.non_2xx or result.socket_errors:
            self.faults.append(f"{result.non_2xx} non-2xx, socket errors {result.socket_errors or 'none'}")


def start(target: Target, collection: Path, args: argparse.Namespace, folder: Path) -> None:
    """Serve, check it answers, and find its processes: the serve process and the workers it forked."""
    target.serve.start(collection, args.server, folder)
    check(target.serve, [STATIC])
    assert target.serve.process is not None
    target.pids = descendants(target.serve.process.pid)
    if len(target.pids) != target.workers:
        raise SystemExit(f"{target.label}: {len(target.pids)} processes ({target.pids}), expected {target.workers}: "
                         f"{target.serve.log.read_text(errors='replace')[-2000:]}")


def idle_workers(per_process: list[float]) -> int:
    """How many of a run's mock processes took under ``BALANCED`` of the mock's CPU: served (next to) nothing."""
    return sum(share < BALANCED * sum(per_process) for share in per_process)


def warm(target: Target, args: argparse.Namespace, folder: Path, redis_pid: int | None, attempts: int = 5) -> None:
    """A second of load, repeated until each of the target's processes takes its part of one (wrk opens its
    connections at once, and one process may accept them all); none in ``attempts``: it is not answering."""
    for _ in range(attempts):
        _, _, per_process, _ = target.run(args, folder, redis_pid, seconds=1)
        if not idle_workers(per_process):
            return
    raise SystemExit(f"{target.label}: in {attempts} runs of 1 s, one of its processes {target.pids} never took "
                     f"{BALANCED:.0%} of the mock's CPU (last shares {', '.join(f'{x:.1%}' for x in per_process)}): "
                     "not answering")


def measure(targets: list[Target], args: argparse.Namespace, folder: Path, redis_pid: int | None) -> None:
    for target in targets:
        warm(target, args, folder, redis_pid)
    for round_no in range(args.rounds):
        shift = round_no % len(targets)
        for target in targets[shift:] + targets[:shift]:
            target.keep(target.run(args, folder, redis_pid, seconds=args.seconds))
        print(f"  round {round_no + 1}/{args.rounds} done", file=sys.stderr, flush=True)


def percent(value: float) -> str:
    return f"{100 * value:.0f} %"


def cpu_cell(target: Target, side: str) -> str:
    """The median share of one side; for the mock, its processes' too (the serve process first)."""
    cell = percent(median([cpu[side] for cpu in target.cpu]))
    if side == "mock" and target.workers > 1:
        split = [median([shares[n] for shares in target.per_process]) for n in range(target.workers)]
        cell += f" ({' + '.join(percent(share) for share in split)})"
    return cell


def table(targets: list[Target]) -> list[str]:
    cores = os.cpu_count() or 2
    lines = [f"{' | '.join(SIDES)}: where the CPU went, user + system time as a share of the {cores} cores (medians "
             "of the runs); mock: all its processes (2 workers: the serve process + the worker it forked); other: "
             "the rest of the machine (other processes, interrupts)", "",
             "| target | req/s | p99 ms | mock CPU µs/request | " + " | ".join(SIDES)
             + " |", "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in SIDES) + " |"]
    for target in targets:
        lines.append(f"| {target.label} | {median(target.rps):.0f} | {median(target.p99):.2f} | "
                     f"{median(target.mock_us):.1f} | " + " | ".join(cpu_cell(target, side) for side in SIDES) + " |")
    lines += ["", "| | workers 2 / workers 1, req/s (median of the per-round ratios) | p99 ms, workers 1 → 2 |",
              "| --- | ---: | --- |"]
    for one, two in pairs(targets):
        lines.append(f"| {'--state redis' if one.state else 'in memory'} | {round_ratio(two.rps, one.rps):.2f}x | "
                     f"{median(one.p99):.2f} → {median(two.p99):.2f} |")
    return lines


def pairs(targets: list[Target]) -> list[tuple[Target, Target]]:
    """(workers 1, workers 2) in memory, then with --state."""
    by_kind = {(target.state, target.workers): target for target in targets}
    return [(by_kind[(state, 1)], by_kind[(state, 2)]) for state in (False, True) if (state, 1) in by_kind]


def limits(one: Target, two: Target, threads: int) -> str:
    """What the figures say limits the scaling from ``one`` (1 worker) to ``two`` (2 workers)."""
    cores = os.cpu_count() or 2
    cpu = {side: median([run[side] for run in two.cpu]) for side in SIDES}
    said = [f"with 2 workers wrk took {percent(cpu['wrk'])} of the {cores} cores (its {threads} thread(s) busy "
            f"{percent(cpu['wrk'] * cores / threads)} of the time), redis-server {percent(cpu['redis-server'])}, "
            f"the rest of the machine {percent(cpu['other'])}, idle {percent(cpu['idle'])}; the mock's processes "
            f"{percent(cpu['mock'])}"]
    if cpu["wrk"] * cores / threads >= 0.9:
        said.append("wrk's thread is saturated: the load generator is the limit")
    if cpu["idle"] < FULL:
        said.append(f"the cores are full: the {percent(cpu['wrk'] + cpu['redis-server'] + cpu['other'])} that wrk, "
                    "Redis and the rest take is CPU the workers cannot have")
    busiest = median([max(shares) / max(sum(shares), 1e-9) for shares in two.per_process])
    lopsided = sum(bool(idle_workers(shares)) for shares in two.per_process)
    said.append(f"the busiest worker did {percent(busiest)} of the mock's work (median of the runs; 50 % is an even "
                f"split); in {lopsided} of {len(two.per_process)} runs one process served (next to) nothing "
                "(wrk's connections all went to the other)")
    said.append(f"the mock's CPU per request went from {median(one.mock_us):.1f} µs to {median(two.mock_us):.1f} µs")
    return "; ".join(said)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="postmock serve --workers 2 vs --workers 1, in memory and with "
                                                 "--state redis://, on every core (nothing pinned)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--seconds", type=int, default=3, help="wrk -d per run (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk -t (default 1)")
    parser.add_argument("--server", default="granian", help="postmock serve --server (default granian)")
    parser.add_argument("--json", help="write every figure as JSON to this file")
    args = parser.parse_args(argv)
    require_tools()
    with tempfile.TemporaryDirectory(prefix="workers_scaling_") as tmp:
        folder = Path(tmp)
        collection = write_collection(folder / "bench.postman_collection.json", max_records=1000)
        redis_server = RedisServer(folder / "redis").start()
        state = [redis_server.db_url(n) for n in (1, 2)]
        targets = [Target(Serve("memory-1", ["--workers", "1"], pinned=False), 1, False),
                   Target(Serve("memory-2", ["--workers", "2"], pinned=False), 2, False),
                   Target(Serve("state-1", ["--state", state[0], "--state-prefix", PREFIX, "--workers", "1"],
                                pinned=False), 1, True),
                   Target(Serve("state-2", ["--state", state[1], "--state-prefix", PREFIX, "--workers", "2"],
                                pinned=False), 2, True)]
        try:
            for target in targets:
                start(target, collection, args, folder)
            redis_pid = redis_server.process.pid if redis_server.process else None
            measure(targets, args, folder, redis_pid)
            keys = {url: redis_keys(url) for url in state}
        finally:
            for target in targets:
                target.serve.stop()
            redis_server.stop()
    report(targets, args, keys)
    if args.json:
        Path(args.json).write_text(json.dumps([{"label": t.label, "rps": t.rps, "p99_ms": t.p99, "cpu": t.cpu,
                                                "per_process": t.per_process, "mock_us": t.mock_us}
                                               for t in targets], indent=2), encoding="utf-8")
    return 0


def report(targets: list[Target], args: argparse.Namespace, keys: dict[str, dict[str, int]]) -> None:
    cores = os.cpu_count() or 2
    print(harness.machine_line(pinned=False))
    print(f"postmock serve --server {args.server}, GET {STATIC.path} (a plain example); wrk -t{args.threads} "
          f"-c{args.connections} -d{args.seconds}s; medians of {args.rounds} interleaved rounds. Nothing pinned: "
          f"wrk and redis-server run on the same {cores} cores as the workers")
    print()
    print("\n".join(table(targets)))
    print()
    for one, two in pairs(targets):
        print(f"what limits it ({'--state redis' if one.state else 'in memory'}): {limits(one, two, args.threads)}")
    for url, counts in keys.items():
        shown = ", ".join(f"{store} {count}" for store, count in sorted(counts.items())) or "none"
        print(f"keys left in Redis db {url.rsplit('/', 1)[1]} by store: {shown}")
    for target in targets:
        if target.faults:
            print(f"WARNING {target.label}: {'; '.join(target.faults)} (see the server's log)")


if __name__ == "__main__":
    sys.exit(main())
