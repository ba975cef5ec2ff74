"""A/B of postmock on real servers: an older checkout against this one, same server, interleaved wrk runs.

    git worktree add /work/wt/old 9923f22 && make -C /work/wt/old .venv/.installed-test
    .venv/bin/python benchmarks/servers_ab.py /work/wt/old [--servers hypercorn,uvicorn,granian]
                                              [--rounds 7] [--seconds 3] [--examples 1]

Starts ``serve_target.py mock`` of each checkout (the old one with its own ``.venv``, this one with
this interpreter) on each server, pinned to the server core as :mod:`harness` does, and runs
``wrk`` against them in rounds, alternating which checkout goes first; prints the median req/s of
each and the median of the per-round ratios new/old (machine noise falls on both alike: the floors
of :mod:`servers_bench`, run minutes apart, swing more than the difference looked for). Every
server is stopped by its PID.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from harness import Target, require_tools, stop_all, wrk  # noqa: E402
from workload import PRIMARY  # noqa: E402


def start(target: Target, python: str, benchmarks: Path) -> Target:
    """``target`` started with ``python`` and the ``serve_target.py`` of ``benchmarks``."""
    saved = sys.executable, harness.HERE
    sys.executable, harness.HERE = python, benchmarks
    try:
        return target.start()
    finally:
        sys.executable, harness.HERE = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="postmock of an older checkout against this one, per server")
    parser.add_argument("old", type=Path, help="the older checkout (with its own .venv)")
    parser.add_argument("--servers", default="hypercorn,uvicorn,granian")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=3, help="wrk -d per run")
    parser.add_argument("--examples", type=int, default=1)
    args = parser.parse_args(argv)
    require_tools()
    trees = {"old": (str(args.old.resolve() / ".venv" / "bin" / "python"), args.old.resolve() / "benchmarks"),
             "new": (sys.executable, harness.HERE)}
    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    targets: dict[tuple[str, str], Target] = {}
    try:
        for server in servers:
            for tree, (python, benchmarks) in trees.items():
                target = Target(f"{server}/{tree}", ["mock", "--examples", str(args.examples), "--server", server])
                targets[(server, tree)] = target
                start(target, python, benchmarks)
        for target in targets.values():
            wrk(target.url + PRIMARY, seconds=1)  # warm
        rps: dict[tuple[str, str], list[float]] = {key: [] for key in targets}
        for round_no in range(args.rounds):
            for server in servers:
                for tree in (("old", "new") if round_no % 2 == 0 else ("new", "old")):
                    rps[(server, tree)].append(wrk(targets[(server, tree)].url + PRIMARY, seconds=args.seconds).rps)
    finally:
        stop_all(list(targets.values()))
    print(f"mock-{args.examples}, GET {PRIMARY}, wrk -t1 -c32 -d{args.seconds}s, {args.rounds} rounds "
          f"(old = {args.old})")
    print("| server | old req/s | new req/s | new/old (median of rounds) |")
    print("| --- | ---: | ---: | ---: |")
    for server in servers:
        old, new = rps[(server, "old")], rps[(server, "new")]
        ratio = statistics.median([b / a for a, b in zip(old, new, strict=True)])
        print(f"| {server} | {statistics.median(old):.0f} | {statistics.median(new):.0f} | {ratio:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
