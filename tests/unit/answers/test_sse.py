"""Server-Sent Events bodies: parsing the stream as written, a JSON array as events, resuming, encoding."""

from __future__ import annotations

from postmock_nb.answers.sse import SseEvent, cut_after, encode, events_of, parse_events, resume, stream_headers
from postmock_nb.answers.templating import RenderContext


def test_sse_text_is_split_at_blank_lines_and_keeps_its_lines() -> None:
    body = "event: token\r\nid: 7\r\ndata: a\r\ndata: b\r\n\r\n\r\n: a comment\ndata: c\n\nretry: 100\ndata: d"
    assert parse_events(body) == [SseEvent("event: token\nid: 7\ndata: a\ndata: b", "7"),
                                  SseEvent(": a comment\ndata: c", None), SseEvent("retry: 100\ndata: d", None)]


def test_the_last_id_line_of_an_event_is_its_id() -> None:
    assert parse_events("id: 1\nid:2\ndata: x")[0].id == "2"
    assert parse_events("data: id: 3")[0].id is None


def test_a_json_array_is_one_data_event_per_item_as_compact_json() -> None:
    assert parse_events('[{"a": 1}, "two", 3, ["é"]]') == [
        SseEvent('data: {"a":1}'), SseEvent('data: "two"'), SseEvent("data: 3"), SseEvent('data: ["é"]')]
    assert parse_events("[not json\n\ndata: x") == [SseEvent("[not json"), SseEvent("data: x")]
    assert parse_events("") == []


def test_last_event_id_resumes_after_that_event() -> None:
    events = parse_events("id: a\ndata: 1\n\ndata: 2\n\nid: b\ndata: 3\n\ndata: 4")
    assert [e.text for e in resume(events, "a")] == ["data: 2", "id: b\ndata: 3", "data: 4"]
    assert [e.text for e in resume(events, "b")] == ["data: 4"]
    assert resume(events, "unknown") == events and resume(events, None) == events


def test_a_fault_cuts_after_half_the_events_at_least_one() -> None:
    assert [cut_after(n) for n in (0, 1, 2, 3, 5, 10)] == [0, 1, 1, 1, 2, 5]


def test_placeholders_are_filled_when_the_event_is_encoded() -> None:
    ctx = RenderContext(path="/chat/ada", captured={"name": "ada"})
    event = SseEvent("data: hi {{name}} {{$randomUUID}}")
    first, second = encode(event, ctx), encode(event, ctx)
    assert first.startswith(b"data: hi ada ") and first.endswith(b"\n\n") and first != second


def test_the_stream_headers_replace_type_length_and_caching() -> None:
    headers = [(b"content-type", b"application/json"), (b"x-a", b"1"), (b"content-length", b"9"),
               (b"Cache-Control", b"max-age=60")]
    assert stream_headers(headers) == [(b"x-a", b"1"), (b"content-type", b"text/event-stream; charset=utf-8"),
                                       (b"cache-control", b"no-cache")]


def test_an_event_is_encoded_with_its_fields_and_json_data() -> None:
    from postmock_nb import Event

    assert Event({"a": 1, "b": "é"}, event="token", id="7", retry=500).encode() == (
        'event: token\nid: 7\nretry: 500\ndata: {"a":1,"b":"é"}\n\n'.encode())
    assert Event("two\r\nlines").encode() == b"data: two\ndata: lines\n\n"
    assert Event(3).encode() == b"data: 3\n\n" and Event([1, 2]).encode() == b"data: [1,2]\n\n"


def test_an_event_refuses_a_line_break_in_its_id_or_event_and_a_bad_retry() -> None:
    import pytest

    from postmock_nb import Event

    for bad in ({"id": "1\n2"}, {"event": "a\rb"}, {"retry": -1}, {"retry": "5"}, {"retry": True}):
        with pytest.raises(ValueError):
            Event("x", **bad)


def test_progress_is_told_each_event_once_it_went_out() -> None:
    import asyncio
    from typing import Any

    from postmock_nb.answers.sse import stream

    events = parse_events("data: a\n\ndata: b\n\ndata: c")
    sent: list[dict[str, Any]] = []
    told: list[tuple[int, bytes, int]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the client stays
        return {}

    def progress(count: int, chunk: bytes) -> None:
        told.append((count, chunk, len(sent)))  # the event's send came first

    done = asyncio.run(stream(events, RenderContext(path="/s"), send, receive, status=200, headers=[], interval_s=0,
                              progress=progress))
    assert told == [(1, b"data: a\n\n", 2), (2, b"data: b\n\n", 3), (3, b"data: c\n\n", 4)]
    assert done.note == "sse: 3 of 3 events sent" and done.body == b"data: a\n\ndata: b\n\ndata: c\n\n"


def test_a_stream_body_is_read_once_while_it_is_served() -> None:
    """A long stream is parsed at its first request, not at every one (on the server's loop)."""
    body = "\n\n".join(f"id: {n}\ndata: {n}" for n in range(1, 2001))
    first = events_of(body)
    assert events_of(body) is first and len(first) == 2000 and first[-1].id == "2000"
