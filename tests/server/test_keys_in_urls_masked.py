"""A private mock's key sent in a URL (``?api_key=`` on an event stream or a WebSocket upgrade, as
``EventSource`` and browsers' ``WebSocket`` must) or as the ``postmock-key.<KEY>`` subprotocol is masked wherever
the mock shows the request — the log rows and detail view, ``GET /__postmock/requests``, a miss's diagnosis, a
failed verification — as the ``x-api-key`` header is; on every server, with real clients on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from httpx_sse import connect_sse
from support.waiting import wait_until
from websockets.sync.client import connect

from postmock_nb.notebook.widgets import entry_html
from postmock_nb.session import Session

KEY = "secret-key-1234567890-abcdefghijk"
HIDDEN = KEY[9:-4]
"""What no view may show (a mask keeps the first 9 and last 4 characters of a key this long)."""


@pytest.fixture
def private(server_name: str) -> Iterator[Session]:
    session = Session()
    session.define("GET /chat/:name", "data: hi\n\ndata: bye", name="chat", request_headers=["x-mock-sse: true"])
    session.define("GET /ws/ticks", "< tick", name="ticks", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true"])
    session.start(port=0, server=server_name, private=True, api_key=KEY)
    try:
        yield session
    finally:
        session.close()


def test_a_key_in_the_url_or_subprotocol_is_masked_in_every_view(private: Session) -> None:
    session = private
    assert session.server is not None
    ws = session.url.replace("http://", "ws://", 1)
    with httpx.Client(timeout=5) as client:
        with connect_sse(client, "GET", f"{session.url}/chat/Ada?api_key={KEY}&lang=en") as source:
            assert [e.data for e in source.iter_sse()] == ["hi", "bye"]
        miss = client.get(f"{session.url}/chats?api_key={KEY}", headers={"Accept": "text/event-stream"})
        assert miss.status_code == 404
        with connect(f"{ws}/ws/ticks?api_key={KEY}", open_timeout=5) as socket:
            assert socket.recv(timeout=5) == "tick"
        with connect(f"{ws}/ws/ticks", subprotocols=["postmock-key." + KEY], open_timeout=5) as socket:  # type: ignore[list-item]
            assert socket.recv(timeout=5) == "tick"
        wait_until(lambda: session.server is not None and sum(
            e.status == 101 and e.note != "WebSocket open" for e in session.server.log.recent(10)) == 2)
        listed = client.get(f"{session.url}/__postmock/requests", headers={"x-api-key": KEY})
        assert listed.status_code == 200 and HIDDEN not in listed.text
        assert "/chat/Ada?api_key=secret-ke…hijk&lang=en" in [row["url"] for row in listed.json()]
        logged = client.get(f"{session.url}/__postmock/log", headers={"x-api-key": KEY})
        assert logged.status_code == 200 and HIDDEN not in logged.text
    entries = session.server.log.recent(10)
    assert len(entries) == 4
    for entry in entries:
        assert HIDDEN not in entry.url and HIDDEN not in str(entry.summary()) and HIDDEN not in entry_html(entry)
    assert entries[-1].url == "/chat/Ada?api_key=secret-ke…hijk&lang=en"
    with pytest.raises(AssertionError) as failed:
        session.verify("GET /chat/Ada", query={"lang": "fr"})
    assert "/chat/Ada?api_key=secret-ke…hijk" in str(failed.value) and HIDDEN not in str(failed.value)
    assert session.server.errors == []
