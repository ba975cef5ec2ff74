"""Properties of the mock no single feature test states, pinned through its stable entry points (the app assembled by
``serving.build.assemble``, called in-process with ASGI messages; the log read through its public views):

* log = wire: a log entry's status, response headers and body are exactly the ASGI messages that went out;
* the log keeps the request headers as they were received: in order, their case, a repeated header twice;
* secrets (``x-api-key``, ``Authorization``, ``Cookie``, ``Set-Cookie``, ``api_key`` in the query) are masked in every
  view of the log, the admin API's JSON included, and shown only when asked (``reveal=True``);
* a Python handler sees the request headers as a read-only, dict-like mapping (any case; repeated values joined).

test_fast_path.py compares every answer with a fresh search; test_app.py and test_requestlog.py test the features.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from support.asgi_calls import Sent, call, raw_pairs
from support.builders import make_collection, make_example

from postmock_nb.behaviours.dispatch import Behaviours
from postmock_nb.config import MockConfig
from postmock_nb.core.model import Collection
from postmock_nb.matching.store import LiveCollection
from postmock_nb.notebook.widgets import entry_html, log_table_html
from postmock_nb.serving.build import AssembledMock, assemble
from postmock_nb.serving.requestlog import LogEntry

RawHeaders = tuple[tuple[bytes, bytes], ...]
USERS = make_collection(
    make_example("GET /users", "list", body='[{"id": 1}]', headers={"X-Total": "1", "Set-Cookie": "s=1; Path=/"}),
    make_example("GET /users/:id", "one", body='{"id": "{{id}}"}'),
    make_example("DELETE /users/:id", "deleted", status=204, body="ignored: a 204 has no body"),
    make_example("POST /users", "created", status=201, body="created {{$body 'name'}}"),
    make_example("GET /events", "events", body="id: 1\ndata: one\n\nid: 2\ndata: two\n",
                 request_headers={"x-mock-sse": "true"}),
    make_example("GET /echo", "echo", headers={"X-Echo": "{{$headers 'x-trace'}}"}),
)


def mock_of(collection: Collection = USERS, **settings: Any) -> AssembledMock:
    return assemble(store=LiveCollection(collection), config=MockConfig(**settings))


def send(mock: AssembledMock, method: str, target: str, headers: RawHeaders = (), body: bytes = b"") -> Sent:
    return asyncio.run(call(mock.app, method, target, headers, body))


def last(mock: AssembledMock) -> LogEntry:
    return mock.log.recent(1)[0]


# -- log = wire ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    target: str
    headers: RawHeaders = ()
    body: bytes = b""
    settings: tuple[tuple[str, Any], ...] = ()


PREFLIGHT = ((b"origin", b"http://localhost:8888"), (b"access-control-request-method", b"POST"),
             (b"access-control-request-headers", b"content-type"))
LOGGED_AS_SENT = {
    "a static hit": Case("GET", "/users"),
    "a templated hit": Case("GET", "/users/7"),
    "a miss (its 404 body)": Case("GET", "/accounts/7?q=1"),
    "a HEAD": Case("HEAD", "/users"),
    "a HEAD that misses": Case("HEAD", "/accounts"),
    "a 204": Case("DELETE", "/users/7"),
    "a body read": Case("POST", "/users", ((b"content-type", b"application/json"),), b'{"name": "Ann"}'),
    "a CORS preflight": Case("OPTIONS", "/anything", PREFLIGHT),
    "a hit without CORS": Case("GET", "/users", settings=(("cors", False),)),
    "a selector": Case("GET", "/users/7?x-mock-response-name=one"),
    "a bad x-mock value (400)": Case("GET", "/users", ((b"x-mock-response-code", b"abc"),)),
    "a body too large (413)": Case("POST", "/users", (), b"x" * 11, (("max_body_bytes", 10),)),
    "a private mock's refusal (401)": Case("GET", "/users", settings=(("private", True), ("api_key", "PMAK-k"))),
    "a private mock's answer": Case("GET", "/users", ((b"x-api-key", b"PMAK-k"),),
                                    settings=(("private", True), ("api_key", "PMAK-k"))),
    "a fault a status goes out with (slow)": Case("GET", "/users", ((b"x-mock-response-fault", b"slow"),)),
    "a stream of events": Case("GET", "/events"),
    "a stream resumed after its last event (204)": Case("GET", "/events", ((b"last-event-id", b"2"),)),
    "a stream asked with HEAD": Case("HEAD", "/events"),
    "an echo HTTP cannot send (400)": Case("GET", "/echo", ((b"x-trace", b"a\x01b"),)),
}


@pytest.mark.parametrize("case", LOGGED_AS_SENT.values(), ids=LOGGED_AS_SENT.keys())
def test_the_log_entry_is_what_went_out_byte_for_byte(case: Case) -> None:
    mock = mock_of(**dict(case.settings))
    sent = send(mock, case.method, case.target, case.headers, case.body)
    entry = last(mock)
    assert sent.status is not None and sent.finished
    assert (entry.status, raw_pairs(entry.response_headers), bytes(entry.response_body), entry.response_size) == (
        sent.status, sent.headers, sent.body, len(sent.body))


def test_a_truncated_answer_is_logged_with_its_head_as_sent_and_the_bytes_it_cut_counted() -> None:
    """The truncate fault promises the whole body and sends half: the log keeps the status and headers that went
    out, the whole response the fault cut, and says how much of it went out."""
    mock = mock_of()
    sent = send(mock, "GET", "/users", ((b"x-mock-response-fault", b"truncate"),))
    entry = last(mock)
    whole = b'[{"id": 1}]'
    assert (sent.status, sent.headers) == (entry.status, raw_pairs(entry.response_headers)) == (200, sent.headers)
    assert (b"content-length", str(len(whole)).encode()) in sent.headers and not sent.finished
    assert sent.body == whole[:len(whole) // 2] and bytes(entry.response_body) == whole
    assert (entry.fault, entry.note) == ("truncate", f"fault truncate: {len(whole) // 2} of {len(whole)} bytes")


@pytest.mark.parametrize("fault", ["reset", "close", "malformed"])
def test_a_fault_that_finds_no_socket_is_logged_as_the_truncate_that_went_out_instead(fault: str) -> None:
    """In-process there is no socket to reset or close: the fault falls back to a truncate, whose status and head
    go out through ASGI, and are logged as sent."""
    mock = mock_of()
    sent = send(mock, "GET", "/users", ((b"x-mock-response-fault", fault.encode()),))
    entry = last(mock)
    assert sent.status == 200 and (entry.status, raw_pairs(entry.response_headers)) == (sent.status, sent.headers)
    assert entry.note.startswith(f"fault {fault} (socket not found: truncate: ")


# -- the request headers as received --------------------------------------------------------------------------------


def test_the_log_keeps_the_request_headers_as_received_in_order_repeats_and_case_kept() -> None:
    received = ((b"Host", b"mock"), (b"X-Tag", b"one"), (b"accept", b"*/*"), (b"x-tag", b"two"),
                (b"X-Latin", "café".encode("latin-1")), (b"x-tag", b"three"))
    mock = mock_of()
    send(mock, "GET", "/users", received)
    entry = last(mock)
    as_text = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in received]
    assert list(entry.request_headers(reveal=True)) == list(entry.request_headers()) == list(entry.headers) == as_text
    admin = json.loads(send(mock, "GET", f"/__postmock/log/{entry.seq}").body)
    assert admin["headers"] == [list(pair) for pair in as_text]


# -- masking ---------------------------------------------------------------------------------------------------------

KEY = "PMAK-" + "a1b2c3d4" * 4
TOKEN = "eyJhbGciOiJIUzI1NiJ9." + "t0k3n" * 8
SESSION = "sid-" + "f00dfeed" * 4
COOKIE = "cookie-" + "c0ffee42" * 4
QUERY_KEY = "qk-" + "0123456789" * 4
SECRETS = (KEY, TOKEN, SESSION, COOKIE, QUERY_KEY)
SECRET_REQUEST = ((b"x-api-key", KEY.encode()), (b"authorization", f"Bearer {TOKEN}".encode()),
                  (b"cookie", f"session={COOKIE}".encode()), (b"accept", b"*/*"))
SECRET_COLLECTION = make_collection(
    make_example("GET /login", "login", body="ok", headers={"Set-Cookie": f"session={SESSION}; Path=/; HttpOnly"}))


def shown_anywhere(text: str) -> list[str]:
    """The secrets ``text`` shows (none, masked)."""
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture
def secrets_sent() -> Iterator[AssembledMock]:
    """A mock that let secrets be revealed, after a hit and a miss that both carried every kind of secret."""
    mock = mock_of(SECRET_COLLECTION, reveal_secrets=True)
    send(mock, "GET", f"/login?api_key={QUERY_KEY}&page=1", SECRET_REQUEST)
    send(mock, "GET", f"/logout?api_key={QUERY_KEY}", SECRET_REQUEST)
    yield mock


def test_secrets_are_masked_in_every_view_of_an_entry(secrets_sent: AssembledMock) -> None:
    for entry in secrets_sent.log.recent():
        views = {
            "headers": str(entry.headers), "request_headers()": str(entry.request_headers()),
            "shown_response_headers()": str(entry.shown_response_headers()), "url": entry.url,
            "summary()": json.dumps(entry.summary()), "entry_html": entry_html(entry),
        }
        assert {view: shown_anywhere(text) for view, text in views.items()} == dict.fromkeys(views, []), entry.url
    assert shown_anywhere(log_table_html(secrets_sent.log.recent())) == []
    hit = secrets_sent.log.recent()[1]
    assert dict(hit.headers)["authorization"].startswith("Bearer ") and "session=" in dict(hit.headers)["cookie"]
    assert dict(hit.shown_response_headers())["set-cookie"].endswith("; Path=/; HttpOnly")
    assert hit.url.startswith("/login?api_key=") and hit.url.endswith("&page=1")


def test_secrets_are_shown_only_when_revealed(secrets_sent: AssembledMock) -> None:
    hit = secrets_sent.log.recent()[1]
    assert dict(hit.request_headers(reveal=True)) == {k.decode(): v.decode() for k, v in SECRET_REQUEST}
    assert dict(hit.shown_response_headers(reveal=True))["set-cookie"] == f"session={SESSION}; Path=/; HttpOnly"


@pytest.mark.parametrize("seq", [1, 2], ids=["a hit", "a miss"])
def test_the_admin_api_masks_secrets_unless_revealed(secrets_sent: AssembledMock, seq: int) -> None:
    listed = send(secrets_sent, "GET", "/__postmock/log").body.decode()
    masked = send(secrets_sent, "GET", f"/__postmock/log/{seq}").body.decode()
    assert json.loads(masked)["secrets"] == "masked"
    assert (shown_anywhere(listed), shown_anywhere(masked)) == ([], [])
    revealed = json.loads(send(secrets_sent, "GET", f"/__postmock/log/{seq}?reveal=1").body)
    assert revealed["secrets"] == "shown"
    assert dict(revealed["headers"]) == {k.decode(): v.decode() for k, v in SECRET_REQUEST}
    if seq == 1:
        assert dict(revealed["response"]["headers"])["set-cookie"] == f"session={SESSION}; Path=/; HttpOnly"


def test_the_404_a_client_gets_masks_the_secrets_it_sent() -> None:
    mock = mock_of(SECRET_COLLECTION)
    sent = send(mock, "GET", f"/logout?api_key={QUERY_KEY}", SECRET_REQUEST)
    assert sent.status == 404 and shown_anywhere(sent.body.decode()) == []


@pytest.mark.parametrize("query", [
    "api_key={key}", "API_KEY={key}", "page=1&api_key={key}&size=2", "apikey={key}", "access_token={key}",
    "client_secret={key}",
    "api%5Fkey={key}",  # the name percent-encoded: a WebSocket upgrade's key check reads it as api_key
    "Api-Key={key}", "auth={key}&page=1",
])
def test_a_secret_query_parameter_is_masked_in_every_view(query: str) -> None:
    mock = mock_of(SECRET_COLLECTION)
    query = query.format(key=QUERY_KEY)
    send(mock, "GET", f"/login?{query}")
    miss = send(mock, "GET", f"/logout?{query}")
    views = {"the 404 body": miss.body.decode(), "the admin log": send(mock, "GET", "/__postmock/log").body.decode(),
             "the table": log_table_html(mock.log.recent())}
    for entry in mock.log.recent(2):
        views |= {f"#{entry.seq} url": entry.url, f"#{entry.seq} summary()": json.dumps(entry.summary()),
                  f"#{entry.seq} entry_html": entry_html(entry),
                  f"#{entry.seq} admin": send(mock, "GET", f"/__postmock/log/{entry.seq}").body.decode()}
    assert [view for view, text in views.items() if shown_anywhere(text)] == []


# -- what a handler sees ----------------------------------------------------------------------------------------------


def test_a_handler_sees_the_request_headers_as_a_read_only_mapping_in_any_case() -> None:
    seen: dict[str, Any] = {}

    async def look(request: Any) -> dict[str, str]:
        headers = request.headers
        seen.update(
            mapping=isinstance(headers, Mapping), item=headers["X-Tag"], lower=headers["x-tag"],
            get=headers.get("ACCEPT"), default=headers.get("x-none", "default"), none=headers.get("x-none"),
            contains=("X-TAG" in headers, "x-none" in headers), names=list(headers), length=len(headers),
            as_dict=dict(headers), items=list(headers.items()), equal=headers == dict(headers),
            last_event_id=request.last_event_id)
        try:
            headers["x-new"] = "1"
        except TypeError:
            seen["read_only"] = True
        try:
            headers["x-none"]
        except KeyError:
            seen["key_error"] = True
        return {"ok": "yes"}

    behaviours = Behaviours()
    behaviours.register_handler("look", "look", look)
    collection = make_collection(behaviours.handler_example("look", "look", "GET /look"))
    mock = assemble(store=LiveCollection(collection), config=MockConfig(), behaviours=behaviours)
    try:
        sent = send(mock, "GET", "/look", ((b"Host", b"mock"), (b"X-Tag", b"a"), (b"accept", b"*/*"),
                                           (b"x-tag", b"b"), (b"Last-Event-ID", b"42"),
                                           (b"x-utf8", "café".encode())))
    finally:
        behaviours.handlers.close()
    assert (sent.status, json.loads(sent.body)) == (200, {"ok": "yes"})
    entry = last(mock)
    assert (entry.status, raw_pairs(entry.response_headers), bytes(entry.response_body)) == (
        sent.status, sent.headers, sent.body)
    joined = {"host": "mock", "x-tag": "a, b", "accept": "*/*", "last-event-id": "42",
              "x-utf8": "café".encode().decode("latin-1")}  # as ASGI servers pass them: Latin-1
    assert seen == {
        "mapping": True, "item": "a, b", "lower": "a, b", "get": "*/*", "default": "default", "none": None,
        "contains": (True, False), "names": list(joined), "length": 5, "as_dict": joined, "items": list(joined.items()),
        "equal": True, "last_event_id": "42", "read_only": True, "key_error": True}
