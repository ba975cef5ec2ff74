"""The ``postmock`` command in a subprocess, read line by line with deadlines (``postmock("serve", ...)``), shared
by the cli, server and proxy tests: start it, wait for the line that says where it serves, stop it by its PID."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support.paths import ROOT as REPO

START_TIMEOUT = 30   # the interpreter start and imports take about a second; CI machines are slower
STOP_TIMEOUT = 15
TIMEOUT = 5
SERVING = re.compile(r"^Serving (\d+) examples? of '(.*)' at (https?://127\.0\.0\.1:(\d+))$")


class Cli:
    """A ``postmock`` subprocess whose output lines are read as they come, with deadlines."""

    def __init__(self, *args: str, command: str | None = None, cwd: Path = REPO,
                 env: dict[str, str] | None = None) -> None:
        """``postmock *args``: this checkout's (``python -m postmock_nb.cli``), or the installed ``command``."""
        program = [command] if command is not None else [sys.executable, "-m", "postmock_nb.cli"]
        # its own process group, so workers it forks can be found and cleaned up with it
        self.process = subprocess.Popen([*program, *args], cwd=cwd, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._readers = [threading.Thread(target=self._read, args=(stream, sink, forward), daemon=True)
                         for stream, sink, forward in ((self.process.stdout, self.stdout, True),
                                                       (self.process.stderr, self.stderr, False))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, sink: list[str], forward: bool) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))
            if forward:
                self._lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: re.Pattern[str] | str, timeout: float = START_TIMEOUT) -> re.Match[str]:
        """The first stdout line (from here on) matching ``pattern``; fails with all output on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.process.poll() is not None and self._lines.empty()):
                pytest.fail(f"no line matching {pattern!r} within {timeout} s (exit code {self.process.poll()})\n"
                            f"stdout: {self.stdout}\nstderr: {self.stderr}")
            try:
                line = self._lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            found = re.search(pattern, line)
            if found:
                return found

    def interrupt(self, sig: int = signal.SIGINT) -> int:
        """Send ``sig`` to this process (its PID only) and wait for it to exit."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"postmock did not stop within {STOP_TIMEOUT} s of {signal.Signals(sig).name}\n"
                        f"stdout: {self.stdout}\nstderr: {self.stderr}")

    def output(self) -> str:
        """Everything the process printed on stdout, once it has exited and the readers are done."""
        for reader in self._readers:
            reader.join(TIMEOUT)
        return "\n".join(self.stdout)

    def group_alive(self) -> bool:
        """Whether any process of this one's group (itself, forked workers) is still there."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        """Ask it to stop (SIGTERM: ``postmock serve`` stops cleanly on it), then :meth:`kill` what is left."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def kill(self) -> None:
        """Kill this process and its group (by its own PID, which is the group id), if still there."""
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        if self.group_alive():
            os.killpg(self.process.pid, signal.SIGKILL)


@contextmanager
def postmock(*args: str) -> Iterator[Cli]:
    cli = Cli(*args)
    try:
        yield cli
    finally:
        cli.kill()


def fixture_path(fixtures_dir: Path, name: str) -> str:
    return str(fixtures_dir / name)


_RUST_PANIC_LINE = re.compile(r"^(|thread '.*' \(\d+\) panicked at .*|panic in a function that cannot unwind|"
                              r"stack backtrace:|note: .*|\s+\d+: .*|\s+at .*|"
                              r"thread caused non-unwinding panic\. aborting\.)$")


def granian_teardown_panic(server: str, stderr: list[str]) -> bool:
    """Whether ``stderr`` is nothing but the Rust panic granian sometimes prints as a process ends (a known
    defect of granian's teardown, on the old main too; reported in issue 19's note): on granian only, and
    only when a panic is all there is."""
    return (server == "granian" and any("panicked" in line for line in stderr)
            and all(_RUST_PANIC_LINE.match(line) for line in stderr))
