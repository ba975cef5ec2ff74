"""Callbacks (webhooks) over real sockets: a handler's ``mock.callback`` reaches a local receiver after the
response went out, with the filled body; each callback is an outgoing row of the request log with the receiver's
status; a host not allowed is refused and logged; the response does not wait for the callback's delay; a
callback still waiting when the mock stops is logged as not sent. On every server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from support.receiver import Receiver
from support.waiting import wait_until

from postmock_nb import Event
from postmock_nb.behaviours.handlers import Request
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.notebook.widgets import log_table_html
from postmock_nb.serving.requestlog import LogEntry
from postmock_nb.session import Session


@pytest.fixture
def proto() -> Iterator[Prototype]:
    session = Session()
    yield Prototype(session)
    session.close()


def outgoing(proto: Prototype) -> list[LogEntry]:
    return [e for e in proto.session.server.log.recent() if e.direction == "out"]


def test_a_handler_calls_back_after_it_answered(proto: Prototype, receiver: Receiver, server_name: str) -> None:
    @proto.handler("POST /payments", status=202)
    def pay(request: Request) -> Any:
        order = request.json
        proto.callback("POST", order["callback_url"], json={"status": "settled", "id": order["id"]},
                       headers={"Authorization": "Bearer very-secret-signing-token-0123456789"})
        return {"id": order["id"], "status": "pending"}, 202

    url = proto.session.start(port=0, server=server_name).url
    answered = requests.post(url + "/payments", json={"id": "p-1", "callback_url": receiver.url + "/hooks/pay"},
                             timeout=5)
    assert answered.status_code == 202 and answered.json() == {"id": "p-1", "status": "pending"}
    wait_until(lambda: receiver.received, "the callback at the receiver")
    got = receiver.received[0]
    assert got["method"] == "POST" and got["path"] == "/hooks/pay"
    assert json.loads(got["body"]) == {"status": "settled", "id": "p-1"}
    assert got["headers"]["Content-Type"] == "application/json"
    wait_until(lambda: outgoing(proto), "the callback's row in the log")
    [row] = outgoing(proto)
    served = [e for e in proto.session.server.log.recent() if e.direction == ""]
    assert [e.path for e in served] == ["/payments"] and served[0].status == 202
    assert row.seq > served[0].seq and row.mark == "↗"
    assert (row.method, row.path, row.status) == ("POST", receiver.url + "/hooks/pay", 204)
    assert row.note == f"callback of #{served[0].seq} (handler pay)" and row.latency_ms > 0
    assert row.summary()["direction"] == "out"
    assert "↗" in log_table_html([row]) and receiver.url + "/hooks/pay" in log_table_html([row])  # the dashboard
    assert "very-secret-signing-token-0123456789" not in repr(row.headers)  # masked where shown
    assert row.is_miss is False and proto.session.server.log.misses == 0


def test_a_host_not_allowed_is_refused_and_logged(proto: Prototype, receiver: Receiver, server_name: str) -> None:
    @proto.handler("POST /orders")
    def order(request: Request) -> Any:
        proto.callback("POST", "http://hooks.example.com/orders", json={"ok": True})
        proto.callback("POST", receiver.url + "/orders", json={"ok": True})
        return {"ok": True}

    url = proto.session.start(port=0, server=server_name).url
    assert requests.post(url + "/orders", json={}, timeout=5).status_code == 200
    wait_until(lambda: len(outgoing(proto)) == 2, "both callbacks' rows")
    refused = next(e for e in outgoing(proto) if "example.com" in e.path)
    assert refused.status is None and "refused: host 'hooks.example.com' is not allowed" in refused.note
    assert "--callback-allow hooks.example.com" in refused.note
    assert len(receiver.received) == 1 and receiver.received[0]["path"] == "/orders"
    assert proto.session.server.errors == []


def test_the_response_does_not_wait_for_the_callbacks_delay(proto: Prototype, receiver: Receiver,
                                                              server_name: str) -> None:
    @proto.handler("POST /jobs", status=202)
    def job(request: Request) -> Any:
        proto.callback("POST", receiver.url + "/jobs/done", json={"done": True}, delay=300)
        return {"queued": True}, 202

    url = proto.session.start(port=0, server=server_name).url
    # answered within the client's timeout, far shorter than the callback's delay: the response never waited
    assert requests.post(url + "/jobs", json={}, timeout=5).status_code == 202
    server = proto.session.server
    assert receiver.received == [] and outgoing(proto) == []
    proto.session.stop()  # the callback still waiting is logged as not sent, and nothing reaches the receiver
    [row] = [e for e in server.log.recent() if e.direction == "out"]
    assert row.status is None and row.note.endswith("not sent: the mock stopped") and row.delay_ms == 300_000
    assert receiver.received == [] and server.errors == []


def test_an_unreachable_receiver_is_the_rows_error(proto: Prototype, server_name: str) -> None:
    closed = Receiver()
    dead = closed.url
    closed.close()  # nothing listens there now

    @proto.handler("POST /ping")
    def ping(request: Request) -> Any:
        proto.callback("POST", dead + "/gone", data="x")
        return "ok"

    url = proto.session.start(port=0, server=server_name).url
    assert requests.post(url + "/ping", timeout=5).status_code == 200
    wait_until(lambda: outgoing(proto), "the failed callback's row")
    [row] = outgoing(proto)
    assert row.status is None and "failed: ConnectError" in row.note
    assert proto.session.server.errors == []


def test_an_example_calls_back_with_the_request_filling_it(proto: Prototype, receiver: Receiver,
                                                           server_name: str) -> None:
    proto.session.define("POST /payments 202", (
        "> x-mock-callback: POST {{$body 'callback_url'}}; delay=10\n"
        "> x-mock-callback-body: {\"status\": \"settled\", \"id\": \"{{$body 'id'}}\", \"amount\": {{$body 'amount'}}}\n"
        "\n"
        '{"status": "pending"}'), name="Pay later")
    url = proto.session.start(port=0, server=server_name).url
    answered = requests.post(url + "/payments", json={"id": "p-9", "amount": 12.5,
                                                      "callback_url": receiver.url + "/hooks/pay"}, timeout=5)
    assert answered.status_code == 202 and answered.json() == {"status": "pending"}
    wait_until(lambda: receiver.received, "the example's callback at the receiver")
    got = receiver.received[0]
    assert got["path"] == "/hooks/pay" and json.loads(got["body"]) == {"status": "settled", "id": "p-9", "amount": 12.5}
    wait_until(lambda: outgoing(proto), "the callback's row in the log")
    [row] = outgoing(proto)
    served = [e for e in proto.session.server.log.recent() if e.direction == ""]
    assert row.status == 204 and row.note == f"callback of #{served[0].seq} (example Pay later)"
    assert row.delay_ms == 10
    # a request without the URL: the callback is not sent, and the row says why
    assert requests.post(url + "/payments", json={"id": "p-10"}, timeout=5).status_code == 202
    wait_until(lambda: len(outgoing(proto)) == 2, "the unsent callback's row")
    unsent = max(outgoing(proto), key=lambda e: e.seq)
    assert unsent.status is None and "not sent: a callback's URL must be an absolute http(s) URL" in unsent.note
    assert len(receiver.received) == 1 and proto.session.server.errors == []


def test_a_callback_is_retried_with_backoff_while_the_receiver_fails(proto: Prototype, receiver: Receiver,
                                                                     server_name: str) -> None:
    receiver.failures = 1  # 503 once, then 204

    @proto.handler("POST /orders")
    def order(request: Request) -> Any:
        proto.callback("POST", receiver.url + "/orders", json={"ok": True}, retries=2)
        return {"ok": True}

    url = proto.session.start(port=0, server=server_name).url
    assert requests.post(url + "/orders", json={}, timeout=5).status_code == 200
    wait_until(lambda: len(outgoing(proto)) == 2, "the failed try's and the retry's rows")
    first, second = sorted(outgoing(proto), key=lambda e: e.seq)
    assert first.status == 503 and first.note.endswith("(try 1 of 3)")
    assert second.status == 204 and second.note.endswith("(try 2 of 3)")
    assert len(receiver.received) == 2 and json.loads(receiver.received[1]["body"]) == {"ok": True}


def test_a_request_filling_a_broken_callback_url_gets_a_row_not_a_server_error(proto: Prototype,
                                                                               server_name: str) -> None:
    # the caller's body fills the URL: an unclosed "[" or a port above 65535 once crashed the app after the
    # response went out (a traceback in the server's errors, no row)
    proto.session.define("POST /refunds 202", "> x-mock-callback: POST {{$body 'callback_url'}}\n\n{\"ok\": true}",
                         name="Refund")
    url = proto.session.start(port=0, server=server_name).url
    for broken in ("http://[::1", "http://127.0.0.1:99999/hook"):
        assert requests.post(url + "/refunds", json={"callback_url": broken}, timeout=5).status_code == 202
    wait_until(lambda: len(outgoing(proto)) == 2, "a row for each callback not sent")
    assert all("not sent: a callback's URL must be an absolute http(s) URL" in e.note for e in outgoing(proto))
    assert requests.post(url + "/refunds", json={}, timeout=5).status_code == 202  # the mock still serves
    assert proto.session.server.errors == []


class Trickler:
    """A receiver on 127.0.0.1 that answers a status line and headers, then one byte of its body at a time,
    never ending it (a slow or hostile webhook receiver)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.done = threading.Event()
        self.connected = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with self.listener, self.listener.accept()[0] as conn:
            self.connected.set()
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
            while not self.done.wait(0.02):  # the pace of the trickle, the behaviour under test
                try:
                    conn.sendall(b"x")
                except OSError:  # the mock gave up: what is tested
                    return

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)


