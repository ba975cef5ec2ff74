"""A/B of the app's own cost per request: this tree against an older commit, in one process.

    .venv/bin/python benchmarks/app_ab.py [--commit 9923f22] [--rounds 300] [--clock perf|thread]
                                          [--batch-ms 10] [--examples 100] [--scenario primary ...]

Extracts the older commit's ``postmock_nb/`` (``git archive``) into a temporary folder, renames
the package ``postmock_old`` (every ``postmock_nb`` in its sources), imports both, builds the same
collection for each (:mod:`workload`; the old tree's from its own ``benchmarks/workload.py``) and
calls each ``MockApp`` with ASGI messages on one asyncio loop, as :mod:`app_cost` does. Rounds are
interleaved and alternate which app goes first, so the machine's noise (a shared core, frequency
changes) falls on both alike. Prints, per scenario, the median µs per request of each and the
median of the per-round ratios new/old (the figure to read: 1.05 is 5 % slower).

The old tree may be flat (``postmock_nb/app.py``, before issue 20: ``MockApp(store, log, config)``)
or layered (``postmock_nb/serving/build.py``: ``assemble``); the new tree is this checkout. The scenarios
``async handler`` and ``sync handler`` are answered by ``@mock.handler`` functions (:func:`handler_app`),
when the old tree has them.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from app_cost import BROWSER_HEADERS  # noqa: E402
from workload import PRIMARY, PRIMARY_ID  # noqa: E402

OLD = "postmock_old"
BASELINE = "9923f22"
"""main before issue 20 (the flat package)."""


@dataclass(frozen=True)
class Scenario:
    """One kind of request: its path, query and headers."""

    name: str
    path: str
    headers: list[tuple[bytes, bytes]]
    query: bytes = b""
    app: str = "collection"
    """Which app answers: ``collection`` (the workload's examples) or ``handlers`` (:func:`handler_app`)."""


def scenarios() -> list[Scenario]:
    """The requests compared (paths of :func:`workload.build_collection` of 80 examples or more)."""
    one = BROWSER_HEADERS[:1]
    return [
        Scenario("primary, 1 header", PRIMARY, one),
        Scenario("primary, 8 headers", PRIMARY, BROWSER_HEADERS[:8]),
        Scenario("path variable", "/api/v2/res0001/98765", one),
        Scenario("miss -> 404", "/api/v3/nothing/here", one),
        Scenario("x-mock-response-name", PRIMARY, [*one, (b"x-mock-response-name", f"item {PRIMARY_ID}".encode())]),
        Scenario("async handler", "/async/7", one, app="handlers"),
        Scenario("sync handler", "/sync/7", one, app="handlers"),
    ]


HANDLED = 203
"""The status the handlers answer with (their saved sample says 200: a 203 shows the handler ran)."""


async def answered_on_the_loop(request: Any) -> tuple[dict[str, int], int]:
    return {"id": 7}, HANDLED


def answered_in_a_thread(request: Any) -> tuple[dict[str, int], int]:
    return {"id": 7}, HANDLED


def handler_app(package: str) -> Any:
    """An app of ``package`` (``postmock_nb`` or the old tree's) with a static example and two ``@mock.handler``
    functions, ``async def`` (run on the loop) and ``def`` (run in a worker thread), each answering
    ``({"id": 7}, 203)``. With ``--clock thread`` the ``def`` handler's figure is the loop's side only (its
    worker thread's CPU is not this thread's): read it with ``--clock perf``."""
    session = importlib.import_module(f"{package}.session").Session()
    proto = importlib.import_module(f"{package}.notebook.prototype").Prototype(session)
    session.define("GET /static/:id 200", '{"id": 7}')
    proto.handler("GET /async/:id")(answered_on_the_loop)
    proto.handler("GET /sync/:id")(answered_in_a_thread)
    build = importlib.import_module(f"{package}.serving.build")
    return build.assemble(store=session.store, config=session.config, behaviours=session.behaviours).app


def has_handlers(root: Path) -> bool:
    """Whether the old tree builds :func:`handler_app` (layered, with ``notebook/prototype.py``)."""
    return (root / OLD / "serving" / "build.py").exists() and (root / OLD / "notebook" / "prototype.py").exists()


def extract_old(commit: str, into: Path) -> None:
    """``postmock_nb/`` and ``benchmarks/workload.py`` of ``commit`` under ``into``, renamed ``postmock_old``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "postmock_nb", "benchmarks/workload.py"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / "postmock_nb").rename(into / OLD)
    word = re.compile(r"\bpostmock_nb\b")
    for source in [*(into / OLD).rglob("*.py"), into / "benchmarks" / "workload.py"]:
        source.write_text(word.sub(OLD, source.read_text(encoding="utf-8")), encoding="utf-8")


def _module_from(path: Path, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = str(path)
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)  # noqa: S102
    return module


def old_app(root: Path, examples: int) -> Any:
    """The old tree's MockApp over its own workload collection, built as its benchmarks built it."""
    collection = _module_from(root / "benchmarks" / "workload.py", "workload_old").build_collection(examples)
    config = importlib.import_module(f"{OLD}.config").MockConfig()
    if (root / OLD / "serving" / "build.py").exists():
        store = importlib.import_module(f"{OLD}.matching.store").LiveCollection(collection)
        log = importlib.import_module(f"{OLD}.serving.requestlog").RequestLog(1000)
        return importlib.import_module(f"{OLD}.serving.build").assemble(store=store, config=config, log=log).app
    store = importlib.import_module(f"{OLD}.store").LiveCollection(collection)
    log = importlib.import_module(f"{OLD}.requestlog").RequestLog(1000)
    return importlib.import_module(f"{OLD}.app").MockApp(store, log, config)


def new_app(examples: int) -> Any:
    """This tree's MockApp, built as benchmarks/app_cost.py builds it (with the old tree's log size)."""
    from workload import build_collection

    from postmock_nb.config import MockConfig
    from postmock_nb.matching.store import LiveCollection
    from postmock_nb.serving.build import assemble
    from postmock_nb.serving.requestlog import RequestLog

    return assemble(store=LiveCollection(build_collection(examples)), config=MockConfig(), log=RequestLog(1000)).app


def scope_of(scenario: Scenario) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": scenario.path, "raw_path": scenario.path.encode(),
            "query_string": scenario.query, "root_path": "", "headers": scenario.headers,
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


class _Sink:
    """A ``send`` that keeps the status it got (to check both apps answer alike) and drops the rest."""

    def __init__(self) -> None:
        self.status = 0

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]


