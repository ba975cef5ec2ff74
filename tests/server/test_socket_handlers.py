"""Python socket handlers (``@mock.websocket``) and ``mock.broadcast`` seen by a real WebSocket client
(``websockets``) on 127.0.0.1, on every server: the socket's path variables, query and headers, text and
binary frames, JSON, a broadcast from the notebook's thread to every client of a route (handlers and
``%%websocket`` scripts alike), what a handler raising or returning does to the socket, a client leaving
(the handler's ``finally`` runs, nothing in the error log), the key of a private mock, 426 over plain HTTP,
and what ``%mock save`` keeps (a described placeholder, replaced when the handler is defined again)."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from support.sockets import ws_url
from support.waiting import wait_until
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from postmock_nb.behaviours.sockets import Disconnected, Socket
from postmock_nb.errors import ExampleDefinitionError, ServerError
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.session import Session

KEY = "sock-key"


class Chat:
    """A notebook's chat room: the socket handlers of one session and what they saw."""

    def __init__(self, session: Session) -> None:
        self.mock = Prototype(session)
        self.left: list[str] = []
        self.events: list[str] = []

        @self.mock.websocket("/ws/rooms/:room", headers=["X-Team: blue"])
        async def room(socket: Socket) -> None:
            await socket.send_json({"room": socket.path_vars["room"], "nick": socket.arg("nick"),
                                    "team": socket.headers["x-team"]})
            try:
                async for message in socket:
                    await socket.send(message)  # text back as text, bytes as bytes
            finally:
                self.left.append(socket.path_vars["room"])

        @self.mock.websocket("/ws/json")
        async def doubler(socket: Socket) -> None:
            data = await socket.receive_json()
            await socket.send_json({"twice": data["n"] * 2})
            await socket.close(4000, "done")

        @self.mock.websocket("/ws/boom")
        async def boom(socket: Socket) -> None:
            await socket.receive()
            raise RuntimeError("the handler broke")

        @self.mock.websocket("/ws/hello")
        async def hello(socket: Socket) -> None:
            await socket.send("hello")  # then returns: the mock closes with 1000

        @self.mock.websocket("/ws/sleepy")
        async def sleepy(socket: Socket) -> None:
            try:
                await asyncio.sleep(3600)  # never reads: the client leaving must still end it
            finally:
                self.left.append("sleepy")

        session.define("GET /ws/ticker", "< tick", name="ticker", headers=["Content-Type: text/plain"],
                       request_headers=["x-mock-websocket: true"])


@pytest.fixture
def chat(server_name: str) -> Iterator[tuple[Session, Chat]]:
    session = Session()
    room = Chat(session)
    session.start(port=0, server=server_name)
    try:
        yield session, room
        assert session.server is not None and session.server.errors == [], "no server error"
    finally:
        session.close()



def closed_rows(session: Session) -> list[Any]:
    assert session.server is not None
    return [e for e in session.server.log.recent(50) if e.status == 101 and not e.live]


def test_a_handler_sees_path_vars_query_and_headers_and_echoes(chat: tuple[Session, Chat]) -> None:
    session, room = chat
    with connect(ws_url(session, "/ws/rooms/kitchen?nick=ann"), additional_headers={"X-Team": "blue"},
                 open_timeout=5) as socket:
        assert json.loads(socket.recv(timeout=5)) == {"room": "kitchen", "nick": "ann", "team": "blue"}
        socket.send("hi")
        assert socket.recv(timeout=5) == "hi"
        socket.send(b"\x00\x01")
        assert socket.recv(timeout=5) == b"\x00\x01"
    wait_until(lambda: room.left == ["kitchen"])  # the client left: the loop ended, its finally ran
    wait_until(lambda: len(closed_rows(session)) == 1)
    entry = closed_rows(session)[0]
    assert entry.example_name == "room"
    assert entry.note.startswith("WebSocket: 3 sent, 2 received, closed ") and entry.note.endswith("by the client")
    assert entry.response_body.decode().splitlines()[:4] == [
        '< {"room": "kitchen", "nick": "ann", "team": "blue"}', "> hi", "< hi", "> (binary, 2 bytes)"]


