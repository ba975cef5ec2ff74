"""The request log: bounded copies, a compact explanation that pins no snapshot, safe reads from any thread."""

from __future__ import annotations

import gc
import threading
import weakref

from postmock_nb.answers.diagnostics import diagnosis, near_miss_text
from postmock_nb.core.model import Collection
from postmock_nb.matching import IncomingRequest, match, near_misses
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.serving.requestlog import BODY_LIMIT, KEPT_CHECKS, STREAM, WEBSOCKET, LogEntry, RequestLog


def _entry(log: RequestLog, result=None, *, body: bytes = b"", response: bytes = b"",
           headers: list[tuple[bytes, bytes]] | None = None) -> LogEntry:
    winner = result.winner if result is not None else None
    return LogEntry(seq=log.next_seq(), time=0.0, method="GET", path="/x", query_string=b"", raw_headers=headers or [],
                    raw_body=body, status=200 if winner else 404, example_id=winner.id if winner else None,
                    example_name=winner.name if winner else None,
                    score=result.score if result is not None else None, latency_ms=0.1, outcome=result,
                    response_headers=[], response_body=response)


def test_bodies_are_cut_with_their_real_size_noted():
    log = RequestLog()
    entry = _entry(log, body=b"x" * 1_000_000, response=b"y" * 50_000)
    assert len(entry.raw_body) == BODY_LIMIT and entry.body_size == 1_000_000
    assert len(entry.response_body) == BODY_LIMIT and entry.response_size == 50_000
    assert entry.body.endswith("… (1000000 bytes in all)") and entry.response_text.endswith("(50000 bytes in all)")


def test_an_entry_does_not_pin_the_snapshot_it_matched(build):
    collection = build.collection(*[build.example(f"GET /items/{i}", f"item {i}", body="x" * 1000)
                                    for i in range(200)])
    snapshot = Snapshot(collection)
    log = RequestLog()
    log.append(_entry(log, match(snapshot, IncomingRequest.build("GET", "/items/3"))))
    log.append(_entry(log, match(snapshot, IncomingRequest.build("POST", "/items/3/extra"))))
    gone = weakref.ref(snapshot)
    del snapshot
    gc.collect()
    assert gone() is None
    hit, miss = log.recent()[1], log.recent()[0]
    assert hit.result is not None and hit.result.winner is not None and hit.result.winner.name == "item 3"
    assert miss.is_miss and miss.result is not None
    closest = near_misses(miss.result, 3)
    assert len(closest) == 3 and all(c.example.name.startswith("item ") for c in closest)  # worked out when logged
    assert closest[0].example.name in near_miss_text(miss.result) and len(diagnosis(miss.result)["closest"]) == 3


def test_checks_and_values_kept_are_bounded(build):
    snapshot = Snapshot(build.collection(build.example("GET /search", "search")))
    query = "&".join(f"p{i}=v{i}" for i in range(1500))
    result = match(snapshot, IncomingRequest.build("GET", f"/search?{query}", body="b" * 100_000))
    assert len(result.candidates[0].checks) > 1500
    log = RequestLog()
    entry = _entry(log, result)
    kept = entry.result
    assert kept is not None and len(kept.candidates[0].checks) <= KEPT_CHECKS
    assert len(kept.request.query) <= 4 * KEPT_CHECKS and len(kept.request.body) < BODY_LIMIT + 100


def test_secret_headers_are_masked_unless_revealed():
    log = RequestLog()
    key = "PMAK-" + "c" * 32
    entry = _entry(log, headers=[(b"x-api-key", key.encode()), (b"authorization", b"Basic dXNlcjpwYXNzd29yZA=="),
                                 (b"cookie", b"sid=0123456789abcdef"), (b"accept", b"*/*")])
    shown = dict(entry.headers)
    assert key not in shown.values() and shown["authorization"].startswith("Basic ") and "dXNlcjpw" not in str(shown)
    assert "0123456789abcdef" not in shown["cookie"] and shown["accept"] == "*/*"
    assert dict(entry.request_headers(reveal=True))["x-api-key"] == key


