"""The collection shared on a real redis-server (``--state``): an edit on one replica is served by the others
within a second, racing edits all survive, a replica started later serves what is stored, the follower stops
with its server, and a Redis that was down is caught up with."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis
import requests
from IPython.core.error import UsageError
from support.redis_server import RedisServer
from support.waiting import wait_until

from postmock_nb.core.model import Collection
from postmock_nb.formats.postman import to_postman
from postmock_nb.notebook.magics import session_of
from postmock_nb.serving.server import MockServer
from postmock_nb.serving.shared.collection import SharedCollection
from postmock_nb.serving.shared.connection import StateUnavailable
from postmock_nb.session import Session

PREFIX = "team-mock"


def replica(collection: Collection, url: str) -> MockServer:
    """A replica on ``url``, not started yet (``with replica(...)`` starts and stops it)."""
    return MockServer(collection, state=url, state_prefix=PREFIX)


def status(server: MockServer, path: str) -> int:
    return requests.get(server.url + path, timeout=5).status_code


def shared(server: MockServer) -> SharedCollection:
    assert isinstance(server.store, SharedCollection)
    return server.store


def followers(url: str) -> int:
    """Connections to ``url``'s database whose last command is a follower's poll (HMGET of the version)."""
    db = url.rsplit("/", 1)[1]
    with redis.Redis.from_url(url) as client:
        return sum(1 for c in client.client_list() if c.get("db") == db and c.get("cmd") == "hmget")


@pytest.fixture
def two(redis_url: str, build) -> Iterator[tuple[MockServer, MockServer]]:
    a = replica(build.collection(build.example("GET /a", "a")), redis_url).start()
    b = replica(build.collection(build.example("GET /a", "a")), redis_url).start()
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_an_edit_on_one_replica_is_served_by_the_other_within_a_second(two, build):
    a, b = two
    assert status(b, "/b") == 404
    a.store.update(lambda c: c.with_example(build.example("GET /b", "b", body='{"from": "a"}')))
    wait_until(lambda: status(b, "/b") == 200, "replica B serving the example added on A", timeout=1.0)
    assert requests.get(b.url + "/b", timeout=5).json() == {"from": "a"}
    assert a.errors == [] and b.errors == []


def test_an_item_posted_to_one_replica_is_served_by_the_other_and_a_delete_travels_too(two, build):
    a, b = two
    posted = build.example("GET /posted", "posted", body='{"via": "admin"}')
    answer = requests.post(a.url + "/__postmock/items", json=to_postman(build.collection(posted)), timeout=5)
    assert answer.status_code == 201, answer.text
    wait_until(lambda: status(b, "/posted") == 200, "B serving the item posted to A", timeout=1.0)
    deleted = requests.delete(b.url + f"/__postmock/examples/{posted.id}", timeout=5)
    assert deleted.status_code == 200, deleted.text
    wait_until(lambda: status(a, "/posted") == 404, "A no longer serving the example deleted on B", timeout=1.0)


def test_edits_racing_on_two_replicas_all_survive(two, build):
    a, b = two
    start = threading.Barrier(2)

    def edit(server: MockServer, name: str) -> None:
        start.wait()
        for each in range(10):
            server.store.update(lambda c, e=each: c.with_example(build.example(f"GET /{name}/{e}", f"{name}{e}")))

    threads = [threading.Thread(target=edit, args=(server, name)) for server, name in ((a, "x"), (b, "y"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_until(lambda: shared(a).version == shared(b).version == 20, "both replicas at version 20", timeout=1.0)
    assert len(a.store.snapshot) == len(b.store.snapshot) == 21
    assert all(status(server, f"/{name}/9") == 200 for server in (a, b) for name in ("x", "y"))


def test_a_replica_started_later_serves_the_stored_collection_and_one_alone_stores_nothing(redis_url, build):
    with replica(build.collection(build.example("GET /first", "first")), redis_url) as first:
        with redis.Redis.from_url(redis_url) as client:
            assert not client.exists(f"postmock:{PREFIX}:collection")  # its own served, nothing stored until an edit
        first.store.update(lambda c: c.with_example(build.example("GET /added", "added")))
        with replica(build.collection(build.example("GET /own", "own")), redis_url) as later:
            assert status(later, "/added") == 200 and status(later, "/first") == 200 and status(later, "/own") == 404


def test_the_follower_stops_with_its_server(redis_url, build):
    servers = [replica(build.collection(), redis_url).start() for _ in range(3)]
    wait_until(lambda: followers(redis_url) == 3, "three followers polling")
    threads = [server._thread for server in servers]
    for server in servers:
        server.stop()  # at once after its start too: a follower cancelled in its first poll ends
    assert followers(redis_url) == 0  # each follower closed its connection before its server stopped
    assert not any(thread is not None and thread.is_alive() for thread in threads)
    assert all(server.errors == [] for server in servers)  # none "did not stop within 10 s"
    quick = replica(build.collection(), redis_url).start()
    quick.stop()
    assert quick.errors == []


def test_redis_down_refuses_edits_serves_on_and_catches_up_when_back(tmp_path, build):
    redis_server = RedisServer(tmp_path / "redis").start()
    try:
        a = replica(build.collection(build.example("GET /a", "a")), redis_server.url).start()
        b = replica(build.collection(build.example("GET /a", "a")), redis_server.url).start()
        a.store.update(lambda c: c.with_example(build.example("GET /b", "b")))
        wait_until(lambda: status(b, "/b") == 200, "B serving A's edit", timeout=1.0)
        redis_server.kill()
        with pytest.raises(StateUnavailable) as refused:
            b.store.update(lambda c: c.with_example(build.example("GET /lost", "lost")))
        assert refused.value.store == "collection"
        answer = requests.post(a.url + "/__postmock/items", timeout=5,
                               json=to_postman(build.collection(build.example("GET /lost", "lost"))))
        assert answer.status_code == 503 and answer.json()["error"]["store"] == "collection", answer.text
        assert status(a, "/b") == 200 and status(b, "/b") == 200 and status(b, "/lost") == 404  # the last snapshot
        redis_server.start()  # same port, empty (no persistence)
        wait_until(lambda: _edited(a, build), "an edit accepted once Redis is back")
        wait_until(lambda: status(b, "/c") == 200, "B catching up with A's edit after the restart", timeout=1.0)
        assert status(b, "/b") == 200
        assert a.errors == [] and b.errors == []  # Redis down is no error of the server's: said by status()
    finally:
        redis_server.stop()


def _edited(server: MockServer, build) -> bool:
    try:
        server.store.update(lambda c: c.with_example(build.example("GET /c", "c")))
    except StateUnavailable:  # the client is reconnecting
        return False
    return True


def test_the_session_edits_the_shared_collection_while_it_runs_with_state(redis_url, build):
    other = replica(build.collection(), redis_url).start()
    session = Session(Collection(name="Notebook mock"))
    local = session.store
    try:
        session.start(state=redis_url, state_prefix=PREFIX)
        assert isinstance(session.store, SharedCollection) and session.store.local is local
        session.define("GET /from-cell 200", '{"ok": true}')
        wait_until(lambda: status(other, "/from-cell") == 200, "the other replica serving the cell", timeout=1.0)
        other.store.update(lambda c: c.with_example(build.example("GET /from-other", "other")))
        wait_until(lambda: session.call("GET", "/from-other").status_code == 200, "the notebook serving it",
                   timeout=1.0)
    finally:
        session.stop()
        other.stop()
    assert session.store is local  # back in memory, with the last collection served
    assert sorted(e.request.path for e in local.collection.examples) == ["/from-cell", "/from-other"]


def test_a_notebook_recording_with_state_records_for_every_replica(redis_url, build, tmp_path):
    upstream = MockServer(build.collection(build.example("GET /real", "Real", body='{"real": true}'))).start()
    other = replica(build.collection(), redis_url).start()
    session = Session(Collection(name="Notebook mock"))
    try:
        session.start(state=redis_url, state_prefix=PREFIX, proxy=upstream.url, record=str(tmp_path / "rec.json"))
        assert session.call("GET", "/real").json() == {"real": True}  # proxied, and recorded
        wait_until(lambda: status(other, "/real") == 200, "the other replica serving the recorded answer",
                   timeout=2.0)
    finally:
        session.stop()
        other.stop()
        upstream.stop()


def test_a_cell_edit_with_redis_down_is_a_usage_error_and_the_notebook_serves_on(shell, tmp_path):
    redis_server = RedisServer(tmp_path / "redis").start()
    try:
        shell.run_cell_magic("example", "GET /a 200", '{"a": 1}')
        shell.run_line_magic("mock", f"start --no-dashboard --state {redis_server.url}")
        session = session_of(shell)
        assert session is not None and isinstance(session.store, SharedCollection)
        redis_server.kill()
        before = session.store.snapshot
        with pytest.raises(UsageError) as refused:
            shell.run_cell_magic("example", "GET /b 200", '{"b": 2}')
        assert "the shared collection store is unavailable" in str(refused.value)
        assert "Hint: start Redis again" in str(refused.value) and "nothing was changed" in str(refused.value)
        assert session.store.snapshot is before and session.call("GET", "/a").json() == {"a": 1}
    finally:
        shell.run_line_magic("mock", "stop")
        redis_server.stop()
