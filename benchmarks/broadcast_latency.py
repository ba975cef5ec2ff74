"""WebSocket broadcasts: how long a message takes from the call to a real client, and how many a loop sends.

Every mock here serves a ``%%websocket`` script example (``GET /ws/feed``: ``< hello``, then the connection stays
open) and, on the servers of (a), an ``@mock.websocket`` handler (``/ws/py``: ``hello``, then it reads until the
client leaves), in this process; the clients are ``websockets`` (asyncio) connections on 127.0.0.1, all on one
event loop in a thread of their own, each noting when every message arrives (``time.perf_counter``, the same
clock as the caller's: one process).

- latency, in interleaved rounds (every target once a round, the order rotated by one each round):
  (a) ``Session.broadcast`` on each server (``--servers``), one client connected to the script, one to the handler;
  (c) ``Client.broadcast`` (``POST /__postmock/broadcast``, one keep-alive admin client) on each server;
  (b) two ``MockServer`` replicas sharing ``--state redis://`` (a ``redis-server`` this script starts on a free
  loopback port and stops by its PID): ``MockServer.broadcast`` on replica A to a client of A (delivered at
  once, and published), to a client of B (B reads the stream every ``POLL_S``: before each of these a random
  pause of 0 to ``POLL_S`` so the call falls anywhere between two polls), and ``Client.broadcast`` to A
  reaching B's client. Median, p90 and worst over the rounds, and the median time the call itself took.
- throughput: one loop calls ``Session.broadcast`` ``--messages`` times as fast as it returns, with 1, 10 and
  50 clients connected (``--clients``); from the first call until every client has every message
  (``--deadline`` s at most): broadcasts a second and frames a second (broadcasts x clients), medians of
  ``--throughput-rounds`` interleaved rounds.

Last it prints each mock's server errors (a client that left is none). After that, granian's known teardown
panic (``granian_teardown_panic`` in tests/support/cli.py) sometimes aborts the process: the figures are out by then.

    .venv/bin/python benchmarks/broadcast_latency.py [--rounds 40] [--servers hypercorn,uvicorn,granian]
        [--messages 200] [--clients 1 10 50] [--throughput-rounds 3] [--no-redis]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from postmock_nb.client import Client
from postmock_nb.core.model import Collection, Example, RequestSpec, ResponseSpec
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.serving.server import MockServer
from postmock_nb.serving.shared.broadcasts import POLL_S
from postmock_nb.session import Session

ROUTE = "/ws/feed"
HANDLER_ROUTE = "/ws/py"
SERVERS = ("hypercorn", "uvicorn", "granian")
WAIT_S = 5.0
"""How long one message may take to arrive before the script gives up."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def feed_collection() -> Collection:
    """One ``%%websocket`` script: ``< hello``, then the connection stays open for broadcasts."""
    feed = Example("feed", RequestSpec("GET", ROUTE, headers=(("x-mock-websocket", "true"),)),
                   ResponseSpec(200, body="< hello"))
    return Collection(name="broadcast bench").with_example(feed)


def ws_url(http_url: str, route: str = ROUTE) -> str:
    return http_url.replace("http://", "ws://", 1) + route


async def greeted(socket: Any) -> None:
    """The ``@mock.websocket`` handler of :data:`HANDLER_ROUTE`: ``hello``, then it reads until the client leaves."""
    await socket.send("hello")
    async for _ in socket:
        pass


@dataclass
class Listener:
    """One connected client: every message it got, with its arrival time."""

    connection: ClientConnection
    arrivals: list[tuple[float, str]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    async def read(self) -> None:
        async for message in self.connection:
            now = time.perf_counter()
            with self.changed:
                self.arrivals.append((now, message if isinstance(message, str) else message.decode()))
                self.changed.notify_all()

    def wait_for(self, text: str, timeout: float = WAIT_S) -> float:
        """When ``text`` arrived (waits for it)."""
        with self.changed:
            found = self.changed.wait_for(lambda: any(m == text for _, m in self.arrivals), timeout)
            if not found:
                raise SystemExit(f"{text!r} did not arrive within {timeout} s")
            return next(at for at, m in self.arrivals if m == text)

    def wait_count(self, count: int, timeout: float) -> float:
        """When the client had ``count`` messages (waits for them)."""
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.arrivals) >= count, timeout):
                raise SystemExit(f"a client got {len(self.arrivals)} of {count} messages within {timeout} s")
            return self.arrivals[count - 1][0]


