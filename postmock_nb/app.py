"""The ASGI application: a lean mock hot path, and a Quart admin API beside it.

Mock requests are answered by :class:`MockApp` directly on the ASGI interface: one
snapshot read, one match, two ``send`` calls. Quart's request machinery costs more than
the whole mock (about 110 µs a request here), so Quart only serves the admin API under
``/__postmock/`` (health, examples, log, explanations), where its conveniences pay.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import traceback
from typing import TYPE_CHECKING, Any, Awaitable, Callable
from urllib.parse import parse_qsl

from .config import MAX_DELAY_MS, MockConfig
from .diagnostics import candidate_json, diagnosis, not_found_body
from .matching import IncomingRequest, match
from .requestlog import LogEntry, RequestLog
from .responses import HttpResponse, ResponseCache, build_response, json_response
from .store import LiveCollection

if TYPE_CHECKING:
    from .behaviours import Answer, Behaviours

ADMIN_PREFIX = "/__postmock"
logger = logging.getLogger("postmock_nb.server")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class RequestProblem(Exception):
    """A request we refuse before matching (bad ``x-mock-*`` value, body too large)."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status, self.name, self.message = status, name, message


def _error(status: int, name: str, header: str, message: str) -> HttpResponse:
    return json_response(status, {"error": {"name": name, "header": header, "message": message}})


UNAUTHORIZED_MESSAGE = "This mock is private: send its key in the x-api-key header."


