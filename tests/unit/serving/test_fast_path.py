"""The mock's hot path against the pure search: what the app sends for a request, and the log entry it keeps, are
what a fresh :func:`~postmock_nb.matching.search.match` on the same snapshot decides and what the winner's response
is (the public builder, :func:`~postmock_nb.answers.responses.build_response`; for a miss, Postman's 404 with its
diagnosis). Nothing in the app's own shortcuts (the memo of decisions, the response cache, the framed responses,
the log's compact records) may change an answer.

A seeded generator builds collections (methods, ``:vars``, ``{{vars}}``, literal ids, encoded slashes, trailing
slashes, queries, examples matching headers or bodies, templated bodies and headers, statuses with no body) and
sends 20,000 requests in all (request lines repeated, case and slashes changed, ``HEAD``, ``x-mock-*`` selectors,
misses), the collection edited between them, under settings that keep the memo on and that turn it off: 20
collections of 1,000 requests, each its own test and seed. Then the memo on its own terms: one request line sent
again after each kind of edit, and lines answered by their headers or bodies (the memo off).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, replace
from typing import Any

import pytest
from support.asgi_calls import Sent, call, raw_pairs
from support.builders import make_collection, make_example

from postmock_nb.answers.diagnostics import not_found_body
from postmock_nb.answers.responses import HttpResponse, build_response, json_response
from postmock_nb.config import MockConfig
from postmock_nb.core.model import Collection, Example
from postmock_nb.matching import IncomingRequest, MatchResult
from postmock_nb.matching.search import match
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.matching.store import LiveCollection
from postmock_nb.serving.build import assemble
from postmock_nb.serving.refusal import CORS_HEADERS
from postmock_nb.serving.requestlog import BODY_LIMIT, KEPT_CANDIDATES, LogEntry

SEED = 25
REQUESTS = 20_000
COLLECTIONS = 20
LOG_SIZE = 10
"""The random run's mocks keep a short log: ``recent(1)`` copies it whole, and only the newest entry is read."""
RawHeaders = list[tuple[bytes, bytes]]

# -- the reference: a fresh search, the public response builder, HTTP's framing rules -----------------------------


@dataclass(frozen=True)
class Sending:
    """One request as the client sends it."""

    method: str
    target: str
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""

    def raw_headers(self) -> RawHeaders:
        """The headers the app receives (a Content-Length added for a body, as :func:`call` adds it)."""
        return list(self.headers) + ([(b"content-length", str(len(self.body)).encode())] if self.body else [])


def received_headers(raw: RawHeaders) -> dict[str, str]:
    """Request headers as matching reads them: names lower case, a repeated header's values joined with ", "."""
    joined: dict[str, str] = {}
    for key, value in raw:
        name, text = key.decode("latin-1").lower(), value.decode("latin-1")
        joined[name] = f"{joined[name]}, {text}" if name in joined else text
    return joined


def fresh_match(snapshot: Snapshot, config: MockConfig, request: Sending) -> MatchResult:
    """What the pure search (no memo) decides for ``request`` on ``snapshot``."""
    incoming = IncomingRequest.build(request.method, request.target, received_headers(request.raw_headers()),
                                     request.body.decode("utf-8", "replace"))
    return match(snapshot, incoming, config)


def framed(response: HttpResponse, method: str) -> tuple[RawHeaders, bytes]:
    """The head and body HTTP lets go out: no body and no Content-Length for 204 and 304, an empty body of
    Content-Length 0 for 205, the body's length for the rest, and no body for a HEAD."""
    status, headers, body = response.status, list(response.headers), response.body
    if status in (204, 304):
        return [h for h in headers if h[0] != b"content-length"], b""
    if status == 205:
        return [*headers, (b"content-length", b"0")], b""
    return [*headers, (b"content-length", str(len(body)).encode())], b"" if method == "HEAD" else body


Answer = tuple[int, RawHeaders, bytes]


def expected_answer(snapshot: Snapshot, config: MockConfig, fresh: MatchResult, method: str) -> Answer:
    """Status, headers and body the app must send for ``fresh``."""
    extra = CORS_HEADERS if config.cors else ()
    if fresh.winner is not None:
        response = build_response(fresh, snapshot, extra)
    else:
        response = json_response(404, not_found_body(fresh), extra)
    headers, body = framed(response, method)
    return response.status, headers, body


