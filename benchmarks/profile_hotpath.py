"""Where a request's microseconds go: cProfile in the server's thread under wrk load.

    .venv/bin/python benchmarks/profile_hotpath.py [--server granian] [--target mock] [--examples 1]
                                                   [--seconds 5] [--top 30] [--save out.prof]

Starts ``serve_target.py TARGET --server SERVER --profile FILE`` pinned to CPU 0, drives it with
``wrk -t1 -c32`` on CPU 1 for ``--seconds``, stops it by its PID (the profile is written on the way
out) and prints the functions with the most own time, in microseconds per request. The profile sees
what runs on the server's event-loop thread: the app, and the server's Python part (all of
Hypercorn and h11; uvicorn's protocol and httptools callbacks; granian's Python glue; granian's Rust
threads are not seen). cProfile slows Python calls down several-fold, so compare profiles with
each other (before/after a change, one server with another), not with the req/s of a benchmark.
"""

from __future__ import annotations

import argparse
import io
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Target, fetch, require_tools, wrk  # noqa: E402
from workload import PRIMARY  # noqa: E402


def profile(server: str, target: str, examples: int, seconds: int, connections: int, path: Path) -> int:
    """Run the load against a profiled server; the number of requests served."""
    args = [target, "--server", server, "--profile", str(path)]
    if target == "mock":
        args += ["--examples", str(examples)]
    served = Target(f"{server}/{target}", args).start()
    try:
        status, _, _ = fetch(served.url + PRIMARY)
        assert status == 200, status
        result = wrk(served.url + PRIMARY, seconds=seconds, connections=connections)
    finally:
        served.stop()
    if not path.exists():
        raise RuntimeError(f"no profile written to {path}")
    return result.requests + 1


def report(path: Path, requests: int, top: int) -> str:
    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    out = io.StringIO()
    out.write(f"{requests} requests, {total / requests * 1e6:.1f} profiled µs per request on the server thread\n")
    out.write("(calls/req of a coroutine count its resumptions: serve_mock awaiting the body once shows 2)\n")
    out.write(f"{'own µs/req':>10} {'cum µs/req':>10} {'calls/req':>9}  function\n")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
    for (filename, line, name), (_, calls, own, cumulative, _) in rows[:top]:
        where = "/".join(Path(filename).parts[-2:]) if filename != "~" else ""
        out.write(f"{own / requests * 1e6:10.2f} {cumulative / requests * 1e6:10.2f} {calls / requests:9.2f}  "
                  f"{name} {where}:{line}\n")
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cProfile of the server thread under load")
    parser.add_argument("--server", default="granian", help="hypercorn, uvicorn or granian (default granian)")
    parser.add_argument("--target", default="mock", choices=("mock", "hello", "quart"))
    parser.add_argument("--examples", type=int, default=1, help="collection size for the mock (default 1)")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--save", help="keep the profile in this file (pstats format)")
    args = parser.parse_args(argv)
    require_tools()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(args.save) if args.save else Path(scratch) / "server.prof"
        requests = profile(args.server, args.target, args.examples, args.seconds, args.connections, path)
        print(f"{args.target} on {args.server}" + (f", {args.examples} examples" if args.target == "mock" else ""))
        print(report(path, requests, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
