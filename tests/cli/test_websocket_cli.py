"""``postmock serve`` of a saved file with a ``%%websocket`` script: the markers survive ``save`` (Postman
keeps them as request headers and serves the script as text) and the process plays it to a real client."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import SERVING, postmock
from websockets.sync.client import connect

from postmock_nb.session import Session

SCRIPT = '> {"join": "{{$any}}"}\n< {"room": "{{room}}"}\n< bye'


def test_serve_of_a_saved_websocket_script_plays_it(tmp_path: Path) -> None:
    session = Session()
    session.define("GET /ws/:room", SCRIPT, name="room", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true", "x-mock-interval: 10"])
    saved = session.save(tmp_path / "ws.postman_collection.json")
    headers = json.loads(saved.read_text())["item"][0]["response"][0]["originalRequest"]["header"]
    assert {(h["key"], h["value"]) for h in headers} >= {("x-mock-websocket", "true"), ("x-mock-interval", "10")}
    with postmock("serve", str(saved), "--port", "0") as cli:
        url = cli.wait_for(SERVING).group(3).replace("http://", "ws://", 1)
        with connect(url + "/ws/lobby", open_timeout=10) as socket:
            socket.send('{"join": "ada"}')
            assert [socket.recv(timeout=10), socket.recv(timeout=10)] == ['{"room": "lobby"}', "bye"]
        assert cli.interrupt() == 0, f"stdout: {cli.stdout}\nstderr: {cli.stderr}"
