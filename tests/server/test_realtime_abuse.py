"""The real-time features under a hostile or careless client, over real sockets on 127.0.0.1, on every server:
what a private mock's WebSocket key leaves in the log (it came as ``?api_key=`` or as a subprotocol, because
browsers cannot set headers on a WebSocket: it must be masked wherever the log is shown, as ``x-api-key`` is)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
import requests
from support.waiting import wait_until
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from postmock_nb.behaviours.sockets import Socket
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.notebook.tables import LogTable
from postmock_nb.notebook.widgets import log_table_html
from postmock_nb.session import Session

KEY = "sock-key-0123456789abcdef"
"""Long enough that its mask (``sock…``) shows nothing of what follows its first four characters."""
HIDDEN = KEY[4:]


@pytest.fixture
def private(server_name: str) -> Iterator[Session]:
    session = Session()
    session.define("GET /ws/prices", "< 1\n< 2", name="prices", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true"])
    session.start(port=0, server=server_name, private=True, api_key=KEY)
    try:
        yield session
        assert session.server is not None and session.server.errors == [], "no server error"
    finally:
        session.close()


def test_a_websocket_key_is_masked_wherever_the_log_shows_it(private: Session) -> None:
    url = private.url.replace("http://", "ws://", 1) + "/ws/prices"
    with connect(url + f"?api_key={KEY}", open_timeout=5) as socket:
        assert socket.recv(timeout=5) == "1"
    with connect(url, subprotocols=[f"postmock-key.{KEY}"], open_timeout=5) as socket:  # type: ignore[list-item]
        assert socket.recv(timeout=5) == "1"
    with pytest.raises(InvalidStatus):  # a wrong key is somebody's key too
        connect(url + f"?api_key=wrong-{KEY}", open_timeout=5)
    server = private.server
    assert server is not None
    wait_until(lambda: len([e for e in server.log.recent() if e.note.startswith("WebSocket:")]) == 2,
               "both connections closed and logged")
    entries = server.log.recent()
    assert len(entries) == 3
    shown = [json.dumps([e.summary(), e.headers], ensure_ascii=False) for e in entries]
    shown.append(requests.get(private.url + "/__postmock/log", headers={"x-api-key": KEY}, timeout=5).text)
    shown.append(requests.get(private.url + "/__postmock/requests", headers={"x-api-key": KEY}, timeout=5).text)
    for entry in entries:
        shown.append(requests.get(f"{private.url}/__postmock/log/{entry.seq}", headers={"x-api-key": KEY},
                                  timeout=5).text)
    shown += [log_table_html(entries), repr(LogTable(entries)), LogTable(entries)._repr_html_()]
    assert [text for text in shown if HIDDEN in text] == []
    assert "/ws/prices?api_key=sock…" in [e.url for e in entries]  # masked, not dropped: it says how it came
    offered = [v for e in entries for k, v in e.headers if k == "sec-websocket-protocol"]  # uvicorn leaves it out
    assert offered in ([], ["postmock-key.sock…"])


@pytest.fixture
def public(server_name: str) -> Iterator[Session]:
    session = Session()
    session.define("GET /ws/prices", "< 1\n< 2", name="prices", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true"])
    session.define("GET /plain", '{"ok": true}', name="plain")
    session.start(port=0, server=server_name)
    try:
        yield session
    finally:
        session.close()


UPGRADE = (b"GET /ws/prices HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")


@pytest.mark.parametrize("header", [b"Sec-WebSocket-Protocol: \xff\xfe", b"Sec-WebSocket-Extensions: \xff"])
def test_an_upgrade_with_bytes_no_server_can_read_is_no_server_error(public: Session, header: bytes) -> None:
    # hypercorn and uvicorn read these headers with wsproto, which raises on a byte above 127: the connection is
    # dropped (granian answers it), and that client's mistake once showed as a server error in the next magic
    server = public.server
    assert server is not None
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(UPGRADE + header + b"\r\n\r\n")
        raw.recv(65536)  # the server's answer, or b"" when it dropped the connection: either way it is done
    assert requests.get(public.url + "/plain", timeout=5).json() == {"ok": True}  # the mock still serves
    assert server.errors == []


def _upgrade_and_never_read(port: int, path: str) -> socket.socket:
    """A WebSocket client that upgrades, then never reads: what the mock sends piles up until its writes block."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.sendall(UPGRADE.replace(b"/ws/prices", path.encode()) + b"\r\n")
    assert raw.recv(12) == b"HTTP/1.1 101"
    return raw