async def per_request_us(app: Any, scope: dict[str, Any], requests: int, clock: Callable[[], float]) -> float:
    send = _Sink()
    started = clock()
    for _ in range(requests):
        await app(dict(scope), _receive, send)  # a fresh scope each time, as a server makes one
    return (clock() - started) / requests * 1e6


def statuses(loop: asyncio.AbstractEventLoop, app: Any, scope: dict[str, Any]) -> int:
    send = _Sink()
    loop.run_until_complete(app(dict(scope), _receive, send))
    return send.status


def compare(loop: asyncio.AbstractEventLoop, apps: dict[str, Any], scope: dict[str, Any], *, rounds: int,
            batch_ms: float, clock: Callable[[], float]) -> tuple[int, float, float, float]:
    """The requests per round, the median µs of old and new and the median of the per-round ratios new/old."""
    figures: dict[str, list[float]] = {"old": [], "new": []}
    ratios = []
    warm = [loop.run_until_complete(per_request_us(apps[name], scope, 200, clock)) for name in figures]
    requests = max(10, round(batch_ms * 1000 / max(warm)))  # warm: caches, first-call imports; and calibrate
    for i in range(rounds):
        got: dict[str, float] = {}
        for name in (("old", "new") if i % 2 == 0 else ("new", "old")):
            got[name] = loop.run_until_complete(per_request_us(apps[name], scope, requests, clock))
            figures[name].append(got[name])
        ratios.append(got["new"] / got["old"])
    return requests, statistics.median(figures["old"]), statistics.median(figures["new"]), statistics.median(ratios)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="MockApp's own µs per request: this tree against an older commit")
    parser.add_argument("--commit", default=BASELINE, help=f"the older commit (default {BASELINE})")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--batch-ms", type=float, default=10.0,
                        help="each app's share of a round, ms: sets the requests per round of each scenario")
    parser.add_argument("--examples", type=int, default=100, help="collection size (at least 80)")
    parser.add_argument("--clock", choices=("perf", "thread"), default="perf",
                        help="perf: time.perf_counter; thread: CPU time of this thread (time.thread_time)")
    parser.add_argument("--scenario", action="append", help="only these scenarios (names as printed, a prefix)")
    args = parser.parse_args(argv)
    clock = time.perf_counter if args.clock == "perf" else time.thread_time
    chosen = [s for s in scenarios() if not args.scenario or any(s.name.startswith(p) for p in args.scenario)]
    with tempfile.TemporaryDirectory(prefix="app_ab_") as folder:
        root = Path(folder)
        extract_old(args.commit, root)
        sys.path.insert(0, str(root))
        apps = {"old": old_app(root, args.examples), "new": new_app(args.examples)}
        handlers = {"old": handler_app(OLD), "new": handler_app("postmock_nb")} if has_handlers(root) else None
        loop = asyncio.new_event_loop()
        try:
            print(f"old {args.commit} vs new {_head()}: {args.examples} examples, {args.rounds} interleaved rounds "
                  f"of about {args.batch_ms:g} ms per app, clock {args.clock}")
            print(f"{'scenario':24} {'status':>6} {'requests':>8} {'old µs':>8} {'new µs':>8} {'new/old':>8}")
            for scenario in chosen:
                scope = scope_of(scenario)
                pair = apps if scenario.app == "collection" else handlers
                if pair is None:
                    print(f"{scenario.name:24} (skipped: {args.commit} has no notebook/prototype.py)")
                    continue
                status = {name: statuses(loop, app, scope) for name, app in pair.items()}
                if scenario.app == "handlers" and set(status.values()) != {HANDLED}:
                    raise SystemExit(f"{scenario.name}: answered {status}, not by the handler ({HANDLED})")
                shown = str(status["new"]) if status["old"] == status["new"] else f"{status['old']}/{status['new']}"
                requests, old_us, new_us, ratio = compare(loop, pair, scope, rounds=args.rounds,
                                                          batch_ms=args.batch_ms, clock=clock)
                print(f"{scenario.name:24} {shown:>6} {requests:8d} {old_us:8.2f} {new_us:8.2f} {ratio:8.3f}",
                      flush=True)
        finally:
            loop.close()
    return 0


def _head() -> str:
    return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
