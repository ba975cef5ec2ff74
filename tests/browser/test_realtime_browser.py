"""Chromium's own ``EventSource`` and ``WebSocket`` against a mock on 127.0.0.1, on every server.

The page is served by the mock itself (an HTML example, so the stream is same-origin, no CORS needed),
opened in Debian's Chromium through Playwright (no browser download). What the page's JavaScript saw is
read back with ``page.evaluate``:

- an ``--sse --interval 200`` example: every event arrives as its own ``EventSource`` event, in order, its
  placeholders filled, and spread out in time, not in one chunk (a lower bound only: the spread between
  the first and the last arrival is at least half of ``(n - 1) * interval``);
- an ``--sse`` example with ``--fault truncate``: ``EventSource`` reconnects by itself (after the stream's
  ``retry:``) with ``Last-Event-ID`` and resumes after the last event it got, until every event arrived,
  none twice;
- a tab closed mid-stream (SSE and a repeating WebSocket script): noted as the client leaving, no server error;
- a ``%%websocket`` conversation from ``new WebSocket(url)``, and a private mock's key as the subprotocol
  ``postmock-key.<KEY>`` (a browser cannot set headers on a WebSocket), a wrong key refused;
- an ``@mock.websocket`` handler talking with the page, and ``mock.broadcast`` from Python reaching every
  socket the page holds on the route (or the one path named) while the page listens.

No assertion depends on how fast anything is: the figures are in ``benchmarks/browser_arrivals.py``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.sockets import ws_url
from support.waiting import wait_until

from postmock_nb.behaviours.sockets import Socket
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.session import Session

pytestmark = pytest.mark.timeout(180)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE = """<!doctype html><html><head><title>realtime</title></head><body><pre id="out">ready</pre></body></html>"""
GUARD_MS = 20_000
"""How long the page's promises wait before they give up (a guard so a broken stream fails, not hangs)."""

INTERVAL_MS = 200
TOKENS = ["Hel", "lo", ", ", "Ada"]
CHAT_STREAM = "\n\n".join(
    [f'event: token\nid: {n}\ndata: {{"n": {n}, "text": "{text}", "to": "{{{{name}}}}", "uuid": "{{{{$randomUUID}}}}"}}'
     for n, text in enumerate(TOKENS, 1)]
    + [f"event: done\nid: {len(TOKENS) + 1}\ndata: [DONE]"])
CUT_STREAM = "\n\n".join(
    ["id: 1\nretry: 50\ndata: one"]
    + [f"id: {n}\ndata: {word}" for n, word in enumerate(["two", "three", "four"], 2)]
    + ["event: done\nid: 5\ndata: five"])

CHAT_SCRIPT = """> {"hello": "{{$any}}", "room": 7}
< {"welcome": "{{room}}"}
> bye
< see you"""
PRICES_SCRIPT = """< {"symbol": "{{symbol}}", "price": 1}
< {"symbol": "{{symbol}}", "price": 2}
< done"""
KEY = "browser-key"

# -- the page's JavaScript: each function resolves with what the page saw --------------------------

LISTEN_SSE = """async ([url, guard]) => await new Promise((resolve, reject) => {
    const seen = [], errors = [];
    const source = new EventSource(url);
    const timer = setTimeout(() => { source.close(); reject(new Error("gave up: " + JSON.stringify(seen))); }, guard);
    const note = (event) => {
        seen.push({type: event.type, id: event.lastEventId, data: event.data, at: performance.now()});
        if (event.type === "done") { source.close(); clearTimeout(timer); resolve({seen, errors}); }
    };
    source.addEventListener("token", note);
    source.addEventListener("message", note);
    source.addEventListener("done", note);
    source.onerror = () => errors.push({state: source.readyState, after: seen.length});
})"""

CONVERSE = """async ([url, protocols, guard]) => await new Promise((resolve, reject) => {
    const got = [];
    const socket = protocols.length ? new WebSocket(url, protocols) : new WebSocket(url);
    const timer = setTimeout(() => reject(new Error("gave up: " + JSON.stringify(got))), guard);
    socket.onopen = () => socket.send(JSON.stringify({room: 7, hello: "from Chromium"}));
    socket.onmessage = (event) => {
        got.push(event.data);
        if (got.length === 1) socket.send("bye");
        else socket.close(1000, "done");
    };
    socket.onclose = (event) => {
        clearTimeout(timer);
        resolve({got, protocol: socket.protocol, code: event.code, clean: event.wasClean});
    };
})"""