@pytest.mark.parametrize("path", ["/ws/ticks", "/ws/flood"])
def test_stopping_the_mock_with_a_client_that_does_not_read_is_prompt(server_name: str, path: str) -> None:
    # the mock's send waits for the client to take the frame: a stop once waited for the server's grace period
    # (hypercorn: "the server thread did not stop within 10.0 s"; uvicorn: "timeout graceful shutdown exceeded")
    session = Session()
    session.define("GET /ws/ticks", "< " + "t" * 10_000, name="ticks", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true", "x-mock-repeat: true"])
    prototype = Prototype(session)

    @prototype.websocket("/ws/flood")
    async def flood(socket: Socket) -> None:
        while True:
            await socket.send("f" * 10_000)

    session.start(port=0, server=server_name)
    server = session.server
    assert server is not None
    try:
        with _upgrade_and_never_read(server.port, path):
            wait_until(lambda: any(e.status == 101 for e in server.log.recent()), "the connection open")
            session.stop()
        assert server.errors == []
        if server_name == "granian":  # known: granian's stop may drop the app's coroutine, its row left "open"
            return
        wait_until(lambda: server.log.recent(1)[0].note.startswith("WebSocket:"), "the connection's row completed")
        assert "closed 1001 by the mock (the mock stopped)" in server.log.recent(1)[0].note
    finally:
        session.close()


@pytest.mark.parametrize("path", ["/sse", "/endless"])
def test_stopping_the_mock_with_a_stream_nobody_reads_is_prompt(server_name: str, path: str,
                                                                request: pytest.FixtureRequest) -> None:
    # an SSE example or a streaming handler whose client holds the connection without reading: the stop once
    # waited for it (hypercorn: "did not stop within 10.0 s"; uvicorn: "timeout graceful shutdown exceeded")
    if server_name == "granian":  # not run: it would hold the suite for the whole stop timeout (10 s) each time
        pytest.xfail("known, not fixed: granian (2.x) holds a response its client does not read past its stop, "
                     "whatever the app does")
    session = Session()
    session.define("GET /sse", json.dumps(["e" * 10_000] * 3000), name="sse", request_headers=["x-mock-sse: true"])
    prototype = Prototype(session)

    @prototype.handler("GET /endless")
    async def endless(request: object) -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 65_536

    session.start(port=0, server=server_name)
    server = session.server
    assert server is not None
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            assert raw.recv(12) == b"HTTP/1.1 200"
            session.stop()
        assert server.errors == []
    finally:
        session.close()


def test_a_client_that_does_not_read_holds_up_no_other_broadcast(server_name: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # mock.broadcast once sent to the connections one after another: a client that did not read (a tab in the
    # background) held up the clients after it, and the broadcast failed after 5 s
    monkeypatch.setattr("postmock_nb.serving.sockets.BROADCAST_SEND_S", 0.5)
    session = Session()
    prototype = Prototype(session)

    @prototype.websocket("/ws/chat")
    async def chat(socket: Socket) -> None:
        async for _ in socket:
            pass

    session.start(port=0, server=server_name)
    server = session.server
    assert server is not None
    got: list[int] = []
    try:
        with _upgrade_and_never_read(server.port, "/ws/chat"), connect(
                session.url.replace("http://", "ws://", 1) + "/ws/chat", open_timeout=5, max_size=None) as reader:
            wait_until(lambda: server.app.connections.routes() == {"/ws/chat": 2}, "both connections open")
            reading = threading.Thread(target=lambda: got.extend(len(m) for m in reader), daemon=True)
            reading.start()
            for _ in range(12):  # 12 MB: more than the sockets' buffers hold for the client that does not read
                assert session.broadcast("/ws/chat", "x" * 1_000_000) >= 1
            wait_until(lambda: len(got) == 12, "every broadcast at the client that reads")
        assert server.errors == []
    finally:
        session.close()


def test_what_a_client_sends_that_nobody_reads_is_bounded(server_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # a stream script reads nothing after its steps (a handler may never read): every message the client sent
    # was kept for a reader that never came, for as long as the connection lived
    monkeypatch.setattr("postmock_nb.serving.sockets.UNREAD_MESSAGES", 5)
    session = Session()
    session.define("GET /ws/prices", "< 1", name="prices", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true"])
    session.start(port=0, server=server_name)
    server = session.server
    assert server is not None
    try:
        with connect(session.url.replace("http://", "ws://", 1) + "/ws/prices", open_timeout=5) as client:
            assert client.recv(timeout=5) == "1"
            for n in range(20):
                client.send(f"ping {n}")
        wait_until(lambda: server.log.recent(1)[0].note.startswith("WebSocket:"), "the connection's row completed")
        assert server.log.recent(1)[0].note.startswith("WebSocket: 1 sent, 20 received (15 dropped unread), closed")
        assert server.errors == []
    finally:
        session.close()


def test_a_client_leaving_an_sse_stream_without_interval_stops_it_quietly(
        server_name: str, capfd: pytest.CaptureFixture[str]) -> None:
    # without --interval nothing waited between two events: a send to the closed connection did not fail, so the
    # stream went on to its end ("20000 of 20000 events sent"), and asyncio printed "socket.send() raised
    # exception." for each event (Hypercorn, uvicorn): into the cell, in a notebook
    session = Session()
    session.define("GET /sse", "\n\n".join(f"data: {n}" for n in range(20_000)), name="sse",
                   request_headers=["x-mock-sse: true"])
    session.start(port=0, server=server_name)
    server = session.server
    assert server is not None
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            raw.sendall(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert raw.recv(12) == b"HTTP/1.1 200"
        wait_until(lambda: server.log.recent(1)[0].note.endswith("the client left"), "the stream stopped")
        assert "socket.send() raised exception" not in capfd.readouterr().err
        assert server.errors == []
    finally:
        session.close()
