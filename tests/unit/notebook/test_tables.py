"""notebook/tables.py: the tables ``%mock list`` and ``%mock log`` return, as text and as HTML."""

from __future__ import annotations

import time

from support.builders import make_collection, make_example

from postmock_nb.answers.diagnostics import near_miss_text
from postmock_nb.behaviours.dispatch import Behaviours
from postmock_nb.matching.search import match
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.matching.types import IncomingRequest
from postmock_nb.notebook.tables import EntryDetail, ExampleTable, LogTable, entry_text, headline, row_class, sides
from postmock_nb.serving.requestlog import STREAM, WEBSOCKET, LogEntry

USERS = make_example("GET /users?role=<b>admin</b>", "list users")
CREATE = make_example("POST /users", "create", status=201)
HANDLED = make_example("GET /hello", "hello", request_headers={"x-mock-handler": "greet"})
COLLECTION = make_collection(USERS, CREATE, HANDLED)
SNAPSHOT = Snapshot(COLLECTION)


def entry(seq: int, url: str, *, method: str = "GET", fault: str = "", status: int | None = None,
          note: str = "", at: float = 0.0, latency_ms: float = 1.25) -> LogEntry:
    path, _, query = url.partition("?")
    result = match(SNAPSHOT, IncomingRequest.build(method, url))
    winner = result.winner
    return LogEntry(seq=seq, time=at, method=method, path=path, query_string=query.encode(), raw_headers=[],
                    raw_body=b"", status=status if status is not None or fault else (200 if winner else 404),
                    example_id=winner.id if winner else None, example_name=winner.name if winner else None,
                    score=result.score, latency_ms=latency_ms, outcome=result, note=note, fault=fault)


# -- ExampleTable --------------------------------------------------------------------------------


def test_example_table_has_a_row_per_example_in_collection_order() -> None:
    table = ExampleTable.of(COLLECTION, {USERS.id: 3})
    assert [(r["method"], r["url"], r["status"], r["name"], r["hits"], r["id"]) for r in table.rows] == [
        ("GET", "/users?role=<b>admin</b>", 200, "list users", 3, USERS.id),
        ("POST", "/users", 201, "create", 0, CREATE.id),
        ("GET", "/hello", 200, "hello", 0, HANDLED.id),
    ]
    assert [r["answers"] for r in table.rows] == ["example", "example", "handler"]


def test_example_table_says_what_answers_with_the_session_s_behaviours() -> None:
    rows = ExampleTable.of(COLLECTION, {}, Behaviours()).rows
    assert [r["answers"] for r in rows] == ["example", "example", "handler (not defined: its saved response)"]


def test_example_table_names_the_folder_path() -> None:
    collection = make_collection(CREATE).with_example(USERS, folder=("admin", "users"))
    assert [r["folder"] for r in ExampleTable.of(collection, {}).rows] == ["", "admin/users"]