class Clients:
    """The clients' event loop, in a thread of its own (the callers' thread stays free to broadcast)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ws-clients", daemon=True)
        self.thread.start()
        self._readers: dict[int, concurrent.futures.Future[None]] = {}
        self._open: dict[int, Listener] = {}

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(WAIT_S * 4)

    def open(self, http_url: str, count: int = 1, route: str = ROUTE) -> list[Listener]:
        """``count`` clients connected to ``route``, each past its ``hello``."""

        async def opened() -> list[Listener]:
            connections = await asyncio.gather(*(connect(ws_url(http_url, route), open_timeout=WAIT_S, max_queue=None)
                                                 for _ in range(count)))
            return [Listener(connection) for connection in connections]

        listeners: list[Listener] = self.run(opened())
        for listener in listeners:
            self._readers[id(listener)] = asyncio.run_coroutine_threadsafe(listener.read(), self.loop)
            self._open[id(listener)] = listener
            listener.wait_for("hello")
        return listeners

    def close(self, listeners: list[Listener]) -> None:
        """Each of ``listeners`` leaves (a normal close, 1000), its reader done."""

        async def closed() -> None:
            await asyncio.gather(*(listener.connection.close() for listener in listeners))

        self.run(closed())
        for listener in listeners:
            self._readers.pop(id(listener)).result(WAIT_S)
            self._open.pop(id(listener))

    def stop(self) -> None:
        """Every client still open leaves, then the loop stops."""
        self.close(self.open_now())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT_S)

    def open_now(self) -> list[Listener]:
        return list(self._open.values())


@dataclass
class Target:
    """One way of broadcasting, timed to the arrival at ``listener``."""

    name: str
    send: Callable[[str], int]
    listener: Listener
    pause: bool = False
    """Pause 0 to POLL_S first (the message reaches the client through another replica's poll)."""
    latencies: list[float] = field(default_factory=list)
    calls: list[float] = field(default_factory=list)

    def once(self, text: str, draw: random.Random) -> None:
        if self.pause:
            time.sleep(draw.uniform(0, POLL_S))
        started = time.perf_counter()
        self.send(text)
        returned = time.perf_counter()
        arrived = self.listener.wait_for(text)
        self.latencies.append((arrived - started) * 1000)
        self.calls.append((returned - started) * 1000)


def p90(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.9 * len(values)) - 1)]


