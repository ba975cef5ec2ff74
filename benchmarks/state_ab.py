"""Shared state's cost: ``postmock serve`` in memory against ``--state redis://…``, and ``--workers 1``
against ``--workers 2`` with ``--state``; req/s and p99 from interleaved ``wrk`` runs.

    .venv/bin/python benchmarks/state_ab.py [--rounds 5] [--seconds 3] [--connections 32] [--server granian]
                                            [--requests static,scenario,resource] [--no-workers] [--memory-only]
                                            [--json FILE] [--hiredis DIR]

Writes one collection to a temporary folder (built with :class:`~postmock_nb.session.Session`, saved as
``%mock save`` would) holding the three requests measured:

* ``static``    ``GET /static``: a plain example (no scenario, sequence or resource: no Redis round trip);
* ``scenario``  ``GET /job``: two examples of the scenario ``job``, each request moves it on
  (Started → polled → Started): a read and a write of the scenario's state per request;
* ``resource``  ``POST /todos`` (201): a record added to the resource ``todos`` (its id handed out).

Starts a ``redis-server`` on a free loopback port (no persistence; stopped by its PID) and ``postmock serve``
processes of that collection on ``--port 0`` (each stopped by its PID, its ``--workers`` with it):

1. memory vs Redis: ``postmock serve FILE`` and ``postmock serve FILE --state redis://…/1``, one process each,
   pinned to CPU 0 (``taskset``) as :mod:`harness` pins servers; ``wrk`` and redis-server on CPU 1.
2. ``--workers 1`` vs ``--workers 2``, both with ``--state`` (Redis databases 2 and 3): nothing pinned, so two
   workers may use both cores of a 2-core machine (which they share with wrk and Redis: say so with the figures).

Each round runs every request against every target of a section once, alternating which target goes first (the
machine's noise falls on both alike); the table has the medians over the rounds of req/s and p99 and the median
of the per-round ratios. Before the rounds each target answers each request once with the expected status (a 503
``stateUnavailable`` stops the run). After them, the keys each store left in Redis are counted
(``postmock:{prefix}:flows…``, ``res…``, ``journal…``): a store that is not (yet) on Redis leaves none, so its
``--state`` figures are in-memory figures. ``--memory-only`` runs the memory target of section 1 alone (no Redis).
``--hiredis DIR`` (``pip install --target DIR hiredis``; this venv without it: the team extra brings it, so
``pip uninstall hiredis`` first) replaces both sections by one: ``--state redis`` without hiredis against the same
with ``PYTHONPATH=DIR`` (redis-py then parses replies with hiredis), one process each pinned as in section 1.
Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

import harness  # noqa: E402
from harness import SERVING, require_tools  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
PREFIX = "bench"
TODO = json.dumps({"title": "measure the shared state", "done": False})


@dataclass(frozen=True)
class Request:
    """One kind of request measured: what ``wrk`` sends and the status it must get."""

    name: str
    method: str
    path: str
    status: int
    body: str = ""

    def wrk_script(self, folder: Path) -> str | None:
        """A wrk Lua script sending this request's method and body (None for a plain GET)."""
        if self.method == "GET":
            return None
        script = folder / f"{self.name}.lua"
        script.write_text(f'wrk.method = "{self.method}"\nwrk.body = {json.dumps(self.body)}\n'
                          'wrk.headers["Content-Type"] = "application/json"\n', encoding="utf-8")
        return str(script)


REQUESTS = (
    Request("static", "GET", "/static", 200),
    Request("scenario", "GET", "/job", 200),
    Request("resource", "POST", "/todos", 201, TODO),
)


def write_collection(path: Path, max_records: int) -> Path:
    """The benchmark's collection: a static example, a two-step scenario and a resource."""
    from postmock_nb.notebook.prototype import Prototype  # deferred: the package is imported only when run
    from postmock_nb.session import Session  # deferred: as above

    session = Session()
    session.define("GET /static", '{"ok": true}', name="static")
    session.define("GET /job", '{"state": "pending"}', name="job pending",
                   request_headers=["x-mock-scenario: job; requires=Started; next=polled"])
    session.define("GET /job", '{"state": "done"}', name="job done",
                   request_headers=["x-mock-scenario: job; requires=polled; next=Started"])
    Prototype(session).resource("todos", [], max_records=max_records, max_bytes="1GB")
    saved = session.save(path)
    session.close()
    return saved