def decision(result: MatchResult) -> tuple[Any, ...]:
    """What a match decided, as the log keeps it: the winner, its score, the selector and error, the method searched,
    and the candidates it keeps (each with its score, why it lost, its path rule and what it captured)."""
    return (result.winner.id if result.winner else None, result.score, result.selector, result.error, result.method,
            [(c.example.id, c.score, c.lost, c.path_rule, dict(c.captured))
             for c in result.candidates[:KEPT_CANDIDATES]])


Expected = tuple[MatchResult, Answer]


@dataclass(frozen=True)
class Said:
    """What a failed comparison says: the request, the collection and the settings (written out only then)."""

    request: Sending
    snapshot: Snapshot
    config: MockConfig

    def __str__(self) -> str:
        examples = "\n".join(f"  {e.describe()} {e.request.headers}" for e in self.snapshot.collection.examples)
        return f"{self.request}\nsettings: {self.config}\nexamples:\n{examples}"


def check_answer(snapshot: Snapshot, config: MockConfig, request: Sending, sent: Sent, entry: LogEntry,
                 expected: Expected) -> None:
    """The answer that went out and its log entry are ``expected``'s: the fresh search's on ``snapshot`` and the
    answer it makes (:func:`reference`)."""
    fresh, answer = expected
    said = Said(request, snapshot, config)
    assert (sent.status, sent.headers, sent.body) == answer, said
    assert sent.finished, said
    winner = fresh.winner
    assert (entry.example_id, entry.example_name, entry.score) == (
        (winner.id, winner.name, fresh.score) if winner else (None, None, None)), said
    assert (entry.status, raw_pairs(entry.response_headers), bytes(entry.response_body), entry.response_size) == (
        sent.status, sent.headers, sent.body[:BODY_LIMIT], len(sent.body)), said
    assert entry.note == ("" if winner else fresh.error), said
    assert entry.result is not None and decision(entry.result) == decision(fresh), said
    query = request.target.partition("?")[2]
    url = fresh.request.path + (f"?{query}" if query else "")
    assert (entry.method, entry.url, entry.body) == (request.method, url, request.body.decode("utf-8", "replace")), said
    assert list(entry.request_headers(reveal=True)) == [(k.decode("latin-1"), v.decode("latin-1"))
                                                        for k, v in request.raw_headers()], said


def reference(snapshot: Snapshot, config: MockConfig, request: Sending) -> Expected:
    """The fresh search's decision for ``request`` on ``snapshot``, and the answer the app must send for it."""
    fresh = fresh_match(snapshot, config, request)
    return fresh, expected_answer(snapshot, config, fresh, request.method)


# -- the generator --------------------------------------------------------------------------------------------------

RESOURCES = ("users", "items", "Files")
VALUES = ("7", "42", "me", "a%2Fb", "x%20y", "caf%C3%A9", "000123", "abc")
NAMES = ("ok", "created", "gone", "empty", "other")
"""Few names: several examples share one, and a name selector picks among them."""
STATUSES = (200, 200, 200, 201, 204, 205, 304, 302, 404, 500)
BODIES = ("", '{"id": "{{id}}"}', "plain {{id}}", '[{"a": 1}]', "<!DOCTYPE html><p>hi</p>",
          "{\"q\": \"{{$queryParams 'q'}}\"}", "got {{$body 'name'}}", "{{base}}/x", '<?xml version="1.0"?><a/>',
          "tags {{$headers 'x-tag'}}")
RESPONSE_HEADERS = (("X-Total", "3"), ("Set-Cookie", "sid=0123456789abcdef; Path=/"), ("Location", "/loc/{{id}}"),
                    ("Content-Type", "text/csv"), ("Content-Length", "999"), ("Bad Name", "dropped"),
                    ("X-Echo", "{{$headers 'x-trace'}}"))
QUERIES = ("", "", "", "role=admin", "page=1&size=10", "q=a+b")
MISSES = (("GET", "/nothing/here"), ("DELETE", "/users"), ("GET", "/userz/7"), ("PURGE", "/items"),
          ("GET", "/"), ("OPTIONS", "/users"))
