"""Process and load-generator plumbing shared by the benchmark scripts.

Servers run under ``taskset -c 0`` and ``wrk`` under ``taskset -c 1``, so the server and the
load never share a core. Everything talks to 127.0.0.1 only; each server is started here
and stopped by its own PID.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER_CPU = "0"
LOAD_CPU = "1"
READY_TIMEOUT = 120.0


SERVING = re.compile(r"^Serving \d+ examples? of '.*' at (http://127\.0\.0\.1:\d+)$")
"""The line ``postmock serve`` prints once it serves: its URL."""


@contextmanager
def served_document(text: str, name: str, repo: Path, *options: str) -> Iterator[str]:
    """``postmock serve`` (from the checkout ``repo``) of a document written to a temporary ``name``,
    with ``options``; yields its URL, and stops it by its PID."""
    with tempfile.TemporaryDirectory() as folder:
        document = Path(folder) / name
        document.write_text(text, encoding="utf-8")
        server = subprocess.Popen([sys.executable, "-m", "postmock_nb.cli", "serve", str(document), "--port", "0",
                                   *options], cwd=repo, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            for line in server.stdout:
                found = SERVING.match(line.strip())
                if found:
                    yield found.group(1)
                    return
            raise SystemExit("the server did not start")
        finally:
            server.terminate()
            server.wait(15)


def require_tools() -> None:
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: install with `bash scripts/install-system-deps.sh --bench`"
                 " (wrk) / util-linux (taskset)")
    if (os.cpu_count() or 1) < 2:
        sys.exit("these benchmarks pin the server and the load on two different cores: need 2 CPUs")


@dataclass
class Target:
    """A server subprocess: started pinned to the server core, stopped by PID."""

    name: str
    args: list[str]
    process: subprocess.Popen[str] | None = None
    url: str = ""
    ready_line: str = ""
    info: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Target:
        # taskset execs python in place, so the PID we hold is the server's own.
        command = ["taskset", "-c", SERVER_CPU, sys.executable, str(HERE / "serve_target.py"), *self.args,
                   "--port", "0"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stderr is not None
        deadline = time.monotonic() + READY_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}: "
                                       f"{self.process.stderr.read()[-2000:]}")
                if selector.select(timeout=0.2):
                    line = self.process.stdout.readline()
                    if line.startswith("READY"):
                        self.ready_line = line.strip()
                        self.info = dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)
                        self.url = self.info["url"]
                        break
            else:
                raise RuntimeError(f"{self.name} did not print READY within {READY_TIMEOUT:.0f} s")
        allowed = proc_status(self.pid).get("Cpus_allowed_list", "?")
        if allowed != SERVER_CPU:
            raise RuntimeError(f"{self.name} (pid {self.pid}) is allowed on CPUs {allowed}, expected {SERVER_CPU}")
        return self

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL by PID if it lingers."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            stop_process(process)
        finally:
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


def stop_process(process: subprocess.Popen[str] | None) -> None:
    """Stop a process we started: SIGTERM by its PID, then SIGKILL by its PID if it lingers past 15 s."""
    if process is None or process.poll() is not None:
        return
    try:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(5)
    except ProcessLookupError:
        pass


def stop_all(targets: list[Target]) -> None:
    for target in targets:
        try:
            target.stop()
        except Exception as error:  # keep stopping the others
            print(f"could not stop {target.name} (pid {target.process and target.process.pid}): {error}",
                  file=sys.stderr)


def mock_target(examples: int, name: str | None = None) -> Target:
    return Target(name or f"mock-{examples}", ["mock", "--examples", str(examples)])


def quart_target() -> Target:
    return Target("quart-hello", ["quart"])


def fetch(url: str, timeout: float = 60.0) -> tuple[int, dict[str, str], bytes]:
    """One GET (no proxy): status, lower-cased headers, body."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def proc_status(pid: int) -> dict[str, str]:
    fields = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` in KiB."""
    return int(proc_status(pid)["VmRSS"].split()[0])


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    non_2xx: int
    socket_errors: str
    latency_avg: str
    latency_p99: str
    output: str


_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b")
_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors:\s+(.*)")
_LATENCY = re.compile(r"^\s+Latency\s+(\S+)", re.MULTILINE)
_P99 = re.compile(r"^\s+99%\s+(\S+)", re.MULTILINE)
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(url: str, *, seconds: int, connections: int = 32, threads: int = 1, script: str | None = None,
        timeout_s: int = 10, extra: tuple[str, ...] = ()) -> WrkResult:
    """One bounded ``wrk`` run on the load core (``extra``: arguments for the script's ``init``)."""
    command = ["taskset", "-c", LOAD_CPU, "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
               f"--timeout={timeout_s}s", "--latency"]
    if script:
        command += ["-s", script]
    command.append(url)
    command.extend(extra)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout_s + 30)
    out = done.stdout
    if done.returncode != 0 or not _RPS.search(out):
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or out}")
    totals, rate = _REQUESTS.search(out), _RPS.search(out)
    assert totals is not None and rate is not None  # checked above for the rate; wrk prints both
    count, duration, unit = totals.groups()
    non_2xx = _NON_2XX.search(out)
    socket_errors = _SOCKET.search(out)
    latency, p99 = _LATENCY.search(out), _P99.search(out)
    return WrkResult(int(count), float(duration) * _UNITS[unit], float(rate.group(1)),
                     int(non_2xx.group(1)) if non_2xx else 0,
                     socket_errors.group(1) if socket_errors else "",
                     latency.group(1) if latency else "?", p99.group(1) if p99 else "?", out)


def median(values: list[float]) -> float:
    return statistics.median(values)


def round_ratio(top: list[float], bottom: list[float]) -> float:
    """The median of the per-round ratios ``top[i] / bottom[i]`` (two targets measured in the same rounds, so
    each ratio compares figures taken under the same minute's noise)."""
    return statistics.median([a / b for a, b in zip(top, bottom, strict=True)])


def machine_line(*, pinned: bool = True) -> str:
    """The CPUs, Python and wrk; and where the server and wrk ran (``pinned``: each on its own core)."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "?")
    except OSError:
        pass
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    wrk_version = (done.stdout + done.stderr).splitlines()[:1]
    where = (f"server on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU}" if pinned
             else "nothing pinned: the servers, wrk and the rest share every core")
    return (f"{os.cpu_count()} CPUs ({model}); python {sys.version.split()[0]}; "
            f"{wrk_version[0] if wrk_version else 'wrk ?'}; {where}")
