"""The threaded server (postmock_nb.serving.server.MockServer) on real sockets, 127.0.0.1 only."""

from __future__ import annotations

import os
import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from postmock_nb.core.model import Collection
from postmock_nb.errors import ServerError
from postmock_nb.matching.store import LiveCollection
from postmock_nb.serving.server import REUSE_PORT, MockServer

TIMEOUT = 5


def server_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("postmock-server-") and t.is_alive()]


@pytest.fixture
def collection(build) -> Collection:
    return build.collection(build.example("GET /ping", "pong", body="pong"),
                            build.example("GET /users/:id", "user", body='{"id": "{{id}}"}'))


def test_start_returns_once_serving(collection):
    server = MockServer(collection)
    assert server.start() is server
    try:
        assert server.running and server.started_at is not None
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url), server.url
        # no retry loop: the first request after start() must be answered
        response = requests.get(server.url + "/ping", timeout=TIMEOUT)
        assert (response.status_code, response.text) == (200, "pong")
    finally:
        server.stop()


def test_port_zero_picks_a_free_port(collection):
    with MockServer(collection, port=0) as one, MockServer(collection, port=0) as two:
        assert one.port and two.port and one.port != two.port
        assert requests.get(two.url + "/users/5", timeout=TIMEOUT).json() == {"id": "5"}


def test_stop_releases_the_port(collection):
    server = MockServer(collection).start()
    port = server.port
    requests.get(server.url + "/ping", timeout=TIMEOUT)
    server.stop()
    assert (server.running, server.port, server.started_at) == (False, None, None)
    with socket.socket() as sock:  # as any server would bind it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
    again = MockServer(collection, port=port).start()
    assert requests.get(f"http://127.0.0.1:{port}/ping", timeout=TIMEOUT).text == "pong"
    again.stop()


def test_stop_releases_the_port_for_a_plain_bind(collection):
    server = MockServer(collection).start()
    port = server.port
    server.stop()
    with socket.socket() as sock:  # no SO_REUSEADDR: fails if anything still holds the port
        sock.bind(("127.0.0.1", port))
        assert sock.getsockname() == ("127.0.0.1", port)


def test_start_twice_is_an_error(collection):
    server = MockServer(collection).start()
    with pytest.raises(ServerError) as caught:
        server.start()
    assert str(caught.value) == f"the mock is already running at {server.url}\nHint: stop it first, or use it as it is"
    assert requests.get(server.url + "/ping", timeout=TIMEOUT).status_code == 200  # still serving
    server.stop()


def test_port_in_use_is_a_clear_error(collection):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        server = MockServer(collection, port=port)
        with pytest.raises(ServerError) as caught:
            server.start()
    assert str(caught.value) == (f"port {port} on 127.0.0.1 is already in use\n"
                                 f"Hint: choose another --port, or --port 0 for a free one")
    assert not server.running and not server_threads()


def test_workers_listen_on_sockets_of_their_own(collection):
    """``bind(workers=3)``: a listening socket for each of 2 workers, on the server's port (``--port 0`` picked it);
    with SO_REUSEPORT each a socket of its own, and a second mock of workers on that port is still refused."""
    server = MockServer(collection)
    port = server.bind(workers=3)
    listeners = server.worker_listeners()
    try:
        assert [listener.getsockname()[1] for listener in listeners] == [port, port]
        assert server.worker_listeners() == [], "handed over once"
        sockets = {os.fstat(fd).st_ino for fd in (server.listening_fd(), *(one.fileno() for one in listeners))}
        assert len(sockets) == (3 if REUSE_PORT else 1), "three sockets, or duplicates of one shared"
        if REUSE_PORT:
            assert all(listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for listener in listeners)
        with pytest.raises(ServerError, match=f"^port {port} on 127.0.0.1 is already in use"):
            MockServer(collection, port=port).bind(workers=2)
    finally:
        for listener in listeners:
            listener.close()
        server.stop()
    with socket.socket() as again:  # every socket closed: the port is free
        again.bind(("127.0.0.1", port))


def test_bad_host_is_a_clear_error(collection):
    with pytest.raises(ServerError, match=r"^cannot listen on 256\.0\.0\.1:0: "):
        MockServer(collection, host="256.0.0.1").start()


def test_empty_api_key_is_refused(collection):
    with pytest.raises(ServerError, match="the API key is empty"):
        MockServer(collection, private=True, api_key="  ")


def test_private_server_makes_a_key(collection):
    with MockServer(collection, private=True) as server:
        assert re.fullmatch(r"PMAK-[0-9a-f]{32}", server.api_key), server.api_key
        assert requests.get(server.url + "/ping", timeout=TIMEOUT).status_code == 401
        assert requests.get(server.url + "/ping", headers={"x-api-key": server.api_key}, timeout=TIMEOUT).text == "pong"
        assert "private" in repr(server)


def test_context_manager(collection):
    with MockServer(collection) as server:
        assert server.running
        assert f"running at {server.url}" in repr(server)
        assert requests.get(server.url + "/ping", timeout=TIMEOUT).text == "pong"
    assert not server.running and repr(server) == "<MockServer stopped, 2 examples>"
    with pytest.raises(ServerError, match="the mock is not running"):
        server.url


