"""Turning a matched example into HTTP status, headers and body bytes.

What may go on the wire is decided by :mod:`postmock_nb.core.wire`: saved headers that HTTP cannot
carry are dropped, names in ``x-mock-example-*`` are made safe, echoed values holding control
characters are the request's mistake (a 400), and a 1xx example answers an explaining 500.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from postmock_nb.answers.templating import RenderContext, has_placeholders, render
from postmock_nb.core import wire
from postmock_nb.core.bodies import is_json, looks_like_json
from postmock_nb.core.model import Example, ResponseSpec
from postmock_nb.core.selectors import EXAMPLE_ID_HEADER, EXAMPLE_NAME_HEADER, SCORE_HEADER
from postmock_nb.matching import IncomingRequest, MatchResult
from postmock_nb.matching.persnapshot import PerSnapshot
from postmock_nb.matching.snapshot import Snapshot

Headers = list[tuple[bytes, bytes]]
Framed = tuple[Headers, bytes]
"""The headers (Content-Length set) and body bytes that go out."""
ExtraHeaders = Sequence[tuple[bytes, bytes]]
SKIPPED_HEADERS = wire.COMPUTED_HEADERS
"""Headers saved with an example that would be wrong on our response (see :mod:`postmock_nb.core.wire`)."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Headers
    body: bytes
    frames: tuple[Framed, Framed] | None = field(default=None, compare=False)
    """Its :func:`wire.frame` for GET (any method but HEAD) and for HEAD, worked out once for a cached response."""

    def framed(self, method: str) -> Framed:
        """The headers (Content-Length set) and body bytes that go out for ``method``."""
        if self.frames is not None:
            return self.frames[1] if method == "HEAD" else self.frames[0]
        return wire.frame(self.status, self.headers, self.body, method)

    def with_frames(self) -> HttpResponse:
        """This response with its frames worked out: what a cache keeps (shared, never changed)."""
        return HttpResponse(self.status, self.headers, self.body,
                            (wire.frame(self.status, self.headers, self.body, "GET"),
                             wire.frame(self.status, self.headers, self.body, "HEAD")))


def content_type_for(response: ResponseSpec) -> str:
    """The example's Content-Type, or one inferred from its body and preview language."""
    declared = response.header("content-type")
    if declared:
        return declared
    language = response.preview_language.lower()
    stripped = response.body.lstrip()
    if language == "json" or (not language and looks_like_json(stripped) and is_json(response.body)):
        return "application/json"
    if language == "html" or (not language and stripped[:15].lower().startswith(("<!doctype html", "<html"))):
        return "text/html; charset=utf-8"
    if language == "xml" or (not language and stripped.startswith("<?xml")):
        return "application/xml"
    return "text/plain; charset=utf-8"


def _headers(example: Example, content_type: str, score: int | None, extra: ExtraHeaders,
             own: Headers | None = None) -> Headers:
    """Every header of the response; ``own`` (the example's, already made safe) when rendered."""
    headers = wire.saved_headers(example.response.headers) if own is None else own
    headers.append((b"content-type", wire.content_type_value(content_type)))
    headers.append((EXAMPLE_ID_HEADER.encode(), wire.label(example.id)))
    headers.append((EXAMPLE_NAME_HEADER.encode(), wire.label(example.name)))
    if score is not None:
        headers.append((SCORE_HEADER.encode(), str(score).encode()))
    return headers + list(extra)


class ResponsePlan(NamedTuple):
    """What is worked out once per example: its content type, whether it renders per request, its body
    bytes (one copy per example, whatever the score) and why HTTP cannot send it (a 1xx status)."""

    content_type: str
    dynamic: bool
    body: bytes
    unsendable: str


def plan_for(response: ResponseSpec) -> ResponsePlan:
    return ResponsePlan(content_type_for(response),
                        has_placeholders(response.body) or any(has_placeholders(v) for _, v in response.headers),
                        response.body.encode("utf-8"), wire.status_problem(response.status))


_ResponseKey = tuple[str, "int | None", tuple[tuple[bytes, bytes], ...]]


@dataclass
class _Cached:
    """What a :class:`ResponseCache` keeps for one snapshot."""

    plans: dict[str, ResponsePlan] = field(default_factory=dict)
    responses: dict[_ResponseKey, HttpResponse] = field(default_factory=dict)