class MockApp:
    """The ASGI callable the server runs."""

    def __init__(self, store: LiveCollection, log: RequestLog, settings: MockConfig,
                 behaviours: Behaviours | None = None) -> None:
        if behaviours is None:
            from .behaviours import Behaviours

            behaviours = Behaviours()
        self.behaviours = behaviours
        """Python handlers and resources behind marked examples (see postmock_nb.behaviours)."""
        self.store = store
        self.log = log
        self.settings = settings
        self.responses = ResponseCache()
        """Static responses of the snapshot being served (this app's own cache)."""
        self.errors: list[str] = []
        self._admin: Any = None
        self._cors_headers: list[tuple[bytes, bytes]] = [
            (b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", b"*")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"].startswith(ADMIN_PREFIX):
                await self._serve_admin(scope, receive, send)
            else:
                await self.serve_mock(scope, receive, send)
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    # -- the mock ---------------------------------------------------------------------------

    async def serve_mock(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        raw_headers = scope["headers"]
        headers: dict[str, str] = {}
        for key, value in raw_headers:
            name, text = key.decode("latin-1").lower(), value.decode("latin-1")
            headers[name] = f"{headers[name]}, {text}" if name in headers else text
        method = scope["method"]
        query_string = scope["query_string"]
        result = None
        note = ""
        answer: Answer | None = None
        body = b""
        try:
            body = await self._read_body(receive)
            response = self._refuse(method, headers)
            if response is None:
                query = tuple(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)) if query_string else ()
                delay = _checked_mock_values(headers, query, self.settings.delay_ms)
                request = IncomingRequest(method, scope["path"], query, headers, body.decode("utf-8", "replace"))
                snapshot = self.store.snapshot
                result = match(snapshot, request, self.settings)
                if result.winner is not None:
                    response, answer = await self._respond(result, snapshot, body)
                    note = answer.note if answer is not None else note
                else:
                    response = json_response(404, not_found_body(result), self._cors_headers if self.settings.cors else [])
                    note = result.error
                if delay:
                    await asyncio.sleep(delay / 1000)
        except RequestProblem as problem:
            response = _error(problem.status, problem.name, "Bad mock request", problem.message)
            note = problem.message
        except Exception:  # a bug of ours: answer 500, keep serving, and tell the person
            detail = traceback.format_exc()
            self.errors.append(detail)
            logger.error("error while serving %s %s\n%s", method, scope["path"], detail)
            response = _error(500, "mockServerError", "Internal mock error", detail.strip().splitlines()[-1])
            note = "internal error (see the server's errors)"
        winner = result.winner if result is not None else None
        # logged before sending, so whoever got the response also finds it in the log
        self.log.append(LogEntry(
            self.log.next_seq(), time.time(), method, scope["path"], query_string, raw_headers, body,
            response.status, winner.id if winner else None, winner.name if winner else None,
            result.score if result is not None else None, (time.perf_counter() - started) * 1000,
            result, response.headers, response.body, note, answer.traceback if answer is not None else ""))
        body_out = b"" if method == "HEAD" else response.body
        await send({"type": "http.response.start", "status": response.status,
                    "headers": response.headers + [(b"content-length", str(len(response.body)).encode())]})
        await send({"type": "http.response.body", "body": body_out})

    async def _respond(self, result: Any, snapshot: Any, body: bytes) -> tuple[HttpResponse, Answer | None]:
        """The winner's response: its handler's or resource's answer, else its saved (static) response."""
        extra = self._cors_headers if self.settings.cors else []
        if self.behaviours.plan(snapshot):  # a dict lookup per request only when the collection has any
            answered = await self.behaviours.respond(result, snapshot, body, extra)
            if answered is not None:
                return answered
        return build_response(result, snapshot, extra, self.responses), None

    async def _read_body(self, receive: Receive) -> bytes:
        message = await receive()
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
            message = await receive()

    def _refuse(self, method: str, headers: dict[str, str]) -> HttpResponse | None:
        """CORS preflight and private-mode answers, given before any matching."""
        if self.settings.cors and method == "OPTIONS" and "access-control-request-method" in headers:
            return HttpResponse(204, [
                (b"access-control-allow-origin", headers.get("origin", "*").encode("latin-1")),
                (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"),
                (b"access-control-allow-headers",
                 headers.get("access-control-request-headers", "*").encode("latin-1")),
                (b"access-control-max-age", b"600"), (b"vary", b"Origin")], b"")
        if self.settings.private and not self.key_ok(headers.get("x-api-key")):
            reason = "missing x-api-key header" if "x-api-key" not in headers else "wrong x-api-key"
            response = _error(401, "AuthenticationError", "Unauthorized", f"{UNAUTHORIZED_MESSAGE} ({reason})")
            if self.settings.cors:
                response.headers.extend(self._cors_headers)
            return response
        return None

    def key_ok(self, given: str | None) -> bool:
        """Constant-time comparison of the x-api-key header with the mock's key."""
        return given is not None and hmac.compare_digest(given.encode("utf-8"), self.settings.key.encode("utf-8"))

    # -- the admin API ----------------------------------------------------------------------

    async def _serve_admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._admin is None:
            self._admin = build_admin_app(self)
        await self._admin(scope, receive, send)


def _checked_mock_values(headers: dict[str, str], query: tuple[tuple[str, str], ...], default: int) -> int:
    """Refuse bad ``x-mock-response-code`` / ``-delay`` values (header or query); return the delay in ms."""
    raw = headers.get("x-mock-response-delay")
    if raw is None and query:
        raw = next((v for k, v in query if k.lower() == "x-mock-response-delay"), None)
    code = headers.get("x-mock-response-code")
    if not code:
        code = next((v for k, v in query if k.lower() == "x-mock-response-code"), None) if query else None
    if code is not None and not (code.strip().isdigit() and 100 <= int(code) <= 599):
        raise RequestProblem(400, "mockRequestError",
                             f"x-mock-response-code must be an HTTP status 100-599, got {code!r}")
    if raw is None:
        return default
    if not raw.strip().isdigit() or not 1 <= int(raw) <= MAX_DELAY_MS:
        raise RequestProblem(400, "mockRequestError",
                             f"x-mock-response-delay must be a whole number of milliseconds 1-{MAX_DELAY_MS}, got {raw!r}")
    return int(raw)


def build_admin_app(mock: MockApp) -> Any:
    """The Quart app behind ``/__postmock/``: read-only views of the mock, and log reset."""
    from quart import Quart, jsonify, request

    admin = Quart("postmock_nb.admin")

    @admin.before_request
    async def _check_key() -> Any:
        if request.method != "OPTIONS" and mock.settings.private and not mock.key_ok(request.headers.get("x-api-key")):
            return jsonify({"error": {"name": "AuthenticationError", "message": UNAUTHORIZED_MESSAGE}}), 401
        return None

    @admin.get(f"{ADMIN_PREFIX}/health")
    async def health() -> Any:
        return jsonify({"status": "ok", "examples": len(mock.store.snapshot), "requests": mock.log.total,
                        "misses": mock.log.misses, "errors": len(mock.errors)})

    @admin.get(f"{ADMIN_PREFIX}/examples")
    async def examples() -> Any:
        return jsonify([{"id": e.id, "name": e.name, "method": e.request.method, "url": e.request.url,
                         "status": e.response.status, "hits": mock.log.hits.get(e.id, 0)}
                        for e in mock.store.collection.examples])

    @admin.get(f"{ADMIN_PREFIX}/log")
    async def log() -> Any:
        unmatched = request.args.get("unmatched", "").lower() in ("1", "true", "yes")
        limit = request.args.get("limit", type=int)
        return jsonify([e.summary() for e in mock.log.recent(limit, unmatched=unmatched)])

    @admin.delete(f"{ADMIN_PREFIX}/log")
    async def clear_log() -> Any:
        mock.log.clear()
        return "", 204

    @admin.get(f"{ADMIN_PREFIX}/log/<int:seq>")
    async def explain(seq: int) -> Any:
        entry = mock.log.find(seq)
        if entry is None:
            return jsonify({"error": {"name": "logEntryNotFound",
                                      "message": f"no log entry #{seq} (the log keeps the last {mock.log.maxlen})"}}), 404
        data = entry.summary() | {"headers": entry.headers, "body": entry.body,
                                  "response": {"headers": [(k.decode(), v.decode("latin-1")) for k, v in entry.response_headers],
                                               "body": entry.response_text}}
        if entry.traceback:
            data["traceback"] = entry.traceback
        if entry.result is not None:
            data["diagnosis"] = (diagnosis(entry.result) if not entry.matched
                                 else {"candidates": [candidate_json(c) for c in entry.result.candidates]})
        return jsonify(data)

    return admin
