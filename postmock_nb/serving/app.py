"""The ASGI application: a lean mock hot path, and a Quart admin API beside it.

Mock requests are answered by :class:`MockApp` directly on the ASGI interface: one
snapshot read, one match, two ``send`` calls. Quart's request machinery costs more than
the whole mock (about 110 µs a request here), so Quart only serves the admin API under
``/__postmock/`` (health, examples, log, explanations), where its conveniences pay.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import random
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from postmock_nb.answers.diagnostics import candidate_json, diagnosis, not_found_body
from postmock_nb.answers.faults import RESPONSE_FAULT, STATUS_FAULTS, FaultError, parse_fault, status_went_out
from postmock_nb.answers.responses import HttpResponse, ResponseCache, build_response, json_response
from postmock_nb.bridges.bridges import Bridges
from postmock_nb.config import MAX_DELAY_MS, MockConfig
from postmock_nb.core import limits, wire
from postmock_nb.core.selectors import MOCK_SELECTORS, RESPONSE_CODE, RESPONSE_DELAY, query_value
from postmock_nb.matching import IncomingRequest, MatchMemo
from postmock_nb.matching.store import CollectionStore
from postmock_nb.serving.errorlog import ErrorLog
from postmock_nb.serving.journal import Journal
from postmock_nb.serving.requestlog import LogEntry

if TYPE_CHECKING:
    from postmock_nb.behaviours.dispatch import Answer, Behaviours

ADMIN_PREFIX = "/__postmock"
logger = logging.getLogger("postmock_nb.serving.server")
logger.addHandler(logging.NullHandler())  # server errors go to the mock's own error log, never a cell
logger.propagate = False

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
"""ASGI as this app uses it (plain dicts); the server hands it to Hypercorn as its ASGIFramework."""


class RequestProblem(Exception):
    """A request we refuse before matching (bad ``x-mock-*`` value, body too large)."""

    def __init__(self, status: int, name: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.name, self.message = status, name, message
        self.extra = extra or {}
        """More fields for the error's JSON (``violations`` of an OpenAPI check)."""


def _error(status: int, name: str, header: str, message: str, extra: dict[str, Any] | None = None) -> HttpResponse:
    return json_response(status, {"error": {"name": name, "header": header, "message": message} | (extra or {})})


BODY_LOST = ("the request body did not arrive whole: the client stalled past the read timeout or closed the "
             "connection, or the HTTP server refused the body (a malformed chunked body) and may have answered itself")
UNAUTHORIZED_MESSAGE = "This mock is private: send its key in the x-api-key header."
MOCK_NAMES = frozenset((*MOCK_SELECTORS, RESPONSE_FAULT))
"""The ``x-mock-*`` names a request may send (as a header or a query parameter)."""