class ResponseCache:
    """Plans and pre-encoded static responses for the snapshot being served. Owned by the app, one per run.

    Keyed by example (and score and extra headers); emptied when the snapshot changes (a
    :class:`~postmock_nb.matching.persnapshot.PerSnapshot`), and when it holds ``maxsize`` responses (a
    collection with more static examples than that re-encodes some). Cached responses are shared and
    never changed. Used from the app's one event loop only.
    """

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._kept: PerSnapshot[_Cached] = PerSnapshot(_Cached)

    def response(self, snapshot: Snapshot, key: _ResponseKey) -> HttpResponse | None:
        """The response kept for ``key`` while serving ``snapshot`` (a newer snapshot empties the cache)."""
        held = self._kept.held  # PerSnapshot.get, inlined: this runs on every request
        kept = held[1] if held is not None and held[0] == snapshot.version else self._kept.renew(snapshot)
        return kept.responses.get(key)

    def plan(self, example: Example) -> ResponsePlan:
        """The example's plan, worked out on first need (call :meth:`response` first: it follows the snapshot)."""
        held = self._kept.held  # PerSnapshot.peek, inlined: a templated example comes here on every request
        plans = held[1].plans if held is not None else {}  # before any response(): nothing to keep it for
        plan = plans.get(example.id)
        if plan is None:
            plan = plans[example.id] = plan_for(example.response)
        return plan

    def keep(self, key: _ResponseKey, response: HttpResponse) -> HttpResponse:
        """Keep ``response`` for ``key``, framed once: the response to send (and to send again)."""
        now = self._now()
        if len(now.responses) >= self.maxsize:
            now.responses = {}
        kept = now.responses[key] = response.with_frames()
        return kept

    def _now(self) -> _Cached:
        kept = self._kept.peek()
        return kept if kept is not None else _Cached()  # before any response(): nothing to keep it for

    def __len__(self) -> int:
        kept = self._kept.peek()
        return len(kept.responses) if kept is not None else 0


def unsendable_response(example: Example, problem: str, extra: ExtraHeaders = ()) -> HttpResponse:
    """The answer for an example HTTP cannot send (a 1xx status): an explaining 500, never a broken one."""
    return error_response(500, "mockExampleUnsendable", "Example cannot be sent",
                          f'example "{wire.shorten(example.name, 80)[1:-1]}": {problem}', extra=extra)


def build_response(result: MatchResult, snapshot: Snapshot, extra: ExtraHeaders = (),
                   cache: ResponseCache | None = None) -> HttpResponse:
    """The HTTP response for a matched request; static responses are built once per snapshot (with a cache)."""
    example = result.winner
    assert example is not None, "build_response needs a match"
    cache = cache if cache is not None else ResponseCache()
    key = (example.id, result.score, tuple(extra))  # cached whole, extra headers included: shared, never changed
    cached = cache.response(snapshot, key)
    if cached is not None:
        return cached
    plan = cache.plan(example)
    response = example.response
    if plan.unsendable:
        return unsendable_response(example, plan.unsendable, extra)
    if not plan.dynamic:
        built = HttpResponse(response.status, _headers(example, plan.content_type, result.score, extra), plan.body)
        return cache.keep(key, built)
    ctx = _render_context(result.request, result, snapshot)
    body = render(response.body, ctx, json_body="json" in plan.content_type.lower())
    rendered = tuple((k, render(v, ctx)) for k, v in response.headers)
    own = wire.echoed_headers(rendered, response.headers)  # raises UnsafeEcho: the request's mistake
    return HttpResponse(response.status, _headers(example, plan.content_type, result.score, extra, own),
                        body.encode("utf-8"))


def render_context(result: MatchResult, snapshot: Snapshot) -> RenderContext:
    """What the placeholders of ``result``'s answer may refer to (a stream's, filled per event)."""
    return _render_context(result.request, result, snapshot)


def _render_context(request: IncomingRequest, result: MatchResult, snapshot: Snapshot) -> RenderContext:
    return RenderContext(path=request.path, query=request.query, headers=request.headers, body=request.body,
                         captured=result.captured, variables=snapshot.variables)


def json_response(status: int, data: object, extra: ExtraHeaders = ()) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    return HttpResponse(status, [(b"content-type", b"application/json")] + list(extra), body)


def error_response(status: int, name: str, header: str, message: str, *, fields: Mapping[str, object] | None = None,
                   extra: ExtraHeaders = ()) -> HttpResponse:
    """The mock's own JSON error, in its one shape: ``{"error": {"name", "header", "message", ...fields}}``.

    ``name`` is a machine-readable id (``mockRequestTooLarge``), ``header`` a short title (an HTTP
    reason or Postman's wording), ``message`` the explanation; ``fields`` adds more (``violations``).
    """
    return HttpResponse(status, [(b"content-type", b"application/json"), *extra],
                        error_body(name, header, message, fields=fields))


def error_body(name: str, header: str, message: str, *, fields: Mapping[str, object] | None = None) -> bytes:
    """The body of every JSON error the mock makes itself (the app, a handler, the proxy): one shape."""
    error: dict[str, object] = {"name": name, "header": header, "message": message}
    if fields:
        error.update(fields)
    return json.dumps({"error": error}, ensure_ascii=False, indent=2).encode("utf-8")
