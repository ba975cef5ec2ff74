"""OpenAPI responses of ``text/event-stream`` are served as Server-Sent Events (read with ``httpx-sse`` on
127.0.0.1, on every server): named examples are the events in order, an array example one event per item."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from httpx_sse import connect_sse

from postmock_nb.formats.sources import load_any
from postmock_nb.serving.server import MockServer

SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "chat", "version": "1"},
    "paths": {
        "/chat/stream": {"get": {"responses": {"200": {"description": "tokens", "content": {"text/event-stream": {
            "examples": {
                "first": {"value": {"token": "Hel"}},
                "second": {"value": "event: done\nid: 2\ndata: [DONE]"},
            }}}}}}},
        "/ticks": {"get": {"responses": {"200": {"description": "ticks", "content": {"text/event-stream": {
            "example": [{"n": 1}, {"n": 2}, "three"]}}}}}},
    },
}


def test_event_stream_responses_are_streamed(tmp_path: Path, server_name: str) -> None:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(SPEC))
    collection = load_any(path).collection
    with MockServer(collection, port=0, server=server_name) as mock:
        with httpx.Client(timeout=5) as client:
            with connect_sse(client, "GET", mock.url + "/chat/stream") as source:
                assert source.response.headers["content-type"].startswith("text/event-stream")
                events = list(source.iter_sse())
            assert [(e.event, e.id, e.data) for e in events] == [
                ("message", "", '{"token":"Hel"}'), ("done", "2", "[DONE]")]
            with connect_sse(client, "GET", mock.url + "/ticks") as source:
                assert [e.data for e in source.iter_sse()] == ['{"n":1}', '{"n":2}', '"three"']
        assert mock.errors == []