def test_example_table_as_text_is_aligned_under_a_rule() -> None:
    lines = repr(ExampleTable.of(COLLECTION, {USERS.id: 3})).splitlines()
    assert lines[0].split() == ["method", "url", "status", "name", "folder", "hits", "answers"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split()[:3] == ["GET", "/users?role=<b>admin</b>", "200"]
    starts = [line.index("200") for line in (lines[2], lines[4])]
    assert starts[0] == starts[1] == lines[0].index("status")
    assert all(line == line.rstrip() for line in lines)


def test_example_table_as_html_escapes_every_cell() -> None:
    page = ExampleTable.of(COLLECTION, {})._repr_html_()
    assert page.startswith("<table><thead><tr><th style='text-align:left'>method</th>")
    assert "&lt;b&gt;admin&lt;/b&gt;" in page and "<b>" not in page
    assert page.count("<tr>") == 1 + 3


def test_an_empty_example_table_says_how_to_start() -> None:
    table = ExampleTable.of(make_collection(), {})
    assert repr(table) == "No examples yet: define one with %%example GET /path 200"
    assert "<code>%%example GET /path 200</code>" in table._repr_html_()


def test_example_table_keeps_only_the_headers_asked_for() -> None:
    table = ExampleTable(ExampleTable.of(COLLECTION, {}).rows, headers=("name", "status"))
    assert repr(table).splitlines()[2].split() == ["list", "users", "200"]


# -- LogTable ------------------------------------------------------------------------------------


def test_an_empty_log() -> None:
    assert repr(LogTable([])) == "No requests yet."
    assert repr(LogTable([], unmatched=True)) == "No unmatched requests."
    assert LogTable([], unmatched=True)._repr_html_() == "<p>No unmatched requests.</p>"


def test_log_rows_show_number_mark_time_method_url_status_example_and_ms() -> None:
    at = 1_700_000_000.0
    hit = entry(1, "/users?role=<b>admin</b>", at=at)
    lines = repr(LogTable([hit])).splitlines()
    assert lines[0].split() == ["#", "time", "method", "url", "status", "example", "ms"]
    assert lines[2].split() == ["1", "✓", time.strftime("%H:%M:%S", time.localtime(at)), "GET", "/users?role=<b>admin</b>",
                                "200", "list", "users", "1.2"]
    assert len(lines) == 3  # no explanation: nothing missed


def test_a_miss_is_followed_by_its_near_miss_explanation() -> None:
    miss = entry(7, "/orders")
    text = repr(LogTable([entry(1, "/users"), miss]))
    table, explanation = text.split("\n\n", 1)
    assert "✗" in table and "(no match)" in table
    assert explanation == f"#7 {near_miss_text(miss.result)}"  # type: ignore[arg-type]


def test_an_example_with_a_note_shows_what_answered() -> None:
    text = repr(LogTable([entry(1, "/hello", note="handler greet 0.4 ms")]))
    assert "hello (handler greet 0.4 ms)" in text


def test_a_fault_is_marked_and_explained_under_the_table() -> None:
    reset = entry(2, "/users", fault="reset")
    text = repr(LogTable([reset]))
    row = text.splitlines()[2]
    assert row.split()[1] == "↯" and " — " in row
    assert text.endswith("(↯ a fault answered; — no status line went out)")
    assert "↯ a fault" not in repr(LogTable([entry(1, "/users")]))


def test_log_html_colours_misses_and_faults_and_escapes_explanations() -> None:
    page = LogTable([entry(1, "/users"), entry(2, "/users?x=<i>", method="DELETE"), entry(3, "/users", fault="reset")
                     ])._repr_html_()
    rows = page.split("<tbody>")[1].split("</tr>")
    assert rows[0].startswith("<tr><td")
    assert rows[1].startswith("<tr style='color:var(--jp-error-color1")
    assert rows[2].startswith("<tr style='color:var(--jp-warn-color1")
    assert page.count("<pre>") == 1
    assert "&lt;i&gt;" in page and "<i>" not in page


# -- connections, streams and callbacks: the rows and their detail ----------------------------------


def connection(seq: int = 5, *, live: bool = True) -> LogEntry:
    transcript = b'> {"subscribe": "ACME"}\n< {"price": 1}\n'
    return LogEntry(seq=seq, time=0.0, method="GET", path="/ws/prices/ACME", query_string=b"",
                    raw_headers=[(b"host", b"127.0.0.1:9"), (b"x-api-key", b"k-secret")], raw_body=b"", status=101,
                    example_id="ws-1", example_name="WS /ws/prices/:symbol", score=None,
                    latency_ms=0.0 if live else 1520.25, response_body=transcript + (
                        b"" if live else b"-- WebSocket: 1 sent, 1 received, closed 1000 by the client"),
                    note="WebSocket open: 1 sent, 1 received" if live else
                    "WebSocket: 1 sent, 1 received, closed 1000 by the client", channel=WEBSOCKET, live=live)


def callback(seq: int = 7, *, status: int | None = 200, note: str = "callback of #6 (handler pay)") -> LogEntry:
    return LogEntry(seq=seq, time=0.0, method="POST", path="http://127.0.0.1:9/hooks/pay", query_string=b"",
                    raw_headers=[(b"content-type", b"application/json"), (b"authorization", b"Bearer tok-secret")],
                    raw_body=b'{"paid": true}', status=status, example_id=None, example_name=None, score=None,
                    latency_ms=12.5, response_headers=[(b"content-type", b"text/plain")],
                    response_body=b"thanks" if status else b"", note=note, direction="out")


def test_an_open_connection_is_a_live_row_its_duration_open() -> None:
    table = LogTable([connection()])
    row = repr(table).splitlines()[2].split()
    assert row[:2] == ["5", "⇄"] and row[-1] == "open" and "101" in row
    assert "WS /ws/prices/:symbol (WebSocket open: 1 sent, 1 received)" in repr(table)
    assert "(⇄ a WebSocket connection: %mock log --detail N shows its transcript)" in repr(table)
    assert "var(--jp-brand-color1" in table._repr_html_() and row_class(connection()) == "live"
    closed = repr(LogTable([connection(live=False)])).splitlines()[2]
    assert closed.split()[-1] == "1520.2" and "closed 1000 by the client" in closed
    assert row_class(connection(live=False)) == ""


def test_the_detail_of_a_connection_is_its_upgrade_request_and_transcript_key_masked() -> None:
    text = repr(EntryDetail(connection(live=False)))
    assert text.splitlines()[:2] == ["#5 ⇄ GET /ws/prices/ACME → 101 · WS /ws/prices/:symbol · 1520.2 ms",
                                     "WebSocket: 1 sent, 1 received, closed 1000 by the client"]
    assert "Upgrade request:\n  host: 127.0.0.1:9\n  x-api-key: " in text and "k-secret" not in text
    assert ('Transcript (< sent, > received, ! near miss):\n  > {"subscribe": "ACME"}\n  < {"price": 1}\n'
            "  -- WebSocket: 1 sent, 1 received, closed 1000 by the client") in text
    assert entry_text(connection()).splitlines()[0].endswith("· open")
    page = EntryDetail(connection())._repr_html_()
    assert page.startswith("<pre>#5 ⇄ GET") and "&gt; {&quot;subscribe&quot;" in page


def test_the_detail_of_a_callback_is_the_request_sent_and_the_receiver_s_answer_or_the_error() -> None:
    text = entry_text(callback())
    assert text.splitlines()[:2] == ["#7 ↗ POST http://127.0.0.1:9/hooks/pay → 200 · 12.5 ms",
                                     "callback of #6 (handler pay)"]
    assert "Request sent:\n  content-type: application/json\n  authorization: " in text and "tok-secret" not in text
    assert '\n\n  {"paid": true}\n' in text and "Receiver's answer:\n  content-type: text/plain\n\n  thanks" in text
    failed = entry_text(callback(status=None, note="callback of #6 (handler pay): failed: ConnectError: refused"))
    assert failed.splitlines()[:2] == ["#7 ↗ POST http://127.0.0.1:9/hooks/pay → — · 12.5 ms",
                                       "callback of #6 (handler pay): failed: ConnectError: refused"]


def test_a_stream_s_response_side_says_it_was_streamed_and_a_miss_s_detail_explains_it() -> None:
    stream = entry(3, "/users")
    stream.channel, stream.live = STREAM, True
    assert sides(stream) == ("Request", "Response (streamed: what was sent so far)")
    stream.live = False
    assert sides(stream) == ("Request", "Response (streamed: what was sent)")
    miss = entry(9, "/orders")
    text = entry_text(miss)
    assert text.startswith("#9 ✗ GET /orders → 404 · 1.2 ms") and near_miss_text(miss.result) in text  # type: ignore[arg-type]
    assert headline(entry(2, "/users", fault="reset")).startswith("#2 ↯ GET /users → — (fault reset) · list users")
