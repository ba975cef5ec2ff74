"""Waiting on a condition, never on the clock: the one ``wait_until`` of the tests."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

POLL_S = 0.02


def wait_until(condition: Callable[[], object], what: str = "the condition", timeout: float = 10.0) -> None:
    """Poll ``condition`` until it is true; fail, naming ``what`` was awaited, after ``timeout`` seconds.

    The timeout is a deadline for a failure, not a pause: a condition that holds returns at once."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(POLL_S)