def test_the_upgrade_is_matched_on_headers_like_a_request(chat: tuple[Session, Chat]) -> None:
    session, _ = chat
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(session, "/ws/rooms/kitchen"), open_timeout=5)  # no X-Team: blue
    assert refused.value.response.status_code == 501


def test_broadcast_reaches_every_client_of_the_route(chat: tuple[Session, Chat]) -> None:
    session, room = chat
    with connect(ws_url(session, "/ws/rooms/a"), additional_headers={"X-Team": "blue"}, open_timeout=5) as first, \
            connect(ws_url(session, "/ws/rooms/b"), additional_headers={"X-Team": "blue"}, open_timeout=5) as second, \
            connect(ws_url(session, "/ws/ticker"), open_timeout=5) as ticker:
        for socket in (first, second):
            json.loads(socket.recv(timeout=5))  # the greeting
        assert ticker.recv(timeout=5) == "tick"
        assert room.mock.broadcast("/ws/rooms/:room", {"news": "lunch"}) == 2  # the route as defined
        assert [json.loads(s.recv(timeout=5)) for s in (first, second)] == [{"news": "lunch"}] * 2
        assert session.broadcast("/ws/rooms/b", "only b") == 1  # the path a client asked for
        assert second.recv(timeout=5) == "only b"
        assert session.broadcast("/ws/ticker", b"\x07") == 1  # a script's connection too, binary as binary
        assert ticker.recv(timeout=5) == b"\x07"
    assert session.broadcast("/ws/hello", "nobody listens") == 0
    with pytest.raises(ExampleDefinitionError, match=r"no WebSocket route '/ws/nope' \(routes: .*/ws/rooms/:room"):
        session.broadcast("/ws/nope", "typo")
    wait_until(lambda: len(closed_rows(session)) == 3)
    assert any('< {"news": "lunch"}' in e.response_body.decode() for e in closed_rows(session))


def test_receive_json_returns_data_and_close_sends_the_code(chat: tuple[Session, Chat]) -> None:
    session, _ = chat
    with connect(ws_url(session, "/ws/json"), open_timeout=5) as socket:
        socket.send(json.dumps({"n": 21}))
        assert json.loads(socket.recv(timeout=5)) == {"twice": 42}
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4000, "done")


def test_a_message_that_is_not_json_closes_with_1007(chat: tuple[Session, Chat]) -> None:
    session, _ = chat
    with connect(ws_url(session, "/ws/json"), open_timeout=5) as socket:
        socket.send("{not json")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    assert "not JSON" in closed.value.rcvd.reason


def test_a_handler_that_raises_closes_with_1011_and_logs_its_traceback(chat: tuple[Session, Chat]) -> None:
    session, _ = chat
    with connect(ws_url(session, "/ws/boom"), open_timeout=5) as socket:
        socket.send("go")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1011, "handler error: RuntimeError")
    wait_until(lambda: len(closed_rows(session)) == 1)
    entry = closed_rows(session)[0]
    assert "RuntimeError: the handler broke" in entry.traceback
    assert entry.note.endswith("closed 1011 by the mock (handler error: RuntimeError)")


def test_a_handler_that_returns_closes_normally(chat: tuple[Session, Chat]) -> None:
    session, _ = chat
    with connect(ws_url(session, "/ws/hello"), open_timeout=5) as socket:
        assert socket.recv(timeout=5) == "hello"
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


def test_a_client_leaving_ends_a_handler_that_never_reads(chat: tuple[Session, Chat]) -> None:
    session, room = chat
    with connect(ws_url(session, "/ws/sleepy"), open_timeout=5):
        wait_until(lambda: any(e.live for e in session.server.log.recent(5)))  # type: ignore[union-attr]
    wait_until(lambda: room.left == ["sleepy"], timeout=10)  # cancelled after the grace: its finally ran
    wait_until(lambda: len(closed_rows(session)) == 1)
    assert closed_rows(session)[0].traceback == ""


def test_plain_http_gets_426_upgrade_required(chat: tuple[Session, Chat]) -> None:
    session, _ = chat
    answer = requests.get(session.url + "/ws/hello", timeout=5)
    assert answer.status_code == 426
    assert "WebSocket handler 'hello'" in answer.text


