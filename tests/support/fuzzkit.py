"""A bounded HTTP fuzz kit: raw requests to a real mock on 127.0.0.1, and what came back.

Used by ``tests/server/test_fuzz.py`` (assertions) and ``benchmarks/fuzz_counts.py`` (counts).
Every case is one raw request on its own TCP connection; the response is read with h11
as a client would, so an interim (1xx) head, a missing body or a dropped connection show
as an incomplete answer. Every request carries an ``x-fuzz`` header with its case's number
(malformed ones too, right after their first line), by which its entry in the mock's log is
found — or found missing, when the HTTP server answered the request itself.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

import h11

from postmock_nb.core.model import Collection, Example, RequestSpec, ResponseSpec
from postmock_nb.serving.requestlog import LogEntry
from postmock_nb.serving.server import MockServer

DEEP = 5000
"""How deep the deep JSON cases nest."""


def _example(path: str, *, name: str = "", status: int = 200, headers: Iterable[tuple[str, str]] = (),
             body: str = "ok", example_id: str | None = None, method: str = "GET",
             request_headers: Iterable[tuple[str, str]] = ()) -> Example:
    request = RequestSpec(method=method, path=path, headers=tuple(request_headers))
    response = ResponseSpec(status=status, headers=tuple(headers), body=body)
    example = Example(name=name or f"{method} {path}", request=request, response=response)
    return example if example_id is None else Example(example.name, request, response, id=example_id)


@dataclass(frozen=True)
class Case:
    """One raw request; ``allow_5xx`` when the example itself says the answer is a server error."""

    label: str
    raw: bytes
    allow_5xx: bool = False
    timeout: float = 3.0


@dataclass
class Outcome:
    case: Case
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    interim: list[int] = field(default_factory=list)
    problem: str = ""
    logged: list[LogEntry] = field(default_factory=list)
    """The mock's log entries for this request (found by its ``x-fuzz`` tag): one when the app saw it,
    none when the HTTP server answered it itself."""

    @property
    def complete(self) -> bool:
        return self.status is not None and not self.problem

    @property
    def logged_status(self) -> int | None:
        """The status the app logged for this request; None when the app never saw it."""
        return self.logged[-1].status if self.logged else None

    @property
    def app_answered(self) -> bool:
        return bool(self.logged)

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k.lower() == name), None)


# -- the collection -----------------------------------------------------------------------------

_NAME_CASES = ["a\rb", "a\nb", "a\r\nSet-Cookie: x=1", "nul\x00name", "bell\x07", "del\x7f", "esc\x1b[31m",
               "tab\tname", "vt\x0bname", "ff\x0cname", "é unicode", "emoji 😀", "x" * 5000, "\x01\x02\x03"]
_ID_CASES = ["id\r\n", "id\x00", "id\x01", "ïd", "id with space", "id\nSet-Cookie: y=2"]
_HEADER_NAME_CASES = ["X Space", "X:Colon", "", " ", "Ünï", "X\r\nY", "X\x00", "(paren)", "X/Slash", "X@at",
                      "X\tTab", "[br]", "x{y}", 'X"q', "X,comma", "X;semi", "X=eq", "X?q", "\\back"]
_HEADER_VALUE_CASES = ["a\rb", "a\nb", "a\r\nSet-Cookie: evil=1", "a\x00b", "a\x01b", "a\x7fb", "trailing\r\n",
                       "\x0b", "  padded  ", "é", "😀", "x" * 10000]
_SKIPPED = [("Content-Length", "5"), ("Transfer-Encoding", "chunked"), ("Connection", "close"),
            ("Upgrade", "h2c"), ("Keep-Alive", "timeout=5"), ("TE", "trailers"), ("Content-Length", "abc")]


def unsendable_examples() -> list[tuple[str, Example, bool]]:
    """(label, example, allow_5xx): examples whose saved parts HTTP cannot send as they are."""
    found: list[tuple[str, Example, bool]] = []

    def add(label: str, allow_5xx: bool = False, **kwargs: object) -> None:
        path = f"/ex/{len(found)}"
        found.append((label, _example(path, **kwargs), allow_5xx))  # type: ignore[arg-type]

    for name in _NAME_CASES:
        add(f"example name {name[:20]!r}", name=name)
    for example_id in _ID_CASES:
        add(f"example id {example_id!r}", example_id=example_id)
    for header in _HEADER_NAME_CASES:
        add(f"header name {header!r}", headers=[(header, "v")])
    for value in _HEADER_VALUE_CASES:
        add(f"header value {value[:20]!r}", headers=[("X-Value", value)])
    add("content-type with CRLF", headers=[("Content-Type", "text/plain\r\nX-Injected: 1")])
    for skipped in _SKIPPED:
        add(f"saved {skipped[0]}: {skipped[1]}", headers=[skipped])
    for status in (100, 101, 102, 103, 199):
        add(f"status {status}", allow_5xx=True, status=status)
    for status in (204, 205, 304):
        add(f"status {status} with a body", status=status, body='{"saved": "body"}')
    add("status 204 with a saved Content-Length", status=204, body="", headers=[("Content-Length", "99")])
    add("status 304 with a content type", status=304, body="x", headers=[("Content-Type", "application/json")])
    add("deep JSON response, no declared type", body="[" * DEEP + "]" * DEEP)
    add("deep JSON object response", body='{"a":' * DEEP + "1" + "}" * DEEP)
    return found


def fuzz_collection() -> Collection:
    """Every example the cases ask for, built straight from the model (no import checks on the way)."""
    examples = [example for _, example, _ in unsendable_examples()]
    examples += [
        _example("/plain", body='{"plain": true}', headers=[("Content-Type", "application/json")]),
        _example("/match-body", method="POST", body="matched",
                 request_headers=[("Content-Type", "application/json"), ("x-mock-match-request-body", "true")]),
        _example("/echo/users/:id", headers=[("Location", "/users/{{id}}")], body="{{id}}"),
        _example("/echo/q", headers=[("X-Q", "{{$queryParams 'q'}}")]),
        _example("/echo/qall", headers=[("X-All", "{{$queryParams}}")]),
        _example("/echo/body", method="POST", headers=[("X-Body", "{{$body}}")], body="{{$body}}"),
        _example("/echo/field", method="POST", headers=[("X-F", "{{$body 'a'}}")],
                 body='{"a": "{{$body \'a\'}}"}'),
        _example("/echo/h", headers=[("X-H", "{{$headers 'x-in'}}")]),
        _example("/echo/seg/:s", headers=[("X-S", "{{$pathSegments 2}}")]),
    ]
    collection = Collection(name="fuzz")
    for example in examples:
        collection = collection.with_example(example)
    return collection


# -- the cases ------------------------------------------------------------------------------------


def _request(method: str, target: str, headers: Iterable[tuple[str, str]] = (), body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def cases() -> list[Case]:
    """Every fuzz case: malformed requests, bad x-mock-* values, deep/huge bodies, echo injection,
    unsendable examples and a WebSocket upgrade. Bounded: a few hundred requests."""
    found: list[Case] = []

    def add(label: str, raw: bytes, allow_5xx: bool = False, timeout: float = 3.0) -> None:
        found.append(Case(label, tagged(raw, str(len(found))), allow_5xx, timeout))

    def req(label: str, method: str, target: str, headers: Iterable[tuple[str, str]] = (), body: bytes = b"",
            allow_5xx: bool = False) -> None:
        add(label, _request(method, target, headers, body), allow_5xx)

    # malformed request lines and headers (the HTTP server answers most itself: which, depends on the server)
    for label, raw in [
            ("garbage line", b"GARBAGE\r\n\r\n"), ("no target", b"GET\r\n\r\n"),
            ("HTTP/9.9", b"GET /plain HTTP/9.9\r\nHost: x\r\n\r\n"),
            ("double space", b"GET  /plain HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("header without colon", b"GET /plain HTTP/1.1\r\nHost x\r\n\r\n"),
            ("space before colon", b"GET /plain HTTP/1.1\r\nHost : x\r\n\r\n"),
            ("binary", b"\x00\x01\x02\xff\r\n\r\n"),
            ("100 KB request line", b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("2000 headers", (b"GET /plain HTTP/1.1\r\nHost: x\r\n"
                              + b"".join(b"X-%d: v\r\n" % i for i in range(2000)) + b"\r\n")),
            ("obs-fold", b"GET /plain HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"),
            ("conflicting Content-Length", (b"POST /plain HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                                            b"Content-Length: 2\r\n\r\nab")),
            ("negative Content-Length", b"POST /plain HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
            ("bad chunk size", b"POST /plain HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            ("target *", b"GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("absolute URI", b"GET http://127.0.0.1/plain HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("bad percent", b"GET /pl%ZZain HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("raw non-ASCII target", "GET /é HTTP/1.1\r\nHost: x\r\n\r\n".encode()),
            ("HTTP/1.0 no host", b"GET /plain HTTP/1.0\r\n\r\n"),
            ("lowercase method", b"get /plain HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("unknown method", b"BREW /plain HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("NUL in header value", b"GET /plain HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n"),
            ("control char in header value", b"GET /plain HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n"),
    ]:
        add(f"malformed: {label}", raw)

    # bad x-mock-* values, in headers and in the query
    for value in ["²", "١٢٣", "٢٠٠", "9" * 5000, "-1", "abc", "", " ", "200.0", "0200", "1e3", "é", "99999"]:
        req(f"x-mock-response-code {value[:12]!r}", "GET", "/plain", [("x-mock-response-code", value)])
    for value in ["9" * 5000, "²", "-5", "1.5", "abc", "0", "99999999", "١"]:
        req(f"x-mock-response-delay {value[:12]!r}", "GET", "/plain", [("x-mock-response-delay", value)])
    for name, value in [("x-mock-response-code", "9" * 5000), ("x-mock-response-code", "%C2%B2"),
                        ("x-mock-response-delay", "9" * 5000), ("x-mock-response-delay", "%C2%B2"),
                        ("X-Mock-Response-Code", "%00"), ("x-mock-response-name", "%0d%0a")]:
        req(f"query {name}={value[:12]}", "GET", f"/plain?{name}={value}")
    for name, value in [("x-mock-response-name", "\x01"), ("x-mock-response-name", "n" * 5000),
                        ("x-mock-response-id", "é"), ("x-mock-match-request-body", "maybe"),
                        ("x-mock-match-request-headers", ",,,,"), ("x-mock-match-request-headers", "x" * 5000)]:
        req(f"{name} {value[:12]!r}", "GET", "/plain", [(name, value)])

    # deep and huge bodies
    json_type = [("Content-Type", "application/json")]
    deep_list = ("[" * DEEP + "]" * DEEP).encode()
    deep_object = ('{"a":' * DEEP + "1" + "}" * DEEP).encode()
    req("deep JSON list, body matching", "POST", "/match-body", json_type, deep_list)
    req("deep JSON object, body matching", "POST", "/match-body", json_type, deep_object)
    req("deep JSON, per-request body matching", "POST", "/plain",
        json_type + [("x-mock-match-request-body", "true")], deep_list)
    req("deep JSON under {{$body 'a'}}", "POST", "/echo/field", json_type, deep_object)
    req("invalid UTF-8 body, body matching", "POST", "/match-body", json_type, b"\xff\xfe{")
    add("declared 20 MB body, never sent",
        b"POST /plain HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\nabc", timeout=3.0)
    req("11 MB body", "POST", "/plain", body=b"x" * (11 * 1024 * 1024))

    # CR/LF and control characters through every echo path
    for value in ["%0d%0aSet-Cookie:%20x=1", "%00", "%0a", "%0d", "%7f", "%01", "%C3%A9", "%E2%98%83", "%09tab"]:
        req(f"path variable {value} echoed in Location", "GET", f"/echo/users/{value}")
        req(f"path segment {value} echoed", "GET", f"/echo/seg/{value}")
        req(f"query {value} echoed", "GET", f"/echo/q?q={value}")
        req(f"all query params {value} echoed", "GET", f"/echo/qall?a={value}")
    for body in [b"a\r\nSet-Cookie: x=1", b"\x00", b"line\n", "é".encode(), "☃".encode()]:
        req(f"body {body[:10]!r} echoed", "POST", "/echo/body", body=body)
        req(f"JSON field {body[:10]!r} echoed", "POST", "/echo/field", json_type,
            b'{"a": "' + body.replace(b"\r", b"\\r").replace(b"\n", b"\\n").replace(b"\x00", b"\\u0000") + b'"}')
    req("header x-in with a control character echoed", "GET", "/echo/h", [("x-in", "a\x01b")])
    req("header x-in with DEL echoed", "GET", "/echo/h", [("x-in", "a\x7fb")])
    req("CORS preflight echoing a control character", "OPTIONS", "/plain",
        [("Origin", "http://a\x01b"), ("Access-Control-Request-Method", "GET"),
         ("Access-Control-Request-Headers", "x-a\x1fb")])

    # the unsendable examples
    for index, (label, _, allow_5xx) in enumerate(unsendable_examples()):
        req(f"unsendable: {label}", "GET", f"/ex/{index}", allow_5xx=allow_5xx)
        if not allow_5xx:
            req(f"unsendable (HEAD): {label}", "HEAD", f"/ex/{index}")

    # a WebSocket upgrade (refused: the mock serves HTTP only)
    req("WebSocket upgrade", "GET", "/plain", [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                               ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                                               ("Sec-WebSocket-Version", "13")], allow_5xx=True)
    return found


# -- sending -------------------------------------------------------------------------------------


def send_raw(port: int, case: Case) -> Outcome:
    """Send ``case.raw`` on a fresh connection and read one final response with h11."""
    outcome = Outcome(case)
    method = case.raw.split(b" ", 1)[0]
    client = h11.Connection(h11.CLIENT)
    fake = h11.Request(method=method if method in (b"GET", b"HEAD", b"POST") else b"GET", target="/",
                       headers=[("Host", "x")])
    client.send(fake)  # puts the parser in the state that expects this request's response
    body = bytearray()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=case.timeout) as sock:
            try:
                sock.sendall(case.raw)
            except OSError:
                pass  # the server may answer and close before reading everything: read what it said
            while True:
                event = client.next_event()
                if event is h11.NEED_DATA:
                    try:
                        data = sock.recv(65536)
                    except ConnectionResetError:
                        data = b""
                    client.receive_data(data)
                    continue
                if isinstance(event, h11.InformationalResponse):
                    outcome.interim.append(event.status_code)
                elif isinstance(event, h11.Response):
                    outcome.status, outcome.headers = event.status_code, list(event.headers)
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                    break
    except TimeoutError:
        outcome.problem = "timed out"
    except h11.RemoteProtocolError as error:
        outcome.problem = f"invalid HTTP from the server: {error}"
    except OSError as error:
        outcome.problem = f"connection failed: {error}"
    if outcome.status is None and not outcome.problem:
        outcome.problem = "connection closed without a final response" + (
            f" (after interim {outcome.interim})" if outcome.interim else "")
    outcome.body = bytes(body)
    return outcome


def tagged(raw: bytes, tag: str) -> bytes:
    """``raw`` with an ``x-fuzz: TAG`` header right after its first line (malformed or not), by which
    the mock's log entry for it is found."""
    first, crlf, rest = raw.partition(b"\r\n")
    return first + crlf + f"x-fuzz: {tag}\r\n".encode() + rest if crlf else raw