class MockApp:
    """The ASGI callable the server runs."""

    def __init__(self, store: CollectionStore, log: Journal, settings: MockConfig,
                 errors: ErrorLog | None = None, bridges: Bridges | None = None,
                 behaviours: Behaviours | None = None) -> None:
        if behaviours is None:
            from postmock_nb.behaviours.dispatch import Behaviours

            behaviours = Behaviours()
        self.behaviours = behaviours
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
        self._chaos = random.Random(settings.chaos_seed)
        """The chaos draw (one per app; the app runs on one event loop, so no lock)."""
        self.stopping: asyncio.Event | None = None
        """Set when the server running this app is told to stop (see :meth:`_pause`)."""
        self._cors_headers: list[tuple[bytes, bytes]] = [
            (b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", b"*")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"].startswith(ADMIN_PREFIX):
                await self._serve_admin(scope, receive, send)
            else:
                await self.serve_mock(scope, receive, send)
        elif kind == "websocket":
            await self._refuse_websocket(scope, receive, send)
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                    if self.on_startup is not None:
                        self.on_startup()
                elif message["type"] == "lifespan.shutdown":
                    bridges = self.bridges
                    if bridges.proxy is not None:  # the upstream client lives on this loop
                        await bridges.proxy.aclose()
                    if bridges.recorder is not None:  # its last batch of examples is written now
                        await asyncio.to_thread(bridges.recorder.close)
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    # -- the mock ---------------------------------------------------------------------------

    async def serve_mock(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        bridges = self.bridges  # read once: the notebook swaps it whole (%mock proxy)
        raw_headers = scope["headers"]
        headers = wire.request_headers(raw_headers)
        method = scope["method"]
        query_string = scope["query_string"]
        result = None
        note = ""
        upstream_ms: float | None = None
        answer: Answer | None = None
        body = b""
        body_size: int | None = None
        delay: int | None = 0
        fault: str | None = None
        cancelled: asyncio.CancelledError | None = None
        refused = ""  # why the key was refused (private mode): such requests are logged as bursts
        unchecked = ""  # what --validate-requests could not check (for the log note)
        try:
            response, refused = self._refuse(method, headers, raw_headers)  # before the body is read, let alone kept
            if response is not None:
                body_size = _declared_length(headers)
            else:
                body = await self._read_body(scope, receive, headers)
                query = tuple(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)) if query_string else ()
                # x-mock-* values (header or query): checked, and they make the match read more than the request line
                sent_mock_values = not headers.keys().isdisjoint(MOCK_NAMES) or (
                    bool(query) and any(key.lower() in MOCK_NAMES for key, _ in query))
                asked = _checked_mock_values(headers, query) if sent_mock_values else None
                request = IncomingRequest(method, scope["path"], query, headers, body.decode("utf-8", "replace"))
                if bridges.request_validator is not None:  # --validate-requests: 422
                    from postmock_nb.bridges.validation import enforce

                    if bridges.request_validator.off_loop:  # a lookaround pattern: never on the loop
                        from postmock_nb.bridges.validation import SLOW_CHECKS

                        unchecked = await asyncio.get_running_loop().run_in_executor(
                            SLOW_CHECKS, enforce, bridges.request_validator, request, body)
                    else:
                        unchecked = enforce(bridges.request_validator, request, body)
                snapshot = self.store.snapshot
                result = self.matches.match(snapshot, request, query_string, selectors=sent_mock_values)
                chaos = self.settings.chaos and self._chaos.random() < self.settings.chaos  # drawn for every request
                # a fault: the request's x-mock-response-fault, else the winning example's x-mock-fault
                fault = _asked_fault(headers, query) if sent_mock_values else None
                # precedence: the request's x-mock-response-delay, the example's x-mock-delay, the mock's --delay
                delay = asked
                if result.winner is not None and self.behaviours.flows.plan(snapshot):  # only when marked
                    flows = self.behaviours.flows
                    if not chaos:  # sequences, scenarios (a request chaos answers takes no turn)
                        result = flows.choose(result, snapshot)
                    if delay is None and result.winner is not None:
                        delay = flows.delay_ms(result.winner.id, snapshot)
                    if fault is None and result.winner is not None:
                        fault = flows.fault(result.winner.id, snapshot)
                if delay is None:
                    delay = self.settings.delay_ms
                if chaos:  # --chaos: this request is answered by --chaos-with instead
                    response, fault, note = self._chaos_answer(snapshot, result, fault)
                elif result.winner is not None:
                    response, answer = await self._respond(result, snapshot, body)
                    note = answer.note if answer is not None else note
                elif bridges.proxy is not None:  # --proxy: a miss goes upstream
                    response, note, upstream_ms = await bridges.answer_miss(
                        method, scope["path"], query_string, raw_headers, body, private=self.settings.private)
                else:
                    response = json_response(404, not_found_body(result),
                                             self._cors_headers if self.settings.cors else [])
                    note = result.error
                if delay and await self._pause(delay / 1000):
                    note = (note + "; " if note else "") + "delay cut short: the mock stopped"
                if unchecked:  # --validate-requests met a pattern that is not a regex
                    note = unchecked + ("; " + note if note else "")
        except asyncio.CancelledError as error:  # the server gave up on the app (its grace period after a stop)
            cancelled = error
            response = HttpResponse(500, [], b"")  # what goes out is the HTTP server's own 500, not ours
            note = ("the mock stopped before this request was answered: the HTTP server answered 500 itself"
                    if self.stopping is not None and self.stopping.is_set() else
                    "cancelled before it was answered: the HTTP server answered 500 itself")
        except RequestProblem as problem:
            response = _error(problem.status, problem.name, "Bad mock request", problem.message, problem.extra)
            note = problem.message
            if problem.status == 408:  # the rest of a stalled body must not be read as the next request
                response.headers.append((b"connection", b"close"))
            if problem.status == 413:
                body_size = _declared_length(headers)
        except wire.UnsafeEcho as problem:
            response = _error(400, "mockRequestError", "Bad mock request", str(problem))
            note = str(problem)
        except Exception:  # a bug of ours: answer 500, keep serving, and tell the person
            detail = traceback.format_exc()
            self.error_log.report(detail)
            logger.error("error while serving %s %s\n%s", method, scope["path"], detail)
            response = _error(500, "mockServerError", "Internal mock error", detail.strip().splitlines()[-1])
            note = "internal error (see the server's errors)"
        winner = result.winner if result is not None else None
        headers_out, body_out = response.framed(method)  # a cached response's: shared, never changed
        # logged before sending, so whoever got the response also finds it in the log: as it goes out
        entry = LogEntry(
            0 if refused else self.log.next_seq(), time.time(), method, scope["path"], query_string, raw_headers, body,
            response.status, winner.id if winner else None, winner.name if winner else None,
            result.score if result is not None else None, (time.perf_counter() - started) * 1000,
            result, headers_out, body_out, note, body_size, upstream_ms=upstream_ms,
            traceback=answer.traceback if answer is not None else "", delay_ms=delay or 0,
            handler_wait_ms=answer.wait_ms if answer is not None else None,
            handler_run_ms=answer.run_ms if answer is not None else None)
        if fault is not None:  # logged as the fault, with the status only if one goes out
            entry.note, entry.fault = f"fault {fault}" + (f" ({note})" if note else ""), fault
            entry.status = response.status if fault in STATUS_FAULTS else None
        if refused:  # one entry per burst of them, so they cannot push the team's requests out of the log
            entry = self.log.append_refused(entry, refused)
        else:
            self.log.append(entry)
        if cancelled is not None:
            raise cancelled
        head_sent = False
        try:
            if fault is not None:  # see postmock_nb.answers.faults: what the client gets instead of the response
                from postmock_nb.answers.faults import perform

                done = await perform(fault, scope, receive, send, response.status, headers_out, body_out,
                                     stopping=self.stopping)
                entry.note = f"fault {done}" + (f" ({note})" if note else "")
                entry.status = response.status if status_went_out(done) else None
                return
            await send({"type": "http.response.start", "status": response.status, "headers": headers_out})
            head_sent = True
            await send({"type": "http.response.body", "body": body_out})
        except (Exception, asyncio.CancelledError) as error:  # re-raised: the HTTP server refused what the app
            self.log.sending_failed(entry, error, head_sent=head_sent)  # sent, the client left, or the server stopped
            raise

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

    def _chaos_answer(self, snapshot: Any, result: Any, fault: str | None) -> tuple[HttpResponse, str | None, str]:
        """What chaos answers: a 503, a fault (with the response it would have replaced) or a named example."""
        from dataclasses import replace

        from postmock_nb.answers.faults import FAULTS
        from postmock_nb.matching import Candidate

        what = self.settings.chaos_with.strip()
        extra = self._cors_headers if self.settings.cors else []
        if what.lower() in FAULTS:
            return _error(503, "mockChaos", "Service Unavailable", "chaos"), what.lower(), "chaos"
        found = [e for _, e in snapshot.collection.find(what)] if what != "503" else []
        if found:
            chosen = replace(result, winner=found[0], score=None, candidates=[Candidate(found[0], 0, None, ())])
            return build_response(chosen, snapshot, extra, self.responses), fault, f"chaos: answered by {what!r}"
        response = _error(503, "mockChaos", "Service Unavailable",
                          "chaos: this request was picked to fail (--chaos)")
        response.headers.extend(extra)
        return response, fault, "chaos: 503" + (f" (no example named {what!r})" if what != "503" else "")

    async def _respond(self, result: Any, snapshot: Any, body: bytes) -> tuple[HttpResponse, Answer | None]:
        """The winner's response: its handler's or resource's answer, else its saved (static) response."""
        extra = self._cors_headers if self.settings.cors else []
        if self.behaviours.plan(snapshot):  # a dict lookup per request only when the collection has any
            answered = await self.behaviours.respond(result, snapshot, body, extra)
            if answered is not None:
                return answered
        return build_response(result, snapshot, extra, self.responses), None

    async def _read_body(self, scope: Scope, receive: Receive, headers: dict[str, str]) -> bytes:
        announced = "content-length" in headers or "transfer-encoding" in headers  # a body is coming
        if not announced and scope.get("http_version") in wire.HTTP1:
            return b""  # HTTP/1 without a length or chunks has no body: nothing to wait for
        declared = _declared_length(headers)
        if declared is not None and declared > self.settings.max_body_bytes:  # refused before buffering anything
            raise RequestProblem(413, "mockRequestTooLarge",
                                 f"request body over {self.settings.max_body_bytes} bytes")
        message = await self._receive_body(receive)
        if not message.get("more_body", False):  # the usual case: the whole body (often none) at once
            body = message.get("body", b"")
            if len(body) > self.settings.max_body_bytes:
                raise RequestProblem(413, "mockRequestTooLarge",
                                     f"request body over {self.settings.max_body_bytes} bytes")
            return bytes(body)
        chunks = []
        size = 0
        while True:
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                raise RequestProblem(413, "mockRequestTooLarge",
                                     f"request body over {self.settings.max_body_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
            message = await self._receive_body(receive)

    async def _receive_body(self, receive: Receive) -> dict[str, Any]:
        """The next part of the request body; a 408 when none comes within the read timeout (a stalled body,
        on every server: none of them bounds it) or the client left."""
        try:
            message: dict[str, Any] = await asyncio.wait_for(receive(), self.settings.read_timeout_s)
        except TimeoutError:
            raise RequestProblem(408, "mockRequestTimeout", BODY_LOST) from None
        if message["type"] == "http.disconnect":
            raise RequestProblem(408, "mockRequestTimeout", BODY_LOST)
        return message

    def _refuse(self, method: str, headers: dict[str, str],
                raw_headers: list[tuple[bytes, bytes]]) -> tuple[HttpResponse | None, str]:
        """CORS preflight and private-mode answers, given before any matching, and why the key was refused
        ("" unless it was: such requests are logged as bursts)."""
        if self.settings.cors and method == "OPTIONS" and "access-control-request-method" in headers:
            return HttpResponse(204, [
                (b"access-control-allow-origin", _echoable(headers.get("origin", "*"))),
                (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"),
                (b"access-control-allow-headers", _echoable(headers.get("access-control-request-headers", "*"))),
                (b"access-control-max-age", b"600"), (b"vary", b"Origin")], b""), ""
        refused = self._key_refused(headers, raw_headers)
        if refused:
            response = _unauthorized(refused)
            if self.settings.cors:
                response.headers.extend(self._cors_headers)
            return response, refused
        return None, ""

    def _key_refused(self, headers: dict[str, str], raw_headers: list[tuple[bytes, bytes]]) -> str:
        """Why a private mock refuses this request ("" when public, or the key is right)."""
        if not self.settings.private or self.key_ok(_raw_header(raw_headers, b"x-api-key")):
            return ""
        return "missing x-api-key header" if "x-api-key" not in headers else "wrong x-api-key"

    def key_ok(self, given: bytes | None) -> bool:
        """Constant-time comparison of the x-api-key header, as received (bytes), with the mock's key."""
        return given is not None and hmac.compare_digest(given.strip(b" \t"), self.settings.key.encode("utf-8"))

    async def _refuse_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket upgrade: refused with a logged 501 (the mock serves HTTP only)."""
        message = await receive()
        if message.get("type") != "websocket.connect":
            return
        raw_headers = list(scope["headers"])
        refused = self._key_refused(wire.request_headers(raw_headers), raw_headers)
        response = _unauthorized(refused) if refused else _error(
            501, "mockWebSocketUnsupported", "Not Implemented",
            "this mock serves HTTP requests only: WebSocket upgrades are not supported")
        headers_out, body_out = wire.frame(response.status, response.headers, response.body, "GET")
        entry = LogEntry(
            0 if refused else self.log.next_seq(), time.time(), "GET", scope["path"], scope.get("query_string", b""),
            raw_headers, b"", response.status, None, None, None, 0.0, None, headers_out, body_out,
            "WebSocket upgrade refused")
        if refused:  # as a keyless HTTP request: counted in a burst, never pushing the team's entries out
            self.log.append_refused(entry, f"WebSocket upgrade, {refused}")
        else:
            self.log.append(entry)
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


def _echoable(value: str) -> bytes:
    """A request header value echoed in a preflight answer: ``*`` when it holds a control character."""
    return b"*" if wire.has_control(value) else value.encode("latin-1")


def _unauthorized(reason: str) -> HttpResponse:
    return _error(401, "AuthenticationError", "Unauthorized", f"{UNAUTHORIZED_MESSAGE} ({reason})")


def _raw_header(raw_headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of header ``name`` as received (the one key comparison works on bytes)."""
    return next((v for k, v in raw_headers if k.lower() == name), None)


def _declared_length(headers: dict[str, str]) -> int | None:
    """The request's Content-Length, if it is a plain number (the HTTP server has checked it)."""
    value = headers.get("content-length", "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def _number(name: str, value: str, low: int, high: int, what: str) -> int:
    """``value`` as a whole number from ``low`` to ``high``, or a 400 naming the header and the (shortened) value."""
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= limits.MAX_MOCK_VALUE) or not low <= int(text) <= high:
        raise RequestProblem(400, "mockRequestError", f"{name} must be {what}, got {wire.shorten(value)}")
    return int(text)


def _checked_mock_values(headers: dict[str, str], query: tuple[tuple[str, str], ...]) -> int | None:
    """Refuse bad ``x-mock-response-code`` / ``-delay`` values (header or query); return the delay asked (ms)."""
    raw = headers.get(RESPONSE_DELAY)
    if raw is None:
        raw = query_value(query, RESPONSE_DELAY)
    code = headers.get(RESPONSE_CODE) or query_value(query, RESPONSE_CODE)
    if code is not None:
        _number(RESPONSE_CODE, code, 100, 599, "an HTTP status 100-599")
    if raw is None:
        return None
    return _number(RESPONSE_DELAY, raw, 1, MAX_DELAY_MS, f"a whole number of milliseconds 1-{MAX_DELAY_MS}")


def _asked_fault(headers: dict[str, str], query: tuple[tuple[str, str], ...]) -> str | None:
    """The request's ``x-mock-response-fault`` (header, else query), checked: an unknown one is a 400."""
    raw = headers.get(RESPONSE_FAULT)
    if raw is None:
        raw = query_value(query, RESPONSE_FAULT)
    if raw is None:
        return None
    try:
        return parse_fault(raw)
    except FaultError as error:
        raise RequestProblem(400, "mockRequestError", f"{RESPONSE_FAULT}: {error}") from None


def build_admin_app(mock: MockApp) -> Any:
    """The Quart app behind ``/__postmock/``: read-only views of the mock, and log reset."""
    from quart import Quart, jsonify, request

    admin = Quart("postmock_nb.admin")

    @admin.before_request
    async def _check_key() -> Any:
        given = request.headers.get("x-api-key")  # decoded as Latin-1 by the framework: back to the bytes received
        if request.method != "OPTIONS" and mock.settings.private and not mock.key_ok(
                given.encode("latin-1") if given is not None else None):
            return jsonify({"error": {"name": "AuthenticationError", "message": UNAUTHORIZED_MESSAGE}}), 401
        return None

    @admin.get(f"{ADMIN_PREFIX}/health")
    async def health() -> Any:
        counts = mock.log.counts()
        return jsonify({"status": "ok", "examples": len(mock.store.snapshot), "requests": counts.total,
                        "misses": counts.misses, "errors": mock.error_log.total}
                       | ({"refused": counts.refused} if mock.settings.private else {}) | _worker_note())

    @admin.get(f"{ADMIN_PREFIX}/examples")
    async def examples() -> Any:
        hits = mock.log.hit_counts()
        return _with_worker_note(jsonify([{"id": e.id, "name": e.name, "method": e.request.method,
                                           "url": e.request.url, "status": e.response.status,
                                           "hits": hits.get(e.id, 0)} for e in mock.store.collection.examples]))

    @admin.get(f"{ADMIN_PREFIX}/log")
    async def log() -> Any:
        unmatched = request.args.get("unmatched", "").lower() in ("1", "true", "yes")
        limit = request.args.get("limit", type=int)
        return _with_worker_note(jsonify([e.summary() for e in mock.log.recent(limit, unmatched=unmatched)]))

    @admin.delete(f"{ADMIN_PREFIX}/log")
    async def clear_log() -> Any:
        mock.log.clear()
        return "", 204

    @admin.get(f"{ADMIN_PREFIX}/scenarios")
    async def scenarios() -> Any:
        return jsonify(mock.behaviours.scenario_states(mock.store.snapshot))

    @admin.delete(f"{ADMIN_PREFIX}/scenarios")
    async def reset_scenarios() -> Any:
        name = request.args.get("name")
        mock.behaviours.reset_scenarios(name)
        return "", 204

    @admin.get(f"{ADMIN_PREFIX}/log/<int:seq>")
    async def explain(seq: int) -> Any:
        entry = mock.log.find(seq)
        if entry is None:
            return jsonify({"error": {"name": "logEntryNotFound",
                                      "message": f"no log entry #{seq} "
                                                 f"(the log keeps the last {mock.log.maxlen})"}}), 404
        reveal = mock.settings.reveal_secrets and request.args.get("reveal", "").lower() in ("1", "true", "yes")
        data = entry.summary() | {"headers": entry.request_headers(reveal=reveal), "body": entry.body,
                                  "body_size": entry.body_size, "secrets": "shown" if reveal else "masked",
                                  "response": {"headers": entry.shown_response_headers(reveal=reveal),
                                               "body": entry.response_text, "size": entry.response_size}}
        if entry.traceback:
            data["traceback"] = entry.traceback
        if entry.result is not None:
            data["diagnosis"] = (diagnosis(entry.result, reveal=reveal) if not entry.matched
                                 else {"candidates": [candidate_json(c, reveal=reveal)
                                                      for c in entry.result.candidates]})
        return jsonify(data)

    def _worker_note() -> dict[str, Any]:
        workers = mock.settings.workers
        if workers <= 1:
            return {}
        return {"workers": workers, "worker_pid": os.getpid(),
                "scope": f"this worker only: {workers} worker processes share the port, each with its own log"}

    def _with_worker_note(response: Any) -> Any:
        if mock.settings.workers > 1:
            response.headers["x-postmock-workers"] = str(mock.settings.workers)
            response.headers["x-postmock-scope"] = f"one worker of {mock.settings.workers} (pid {os.getpid()})"
        return response

    return admin