def test_a_receiver_that_trickles_its_answer_is_cut_at_the_tries_timeout(proto: Prototype, server_name: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # the timeout is the whole try's, not each read's: a byte every 20 ms once held a callback (and its
    # connection) for as long as the receiver liked
    monkeypatch.setattr("postmock_nb.serving.callbacks.TIMEOUT_S", 0.5)
    trickler = Trickler()

    @proto.handler("POST /jobs")
    def job(request: Request) -> Any:
        proto.callback("POST", trickler.url + "/done", json={"ok": True})
        return {"ok": True}

    try:
        url = proto.session.start(port=0, server=server_name).url
        assert requests.post(url + "/jobs", json={}, timeout=5).status_code == 200
        wait_until(lambda: outgoing(proto), "the callback's row, cut at its timeout")
        [row] = outgoing(proto)
        assert trickler.connected.is_set() and "timed out" in row.note
        assert proto.session.server.errors == []
    finally:
        trickler.close()


def test_callbacks_waiting_at_once_are_bounded(proto: Prototype, receiver: Receiver, server_name: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # every request may ask for 16 callbacks delayed by up to 600 s: a flood of them once grew the mock for ever
    monkeypatch.setattr("postmock_nb.serving.callbacks.MAX_PENDING", 2)

    @proto.handler("POST /jobs")
    def job(request: Request) -> Any:
        for n in range(3):
            proto.callback("POST", f"{receiver.url}/later/{n}", delay=600)
        return {"ok": True}

    url = proto.session.start(port=0, server=server_name).url
    assert requests.post(url + "/jobs", json={}, timeout=5).status_code == 200
    wait_until(lambda: outgoing(proto), "the row of the callback over the bound")
    [row] = outgoing(proto)
    assert row.path.endswith("/later/2") and "not sent: 2 callbacks are waiting already" in row.note
    server = proto.session.server
    proto.session.stop()  # the two waiting are logged as not sent
    assert sorted(e.path.rsplit("/", 1)[1] for e in server.log.recent() if e.direction == "out") == ["0", "1", "2"]
    assert receiver.received == [] and server.errors == []
def test_a_streaming_handler_calls_back_from_its_generator_once_the_stream_ended(
        proto: Prototype, receiver: Receiver, server_name: str) -> None:
    """``mock.callback`` before returning the generator, in a plain generator's body and in an async
    generator's: all sent once the stream has ended, the last item read first."""
    hook = receiver.url + "/hooks"
    go = threading.Event()

    @proto.handler("GET /jobs/:id/progress")
    def progress(request: Request) -> Any:
        proto.callback("POST", f"{hook}/started", json={"job": request.path_vars["id"]})

        def steps() -> Any:
            yield "50%\n"
            go.wait(5)  # in the handler's worker thread: the stream goes on until the test has looked
            proto.callback("POST", f"{hook}/done", json={"job": request.path_vars["id"]})
            yield "100%\n"
        return steps()

    @proto.handler("GET /chat")
    async def chat(request: Request) -> Any:
        yield Event({"token": "Hel"})
        proto.callback("POST", f"{hook}/chat", json={"tokens": 2})
        request.callback("POST", f"{hook}/chat-request")
        yield Event({"token": "lo"})

    url = proto.session.start(port=0, server=server_name).url
    with requests.get(url + "/jobs/7/progress", stream=True, timeout=5) as response:
        lines = response.iter_lines()
        assert next(lines) == b"50%"
        assert receiver.received == []  # nothing is sent while the stream goes on
        go.set()
        assert list(lines) == [b"100%"]
    wait_until(lambda: len(receiver.received) == 2, "both callbacks of the plain generator")
    assert sorted((r["path"], json.loads(r["body"])) for r in receiver.received) == [
        ("/hooks/done", {"job": "7"}), ("/hooks/started", {"job": "7"})]
    assert requests.get(url + "/chat", timeout=5).text.count("data:") == 2
    wait_until(lambda: len(receiver.received) == 4, "both callbacks of the async generator")
    assert {r["path"] for r in receiver.received[2:]} == {"/hooks/chat", "/hooks/chat-request"}
    wait_until(lambda: len(outgoing(proto)) == 4)
    assert {e.note.split(" (")[1].rstrip(")") for e in outgoing(proto)} >= {"handler progress", "handler chat"}