SETTINGS = (MockConfig(), MockConfig(cors=False), MockConfig(), MockConfig(match_headers=("x-tenant",)), MockConfig(),
            MockConfig(cors=False), MockConfig(), MockConfig(match_body=True), MockConfig(), MockConfig(cors=False))
"""The collections' settings in turn: mostly the default mock and one without CORS headers (the memo on), and two
whose settings turn the memo off."""


def random_example(rng: random.Random, *, reads_content: bool) -> Example:
    """An example of a random request line and response; ``reads_content``: it may match a header or the body."""
    resource = rng.choice(RESOURCES)
    path = rng.choice((f"/{resource}", f"/{resource}/:id", f"/{resource}/{{{{id}}}}", f"/{resource}/7",
                       f"/{resource}/me", f"/{resource}/:id/tags", f"/{resource}/a%2Fb", f"/{resource}/",
                       f"/{resource}/:id/tags/:tag"))
    query = rng.choice(QUERIES)
    method = rng.choice(("GET", "GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"))
    headers = dict(rng.sample(RESPONSE_HEADERS, rng.randrange(3)))
    request_headers: dict[str, str] = {}
    request_body = ""
    if reads_content and rng.random() < 0.3:
        request_headers = {"x-mock-match-request-headers": "x-tenant", "x-tenant": rng.choice(("t1", "t2"))}
    elif reads_content and method != "GET" and rng.random() < 0.5:
        request_headers, request_body = {"x-mock-match-request-body": "true"}, rng.choice(('{"size": "s"}',
                                                                                           '{"size": "l"}'))
    elif rng.random() < 0.2:
        request_headers = {"x-tenant": rng.choice(("t1", "t2"))}  # read only under --match-headers x-tenant
    return make_example(f"{method} {path}" + (f"?{query}" if query else ""), rng.choice(NAMES),
                        status=rng.choice(STATUSES), body=rng.choice(BODIES), headers=headers,
                        request_headers=request_headers, request_body=request_body)


def random_collection(rng: random.Random, *, reads_content: bool) -> Collection:
    examples = [random_example(rng, reads_content=reads_content) for _ in range(rng.randrange(4, 18))]
    return make_collection(*examples, variables={"base": "v1"} if rng.random() < 0.5 else None)


def _filled(rng: random.Random, path: str) -> str:
    """A request path for an example's path: its variables filled, sometimes its case or trailing slash changed."""
    segments = [rng.choice(VALUES) if s.startswith(":") or s.startswith("{{") else s for s in path.split("/")]
    filled = "/".join(segments)
    roll = rng.random()
    if roll < 0.1:
        filled = filled.upper()
    elif roll < 0.2:
        filled = filled.rstrip("/") + "/" if not filled.endswith("/") else filled.rstrip("/") or "/"
    elif roll < 0.22:
        filled = filled.replace("a%2Fb", "a/b").replace("a%2fb", "a/b")
    return filled


def _selector(rng: random.Random, example: Example) -> tuple[tuple[str, str], ...]:
    """An ``x-mock-*`` selector naming this example (mostly), another, or a status."""
    which, own = rng.randrange(3), rng.random() < 0.75
    if which == 0:
        return (("x-mock-response-name", example.name if own else rng.choice(NAMES)),)
    if which == 1:
        return (("x-mock-response-code", str(example.response.status if own else rng.choice(STATUSES))),)
    return (("x-mock-response-id", example.id),)


