"""The ASGI application: a lean mock hot path, and the admin API beside it.

Mock requests are answered by :class:`MockApp` directly on the ASGI interface: one
snapshot read, one match, two ``send`` calls. Quart's request machinery costs more than
the whole mock (about 110 µs a request here), so Quart only serves the admin API under
``/__postmock/`` (:mod:`postmock_nb.serving.admin`), where its conveniences pay.

A mock request goes through stages, each a small method over one :class:`Exchange` (the request's
record): refuse (preflight, key: :mod:`~postmock_nb.serving.refusal`) → read (body, ``x-mock-*``
values: :mod:`~postmock_nb.serving.reading`; ``--validate-requests``) → select (memo, chaos draw,
scenarios and sequences, delay and fault) → answer (chaos, the example or its behaviour, the proxy,
the 404) → wait (the delay) → log → send (or perform the fault). A stage that refuses the request
raises :class:`~postmock_nb.serving.problems.RequestProblem`; the answer says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from postmock_nb.answers import sse
from postmock_nb.answers.diagnostics import not_found_body
from postmock_nb.answers.faults import FAULTS, STATUS_FAULTS, cut, direct_writer, perform, status_went_out
from postmock_nb.answers.responses import (
    HttpResponse,
    ResponseCache,
    build_response,
    error_response,
    json_response,
    render_context,
)
from postmock_nb.answers.websocket import steps_of
from postmock_nb.behaviours.dispatch import Answer, Behaviours
from postmock_nb.behaviours.sockets import Socket
from postmock_nb.behaviours.streams import HandlerStream, send_stream
from postmock_nb.bridges.bridges import Bridges
from postmock_nb.bridges.dynamic import Unavailable
from postmock_nb.config import MockConfig
from postmock_nb.core import wire
from postmock_nb.core.headers import RequestHeaders, listed
from postmock_nb.core.text import plural
from postmock_nb.errors import PostmockError
from postmock_nb.matching import Candidate, IncomingRequest, MatchMemo, MatchResult
from postmock_nb.matching.negotiation import NotAcceptable, negotiate
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.matching.store import CollectionStore
from postmock_nb.serving.admin import ADMIN_PREFIX, build_admin_app
from postmock_nb.serving.callbacks import CallbackSender
from postmock_nb.serving.errorlog import ErrorLog
from postmock_nb.serving.journal import Batched, Journal
from postmock_nb.serving.problems import (
    RequestProblem,
    internal_error_response,
    problem_response,
    refused_request,
    state_unavailable_response,
    unchecked_note,
    unsafe_echo_response,
)
from postmock_nb.serving.reading import (
    asked_fault,
    asked_preferences,
    body_announced,
    checked_mock_values,
    declared_length,
    matched_path,
    read_body,
    sends_mock_values,
)
from postmock_nb.serving.ready import Ready, ReadyAnswers, RequestLine, answers_again, plain_request, readiness
from postmock_nb.serving.refusal import CORS_HEADERS, refusal, unauthorized
from postmock_nb.serving.requestlog import BODY_LIMIT, STREAM, WEBSOCKET, LogEntry
from postmock_nb.serving.shared.broadcasts import SharedBroadcasts
from postmock_nb.serving.shared.connection import SharedState, StateUnavailable
from postmock_nb.serving.sockets import Connection, Connections, Player, Transcript, run_handler, socket_key

if TYPE_CHECKING:
    from postmock_nb.formats.openapi import Operation

logger = logging.getLogger("postmock_nb.serving.server")
logger.addHandler(logging.NullHandler())  # server errors go to the mock's own error log, never a cell
logger.propagate = False

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
"""ASGI as this app uses it (plain dicts); the server hands it to Hypercorn as its ASGIFramework."""

_CANCELLED_STOPPING = ("the mock stopped before this request was answered: the HTTP server answered 500 itself")
_CANCELLED = "cancelled before it was answered: the HTTP server answered 500 itself"


@dataclass(slots=True)
class Exchange:
    """One mock request on its way through the stages: what came in, what was decided, what goes out."""

    method: str
    path: str
    query_string: bytes
    raw_headers: list[tuple[bytes, bytes]]
    headers: RequestHeaders
    """By lower-case name, decoded on first read (:mod:`postmock_nb.core.headers`)."""
    started: float
    bridges: Bridges
    """The app's bridges, read once: the notebook swaps them whole (``%mock proxy``)."""
    body: bytes = b""
    body_size: int | None = None
    """The declared size of a body refused unread (a 401, a 413); None: the size of ``body``."""
    query: tuple[tuple[str, str], ...] = ()
    selectors: bool = False
    """The request sent ``x-mock-*`` values (checked; the match reads more than the request line)."""
    asked_delay: int | None = None
    dynamic: bool | None = None
    """``Prefer: dynamic=true/false`` (``?__dynamic=``): a fresh body from the schema, or the saved one (None: the
    mock's ``--dynamic``)."""
    seed: str | None = None
    """``Prefer: seed=…``: the fresh body's own seed (None: the mock's draw)."""
    request: IncomingRequest | None = None
    snapshot: Snapshot | None = None
    result: MatchResult | None = None
    chaos: bool = False
    shared_flows: bool = False
    """The scenarios' and sequences' decision is still to be made on Redis (``--state``: awaited by ``_answer``)."""
    response: HttpResponse | None = None
    answer: Answer | None = None
    """A handler's or resource's answer (its timings, traceback and note are logged)."""
    note: str = ""
    upstream_ms: float | None = None
    delay: int | None = 0
    """The wait before answering, ms: the request's, else the example's, else the mock's ``--delay``."""
    fault: str | None = None
    """The request's ``x-mock-response-fault``, else the winning example's ``x-mock-fault`` (or chaos's)."""
    refused: str = ""
    """Why the key was refused (private mode): such requests are logged as bursts."""
    unchecked: str = ""
    """What ``--validate-requests`` could not check (for the log note)."""
    stream: tuple[list[sse.SseEvent], float] | None = None
    """An ``x-mock-sse`` example's events still to send (resumed after ``Last-Event-ID``) and its interval, s."""


