"""The request journal on a real redis-server (``--state``): two replicas (MockServers on one Redis) share one
log, each response is in every replica's log as it arrives (a WebSocket connection open, then again closed; a stream
complete), the stream stays capped, and a Redis that goes away
costs the static examples nothing: their entries are written when it is back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from IPython.core.error import UsageError
from support.builders import make_collection, make_example
from support.redis_server import RedisServer
from support.waiting import wait_until

from postmock_nb.formats.postman import save_collection
from postmock_nb.notebook.magics import session_of
from postmock_nb.notebook.widgets import Dashboard
from postmock_nb.serving.server import MockServer
from postmock_nb.serving.shared.journal import SharedJournal
from postmock_nb.session import Session

COLLECTION = make_collection(make_example("GET /users", "List users", body='[{"id": 1}]'),
                             make_example("POST /users", "Create user", status=201, body='{"id": 2}'),
                             make_example("GET /ws/room", "room", body="> join\n< welcome",
                                          request_headers={"x-mock-websocket": "true"}),
                             make_example("GET /events", "events", body="data: 1\n\ndata: 2\n\n",
                                          request_headers={"x-mock-sse": "true"}),
                             name="shared journal")


def _log(server: MockServer, **params: object) -> list[dict[str, object]]:
    response = requests.get(server.url + "/__postmock/log", params=params, timeout=10)
    assert response.status_code == 200, response.text
    found: list[dict[str, object]] = response.json()
    return found


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, MockServer, str]]:
    """Replica A (a Session, as the notebook runs it) and replica B (a MockServer) on one Redis."""
    redis_server = RedisServer(tmp_path_factory.mktemp("redis-journal")).start()
    url = redis_server.url
    session = Session()
    session.store.update(lambda _: COLLECTION)
    session.start(port=0, state=url, log_size=40)
    b = MockServer(COLLECTION, port=0, state=url, log_size=40).start()
    try:
        yield session, b, url
    finally:
        session.stop()
        b.stop()
        redis_server.stop()


@pytest.fixture
def cleared(replicas: tuple[Session, MockServer, str]) -> tuple[MockServer, MockServer, Session]:
    session, b, _ = replicas
    assert session.server is not None
    assert requests.delete(b.url + "/__postmock/log", timeout=10).status_code == 204
    return session.server, b, session


def test_each_replica_logs_every_request_of_both(cleared):
    a, b, session = cleared
    for number in range(12):  # alternately, with a miss every fourth
        server = (a, b)[number % 2]
        path = "/nowhere" if number % 4 == 3 else "/users"
        requests.get(f"{server.url}{path}?n={number}", timeout=10)
    for server in (a, b):
        entries = _log(server)
        assert sorted(int(str(e["url"]).rsplit("=", 1)[1]) for e in entries) == list(range(12))
        assert len({e["seq"] for e in entries}) == 12
        assert {e["replica"] for e in entries} == {a.log.replica, b.log.replica}  # type: ignore[attr-defined]
        health = requests.get(server.url + "/__postmock/health", timeout=10).json()
        assert (health["requests"], health["misses"]) == (12, 3) and health["journal"]["dropped"] == 0
        assert [e["url"] for e in _log(server, unmatched=1)] == ["/nowhere?n=11", "/nowhere?n=7", "/nowhere?n=3"]
    status = session.status()
    assert (status["requests"], status["misses"]) == (12, 3)
    assert session.server.log.hit_counts() == {COLLECTION.examples[0].id: 9}


def test_a_response_of_one_replica_is_in_the_other_s_log_as_it_arrives(cleared):
    a, b, _ = cleared
    for number in range(25):
        sender, reader = (a, b) if number % 2 else (b, a)
        assert requests.post(f"{sender.url}/users?k={number}", timeout=10).status_code == 201
        newest = _log(reader, limit=1)
        assert newest[0]["url"] == f"/users?k={number}", number  # no wait: written before the response went out


def test_a_connection_is_open_in_the_other_s_log_then_closed_with_its_transcript(cleared):
    from websockets.sync.client import connect

    a, b, _ = cleared
    with connect(a.url.replace("http", "ws", 1) + "/ws/room", open_timeout=5) as client:
        client.send("join")
        assert client.recv(timeout=5) == "welcome"
        wait_until(lambda: _log(b), "the connection in B's log")
        [row] = _log(b)
        assert (row["status"], row["channel"], row["live"]) == (101, "websocket", True)
        assert str(row["note"]).startswith("WebSocket open: ")  # as first written: progress is not written
    wait_until(lambda: not _log(b)[0]["live"], "the closed connection in B's log")
    [row] = _log(b)
    assert str(row["note"]).startswith("WebSocket: 1 sent, 1 received, closed ") and row["replica"] == a.log.replica
    detail = requests.get(f"{b.url}/__postmock/log/{row['seq']}", timeout=10).json()
    assert detail["response"]["body"].startswith("> join\n< welcome\n-- WebSocket: 1 sent, 1 received, closed ")


def test_a_stream_is_complete_in_the_other_s_log(cleared):
    a, b, _ = cleared
    assert requests.get(f"{b.url}/events", timeout=10).text == "data: 1\n\ndata: 2\n\n"
    wait_until(lambda: _log(a) and not _log(a)[0]["live"], "the stream's row complete in A's log")
    [row] = _log(a)
    assert (row["channel"], row["note"]) == ("stream", "sse: 2 of 2 events sent")


def test_another_replica_s_miss_is_explained_as_the_replica_that_served_it_did(cleared):
    a, b, _ = cleared
    requests.get(f"{a.url}/orders/7", headers={"x-api-key": "secret-key"}, timeout=10)
    [entry] = _log(b)
    theirs = requests.get(f"{b.url}/__postmock/log/{entry['seq']}", timeout=10)
    mine = requests.get(f"{a.url}/__postmock/log/{entry['seq']}", timeout=10).json()  # A kept the match itself
    assert theirs.status_code == 200 and theirs.json()["url"] == "/orders/7"
    assert theirs.json()["diagnosis"] == mine["diagnosis"]
    assert "No example matched GET /orders/7" in mine["diagnosis"]["text"] and "secret-key" not in theirs.text


def test_the_stream_stays_capped(cleared, replicas):
    a, b, _ = cleared
    url = replicas[2]
    with requests.Session() as client:
        for number in range(300):
            client.get(f"{(a, b)[number % 2].url}/users?c={number}", timeout=10)
    assert len(_log(a)) == 40 and _log(b, limit=1)[0]["url"] == "/users?c=299"
    journal = b.log
    assert isinstance(journal, SharedJournal)
    with redis.Redis.from_url(url) as client:
        node = int(client.config_get("stream-node-max-entries")["stream-node-max-entries"])
        length = client.xlen(journal.stream_key)
    assert length <= 40 + node < 300
    assert requests.get(b.url + "/__postmock/health", timeout=10).json()["requests"] == 300


def test_redis_down_the_static_examples_are_answered_and_logged_when_it_is_back(tmp_path: Path):
    redis_server = RedisServer(tmp_path / "redis").start()
    a = MockServer(COLLECTION, port=0, state=redis_server.url).start()
    b = MockServer(COLLECTION, port=0, state=redis_server.url).start()
    try:
        requests.get(a.url + "/users?before", timeout=10)
        [before] = _log(a)  # acknowledged (a reader waits for the batches in flight)
        redis_server.kill()  # and lost with it: no persistence
        answered = [requests.get(f"{a.url}/users?down={n}", timeout=10).status_code for n in range(10)]
        assert answered == [200] * 10
        refused = requests.get(a.url + "/__postmock/log", timeout=10)
        assert refused.status_code == 503 and refused.json()["error"]["name"] == "stateUnavailable"
        assert "journal" in refused.json()["error"]["message"]
        health = requests.get(a.url + "/__postmock/health", timeout=10)
        assert health.status_code == 503
        assert a.log.status()["queued"] == 10  # type: ignore[attr-defined]
        redis_server.start()
        # B reads: A's writer (not a reader of A) writes what it kept, by itself
        wait_until(lambda: len(_log(b)) == 10, "A's queue written once Redis is back")
        assert sorted(str(e["url"]) for e in _log(b)) == sorted(f"/users?down={n}" for n in range(10))
        assert requests.get(b.url + "/__postmock/health", timeout=10).json()["requests"] == 10
        for number in range(4):  # Redis came back empty (its seq counter too): numbers still never clash
            assert requests.get(f"{(a, b)[number % 2].url}/users?after={number}", timeout=10).status_code == 200
        assert _log(b, limit=1)[0]["url"] == "/users?after=3"
        seqs = [int(str(e["seq"])) for e in _log(a)]
        assert len(seqs) == 14 and len(set(seqs)) == 14 and min(seqs) > int(str(before["seq"]))
    finally:
        a.stop()
        b.stop()
        redis_server.stop()


def test_a_batch_refused_by_a_redis_restarted_empty_is_written_again_by_itself(tmp_path: Path):
    redis_server = RedisServer(tmp_path / "redis").start()
    a = MockServer(COLLECTION, port=0, state=redis_server.url).start()
    b = MockServer(COLLECTION, port=0, state=redis_server.url).start()
    try:
        requests.get(a.url + "/users?before", timeout=10)
        assert len(_log(a)) == 1
        redis_server.kill()
        redis_server.start()  # empty, before A wrote anything: A's next batch holds numbers of the old epoch
        assert requests.get(a.url + "/users?after", timeout=10).status_code == 200
        # B reads (B has nothing queued): A's writer, refused for the epoch, renumbers and writes it by itself
        wait_until(lambda: [e["url"] for e in _log(b)] == ["/users?after"], "A's entry written again by itself")
        assert requests.get(b.url + "/__postmock/health", timeout=10).json()["requests"] == 1
    finally:
        a.stop()
        b.stop()
        redis_server.stop()


def test_the_notebook_shows_every_replica_and_says_when_redis_is_away(shell, tmp_path: Path):
    redis_server = RedisServer(tmp_path / "redis").start()
    other = MockServer(COLLECTION, port=0, state=redis_server.url, state_prefix="team").start()
    try:
        shell.run_line_magic("mock", f"load {_saved(tmp_path)}")
        shell.run_line_magic("mock", f"start --port 0 --no-dashboard --state {redis_server.url} --state-prefix team")
        session = session_of(shell)
        requests.get(other.url + "/users?from=other", timeout=10)
        requests.get(session.url + "/users?from=notebook", timeout=10)
        table = shell.run_line_magic("mock", "log")
        rows = {row.split()[4]: row.split()[-1] for row in repr(table).splitlines()[2:]}
        assert rows == {"/users?from=other": other.log.replica,  # type: ignore[attr-defined]
                        "/users?from=notebook": session.server.log.replica}  # type: ignore[union-attr]
        assert session.status()["requests"] == 2
        redis_server.kill()
        with pytest.raises(UsageError, match="shared journal store is unavailable") as refused:
            shell.run_line_magic("mock", "log")
        assert "Hint: start Redis again" in str(refused.value)
        status = session.status()
        assert "requests" not in status and "unavailable" in status["journal_error"]
        assert status["journal"]["writer"] in ("connected", "waiting for Redis")
    finally:
        shell.run_line_magic("mock", "stop")
        other.stop()
        redis_server.stop()


def _saved(tmp_path: Path) -> Path:
    path = tmp_path / "collection.json"
    save_collection(COLLECTION, path)
    return path


def test_the_dashboard_lists_every_replica_s_requests_reading_redis_off_the_loop(tmp_path: Path):
    redis_server = RedisServer(tmp_path / "redis").start()
    other = MockServer(COLLECTION, port=0, state=redis_server.url, state_prefix="team").start()
    session = Session()
    session.store.update(lambda _: COLLECTION)
    session.start(port=0, state=redis_server.url, state_prefix="team")
    dashboard = Dashboard(session)
    readers: list[str] = []
    journal = session.server.log  # type: ignore[union-attr]
    recent = journal.recent
    journal.recent = lambda *a, **k: readers.append(threading.current_thread().name) or recent(*a, **k)  # type: ignore[method-assign]
    try:
        requests.get(other.url + "/users?from=other", timeout=10)
        requests.get(session.url + "/users?from=notebook", timeout=10)  # its entry asks for a refresh
        wait_until(lambda: len(dashboard.log.options) == 2, "the dashboard to list both replicas' requests")
        assert [label.split()[3] for label, _ in dashboard.log.options] == ["/users?from=notebook",
                                                                          "/users?from=other"]
        assert readers and all(name.startswith("postmock-dashboard") for name in readers)
    finally:
        dashboard.close()
        session.close()
        other.stop()
        redis_server.stop()