def random_request(rng: random.Random, collection: Collection) -> Sending:
    """A request for one of ``collection``'s examples, changed a little (most still match); or a miss."""
    examples = collection.examples
    headers: list[tuple[bytes, bytes]] = [(b"host", b"mock"), (b"user-agent", b"fast-path-test")]
    if not examples or rng.random() < 0.01:
        method, target = rng.choice(MISSES)
        return Sending(method, target, tuple(headers))
    example = rng.choice(examples)
    method = example.request.method
    if method == "GET" and rng.random() < 0.15:
        method = "HEAD"
    path = _filled(rng, example.request.path)
    query = "&".join(f"{k}={v}" for k, v in example.request.query) if rng.random() < 0.9 else rng.choice(QUERIES)
    if rng.random() < 0.1:
        query = "&".join(q for q in (query, "extra=1") if q)
    if rng.random() < 0.1:
        selector = _selector(rng, example)
        if rng.random() < 0.5:
            headers += [(k.encode(), v.encode()) for k, v in selector]
        else:
            query = "&".join(q for q in (query, *(f"{k}={v}" for k, v in selector)) if q)
    if rng.random() < 0.3:
        headers.append((b"X-Trace", rng.choice((b"t1", b"t2"))))
    if rng.random() < 0.1:
        headers += [(b"x-tag", b"a"), (b"X-Tag", b"b")]
    tenant = dict(example.request.headers).get("x-tenant")
    if tenant is not None and rng.random() < 0.9 or rng.random() < 0.03:
        headers.append((b"x-tenant", (tenant or rng.choice(("t1", "t2"))).encode()))
    body = b""
    if example.request.body and rng.random() < 0.9:
        body = example.request.body.encode()
    elif method in ("POST", "PUT") and rng.random() < 0.1:
        body = rng.choice((b'{"size": "s", "name": "Ann"}', b'{"size": "l"}', b"name=Bo"))
    if body:
        headers.append((b"content-type", b"application/json"))
    return Sending(method, path + (f"?{query}" if query else ""), tuple(headers), body)


def random_edit(rng: random.Random, collection: Collection, recent: list[Sending]) -> Collection:
    """An edit between two requests: an example added (one exactly for a line just sent: it wins that line
    from now on), one's response changed in place (same id, same score), or one removed."""
    kind = rng.randrange(4)
    examples = collection.examples
    if kind == 0 or not examples:
        return collection.with_example(random_example(rng, reads_content=False))
    if kind == 1 and recent:
        sent = rng.choice(recent)
        return collection.with_example(make_example(f"{sent.method} {sent.target}", "exact", body="exact {{id}}"))
    chosen = rng.choice(examples)
    if kind == 2:
        edited = replace(chosen.response, body=f"edited {rng.randrange(1000)}", status=rng.choice(STATUSES))
        return collection.with_example(replace(chosen, response=edited))
    return collection.without_examples([chosen.id])


async def run_collection(rng: random.Random, config: MockConfig, requests: int) -> int:
    """``requests`` random requests to a mock of a random collection, edited now and then; each answer checked.
    Returns how many requests repeated one sent before on the same snapshot (what the memo answers)."""
    collection = random_collection(rng, reads_content=not config.match_headers and rng.random() < 0.2)
    store = LiveCollection(collection)
    mock = assemble(store=store, config=replace(config, log_size=LOG_SIZE))
    recent: list[Sending] = []
    repeated = 0
    references: dict[Sending, Expected] = {}
    """The reference for each request sent on the current snapshot: ``match()`` is pure, so a request sent again
    on the same snapshot has the same one (worked out once: it costs more than the app's answer)."""
    for _ in range(requests):
        if rng.random() < 0.01:
            store.replace(random_edit(rng, store.collection, recent[-20:]))
            references = {}
        request = rng.choice(recent[-40:]) if recent and rng.random() < 0.65 else random_request(rng, store.collection)
        snapshot = store.snapshot
        sent = await call(mock.app, request.method, request.target, request.headers, request.body)
        expected = references.get(request)
        repeated += expected is not None
        if expected is None:
            expected = references[request] = reference(snapshot, config, request)
        check_answer(snapshot, config, request, sent, mock.log.recent(1)[0], expected)
        if expected[0].winner is not None or rng.random() < 0.3:  # a miss is never remembered: sent again less
            recent.append(request)
    return repeated


@pytest.mark.parametrize("number", range(COLLECTIONS))
def test_random_requests_are_answered_and_logged_as_a_fresh_search_decides(number: int) -> None:
    """One of the 20 collections of the randomized comparison (20,000 requests in all): its own seed, so that a
    failure is reproduced alone, and the runs spread over the test workers."""
    rng = random.Random(SEED * 1000 + number)
    config = SETTINGS[number % len(SETTINGS)]
    requests = REQUESTS // COLLECTIONS
    repeated = asyncio.run(run_collection(rng, config, requests))
    assert repeated > requests // 3, "too few requests sent again on the same snapshot to exercise the memo"


