"""Handlers that return a generator stream what it yields, seen by real clients (``httpx-sse``, ``httpx``, a raw
socket) on 127.0.0.1, on every server: ``Event`` items as Server-Sent Events in order and one at a time, an async
generator too, ``str``/``bytes`` items as a chunked body, ``Last-Event-ID`` seen by the handler, and a client
leaving closes the generator (its ``finally`` runs) with no error."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from httpx_sse import connect_sse
from support.request_log import last_note
from support.waiting import wait_until

from postmock_nb import Event, Reply
from postmock_nb.behaviours.handlers import Request
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.session import Session


class Gates:
    """One threading.Event per item after the first: the generator yields item n+1 only once the test read item n."""

    def __init__(self, count: int) -> None:
        self.gates = [threading.Event() for _ in range(count)]
        self.finally_ran = threading.Event()
        self.last_event_id: list[str | None] = []


@pytest.fixture
def gates() -> Gates:
    return Gates(4)


@pytest.fixture
def mock(server_name: str, gates: Gates) -> Iterator[Session]:
    session = Session()
    proto = Prototype(session)

    @proto.handler("GET /chat")
    def chat(request: Request) -> Iterator[Event]:
        gates.last_event_id.append(request.last_event_id)
        try:
            yield Event({"token": "Hel"}, event="token", id="1")
            for n, gate in enumerate(gates.gates[:2], start=2):
                assert gate.wait(5), "the test read the previous event"
                yield Event(f"part {n}\nsecond line", id=str(n), retry=1000 if n == 3 else None)
        finally:
            gates.finally_ran.set()

    @proto.handler("GET /achat")
    async def achat(request: Request) -> AsyncIterator[Event]:
        for n in range(3):
            if n:
                await asyncio.sleep(0)
            yield Event({"n": n}, event="tick", id=str(n))

    @proto.handler("GET /text")
    def text(request: Request) -> Iterator[str | bytes]:
        yield "one,"
        yield b"two,"
        yield "three"

    @proto.handler("GET /csv")
    def csv(request: Request) -> Reply:
        return Reply((f"{n}\n" for n in range(3)), 201, {"Content-Type": "text/csv", "X-Rows": "3"})

    @proto.handler("GET /forever")
    def forever(request: Request) -> Iterator[Event]:
        try:
            n = 0
            while True:
                yield Event(n, id=str(n))
                n += 1
                gates.gates[3].wait(0.01)  # a pace, not a synchronisation: the client leaving ends it
        finally:
            gates.finally_ran.set()

    @proto.handler("GET /aforever")
    async def aforever(request: Request) -> AsyncIterator[Event]:
        try:
            n = 0
            while True:
                yield Event(n, id=str(n))
                n += 1
                await asyncio.sleep(0.01)  # a pace, not a synchronisation: the client leaving ends it
        finally:
            gates.finally_ran.set()

    @proto.handler("GET /broken")
    def broken(request: Request) -> Iterator[Event]:
        yield Event("first")
        raise RuntimeError("the model fell over")

    session.start(port=0, server=server_name)
    try:
        yield session
        assert session.server is not None and session.server.errors == [], "no server error"
    finally:
        for gate in gates.gates:
            gate.set()
        session.close()


def test_a_generator_handler_streams_its_events_in_order_one_at_a_time(mock: Session, gates: Gates) -> None:
    with httpx.Client(timeout=5) as client, connect_sse(client, "GET", mock.url + "/chat") as source:
        response = source.response
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache" and "content-length" not in response.headers
        events = source.iter_sse()
        got = []
        for gate in gates.gates[:2]:
            got.append(next(events))  # read before the next is even yielded: the gate holds the generator
            gate.set()
        got.extend(events)
    assert [(e.event, e.id, e.retry) for e in got] == [("token", "1", None), ("message", "2", None),
                                                       ("message", "3", 1000)]
    assert got[0].json() == {"token": "Hel"} and got[1].data == "part 2\nsecond line"
    assert gates.finally_ran.is_set() and gates.last_event_id == [None]
    wait_until(lambda: last_note(mock).startswith("handler chat streamed 3 items (sse)"))
    assert mock.server is not None
    entry = mock.server.log.recent(1)[0]
    assert entry.status == 200 and entry.response_body.startswith(b'event: token\nid: 1\ndata: {"token":"Hel"}\n\n')
    assert entry.response_size == len(entry.response_body)


def test_the_handler_sees_last_event_id(mock: Session, gates: Gates) -> None:
    for gate in gates.gates:
        gate.set()
    with httpx.Client(timeout=5) as client, \
            connect_sse(client, "GET", mock.url + "/chat", headers={"Last-Event-ID": "2"}) as source:
        assert len(list(source.iter_sse())) == 3
    assert gates.last_event_id == ["2"]


def test_an_async_generator_handler_streams(mock: Session) -> None:
    with httpx.Client(timeout=5) as client, connect_sse(client, "GET", mock.url + "/achat") as source:
        events = list(source.iter_sse())
    assert [(e.event, e.id, e.json()) for e in events] == [("tick", str(n), {"n": n}) for n in range(3)]
    wait_until(lambda: last_note(mock).startswith("handler achat streamed 3 items (sse)"))


def test_str_and_bytes_items_are_a_chunked_body(mock: Session) -> None:
    with httpx.Client(timeout=5) as client, client.stream("GET", mock.url + "/text") as response:
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.headers.get("transfer-encoding") == "chunked" or response.http_version != "HTTP/1.1"
        assert "content-length" not in response.headers
        assert response.read() == b"one,two,three"
    with httpx.Client(timeout=5) as client:
        response = client.get(mock.url + "/csv")
    assert (response.status_code, response.text) == (201, "0\n1\n2\n")
    assert response.headers["content-type"] == "text/csv" and response.headers["x-rows"] == "3"


def test_a_stream_carries_the_mocks_cors_headers_as_a_plain_answer_does(mock: Session, server_name: str) -> None:
    """A page on another origin reads a streaming handler (``EventSource``, ``fetch``): the CORS headers the mock
    adds to every answer are on the stream too; with ``cors=False`` (``--no-cors``) on neither."""
    origin = {"Origin": "http://localhost:8888"}
    with httpx.Client(timeout=5) as client:
        for path in ("/achat", "/text"):
            with client.stream("GET", mock.url + path, headers=origin) as response:
                assert response.headers["access-control-allow-origin"] == "*", (path, response.headers)
                response.read()
    plain = Session()

    @Prototype(plain).handler("GET /achat")
    async def achat(request: Request) -> AsyncIterator[Event]:
        yield Event("one")

    plain.start(port=0, server=server_name, cors=False)
    try:
        with httpx.Client(timeout=5) as client, client.stream("GET", plain.url + "/achat", headers=origin) as response:
            assert "access-control-allow-origin" not in response.headers and response.read() == b"data: one\n\n"
    finally:
        plain.close()


@pytest.mark.parametrize("path", ["/forever", "/aforever"])
def test_a_client_leaving_runs_the_generators_finally_quietly(mock: Session, gates: Gates, path: str,
                                                              capfd: pytest.CaptureFixture[str]) -> None:
    parts = urlsplit(mock.url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = b""
        while b"id: 2" not in received:
            received += sock.recv(65536)
    assert gates.finally_ran.wait(5), "the generator was closed"
    wait_until(lambda: "the client left" in last_note(mock), timeout=5)
    assert last_note(mock).startswith(f"handler {path[1:]} streamed ")
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "exception" not in (out + err).lower(), "nothing printed"


def test_a_generator_raising_ends_the_stream_and_is_noted(mock: Session) -> None:
    with httpx.Client(timeout=5) as client, connect_sse(client, "GET", mock.url + "/broken") as source:
        assert [e.data for e in source.iter_sse()] == ["first"]
    wait_until(lambda: last_note(mock).startswith(
        "handler broken streamed 1 item (sse), then raised RuntimeError: the model fell over"))


def test_a_head_request_reads_nothing_from_the_generator(mock: Session, gates: Gates) -> None:
    with httpx.Client(timeout=5) as client:
        response = client.head(mock.url + "/chat")
    assert response.status_code == 200 and response.content == b""
    wait_until(lambda: last_note(mock).startswith("handler chat ran"))
    assert gates.last_event_id == [] and not gates.finally_ran.is_set()  # the generator never started


def test_the_row_is_live_while_the_generator_streams(mock: Session, gates: Gates) -> None:
    """The log row (and so the dashboard) shows what went out while the stream goes on, then the whole note."""
    assert mock.server is not None
    with httpx.Client(timeout=5) as client, connect_sse(client, "GET", mock.url + "/chat") as source:
        events = source.iter_sse()
        assert next(events).id == "1"  # the generator now waits at its gate: the stream is open
        wait_until(lambda: mock.server.log.recent(1)[0].note == "handler chat streaming: 1 item sent so far")  # type: ignore[union-attr]
        row = mock.server.log.recent(1)[0]
        assert (row.channel, row.live, row.latency_text()) == ("stream", True, "open")
        assert row.response_body == b'event: token\nid: 1\ndata: {"token":"Hel"}\n\n'
        for gate in gates.gates[:2]:
            gate.set()
        assert [e.id for e in events] == ["2", "3"]
    wait_until(lambda: last_note(mock).startswith("handler chat streamed 3 items (sse)"))
    assert not mock.server.log.recent(1)[0].live
