"""Chaos, mock-wide: a seeded share of requests answered by a 503, a fault or a named example (real sockets)."""

from __future__ import annotations

import json

import pytest
import requests
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from postmock_nb.config import MockConfig
from postmock_nb.errors import ConfigError
from postmock_nb.notebook.magics import session_of
from postmock_nb.session import Session


def run(chaos_with: str = "503", seed: int = 7, n: int = 40) -> list[int]:
    session = Session()
    try:
        session.define("GET /ok", json.dumps({"ok": True}), name="ok")
        session.define("GET /ok 500", json.dumps({"error": "boom"}), name="Server error")
        url = session.start(port=0, chaos=0.25, chaos_seed=seed, chaos_with=chaos_with).url
        statuses = []
        for _ in range(n):
            try:
                statuses.append(requests.get(url + "/ok", timeout=5).status_code)
            except requests.ConnectionError:
                statuses.append(0)
        notes = [e.note for e in session.server.log.recent(n)]
        assert sum(note.startswith(("chaos", "fault")) for note in notes) == sum(s != 200 for s in statuses)
        return statuses
    finally:
        session.close()


def test_seeded_chaos_repeats_across_runs() -> None:
    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 503} and 0 < first.count(503) < len(first)
    assert run(seed=8) != first  # another seed, another draw


def test_chaos_answers_with_a_named_example_or_a_fault() -> None:
    assert set(run("Server error", n=20)) == {200, 500}
    assert set(run("reset", n=20)) == {200, 0}


def test_chaos_is_off_by_default_checked_and_shown_in_status() -> None:
    assert MockConfig().chaos == 0
    for bad in ("1.5", "often", -0.1):
        with pytest.raises(ConfigError, match="--chaos must be a share"):
            MockConfig(chaos=bad)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "postmock_nb")
    try:
        ip.run_cell_magic("example", "GET /ok", '{"ok": true}')
        with capture_output() as started:
            ip.run_line_magic("mock", "start --port 0 --no-dashboard --chaos 0.1 --chaos-seed 7")
            ip.run_line_magic("mock", "status")
        assert "Chaos on: 10% of requests answered by 503 (seed 7)" in started.stdout
    finally:
        ip.run_line_magic("unload_ext", "postmock_nb")


def test_postmock_serve_reads_the_chaos_and_preset_options() -> None:
    from postmock_nb.cli import _config, _parser

    args = _parser().parse_args(["serve", "c.json", "--chaos", "0.1", "--chaos-seed", "7", "--chaos-with", "reset",
                                 "--delay", "2G"])
    config = _config(args)
    assert (config.chaos, config.chaos_seed, config.chaos_with, config.delay_ms) == (0.1, 7, "reset", 300)


def test_chaos_with_nothing_it_names_is_refused() -> None:
    """Issue 19: ``--chaos-with Nope`` (no fault, no 503, no example of that name or id) silently answered 503."""
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "postmock_nb")
    try:
        ip.run_cell_magic("example", 'GET /ok 500 --name "Server error"', '{"error": "boom"}')
        with pytest.raises(UsageError, match=r"--chaos-with 'Nope' is not 503, a fault or an example"):
            ip.run_line_magic("mock", "start --port 0 --no-dashboard --chaos 0.1 --chaos-with Nope")
        session = session_of(ip)
        assert session.server is None or not session.server.running  # nothing started
        with capture_output() as started:  # an example's name, or a fault, is taken
            ip.run_line_magic("mock", 'start --port 0 --no-dashboard --chaos 0.1 --chaos-with "Server error"')
        assert "Mock running at" in started.stdout
        ip.run_line_magic("mock", "stop")
    finally:
        ip.run_line_magic("unload_ext", "postmock_nb")

