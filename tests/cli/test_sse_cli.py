"""``postmock serve`` of a saved file with an ``--sse`` example: the markers survive ``save`` and the
process streams the events (a real process, a real SSE client); the ASGI app streams it too."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from httpx_sse import aconnect_sse, connect_sse
from support.cli import SERVING, TIMEOUT, postmock

from postmock_nb import asgi
from postmock_nb.session import Session

STREAM = "id: 1\ndata: one\n\nid: 2\ndata: {{$randomInt}}\n\nevent: done\nid: 3\ndata: bye"


def test_serve_of_a_saved_sse_example_streams(tmp_path: Path) -> None:
    session = Session()
    session.define("GET /events", STREAM, name="events",
                   request_headers=["x-mock-sse: true", "x-mock-interval: 20"])
    saved = session.save(tmp_path / "sse.postman_collection.json")
    headers = json.loads(saved.read_text())["item"][0]["response"][0]["originalRequest"]["header"]
    assert {(h["key"], h["value"]) for h in headers} >= {("x-mock-sse", "true"), ("x-mock-interval", "20")}
    loaded = Session()
    loaded.load(saved)
    assert loaded.store.collection.examples[0].response.body == STREAM  # what Postman serves whole
    with postmock("serve", str(saved), "--port", "0") as cli:
        url = cli.wait_for(SERVING).group(3)
        with httpx.Client(timeout=TIMEOUT) as client:
            with connect_sse(client, "GET", url + "/events", headers={"Last-Event-ID": "1"}) as source:
                events = list(source.iter_sse())
        assert [(e.id, e.event) for e in events] == [("2", "message"), ("3", "done")]
        assert events[0].data.isdigit() and events[1].data == "bye"
        assert cli.interrupt() == 0, f"stdout: {cli.stdout}\nstderr: {cli.stderr}"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_asgi_app_streams_a_saved_sse_example(tmp_path: Path, anyio_backend: str) -> None:
    session = Session()
    session.define("GET /events", STREAM, name="events", request_headers=["x-mock-sse: true"])
    saved = session.save(tmp_path / "sse.json")
    app = asgi.create_app({"POSTMOCK_COLLECTION": str(saved)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as http:
        async with aconnect_sse(http, "GET", "/events") as source:
            assert source.response.headers["content-type"].startswith("text/event-stream")
            assert [e.id async for e in source.aiter_sse()] == ["1", "2", "3"]
