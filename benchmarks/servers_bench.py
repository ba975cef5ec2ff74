"""One run, every server: postmock on hypercorn/uvicorn/granian at 1, 1,000 and 10,000 examples, the
floors (a pure-ASGI hello and a Quart hello on each server) and the peers (WireMock standalone,
Mockoon's CLI), in interleaved rounds; medians of req/s, p50 and p99; the ratios, with issue 25's goals.

    bash benchmarks/setup_peers.sh                      # wrk, Java, WireMock and Mockoon (once)
    .venv/bin/python benchmarks/servers_bench.py [--quick] [--seconds 5] [--rounds 7] [--json out.json]
                                                 [--servers hypercorn,granian] [--no-peers] [--write-readme]
                                                 [--wiremock-warm 30]

Every server process is pinned to CPU 0 (``taskset -c 0``), ``wrk -t1 -c32`` runs on CPU 1. All
targets are started first and stay up; each round runs every target once, in an order rotated
by one each round, so a noisy minute hits every target alike; the figure kept is the median over
rounds. Every ratio is the median of the per-round ratios of its two targets (the Hypercorn mock / Quart
hello goal is judged on 7 rounds at least). Requests: ``GET /items/2500`` (the example present in every
collection size; the hello worlds answer any path). WireMock gets 30 s of load before the rounds (its JIT needs
about 25 s to reach the warm rate; ``--wiremock-warm``) and runs with the request journal off.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    HERE,
    SERVER_CPU,
    Target,
    fetch,
    machine_line,
    median,
    require_tools,
    round_ratio,
    stop_all,
    wrk,
)
from workload import PRIMARY  # noqa: E402

from postmock_nb.serving import servers as server_registry  # noqa: E402

SIZES = (1, 1_000, 10_000)
FAST = ("uvicorn", "granian")
PEERS_DIR = HERE / "peers" / "node_modules"

WIREMOCK_WARM = 30
"""Seconds of load WireMock gets before the rounds: it needs about 25 s (the JIT) to reach its warm rate."""


@dataclass(frozen=True)
class Goal:
    """One of issue 25's goals: the ratio is at least ``at_least``, judged on at least ``rounds`` rounds."""

    at_least: float
    rounds: int = 1


GOALS: dict[str, Goal] = {
    "granian mock-1 / granian asgi-hello": Goal(0.8),
    "granian mock-1 / WireMock 1 stub": Goal(1.2),
    "granian mock-1000 / WireMock 1,000 stubs": Goal(10.0),
    "hypercorn mock-1 / hypercorn quart-hello": Goal(1.5, rounds=7),
    **{f"{server} mock-10000 / mock-1": Goal(0.95) for server in server_registry.NAMES},
}
"""Issue 25's goals, by the label of the ratio row they apply to (every ratio: the median of the per-round
ratios, so both targets of a ratio meet the same minute's noise)."""


# -- peers ---------------------------------------------------------------------------------------


@dataclass
class PeerTarget(Target):
    """A peer mock started by its own command (pinned to the server core), ready when ``probe`` answers."""

    command: tuple[str, ...] = ()
    probe: str = ""
    port: int = 0

    def start(self) -> PeerTarget:
        self.process = subprocess.Popen(["taskset", "-c", SERVER_CPU, *self.command], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        assert self.process.stderr is not None
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: "
                                   f"{self.process.stderr.read()[-2000:]}")
            try:
                status, _, _ = fetch(self.url + self.probe, timeout=2)
                if status == 200:
                    self.ready_line = f"READY target={self.name} url={self.url} pid={self.pid}"
                    return self
            except OSError:
                pass
            time.sleep(0.2)  # polled until it answers
        raise RuntimeError(f"{self.name} did not answer {self.probe} within 120 s")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _primary_body() -> tuple[int, dict[str, str], str]:
    """The body and headers postmock answers PRIMARY with, so every peer sends the same bytes."""
    from workload import build_collection

    example = next(e for e in build_collection(1).examples)
    return example.response.status, dict(example.response.headers), example.response.body


