"""A real ``redis-server`` for the shared-state tests: started on a free loopback port, no persistence,
stopped by its own PID.

The ``redis_server`` fixture (tests/conftest.py) starts one per test session and xdist worker and gives each
test a clean database (``redis_url``); a test that kills and restarts Redis makes its own :class:`RedisServer`.
Without the Debian package ``redis-server`` the tests are skipped with that reason (or fail, in CI).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from support.layers import skip_unless_required

REDIS_SERVER = "redis-server"


def free_port() -> int:
    """A loopback port nothing listens on (as the OS hands it out)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def require_redis_server() -> str:
    """The ``redis-server`` program, or the test is skipped (failed under ``POSTMOCK_REQUIRE_ALL=1``)."""
    found = shutil.which(REDIS_SERVER)
    if found is None:
        skip_unless_required("redis-server is not installed (Debian package redis-server; `make test` installs it)",
                             "the shared-state tests")
    assert found is not None
    return found


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1: :meth:`start`, :meth:`kill` (as a crash would) and
    :meth:`start` again on the same port, :meth:`stop`. Nothing is written to disk."""

    def __init__(self, workdir: Path, port: int | None = None, *, durable: bool = False) -> None:
        """``durable``: every write is in an append-only file before Redis answers it (``appendfsync always``),
        so a kill loses no acknowledged write and a restart loads them again."""
        self.durable = durable
        self.program = require_redis_server()
        self.workdir = workdir
        self.port = port if port is not None else free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def db_url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.program, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             *(("--appendonly", "yes", "--appendfsync", "always") if self.durable else ("--appendonly", "no")),
             "--dir", str(self.workdir), "--databases", "64", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode} (port {self.port} taken?)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout} s")
            time.sleep(0.02)
        return self

    def answers(self) -> bool:
        """Whether it answers PING (a raw RESP exchange: no client library needed)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """Stop it at once (SIGKILL), as a crash would: its data is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
