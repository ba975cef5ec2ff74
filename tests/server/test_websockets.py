"""``%%websocket`` scripts seen by a real WebSocket client (``websockets``) on 127.0.0.1, on every server:
a stream in order, a conversation (JSON compared as JSON, ``{{$any}}``), a mismatch closing with 1008, a
private mock's key by header, subprotocol or ``?api_key=``, an upgrade no script matches, and a client
leaving mid-stream is no error. Each connection is one log row with its transcript."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from support.sockets import ws_url
from support.waiting import wait_until
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from postmock_nb.session import Session

PRICES = """< {"symbol": "{{symbol}}", "price": 1}
< {"symbol": "{{symbol}}", "price": 2}
< done"""

CHAT = """> {"hello": "{{$any}}", "room": 7}
< {"welcome": true}
> bye
< see you"""

KEY = "sock-key"


def _define(session: Session) -> None:
    session.define("GET /ws/prices/:symbol", PRICES, name="prices",
                   headers=["Content-Type: text/plain"], request_headers=["x-mock-websocket: true"])
    session.define("GET /ws/chat", CHAT, name="chat", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true"])
    session.define("GET /ws/ticks", "< tick", name="ticks", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true", "x-mock-interval: 20", "x-mock-repeat: true"])
    session.define("GET /plain", '{"ok": true}', name="plain")
    # matched on the upgrade's headers like an %%example's -R: team b's script, else the general one
    session.define("GET /ws/team", "< general", name="general", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true"])
    session.define("GET /ws/team", "< team b", name="team b", headers=["Content-Type: text/plain"],
                   request_headers=["X-Team: b", "x-mock-websocket: true"])
    session.define("GET /ws/only-a", "< team a", name="only a", headers=["Content-Type: text/plain"],
                   request_headers=["X-Team: a", "x-mock-websocket: true"])
    # --timeout 0.3: a '>' step waits 0.3 s, not 10
    session.define("GET /ws/quick", "> ready\n< go", name="quick", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true", "x-mock-timeout: 0.3"])


@pytest.fixture
def mock(server_name: str) -> Iterator[Session]:
    session = Session()
    _define(session)
    session.start(port=0, server=server_name)
    try:
        yield session
        assert session.server is not None and session.server.errors == [], "no server error"
    finally:
        session.close()



def rows(session: Session) -> list[object]:
    """The connections logged and closed (a connection's row is live, "WebSocket open: …", until it closes)."""
    assert session.server is not None
    return [e for e in session.server.log.recent(20) if e.status == 101 and not e.live]


def test_a_stream_is_sent_in_order_and_logged_as_one_row(mock: Session) -> None:
    with connect(ws_url(mock, "/ws/prices/ACME"), open_timeout=5) as socket:
        got = [socket.recv(timeout=5) for _ in range(3)]
    assert [json.loads(got[0]), json.loads(got[1]), got[2]] == [
        {"symbol": "ACME", "price": 1}, {"symbol": "ACME", "price": 2}, "done"]
    wait_until(lambda: len(rows(mock)) == 1)
    assert mock.server is not None
    entry = mock.server.log.recent(1)[0]
    assert (entry.example_name, entry.status) == ("prices", 101)
    assert entry.note.startswith("WebSocket: 3 sent, 0 received, closed ") and entry.note.endswith("by the client")
    assert entry.response_body.decode().startswith('< {"symbol": "ACME", "price": 1}\n< {"symbol": "ACME", "price": 2}')


def test_a_conversation_waits_for_matching_messages(mock: Session) -> None:
    with connect(ws_url(mock, "/ws/chat"), open_timeout=5) as socket:
        socket.send(json.dumps({"room": 7, "hello": "anything"}))  # JSON as JSON: order and spacing free
        assert json.loads(socket.recv(timeout=5)) == {"welcome": True}
        socket.send("bye")
        assert socket.recv(timeout=5) == "see you"
    wait_until(lambda: len(rows(mock)) == 1)
    assert mock.server is not None
    note = mock.server.log.recent(1)[0].note
    assert note.startswith("WebSocket: 2 sent, 2 received, closed ") and note.endswith("by the client")


def test_a_mismatch_is_a_near_miss_then_closes_with_1008(mock: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("postmock_nb.serving.sockets.EXPECT_TIMEOUT_S", 0.3)
    with connect(ws_url(mock, "/ws/chat"), open_timeout=5) as socket:
        socket.send(json.dumps({"hello": "x", "room": 8}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert "expected" in closed.value.rcvd.reason
    wait_until(lambda: len(rows(mock)) == 1)
    assert mock.server is not None
    entry = mock.server.log.recent(1)[0]
    assert entry.note.startswith("WebSocket: 0 sent, 1 received, 1 near miss, closed 1008 by the mock")
    assert "! near miss" in entry.response_body.decode() and "$.room" in entry.response_body.decode()


def test_a_scripts_own_timeout_closes_with_1008_when_nothing_came(mock: Session) -> None:
    with connect(ws_url(mock, "/ws/quick"), open_timeout=5) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)  # sends nothing: the 0.3 s of x-mock-timeout end it (a 10 s default would
    assert closed.value.rcvd is not None  # outlast this recv's 5 s)
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "expected ready: nothing came")
    wait_until(lambda: len(rows(mock)) == 1)
    assert mock.server is not None
    assert mock.server.log.recent(1)[0].note == "WebSocket: 0 sent, 0 received, closed 1008 by the mock " \
                                                 "(expected ready: nothing came)"


def test_scripts_are_matched_on_the_upgrades_headers(mock: Session) -> None:
    with connect(ws_url(mock, "/ws/team"), additional_headers={"X-Team": "b"}, open_timeout=5) as socket:
        assert socket.recv(timeout=5) == "team b"
    with connect(ws_url(mock, "/ws/team"), additional_headers={"X-Team": "c"}, open_timeout=5) as socket:
        assert socket.recv(timeout=5) == "general"
    with connect(ws_url(mock, "/ws/only-a"), additional_headers={"x-team": "a"}, open_timeout=5) as socket:
        assert socket.recv(timeout=5) == "team a"
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(mock, "/ws/only-a"), open_timeout=5)  # without the header: no script matches
    assert refused.value.response.status_code in (501, 403)  # 403: a server without the HTTP-answer extension
    wait_until(lambda: bool(mock.server and mock.server.log.recent(1)[0].status in (501, 403)))
    assert mock.server is not None
    names = [e.example_name for e in reversed(mock.server.log.recent(4)) if e.status == 101]
    assert names == ["team b", "general", "only a"]


def test_a_client_leaving_mid_stream_is_no_error(mock: Session) -> None:
    with connect(ws_url(mock, "/ws/ticks"), open_timeout=5) as socket:
        assert [socket.recv(timeout=5) for _ in range(3)] == ["tick"] * 3
    wait_until(lambda: len(rows(mock)) == 1)
    assert mock.server is not None
    assert mock.server.log.recent(1)[0].note.endswith("by the client")
    # the fixture checks that the server's error log stayed empty


def test_an_upgrade_no_script_matches_is_refused(mock: Session) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(mock, "/plain"), open_timeout=5)
    assert refused.value.response.status_code in (501, 403)  # 403: a server without the HTTP-answer extension
    assert mock.server is not None
    wait_until(lambda: bool(mock.server and mock.server.log.recent(1)))
    assert mock.server.log.recent(1)[0].note == "WebSocket upgrade refused"