def test_synchronous_calls_from_the_same_thread(collection):
    """A notebook cell calls the mock from the kernel's thread: the server must not share it."""
    with MockServer(collection) as server, requests.Session() as session:
        for n in range(30):  # keep-alive connection, sequential calls
            assert session.get(f"{server.url}/users/{n}", timeout=TIMEOUT).json() == {"id": str(n)}
        assert server.log.total == 30


def test_concurrent_clients(collection):
    with MockServer(collection) as server:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda n: requests.get(f"{server.url}/users/{n}", timeout=TIMEOUT).status_code,
                                     range(40)))
        assert statuses == [200] * 40
        assert server.log.total == 40


def test_no_server_thread_remains_after_stop(collection):
    before = server_threads()
    server = MockServer(collection).start()
    assert server_threads() == before + [f"postmock-server-{server.port}"]
    requests.get(server.url + "/ping", timeout=TIMEOUT)
    server.stop()
    assert server_threads() == before


def test_stop_is_safe_twice_and_before_start(collection):
    never = MockServer(collection)
    never.stop()
    server = MockServer(collection).start()
    server.stop()
    server.stop()
    assert not server.running and not server_threads()


def test_restart_after_stop(collection):
    server = MockServer(collection).start()
    server.stop()
    server.start()
    assert requests.get(server.url + "/ping", timeout=TIMEOUT).text == "pong"
    server.stop()


def test_errors_in_the_app_are_recorded_and_serving_goes_on(build, monkeypatch):
    from postmock_nb.answers import templating

    monkeypatch.setitem(templating.FAKER_PROVIDERS, "randomBoom", lambda faker: 1 / 0)
    collection = build.collection(build.example("GET /boom", "boom", body="{{$randomBoom}}"),
                                  build.example("GET /ping", "pong", body="pong"))
    with MockServer(collection) as server:
        boom = requests.get(server.url + "/boom", timeout=TIMEOUT)
        assert boom.status_code == 500 and boom.json()["error"]["name"] == "mockServerError"
        assert len(server.errors) == 1 and "ZeroDivisionError: division by zero" in server.errors[0], server.errors
        assert requests.get(server.url + "/ping", timeout=TIMEOUT).text == "pong"
        assert server.running


def test_live_edit_is_served_without_restart(build, collection):
    store = LiveCollection(collection)
    with MockServer(store) as server:
        assert server.store is store
        assert requests.get(server.url + "/new", timeout=TIMEOUT).status_code == 404
        server.store.update(lambda c: c.with_example(build.example("GET /new", "new", body="fresh")))
        response = requests.get(server.url + "/new", timeout=TIMEOUT)
        assert (response.status_code, response.text) == (200, "fresh")
        server.store.replace(Collection())
        assert requests.get(server.url + "/ping", timeout=TIMEOUT).status_code == 404


def test_recorded_date_and_server_headers_are_not_sent_twice(load_fixture):
    """folder-tests.json saved Date and Server from postman-echo: the live server sends its own, once."""
    import http.client

    with MockServer(load_fixture("folder-tests.json")) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        connection.request("GET", "/get?name=Jordan")
        response = connection.getresponse()
        names = [name.lower() for name, _ in response.getheaders()]
        connection.close()
    assert response.status == 200
    assert names.count("date") == 1 and names.count("server") <= 1, response.getheaders()
    assert response.getheader("date") != "Tue, 02 Jul 2024 00:01:58 GMT"  # the recorded one
    assert response.getheader("etag") == 'W/"27f-8BGX9iglITEMb2IQy4uvMr1EAHU"'  # other saved headers stay


def test_settings_reach_the_app(build):
    collection = build.collection(build.example("GET /me", "admin", request_headers={"x-role": "admin"}, body="admin"),
                                  build.example("GET /me", "guest", request_headers={"x-role": "guest"}, body="guest"))
    with MockServer(collection, match_headers=("x-role",), cors=False, log_size=3) as server:
        response = requests.get(server.url + "/me", headers={"x-role": "guest"}, timeout=TIMEOUT)
        assert response.text == "guest" and "access-control-allow-origin" not in response.headers
        for _ in range(5):
            requests.get(server.url + "/me", timeout=TIMEOUT)
        assert (len(server.log.entries), server.log.total) == (3, 6)


# -- the autouse fixture of conftest.py stops what a test leaves running -------------------------

_LEFT_RUNNING: list[MockServer] = []


def test_leaves_a_server_running(collection, stop_leftover_servers):
    server = MockServer(collection).start()
    _LEFT_RUNNING.append(server)
    assert stop_leftover_servers == [server]


def test_the_server_left_running_was_stopped():
    if not _LEFT_RUNNING:
        pytest.skip("runs after test_leaves_a_server_running")
    assert not _LEFT_RUNNING[0].running and _LEFT_RUNNING[0].port is None
    assert not server_threads()
