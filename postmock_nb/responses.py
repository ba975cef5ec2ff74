"""Turning a matched example into HTTP status, headers and body bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass

from . import limits, wire
from .matching import IncomingRequest, MatchResult
from .model import Example, ResponseSpec
from .snapshot import Snapshot
from .templating import RenderContext, has_placeholders, render

Headers = list[tuple[bytes, bytes]]
SKIPPED_HEADERS = wire.COMPUTED_HEADERS
"""Headers saved with an example that would be wrong on our response (see :mod:`postmock_nb.wire`)."""
MAX_CACHED_RESPONSES = 4096
"""Static responses kept per snapshot beyond one per example (a distinct score each: bounded)."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Headers
    body: bytes


def content_type_for(response: ResponseSpec) -> str:
    """The example's Content-Type, or one inferred from its body and preview language."""
    declared = response.header("content-type")
    if declared:
        return declared
    language = response.preview_language.lower()
    stripped = response.body.lstrip()
    if language == "json" or (not language and stripped[:1] in ("{", "[") and _is_json(response.body)):
        return "application/json"
    if language == "html" or (not language and stripped[:15].lower().startswith(("<!doctype html", "<html"))):
        return "text/html; charset=utf-8"
    if language == "xml" or (not language and stripped.startswith("<?xml")):
        return "application/xml"
    return "text/plain; charset=utf-8"


def _is_json(text: str) -> bool:
    try:
        limits.loads(text)  # nested too deep: not served as JSON
    except ValueError:
        return False
    return True


def _headers(example: Example, content_type: str, score: int | None, extra: Headers,
             own: Headers | None = None) -> Headers:
    """Every header of the response; ``own`` (the example's, already made safe) when rendered."""
    headers = wire.saved_headers(example.response.headers) if own is None else own
    headers.append((b"content-type", wire.content_type_value(content_type)))
    headers.append((b"x-mock-example-id", wire.label(example.id)))
    headers.append((b"x-mock-example-name", wire.label(example.name)))
    if score is not None:
        headers.append((b"x-mock-score", str(score).encode()))
    return headers + extra


def unsendable_response(example: Example, problem: str, extra: Headers | None = None) -> HttpResponse:
    """The answer for an example HTTP cannot send (a 1xx status): an explaining 500, never a broken one."""
    return json_response(500, {"error": {"name": "mockExampleUnsendable", "header": "Example cannot be sent",
                                         "message": f'example "{wire.shorten(example.name, 80)[1:-1]}": {problem}'}},
                         extra or [])


def build_response(result: MatchResult, snapshot: Snapshot, extra: Headers = ()) -> HttpResponse:
    """The HTTP response for a matched request; static responses are built once per snapshot."""
    example = result.winner
    assert example is not None, "build_response needs a match"
    key = (example.id, result.score, tuple(extra))  # cached whole, extra headers included: shared, never changed
    cache = snapshot.response_cache
    cached = cache.get(key)
    if isinstance(cached, HttpResponse):
        return cached
    response = example.response
    plan = cache.get(example.id)  # (content type, dynamic?, body bytes): worked out once per example
    if not isinstance(plan, tuple):
        plan = (content_type_for(response),
                has_placeholders(response.body) or any(has_placeholders(v) for _, v in response.headers),
                response.body.encode("utf-8"))
        cache[example.id] = plan
    content_type, dynamic, static_body = plan
    problem = wire.status_problem(response.status)
    if problem:
        return unsendable_response(example, problem, list(extra))
    if not dynamic:
        built = HttpResponse(response.status, _headers(example, content_type, result.score, list(extra)),
                             static_body)  # one body copy per example, whatever the score
        if len(cache) < MAX_CACHED_RESPONSES + 2 * len(snapshot):
            cache[key] = built
        return built
    ctx = _render_context(result.request, result, snapshot)
    body = render(response.body, ctx, json_body="json" in content_type.lower())
    rendered = tuple((k, render(v, ctx)) for k, v in response.headers)
    own = wire.echoed_headers(rendered, response.headers)  # raises UnsafeEcho: the request's mistake
    return HttpResponse(response.status, _headers(example, content_type, result.score, list(extra), own),
                        body.encode("utf-8"))


def _render_context(request: IncomingRequest, result: MatchResult, snapshot: Snapshot) -> RenderContext:
    return RenderContext(path=request.path, query=request.query, headers=request.headers, body=request.body,
                         captured=result.captured, variables=snapshot.variables)


def json_response(status: int, data: object, extra: Headers = ()) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    return HttpResponse(status, [(b"content-type", b"application/json")] + list(extra), body)
