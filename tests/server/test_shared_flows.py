"""Scenarios and sequences shared on a real Redis (``--state``): replicas (MockServers on one URL) walk one
scenario and hand out each turn of a sequence once, however they race; Redis killed mid-run answers 503
``stateUnavailable`` (naming the store; the health check and ``Session.status`` say so) while static examples
are still served, and the same replicas serve again once Redis is back, without a restart."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from support.builders import make_collection, make_example
from support.redis_server import RedisServer
from support.waiting import wait_until

from postmock_nb.core.model import Collection
from postmock_nb.notebook.magics import session_of
from postmock_nb.notebook.widgets import Dashboard
from postmock_nb.serving.server import MockServer
from postmock_nb.session import Session

STEPS = [("Started", "placed"), ("placed", "paid"), ("paid", "shipped"), ("shipped", "Started")]
TURNS = 48
"""Examples of the racing sequence (each answers once in TURNS requests: within the engine's 50 scored)."""


def _collection() -> Collection:
    """A 4-step scenario (GET /order), a cycle of TURNS examples (GET /ticket) and a static example (GET /ping)."""
    return make_collection(
        *(make_example("GET /order", f"step {i}", body=json.dumps({"step": i}),
                       request_headers={"x-mock-scenario": f"order; requires={requires}; next={after}"})
          for i, (requires, after) in enumerate(STEPS)),
        *(make_example("GET /ticket", f"ticket {i}", body=json.dumps({"ticket": i}),
                       request_headers={"x-mock-sequence": "cycle"}) for i in range(TURNS)),
        make_example("GET /ping", "ping", body='{"pong": true}'),
        name="Shared flows")


@pytest.fixture(scope="module")
def replicas(redis_server: RedisServer) -> Iterator[list[MockServer]]:
    """Two replicas of one mock on one Redis database (each its own connection, the same keys)."""
    url = redis_server.db_url(63)
    import redis  # deferred: only the shared-state tests need the client

    with redis.Redis.from_url(url) as client:
        client.flushdb()
    servers = [MockServer(_collection(), port=0, state=url).start() for _ in range(2)]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def _reset(servers: list[MockServer]) -> None:
    assert requests.delete(servers[0].url + "/__postmock/scenarios", timeout=5).status_code == 204


def test_a_four_step_scenario_walks_across_replicas_hit_alternately(replicas: list[MockServer]) -> None:
    _reset(replicas)
    steps = [requests.get(replicas[turn % 2].url + "/order", timeout=5).json()["step"] for turn in range(9)]
    assert steps == [0, 1, 2, 3, 0, 1, 2, 3, 0]
    for server in replicas:  # each replica's admin API reads the one shared state
        assert requests.get(server.url + "/__postmock/scenarios", timeout=5).json() == {"order": "placed"}
    assert replicas[1].scenario_states() == {"order": "placed"}


def test_a_cycle_hands_out_each_turn_once_when_8_threads_race_on_2_replicas(replicas: list[MockServer]) -> None:
    _reset(replicas)
    answers: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def client(number: int) -> None:
        with requests.Session() as http:
            start.wait()
            mine = [http.get(replicas[(number + i) % 2].url + "/ticket", timeout=10).json()["ticket"]
                    for i in range(TURNS // 8)]
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answers) == list(range(TURNS))  # no turn twice, none skipped
    second = Counter(requests.get(replicas[n % 2].url + "/ticket", timeout=5).json()["ticket"] for n in range(4))
    assert second == Counter(range(4))  # the next round starts again at the first


def test_racing_replicas_move_a_scenario_exactly_once(replicas: list[MockServer]) -> None:
    _reset(replicas)
    seen: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def client(number: int) -> None:
        start.wait()
        step = requests.get(replicas[number % 2].url + "/order", timeout=10).json()["step"]
        with lock:
            seen.append(step)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(seen) == [0, 0, 1, 1, 2, 2, 3, 3]  # each step once per lap: never twice in a row, none lost


def test_a_seeded_random_sequence_draws_on_redis_as_one_process_in_memory(redis_url: str) -> None:
    dice = make_collection(*(make_example("GET /dice", str(face), body=str(face),
                                          request_headers={"x-mock-sequence": "random; seed=7"}) for face in range(6)))
    alone = MockServer(dice, port=0).start()  # in memory
    try:
        expected = [requests.get(alone.url + "/dice", timeout=5).text for _ in range(24)]
    finally:
        alone.stop()
    replicas = [MockServer(dice, port=0, state=redis_url).start() for _ in range(2)]
    try:
        drawn = [requests.get(replicas[n % 2].url + "/dice", timeout=5).text for n in range(24)]
    finally:
        for server in replicas:
            server.stop()
    assert drawn == expected and len(set(expected)) > 1  # Redis's Lua picks as Python does, turn by turn


def test_the_health_check_and_status_show_the_shared_state(replicas: list[MockServer]) -> None:
    health = requests.get(replicas[0].url + "/__postmock/health", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    state = health.json()["state"]
    assert state["available"] is True and state["prefix"] == "shared-flows" and state["url"].endswith("/63")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, which it kills and starts again on the same port."""
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


def test_redis_killed_mid_run_is_a_503_naming_the_store_then_service_resumes(own_redis: RedisServer) -> None:
    sessions = [Session(collection=_collection()) for _ in range(2)]
    try:
        urls = [session.start(port=0, state=own_redis.url).url for session in sessions]
        assert [requests.get(urls[n % 2] + "/order", timeout=5).json()["step"] for n in range(2)] == [0, 1]

        own_redis.kill()
        refused = requests.get(urls[0] + "/order", timeout=10)
        assert refused.status_code == 503
        error = refused.json()["error"]
        assert error["name"] == "stateUnavailable" and error["store"] == "scenarios"
        assert "does not answer" in error["message"]
        assert requests.get(urls[1] + "/ping", timeout=5).json() == {"pong": True}  # no state: no round trip
        health = requests.get(urls[1] + "/__postmock/health", timeout=10)
        assert health.status_code == 503 and health.json()["state"]["available"] is False
        assert health.json()["error"]["name"] == "stateUnavailable"
        status = sessions[0].status()
        assert status["state"]["available"] is False and "does not answer" in status["state"]["error"]
        assert "unavailable" in status["scenarios_unavailable"]

        own_redis.start()  # the same port; no persistence: the scenario starts again from Started
        wait_until(lambda: all(requests.get(url + "/__postmock/health", timeout=5).status_code == 200
                               for url in urls), "both replicas healthy again")
        assert [requests.get(urls[n % 2] + "/order", timeout=5).json()["step"] for n in range(5)] == [0, 1, 2, 3, 0]
        assert sessions[1].status()["state"]["available"] is True
        assert sessions[1].scenario_states() == {"order": "placed"}
    finally:
        for session in sessions:
            session.close()


def test_a_redis_that_refuses_the_state_is_a_503_never_a_500(redis_server: RedisServer) -> None:
    """A database index the Redis does not have (it has 64): a 503 naming the store and the reason, as when Redis
    does not answer (it was a 500 and a traceback at start); the static examples serve on."""
    with MockServer(_collection(), port=0, state=redis_server.db_url(99)) as mock:
        refused = requests.get(mock.url + "/order", timeout=10)
        assert refused.status_code == 503, refused.text
        error = refused.json()["error"]
        assert error["name"] == "stateUnavailable" and error["store"] == "scenarios"
        reason = "refuses the call (ResponseError: DB index is out of range)"
        assert reason in error["message"]
        health = requests.get(mock.url + "/__postmock/health", timeout=10)
        assert health.status_code == 503 and reason in health.json()["state"]["error"]
        assert requests.get(mock.url + "/ping", timeout=5).json() == {"pong": True}


def test_a_session_goes_back_to_its_own_states_without_state(redis_url: str) -> None:
    session = Session(collection=_collection())
    try:
        url = session.start(port=0).url  # in memory: order → placed
        assert requests.get(url + "/order", timeout=5).json()["step"] == 0
        session.stop()
        url = session.start(port=0, state=redis_url).url  # on Redis: its own states, from Started
        assert [requests.get(url + "/order", timeout=5).json()["step"] for _ in range(2)] == [0, 1]
        assert session.scenario_states() == {"order": "paid"}
        session.stop()
        url = session.start(port=0).url  # back in memory: as the session left them
        assert session.scenario_states() == {"order": "placed"}
        assert requests.get(url + "/order", timeout=5).json()["step"] == 1
    finally:
        session.close()


def test_the_magics_and_the_dashboard_say_when_redis_is_down(shell: InteractiveShell, own_redis: RedisServer) -> None:
    session = session_of(shell)
    session.store.update(lambda _: _collection())
    with capture_output() as started:
        shell.run_line_magic("mock", f"start --port 0 --no-dashboard --state {own_redis.url} --state-prefix magics")
    assert "Mock running at" in started.stdout
    url = session.url
    assert requests.get(url + "/order", timeout=5).json()["step"] == 0
    dashboard = Dashboard(session)
    try:
        with capture_output() as up:
            shell.run_line_magic("mock", "status")
        assert f"Shared state: redis://127.0.0.1:{own_redis.port}/0 (prefix magics), available" in up.stdout
        assert "Scenarios: order = placed" in up.stdout
        assert f"state: redis://127.0.0.1:{own_redis.port}/0 (prefix magics)" in dashboard.status.value
        assert "order = placed" in dashboard.status.value  # as this process last saw it: no round trip

        own_redis.kill()
        assert requests.get(url + "/order", timeout=10).status_code == 503
        scenarios = requests.get(url + "/__postmock/scenarios", timeout=10)
        assert scenarios.status_code == 503 and scenarios.json()["error"]["store"] == "scenarios"
        with capture_output() as down:
            shell.run_line_magic("mock", "status")
        assert "(prefix magics), UNAVAILABLE: Redis at redis://127.0.0.1:" in down.stdout
        assert "Scenarios: the shared scenarios store is unavailable" in down.stdout
        dashboard.refresh()
        assert "state unavailable" in dashboard.status.value and "does not answer" in dashboard.status.value
        with pytest.raises(UsageError, match="the shared scenarios store is unavailable") as refused:
            shell.run_line_magic("mock", "reset")
        assert "start Redis again" in str(refused.value)

        own_redis.start()
        wait_until(lambda: requests.get(url + "/order", timeout=5).status_code == 200, "the mock answering again")
        with capture_output() as back:
            shell.run_line_magic("mock", "status")
        assert "(prefix magics), available" in back.stdout
    finally:
        dashboard.close()
