"""How long an edit of the collection takes to reach another replica with ``--state redis://…``.

Two mocks (MockServer, in this process, each on its own loop and thread) share a real ``redis-server``
(started here on a free loopback port, no persistence, stopped by its PID). For collections of a few sizes,
each round waits a random share of the follower's poll interval, then adds one example on replica A
(``store.update``: the WATCH/MULTI/EXEC round trip, the encoding) and times until replica B serves that version
(its follower: the next poll, the read, the decoding, the new snapshot). Prints the median and p99 of both, in ms.

    .venv/bin/python benchmarks/collection_follow.py [--sizes 10 100 1000] [--rounds 50]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable

from postmock_nb.core.model import Collection, Example, RequestSpec, ResponseSpec
from postmock_nb.serving.server import MockServer
from postmock_nb.serving.shared.collection import POLL_S, SharedCollection

DEADLINE_S = 5.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def example(number: int) -> Example:
    return Example(f"e{number}", RequestSpec("GET", f"/items/{number}"),
                   ResponseSpec(200, headers=(("content-type", "application/json"),),
                                body=json.dumps({"id": number, "name": f"item {number}", "tags": ["a", "b"]})))


def collection_of(size: int) -> Collection:
    collection = Collection(name="follow bench")
    for number in range(size):
        collection = collection.with_example(example(number))
    return collection


def adding(added: Example) -> Callable[[Collection], Collection]:
    """The edit that adds ``added``."""
    return lambda collection: collection.with_example(added)


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.99 * len(values)) - 1)]


def measure(url: str, size: int, rounds: int) -> tuple[list[float], list[float]]:
    prefix = f"follow-{size}"
    a = MockServer(collection_of(size), state=url, state_prefix=prefix).start()
    b = MockServer(collection_of(size), state=url, state_prefix=prefix).start()
    try:
        edits, follows = [], []
        store_a, store_b = a.store, b.store
        assert isinstance(store_a, SharedCollection) and isinstance(store_b, SharedCollection)
        draw = random.Random(size)
        for turn in range(rounds):
            time.sleep(draw.uniform(0, POLL_S))  # edits fall anywhere between two polls, as they would
            started = time.perf_counter()
            store_a.update(adding(example(size + turn)))
            edited = time.perf_counter()
            deadline = edited + DEADLINE_S
            while store_b.version < store_a.version:
                if time.perf_counter() > deadline:
                    raise SystemExit(f"replica B did not follow within {DEADLINE_S} s")
                time.sleep(0.0002)
            followed = time.perf_counter()
            edits.append((edited - started) * 1000)
            follows.append((followed - started) * 1000)
        return edits, follows
    finally:
        a.stop()
        b.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    program = shutil.which("redis-server")
    if program is None:
        raise SystemExit("redis-server is not installed (scripts/install-system-deps.sh installs it)")
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
            url = f"redis://127.0.0.1:{port}/0"
            print(f"{args.rounds} edits on replica A per size; B is another MockServer on the same Redis")
            print(f"{'examples':>9} {'edit ms (A) median':>19} {'p99':>7} {'served by B ms median':>22} {'p99':>7}")
            for size in args.sizes:
                edits, follows = measure(url, size, args.rounds)
                print(f"{size:>9} {statistics.median(edits):>19.2f} {p99(edits):>7.2f} "
                      f"{statistics.median(follows):>22.2f} {p99(follows):>7.2f}")
        finally:
            redis.terminate()
            redis.wait(10)


if __name__ == "__main__":
    main()