@dataclass
class Serve:
    """One ``postmock serve`` process (with its workers): started on a free port, stopped by its PID."""

    name: str
    options: list[str]
    pinned: bool
    env: dict[str, str] = field(default_factory=dict)
    """Added to the server's environment (``--hiredis``: PYTHONPATH to where hiredis is installed)."""
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    log: Path = field(default_factory=Path)

    def start(self, collection: Path, server: str, folder: Path) -> Serve:
        command = [sys.executable, "-m", "postmock_nb.cli", "serve", str(collection), "--port", "0",
                   "--server", server, *self.options]
        if self.pinned:  # taskset execs python in place: the PID held is the server's own
            command = ["taskset", "-c", harness.SERVER_CPU, *command]
        self.log = folder / f"{self.name}.log"
        with self.log.open("wb") as out:  # a file, not a pipe: nothing the server prints can block it
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=folder,
                                            start_new_session=True, env={**os.environ, **self.env})
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.url:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not serve: {self.log.read_text(errors='replace')[-2000:]}")
            found = [SERVING.match(line.strip()) for line in self.log.read_text(errors="replace").splitlines()]
            self.url = next((match.group(1) for match in found if match), "")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """SIGTERM by PID (postmock serve stops its workers), then SIGKILL of its process group if it lingers."""
        process = self.process
        if process is None:
            return
        try:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: workers left behind, if any
            process.wait(5)


