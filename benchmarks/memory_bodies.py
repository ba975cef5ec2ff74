"""Memory under heavy requests: RSS growth of a mock server process (not a timed test).

    .venv/bin/python benchmarks/memory_bodies.py bodies [--count 30] [--size-mb 8]
    .venv/bin/python benchmarks/memory_bodies.py edits [--requests 1000000] [--examples 2000] [--clients 4]
    .venv/bin/python benchmarks/memory_bodies.py pairs [--pairs 300] [--examples 2000]

``bodies``: ``--count`` POSTs of ``--size-mb`` MB each, sent over raw sockets to a public mock
and to a private mock without the key. Goal: RSS growth under 64 MB for each (the log keeps
4 KB of each body; a private mock refuses before reading the body).

``edits``: ``--requests`` requests (hits, misses with near-miss diagnostics, path variables,
unique query parameters) on the benchmarks' ``--examples``-example collection while the
server process edits one example every second (a new snapshot each time). Goal: RSS growth
under 20 MB after the warm-up that fills the request log (log entries must not pin the
snapshot they matched against).

``pairs``: ``--pairs`` times, edit one example then send one request (alternately a hit and
a miss), in this process: the worst case for log entries that would pin their snapshots
(each would pin another). Goal: RSS growth under 20 MB.

For ``bodies`` and ``edits`` each mock runs in its own subprocess (this script's ``_serve`` mode), is read through
``/proc/<pid>/status`` and stopped by its PID.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from postmock_nb.core.model import Collection

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BODIES_GOAL_MB = 64.0
EDITS_GOAL_MB = 20.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


# -- the server process ------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    from workload import build_collection

    from postmock_nb.serving.server import MockServer

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = MockServer(build_collection(args.examples), private=args.private,
                        api_key="bench-key-0123456789" if args.private else None)
    server.start()
    edits = 0
    print(f"READY port={server.port} pid={os.getpid()}", flush=True)
    while not stop.wait(args.edit_every if args.edit_every > 0 else 3600):
        edits += 1

        # the person re-runs a cell: one example changes
        def edit(collection: Collection, n: int = edits) -> Collection:
            example = collection.examples[n % len(collection.examples)]
            from dataclasses import replace

            return collection.with_example(replace(example, response=replace(example.response,
                                                                               body=f'{{"edit": {n}}}')))

        server.store.update(edit)
    server.stop()
    return 0


class Served:
    """A ``_serve`` subprocess, stopped by its PID."""

    def __init__(self, *options: str) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "_serve", *options], stdout=subprocess.PIPE,
                                        text=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("READY"):
            self.stop()
            raise RuntimeError(f"the mock did not start: {line!r}")
        fields = dict(part.split("=") for part in line.split()[1:])
        self.port, self.pid = int(fields["port"]), int(fields["pid"])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


# -- bodies ------------------------------------------------------------------------------------------


def _post(port: int, size: int) -> str:
    """POST ``size`` bytes on a fresh connection; the status line, or what went wrong."""
    head = f"POST /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode()
    chunk = b"x" * (1 << 20)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(head)
            left = size
            while left:
                sock.sendall(chunk[:min(left, len(chunk))])
                left -= min(left, len(chunk))
        except OSError:
            pass  # answered (401) and closed before the body was all sent
        try:
            answer = sock.recv(200)
        except OSError as error:
            return f"error {error.__class__.__name__}"
    return answer.split(b"\r\n", 1)[0].decode("latin-1") or "closed"


def bodies(args: argparse.Namespace) -> dict[str, object]:
    results: dict[str, object] = {}
    for mode, options in (("public", []), ("private-without-key", ["--private"])):
        served = Served("--examples", "10", *options)
        try:
            _post(served.port, 100)
            before = rss_mb(served.pid)
            statuses: dict[str, int] = {}
            peak = before
            for _ in range(args.count):
                status = _post(served.port, args.size_mb * 1024 * 1024)
                statuses[status] = statuses.get(status, 0) + 1
                peak = max(peak, rss_mb(served.pid))
            time.sleep(0.5)  # let the last connection close (a reading, not an assertion)
            after = rss_mb(served.pid)
        finally:
            served.stop()
        results[mode] = {"rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1),
                         "growth_mb": round(after - before, 1), "peak_growth_mb": round(peak - before, 1),
                         "statuses": statuses, "goal_mb": BODIES_GOAL_MB,
                         "ok": after - before < BODIES_GOAL_MB}
    return results


# -- edits ---------------------------------------------------------------------------------------------


def _client(port: int, count: int, offset: int, done: list[int]) -> None:
    from workload import MISS, PRIMARY

    paths = [PRIMARY, MISS, "/api/v2/res0042/{n}", "/items/7?unique={n}", "/api/v1/res0001/stats",
             "/api/v9/miss/{n}"]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = 0
    while sent < count:
        path = paths[sent % len(paths)].format(n=offset + sent)
        try:
            connection.request("GET", path)
            connection.getresponse().read()
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        sent += 1
    connection.close()
    done.append(sent)


def _load(port: int, count: int, clients: int, offset: int) -> int:
    done: list[int] = []
    threads = [threading.Thread(target=_client, args=(port, count // clients, offset + i * count, done))
               for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done)


def edits(args: argparse.Namespace) -> dict[str, object]:
    served = Served("--examples", str(args.examples), "--edit-every", "1.0")
    try:
        started = time.monotonic()
        warm = _load(served.port, args.warmup, args.clients, 0)
        before = rss_mb(served.pid)
        readings = []
        sent = 0
        step = max(args.requests // 10, 1)
        while sent < args.requests:
            sent += _load(served.port, min(step, args.requests - sent), args.clients, warm + sent)
            readings.append(round(rss_mb(served.pid) - before, 1))
        after = rss_mb(served.pid)
        seconds = time.monotonic() - started
    finally:
        served.stop()
    return {"examples": args.examples, "warmup": warm, "requests": sent, "seconds": round(seconds, 1),
            "edits": int(seconds), "rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1),
            "growth_mb": round(after - before, 1), "growth_by_tenth_mb": readings, "goal_mb": EDITS_GOAL_MB,
            "ok": after - before < EDITS_GOAL_MB}


def pairs(args: argparse.Namespace) -> dict[str, object]:
    """``--pairs`` times: edit one example (a new snapshot), then send one request (hit or miss).
    In this process: the worst case for a log whose entries would pin their snapshots."""
    from dataclasses import replace

    from workload import MISS, PRIMARY, build_collection

    from postmock_nb.serving.server import MockServer

    with MockServer(build_collection(args.examples)) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

        def pair(n: int) -> None:
            def edit(collection: Collection, n: int = n) -> Collection:
                example = collection.examples[n % len(collection.examples)]
                return collection.with_example(replace(example, response=replace(example.response,
                                                                                   body=f'{{"edit": {n}}}')))

            server.store.update(edit)
            connection.request("GET", MISS if n % 2 else PRIMARY)
            connection.getresponse().read()

        for n in range(20):  # warm-up: imports, caches, first snapshots
            pair(n)
        before = rss_mb(os.getpid())
        for n in range(20, 20 + args.pairs):
            pair(n)
        after = rss_mb(os.getpid())
        connection.close()
    return {"examples": args.examples, "pairs": args.pairs, "rss_before_mb": round(before, 1),
            "rss_after_mb": round(after, 1), "growth_mb": round(after - before, 1), "goal_mb": EDITS_GOAL_MB,
            "ok": after - before < EDITS_GOAL_MB}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("bodies")
    b.add_argument("--count", type=int, default=30)
    b.add_argument("--size-mb", type=int, default=8)
    e = commands.add_parser("edits")
    e.add_argument("--requests", type=int, default=1_000_000)
    e.add_argument("--warmup", type=int, default=5000, help="requests before the first reading (fills the log)")
    e.add_argument("--examples", type=int, default=2000)
    e.add_argument("--clients", type=int, default=4)
    p = commands.add_parser("pairs")
    p.add_argument("--pairs", type=int, default=300)
    p.add_argument("--examples", type=int, default=2000)
    s = commands.add_parser("_serve")
    s.add_argument("--examples", type=int, default=10)
    s.add_argument("--private", action="store_true")
    s.add_argument("--edit-every", type=float, default=0.0)
    args = parser.parse_args(argv)
    if args.command == "_serve":
        return _serve(args)
    result = {"bodies": bodies, "edits": edits, "pairs": pairs}[args.command](args)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