def wiremock_target(stubs: int, workdir: Path) -> PeerTarget | None:
    jars = sorted((PEERS_DIR / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    if not jars or shutil.which("java") is None:
        return None
    status, headers, body = _primary_body()
    root = workdir / f"wiremock-{stubs}"
    (root / "mappings").mkdir(parents=True)
    mappings = [{"request": {"method": "GET", "url": PRIMARY},
                 "response": {"status": status, "headers": headers, "body": body}}]
    mappings += [{"request": {"method": "GET", "url": f"/items/x{n}"},
                  "response": {"status": 200, "headers": headers, "body": body}} for n in range(1, stubs)]
    (root / "mappings" / "stubs.json").write_text(json.dumps({"mappings": mappings}))
    port = free_port()
    command = ("java", "-jar", str(jars[-1]), "--port", str(port), "--bind-address", "127.0.0.1",
               "--root-dir", str(root), "--no-request-journal", "--disable-banner")
    return PeerTarget(f"wiremock-{stubs}", [], command=command, probe=PRIMARY, port=port,
                      info={"version": jars[-1].stem.rsplit("-", 1)[-1]})


def mockoon_target(routes: int, workdir: Path) -> PeerTarget | None:
    cli = PEERS_DIR / ".bin" / "mockoon-cli"
    if not cli.exists():
        return None
    status, headers, body = _primary_body()
    port = free_port()

    def route(n: int, path: str) -> dict[str, Any]:
        return {"uuid": f"r{n}", "type": "http", "documentation": "", "method": "get", "endpoint": path.lstrip("/"),
                "responses": [{"uuid": f"s{n}", "body": body, "latency": 0, "statusCode": status, "label": "",
                               "headers": [{"key": k, "value": v} for k, v in headers.items()],
                               "bodyType": "INLINE", "filePath": "", "databucketID": "", "sendFileAsBody": False,
                               "rules": [], "rulesOperator": "OR", "disableTemplating": True,
                               "fallbackTo404": False, "default": True, "crudKey": "id", "callbacks": []}],
                "responseMode": None, "streamingMode": None, "streamingInterval": 0}

    all_routes = [route(0, PRIMARY)] + [route(n, f"/items/x{n}") for n in range(1, routes)]
    environment = {"uuid": "postmock-bench", "lastMigration": 33, "name": "bench", "endpointPrefix": "",
                   "latency": 0, "port": port, "hostname": "127.0.0.1", "folders": [],
                   "routes": all_routes, "rootChildren": [{"type": "route", "uuid": r["uuid"]} for r in all_routes],
                   "proxyMode": False, "proxyHost": "", "proxyRemovePrefix": False, "tlsOptions": {"enabled": False,
                   "type": "CERT", "pfxPath": "", "certPath": "", "keyPath": "", "caPath": "", "passphrase": ""},
                   "cors": False, "headers": [], "proxyReqHeaders": [], "proxyResHeaders": [], "data": [],
                   "callbacks": []}
    path = workdir / f"mockoon-{routes}.json"
    path.write_text(json.dumps(environment))
    command = (str(cli), "start", "--data", str(path), "--port", str(port), "--disable-log-to-file")
    return PeerTarget(f"mockoon-{routes}", [], command=command, probe=PRIMARY, port=port)


# -- the run -------------------------------------------------------------------------------------


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        return float("nan")
    return float(match.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[match.group(2)]


def _p50(output: str) -> str:
    found = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    return found.group(1) if found else "?"


def targets_for(names: list[str]) -> list[Target]:
    targets: list[Target] = []
    for server in names:
        targets.append(Target(f"{server}/asgi-hello", ["hello", "--server", server]))
        targets.append(Target(f"{server}/quart-hello", ["quart", "--server", server]))
        for size in SIZES:
            targets.append(Target(f"{server}/mock-{size}", ["mock", "--examples", str(size), "--server", server]))
    return targets


def run(seconds: int, rounds: int, connections: int, names: list[str], peers: bool,
        log: Callable[[str], None] = print, wiremock_warm: int = WIREMOCK_WARM) -> dict[str, Any]:
    require_tools()
    workdir = Path(tempfile.mkdtemp(prefix="postmock-bench-"))
    targets = targets_for(names)
    if peers:
        for maker, sizes in ((wiremock_target, (1, 1_000)), (mockoon_target, (1, 1_000))):
            for size in sizes:
                peer = maker(size, workdir)
                if peer is None:
                    log(f"skipped {maker.__name__.split('_')[0]}: not installed (bash benchmarks/setup_peers.sh)")
                    break
                targets.append(peer)
    results: dict[str, Any] = {"machine": machine_line(), "seconds": seconds, "rounds": rounds,
                               "connections": connections, "request": f"GET {PRIMARY}", "targets": {},
                               "wiremock_warm": wiremock_warm if any(t.name.startswith("wiremock") for t in targets)
                               else None}
    try:
        for target in targets:
            target.start()
            status, _, _ = fetch(target.url + PRIMARY)
            if status != 200:
                raise RuntimeError(f"{target.name}: GET {PRIMARY} answered {status}")
            log(f"started {target.name}: {target.ready_line}")
        log(f"warm-up (WireMock {wiremock_warm} s each, for the JIT)")
        for target in targets:
            warm = wiremock_warm if target.name.startswith("wiremock") else max(1, seconds // 2)
            wrk(target.url + PRIMARY, seconds=warm, connections=connections)
        rps: dict[str, list[float]] = {t.name: [] for t in targets}
        p50: dict[str, list[float]] = {t.name: [] for t in targets}
        p99: dict[str, list[float]] = {t.name: [] for t in targets}
        for index in range(rounds):
            shift = index % len(targets)
            for target in targets[shift:] + targets[:shift]:
                result = wrk(target.url + PRIMARY, seconds=seconds, connections=connections)
                if result.non_2xx or result.socket_errors:
                    raise RuntimeError(f"{target.name}: {result.non_2xx} non-2xx, socket errors {result.socket_errors}")
                rps[target.name].append(result.rps)
                p50[target.name].append(_ms(_p50(result.output)))
                p99[target.name].append(_ms(result.latency_p99))
                log(f"  round {index + 1}/{rounds} {target.name:<24} {result.rps:9.0f} req/s  "
                    f"p50 {_p50(result.output):>8}  p99 {result.latency_p99:>8}")
        for target in targets:
            results["targets"][target.name] = {"rps": median(rps[target.name]), "p50_ms": median(p50[target.name]),
                                               "p99_ms": median(p99[target.name]), "runs": rps[target.name]}
    finally:
        stop_all(targets)
        shutil.rmtree(workdir, ignore_errors=True)
    results["ratios"] = ratios(results["targets"], names)
    return results


def verdict(value: float, goal: Goal | None, rounds: int) -> bool | str | None:
    """MET/MISSED as True/False, None without a goal, and a sentence when the run has too few rounds to judge."""
    if goal is None:
        return None
    if rounds < goal.rounds:
        return f"not judged: {rounds} rounds, the goal is on {goal.rounds}"
    return value >= goal.at_least


def ratios(figures: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    rows = []

    def add(label: str, top: str, bottom: str) -> None:
        if top not in figures or bottom not in figures:
            return
        value = round_ratio(figures[top]["runs"], figures[bottom]["runs"])
        goal = GOALS.get(label)
        rows.append({"ratio": label, "value": value, "goal": None if goal is None else goal.at_least,
                     "met": verdict(value, goal, len(figures[top]["runs"]))})

    for server in names:
        add(f"{server} mock-1 / {server} asgi-hello", f"{server}/mock-1", f"{server}/asgi-hello")
        add(f"{server} mock-1 / {server} quart-hello", f"{server}/mock-1", f"{server}/quart-hello")
        add(f"{server} mock-10000 / mock-1", f"{server}/mock-10000", f"{server}/mock-1")
        add(f"{server} mock-1000 / mock-1", f"{server}/mock-1000", f"{server}/mock-1")
        if server in FAST:
            add(f"{server} mock-1 / WireMock 1 stub", f"{server}/mock-1", "wiremock-1")
            add(f"{server} mock-1000 / WireMock 1,000 stubs", f"{server}/mock-1000", "wiremock-1000")
            add(f"{server} mock-1 / Mockoon 1 route", f"{server}/mock-1", "mockoon-1")
    return rows


def table(results: dict[str, Any]) -> list[str]:
    lines = [f"machine: {results['machine']}",
             f"wrk -t1 -c{results['connections']} -d{results['seconds']}s, medians of {results['rounds']} "
             f"interleaved rounds; request {results['request']}",
             "ratios: the median of the per-round ratios"
             + (f"; WireMock given {results['wiremock_warm']} s of load before the rounds"
                if results.get("wiremock_warm") is not None else ""), "",
             "| target | req/s | p50 ms | p99 ms |", "| --- | ---: | ---: | ---: |"]
    for name, data in results["targets"].items():
        lines.append(f"| {name} | {data['rps']:.0f} | {data['p50_ms']:.2f} | {data['p99_ms']:.2f} |")
    lines += ["", "| ratio | measured | goal | |", "| --- | ---: | ---: | --- |"]
    for row in results["ratios"]:
        goal = f">= {row['goal']}x" if row["goal"] is not None else ""
        met = row["met"] if isinstance(row["met"], str) else {None: "", True: "MET", False: "MISSED"}[row["met"]]
        lines.append(f"| {row['ratio']} | {row['value']:.2f}x | {goal} | {met} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="postmock on every server, the floors and the peers, in one run")
    parser.add_argument("--quick", action="store_true", help="2 s runs, 3 rounds (a check that it all works)")
    parser.add_argument("--seconds", type=int, help="wrk -d per run (default 5; quick 2)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 7; quick 3)")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (default 32)")
    parser.add_argument("--servers", default=",".join(server_registry.installed()),
                        help="comma-separated servers (default: every installed one)")
    parser.add_argument("--no-peers", action="store_true", help="leave WireMock and Mockoon out")
    parser.add_argument("--wiremock-warm", type=int, default=WIREMOCK_WARM,
                        help=f"seconds of load WireMock gets before the rounds (default {WIREMOCK_WARM}: it needs "
                             "about 25 s to reach its warm rate; less only for a check that it all runs)")
    parser.add_argument("--json", help="also write the figures as JSON to this file")
    parser.add_argument("--write-readme", action="store_true",
                        help="write the table into benchmarks/README.md (between the servers-table markers)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (2 if args.quick else 5)
    rounds = args.rounds or (3 if args.quick else 7)
    names = [name.strip() for name in args.servers.split(",") if name.strip()]
    for name in names:
        server_registry.check(name)
    results = run(seconds, rounds, args.connections, names, peers=not args.no_peers,
                  wiremock_warm=args.wiremock_warm)
    lines = table(results)
    print()
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if args.write_readme:
        readme = HERE / "README.md"
        text = readme.read_text()
        start, end = "<!-- servers-table -->", "<!-- /servers-table -->"
        block = f"{start}\n" + "\n".join(lines) + f"\n{end}"
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), block, text, flags=re.S) if start in text \
            else text.rstrip() + "\n\n## Every server, the floors and the peers (servers_bench.py)\n\n" + block + "\n"
        readme.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
