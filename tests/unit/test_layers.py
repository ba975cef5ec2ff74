"""The test layers keep their promise: a ``unit`` test cannot bind a socket, connect or start a process
(tests/conftest.py fails it, naming the layer to move it to). This module is itself in the unit layer."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import pytest
from conftest import LayerViolation


def test_a_unit_test_cannot_bind_or_connect() -> None:
    with socket.socket() as sock, pytest.raises(LayerViolation, match="move it to the server layer"):
        sock.bind(("127.0.0.1", 0))
    with socket.socket() as sock, pytest.raises(LayerViolation, match="move it to the server layer"):
        sock.connect(("127.0.0.1", 9))


def test_a_unit_test_cannot_start_a_process() -> None:
    with pytest.raises(LayerViolation, match="move it to the cli layer"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)


def test_an_event_loop_still_runs_in_a_unit_test() -> None:
    """What the unit layer does use stays allowed: an asyncio loop (its self-pipe is a socketpair)."""
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert asyncio.run(answer()) == 42
