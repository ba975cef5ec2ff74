"""The test layers keep their promise: a ``unit`` test cannot bind a socket, connect or start a process
(tests/conftest.py fails it, naming the layer to move it to). This module is itself in the unit layer."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import pytest
from support.layers import LayerViolation
from support.paths import ROOT


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


@pytest.fixture(scope="module")
def bound_in_a_module_fixture() -> BaseException | None:
    """A module-scoped fixture of a unit test is set up under the same rule as the test itself."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", 0))
        except LayerViolation as refused:
            return refused
    return None


def test_a_unit_tests_fixtures_of_any_scope_cannot_bind(bound_in_a_module_fixture: BaseException | None) -> None:
    assert isinstance(bound_in_a_module_fixture, LayerViolation)
    assert "move it to the server layer" in str(bound_in_a_module_fixture)


def test_the_unit_folders_mirror_the_package() -> None:
    """tests/unit/<subpackage>/ exists only for a subpackage of postmock_nb (its tests: test_<module>.py)."""
    unit = ROOT / "tests" / "unit"
    folders = sorted(path.name for path in unit.iterdir() if path.is_dir() and path.name != "__pycache__")
    assert folders, "no tests/unit/<subpackage>/ folder"
    assert [name for name in folders if not (ROOT / "postmock_nb" / name / "__init__.py").is_file()] == []
    assert not list(unit.rglob("__init__.py")), "test folders are not packages (pytest's importlib mode)"
