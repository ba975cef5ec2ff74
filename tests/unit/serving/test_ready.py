"""The fast path (postmock_nb.serving.ready): a static example's request line answered again as it went out, and
only when the stages would answer it the same way. Driven in-process with ASGI messages (no sockets)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from postmock_nb.config import MockConfig
from postmock_nb.core.masking import mask_header
from postmock_nb.core.model import Collection
from postmock_nb.matching.memo import MAX_LINE
from postmock_nb.matching.store import LiveCollection
from postmock_nb.serving.app import MockApp
from postmock_nb.serving.ready import ReadyAnswers
from postmock_nb.serving.requestlog import LogEntry, RequestLog

BROWSER = [(b"host", b"127.0.0.1:8000"), (b"accept", b"application/json"), (b"user-agent", b"Mozilla/5.0"),
           (b"cookie", b"session=secret")]


class Driven:
    """A MockApp called with ASGI messages; counts how often the stages (the full path) ran."""

    def __init__(self, collection: Collection, **settings: Any) -> None:
        self.store = LiveCollection(collection)
        self.app = MockApp(self.store, log=RequestLog(), settings=MockConfig(**settings))
        self.full = 0
        stages = self.app._stages

        async def counted(*args: Any) -> Any:
            self.full += 1
            return await stages(*args)

        self.app._stages = counted  # type: ignore[method-assign]

    def call(self, method: str = "GET", path: str = "/items/1", query: bytes = b"",
             headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b"") -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
                 "headers": list(BROWSER if headers is None else headers), "client": ("127.0.0.1", 50000),
                 "server": ("127.0.0.1", 8000)}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        asyncio.run(self.app(scope, receive, send))
        return sent

    def last(self) -> LogEntry:
        return self.app.log.recent(1)[0]


def _logged(entry: LogEntry) -> dict[str, Any]:
    """An entry's fields, but for those that differ per request (number, time, latency) and the match (compared
    through ``entry.result``)."""
    skipped = {"seq", "time", "latency_ms", "outcome", "_result"}
    fields = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry) if f.name not in skipped}
    result = entry.result
    assert result is not None
    return fields | {"match": (result.winner, result.score, result.candidates, result.selector, result.error,
                               result.method, result.request)}


@pytest.fixture
def items(build: Any) -> Collection:
    return build.collection(
        build.example("GET /items/:id", "one", body='{"id": 1}', headers={"X-Total": "1"}),
        build.example("GET /items/:id", "gone", status=404, body='{"error": "gone"}'),
        build.example("GET /echo/:id", "echo", body='{"id": "{{id}}"}'),
        build.example("GET /slow", "slow", body="late", request_headers={"x-mock-delay": "1"}),
        build.example("GET /called", "called", body="ok",
                      request_headers={"x-mock-callback": "POST http://127.0.0.1:9/hook"}),
        build.example("OPTIONS /items/:id", "options", status=204),
        build.example("GET /job", "pending", body="pending",
                      request_headers={"x-mock-scenario": "jobs; requires=Started; next=done"}),
        build.example("GET /job", "done", body="done", request_headers={"x-mock-scenario": "jobs; requires=done"}),
    )


def test_a_request_line_answered_again_goes_out_and_is_logged_as_the_first_time(items: Collection) -> None:
    driven = Driven(items)
    first = driven.call()
    first_entry = driven.last()
    again = driven.call()
    again_entry = driven.last()
    assert (driven.full, len(driven.app.ready)) == (1, 1)  # the second came by the fast path
    assert again == first and first[0]["status"] == 200 and first[1]["body"] == b'{"id": 1}'
    assert again_entry.seq == first_entry.seq + 1 and again_entry is not first_entry
    assert _logged(again_entry) == _logged(first_entry)
    assert again_entry.headers == first_entry.headers == [(k.decode(), mask_header(k.decode(), v.decode()))
                                                          for k, v in BROWSER]  # the secret masked, as ever
    assert "secret" not in str(again_entry.headers)
    assert driven.app.log.hit_counts() == {items.examples[0].id: 2} and driven.app.log.counts().total == 2


def test_get_and_head_are_kept_apart(items: Collection) -> None:
    driven = Driven(items)
    heads = [driven.call("HEAD") for _ in range(2)]
    gets = [driven.call("GET") for _ in range(2)]
    assert driven.full == 2 and heads[0] == heads[1] and gets[0] == gets[1]
    assert heads[0][1]["body"] == b"" and gets[0][1]["body"] == b'{"id": 1}'
    assert heads[0][0]["headers"] == gets[0][0]["headers"]  # the same Content-Length


@pytest.mark.parametrize("headers, query, body", [
    ([(b"x-mock-response-code", b"404")], b"", b""),
    ([(b"X-Mock-Response-Code", b"404")], b"", b""),  # a name in any case
    ([(b"prefer", b"code=404")], b"", b""),
    ([], b"x-mock-response-code=404", b""),
    ([(b"content-length", b"2")], b"", b"{}"),
    ([(b"transfer-encoding", b"chunked")], b"", b""),
])
def test_a_request_that_may_change_its_answer_always_takes_the_full_path(
        items: Collection, headers: list[tuple[bytes, bytes]], query: bytes, body: bytes) -> None:
    driven = Driven(items)
    plain = driven.call()
    for _ in range(2):
        asked = driven.call(headers=headers, query=query, body=body)
        assert asked[0]["status"] == (404 if b"404" in b"".join(v for _, v in headers) + query else 200)
    assert driven.full == 3 and plain[1]["body"] == b'{"id": 1}'


@pytest.mark.parametrize("path", ["/echo/7", "/slow", "/called", "/nothing-here", "/job"])
def test_answers_the_stages_make_afresh_are_never_kept(items: Collection, path: str) -> None:
    driven = Driven(items)
    bodies = [driven.call(path=path)[1]["body"] for _ in range(2)]
    assert driven.full == 2 and len(driven.app.ready) == 0
    if path == "/job":  # the scenario moved on
        assert bodies == [b"pending", b"done"]


@pytest.mark.parametrize("settings", [{"private": True, "api_key": "k" * 20}, {"chaos": 0.5, "chaos_seed": 1},
                                      {"delay_ms": 1}, {"match_headers": ("accept",)}])
def test_settings_that_make_each_answer_its_own_turn_the_fast_path_off(items: Collection,
                                                                      settings: dict[str, Any]) -> None:
    driven = Driven(items, **settings)
    for _ in range(2):
        driven.call(headers=[*BROWSER, (b"x-api-key", b"k" * 20)])
    assert driven.full == 2 and len(driven.app.ready) == 0


def test_an_edit_is_answered_at_once(items: Collection, build: Any) -> None:
    driven = Driven(items)
    driven.call()
    driven.call()
    driven.store.replace(build.collection(build.example("GET /items/:id", "new", body="new")))
    assert driven.call()[1]["body"] == b"new" and driven.last().example_name == "new"
    assert driven.call()[1]["body"] == b"new" and driven.full == 2


def test_a_cors_preflight_is_answered_by_the_stages(items: Collection) -> None:
    driven = Driven(items)
    driven.call("OPTIONS", headers=BROWSER)
    again = driven.call("OPTIONS", headers=BROWSER)  # answered again: the example
    preflight = driven.call("OPTIONS", headers=[*BROWSER, (b"access-control-request-method", b"GET")])
    assert driven.full == 2 and dict(again[0]["headers"])[b"x-mock-example-name"] == b"options"
    assert b"x-mock-example-name" not in dict(preflight[0]["headers"])  # the mock's own 204 allowing it


def test_a_long_request_line_is_not_kept_and_the_table_is_bounded(items: Collection) -> None:
    driven = Driven(items)
    long_path = "/items/" + "7" * MAX_LINE
    for _ in range(2):
        assert driven.call(path=long_path)[0]["status"] == 200
    assert len(driven.app.ready) == 0
    answers = ReadyAnswers(maxsize=2)
    snapshot = driven.store.snapshot
    ready = object()
    for number in range(3):
        answers.keep(snapshot, ("GET", f"/{number}", b""), ready)  # type: ignore[arg-type]
    assert len(answers) == 1 and answers.find(snapshot, ("GET", "/2", b"")) is ready


def test_headers_in_other_forms_asgi_allows_are_read_on_both_paths(items: Collection) -> None:
    """An ASGI caller may hand the headers over as any iterable of byte-string pairs (a generator, bytearrays): the
    fast path and the stages read them as they read a list of bytes (found by issue 25's hostile review)."""
    driven = Driven(items)
    assert driven.call()[0]["status"] == 200  # the line is kept
    for odd in ([(bytearray(b"Accept"), b"*/*")], [(bytearray(b"X-Mock-Response-Code"), b"404")]):
        assert driven.call(headers=odd)[0]["status"] == (404 if b"404" in odd[0][1] else 200)
        assert driven.last().headers == [(bytes(k).decode(), v.decode()) for k, v in odd]
    app = driven.app
    sent: list[dict[str, Any]] = []
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": "/items/1", "raw_path": b"/items/1",
             "query_string": b"", "headers": (pair for pair in [(b"x-mock-response-code", b"404")])}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 404 and driven.last().headers == [("x-mock-response-code", "404")]
