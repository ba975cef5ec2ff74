"""The admin API under ``/__postmock/``: read-only views of a mock (health, examples, log, explanations,
scenarios), resets of its log and scenarios, and the writes of :mod:`~postmock_nb.serving.adminwrites`
(the collection, items, examples, resources), served by Quart, where its conveniences pay.

Writes (every method but GET, HEAD and OPTIONS) are let through by
:func:`~postmock_nb.serving.adminwrites.write_refusal` (the admin key, loopback); reads keep the mock's key.

The mock's own requests never come here (see :class:`~postmock_nb.serving.app.MockApp`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any, Protocol

from postmock_nb.answers.diagnostics import candidate_json, diagnosis
from postmock_nb.answers.responses import error_body
from postmock_nb.behaviours.dispatch import Behaviours
from postmock_nb.behaviours.sockets import frame_of, unknown_route
from postmock_nb.config import MockConfig
from postmock_nb.errors import PostmockError
from postmock_nb.matching.store import CollectionStore
from postmock_nb.serving.adminwrites import (
    ADMIN_KEY_HEADER,
    WRITE_METHODS,
    BadBody,
    parse_body,
    register_writes,
    split_brain,
    write_refusal,
)
from postmock_nb.serving.errorlog import ErrorLog
from postmock_nb.serving.journal import Batched, Journal, read
from postmock_nb.serving.problems import state_unavailable_response
from postmock_nb.serving.refusal import UNAUTHORIZED_MESSAGE, key_ok
from postmock_nb.serving.shared.connection import SharedState, StateUnavailable
from postmock_nb.serving.sockets import Connections
from postmock_nb.serving.verification import VERIFY_PATH, register_verification

ADMIN_PREFIX = "/__postmock"


class Administered(Protocol):
    """What the admin API reads of a mock (its :class:`~postmock_nb.serving.app.MockApp`), at each request."""

    store: CollectionStore
    log: Journal
    settings: MockConfig
    error_log: ErrorLog
    behaviours: Behaviours
    shared: SharedState | None

    @property
    def connections(self) -> Connections: ...

    async def broadcast(self, route: str, frame: str | bytes) -> int: ...


async def shared_health(shared: SharedState | None) -> dict[str, Any] | None:
    """``--state``: the shared state's status, Redis asked first (a PING, off the loop's hot path: the admin
    API's); None without ``--state``."""
    if shared is None:
        return None
    with contextlib.suppress(StateUnavailable):  # said by the status (available: false, the error)
        await shared.call("health", lambda client: client.ping())
    return shared.status()


def posted_broadcast(data: Any) -> tuple[str, str | bytes]:
    """The route and frame of a posted ``{"route": "/ws/chat", "message": ...}`` (a string message is sent as
    it is, anything else as JSON); BadBody saying what is wrong."""
    if not isinstance(data, dict) or set(data) - {"route", "message"} or "message" not in data:
        raise BadBody('expected {"route": "/ws/chat", "message": ...} (a string is sent as it is, anything else '
                      "as JSON)", name="invalidBroadcast")
    route = data.get("route")
    if not isinstance(route, str) or not route.startswith("/"):
        raise BadBody(f"route: a WebSocket path starting with '/', got {route!r}", name="invalidBroadcast")
    try:
        return route, frame_of(data["message"])
    except PostmockError as error:
        raise BadBody(f"message: {error}", name="invalidBroadcast") from None