Play = Callable[[Connection, Exchange], Awaitable[str]]
"""How a connection is answered (a script played, a socket handler awaited): returns a traceback, or ``""``."""


class MockApp:
    """The ASGI callable the server runs."""

    def __init__(self, store: CollectionStore, *, log: Journal, settings: MockConfig,
                 errors: ErrorLog | None = None, bridges: Bridges | None = None,
                 behaviours: Behaviours | None = None, shared: SharedState | None = None,
                 broadcasts: SharedBroadcasts | None = None) -> None:
        self.shared = shared
        """The Redis the state is shared on (``--state``; its client of this loop is closed at shutdown), or None."""
        self.behaviours = behaviours if behaviours is not None else Behaviours()
        """Python handlers and resources behind marked examples (see postmock_nb.behaviours.dispatch)."""
        self.store = store
        self.log = log
        self.settings = settings
        self.bridges = bridges if bridges is not None else Bridges()
        """Request validation, proxy and recorder: this app's own, immutable; the notebook swaps it whole
        (``%mock proxy``) and a request reads this attribute once."""
        self.responses = ResponseCache()
        """Static responses of the snapshot being served (this app's own cache)."""
        self.matches = MatchMemo(settings)
        """Decisions of the snapshot being served, for requests matched on their request line alone."""
        self.error_log = errors if errors is not None else ErrorLog()
        """Where this app reports its own failures (the server's log, when a server runs it)."""
        self._admin: Any = None
        self.on_startup: Callable[[], object] | None = None
        """Called once the lifespan startup is complete (the server's signal that it serves)."""
        self._dynamic = settings.dynamic
        """``--dynamic``: OpenAPI examples answer a fresh body made from their schema (a request may say otherwise)."""
        self._chaos = random.Random(settings.chaos_seed)
        """The chaos draw (one per app; the app runs on one event loop, so no lock)."""
        self.stopping: asyncio.Event | None = None
        """Set when the server running this app is told to stop (see :meth:`_pause`)."""
        self.callbacks = CallbackSender(log, settings, self.error_log)
        """The callbacks (webhooks) handlers ask for: sent after the response, each a row of the log."""
        self.connections = Connections()
        """The open WebSocket connections of this process, by route (for :meth:`broadcast`)."""
        self.broadcasts = broadcasts
        """``--state``: the broadcasts of every process of the mock (a Redis stream), or None."""
        self._batched = log if isinstance(log, Batched) else None
        """A shared journal (``--state``): its batch goes out before each response (see :meth:`_send`)."""
        self.ready = ReadyAnswers()
        """Static answers of the snapshot being served, given again by request line (:mod:`.ready`)."""
        self._again = answers_again(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"].startswith(ADMIN_PREFIX):
                await self._serve_admin(scope, receive, send)
            else:
                await self.serve_mock(scope, receive, send)
        elif kind == "websocket":
            await self._serve_websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        following: asyncio.Task[None] | None = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.broadcasts is not None:  # --state: broadcasts sent from now on reach this process's clients
                    await self.broadcasts.start()
                following = asyncio.ensure_future(self._follow())  # --state: other replicas' edits, broadcasts
                if self._batched is not None:  # the journal's writer connected before the first request
                    await self._batched.astart()
                await send({"type": "lifespan.startup.complete"})
                if self.on_startup is not None:
                    self.on_startup()
            elif message["type"] == "lifespan.shutdown":
                if following is not None:
                    following.cancel()
                    await asyncio.gather(following, return_exceptions=True)
                await self.callbacks.aclose()  # those still waiting are logged as not sent
                bridges = self.bridges
                if bridges.proxy is not None:  # the upstream client lives on this loop
                    await bridges.proxy.aclose()
                if bridges.recorder is not None:  # its last batch of examples is written now
                    await asyncio.to_thread(bridges.recorder.close)
                if self._batched is not None:  # the journal's last batch is written now
                    await self._batched.aclose()
                if self.shared is not None:  # --state: this loop's Redis client
                    await self.shared.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _follow(self) -> None:
        """Until the server stops: the collection other replicas store, and the broadcasts they send (--state)."""
        if self.broadcasts is None:
            await self.store.follow()
            return
        await asyncio.gather(self.store.follow(), self.broadcasts.follow(self.connections.broadcast))

    async def broadcast(self, route: str, frame: str | bytes) -> int:
        """Send ``frame`` to every open WebSocket connection of ``route`` in this process, and (``--state``) to
        those of every other process of the mock; how many of this process's connections got it."""
        reached = await self.connections.broadcast(route, frame)
        if self.broadcasts is not None:
            await self.broadcasts.publish(route, frame)
        return reached

    # -- the mock: the stages -----------------------------------------------------------------

    async def serve_mock(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A mock request: answered again as it went out when it may be (:mod:`.ready`: a lookup, the log entry,
        two sends, in this one coroutine), else through the stages."""
        started = time.perf_counter()
        raw_headers = listed(scope["headers"])
        line = (scope["method"], matched_path(scope), scope["query_string"])
        ready = self.ready.find(self.store.snapshot, line) if self._again else None
        if ready is None or self.bridges.request_validator is not None or not plain_request(scope, raw_headers):
            await self._serve_stages(scope, receive, send, line, raw_headers, started)
            return
        entry = self._log_ready(ready, raw_headers, started)
        if self._batched is not None:  # as _send: whoever gets the response finds it in every replica's log
            await self._batched.handed()
        head_sent = False
        try:
            await send({"type": "http.response.start", "status": ready.status, "headers": ready.headers})
            head_sent = True
            await send({"type": "http.response.body", "body": ready.body})
        except (Exception, asyncio.CancelledError) as error:  # as _send
            self.log.sending_failed(entry, error, head_sent=head_sent)
            raise

    async def _serve_stages(self, scope: Scope, receive: Receive, send: Send, line: RequestLine,
                            raw_headers: list[tuple[bytes, bytes]], started: float) -> None:
        """The request through the stages, logged, then sent; a plain request's static answer is kept to be given
        again (:meth:`_keep_ready`)."""
        ex = Exchange(*line, raw_headers, RequestHeaders(raw_headers), started, self.bridges)
        cancelled = await self._stages(ex, scope, receive)
        response = ex.response
        assert response is not None
        headers_out, body_out = response.framed(ex.method)  # a cached response's: shared, never changed
        entry = self._log(ex, response.status, headers_out, body_out, (time.perf_counter() - ex.started) * 1000)
        if cancelled is not None:
            raise cancelled
        if self._again:
            self._keep_ready(scope, ex, line, response, entry, headers_out, body_out)
        await self._send(scope, receive, send, ex, entry, response, headers_out, body_out)

    async def _stages(self, ex: Exchange, scope: Scope, receive: Receive) -> asyncio.CancelledError | None:
        """Refuse, read, validate, select, answer, wait: ``ex.response`` is set (a caller's mistake its 4xx, a
        bug of ours the 500); the server's cancellation is returned, to be raised once the request is logged."""
        cancelled: asyncio.CancelledError | None = None
        settings = self.settings
        try:
            # refused before the body is read, let alone kept (only a --cors or a private mock refuses)
            if not ((settings.cors or settings.private) and self._refuse(ex)):
                if body_announced(scope, ex.headers):  # else none comes: nothing to wait for
                    ex.body = await read_body(receive, ex.headers, max_bytes=settings.max_body_bytes,
                                              timeout_s=settings.read_timeout_s)
                self._read(ex)
                if ex.bridges.request_validator is not None:  # --validate-requests
                    await self._validate(ex)
                self._select(ex)
                pending = self._answer(ex)
                if pending is not None:  # a handler, a resource or the upstream answers
                    await pending
                if ex.delay or ex.unchecked:
                    await self._wait(ex)
        except asyncio.CancelledError as error:  # the server gave up on the app (its grace period after a stop)
            cancelled = error
            ex.response = HttpResponse(500, [], b"")  # what goes out is the HTTP server's own 500, not ours
            ex.note = (_CANCELLED_STOPPING if self.stopping is not None and self.stopping.is_set() else _CANCELLED)
        except RequestProblem as problem:
            ex.response, ex.note = problem_response(problem), problem.message
            if problem.status == 413:
                ex.body_size = declared_length(ex.headers)
        except wire.UnsafeEcho as problem:
            ex.response, ex.note = unsafe_echo_response(str(problem)), str(problem)
        except StateUnavailable as problem:  # --state: Redis out of reach (never a fallback to this process's state)
            ex.response, ex.note = state_unavailable_response(problem), str(problem)
        except Exception:  # a bug of ours: answer 500, keep serving, and tell the person
            self._internal_error(ex)
        return cancelled

    def _keep_ready(self, scope: Scope, ex: Exchange, line: RequestLine, response: HttpResponse, entry: LogEntry,
                    headers_out: list[tuple[bytes, bytes]], body_out: bytes) -> None:
        """A plain request's answer, kept to be given again as it went out when its request line alone decided
        it and nothing but the winner's saved response answered it (see :mod:`.ready`)."""
        result, snapshot = ex.result, ex.snapshot
        if (result is None or snapshot is None or not readiness(result, snapshot, response)  # first: the cheap no
                or ex.note or ex.delay or ex.fault is not None or ex.chaos or ex.answer is not None
                or ex.stream is not None or ex.bridges.request_validator is not None
                or not self.matches.remembers(snapshot, selectors=ex.selectors)
                or not plain_request(scope, ex.raw_headers)):
            return
        self.ready.keep(snapshot, line, Ready(response.status, headers_out, body_out, entry.template()))

    def _log_ready(self, ready: Ready, raw_headers: list[tuple[bytes, bytes]], started: float) -> LogEntry:
        """A request line answered again (:mod:`.ready`), logged as :meth:`_log` logged it the first time."""
        entry = LogEntry.again(ready.logged, time.time(), raw_headers, (time.perf_counter() - started) * 1000)
        self.log.add(entry)  # numbered there
        return entry

    def _refuse(self, ex: Exchange) -> bool:
        """CORS preflight and private-mode answers, given before any matching: True when one was."""
        response, ex.refused = refusal(self.settings, ex.method, ex.headers, ex.raw_headers, ex.query_string)
        if response is None:
            return False
        ex.response, ex.body_size = response, declared_length(ex.headers)
        return True

    def _read(self, ex: Exchange) -> None:
        """The request as matching reads it (its body read already): the query, and the ``x-mock-*``
        values checked (a 400)."""
        body = ex.body
        query_string = ex.query_string
        query = ex.query = (tuple(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
                            if query_string else ())
        if sends_mock_values(ex.headers, query):
            ex.selectors = True
            ex.asked_delay = checked_mock_values(ex.headers, query)
            ex.dynamic, ex.seed = asked_preferences(ex.headers, query)
        ex.request = IncomingRequest(ex.method, ex.path, query, ex.headers, body.decode("utf-8", "replace"))

    async def _validate(self, ex: Exchange) -> None:
        """``--validate-requests``: a refusal (401, 405, 415, 422: the document's own response when it has one),
        or a note naming what could not be checked."""
        # deferred: jsonschema (in bridges.validation) is slow to import (seconds); loaded by the validator already
        from postmock_nb.bridges.validation import SLOW_CHECKS, check_request

        validator = ex.bridges.request_validator
        assert validator is not None and ex.request is not None
        answering = None
        if validator.find(ex.request.method, ex.request.path) is None:  # /Pets, //pets, a near path: its example's
            answering = self._answering_operation(ex)
        if validator.off_loop:  # a lookaround pattern: never on the loop
            refusal, unchecked = await asyncio.get_running_loop().run_in_executor(
                SLOW_CHECKS, check_request, validator, ex.request, ex.body, answering)
        else:
            refusal, unchecked = check_request(validator, ex.request, ex.body, answering)
        if refusal is not None:
            raise refused_request(refusal)
        ex.unchecked = unchecked_note(unchecked)

    def _answering_operation(self, ex: Exchange) -> tuple[Operation, dict[str, str]] | None:
        """``--validate-requests`` on a path no template of the document fits as written, but which the mock's
        matching still answers (case, slashes, a near path): the operation of the example that would answer, with
        the path values it captured (None: no example of the document answers). Matched as :meth:`_select`
        matches (the memo keeps the decision for it)."""
        validator = ex.bridges.request_validator
        assert validator is not None and ex.request is not None
        snapshot = self.store.snapshot
        result = self.matches.match(snapshot, ex.request, ex.query_string, selectors=ex.selectors)
        source = snapshot.openapi_plan.get(result.winner.id) if result.winner is not None else None
        return validator.answering(source.media, result.captured) if source is not None else None

    def _select(self, ex: Exchange) -> None:
        """The match (memo), the chaos draw (one for every request), then the fault and the delay:
        the request's, else its example's (scenarios and sequences may pick another), else the mock's."""
        snapshot = ex.snapshot = self.store.snapshot
        assert ex.request is not None
        result = ex.result = self.matches.match(snapshot, ex.request, ex.query_string, selectors=ex.selectors)
        if snapshot.openapi_plan and result.winner is not None:  # an OpenAPI example's media type, as Prism
            accept = ex.headers.get("accept")
            if accept and accept != "*/*":
                result = ex.result = self._negotiate(result, accept)
        chaos = self.settings.chaos
        ex.chaos = chaos != 0 and self._chaos.random() < chaos
        ex.fault = asked_fault(ex.headers, ex.query) if ex.selectors else None
        ex.delay = ex.asked_delay
        flows = self.behaviours.flows
        if result.winner is not None and flows.plan(snapshot):  # only when marked
            if flows.atomic is not None:  # --state: decided on Redis, awaited (see _answer)
                ex.shared_flows = True
                return
            self._flows(ex, snapshot, result if ex.chaos else flows.choose(result, snapshot))
        if ex.delay is None:
            ex.delay = self.settings.delay_ms

    @staticmethod
    def _negotiate(result: MatchResult, accept: str) -> MatchResult:
        """The winner's media variant ``Accept`` takes (:func:`~postmock_nb.matching.negotiation.negotiate`);
        a 406 when it takes none."""
        try:
            return negotiate(result, accept)
        except NotAcceptable as refused:
            raise RequestProblem(406, "mockNotAcceptable", str(refused), {"available": refused.offered}) from None

    def _flows(self, ex: Exchange, snapshot: Snapshot, result: MatchResult) -> None:
        """The result sequences and scenarios chose (a request chaos answers takes no turn: the match as it
        was); its example's ``x-mock-delay`` and ``x-mock-fault`` apply unless the request asked for its own."""
        ex.result = result
        winner = result.winner
        if winner is None:
            return
        flows = self.behaviours.flows
        if ex.delay is None:
            ex.delay = flows.delay_ms(winner.id, snapshot)
        if ex.fault is None:
            ex.fault = flows.fault(winner.id, snapshot)

    async def _shared_flows(self, ex: Exchange) -> None:
        """``--state``: :meth:`_flows` with the decision made atomically on Redis (a Redis out of reach raises
        StateUnavailable: the 503), then the answer."""
        ex.shared_flows = False
        result, snapshot = ex.result, ex.snapshot
        assert result is not None and snapshot is not None
        self._flows(ex, snapshot, result if ex.chaos else await self.behaviours.flows.achoose(result, snapshot))
        if ex.delay is None:
            ex.delay = self.settings.delay_ms
        pending = self._answer(ex)
        if pending is not None:
            await pending

    def _answer(self, ex: Exchange) -> Awaitable[None] | None:
        """Chaos's answer, else the winner's, else the upstream's (``--proxy``), else the explaining 404.
        None when answered; else the answer still to await (a handler's or resource's, the upstream's):
        a static answer awaits no coroutine."""
        if ex.shared_flows:  # --state: the scenarios' decision first, on Redis
            return self._shared_flows(ex)
        result, snapshot = ex.result, ex.snapshot
        assert result is not None and snapshot is not None
        if ex.chaos:  # --chaos: this request is answered by --chaos-with instead
            ex.response, ex.fault, ex.note = self._chaos_answer(snapshot, result, ex.fault)
        elif result.winner is not None:
            # the winner's handler or resource (a dict lookup per request only when the collection has any)
            extra = CORS_HEADERS if self.settings.cors else ()
            if self.behaviours.plan(snapshot):
                return self._behave(ex, result, snapshot, extra)
            self._saved(ex, result, snapshot, extra)  # its saved (static) response
        elif ex.bridges.proxy is not None:  # --proxy: a miss goes upstream
            return self._proxy(ex)
        else:
            ex.response = json_response(404, not_found_body(result), CORS_HEADERS if self.settings.cors else ())
            ex.note = result.error
        return None

    async def _behave(self, ex: Exchange, result: MatchResult, snapshot: Snapshot,
                      extra: tuple[tuple[bytes, bytes], ...]) -> None:
        """The winner's handler's or resource's answer, else (it has none) its saved response."""
        answered = await self.behaviours.respond(result, snapshot, ex.body, extra)
        if answered is None:
            self._saved(ex, result, snapshot, extra)
        else:
            ex.response, answer = answered
            ex.answer, ex.note = answer, answer.note

    def _saved(self, ex: Exchange, result: MatchResult, snapshot: Snapshot,
               extra: tuple[tuple[bytes, bytes], ...]) -> None:
        """The winner's saved response; an example marked x-mock-sse streams its events instead (see _stream)."""
        ex.response = build_response(result, snapshot, extra, self.responses)
        if self._dynamic if ex.dynamic is None else ex.dynamic:
            self._fresh(ex, result, snapshot)
        if snapshot.sse_plan:
            self._sse(ex, result, snapshot)

    def _fresh(self, ex: Exchange, result: MatchResult, snapshot: Snapshot) -> None:
        """``--dynamic`` (``Prefer: dynamic=true``): the winner's body made afresh from its response's schema, as
        ``prism mock -d``; the saved body, the log's note saying why, when the example has no schema to make it from."""
        winner, response = result.winner, ex.response
        assert winner is not None and response is not None
        source, fresh = snapshot.openapi_plan.get(winner.id), ex.bridges.fresh
        if source is None or fresh is None:
            ex.note = ("dynamic: the example has no schema (not from an OpenAPI document, or no body): its saved body"
                       if source is None else "dynamic: no OpenAPI document is loaded: the saved body")
            return
        content_type = next((v.decode("latin-1") for k, v in response.headers if k == b"content-type"), "")
        try:
            body = fresh.body(source, content_type, ex.seed)
        except Unavailable as why:
            ex.note = f"dynamic: {why}: the saved body"
            return
        ex.response = HttpResponse(response.status, response.headers, body)
        ex.note = f"dynamic: a fresh body from {source.schema}"

    def _sse(self, ex: Exchange, result: MatchResult, snapshot: Snapshot) -> None:
        """The winner's events, when it is an ``x-mock-sse`` stream (a HEAD gets the head of the whole body)."""
        winner = result.winner
        assert winner is not None
        interval = snapshot.sse_plan.get(winner.id)
        if interval is None or ex.method == "HEAD":
            return
        events = sse.events_of(winner.response.body)
        left = list(sse.resume(events, ex.headers.get("last-event-id")))
        if events and not left:  # resumed after the last event: 204 tells EventSource to stop reconnecting
            assert ex.response is not None
            ex.response = HttpResponse(204, [h for h in ex.response.headers if h[0] not in sse.BODY_HEADERS], b"")
            ex.note = sse.ENDED_NOTE
            return
        ex.stream = left, interval / 1000

    async def _proxy(self, ex: Exchange) -> None:
        """``--proxy``: the upstream's answer to a miss."""
        ex.response, ex.note, ex.upstream_ms = await ex.bridges.answer_miss(
            ex.method, ex.path, ex.query_string, ex.raw_headers, ex.body, private=self.settings.private)

    async def _wait(self, ex: Exchange) -> None:
        """The delay (cut short when the mock stops), and the note of what validation could not check."""
        note = ex.note
        if ex.delay and await self._pause(ex.delay / 1000):
            note = (note + "; " if note else "") + "delay cut short: the mock stopped"
        if ex.unchecked:  # --validate-requests met a pattern that is not a regex
            note = ex.unchecked + ("; " + note if note else "")
        ex.note = note

    def _internal_error(self, ex: Exchange) -> None:
        detail = traceback.format_exc()
        self.error_log.report(detail)
        logger.error("error while serving %s %s\n%s", ex.method, ex.path, detail)
        ex.response = internal_error_response(detail.strip().splitlines()[-1])
        ex.note = "internal error (see the server's errors)"

    def _log(self, ex: Exchange, status: int, headers_out: list[tuple[bytes, bytes]], body_out: bytes,
             latency_ms: float) -> LogEntry:
        """Log ``ex`` as it goes out (before sending, so whoever got the response also finds it in the log):
        the one place a request's entry is built. A fault is logged as the fault, with the status only if
        one goes out; a request refused for want of the key joins its burst's entry."""
        result, answer, fault = ex.result, ex.answer, ex.fault
        winner = result.winner if result is not None else None
        # positional, in the fields' order: on CPython 3.11 naming 22 arguments costs about 1.5 µs, a tenth
        # of what the app spends on a request (benchmarks/app_cost.py); the names are in the comments
        entry = LogEntry(
            0, time.time(), ex.method, ex.path,  # seq (numbered by the log) time method path
            ex.query_string, ex.raw_headers, ex.body, status,  # query_string raw_headers raw_body status
            winner.id if winner else None, winner.name if winner else None,  # example_id example_name
            result.score if result is not None else None, latency_ms, result,  # score latency_ms outcome
            headers_out, body_out, ex.note, ex.body_size, None,  # response_headers/_body note body_size response_size
            ex.upstream_ms, answer.traceback if answer is not None else "",  # upstream_ms traceback
            ex.delay or 0,  # delay_ms
            "", 0,  # fault refused (set below)
            answer.wait_ms if answer is not None else None,  # handler_wait_ms
            answer.run_ms if answer is not None else None)  # handler_run_ms
        if fault is not None:
            entry.note, entry.fault = f"fault {fault}" + (f" ({ex.note})" if ex.note else ""), fault
            entry.status = status if fault in STATUS_FAULTS else None
        if ex.refused:  # one entry per burst of them, so they cannot push the team's requests out of the log
            return self.log.append_refused(entry, ex.refused)
        self.log.add(entry)
        return entry

    async def _send(self, scope: Scope, receive: Receive, send: Send, ex: Exchange, entry: LogEntry,
                    response: HttpResponse, headers_out: list[tuple[bytes, bytes]], body_out: bytes) -> None:
        """The response, or the fault that replaces it (see :mod:`postmock_nb.answers.faults`)."""
        head_sent = False
        if self._batched is not None:  # whoever gets the response finds it in every replica's log (no round trip)
            await self._batched.handed()
        try:
            if ex.answer is not None and ex.answer.stream is not None:  # a handler's generator
                if ex.fault is None and ex.method != "HEAD":
                    await self._stream_handler(receive, send, ex, entry, ex.answer.stream)
                    return
                await ex.answer.stream.close()  # a fault (or a HEAD) answers instead: the generator stopped unread
            if ex.stream is not None and (ex.fault is None or ex.fault in sse.CUT_FAULTS):
                await self._stream(scope, receive, send, ex, entry, response, headers_out)
                return
            if ex.fault is not None:
                done = await perform(ex.fault, scope, receive, send, response.status, headers_out, body_out,
                                     stopping=self.stopping)
                entry.note = f"fault {done}" + (f" ({ex.note})" if ex.note else "")
                entry.status = response.status if status_went_out(done) else None
                return
            await send({"type": "http.response.start", "status": response.status, "headers": headers_out})
            head_sent = True
            await send({"type": "http.response.body", "body": body_out})
            if ex.answer is not None or ex.snapshot is not None and ex.snapshot.callback_plan:
                self._call_back(ex, entry)  # a handler's or an example's webhooks, now that it was answered
        except (Exception, asyncio.CancelledError) as error:  # re-raised: the HTTP server refused what the app
            self.log.sending_failed(entry, error, head_sent=head_sent)  # sent, the client left, or the server stopped
            raise

    async def _stream(self, scope: Scope, receive: Receive, send: Send, ex: Exchange, entry: LogEntry,
                      response: HttpResponse, headers_out: list[tuple[bytes, bytes]]) -> None:
        """An ``x-mock-sse`` example's events, one send each (see :mod:`postmock_nb.answers.sse`); a fault cuts
        the stream after half of them, written to the socket by the mock itself (plain HTTP/1) so that all of
        them reach the client before the cut. The log entry notes how many went out, and what went out."""
        assert ex.stream is not None and ex.result is not None and ex.snapshot is not None
        events, interval_s = ex.stream
        fault = ex.fault
        headers = sse.stream_headers(headers_out)
        direct = direct_writer(scope) if fault is not None else None
        total = plural(len(events), "event")
        progress = self._streaming(entry, lambda count: f"sse: {count} of {total} sent so far")
        try:
            sent = await sse.stream(events, render_context(ex.result, ex.snapshot), direct or send, receive,
                                    status=response.status, headers=headers, interval_s=interval_s,
                                    cut=sse.cut_after(len(events)) if fault is not None else None,
                                    stopping=self.stopping, progress=progress)
            note = sent.note
            if fault is not None and sent.note.endswith("then cut"):
                note = f"fault {fault}: {note} ({await cut(fault, scope, receive, send, direct=direct)})"
            entry.status, entry.response_headers = response.status, headers
            entry.response_size, entry.response_body = len(sent.body), sent.body[:BODY_LIMIT]  # as LogEntry keeps
            entry.note = note + (f"; {ex.note}" if ex.note else "")
        finally:
            if direct is not None:  # cut closed it already, unless the client left first
                direct.sock.close()
            self._streamed(entry)

    async def _stream_handler(self, receive: Receive, send: Send, ex: Exchange, entry: LogEntry,
                              stream: HandlerStream) -> None:
        """A streaming handler's items, one send each (see :mod:`postmock_nb.behaviours.streams`); the log entry
        notes how many went out, and what went out. Its callbacks go once the stream ended."""
        progress = self._streaming(entry, lambda count: f"handler {stream.name} streaming: {plural(count, 'item')} "
                                                        "sent so far")
        try:
            out = await send_stream(stream, send, receive, body_limit=BODY_LIMIT, stopping=self.stopping,
                                    extra=CORS_HEADERS if self.settings.cors else (), progress=progress)
            entry.status, entry.response_headers = stream.status, out.headers
            entry.response_size, entry.response_body = out.size, out.body
            entry.note = out.note + (f"; {ex.note}" if ex.note else "")
        finally:
            self._streamed(entry)
        if stream.callbacks:  # asked before the generator was returned and while it streamed
            self.callbacks.schedule(tuple(stream.callbacks), entry.seq, f"handler {entry.example_name}")

    # -- the mock: helpers of the stages ------------------------------------------------------

    def _streaming(self, entry: LogEntry, note: Callable[[int], str]) -> sse.Progress:
        """A stream starts: its row shows it open until it ends (:meth:`_streamed`), and what went out so far
        (``note(count)``, the chunks as its body); returns what the stream tells each event or chunk it sends."""
        entry.channel, entry.live = STREAM, True
        entry.response_body, entry.response_size = b"", 0
        self.log.progressed(entry)

        def progress(count: int, chunk: bytes) -> None:
            entry.note = note(count)
            entry.extend_response(chunk)
            self.log.progressed(entry)

        return progress

    def _streamed(self, entry: LogEntry) -> None:
        """A stream ended (sent, cut, or the client left): its row is complete; a shared journal writes it again
        (its first copy went out before the stream, with the response's head)."""
        entry.live = False
        self.log.completed(entry)

    def _call_back(self, ex: Exchange, entry: LogEntry) -> None:
        """Schedule the callbacks the handler asked for, and the winning example's (``x-mock-callback``)."""
        if ex.answer is not None and ex.answer.callbacks:
            self.callbacks.schedule(ex.answer.callbacks, entry.seq, f"handler {entry.example_name}")
        result, snapshot = ex.result, ex.snapshot
        if ex.chaos or result is None or result.winner is None or snapshot is None:
            return
        marker = snapshot.callback_plan.get(result.winner.id)
        if marker is not None:
            self.callbacks.schedule_example(marker, result, snapshot.variables, ex.body, entry.seq)


    async def _pause(self, seconds: float) -> bool:
        """Sleep ``seconds`` (a delay); True when cut short because the server is stopping.

        A stop finishes the requests in flight: their delays end at once and their answers go out
        whole, within the server's grace period, instead of the server's own 500 after it.
        """
        stopping = self.stopping
        if stopping is None:
            await asyncio.sleep(seconds)
            return False
        if not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), seconds)
        return stopping.is_set()

    def _chaos_answer(self, snapshot: Snapshot, result: MatchResult,
                      fault: str | None) -> tuple[HttpResponse, str | None, str]:
        """What chaos answers: a 503, a fault (with the response it would have replaced) or a named example."""
        what = self.settings.chaos_with.strip()
        extra = CORS_HEADERS if self.settings.cors else ()
        if what.lower() in FAULTS:
            return error_response(503, "mockChaos", "Service Unavailable", "chaos"), what.lower(), "chaos"
        found = [e for _, e in snapshot.collection.find(what)] if what != "503" else []
        if found:
            chosen = replace(result, winner=found[0], score=None, candidates=[Candidate(found[0], 0, None, ())])
            return build_response(chosen, snapshot, extra, self.responses), fault, f"chaos: answered by {what!r}"
        response = error_response(503, "mockChaos", "Service Unavailable",
                                  "chaos: this request was picked to fail (--chaos)", extra=extra)
        return response, fault, "chaos: 503" + (f" (no example named {what!r})" if what != "503" else "")

    async def _serve_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket upgrade: the key (private mocks), the match (like a GET), then the ``%%websocket``
        script that won is played, or the socket handler that won is awaited
        (:mod:`~postmock_nb.serving.sockets`); the connection is one row of the log. Neither: a logged 501."""
        message = await receive()
        if message.get("type") != "websocket.connect":
            return
        raw_headers = list(scope["headers"])
        query_string = scope.get("query_string", b"")
        ex = Exchange("GET", matched_path(scope), query_string, raw_headers, RequestHeaders(raw_headers),
                      time.perf_counter(), self.bridges, note="WebSocket upgrade refused")
        refused, subprotocol = socket_key(self.settings, scope)
        if refused:
            await self._refuse_websocket(scope, send, ex, refused)
            return
        ex.query = tuple(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        ex.request = IncomingRequest("GET", ex.path, ex.query, ex.headers, "")
        snapshot = ex.snapshot = self.store.snapshot
        result = ex.result = self.matches.match(snapshot, ex.request, query_string, selectors=False)
        play, why = self._socket_answer(snapshot, result)
        if play is None:
            ex.result = None
            await self._refuse_websocket(scope, send, ex, "", why)
            return
        connection = Connection(receive, send, self.stopping, max_bytes=self.settings.max_body_bytes)
        await connection.accept(subprotocol)
        ex.note = connection.transcript.progress()
        entry = self._log(ex, 101, [], b"", 0.0)  # the row shows while it is open; completed at the close
        self._follow_connection(entry, connection.transcript)
        assert result.winner is not None
        self.connections.opened(connection, result.winner.request.path, ex.path)
        try:
            entry.traceback = await play(connection, ex)
        finally:
            self.connections.closed(connection)
            await connection.finish()
            transcript = connection.transcript.text().encode("utf-8")
            entry.note, entry.latency_ms = connection.transcript.summary(), (time.perf_counter() - ex.started) * 1000
            entry.response_size, entry.response_body = len(transcript), transcript[:BODY_LIMIT]
            entry.live = False
            self.log.completed(entry)  # the dashboard shows the close; --state: the shared journal's copy is closed

    def _follow_connection(self, entry: LogEntry, transcript: Transcript) -> None:
        """A connection's row follows it while it is open: each transcript line goes into its response body and
        its counts into its note, and the journal's listeners (the dashboard, throttled) hear of it."""
        entry.channel, entry.live = WEBSOCKET, True

        def on_line(line: str) -> None:
            entry.note = transcript.progress()
            entry.extend_response(line.encode("utf-8") + b"\n")
            self.log.progressed(entry)

        transcript.on_line = on_line

    def _socket_answer(self, snapshot: Snapshot, result: MatchResult) -> tuple[Play | None, str]:
        """How the winner answers on the socket (a script's player, a socket handler), or None and why not."""
        winner = result.winner
        compiled = snapshot.by_id.get(winner.id) if winner is not None else None
        if winner is None or compiled is None:
            return None, ""
        markers = compiled.markers
        if markers.socket:
            handler = self.behaviours.sockets.get(markers.handler or "")
            if handler is None:
                return None, (f"the Python socket handler {winner.name!r} is not defined here (a saved file keeps "
                              "only its placeholder): run the cell that defines it")

            async def run(connection: Connection, ex: Exchange) -> str:
                socket = Socket(connection, ex.path, dict(result.captured), ex.query, dict(ex.headers),
                                connection.subprotocol)
                return await run_handler(handler.function, socket, connection, self.stopping)

            return run, ""
        if markers.websocket is None:
            return None, ""
        try:
            steps = steps_of(winner.response.body)
        except PostmockError:  # a saved file's script that cannot be read: refused like no script
            return None, ""
        interval, repeat, timeout = markers.websocket
        ctx = render_context(result, snapshot)

        async def play(connection: Connection, ex: Exchange) -> str:
            await Player(connection, ctx).play(steps, interval / 1000, repeat, timeout)
            return ""

        return play, ""

    async def _refuse_websocket(self, scope: Scope, send: Send, ex: Exchange, refused: str, why: str = "") -> None:
        """An upgrade refused: the key (a 401), or no ``%%websocket`` script or socket handler for it (a 501,
        saying ``why`` when it is known); logged."""
        response = unauthorized(refused) if refused else error_response(
            501, "mockWebSocketUnsupported", "Not Implemented",
            why or "no %%websocket script or socket handler matches this upgrade (path, query and headers): "
            "this mock answers it over HTTP only")
        if refused:  # as a keyless HTTP request: counted in a burst, never pushing the team's entries out
            ex.refused = f"WebSocket upgrade, {refused}"
        headers_out, body_out = wire.frame(response.status, response.headers, response.body, "GET")
        self._log(ex, response.status, headers_out, body_out, 0.0)
        if "websocket.http.response" in scope.get("extensions", {}):
            await send({"type": "websocket.http.response.start", "status": response.status, "headers": headers_out})
            await send({"type": "websocket.http.response.body", "body": body_out})
        else:
            await send({"type": "websocket.close", "code": 1003})

    @property
    def errors(self) -> list[str]:
        """The errors kept, oldest first."""
        return self.error_log.recent()

    # -- the admin API ----------------------------------------------------------------------

    async def _serve_admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._admin is None:
            self._admin = build_admin_app(self)
        await self._admin(scope, receive, send)