def _tag(raw: bytes) -> bytes | None:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    return _tag_of_headers((name, value) for name, _, value in (line.partition(b":") for line in head))


def entries_by_tag(server: MockServer) -> dict[bytes | None, list[LogEntry]]:
    """The mock's log entries by their request's ``x-fuzz`` tag (None: entries with none), oldest first."""
    found: dict[bytes | None, list[LogEntry]] = {}
    for entry in reversed(server.log.recent()):
        found.setdefault(_tag_of_headers(entry.raw_headers), []).append(entry)
    return found


def _tag_of_headers(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    return next((value.strip() for name, value in headers if name.strip().lower() == b"x-fuzz"), None)


def unclaimed(server: MockServer, outcomes: list[Outcome]) -> list[LogEntry]:
    """Log entries of no case (nor of the probe): requests the mock logged that were never sent as such."""
    tags = {_tag(o.case.raw) for o in outcomes} | {PROBE_TAG}
    return [entry for tag, entries in entries_by_tag(server).items() if tag not in tags for entry in entries]


def framing_problem(outcome: Outcome) -> str:
    """What is wrong with a complete response as HTTP frames it (bodies HTTP forbids)."""
    status = outcome.status
    if status in (204, 304) and outcome.header(b"content-length") not in (None,):
        return f"{status} sent with content-length {outcome.header(b'content-length')!r}"
    if status == 205 and outcome.body:
        return "205 sent with a body"
    return ""


def run(server: MockServer, selected: list[Case] | None = None) -> list[Outcome]:
    """Send every case (one connection each, one after another), then read what the log recorded for each.

    The log is read by tag once every case is answered and a probe request after them, not
    case by case: the app logs a request before it answers it, but a request the HTTP server
    answers itself may still reach the app, and be logged, after the client got the server's
    answer (Hypercorn and uvicorn answer a broken chunked body with their own 400 and hand the
    app the request head with a disconnect). Found by its tag, such an entry is still its case's.
    """
    assert server.port is not None
    outcomes = [send_raw(server.port, case) for case in (selected if selected is not None else cases())]
    still_answers(server)
    by_tag = entries_by_tag(server)
    for outcome in outcomes:
        outcome.logged = by_tag.get(_tag(outcome.case.raw), [])
        if outcome.complete:
            outcome.problem = framing_problem(outcome) or (
                f"{len(outcome.logged)} log entries for one request" if len(outcome.logged) > 1 else "")
    return outcomes


PROBE_TAG = b"probe"


def still_answers(server: MockServer) -> bool:
    """A plain request (tagged ``probe``) is answered 200."""
    assert server.port is not None
    outcome = send_raw(server.port, Case("probe", tagged(_request("GET", "/plain"), PROBE_TAG.decode())))
    return outcome.status == 200


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    """sent, 2xx, 3xx, 4xx, 5xx (and how many of those the example asked for), dropped, log mismatches."""
    result = {"sent": len(outcomes), "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, "5xx_expected": 0,
              "dropped": 0, "bad_framing": 0, "log_mismatch": 0}
    for outcome in outcomes:
        if outcome.status is None:
            result["dropped"] += 1
            continue
        klass = f"{outcome.status // 100}xx"
        result[klass] = result.get(klass, 0) + 1
        if klass == "5xx" and outcome.case.allow_5xx:
            result["5xx_expected"] += 1
        if outcome.problem:
            result["bad_framing"] += 1
        if outcome.logged_status is not None and outcome.logged_status != outcome.status:
            result["log_mismatch"] += 1
    return result
