"""The test layers' rules, shared by tests/conftest.py and the tests that check them."""

from __future__ import annotations

import os

import pytest

REQUIRE_ALL = os.environ.get("POSTMOCK_REQUIRE_ALL") == "1"
"""CI sets ``POSTMOCK_REQUIRE_ALL=1``: a test whose tool is missing fails instead of skipping."""


class LayerViolation(Exception):
    """A ``unit`` test bound a socket or started a process: it belongs to another layer."""


def skip_unless_required(reason: str, what: str) -> None:
    """Skip the test for ``reason``; or fail it, when ``POSTMOCK_REQUIRE_ALL=1`` forbids skipping ``what``."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} — and POSTMOCK_REQUIRE_ALL=1 forbids skipping {what}", pytrace=False)
    pytest.skip(f"{what}: {reason}")
