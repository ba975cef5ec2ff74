"""A private mock's key on a WebSocket upgrade: the header, the ``postmock-key.<KEY>`` subprotocol (accepted
back, as browsers require) or ``?api_key=``; a public mock still accepts the key's subprotocol."""

from __future__ import annotations

from typing import Any

from postmock_nb.config import MockConfig
from postmock_nb.serving.sockets import socket_key

PRIVATE = MockConfig(private=True, api_key="k1")


def scope(headers: list[tuple[bytes, bytes]] = [], query: bytes = b"", subprotocols: list[str] = []) -> dict[str, Any]:
    return {"headers": headers, "query_string": query, "subprotocols": subprotocols}


def test_the_key_by_header_subprotocol_or_query() -> None:
    assert socket_key(PRIVATE, scope([(b"x-api-key", b"k1")])) == ("", None)
    assert socket_key(PRIVATE, scope(subprotocols=["chat", "postmock-key.k1"])) == ("", "postmock-key.k1")
    assert socket_key(PRIVATE, scope([(b"sec-websocket-protocol", b"chat, postmock-key.k1")])) == ("", "postmock-key.k1")
    assert socket_key(PRIVATE, scope(query=b"room=1&api_key=k1")) == ("", None)


def test_a_missing_or_wrong_key_is_refused() -> None:
    assert socket_key(PRIVATE, scope())[0].startswith("missing key")
    assert socket_key(PRIVATE, scope(subprotocols=["postmock-key.nope"]))[0].startswith("wrong key")
    assert socket_key(PRIVATE, scope(query=b"api_key=nope"))[0].startswith("wrong key")


def test_a_public_mock_accepts_every_upgrade() -> None:
    assert socket_key(MockConfig(), scope(subprotocols=["postmock-key.x"])) == ("", "postmock-key.x")
    assert socket_key(MockConfig(), scope()) == ("", None)


def test_the_first_subprotocol_the_client_offers_is_accepted() -> None:
    """A browser that asks for a subprotocol fails the connection (1006) when none comes back: the mock takes
    the first it offers (the key's before it, when the key came that way)."""
    assert socket_key(MockConfig(), scope(subprotocols=["graphql-transport-ws", "chat"])) == ("", "graphql-transport-ws")
    assert socket_key(MockConfig(), scope([(b"sec-websocket-protocol", b"v2.stomp, v1.stomp")])) == ("", "v2.stomp")
    assert socket_key(PRIVATE, scope([(b"x-api-key", b"k1")], subprotocols=["chat"])) == ("", "chat")
    assert socket_key(PRIVATE, scope(query=b"api_key=k1", subprotocols=["chat"])) == ("", "chat")
    assert socket_key(PRIVATE, scope(subprotocols=["chat"]))[0].startswith("missing key")


# -- the transcript: what the connection's log row shows ------------------------------------------


def test_each_line_is_told_after_its_count_so_the_row_follows_the_connection() -> None:
    from postmock_nb.serving.sockets import Transcript

    transcript = Transcript()
    heard: list[tuple[str, str]] = []
    transcript.on_line = lambda line: heard.append((line, transcript.progress()))
    transcript.sent += 1
    transcript.add("<", "hello")
    transcript.received += 1
    transcript.add(">", "hi")
    transcript.near_misses += 1
    transcript.add("!", "near miss, expected x: y")
    assert heard == [("< hello", "WebSocket open: 1 sent, 0 received"),
                     ("> hi", "WebSocket open: 1 sent, 1 received"),
                     ("! near miss, expected x: y", "WebSocket open: 1 sent, 1 received, 1 near miss")]
    transcript.close_code, transcript.closed_by = 1000, "client"
    assert transcript.summary() == "WebSocket: 1 sent, 1 received, 1 near miss, closed 1000 by the client"
    assert transcript.text().splitlines() == ["< hello", "> hi", "! near miss, expected x: y",
                                              "-- WebSocket: 1 sent, 1 received, 1 near miss, closed 1000 by the client"]


def test_a_transcript_nobody_follows_still_keeps_its_lines() -> None:
    from postmock_nb.serving.sockets import Transcript

    transcript = Transcript()
    transcript.add("<", "a")
    assert list(transcript.lines) == ["< a"] and transcript.progress() == "WebSocket open: 0 sent, 0 received"