def probe(url: str, request: Request) -> tuple[int, str]:
    """One request (no proxy, a fresh connection): the status and the start of the body."""
    host, _, port = url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if request.body else {}
        connection.request(request.method, request.path, body=request.body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()[:300].decode(errors="replace")
    finally:
        connection.close()


def check(target: Serve, requests: list[Request]) -> None:
    for request in requests:
        status, body = probe(target.url, request)
        if status != request.status:
            raise SystemExit(f"{target.name}: {request.method} {request.path} answered {status}, "
                             f"expected {request.status}: {body}")


def p99_ms(text: str) -> float:
    """wrk's latency figure (``850.00us``, ``1.23ms``, ``1.02s``, ``1.50m``) in milliseconds."""
    for unit, factor in (("us", 1e-3), ("ms", 1.0), ("s", 1e3), ("m", 6e4)):
        if text.endswith(unit) and text[:-len(unit)].replace(".", "", 1).isdigit():
            return float(text[:-len(unit)]) * factor
    return float("nan")


@dataclass
class Figures:
    """What the rounds measured of one target and one request."""

    rps: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    non_2xx: int = 0
    errors: list[str] = field(default_factory=list)


def load(url: str, request: Request, folder: Path, *, seconds: int, connections: int, pinned: bool,
         threads: int = 1) -> Any:
    """One bounded wrk run (``threads``: wrk -t): on the load core when ``pinned``, else on any core."""
    saved = harness.LOAD_CPU
    harness.LOAD_CPU = harness.LOAD_CPU if pinned else f"0-{(os.cpu_count() or 2) - 1}"
    try:
        return harness.wrk(url + request.path, seconds=seconds, connections=connections, threads=threads,
                           script=request.wrk_script(folder))
    finally:
        harness.LOAD_CPU = saved


def rounds(pair: tuple[Serve, Serve], requests: list[Request], folder: Path, *, count: int, seconds: int,
           connections: int, pinned: bool) -> dict[tuple[str, str], Figures]:
    """``count`` rounds of every request against both targets, alternating which goes first."""
    figures = {(target.name, request.name): Figures() for target in pair for request in requests}
    for target in pair:  # warm: imports, caches, the Redis connection pool
        for request in requests:
            load(target.url, request, folder, seconds=1, connections=connections, pinned=pinned)
    for round_no in range(count):
        for request in requests:
            for target in (pair if round_no % 2 == 0 else pair[::-1]):
                result = load(target.url, request, folder, seconds=seconds, connections=connections, pinned=pinned)
                got = figures[(target.name, request.name)]
                got.rps.append(result.rps)
                got.p99.append(p99_ms(result.latency_p99))
                got.non_2xx += result.non_2xx
                if result.socket_errors:
                    got.errors.append(result.socket_errors)
        print(f"  round {round_no + 1}/{count} done", file=sys.stderr, flush=True)
    return figures


def table(pair: tuple[Serve, Serve], requests: list[Request], figures: dict[tuple[str, str], Figures]) -> list[str]:
    a, b = pair[0].name, pair[1].name
    lines = [f"| request | {a} req/s | {b} req/s | {b}/{a} (median of rounds) | {a} p99 ms | {b} p99 ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for request in requests:
        first, second = figures[(a, request.name)], figures[(b, request.name)]
        ratio = harness.round_ratio(second.rps, first.rps)
        lines.append(f"| {request.name} ({request.method} {request.path}) | {statistics.median(first.rps):.0f} | "
                     f"{statistics.median(second.rps):.0f} | {ratio:.3f} | {statistics.median(first.p99):.2f} | "
                     f"{statistics.median(second.p99):.2f} |")
    for (target, request_name), got in figures.items():
        if got.non_2xx or got.errors:
            lines.append(f"WARNING {target} {request_name}: {got.non_2xx} non-2xx answers, socket errors "
                         f"{'; '.join(got.errors) or 'none'} (see the server's log)")
    return lines


def redis_keys(url: str) -> dict[str, int]:
    """How many keys each store left under ``postmock:{PREFIX}:`` in the database of ``url``."""
    import redis  # deferred: the team extra, needed only with --state

    client = redis.Redis.from_url(url)
    try:
        counts: dict[str, int] = {}
        for key in client.scan_iter(match=f"postmock:{PREFIX}:*", count=1000):
            store = key.decode(errors="replace").split(":")[2]
            counts[store] = counts.get(store, 0) + 1
        return counts
    finally:
        client.close()


def section(title: str, pair: tuple[Serve, Serve], requests: list[Request], args: argparse.Namespace,
            folder: Path, collection: Path, *, pinned: bool, redis_urls: list[str]) -> dict[str, Any]:
    print(f"== {title} ==", file=sys.stderr, flush=True)
    try:
        for target in pair:
            target.start(collection, args.server, folder)
            check(target, requests)
        figures = rounds(pair, requests, folder, count=args.rounds, seconds=args.seconds,
                         connections=args.connections, pinned=pinned)
    finally:
        for target in pair:
            target.stop()
    lines = table(pair, requests, figures)
    keys = {url: redis_keys(url) for url in redis_urls}
    return {"title": title, "lines": lines, "keys": keys,
            "figures": {f"{t}/{r}": vars(f) for (t, r), f in figures.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="postmock serve in memory vs --state redis://, and --workers 1 vs 2")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3, help="wrk -d per run")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c")
    parser.add_argument("--server", default="granian", help="postmock serve --server (the Docker image's: granian)")
    parser.add_argument("--requests", default=",".join(r.name for r in REQUESTS),
                        help="which of static, scenario, resource")
    parser.add_argument("--no-workers", action="store_true", help="leave out --workers 1 vs 2")
    parser.add_argument("--memory-only", action="store_true",
                        help="only the in-memory target of section 1 against itself (no Redis: a dry run)")
    parser.add_argument("--max-records", type=int, default=2_000_000, help="the resource's limit (POSTs add records)")
    parser.add_argument("--json", help="write every figure as JSON to this file")
    parser.add_argument("--hiredis", metavar="DIR",
                        help="only --state redis without hiredis vs with it (hiredis installed in DIR, not the venv)")
    args = parser.parse_args(argv)
    require_tools()
    chosen = [r for r in REQUESTS if r.name in {name.strip() for name in args.requests.split(",")}]
    if not chosen:
        parser.error(f"--requests: choose among {', '.join(r.name for r in REQUESTS)}")
    results = []
    with tempfile.TemporaryDirectory(prefix="state_ab_") as tmp:
        folder = Path(tmp)
        collection = write_collection(folder / "bench.postman_collection.json", args.max_records)
        if args.memory_only:
            pair = (Serve("memory", [], pinned=True), Serve("memory-again", [], pinned=True))
            results.append(section("memory vs memory (a dry run: no Redis)", pair, chosen, args, folder, collection,
                                   pinned=True, redis_urls=[]))
        else:
            results += with_redis(args, chosen, folder, collection)
    print(f"{harness.machine_line()}; postmock serve --server {args.server}; wrk -t1 -c{args.connections} "
          f"-d{args.seconds}s; {args.rounds} rounds")
    for result in results:
        print(f"\n{result['title']}")
        print("\n".join(result["lines"]))
        for url, counts in result["keys"].items():
            shown = ", ".join(f"{store} {count}" for store, count in sorted(counts.items())) or "none"
            print(f"keys left in Redis db {url.rsplit('/', 1)[1]} by store (flows, res, journal, ...): {shown}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def with_redis(args: argparse.Namespace, chosen: list[Request], folder: Path, collection: Path) -> list[Any]:
    """Sections 1 and 2, around one redis-server (stopped by its PID)."""
    if importlib.util.find_spec("redis") is None:
        raise SystemExit('--state needs the team extra: pip install -e ".[team]" (or run with --memory-only)')
    redis_server = RedisServer(folder / "redis").start()
    try:
        os.sched_setaffinity(redis_server.process.pid if redis_server.process else 0, {int(harness.LOAD_CPU)})
        state = [redis_server.db_url(n) for n in (1, 2, 3)]
        options = ["--state-prefix", PREFIX]
        if args.hiredis:
            return [hiredis_section(args, chosen, folder, collection, state[:2], options)]
        pair = (Serve("memory", [], pinned=True), Serve("redis", ["--state", state[0], *options], pinned=True))
        results = [section("1. memory vs --state redis (one process each, on CPU 0; wrk and Redis on CPU 1)", pair,
                           chosen, args, folder, collection, pinned=True, redis_urls=state[:1])]
        if not args.no_workers:
            if redis_server.process:
                os.sched_setaffinity(redis_server.process.pid, set(range(os.cpu_count() or 2)))
            pair = (Serve("workers-1", ["--state", state[1], *options, "--workers", "1"], pinned=False),
                    Serve("workers-2", ["--state", state[2], *options, "--workers", "2"], pinned=False))
            results.append(section("2. --workers 1 vs --workers 2, both --state redis (nothing pinned: the servers, "
                                   "wrk and Redis share every core)", pair, chosen, args, folder, collection,
                                   pinned=False, redis_urls=state[1:]))
        return results
    finally:
        redis_server.stop()


def hiredis_available(env: dict[str, str]) -> bool:
    """Whether redis-py, run with ``env`` added, parses with hiredis."""
    found = subprocess.run([sys.executable, "-c", "from redis.utils import HIREDIS_AVAILABLE as h; print(h)"],
                           env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return found.stdout.strip() == "True"


def hiredis_section(args: argparse.Namespace, chosen: list[Request], folder: Path, collection: Path,
                    state: list[str], options: list[str]) -> dict[str, Any]:
    """``--state`` without hiredis (this venv must not have it) vs with it (``PYTHONPATH=--hiredis``)."""
    with_it = {"PYTHONPATH": str(Path(args.hiredis).resolve())}
    if hiredis_available({}) or not hiredis_available(with_it):
        raise SystemExit(f"--hiredis: this venv must lack hiredis and {args.hiredis} must hold it "
                         f"(pip install --target {args.hiredis} hiredis)")
    pair = (Serve("redis", ["--state", state[0], *options], pinned=True),
            Serve("hiredis", ["--state", state[1], *options], pinned=True, env=with_it))
    return section("--state redis without vs with hiredis (one process each, on CPU 0; wrk and Redis on CPU 1)",
                   pair, chosen, args, folder, collection, pinned=True, redis_urls=state)


if __name__ == "__main__":
    sys.exit(main())
