"""``POST /__postmock/broadcast`` and ``Client.broadcast``: a test run pushes a message to the WebSocket clients
of a running mock, over a real socket, with a real WebSocket client (``websockets``). Without ``--state`` the
process that takes the call delivers; with ``--state`` on a real Redis every replica delivers to its own
clients (two MockServers on one URL, the client on the other one). A write like the others: the admin key
when there is one; a body that is not a broadcast is a 400 saying what is wrong; a route that is no WebSocket
route a 404 naming those there are; several workers without ``--state``, a 409."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import requests
from support.builders import make_collection, make_example
from support.sockets import ws_url
from websockets.sync.client import connect

from postmock_nb.client import Client, ClientError
from postmock_nb.core.model import Collection
from postmock_nb.serving.server import MockServer


def _collection() -> Collection:
    return make_collection(
        make_example("GET /ws/feed", "feed", body="< hello", request_headers={"x-mock-websocket": "true"}),
        make_example("GET /ping", "ping", body='{"pong": true}'),
        name="Broadcasts")



@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(_collection(), port=0) as running:
        yield running
        assert running.errors == []


def test_a_client_pushes_to_every_open_socket_of_the_route(server: MockServer) -> None:
    with connect(ws_url(server, "/ws/feed"), open_timeout=5) as first, \
            connect(ws_url(server, "/ws/feed"), open_timeout=5) as second:
        assert first.recv(timeout=5) == second.recv(timeout=5) == "hello"
        with Client(server.url) as mock:
            assert mock.broadcast("/ws/feed", {"order": 7, "status": "shipped"}) == 2
            assert mock.broadcast("/ws/feed", "plain text") == 2
        for socket in (first, second):
            assert json.loads(socket.recv(timeout=5)) == {"order": 7, "status": "shipped"}
            assert socket.recv(timeout=5) == "plain text"


def test_bad_broadcasts_say_what_is_wrong_and_send_nothing(server: MockServer) -> None:
    url = server.url + "/__postmock/broadcast"
    cases = [(b"", "the body is empty"), (b'{"route": "/ws/feed"', "not valid JSON"),
             (b'{"route": "/ws/feed"}', 'expected {"route"'), (b'{"route": "ws", "message": 1}', "route: a WebSocket path"),
             (b'{"route": "/ws/feed", "message": 1, "extra": 2}', 'expected {"route"')]
    with connect(ws_url(server, "/ws/feed"), open_timeout=5) as socket:
        assert socket.recv(timeout=5) == "hello"
        for body, said in cases:
            answer = requests.post(url, data=body, headers={"content-type": "application/json"}, timeout=5)
            assert answer.status_code == 400, body
            assert said in answer.json()["error"]["message"], (body, answer.text)
        unknown = requests.post(url, json={"route": "/ws/nope", "message": "x"}, timeout=5)
        assert unknown.status_code == 404
        assert unknown.json()["error"]["message"] == "no WebSocket route '/ws/nope' (routes: /ws/feed)"
        assert requests.post(url, json={"route": "/ws/feed", "message": "last"}, timeout=5).json() == {
            "route": "/ws/feed", "sent": 1}
        assert socket.recv(timeout=5) == "last"  # nothing of the refused ones came before it


def test_the_admin_key_guards_broadcasts() -> None:
    with MockServer(_collection(), port=0, admin_key="ci-key") as server:
        refused = requests.post(server.url + "/__postmock/broadcast", json={"route": "/ws/feed", "message": 1},
                                timeout=5)
        assert refused.status_code == 401
        with Client(server.url) as keyless, pytest.raises(ClientError):
            keyless.broadcast("/ws/feed", 1)
        with Client(server.url, admin_key="ci-key") as mock:
            assert mock.broadcast("/ws/feed", 1) == 0


def test_several_workers_without_shared_state_refuse_broadcasts() -> None:
    with MockServer(_collection(), port=0, workers=2) as server:  # the settings say 2: as each worker would
        answer = requests.post(server.url + "/__postmock/broadcast", json={"route": "/ws/feed", "message": 1},
                               timeout=5)
    assert answer.status_code == 409
    assert answer.json()["error"]["name"] == "writesNeedSharedState"


def test_with_shared_state_every_replica_delivers_to_its_own_clients(redis_url: str) -> None:
    replicas = [MockServer(_collection(), port=0, state=redis_url).start() for _ in range(2)]
    try:
        with connect(ws_url(replicas[1], "/ws/feed"), open_timeout=5) as socket:  # on the second replica
            assert socket.recv(timeout=5) == "hello"
            with Client(replicas[0].url) as mock:  # the call reaches the first
                answer = requests.post(replicas[0].url + "/__postmock/broadcast",
                                       json={"route": "/ws/feed", "message": {"n": 1}}, timeout=5)
                assert answer.json() == {"route": "/ws/feed", "sent": 0, "shared": True}
                assert json.loads(socket.recv(timeout=5)) == {"n": 1}  # within the other replica's poll
                assert mock.broadcast("/ws/feed", "two") == 0
                assert socket.recv(timeout=5) == "two"
            assert replicas[1].broadcast("/ws/feed", "its own") == 1  # delivered here once, not again from Redis
            assert socket.recv(timeout=5) == "its own"
            with pytest.raises(TimeoutError):
                socket.recv(timeout=1)
    finally:
        for replica in replicas:
            replica.stop()
    assert [r.errors for r in replicas] == [[], []]


def test_a_flood_of_broadcasts_reaches_another_replicas_client_whole_and_in_order(redis_url: str) -> None:
    """Thousands of broadcasts at once: the other replica reads the stream as fast as they come (it read 100 per
    0.2 s poll, so the stream's cap trimmed most of them away before they were read: 1343 of 3000 arrived)."""
    replicas = [MockServer(_collection(), port=0, state=redis_url).start() for _ in range(2)]
    count = 3000
    try:
        with connect(ws_url(replicas[1], "/ws/feed"), open_timeout=5) as socket:
            assert socket.recv(timeout=5) == "hello"
            got: list[str | bytes] = []
            reader = threading.Thread(target=lambda: got.extend(socket.recv(timeout=10) for _ in range(count)))
            reader.start()  # a client that reads as they come (one that does not is dropped after 2 s: see
            for n in range(count):  # test_realtime_abuse): what is tested is the replicas' stream keeping up
                assert replicas[0].broadcast("/ws/feed", str(n)) == 0
            reader.join(timeout=30)
            assert got == [str(n) for n in range(count)]
    finally:
        for replica in replicas:
            replica.stop()
    assert [r.errors for r in replicas] == [[], []]