def test_a_private_mock_takes_the_key_as_a_subprotocol(server_name: str) -> None:
    session = Session()
    mock = Prototype(session)

    @mock.websocket("/ws/hello")
    async def hello(socket: Socket) -> None:
        await socket.send(f"subprotocol {socket.subprotocol}")

    session.start(port=0, server=server_name, private=True, api_key=KEY)
    try:
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(session, "/ws/hello"), open_timeout=5)
        assert refused.value.response.status_code == 401
        with connect(ws_url(session, "/ws/hello"), subprotocols=[f"postmock-key.{KEY}"],  # type: ignore[list-item]
                     open_timeout=5) as socket:
            assert socket.recv(timeout=5) == f"subprotocol postmock-key.{KEY}"
    finally:
        session.close()


def test_the_subprotocol_a_client_asks_for_is_accepted(server_name: str) -> None:
    """A client that offers subprotocols (a GraphQL or STOMP client, a browser's ``new WebSocket(url, [...])``)
    gets the first back, and the handler and a script see it; with the key's, the key's comes back."""
    session = Session()
    mock = Prototype(session)

    @mock.websocket("/ws/hello")
    async def hello(socket: Socket) -> None:
        await socket.send(f"subprotocol {socket.subprotocol}")

    session.define("GET /ws/ticker", "< tick", name="ticker", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true"])
    session.start(port=0, server=server_name, private=True, api_key=KEY)
    try:
        offered: Any = ["graphql-transport-ws", "chat"]
        with connect(ws_url(session, "/ws/hello"), subprotocols=offered, additional_headers={"x-api-key": KEY},
                     open_timeout=5) as socket:
            assert socket.subprotocol == "graphql-transport-ws"
            assert socket.recv(timeout=5) == "subprotocol graphql-transport-ws"
        with connect(ws_url(session, f"/ws/ticker?api_key={KEY}"), subprotocols=offered, open_timeout=5) as socket:
            assert (socket.subprotocol, socket.recv(timeout=5)) == ("graphql-transport-ws", "tick")
        with connect(ws_url(session, "/ws/hello"), subprotocols=["chat", f"postmock-key.{KEY}"],  # type: ignore[list-item]
                     open_timeout=5) as socket:
            assert socket.subprotocol == f"postmock-key.{KEY}"
    finally:
        session.close()


def test_save_keeps_a_described_placeholder_that_the_handler_takes_over(tmp_path: Path) -> None:
    session = Session()
    mock = Prototype(session)

    @mock.websocket("/ws/chat")
    async def chat(socket: Socket) -> None:
        await socket.send("live")

    saved = session.save(tmp_path / "chat.postman_collection.json")
    assert [str(w) for w in session.save_warnings] == [
        "WebSocket handler 'chat' cannot run in Postman: saved as a described placeholder (426 over HTTP)"]
    item = json.loads(saved.read_text())["item"][0]["item"][0]
    assert "Python in a notebook" in item["response"][0]["originalRequest"]["description"]
    assert item["response"][0]["code"] == 426

    loaded = Session()
    loaded.load(saved)
    loaded.start(port=0)
    try:
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(loaded, "/ws/chat"), open_timeout=5)
        assert refused.value.response.status_code == 501
        assert "Python socket handler 'chat' is not defined here" in refused.value.response.body.decode()

        again = Prototype(loaded)

        @again.websocket("/ws/chat")  # defined again: it takes the placeholder's place, no clash
        async def chat_again(socket: Socket) -> None:
            await socket.send("live again")

        assert len(loaded.store.collection.examples) == 1
        with connect(ws_url(loaded, "/ws/chat"), open_timeout=5) as socket:
            assert socket.recv(timeout=5) == "live again"
    finally:
        loaded.close()
        session.close()


def test_a_plain_def_or_a_bad_route_is_refused_and_changes_nothing() -> None:
    session = Session()
    mock = Prototype(session)
    with pytest.raises(ExampleDefinitionError, match="async def"):
        mock.websocket("/ws/x")(lambda socket: None)
    with pytest.raises(ExampleDefinitionError, match="a WebSocket route is a path"):
        @mock.websocket("ws/x")
        async def x(socket: Socket) -> None: ...
    assert session.store.collection.examples == ()
    with pytest.raises(ServerError, match="not running"):
        session.broadcast("/ws/x", "hi")
    with pytest.raises(ExampleDefinitionError, match="cannot send set as JSON"):
        session.broadcast("/ws/x", {1, 2})


