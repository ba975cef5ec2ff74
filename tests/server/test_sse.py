"""``x-mock-sse`` examples seen by a real Server-Sent Events client (``httpx-sse``) on 127.0.0.1, on every
server: the events in order with their fields, one at a time, resumed after ``Last-Event-ID``, cut by a
fault after half of them, and a client leaving mid-stream is no error."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from httpx_sse import connect_sse
from support.request_log import last_note
from support.waiting import wait_until

from postmock_nb.answers.sse import CUT_FAULTS
from postmock_nb.behaviours.handlers import Request
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.session import Session

STREAM = """event: token
id: 1
data: Hel

event: token
id: 2
data: lo {{name}}

id: 3
data: {"at": "{{$timestamp}}", "uuid": "{{$randomUUID}}"}

event: done
id: 4
retry: 1500
data: [DONE]"""

SLOW_MS = 300


@pytest.fixture
def mock(server_name: str) -> Iterator[Session]:
    session = Session()
    session.define("GET /chat/:name", STREAM, name="chat", request_headers=["x-mock-sse: true"])
    session.define("GET /ticks", json.dumps([{"n": 1}, {"n": 2}, "three", {"n": 4}]), name="ticks",
                   request_headers=["x-mock-sse: true", "x-mock-interval: 10"])
    session.define("GET /slow", STREAM, name="slow",
                   request_headers=["x-mock-sse: true", f"x-mock-interval: {SLOW_MS}"])
    session.define("GET /cut", STREAM, name="cut",
                   request_headers=["x-mock-sse: true", "x-mock-interval: 50", "x-mock-fault: truncate"])
    session.define("GET /burst", "\n\n".join(f"id: {n}\ndata: {'x' * 200}" for n in range(1, 10)), name="burst",
                   request_headers=["x-mock-sse: true"])  # --interval 0: nothing between the last event and the cut
    session.start(port=0, server=server_name)
    try:
        yield session
        assert session.server is not None and session.server.errors == [], "no server error"
    finally:
        session.close()


def test_the_events_arrive_in_order_with_their_fields(mock: Session) -> None:
    with httpx.Client(timeout=5) as client, connect_sse(client, "GET", mock.url + "/chat/Ada") as source:
        response = source.response
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache" and "content-length" not in response.headers
        events = list(source.iter_sse())
    assert [(e.event, e.id, e.retry) for e in events] == [
        ("token", "1", None), ("token", "2", None), ("message", "3", None), ("done", "4", 1500)]
    assert [events[0].data, events[1].data, events[3].data] == ["Hel", "lo Ada", "[DONE]"]
    filled = events[2].json()
    assert filled["at"].isdigit() and len(filled["uuid"]) == 36
    wait_until(lambda: last_note(mock).startswith("sse: 4 of 4 events sent"))
    assert mock.server is not None
    entry = mock.server.log.recent(1)[0]
    assert entry.response_body.startswith(b"event: token\nid: 1\ndata: Hel\n\nevent: token\nid: 2\ndata: lo Ada\n\n")
    assert entry.response_size == len(entry.response_body) and (b"content-length", b"0") not in entry.response_headers


def test_a_json_array_is_one_data_event_per_item(mock: Session) -> None:
    with httpx.Client(timeout=5) as client, connect_sse(client, "GET", mock.url + "/ticks") as source:
        assert [e.data for e in source.iter_sse()] == ['{"n":1}', '{"n":2}', '"three"', '{"n":4}']


def test_each_event_is_read_before_the_next_is_sent(mock: Session) -> None:
    """Read one at a time: after each event, the log's row is still live (the next waits for the interval), so
    the events did not arrive in one chunk."""
    assert mock.server is not None
    with httpx.Client(timeout=5) as client, connect_sse(client, "GET", mock.url + "/slow") as source:
        ids = []
        for event in source.iter_sse():
            ids.append(event.id)
            if len(ids) < 4:
                # the stream is still open: its row is live
                assert mock.server.log.recent(1)[0].live, "the whole stream went out at once"
    assert ids == ["1", "2", "3", "4"]


def test_last_event_id_resumes_after_that_event(mock: Session) -> None:
    with httpx.Client(timeout=5) as client:
        with connect_sse(client, "GET", mock.url + "/chat/Ada", headers={"Last-Event-ID": "2"}) as source:
            assert [e.id for e in source.iter_sse()] == ["3", "4"]
        with connect_sse(client, "GET", mock.url + "/chat/Ada", headers={"Last-Event-ID": "nope"}) as source:
            assert [e.id for e in source.iter_sse()] == ["1", "2", "3", "4"]


def test_resuming_after_the_last_event_is_204_so_eventsource_stops(mock: Session) -> None:
    answer = httpx.get(mock.url + "/chat/Ada", headers={"Last-Event-ID": "4", "Accept": "text/event-stream"},
                       timeout=5)
    assert (answer.status_code, answer.content) == (204, b"")
    assert "content-type" not in answer.headers and "content-length" not in answer.headers
    assert mock.server is not None
    entry = mock.server.log.recent(1)[0]
    assert (entry.status, entry.note) == (204, "sse: resumed after the last event: 204, so EventSource stops "
                                               "reconnecting")


def test_a_fault_cuts_the_stream_after_half_the_events(mock: Session) -> None:
    ids = []
    with httpx.Client(timeout=5) as client, connect_sse(client, "GET", mock.url + "/cut") as source:
        with pytest.raises(httpx.HTTPError):
            for event in source.iter_sse():
                ids.append(event.id)
    assert ids == ["1", "2"]
    wait_until(lambda: last_note(mock).startswith("fault truncate: sse: 2 of 4 events sent, then cut"))


def test_a_reset_by_the_request_cuts_the_stream(mock: Session) -> None:
    ids = []
    with httpx.Client(timeout=5) as client:
        with connect_sse(client, "GET", mock.url + "/ticks?x-mock-response-fault=reset") as source:
            with pytest.raises(httpx.HTTPError):
                for event in source.iter_sse():
                    ids.append(event.data)
    assert ids == ['{"n":1}', '{"n":2}']
    wait_until(lambda: last_note(mock).startswith("fault reset: sse: 2 of 4 events sent, then cut"))


@pytest.mark.parametrize("fault", sorted(CUT_FAULTS))
def test_with_no_interval_the_events_before_the_cut_all_arrive(mock: Session, fault: str) -> None:
    """Half of 9 events, rounded down: 4 are sent and flushed to the client before the cut, every time."""
    for _ in range(5):
        ids = []
        with httpx.Client(timeout=5) as client:
            with connect_sse(client, "GET", mock.url + f"/burst?x-mock-response-fault={fault}") as source:
                with pytest.raises(httpx.HTTPError):
                    for event in source.iter_sse():
                        ids.append(event.id)
        assert ids == ["1", "2", "3", "4"]
        wait_until(lambda: last_note(mock).startswith(f"fault {fault}: sse: 4 of 9 events sent, then cut"))


def test_a_client_leaving_mid_stream_stops_it_quietly(mock: Session) -> None:
    parts = urlsplit(mock.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while b"id: 1" not in received:
            received += sock.recv(65536)
    wait_until(lambda: last_note(mock).startswith("sse: 1 of 4 events sent, the client left"), timeout=5)


def test_a_stream_beside_a_handler_still_streams(server_name: str) -> None:
    """With a handler in the collection, a static example is answered by the behaviours' table first."""
    session = Session()
    proto = Prototype(session)

    @proto.handler("GET /hello")
    def hello(request: Request) -> dict[str, str]:
        return {"hi": "there"}

    session.define("GET /stream", "data: a\n\ndata: b", name="stream", request_headers=["x-mock-sse: true"])
    session.start(port=0, server=server_name)
    try:
        with httpx.Client(timeout=5) as client, connect_sse(client, "GET", session.url + "/stream") as source:
            assert [e.data for e in source.iter_sse()] == ["a", "b"]
    finally:
        session.close()


