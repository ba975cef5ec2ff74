"""Real time outside the kernel: a saved file with an ``--sse`` example, a ``%%websocket`` conversation and an
example's callback (``x-mock-callback``), served privately by ``postmock serve`` and by the ASGI app under
uvicorn, Hypercorn and granian's own command lines, as the deploy docs run them. Real clients on 127.0.0.1
(``httpx-sse``, ``websockets``, a local receiver of the callback); ``--workers 2`` with WebSockets (each worker
holds its own connections), and ``--state redis://`` (every connection's row, transcript included, in the one
shared journal). A saved Python socket handler is a placeholder a served file refuses, saying so."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from httpx_sse import connect_sse
from support.asgi_servers import Served, free_port, installed_or_skip
from support.cli import SERVING, TIMEOUT, Cli, postmock
from support.waiting import wait_until
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from postmock_nb.notebook.prototype import Prototype
from postmock_nb.session import Session

KEY = "PMAK-realtime"
KEYED = {"x-api-key": KEY}
STREAM = "id: 1\ndata: one\n\nid: 2\ndata: two\n\nevent: done\nid: 3\ndata: bye"
CHAT = '> {"hello": "{{$any}}"}\n< {"welcome": "{{$randomInt}}"}\n> bye\n< see you'
DEPLOYMENTS = ["serve", "uvicorn", "hypercorn", "granian"]


@dataclass
class Receiver:
    """A tiny HTTP server on 127.0.0.1 that keeps what the mock's callbacks post to it."""

    url: str
    received: list[tuple[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    kept: list[tuple[str, Any]] = []

    class Handle(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            size = int(self.headers.get("content-length") or 0)
            kept.append((self.path, json.loads(self.rfile.read(size))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}", kept)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def save_realtime(path: Path) -> Path:
    """The file a notebook's ``%mock save`` writes for these cells (the markers as request headers)."""
    session = Session()
    session.define("GET /events", STREAM, name="events", request_headers=["x-mock-sse: true", "x-mock-interval: 10"])
    session.define("GET /slow-events", STREAM, name="slow events",
                   request_headers=["x-mock-sse: true", "x-mock-interval: 1000"])
    session.define("GET /ws/chat", CHAT, name="chat", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true", "x-mock-timeout: 0.5"])
    session.define("POST /payments 202", '{"status": "pending"}', name="pay", request_headers=[
        "x-mock-callback: POST {{$body 'callback_url'}}",
        "x-mock-callback-body: {\"id\": \"{{$body 'id'}}\", \"status\": \"settled\"}"])
    saved = session.save(path)
    session.close()
    return saved


class Deployment:
    """One way of serving the saved file: ``postmock serve`` or the ASGI app under a server's command line."""

    def __init__(self, how: str, collection: Path, log: Path, *extra: str) -> None:
        self.how = how
        self.cli: Cli | None = None
        self.served: Served | None = None
        if how == "serve":
            self.cli = Cli("serve", str(collection), "--port", "0", "--private", "--api-key", KEY, *extra)
            self.url = self.cli.wait_for(SERVING).group(3)
        else:
            self.served = Served(installed_or_skip(how), free_port(),
                                 {"POSTMOCK_COLLECTION": str(collection), "POSTMOCK_API_KEY": KEY}, log)
            self.url = self.served.url
            self.served.wait_until_healthy(KEYED)
        self.ws = self.url.replace("http://", "ws://", 1)

    def log(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = requests.get(self.url + "/__postmock/log", headers=KEYED, timeout=TIMEOUT).json()
        return rows

    def errors(self) -> int:
        """How many errors the server reported (its health answer's count)."""
        health = requests.get(self.url + "/__postmock/health", headers=KEYED, timeout=TIMEOUT).json()
        return int(health["errors"])

    def stop(self) -> str:
        """Stop it (by its PID); what it printed."""
        if self.cli is not None:
            self.cli.stop()
            return "\n".join(self.cli.stdout + self.cli.stderr)
        assert self.served is not None
        self.served.stop()
        return self.served.output()


@pytest.fixture(scope="module", params=DEPLOYMENTS)
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp(request.param)
    deployed = Deployment(request.param, save_realtime(folder / "realtime.postman_collection.json"),
                          folder / "server.log")
    try:
        yield deployed
    finally:
        output = deployed.stop()
    assert "Traceback" not in output, output  # a client leaving mid-stream is no error


def converse(socket: ClientConnection) -> list[str]:
    socket.send(json.dumps({"hello": "ada"}))
    welcome = str(socket.recv(timeout=TIMEOUT))
    socket.send("bye")
    return [welcome, str(socket.recv(timeout=TIMEOUT))]


def row(deployment: Deployment, prefix: str) -> dict[str, Any]:
    """The newest completed log row whose note starts with ``prefix`` (waited for: a row is completed when it ends;
    while a stream or connection goes on its row is ``live``)."""
    found: list[dict[str, Any]] = []

    def there() -> bool:
        found[:] = [r for r in deployment.log() if str(r["note"]).startswith(prefix) and not r.get("live")]
        return bool(found)

    wait_until(there, f"a log row starting {prefix!r}")
    return found[0]


# -- Server-Sent Events ------------------------------------------------------------------------------


def test_the_sse_example_streams_its_events_in_order(deployment: Deployment) -> None:
    with httpx.Client(timeout=TIMEOUT) as client:
        with connect_sse(client, "GET", deployment.url + "/events", headers=KEYED) as source:
            headers = source.response.headers
            events = [(e.id, e.event, e.data) for e in source.iter_sse()]
        assert client.get(deployment.url + "/events").status_code == 401  # private: the key first
    assert events == [("1", "message", "one"), ("2", "message", "two"), ("3", "done", "bye")]
    assert headers["content-type"].startswith("text/event-stream") and "content-length" not in headers
    assert row(deployment, "sse: 3 of 3 events sent")["example"] == "events"


# -- a %%websocket conversation ----------------------------------------------------------------------


def test_the_websocket_conversation_plays_with_the_key_on_the_upgrade(deployment: Deployment) -> None:
    url = deployment.ws + "/ws/chat"
    with connect(url, subprotocols=[f"postmock-key.{KEY}"], open_timeout=TIMEOUT) as socket:  # type: ignore[list-item]
        welcome, bye = converse(socket)  # a browser's way: the key as a subprotocol
        assert socket.subprotocol == f"postmock-key.{KEY}"
    assert json.loads(welcome)["welcome"].isdigit() and bye == "see you"
    with connect(url, additional_headers=KEYED, open_timeout=TIMEOUT) as socket:
        assert converse(socket)[1] == "see you"
    with connect(url + f"?api_key={KEY}", open_timeout=TIMEOUT) as socket:
        assert converse(socket)[1] == "see you"
    for wrong in ({"subprotocols": ["postmock-key.nope"]}, {}):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=TIMEOUT, **wrong)  # type: ignore[arg-type]
        assert refused.value.response.status_code in (401, 403)  # 403: a server without the HTTP-answer extension
    transcript = row(deployment, "WebSocket: 2 sent, 2 received, closed")
    assert transcript["status"] == 101 and transcript["example"] == "chat"


def test_a_mismatch_closes_with_1008_after_the_scripts_timeout(deployment: Deployment) -> None:
    with connect(deployment.ws + "/ws/chat", additional_headers=KEYED, open_timeout=TIMEOUT) as socket:
        socket.send(json.dumps({"goodbye": "ada"}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=TIMEOUT)  # x-mock-timeout: 0.5 s, not the default 10
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert closed.value.rcvd.reason.startswith('expected {"hello": "{{$any}}"}')
    row(deployment, "WebSocket: 0 sent, 1 received, 1 near miss, closed 1008 by the mock")


def test_a_client_leaving_mid_stream_or_mid_conversation_is_no_error(deployment: Deployment) -> None:
    with connect(deployment.ws + "/ws/chat", additional_headers=KEYED, open_timeout=TIMEOUT) as socket:
        socket.send(json.dumps({"hello": "ada"}))
        socket.recv(timeout=TIMEOUT)  # then leaves while the mock waits for "bye"
    row(deployment, "WebSocket: 1 sent, 1 received, closed")
    with httpx.Client(timeout=TIMEOUT) as client:
        with connect_sse(client, "GET", deployment.url + "/slow-events", headers=KEYED) as source:
            assert next(source.iter_sse()).id == "1"  # then leaves, a second before the next event
    row(deployment, "sse: 1 of 3 events sent, the client left")
    assert deployment.errors() == 0


# -- an example's callback -----------------------------------------------------------------------------


def test_the_examples_callback_reaches_a_local_receiver(deployment: Deployment, receiver: Receiver) -> None:
    hook = f"{receiver.url}/hooks/{deployment.how}"
    answered = requests.post(deployment.url + "/payments", json={"id": deployment.how, "callback_url": hook},
                             headers=KEYED, timeout=TIMEOUT)
    assert answered.status_code == 202 and answered.json() == {"status": "pending"}
    wait_until(lambda: (f"/hooks/{deployment.how}", {"id": deployment.how, "status": "settled"}) in receiver.received,
               "the callback at the receiver")
    outgoing = row(deployment, "callback of #")
    assert outgoing["direction"] == "out" and outgoing["status"] == 204


# -- workers and shared state --------------------------------------------------------------------------


def conversations(ws: str, count: int) -> list[list[str]]:
    """``count`` conversations at once, each on a connection of its own."""
    def one(_: int) -> list[str]:
        with connect(ws + "/ws/chat", additional_headers=KEYED, open_timeout=TIMEOUT) as socket:
            return converse(socket)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_two_workers_each_hold_their_own_connections(tmp_path: Path) -> None:
    """With --workers 2 each connection lives in the worker that accepted it: every conversation completes;
    without --state each worker logs its own (the next test shares them)."""
    deployed = Deployment("serve", save_realtime(tmp_path / "rt.json"), tmp_path / "log", "--workers", "2")
    try:
        assert [bye for _, bye in conversations(deployed.ws, 8)] == ["see you"] * 8
        with httpx.Client(timeout=TIMEOUT) as client:
            with connect_sse(client, "GET", deployed.url + "/events", headers=KEYED) as source:
                assert [e.id for e in source.iter_sse()] == ["1", "2", "3"]
    finally:
        output = deployed.stop()
    assert "Traceback" not in output, output


def test_the_shared_journal_holds_every_workers_connections_with_their_transcripts(
        tmp_path: Path, redis_url: str, receiver: Receiver) -> None:
    deployed = Deployment("serve", save_realtime(tmp_path / "rt.json"), tmp_path / "log",
                          "--workers", "2", "--state", redis_url)
    try:
        assert [bye for _, bye in conversations(deployed.ws, 6)] == ["see you"] * 6
        with httpx.Client(timeout=TIMEOUT) as client:
            with connect_sse(client, "GET", deployed.url + "/events", headers=KEYED) as source:
                assert [e.id for e in source.iter_sse()] == ["1", "2", "3"]

        def done() -> list[dict[str, Any]]:
            return [r for r in deployed.log() if r["status"] == 101 and not r.get("live")]

        wait_until(lambda: len(done()) == 6, "six closed connections in the shared journal")
        assert {r["note"].split(", closed")[0] for r in done()} == {"WebSocket: 2 sent, 2 received"}
        detail = requests.get(f"{deployed.url}/__postmock/log/{done()[0]['seq']}", headers=KEYED,
                              timeout=TIMEOUT).json()
        transcript = detail["response"]["body"].splitlines()  # read by either worker: the one Redis copy
        assert transcript[0] == '> {"hello": "ada"}' and transcript[2:4] == ["> bye", "< see you"]
        assert row(deployed, "sse: 3 of 3 events sent")["example"] == "events"
        with connect(deployed.ws + "/ws/chat", additional_headers=KEYED, open_timeout=TIMEOUT) as socket:
            socket.send("hello?")
            with pytest.raises(ConnectionClosed):
                socket.recv(timeout=TIMEOUT)
        row(deployed, "WebSocket: 0 sent, 1 received, 1 near miss, closed 1008 by the mock")
        answered = requests.post(deployed.url + "/payments", headers=KEYED, timeout=TIMEOUT,
                                 json={"id": "shared", "callback_url": receiver.url + "/hooks/shared"})
        assert answered.status_code == 202
        wait_until(lambda: ("/hooks/shared", {"id": "shared", "status": "settled"}) in receiver.received)
        assert row(deployed, "callback of #")["status"] == 204
    finally:
        output = deployed.stop()
    assert "Traceback" not in output, output


def test_a_saved_socket_handler_is_refused_by_a_served_file_naming_it(tmp_path: Path) -> None:
    """A Python socket handler runs only where it was defined: the file keeps its placeholder, which
    ``postmock serve`` refuses with a 501 that says so (its HTTP answer: 426)."""
    session = Session()
    proto = Prototype(session)

    @proto.websocket("/ws/echo")
    async def echo(socket: Any) -> None:
        async for message in socket:
            await socket.send(message)

    saved = session.save(tmp_path / "handler.postman_collection.json")
    session.close()
    with postmock("serve", str(saved), "--port", "0") as cli:
        url = cli.wait_for(SERVING).group(3)
        with pytest.raises(InvalidStatus) as refused:
            connect(url.replace("http://", "ws://", 1) + "/ws/echo", open_timeout=TIMEOUT)
        assert refused.value.response.status_code == 501
        assert "socket handler 'echo' is not defined here" in refused.value.response.body.decode()
        assert requests.get(url + "/ws/echo", timeout=TIMEOUT).status_code == 426
        assert cli.interrupt() == 0, f"stdout: {cli.stdout}\nstderr: {cli.stderr}"
