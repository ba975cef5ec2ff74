"""A WebSocket client that does not read, and ``%mock stop`` with sockets open, on every server (real clients on
127.0.0.1): a raw socket that upgrades and never reads again must not hold up a broadcast to the others, nor the
stop of the mock; a socket handler cancelled by the stop leaves no pending read behind (Python would print
``Exception ignored … Event loop is closed`` into whichever cell runs next)."""

from __future__ import annotations

import base64
import gc
import os
import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from support.waiting import wait_until
from websockets.sync.client import connect

from postmock_nb.behaviours.sockets import Socket
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.serving.sockets import STALLED_REASON
from postmock_nb.session import Session

FRAME = "x" * 65536


@pytest.fixture
def chat(server_name: str) -> Iterator[Session]:
    session = Session()
    mock = Prototype(session)

    @mock.websocket("/ws/chat")
    async def chat(socket: Socket) -> None:
        async for _ in socket:
            pass

    session.start(port=0, server=server_name)
    try:
        yield session
    finally:
        session.close()


def deaf_client(session: Session, path: str) -> socket.socket:
    """A client that upgrades, reads the 101 and never reads again (its receive buffer small)."""
    host, port = session.url.split("//")[1].rsplit(":", 1)
    raw = socket.create_connection((host, int(port)), timeout=5)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    assert raw.recv(12) == b"HTTP/1.1 101"
    return raw


def test_a_client_that_does_not_read_holds_up_no_broadcast_and_no_stop(chat: Session) -> None:
    session = chat
    assert session.server is not None
    deaf = deaf_client(session, "/ws/chat")  # connected first: a broadcast used to wait on it before the others
    try:
        with connect(session.url.replace("http://", "ws://", 1) + "/ws/chat", open_timeout=5) as reader:
            wait_until(lambda: session.server is not None and len(session.server.app.connections.routes()) == 1
                       and session.server.app.connections.routes()["/ws/chat"] == 2)
            sent = 0
            while session.broadcast("/ws/chat", FRAME) == 2:  # until the deaf client's buffers are full
                sent += 1
                assert reader.recv(timeout=5) == FRAME
                assert sent < 10_000, "the deaf client's buffers never filled"
            assert reader.recv(timeout=5) == FRAME  # the broadcast that gave up on it reached the reader
            assert session.broadcast("/ws/chat", "next") == 1  # no longer waits on the deaf client
            assert reader.recv(timeout=5) == "next"
        server = session.server
        wait_until(lambda: any(STALLED_REASON in e.note for e in server.log.recent(10)))
        assert any(e.note.endswith(f"closed 1008 by the mock ({STALLED_REASON})") for e in server.log.recent(10))
        session.close()  # used to wait 10 s for the deaf client on Hypercorn, and time out on uvicorn
        assert server.errors == []
    finally:
        deaf.close()


def test_stopping_with_a_handler_waiting_for_a_message_leaves_no_pending_read(
        chat: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    session = chat
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with connect(session.url.replace("http://", "ws://", 1) + "/ws/chat", open_timeout=5) as client:
        client.send("hi")  # the handler reads it, then waits for the next
        assert session.server is not None
        wait_until(lambda: session.server is not None and session.server.app.connections.routes() == {"/ws/chat": 1})
        session.close()
    gc.collect()
    assert [str(u.exc_value) for u in unraisable] == []
    assert session.server.errors == []
