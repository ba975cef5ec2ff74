"""``postmock serve`` of a saved file with an ``--sse`` example: the markers survive ``save`` and the
process streams the events (a real process, a real SSE client)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from httpx_sse import connect_sse
from support.cli import SERVING, TIMEOUT, postmock

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
