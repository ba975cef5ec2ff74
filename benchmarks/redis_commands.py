"""How many Redis commands a request costs with ``--state redis://…``: counted by ``MONITOR``, per kind of request
and per number of requests in flight.

    .venv/bin/python benchmarks/redis_commands.py [--requests 2000] [--in-flight 1,16] [--server granian]
                                                  [--requests-of static,scenario,resource]

Starts a ``redis-server`` on a free loopback port (no persistence) and one ``postmock serve FILE --state …``
process (the collection of :mod:`state_ab`: a static example, a two-step scenario, a resource), each stopped by its
PID. For each request kind and each ``--in-flight`` count: ``MONITOR`` is opened (a thread reading it), then
``--requests`` requests are sent on that many keep-alive connections (one thread each), then a marker (``ECHO``)
is sent on another connection and the monitor read up to it. Every journal batch holding an answered request's
entry has been written to Redis's socket before the answer went out (``SharedJournal.handed``), so it is in the
count. The table gives, per request: the commands clients sent (the round trips Redis served, a script's ``EVALSHA``
counting once) and the commands the Lua scripts ran inside Redis, and which commands they were.

A static example makes no round trip while it is answered: its only commands are the journal's batched writes
(one script per batch: at 1 in flight a batch is one entry; with more in flight, entries queued while a batch is
written go out together) and an ``INCRBY`` per :data:`~postmock_nb.serving.shared.journal.SEQ_BLOCK` entries.
Beside them, whatever the requests: the collection's follower reads its version every 250 ms (one ``HGET``), and a
new connection says ``HELLO`` (and ``SELECT``).
Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

from state_ab import PREFIX, REQUESTS, Request, Serve, check, write_collection  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402

MARKER = "postmock-bench-marker"
MONITOR_TIMEOUT = 60.0


@dataclass
class Count:
    """The commands one run made Redis execute."""

    requests: int
    clients: Counter[str] = field(default_factory=Counter)
    scripts: Counter[str] = field(default_factory=Counter)


class Monitor:
    """``MONITOR`` read by a thread until the marker: every command clients sent, and those scripts ran."""

    def __init__(self, url: str) -> None:
        import redis  # deferred: the team extra, needed only here

        self._client = redis.Redis.from_url(url)
        self._monitor = self._client.monitor()  # type: ignore[no-untyped-call]
        self._monitor.__enter__()  # MONITOR sent and answered: what follows is seen
        self.count = Count(0)
        self.failed: BaseException | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                command: dict[str, Any] = self._monitor.next_command()
                words = str(command["command"]).split()
                name = words[0].upper() if words else "?"
                if name == "ECHO" and MARKER in command["command"]:
                    return
                if command.get("client_type") == "lua":
                    self.count.scripts[name] += 1
                else:
                    self.count.clients[name] += 1
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            self.failed = error

    def until_marker(self, url: str) -> Count:
        import redis  # deferred: as above

        with redis.Redis.from_url(url) as client:
            client.echo(MARKER)
        self._thread.join(MONITOR_TIMEOUT)
        if self._thread.is_alive() or self.failed is not None:
            raise RuntimeError(f"MONITOR did not reach the marker: {self.failed!r}")
        self._monitor.__exit__(None, None, None)
        self._client.close()
        return self.count


def send(url: str, request: Request, total: int, in_flight: int) -> int:
    """``total`` requests on ``in_flight`` keep-alive connections (a thread each); returns how many got the status."""
    host, _, port = url.removeprefix("http://").partition(":")
    share = [total // in_flight + (1 if n < total % in_flight else 0) for n in range(in_flight)]
    good = [0] * in_flight
    headers = {"Content-Type": "application/json"} if request.body else {}

    def one(n: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            for _ in range(share[n]):
                connection.request(request.method, request.path, body=request.body or None, headers=headers)
                response = connection.getresponse()
                response.read()
                good[n] += response.status == request.status
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(in_flight)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(good)


def shown(counter: Counter[str], requests: int) -> str:
    return ", ".join(f"{name} {count / requests:.3f}" for name, count in counter.most_common()) or "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Redis commands per request with --state (counted by MONITOR)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per kind and in-flight count")
    parser.add_argument("--in-flight", default="1,16", help="connections sending at once (comma-separated)")
    parser.add_argument("--server", default="granian")
    parser.add_argument("--requests-of", default=",".join(r.name for r in REQUESTS),
                        help="which of static, scenario, resource")
    args = parser.parse_args(argv)
    chosen = [r for r in REQUESTS if r.name in {name.strip() for name in args.requests_of.split(",")}]
    flights = [int(n) for n in args.in_flight.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="redis_commands_") as tmp:
        folder = Path(tmp)
        collection = write_collection(folder / "bench.postman_collection.json", 10 * args.requests * len(flights))
        redis_server = RedisServer(folder / "redis").start()
        target = Serve("redis", ["--state", redis_server.db_url(1), "--state-prefix", PREFIX], pinned=False)
        try:
            target.start(collection, args.server, folder)
            check(target, chosen)
            for request in chosen:
                send(target.url, request, 200, 4)  # warm: connections, the seq block, the scripts loaded
                for in_flight in flights:
                    monitor = Monitor(redis_server.url)
                    started = time.perf_counter()
                    good = send(target.url, request, args.requests, in_flight)
                    seconds = time.perf_counter() - started
                    count = monitor.until_marker(redis_server.url)
                    count.requests = good
                    rows.append((request, in_flight, count, seconds))
                    print(f"  {request.name} at {in_flight} in flight done", file=sys.stderr, flush=True)
        finally:
            target.stop()
            redis_server.stop()
    print(f"postmock serve --server {args.server} --state redis://…; {args.requests} requests per row, "
          "commands counted by MONITOR (per request)")
    print("| request | in flight | answered | client commands / request | which (per request) "
          "| commands run by scripts / request |")
    print("| --- | ---: | ---: | ---: | --- | ---: |")
    for request, in_flight, count, _seconds in rows:
        per = sum(count.clients.values()) / max(count.requests, 1)
        inside = sum(count.scripts.values()) / max(count.requests, 1)
        print(f"| {request.name} ({request.method} {request.path}) | {in_flight} | {count.requests} | {per:.3f} | "
              f"{shown(count.clients, max(count.requests, 1))} | {inside:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