READ_STREAM = """async ([url, protocols, count, guard]) => await new Promise((resolve) => {
    const got = [];
    let opened = false;
    const socket = new WebSocket(url, protocols);
    const timer = setTimeout(() => socket.close(), guard);
    socket.onopen = () => { opened = true; };
    socket.onmessage = (event) => {
        got.push(event.data);
        if (got.length === count) socket.close(1000);
    };
    socket.onclose = (event) => {
        clearTimeout(timer);
        resolve({got, opened, protocol: socket.protocol, code: event.code});
    };
})"""

HOLD = """async ([urls, guard]) => await Promise.all(urls.map((url) => new Promise((resolve, reject) => {
    window.held = window.held || {};
    const socket = new WebSocket(url);
    const record = {got: [], closed: null};
    window.held[url] = {socket, record};
    const timer = setTimeout(() => reject(new Error("no greeting from " + url)), guard);
    socket.onmessage = (event) => {
        record.got.push(event.data);
        if (record.got.length === 1) { clearTimeout(timer); resolve(event.data); }
    };
    socket.onclose = (event) => { record.closed = event.code; };
})))"""


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module (a page per test)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: bash scripts/install-system-deps.sh")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def define_realtime(session: Session) -> None:
    """The page, the streams and the scripts the tests open (``%%example``/``%%websocket`` cells, as defined)."""
    session.define("GET /page", PAGE, name="page", headers=["Content-Type: text/html"])
    session.define("GET /chat/:name", CHAT_STREAM, name="chat",
                   request_headers=["x-mock-sse: true", f"x-mock-interval: {INTERVAL_MS}"])
    session.define("GET /cut", CUT_STREAM, name="cut",
                   request_headers=["x-mock-sse: true", "x-mock-interval: 50", "x-mock-fault: truncate"])
    session.define("GET /ws/chat/:room", CHAT_SCRIPT, name="chat socket", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true"])
    session.define("GET /ws/prices/:symbol", PRICES_SCRIPT, name="prices", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true", "x-mock-interval: 20"])
    session.define("GET /ws/ticks", "< tick", name="ticks", headers=["Content-Type: text/plain"],
                   request_headers=["x-mock-websocket: true", "x-mock-interval: 50", "x-mock-repeat: true"])


class Rooms:
    """An ``@mock.websocket`` chat room handler, and the rooms whose handler ended (its ``finally`` ran)."""

    def __init__(self, session: Session) -> None:
        self.mock = Prototype(session)
        self.left: list[str] = []

        @self.mock.websocket("/ws/rooms/:room")
        async def rooms(socket: Socket) -> None:
            await socket.send_json({"joined": socket.path_vars["room"], "nick": socket.arg("nick")})
            try:
                async for message in socket:
                    await socket.send(f"echo {message}")
            finally:
                self.left.append(socket.path_vars["room"])


@pytest.fixture
def mock(server_name: str) -> Iterator[Session]:
    session = Session()
    define_realtime(session)
    session.start(port=0, server=server_name)
    try:
        yield session
        assert session.server is not None and session.server.errors == [], "no server error"
    finally:
        session.close()


@pytest.fixture
def page(browser: Any, mock: Session) -> Iterator[Any]:
    """A page of the mock's own origin (``/page``)."""
    context = browser.new_context()
    try:
        opened = context.new_page()
        opened.set_default_timeout(GUARD_MS)
        opened.goto(mock.url + "/page")
        assert opened.title() == "realtime"
        yield opened
    finally:
        context.close()



def socket_rows(session: Session) -> list[Any]:
    """The WebSocket connections logged and closed (a row is live, "WebSocket open: …", until its socket closes)."""
    assert session.server is not None
    return [e for e in session.server.log.recent(50) if e.status == 101 and not e.live]


def client_close(server_name: str, code: int) -> str:
    """How the log says the client closed with ``code``: Hypercorn (0.18) tells the app 1006 whatever the
    client's close frame said (pgjones/hypercorn#127), so the mock cannot know the code there."""
    return f"closed {1006 if server_name == 'hypercorn' else code} by the client"


def header(entry: Any, name: bytes) -> str | None:
    return next((value.decode() for key, value in entry.raw_headers if key.lower() == name), None)


# -- Server-Sent Events ----------------------------------------------------------------------------


def test_eventsource_gets_every_event_on_its_own_in_order_spread_by_the_interval(mock: Session, page: Any) -> None:
    result = page.evaluate(LISTEN_SSE, ["/chat/Ada", GUARD_MS])
    seen = result["seen"]
    assert [(event["type"], event["id"]) for event in seen] == [
        ("token", "1"), ("token", "2"), ("token", "3"), ("token", "4"), ("done", "5")], "each its own event, in order"
    tokens = [json.loads(event["data"]) for event in seen[:-1]]
    assert [token["text"] for token in tokens] == TOKENS and seen[-1]["data"] == "[DONE]"
    assert {token["to"] for token in tokens} == {"Ada"}, "the path variable filled in every event"
    uuids = {token["uuid"] for token in tokens}
    assert len(uuids) == len(TOKENS) and all(len(uuid) == 36 for uuid in uuids), "placeholders filled per event"
    spread = seen[-1]["at"] - seen[0]["at"]
    assert spread >= (len(seen) - 1) * INTERVAL_MS / 2, f"the events came in one chunk: {spread:.0f} ms apart"
    assert result["errors"] == [], "no reconnect: the page closed the source on the done event"
    assert mock.server is not None
    wait_until(lambda: mock.server is not None and not mock.server.log.recent(1)[0].live)  # the stream ended
    assert mock.server.log.recent(1)[0].note == "sse: 5 of 5 events sent"


def test_eventsource_reconnects_after_a_cut_and_resumes_after_the_last_event_id(mock: Session, page: Any) -> None:
    """``--fault truncate`` cuts each connection after half of what it has to send (at least one event):
    Chromium reconnects on its own, ``retry: 50`` ms later, naming the last id it got, until it has them all.
    The mock sends 2 of 5, then 1 of 3, 1 of 2 and 1 of 1 (each cut comes once the page's TCP stack has
    acknowledged the events before it: none is lost with the connection)."""
    result = page.evaluate(LISTEN_SSE, ["/cut", GUARD_MS])
    seen, errors = result["seen"], result["errors"]
    assert [event["data"] for event in seen] == ["one", "two", "three", "four", "five"], "all of them, none twice"
    assert [event["id"] for event in seen] == ["1", "2", "3", "4", "5"]
    assert [error["after"] for error in errors] == [2, 3, 4], "a reconnect after each cut"
    assert all(error["state"] == 0 for error in errors), "CONNECTING: EventSource reconnected by itself"
    assert mock.server is not None
    wait_until(lambda: mock.server is not None  # an entry's note says what went out once its stream ended
               and len([e for e in mock.server.log.recent(20) if e.path == "/cut" and not e.live]) == 4)
    cuts = [e for e in reversed(mock.server.log.recent(20)) if e.path == "/cut"]
    assert [header(e, b"last-event-id") for e in cuts] == [None, "2", "3", "4"]
    assert [e.note.split(" (")[0] for e in cuts[:3]] == [
        "fault truncate: sse: 2 of 5 events sent, then cut", "fault truncate: sse: 1 of 3 events sent, then cut",
        "fault truncate: sse: 1 of 2 events sent, then cut"]
    # the last: the page closed its source on "done", before or after the cut came
    assert cuts[3].note.split(" (")[0] in ("sse: 1 of 1 event sent, the client left",
                                           "fault truncate: sse: 1 of 1 event sent, then cut")


def test_a_page_closed_mid_stream_leaves_no_error(mock: Session, browser: Any) -> None:
    """The tab closes while an SSE stream and a repeating WebSocket script are still sending: both end
    quietly, noted as the client leaving (the fixture checks that the server's error log stayed empty)."""
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.set_default_timeout(GUARD_MS)
        tab.goto(mock.url + "/page")
        tab.evaluate("""([sse, ws]) => {
            window.got = {sse: 0, ws: 0};
            new EventSource(sse).addEventListener("token", () => window.got.sse++);
            new WebSocket(ws).onmessage = () => window.got.ws++;
        }""", ["/chat/Ada", ws_url(mock, "/ws/ticks")])
        tab.wait_for_function("window.got.sse >= 1 && window.got.ws >= 2")
        tab.close()
    finally:
        context.close()
    assert mock.server is not None
    wait_until(lambda: mock.server is not None and any(
        e.path == "/chat/Ada" and e.note.endswith("the client left") for e in mock.server.log.recent(10)))
    wait_until(lambda: len(socket_rows(mock)) == 1)
    assert re.fullmatch(r"sse: [1-4] of 5 events sent, the client left",
                        next(e.note for e in mock.server.log.recent(10) if e.path == "/chat/Ada"))
    note = socket_rows(mock)[0].note
    assert note.startswith("WebSocket: ") and note.endswith("by the client"), note


# -- WebSockets: %%websocket scripts -----------------------------------------------------------------


def test_a_websocket_conversation_from_chromium(mock: Session, page: Any, server_name: str) -> None:
    result = page.evaluate(CONVERSE, [ws_url(mock, "/ws/chat/7"), [], GUARD_MS])
    assert result["got"] == ['{"welcome": "7"}', "see you"]
    assert (result["code"], result["clean"]) == (1000, True)
    wait_until(lambda: len(socket_rows(mock)) == 1)
    entry = socket_rows(mock)[0]
    assert entry.example_name == "chat socket" and entry.path == "/ws/chat/7"
    assert entry.note.startswith(f"WebSocket: 2 sent, 2 received, {client_close(server_name, 1000)}")
    transcript = entry.response_body.decode()
    assert '> {"room":7,"hello":"from Chromium"}' in transcript and "< see you" in transcript


def test_a_websocket_stream_reaches_chromium_in_order(mock: Session, page: Any, server_name: str) -> None:
    result = page.evaluate(READ_STREAM, [ws_url(mock, "/ws/prices/ACME"), [], 3, GUARD_MS])
    assert result["got"] == ['{"symbol": "ACME", "price": 1}', '{"symbol": "ACME", "price": 2}', "done"]
    wait_until(lambda: len(socket_rows(mock)) == 1)
    assert socket_rows(mock)[0].note.startswith(f"WebSocket: 3 sent, 0 received, {client_close(server_name, 1000)}")


def test_a_page_that_asks_for_a_subprotocol_gets_it(mock: Session, page: Any) -> None:
    """Chromium fails a connection that asked for a subprotocol and got none back (1006): the mock accepts
    the first the page offers (``new WebSocket(url, ["graphql-transport-ws"])``)."""
    result = page.evaluate(READ_STREAM, [ws_url(mock, "/ws/prices/ACME"), ["graphql-transport-ws", "chat"], 3,
                                         GUARD_MS])
    assert result["opened"] and result["protocol"] == "graphql-transport-ws", result
    assert result["got"] == ['{"symbol": "ACME", "price": 1}', '{"symbol": "ACME", "price": 2}', "done"]


# -- WebSockets: @mock.websocket handlers and mock.broadcast ------------------------------------------


@pytest.fixture
def rooms(mock: Session) -> Rooms:
    """The handler, defined while the mock runs (as a notebook cell would)."""
    return Rooms(mock)


def test_a_socket_handler_talks_with_the_page_and_a_broadcast_reaches_it(mock: Session, rooms: Rooms, page: Any,
                                                                         server_name: str) -> None:
    kitchen, hall = ws_url(mock, "/ws/rooms/kitchen?nick=ada"), ws_url(mock, "/ws/rooms/hall?nick=bo")
    greetings = page.evaluate(HOLD, [[kitchen, hall], GUARD_MS])
    assert [json.loads(text) for text in greetings] == [{"joined": "kitchen", "nick": "ada"},
                                                        {"joined": "hall", "nick": "bo"}]
    page.evaluate("url => window.held[url].socket.send('hi')", kitchen)
    page.wait_for_function("url => window.held[url].record.got.length === 2", arg=kitchen)
    # from Python, while the page listens: the route as defined reaches both sockets, a path only its own
    assert rooms.mock.broadcast("/ws/rooms/:room", {"type": "news", "text": "lunch"}) == 2
    assert mock.broadcast("/ws/rooms/hall", "only the hall") == 1
    page.wait_for_function("urls => urls.every((url) => window.held[url].record.got.length === 3)", arg=[kitchen, hall])
    got = page.evaluate("urls => urls.map((url) => window.held[url].record.got)", [kitchen, hall])
    assert got[0][1:] == ["echo hi", '{"type": "news", "text": "lunch"}']
    assert got[1][1:] == ['{"type": "news", "text": "lunch"}', "only the hall"]
    page.evaluate("urls => urls.forEach((url) => window.held[url].socket.close(1000))", [kitchen, hall])
    wait_until(lambda: sorted(rooms.left) == ["hall", "kitchen"])  # the client left: each handler's finally ran
    wait_until(lambda: len(socket_rows(mock)) == 2)
    notes = {entry.path: entry.note for entry in socket_rows(mock)}
    assert notes["/ws/rooms/kitchen"].startswith(f"WebSocket: 3 sent, 1 received, {client_close(server_name, 1000)}")
    assert notes["/ws/rooms/hall"].startswith(f"WebSocket: 3 sent, 0 received, {client_close(server_name, 1000)}")


@pytest.fixture
def private(server_name: str) -> Iterator[Session]:
    session = Session()
    define_realtime(session)
    session.start(port=0, server=server_name, private=True, api_key=KEY)
    try:
        yield session
        assert session.server is not None and session.server.errors == [], "no server error"
    finally:
        session.close()


def test_a_private_mock_takes_the_key_as_a_subprotocol_from_chromium(private: Session, page: Any) -> None:
    """The page (of another, public mock: a browser opens a WebSocket to any origin) names the key as its
    subprotocol; the mock accepts that subprotocol back (Chromium drops a socket whose server picks none)."""
    url = ws_url(private, "/ws/prices/ACME")
    result = page.evaluate(READ_STREAM, [url, [f"postmock-key.{KEY}"], 3, GUARD_MS])
    assert result["protocol"] == f"postmock-key.{KEY}" and len(result["got"]) == 3
    for wrong in (["postmock-key.nope"], []):
        refused = page.evaluate(READ_STREAM, [url, wrong, 3, GUARD_MS])
        assert (refused["opened"], refused["got"], refused["code"]) == (False, [], 1006), f"refused: {wrong}"
    assert private.server is not None
    wait_until(lambda: private.server is not None and sum(e.refused for e in private.server.log.recent(20)) == 2)
    assert [e.note for e in socket_rows(private)][0].startswith("WebSocket: 3 sent, 0 received")


REFUSED_SSE = """async ([url, guard]) => await new Promise((resolve) => {
    const source = new EventSource(url);
    const timer = setTimeout(() => { source.close(); resolve({state: source.readyState, gaveUp: true}); }, guard);
    source.onerror = () => { clearTimeout(timer); const state = source.readyState; source.close();
                             resolve({state, gaveUp: false}); };
})"""


def test_a_private_mock_takes_the_key_in_the_url_of_an_eventsource(private: Session, page: Any) -> None:
    """``EventSource`` cannot send a header: a request for an event stream may carry ``?api_key=`` (the page is
    of another, public mock: the private one answers with its CORS headers)."""
    result = page.evaluate(LISTEN_SSE, [f"{private.url}/chat/Ada?api_key={KEY}", GUARD_MS])
    assert [event["id"] for event in result["seen"]] == ["1", "2", "3", "4", "5"]
    refused = page.evaluate(REFUSED_SSE, [f"{private.url}/chat/Ada?api_key=nope", GUARD_MS])
    assert refused == {"state": 2, "gaveUp": False}, "a 401: EventSource fails for good (CLOSED), no reconnect"
    assert private.server is not None
    wait_until(lambda: private.server is not None and sum(e.refused for e in private.server.log.recent(20)) == 1)