# -- the memo: a request line sent again and again, the collection edited between -----------------------------------

ITEM = make_example("GET /items/:id", "any item", body='{"id": "{{id}}"}')
EDITS = (
    ("an exact example added", lambda c: c.with_example(make_example("GET /items/7", "seven", body="seven"))),
    ("the winner's response changed in place", lambda c: c.with_example(
        replace(c.examples[-1], response=replace(c.examples[-1].response, body="changed", status=201)))),
    ("the winner renamed", lambda c: c.with_example(replace(c.examples[-1], name="renamed"))),
    ("the winner removed", lambda c: c.without_examples([c.examples[-1].id])),
    ("a query example added", lambda c: c.with_example(make_example("GET /items/7?full=1", "full", body="full"))),
    ("a variable defined", lambda c: c.with_variables((("base", "v2"),))),
    ("everything removed", lambda c: make_collection()),
    ("the first example back", lambda c: make_collection(ITEM)),
)


def test_a_request_line_sent_again_after_each_kind_of_edit_gets_the_fresh_search_s_answer() -> None:
    store = LiveCollection(make_collection(ITEM, variables={"base": "v1"}))
    config = MockConfig()
    mock = assemble(store=store, config=config)
    lines = [Sending("GET", "/items/7"), Sending("GET", "/items/7?full=1"), Sending("HEAD", "/items/7")]

    async def send_each_twice() -> None:
        for request in lines + lines:  # the second time from the memo
            snapshot = store.snapshot
            sent = await call(mock.app, request.method, request.target)
            entry = mock.log.recent(1)[0]
            check_answer(snapshot, config, request, sent, entry, reference(snapshot, config, request))

    async def run() -> list[str | None]:
        await send_each_twice()
        names = []
        for _, change in EDITS:
            store.update(change)
            await send_each_twice()
            names.append(mock.log.recent(1)[0].example_name)
        return names

    names = asyncio.run(run())
    # each edit took effect on the line sent last (HEAD /items/7): the memo gave back no decision of a snapshot gone
    assert dict(zip([edit for edit, _ in EDITS], names, strict=True)) == {
        "an exact example added": "seven", "the winner's response changed in place": "seven",
        "the winner renamed": "renamed", "the winner removed": "any item", "a query example added": "full",
        "a variable defined": "full", "everything removed": None, "the first example back": "any item"}


@pytest.mark.parametrize(("config", "marker"), [
    (MockConfig(match_headers=("x-tenant",)), {}),
    (MockConfig(match_body=True), {}),
    (MockConfig(), {"x-mock-match-request-headers": "x-tenant"}),
    (MockConfig(), {"x-mock-match-request-body": "true"}),
], ids=["--match-headers", "--match-body", "an example matching a header", "an example matching the body"])
def test_when_headers_or_bodies_are_read_the_same_request_line_is_answered_by_them(
        config: MockConfig, marker: dict[str, str]) -> None:
    """The memo is off: one request line, its header or body alternating, each answer the fresh search's."""
    store = LiveCollection(make_collection(
        make_example("POST /orders", "tenant one", body="one", request_headers={**marker, "x-tenant": "t1"},
                     request_body='{"size": "s"}'),
        make_example("POST /orders", "tenant two", body="two", request_headers={**marker, "x-tenant": "t2"},
                     request_body='{"size": "l"}')))
    mock = assemble(store=store, config=config)
    requests = [Sending("POST", "/orders", ((b"x-tenant", tenant),), body)
                for tenant, body in ((b"t1", b'{"size": "s"}'), (b"t2", b'{"size": "l"}'))] * 3

    async def run() -> list[str | None]:
        names = []
        for request in requests:
            snapshot = store.snapshot
            sent = await call(mock.app, request.method, request.target, request.headers, request.body)
            entry = mock.log.recent(1)[0]
            check_answer(snapshot, config, request, sent, entry, reference(snapshot, config, request))
            names.append(entry.example_name)
        return names

    assert asyncio.run(run()) == ["tenant one", "tenant two"] * 3
