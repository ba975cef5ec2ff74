"""Sequences, scenarios and per-example delays: %%example cells in a real IPython shell, HTTP on real sockets."""

from __future__ import annotations

import json
import time

import pytest
import requests
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from postmock_nb.formats.postman import load_collection
from postmock_nb.notebook.magics import session_of
from postmock_nb.serving.server import MockServer


@pytest.fixture
def ip(shell: InteractiveShell) -> InteractiveShell:
    """The loaded shell of tests/conftest.py, by the short name these tests use."""
    return shell


def cell(ip: InteractiveShell, line: str, body: str) -> None:
    ip.run_cell_magic("example", line, body)


def out(ip: InteractiveShell, line: str) -> str:
    with capture_output() as captured:
        ip.run_line_magic("mock", line)
    return captured.stdout


def define_jobs(ip: InteractiveShell) -> None:
    """GET /jobs/7 answers "pending" twice, then "done" (one scenario, three states)."""
    cell(ip, 'GET /jobs/7 --name "pending 1" --scenario jobs --requires Started --next once', '{"state": "pending"}')
    cell(ip, 'GET /jobs/7 --name "pending 2" --scenario jobs --requires once --next finished', '{"state": "pending"}')
    cell(ip, 'GET /jobs/7 --name done --scenario jobs --requires finished', '{"state": "done"}')


def states(url: str, n: int) -> list[str]:
    return [requests.get(url, timeout=5).json()["state"] for _ in range(n)]


def test_scenario_walks_its_states_is_shown_and_reset(ip: InteractiveShell, tmp_path) -> None:
    define_jobs(ip)
    out(ip, "start --port 0 --no-dashboard")
    session = session_of(ip)
    assert session is not None
    url = session.url + "/jobs/7"
    assert "jobs = Started" in out(ip, "status")
    assert states(url, 4) == ["pending", "pending", "done", "done"]
    assert "jobs = finished" in out(ip, "status")
    admin = requests.get(session.url + "/__postmock/scenarios", timeout=5).json()
    assert admin == {"jobs": "finished"}
    # a pick by name answers whatever the state and moves nothing
    picked = requests.get(url, headers={"x-mock-response-name": "pending 1"}, timeout=5)
    assert picked.json() == {"state": "pending"} and "jobs = finished" in out(ip, "status")
    assert "jobs" in out(ip, "reset")
    assert "jobs = Started" in out(ip, "status")
    assert states(url, 1) == ["pending"]
    assert requests.delete(session.url + "/__postmock/scenarios", timeout=5).status_code == 204
    assert requests.get(session.url + "/__postmock/scenarios", timeout=5).json() == {"jobs": "Started"}
    # the log says why the others lost
    entry = session.server.log.recent(1)[0]
    assert any("requires 'once'" in c.lost for c in entry.result.candidates[1:])
    # saved: markers in originalRequest headers; `postmock serve` of the file walks the same states
    path = session.save(tmp_path / "jobs.postman_collection.json")
    saved = json.dumps(json.loads(path.read_text()))
    assert "x-mock-scenario" in saved and "requires=once; next=finished" in saved
    with MockServer(load_collection(path)) as other:
        assert states(other.url + "/jobs/7", 4) == ["pending", "pending", "done", "done"]


def test_no_example_in_the_current_state_is_a_404_that_says_why(ip: InteractiveShell) -> None:
    cell(ip, "GET /door --scenario door --requires open", '{"door": "open"}')
    out(ip, "start --port 0 --no-dashboard")
    missed = requests.get(session_of(ip).url + "/door", timeout=5)
    assert missed.status_code == 404
    assert "scenario 'door' is in state 'Started'" in missed.text


@pytest.mark.parametrize(("mode", "expected"), [
    ("cycle", ["a", "b", "c", "a", "b", "c", "a"]),
    ("stick", ["a", "b", "c", "c", "c", "c", "c"]),
])
def test_sequences_serve_an_items_examples_in_turn(ip: InteractiveShell, mode: str, expected: list[str]) -> None:
    for name in "abc":
        cell(ip, f"GET /turns --name {name} --sequence {mode}", json.dumps({"state": name}))
    out(ip, "start --port 0 --no-dashboard")
    url = session_of(ip).url + "/turns"
    assert states(url, len(expected)) == expected
    # an explicit name picks without taking a turn
    assert requests.get(url, headers={"x-mock-response-name": "a"}, timeout=5).json()["state"] == "a"
    out(ip, "reset")
    assert states(url, 2) == expected[:2]