def build_admin_app(mock: Administered) -> Any:
    """The Quart app behind ``/__postmock/``: read-only views of the mock, and log reset."""
    from quart import Quart, Response, jsonify, request  # deferred: quart is slow to import (admin API only)

    admin = Quart("postmock_nb.admin")
    admin.config["MAX_CONTENT_LENGTH"] = mock.settings.max_body_bytes  # posted collections: bounded like mock bodies

    @admin.before_request
    async def _check_key() -> Any:
        if request.method in WRITE_METHODS and request.path != VERIFY_PATH:  # verify POSTs a question: a read
            admin_key = request.headers.get(ADMIN_KEY_HEADER)  # Latin-1, as for x-api-key below
            refused = write_refusal(mock.settings, admin_key.encode("latin-1") if admin_key is not None else None,
                                    (request.scope.get("client") or (None,))[0], origin=request.headers.get("origin"),
                                    host=request.headers.get("host"))
            if refused is not None:
                return Response(refused.body(), status=refused.status, content_type="application/json")
            if mock.settings.admin_key is not None:
                return None  # the admin key: stronger than the mock's key, and kept apart from it
        given = request.headers.get("x-api-key")  # decoded as Latin-1 by the framework: back to the bytes received
        if request.method != "OPTIONS" and mock.settings.private and not key_ok(
                mock.settings, given.encode("latin-1") if given is not None else None):
            return jsonify({"error": {"name": "AuthenticationError", "message": UNAUTHORIZED_MESSAGE}}), 401
        return None

    @admin.errorhandler(StateUnavailable)
    async def _state_unavailable(problem: StateUnavailable) -> Any:  # --state: Redis out of reach
        response = state_unavailable_response(problem)
        return response.body, response.status, [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers]

    @admin.get(f"{ADMIN_PREFIX}/health")
    async def health() -> Any:
        state = await shared_health(mock.shared)
        down = state is not None and not state["available"]
        body: dict[str, Any] = {"status": "stateUnavailable" if down else "ok", "examples": len(mock.store.snapshot)}
        if not down:  # the counts are the shared journal's: not readable while Redis is away
            counts = await read(mock.log, mock.log.counts)
            body |= {"requests": counts.total, "misses": counts.misses} | (
                {"refused": counts.refused} if mock.settings.private else {})
        body |= ({"errors": mock.error_log.total, "websockets": mock.connections.count} | _worker_note()
                 | ({"state": state} if state is not None else {})
                 | ({"journal": mock.log.status()} if isinstance(mock.log, Batched) else {}))
        if down:  # a readiness probe takes this replica out until Redis answers again
            assert state is not None
            body["error"] = {"name": "stateUnavailable", "header": "Service Unavailable", "store": "health",
                             "message": f"the shared state is unavailable: {state.get('error')}"}
        return jsonify(body), 503 if down else 200

    @admin.get(f"{ADMIN_PREFIX}/examples")
    async def examples() -> Any:
        hits = await read(mock.log, mock.log.hit_counts)
        return _with_worker_note(jsonify([{"id": e.id, "name": e.name, "method": e.request.method,
                                           "url": e.request.url, "status": e.response.status,
                                           "hits": hits.get(e.id, 0)} for e in mock.store.collection.examples]))

    @admin.get(f"{ADMIN_PREFIX}/log")
    async def log() -> Any:
        unmatched = request.args.get("unmatched", "").lower() in ("1", "true", "yes")
        limit = request.args.get("limit", type=int)
        entries = await read(mock.log, mock.log.recent, limit, unmatched=unmatched)
        return _with_worker_note(jsonify([e.summary() for e in entries]))

    @admin.delete(f"{ADMIN_PREFIX}/log")
    async def clear_log() -> Any:
        await read(mock.log, mock.log.clear)
        return "", 204

    @admin.get(f"{ADMIN_PREFIX}/scenarios")
    async def scenarios() -> Any:  # --state: the blocking client, off the loop
        return jsonify(await _off_loop(mock.behaviours.scenario_states, mock.store.snapshot))

    @admin.delete(f"{ADMIN_PREFIX}/scenarios")
    async def reset_scenarios() -> Any:
        name = request.args.get("name")
        if name is not None:  # a name that is no scenario is a mistake to say, not a silent success
            known = await _off_loop(mock.behaviours.scenario_states, mock.store.snapshot)
            if name not in known:
                listed = ", ".join(repr(n) for n in known) or "none"
                message = f"no scenario named {name!r} (this mock's scenarios: {listed})"
                return jsonify({"error": {"name": "scenarioNotFound", "header": "Not Found", "message": message}}), 404
        await _off_loop(mock.behaviours.reset_scenarios, name)
        return "", 204

    async def _off_loop(function: Any, *args: Any) -> Any:
        """``function(*args)``: in a thread when the state is on Redis (its blocking client never blocks the
        server's loop), else here (in memory: a lock held for microseconds)."""
        if mock.shared is None:
            return function(*args)
        return await asyncio.to_thread(function, *args)

    @admin.get(f"{ADMIN_PREFIX}/log/<int:seq>")
    async def explain(seq: int) -> Any:
        entry = await read(mock.log, mock.log.find, seq)
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
        elif entry.shared_diagnosis is not None:  # another replica's miss (--state): as it worked it out, masked
            data["diagnosis"] = entry.shared_diagnosis
        return jsonify(data)

    def _worker_note() -> dict[str, Any]:
        workers = mock.settings.workers
        if workers <= 1 or isinstance(mock.log, Batched):  # a shared journal (--state): every worker's requests
            return {}
        return {"workers": workers, "worker_pid": os.getpid(),
                "scope": f"this worker only: {workers} worker processes share the port, each with its own log"}

    def _with_worker_note(response: Any) -> Any:
        if mock.settings.workers > 1 and not isinstance(mock.log, Batched):
            response.headers["x-postmock-workers"] = str(mock.settings.workers)
            response.headers["x-postmock-scope"] = f"one worker of {mock.settings.workers} (pid {os.getpid()})"
        return response

    @admin.post(f"{ADMIN_PREFIX}/broadcast")
    async def broadcast() -> Any:
        refused = split_brain(mock.settings)  # each worker its own sockets, and no stream between them
        if refused is not None:
            return Response(refused.body(), status=refused.status, content_type="application/json")
        body = await request.get_data(cache=False)
        assert isinstance(body, bytes)
        try:
            if not body.strip():
                raise BadBody('the body is empty: post {"route": "/ws/chat", "message": ...}', name="invalidBroadcast")
            route, frame = posted_broadcast(parse_body(body, request.headers.get("content-type", "")))
        except BadBody as problem:
            return Response(error_body(problem.name, "Bad Request", problem.message, fields=problem.fields),
                            status=problem.status, content_type="application/json")
        sent = await mock.broadcast(route, frame)
        unknown = unknown_route(route, mock.store.collection) if not sent else ""
        if unknown:
            error = {"name": "webSocketRouteNotFound", "header": "Not Found", "message": unknown}
            return jsonify({"error": error}), 404
        return jsonify({"route": route, "sent": sent} | ({"shared": True} if mock.shared is not None else {}))

    register_writes(admin, mock)
    register_verification(admin, mock)  # GET /__postmock/requests, POST /__postmock/verify
    return admin
