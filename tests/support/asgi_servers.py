"""The ASGI entry point (``postmock_nb.asgi:app``) under each server's own command line, as a deployment runs it
(uvicorn, granian, hypercorn, gunicorn with uvicorn workers): started in a process group of its own, waited for
on its health endpoint, stopped by its PID. Shared by the cli tests of the ASGI app and of real-time deployments."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from support.layers import skip_unless_required
from support.paths import ROOT as REPO

START_TIMEOUT = 60  # interpreter start, imports and the collection load; gunicorn forks its workers after
STOP_TIMEOUT = 15
TIMEOUT = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


COMMANDS = {
    "uvicorn": (["uvicorn"], lambda port: ["-m", "uvicorn", "postmock_nb.asgi:app", "--host", "127.0.0.1",
                                           "--port", str(port), "--no-access-log"]),
    "granian": (["granian"], lambda port: ["-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                                           "--port", str(port), "postmock_nb.asgi:app"]),
    "hypercorn": (["hypercorn"], lambda port: ["-m", "hypercorn", "--bind", f"127.0.0.1:{port}",
                                               "postmock_nb.asgi:app"]),
    "gunicorn": (["gunicorn", "uvicorn"], lambda port: ["-m", "gunicorn", "-k", "uvicorn.workers.UvicornWorker",
                                                        "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                                        "postmock_nb.asgi:app"]),
}


class Served:
    """A server process started from its own command line, in its own process group (its workers too)."""

    def __init__(self, server: str, port: int, environ: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("w")
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([sys.executable, *COMMANDS[server][1](port)], cwd=REPO,
                                        env={**os.environ, **environ}, stdout=self._out, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text()

    def wait_until_healthy(self, headers: dict[str, str] | None = None) -> requests.Response:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                response = requests.get(self.url + "/__postmock/health", headers=headers, timeout=TIMEOUT)
            except requests.ConnectionError:
                time.sleep(0.1)  # not listening yet: the condition is polled, no result depends on timing
                continue
            if response.status_code == 200:
                return response
        pytest.fail(f"no healthy answer within {START_TIMEOUT} s (exit code {self.process.poll()}):\n{self.output()}")

    def stop(self) -> int | None:
        """SIGTERM to the server (its own PID), then whatever of its group remains is killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = None
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group id is its PID: workers left behind, if any
        except ProcessLookupError:
            pass
        self._out.close()
        return code


def installed_or_skip(name: str) -> str:
    """``name`` when its server's packages are installed; else the test skips (fails under POSTMOCK_REQUIRE_ALL)."""
    absent = [package for package in COMMANDS[name][0] if importlib.util.find_spec(package) is None]
    if absent:
        skip_unless_required(f"missing {', '.join(absent)}: pip install -e '.[test]'", f"the ASGI entry point on {name}")
    return name