def test_random_sequence_with_a_seed_repeats(tmp_path) -> None:
    from postmock_nb.session import Session

    runs = []
    for _ in range(2):
        session = Session()
        try:
            for name in "abcd":
                session.define("GET /dice", json.dumps({"state": name}), name=name,
                               request_headers=["x-mock-sequence: random; seed=7"])
            url = session.start(port=0).url + "/dice"
            runs.append(states(url, 12))
        finally:
            session.close()
    assert runs[0] == runs[1]
    assert len(set(runs[0])) > 1 and set(runs[0]) <= set("abcd")


def test_example_delay_range_and_precedence(ip: InteractiveShell) -> None:
    cell(ip, "GET /slow --delay 20-45", '{"state": "slow"}')
    cell(ip, "GET /fixed --delay 60", '{"state": "fixed"}')
    cell(ip, "GET /plain", '{"state": "plain"}')
    out(ip, "start --port 0 --no-dashboard --delay 30")  # the mock-wide delay: an example's own wins over it
    session = session_of(ip)
    for _ in range(50):  # each measured by the client too: the wait is real, not only logged
        started = time.monotonic()
        assert requests.get(session.url + "/slow", timeout=5).status_code == 200
        assert time.monotonic() - started >= 0.020
    requests.get(session.url + "/fixed", timeout=5)
    requests.get(session.url + "/fixed", headers={"x-mock-response-delay": "1"}, timeout=5)  # the request's wins
    requests.get(session.url + "/plain", timeout=5)
    entries = session.server.log.recent(53)[::-1]
    slow = [e for e in entries if e.path == "/slow"]
    assert len(slow) == 50 and all(20 <= e.delay_ms <= 45 and e.latency_ms >= e.delay_ms for e in slow)
    assert len({e.delay_ms for e in slow}) > 1  # drawn, not fixed
    assert [e.delay_ms for e in entries[50:]] == [60, 1, 30]
    assert entries[50].summary()["delay_ms"] == 60 and entries[50].latency_ms >= 60


@pytest.mark.parametrize(("line", "message"), [
    ("GET /x --sequence often", "cannot read the sequence"),
    ("GET /x --requires Started", "need a --scenario"),
    ("GET /x --delay 900-200", "cannot read the delay"),
    ("GET /x --delay fast", "cannot read the delay"),
    ("GET /x --fault explode", "unknown fault 'explode'"),
])
def test_bad_flow_options_are_refused_clearly(ip: InteractiveShell, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        cell(ip, line, "{}")
    assert session_of(ip).store.collection.examples == ()


def test_network_presets_set_the_mock_wide_delay(ip: InteractiveShell) -> None:
    from postmock_nb.config import MockConfig
    from postmock_nb.errors import ConfigError

    assert MockConfig(delay_ms="2G").delay_ms == 300 and MockConfig(delay_ms="250").delay_ms == 250
    with pytest.raises(ConfigError, match="--delay must be 0-180000 milliseconds, got 4G"):
        MockConfig(delay_ms="4G")
    cell(ip, "GET /net", '{"state": "net"}')
    out(ip, "start --port 0 --no-dashboard --delay 3g")
    session = session_of(ip)
    assert requests.get(session.url + "/net", timeout=5).json() == {"state": "net"}
    entry = session.server.log.recent(1)[0]
    assert entry.delay_ms == 100 and entry.latency_ms >= 100


def test_dashboard_shows_scenario_states_chaos_and_faults() -> None:
    from postmock_nb.notebook.widgets import Dashboard
    from postmock_nb.session import Session

    session = Session()
    session.define("GET /jobs/7", '{"state": "pending"}', name="pending",
                   request_headers=["x-mock-scenario: jobs; requires=Started; next=done"])
    session.define("GET /jobs/7", '{"state": "done"}', name="done",
                   request_headers=["x-mock-scenario: jobs; requires=done"])
    url = session.start(port=0, chaos=0.1, chaos_seed=1).url  # seed 1 draws 0.13, 0.85: no chaos for these two
    dashboard = Dashboard(session)
    try:
        requests.get(url + "/jobs/7", timeout=5)
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/jobs/7", headers={"x-mock-response-fault": "reset"}, timeout=5)
        deadline = time.monotonic() + 5
        while not (dashboard.log.options and dashboard.log.options[0][1] == 2) and time.monotonic() < deadline:
            time.sleep(0.02)  # the throttled refresh lands
        assert dashboard.log.options[0][1] == 2, dashboard.log.options
        assert "scenarios: jobs = done" in dashboard.status.value and "chaos 10%" in dashboard.status.value
        assert "fault reset" in dashboard.log.options[0][0]
    finally:
        dashboard.close()
        session.close()