@contextmanager
def redis_server() -> Iterator[str]:
    """A ``redis-server`` on a free loopback port (no persistence), stopped by its PID; its URL."""
    program = shutil.which("redis-server")
    if program is None:
        raise SystemExit("redis-server is not installed (scripts/install-system-deps.sh installs it); or --no-redis")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        redis = subprocess.Popen([program, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                  "--appendonly", "no", "--dir", workdir],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(250):  # up to 5 s for it to listen
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            redis.terminate()
            redis.wait(10)


def latency(clients: Clients, sessions: dict[str, Session], replicas: list[MockServer], rounds: int,
            admins: list[Client]) -> None:
    targets: list[Target] = []
    for name, session in sessions.items():
        admin = Client(session.url)
        admins.append(admin)
        targets.append(Target(f"{name}: Session.broadcast", partial(session.broadcast, ROUTE),
                              clients.open(session.url)[0]))
        targets.append(Target(f"{name}: Client.broadcast", partial(admin.broadcast, ROUTE),
                              clients.open(session.url)[0]))
        targets.append(Target(f"{name}: Session.broadcast, socket handler", partial(session.broadcast, HANDLER_ROUTE),
                              clients.open(session.url, route=HANDLER_ROUTE)[0]))
    if replicas:
        a, b = replicas
        admin = Client(a.url)
        admins.append(admin)
        on_a, on_b = clients.open(a.url)[0], clients.open(b.url)[0]
        targets.append(Target("--state: A.broadcast -> client of A", partial(a.broadcast, ROUTE), on_a))
        targets.append(Target("--state: A.broadcast -> client of B", partial(a.broadcast, ROUTE), on_b, pause=True))
        targets.append(Target("--state: Client.broadcast to A -> client of B", partial(admin.broadcast, ROUTE), on_b,
                              pause=True))
    draw = random.Random(22)
    for target in targets:  # warm up: first calls, imports, connections
        for turn in range(3):
            target.once(f"warm {target.name} {turn}", draw)
        target.latencies.clear()
        target.calls.clear()
    for turn in range(rounds):
        shift = turn % len(targets)
        for target in targets[shift:] + targets[:shift]:
            target.once(f"{turn} {target.name}", draw)
    print(f"latency: from the call to the message's arrival at a websockets client, ms; {rounds} interleaved rounds"
          + (f"; --state replicas poll every {POLL_S * 1000:.0f} ms" if replicas else ""))
    print(f"| {'target':45} | median | p90 | worst | the call itself, median |")
    print(f"|{'-' * 47}|---:|---:|---:|---:|")
    for target in targets:
        print(f"| {target.name:45} | {statistics.median(target.latencies):.2f} | {p90(target.latencies):.2f} | "
              f"{max(target.latencies):.2f} | {statistics.median(target.calls):.2f} |", flush=True)
    clients.close(clients.open_now())


def throughput(clients: Clients, sessions: dict[str, Session], messages: int, counts: list[int], rounds: int,
               deadline: float) -> None:
    figures: dict[tuple[str, int], list[float]] = {(name, count): [] for name in sessions for count in counts}
    order = list(figures)
    for turn in range(rounds):
        shift = turn % len(order)
        for name, count in order[shift:] + order[:shift]:
            session = sessions[name]
            listeners = clients.open(session.url, count)
            started = time.perf_counter()
            for number in range(messages):
                if session.broadcast(ROUTE, f"m{number}") != count:
                    raise SystemExit(f"{name}: a broadcast reached fewer than {count} clients")
            done = max(listener.wait_count(messages + 1, deadline) for listener in listeners)  # + hello
            figures[(name, count)].append(messages / (done - started))
            clients.close(listeners)
    print(f"throughput: one loop of {messages} Session.broadcast calls, until every client had every message; "
          f"medians of {rounds} interleaved rounds")
    print("| server | clients | broadcasts/s | frames/s (x clients) |")
    print("|---|---:|---:|---:|")
    for (name, count), rates in figures.items():
        rate = statistics.median(rates)
        print(f"| {name} | {count} | {rate:,.0f} | {rate * count:,.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="latency rounds")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--messages", type=int, default=200, help="broadcasts per throughput run")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--throughput-rounds", type=int, default=3)
    parser.add_argument("--deadline", type=float, default=30.0, help="s a throughput run may take at most")
    parser.add_argument("--no-redis", action="store_true", help="skip the --state replicas")
    args = parser.parse_args()
    clients = Clients()
    sessions: dict[str, Session] = {}
    replicas: list[MockServer] = []
    admins: list[Client] = []
    errors: dict[str, list[str]] = {}
    try:
        for name in args.servers.split(","):
            session = Session()
            session.define(f"GET {ROUTE}", "< hello", name="feed", request_headers=["x-mock-websocket: true"])
            Prototype(session).websocket(HANDLER_ROUTE)(greeted)
            session.start(port=0, server=name)
            sessions[name] = session
        with (redis_server() if not args.no_redis else _nothing()) as url:
            if url:
                replicas = [MockServer(feed_collection(), port=0, state=url, state_prefix="bench22").start()
                            for _ in range(2)]
            latency(clients, sessions, replicas, args.rounds, admins)
            for label, replica in zip("AB", replicas, strict=False):  # none with --no-redis
                replica.stop()
                errors[f"replica {label}"] = replica.errors
        throughput(clients, sessions, args.messages, args.clients, args.throughput_rounds, args.deadline)
    finally:
        for admin in admins:
            admin.close()
        clients.stop()
        errors.update({name: session.server.errors for name, session in sessions.items() if session.server})
        for session in sessions.values():
            session.close()
        for replica in replicas:
            replica.stop()
    print("server errors:", {name: len(found) for name, found in errors.items()},
          *(f"\n{name}: {found}" for name, found in errors.items() if found))


@contextmanager
def _nothing() -> Iterator[str]:
    yield ""


if __name__ == "__main__":
    main()
