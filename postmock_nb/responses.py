"""Turning a matched example into HTTP status, headers and body bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from .matching import IncomingRequest, MatchResult
from .model import Example, ResponseSpec
from .snapshot import Snapshot
from .templating import RenderContext, has_placeholders, render

Headers = list[tuple[bytes, bytes]]
SKIPPED_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive",
                             "date", "server"})
"""Headers saved with an example that would be wrong on our response: we compute them (the HTTP
server adds its own Date and Server; a replayed recording would send each field twice)."""


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
        json.loads(text)
    except ValueError:
        return False
    return True


def _header_value(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return quote(value, safe=" !#$&'()*+,/:;=?@[]~").encode("latin-1")


def _headers(example: Example, content_type: str, score: int | None, extra: Headers) -> Headers:
    headers = [(k.lower().encode("latin-1"), _header_value(v)) for k, v in example.response.headers
               if k.lower() not in SKIPPED_HEADERS and k.lower() != "content-type"]
    headers.append((b"content-type", _header_value(content_type)))
    headers.append((b"x-mock-example-id", _header_value(example.id)))
    headers.append((b"x-mock-example-name", _header_value(example.name)))
    if score is not None:
        headers.append((b"x-mock-score", str(score).encode()))
    return headers + extra


def build_response(result: MatchResult, snapshot: Snapshot, extra: Headers = ()) -> HttpResponse:
    """The HTTP response for a matched request; static responses are built once per snapshot."""
    example = result.winner
    assert example is not None, "build_response needs a match"
    key = (example.id, result.score, tuple(extra))  # cached whole, extra headers included: shared, never changed
    cached = snapshot.response_cache.get(key)
    if isinstance(cached, HttpResponse):
        return cached
    response = example.response
    plan = snapshot.response_cache.get(example.id)  # (content type, dynamic?): worked out once per example
    if not isinstance(plan, tuple):
        plan = (content_type_for(response),
                has_placeholders(response.body) or any(has_placeholders(v) for _, v in response.headers))
        snapshot.response_cache[example.id] = plan
    content_type, dynamic = plan
    if not dynamic:
        built = HttpResponse(response.status, _headers(example, content_type, result.score, list(extra)),
                             response.body.encode("utf-8"))
        snapshot.response_cache[key] = built
        return built
    ctx = _render_context(result.request, result, snapshot)
    body = render(response.body, ctx, json_body="json" in content_type.lower())
    rendered = Example(example.name, example.request,
                       ResponseSpec(response.status, response.reason,
                                    tuple((k, render(v, ctx)) for k, v in response.headers), body,
                                    response.preview_language), example.id)
    return HttpResponse(response.status, _headers(rendered, content_type, result.score, list(extra)),
                        body.encode("utf-8"))


def _render_context(request: IncomingRequest, result: MatchResult, snapshot: Snapshot) -> RenderContext:
    return RenderContext(path=request.path, query=request.query, headers=request.headers, body=request.body,
                         captured=result.captured, variables=snapshot.variables)


def json_response(status: int, data: object, extra: Headers = ()) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    return HttpResponse(status, [(b"content-type", b"application/json")] + list(extra), body)
