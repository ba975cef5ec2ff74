"""notebook/widgets.py's views of one row, without a kernel: a WebSocket connection (open, then closed), a callback
sent and a stream, in the dashboard's log table, its Details labels and its detail view."""

from __future__ import annotations

from postmock_nb.notebook.widgets import _row_label, entry_html, log_table_html
from postmock_nb.serving.requestlog import STREAM, WEBSOCKET, LogEntry


def row(*, live: bool = True, channel: str = WEBSOCKET, direction: str = "", status: int | None = 101,
        note: str = "WebSocket open: 2 sent, 1 received", body: bytes = b"< a\n> b\n< c\n") -> LogEntry:
    return LogEntry(seq=4, time=0.0, method="GET", path="/ws/chat", query_string=b"room=1",
                    raw_headers=[(b"x-api-key", b"k-secret"), (b"cookie", b"s=secret-cookie")], raw_body=b"",
                    status=status, example_id="x", example_name="WS /ws/chat", score=None, latency_ms=812.0,
                    response_body=body, note=note, channel=channel, live=live, direction=direction)


def test_an_open_connection_s_row_says_open_in_the_brand_colour() -> None:
    table = log_table_html([row()])
    assert "<tr class='pm-live' data-seq='4'><td>⇄</td>" in table and "<td class='pm-num'>open</td>" in table
    assert "WS /ws/chat · WebSocket open: 2 sent, 1 received" in table
    assert _row_label(row()).startswith("⇄ ") and _row_label(row()).endswith(
        "→ 101  WS /ws/chat · WebSocket open: 2 sent, 1 received  (open)")


def test_a_closed_connection_s_row_has_its_close_and_duration() -> None:
    closed = row(live=False, note="WebSocket: 2 sent, 1 received, closed 1000 by the client")
    table = log_table_html([closed])
    assert "<tr class='' data-seq='4'><td>⇄</td>" in table and "<td class='pm-num'>812.0 ms</td>" in table
    assert _row_label(closed).endswith("closed 1000 by the client  (812.0 ms)")


def test_the_detail_of_a_connection_is_its_transcript_the_key_and_cookie_masked() -> None:
    page = entry_html(row())
    assert "<h4 class='pm-live'>⇄ " in page and "<span class='pm-muted'>· open</span>" in page
    assert "<p>WebSocket open: 2 sent, 1 received <b class='pm-live'>open</b></p>" in page
    assert "<th>Upgrade request</th><th>Transcript (&lt; sent, &gt; received, ! near miss)</th>" in page
    assert "<pre>&lt; a\n&gt; b\n&lt; c\n</pre>" in page  # no headers: the transcript alone
    assert "k-secret" not in page and "secret-cookie" not in page


def test_the_detail_of_a_callback_names_its_sides_and_its_error() -> None:
    failed = row(channel="", direction="out", status=None, live=False, body=b"",
                 note="callback of #3 (example pay): failed: ConnectError: refused")
    failed.example_id = failed.example_name = None
    page = entry_html(failed)
    assert "↗ " in page and "→ —" in page and "<th>Request sent</th><th>Receiver&#x27;s answer</th>" in page
    assert "<p>callback of #3 (example pay): failed: ConnectError: refused</p>" in page


def test_a_stream_being_sent_is_live_then_its_note_says_what_went_out() -> None:
    stream = row(channel=STREAM, note="", body=b"data: 1\n\n")
    assert "<td class='pm-num'>open</td>" in log_table_html([stream])
    assert "<th>Response (streamed: what was sent so far)</th>" in entry_html(stream)
    done = row(channel=STREAM, live=False, note="sse: 3 of 3 sent")
    assert "<p>sse: 3 of 3 sent</p>" in entry_html(done)