def test_disconnected_says_the_code() -> None:
    assert str(Disconnected(1001, "the mock stopped")) == "the WebSocket closed (1001, the mock stopped)"


def test_status_and_health_count_the_open_connections(chat: tuple[Session, Chat]) -> None:
    session, _ = chat
    with connect(ws_url(session, "/ws/rooms/a"), additional_headers={"X-Team": "blue"}, open_timeout=5) as first, \
            connect(ws_url(session, "/ws/ticker"), open_timeout=5) as second:
        first.recv(timeout=5)
        second.recv(timeout=5)
        wait_until(lambda: session.status().get("websockets") == {"/ws/rooms/:room": 1, "/ws/ticker": 1})
        assert requests.get(session.url + "/__postmock/health", timeout=5).json()["websockets"] == 2
    wait_until(lambda: "websockets" not in session.status())


@pytest.mark.parametrize("code", [999, 1005, 1006, 1015, 2999, 5000])
def test_closing_with_a_code_no_frame_may_carry_is_the_handlers_error(server_name: str, code: int) -> None:
    """Servers disagreed (a dropped connection, 1000, or the code itself) and the log claimed the code was
    sent: the handler's mistake is now a ValueError, so 1011 and the traceback, on every server."""
    session = Session()
    mock = Prototype(session)

    @mock.websocket("/ws/bye")
    async def bye(socket: Socket) -> None:
        await socket.close(code, "bye")

    session.start(port=0, server=server_name)
    try:
        with connect(ws_url(session, "/ws/bye"), open_timeout=5) as client, pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        assert closed.value.rcvd.reason == "handler error: ValueError"
        wait_until(lambda: len(closed_rows(session)) == 1)
        assert f"socket.close({code}): not a close code" in closed_rows(session)[0].traceback
        assert session.server is not None and session.server.errors == []
    finally:
        session.close()


def test_a_message_larger_than_a_body_may_be_closes_with_1009(server_name: str) -> None:
    """A client's message is bounded like a request body (``max_body_bytes``), on every server (their own
    caps, 16 MiB on Hypercorn and uvicorn, are neither the mock's setting nor the same everywhere)."""
    session = Session()
    mock = Prototype(session)
    got: list[int] = []

    @mock.websocket("/ws/echo")
    async def echo(socket: Socket) -> None:
        async for message in socket:
            got.append(len(message))
            await socket.send(message)

    session.start(port=0, server=server_name, max_body_bytes=1024)
    try:
        for too_big in (b"x" * 1025, "é" * 513):  # 1025 bytes, 1026 bytes of UTF-8
            with connect(ws_url(session, "/ws/echo"), open_timeout=5) as client:
                client.send(b"x" * 1024)  # as large as a body may be: taken
                assert client.recv(timeout=5) == b"x" * 1024
                client.send(too_big)
                with pytest.raises(ConnectionClosed) as closed:
                    client.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
            assert closed.value.rcvd.reason == "message too big (over 1024 bytes: max_body_bytes)"
        assert got == [1024, 1024]  # the handler never saw the larger ones
        wait_until(lambda: len(closed_rows(session)) == 2)
        assert all("closed 1009 by the mock (message too big" in e.note for e in closed_rows(session))
        assert session.server is not None and session.server.errors == []
    finally:
        session.close()


def test_stopping_with_a_handler_waiting_for_a_message_leaves_no_pending_read(
        chat: tuple[Session, Chat], monkeypatch: pytest.MonkeyPatch) -> None:
    """The stop cancels a handler waiting in ``receive()``: its read of the inbox went on pending, and Python
    printed ``Exception ignored in: <coroutine object Queue.get> … Event loop is closed`` into whichever cell
    ran when it was collected (Hypercorn)."""
    session, _ = chat
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with connect(ws_url(session, "/ws/rooms/kitchen"), additional_headers={"X-Team": "blue"},
                 open_timeout=5) as client:
        json.loads(client.recv(timeout=5))
        client.send("hi")  # the handler echoes it, then waits for the next
        assert client.recv(timeout=5) == "hi"
        session.close()
    gc.collect()
    assert [str(u.exc_value) for u in unraisable] == []