def test_reads_from_another_thread_while_the_server_appends():
    log = RequestLog(maxlen=200)
    stop = threading.Event()
    problems: list[BaseException] = []

    def append() -> None:
        while not stop.is_set():
            log.append(_entry(log))

    writer = threading.Thread(target=append)
    writer.start()
    try:
        for _ in range(3000):
            try:
                log.recent(50)
                log.find(log.total // 2)
                log.recent(unmatched=True)
            except RuntimeError as error:  # "deque mutated during iteration"
                problems.append(error)
    finally:
        stop.set()
        writer.join()
    assert problems == [] and log.total > 0


def test_a_failed_send_is_recorded():
    log = RequestLog()
    entry = _entry(log)
    log.append(entry)
    log.sending_failed(entry, RuntimeError("h11 refused the header"), head_sent=False)
    assert entry.status == 500 and "sending failed" in entry.note and "h11 refused" in entry.note


def test_the_dashboard_detail_view_masks_the_key_mock_call_sends():
    from postmock_nb.notebook.widgets import entry_html

    log = RequestLog()
    key = "PMAK-" + "d" * 32
    html = entry_html(_entry(log, headers=[(b"x-api-key", key.encode()), (b"user-agent", b"python-requests")]))
    assert key not in html and "PMAK-dddd…dddd" in html and "python-requests" in html


def _refused(path: str = "/x") -> LogEntry:
    return LogEntry(seq=0, time=0.0, method="GET", path=path, query_string=b"", raw_headers=[], raw_body=b"",
                    status=401, example_id=None, example_name=None, score=None, latency_ms=0.1)


def test_refused_requests_keep_one_line_per_burst_and_never_push_served_ones_out():
    log = RequestLog(maxlen=5)
    for _ in range(3):
        log.append(_entry(log))
    for n in range(100):
        log.append_refused(_refused(f"/a{n}"), "missing x-api-key header")
    assert [e.status for e in log.recent()] == [401, 404, 404, 404]
    burst = log.recent(1)[0]
    assert (burst.refused, burst.path, burst.seq) == (100, "/a99", 4)
    assert burst.note == "100 requests without the key refused (latest: missing x-api-key header)"
    for round_ in range(10):  # served requests and bursts taking turns: the log keeps at most one burst line
        log.append(_entry(log))
        log.append_refused(_refused(), "wrong x-api-key")
        statuses = [e.status for e in log.recent()]
        assert len(statuses) == 5 and statuses.count(401) == 1, (round_, statuses)
    assert log.recent(1)[0].note == "1 request without the key refused (latest: wrong x-api-key)"
    assert (log.refused, log.total) == (110, 123)
    log.clear()
    assert (log.refused, log.recent()) == (0, [])


def test_what_answered_is_said_one_way_with_the_view_s_wording():
    log = RequestLog(10)
    entry = _refused()
    entry.note = "proxied to http://up (3 ms upstream)"
    assert entry.answered() == "proxied to http://up (3 ms upstream)"
    entry.example_name, entry.example_id, entry.note = "get user", "e1", "handler get_user ran 0.4 ms"
    assert entry.answered() == "get user · handler get_user ran 0.4 ms"
    assert entry.answered(detail="{name} ({note})") == "get user (handler get_user ran 0.4 ms)"
    entry.note = ""
    assert entry.answered() == "get user"
    miss = _entry(log, match(Snapshot(Collection(name="empty")), IncomingRequest.build("GET", "/nothing")))
    assert miss.is_miss
    assert miss.answered() == "no match" and miss.answered(miss="(no match)") == "(no match)"
    assert _refused().answered() == "-"


# -- rows that go on: WebSocket connections and streams -------------------------------------------


def _connection(log: RequestLog) -> LogEntry:
    entry = _entry(log)
    entry.status, entry.channel, entry.live, entry.note = 101, WEBSOCKET, True, "WebSocket open: 0 sent, 0 received"
    return entry


def test_a_connection_is_marked_and_shows_open_until_it_closes():
    log = RequestLog()
    entry = _connection(log)
    assert entry.mark == "⇄" and entry.latency_text(" ms") == "open"
    assert entry.summary()["channel"] == "websocket" and entry.summary()["live"] is True
    entry.live, entry.latency_ms = False, 1234.5
    assert entry.mark == "⇄" and entry.latency_text(" ms") == "1234.5 ms" and entry.latency_text() == "1234.5"
    stream = _entry(log)
    stream.channel = STREAM
    assert stream.mark == "·" and "channel" in stream.summary()
    assert "channel" not in _entry(log).summary()  # a plain row's summary is as it was


def test_a_live_row_s_body_grows_line_by_line_up_to_the_limit_all_of_it_counted():
    entry = _connection(RequestLog())
    entry.extend_response(b"< hello\n")
    entry.extend_response(b"> hi\n")
    assert entry.response_body == b"< hello\n> hi\n" and entry.response_size == 13
    for _ in range(1000):
        entry.extend_response(b"< " + b"x" * 97 + b"\n")
    assert len(entry.response_body) == BODY_LIMIT and entry.response_size == 13 + 100_000
    assert entry.response_text.endswith(f"… ({13 + 100_000} bytes in all)")


def test_progress_and_completion_are_heard_again_without_counting_the_request_twice():
    log = RequestLog()
    heard: list[str] = []
    log.subscribe(lambda entry: heard.append(entry.note))
    entry = _connection(log)
    log.append(entry)
    entry.note = "WebSocket open: 1 sent, 0 received"
    log.progressed(entry)
    entry.live, entry.note = False, "WebSocket: 1 sent, 0 received, closed 1000 by the client"
    log.completed(entry)
    assert heard == ["WebSocket open: 0 sent, 0 received", "WebSocket open: 1 sent, 0 received",
                     "WebSocket: 1 sent, 0 received, closed 1000 by the client"]
    assert log.counts().total == 1 and len(log.recent()) == 1 and log.find(entry.seq) is entry