@pytest.fixture
def private(server_name: str) -> Iterator[Session]:
    session = Session()
    _define(session)
    session.start(port=0, server=server_name, private=True, api_key=KEY)
    try:
        yield session
        assert session.server is not None and session.server.errors == [], "no server error"
    finally:
        session.close()


def test_a_private_mock_takes_the_key_as_header_subprotocol_or_query(private: Session) -> None:
    url = ws_url(private, "/ws/prices/ACME")
    with connect(url, additional_headers={"x-api-key": KEY}, open_timeout=5) as socket:
        assert json.loads(socket.recv(timeout=5))["price"] == 1
    with connect(url, subprotocols=[f"postmock-key.{KEY}"], open_timeout=5) as socket:  # type: ignore[list-item]
        assert socket.subprotocol == f"postmock-key.{KEY}"  # accepted, as browsers require
        assert json.loads(socket.recv(timeout=5))["price"] == 1
    with connect(url + f"?api_key={KEY}", open_timeout=5) as socket:
        assert json.loads(socket.recv(timeout=5))["price"] == 1
    for wrong in ({"subprotocols": ["postmock-key.nope"]}, {}):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=5, **wrong)  # type: ignore[arg-type]
        assert refused.value.response.status_code in (401, 403)


def test_stopping_the_mock_closes_an_open_socket_with_1001(server_name: str, request: pytest.FixtureRequest) -> None:
    if server_name == "granian":  # the app sends the close; granian's stop delivers it only sometimes (2.8), and
        # waits out its timeout (15 s) when it does not: not run
        pytest.xfail("known: granian's stop does not always send the app's 1001 close (the connection is dropped "
                     "instead)")
    session = Session()
    _define(session)
    session.start(port=0, server=server_name)
    try:
        with connect(ws_url(session, "/ws/chat"), open_timeout=5) as socket:  # waits for the client's "hello"
            wait_until(lambda: bool(session.server and session.server.log.recent(1)))
            server = session.server
            assert server is not None
            session.stop()
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        assert server.log.recent(1)[0].note.startswith("WebSocket: 0 sent, 0 received, closed 1001 by the mock")
        assert server.errors == [], "no server error"
    finally:
        session.close()