def test_stopping_the_mock_sends_the_rest_at_once(server_name: str) -> None:
    """A stream of long intervals does not hold the stop: its remaining events go out at once."""
    session = Session()
    session.define("GET /long", "id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c", name="long",
                   request_headers=["x-mock-sse: true", "x-mock-interval: 60000"])
    session.start(port=0, server=server_name)
    server = session.server
    assert server is not None
    try:
        with httpx.Client(timeout=10) as client, connect_sse(client, "GET", session.url + "/long") as source:
            events = source.iter_sse()
            assert next(events).id == "1"
            stopper = threading.Thread(target=session.stop)
            stopper.start()
            assert [e.id for e in events] == ["2", "3"]
            stopper.join(10)
        assert server.log.recent(1)[0].note == "sse: 3 of 3 events sent; the mock stopped: the rest at once"
        assert server.errors == []
    finally:
        session.close()


def test_a_private_mock_takes_the_key_in_the_url_of_an_event_stream_only(server_name: str) -> None:
    """``EventSource`` cannot send headers: ``?api_key=`` opens an event stream (``Accept: text/event-stream``),
    never an ordinary request."""
    session = Session()
    session.define("GET /chat/:name", STREAM, name="chat", request_headers=["x-mock-sse: true"])
    session.start(port=0, server=server_name, private=True, api_key="k-sse")
    events = {"Accept": "text/event-stream"}
    try:
        with httpx.Client(timeout=5) as client:
            with connect_sse(client, "GET", session.url + "/chat/Ada?api_key=k-sse") as source:  # sends the Accept
                assert [e.id for e in source.iter_sse()] == ["1", "2", "3", "4"]
            plain = client.get(session.url + "/chat/Ada?api_key=k-sse")
            assert plain.status_code == 401 and "missing x-api-key header" in plain.text
            wrong = client.get(session.url + "/chat/Ada?api_key=nope", headers=events)
            assert wrong.status_code == 401 and "wrong api_key" in wrong.text
            both = client.get(session.url + "/chat/Ada?api_key=k-sse", headers={**events, "x-api-key": "nope"})
            assert both.status_code == 401 and "wrong x-api-key" in both.text  # a header sent is the one read
    finally:
        session.close()


def test_the_row_is_live_while_the_events_go_out(mock: Session) -> None:
    """The log row (and so the dashboard) shows the events sent so far while the stream goes on."""
    assert mock.server is not None
    mock.define("GET /slower", STREAM, name="slower", request_headers=["x-mock-sse: true", "x-mock-interval: 60000"])
    parts = urlsplit(mock.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(b"GET /slower HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while b"id: 1" not in received:
            received += sock.recv(65536)
        wait_until(lambda: mock.server.log.recent(1)[0].note == "sse: 1 of 4 events sent so far")  # type: ignore[union-attr]
        row = mock.server.log.recent(1)[0]
        assert (row.channel, row.live, row.latency_text()) == ("stream", True, "open")
        assert row.response_body == b"event: token\nid: 1\ndata: Hel\n\n"
    wait_until(lambda: last_note(mock).startswith("sse: 1 of 4 events sent, the client left"), timeout=5)
    assert not mock.server.log.recent(1)[0].live
