"""Python handlers (postmock_nb.behaviours.handlers), in-process: what a handler receives (:class:`Request`), how its
return value becomes HTTP (:func:`to_rendered`), and the registry calling it — its answer, a 400 for a body the
caller sent wrong, a 500 naming what it raised, a 504 past its timeout — on an asyncio loop, no socket.
Over real sockets, through the Session and the magics: tests/server/test_behaviours.py."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from postmock_nb.behaviours.handlers import (
    BLOCKING_WARN_S,
    BadRequestBody,
    Handler,
    HandlerRegistry,
    HandlerReturnError,
    Outcome,
    Rendered,
    Reply,
    Request,
    blocking_warning,
    to_rendered,
)


def request(body: bytes = b"", query: tuple[tuple[str, str], ...] = (), headers: dict[str, str] | None = None) -> Request:
    return Request(method="POST", path="/users/7", path_vars={"id": "7"}, query_pairs=query,
                   header_map=headers or {}, body=body, variables={"base": "v1"})


def test_a_request_reads_its_query_headers_and_body() -> None:
    seen = request(b'{"name": "\xc3\xa9"}', query=(("tag", "a"), ("tag", "b"), ("empty", "")),
                   headers={"content-type": "application/json"})
    assert seen.query == {"tag": ["a", "b"], "empty": [""]}
    assert seen.arg("tag") == "a" and seen.arg("missing") is None and seen.arg("missing", "x") == "x"
    assert seen.headers["Content-Type"] == "application/json" and len(seen.headers) == 1
    assert list(seen.headers) == ["content-type"]
    assert seen.text == '{"name": "é"}' and seen.json == {"name": "é"}
    assert request(b"  ").json is None
    assert request(b"a=1&b=&a=2").form == {"a": ["1", "2"], "b": [""]}
    assert request(b"\xff").text == "\ufffd"


@pytest.mark.parametrize("body", [b"{", b'{"a": NaN}', b"1e400", b"[" * 5000 + b"]" * 5000])
def test_a_body_the_mock_cannot_read_as_json_is_the_callers_mistake(body: bytes) -> None:
    with pytest.raises(BadRequestBody, match="the request body is not JSON the mock can read"):
        _ = request(body).json


@pytest.mark.parametrize(("value", "status", "headers", "body"), [
    ({"a": "é"}, 200, (("content-type", "application/json"),), '{"a": "é"}'.encode()),
    ([1, 2], 200, (("content-type", "application/json"),), b"[1, 2]"),
    ("hi", 200, (("content-type", "text/plain; charset=utf-8"),), b"hi"),
    (b"\x00\x01", 200, (("content-type", "application/octet-stream"),), b"\x00\x01"),
    (("made", 201), 201, (("content-type", "text/plain; charset=utf-8"),), b"made"),
    (({"e": 1}, 409, {"X-Why": "taken"}), 409, (("X-Why", "taken"), ("content-type", "application/json")), b'{"e": 1}'),
    (("<p>", 200, {"Content-Type": "text/html"}), 200, (("Content-Type", "text/html"),), b"<p>"),
    (Reply({"error": "no"}, 422, {"X-A": 1}), 422, (("X-A", "1"), ("content-type", "application/json")),
     b'{"error": "no"}'),
    ((None, 204), 204, (), b""),
])
def test_to_rendered(value: Any, status: int, headers: tuple[tuple[str, str], ...], body: bytes) -> None:
    assert to_rendered(value, "h") == Rendered(status, headers, body)


@pytest.mark.parametrize(("value", "says"), [
    (("x", 99), "returned status 99"), (("x", True), "returned status True"), (Reply("x", 600), "returned status 600"),
    ({"n": float("nan")}, "a dict that is not JSON"),
    ({"o": object()}, "a dict that is not JSON"), (42, "returned int 42: return a dict or list"),
    (None, "returned NoneType None"),
])
def test_to_rendered_refuses_what_is_not_a_response(value: Any, says: str) -> None:
    with pytest.raises(HandlerReturnError, match=says):
        to_rendered(value, "h")


def test_an_outcome_notes_its_times_its_error_and_a_blocked_loop() -> None:
    quick = Outcome(Rendered(200, (), b""), 1.0, wait_ms=2.0, run_ms=0.44)
    assert quick.note("get_user") == "handler get_user ran 0.4 ms, waited 2.0 ms in the queue"
    assert not quick.blocked_loop
    blocked = Outcome(Rendered(500, (), b""), 1.0, error="ValueError: x", blocked_ms=BLOCKING_WARN_S * 1000)
    assert blocked.blocked_loop
    assert blocked.note("h").endswith(" — ValueError: x — " + blocking_warning(BLOCKING_WARN_S * 1000))
    assert blocking_warning(250).startswith("blocked the server's loop for 250 ms without awaiting")


def test_the_registry_registers_replaces_and_removes_by_key() -> None:
    registry = HandlerRegistry()
    try:
        first, second = Handler("k", "first", lambda r: "1"), Handler("k", "second", lambda r: "2")
        assert registry.register(first) is None and registry.register(second) is first
        assert registry.get("k") is second and list(registry) == [second] and len(registry) == 1
        assert registry.remove("k") is second and registry.remove("k") is None and len(registry) == 0
        assert registry.waiting == 0 and registry.warnings() == []
    finally:
        registry.close()


def run(registry: HandlerRegistry, handler: Handler, seen: Request | None = None) -> tuple[Outcome, Any]:
    outcome = asyncio.run(registry.call(handler, seen or request()))
    body = outcome.rendered.body
    return outcome, json.loads(body) if body and outcome.rendered.status >= 400 else body


@pytest.fixture
def registry() -> Any:
    handlers = HandlerRegistry()
    yield handlers
    handlers.close()


def test_a_plain_def_and_an_async_def_answer_and_are_counted(registry: HandlerRegistry) -> None:
    def greet(req: Request) -> dict[str, str]:
        return {"hello": req.path_vars["id"], "base": req.variables["base"]}

    async def agreet(req: Request) -> tuple[str, int]:
        await asyncio.sleep(0)
        return f"id {req.path_vars['id']}", 202

    for function, status, body in ((greet, 200, b'{"hello": "7", "base": "v1"}'), (agreet, 202, b"id 7")):
        handler = Handler(function.__name__, function.__name__, function)
        outcome, answer = run(registry, handler)
        assert (outcome.rendered.status, answer, outcome.error) == (status, body, "")
        assert handler.calls == 1 and handler.last == outcome.rendered and handler.last_error == ""
        assert handler.is_async is (function is agreet)


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_what_a_handler_raises_is_its_callers_500(registry: HandlerRegistry, kind: str) -> None:
    def boom(req: Request) -> None:
        raise SystemExit("bye") if req.arg("exit") else ValueError("broken on purpose")

    async def aboom(req: Request) -> None:
        boom(req)

    function = boom if kind == "def" else aboom
    handler = Handler("k", "boom", function)
    outcome, answer = run(registry, handler)
    assert outcome.rendered.status == 500 and outcome.error == "ValueError: broken on purpose"
    assert answer["error"] == {"name": "mockHandlerError", "header": "Internal Server Error",
                               "message": "handler 'boom' raised ValueError: broken on purpose",
                               "handler": "boom", "exception": "ValueError", "detail": "broken on purpose"}
    assert "Traceback" in outcome.traceback and handler.last is None and handler.last_error == outcome.error
    exited, answer = run(registry, handler, request(query=(("exit", "1"),)))
    assert exited.rendered.status == 500 and answer["error"]["exception"] == "SystemExit"


def test_a_body_the_handler_cannot_read_is_a_400_and_a_bad_return_a_500(registry: HandlerRegistry) -> None:
    reads = Handler("r", "reads", lambda req: req.json)
    outcome, answer = run(registry, reads, request(b"{not json"))
    assert outcome.rendered.status == 400 and answer["error"]["name"] == "mockBadRequestBody"
    assert "(read by handler 'reads')" in answer["error"]["message"]
    wrong = Handler("w", "wrong", lambda req: 42)
    outcome, answer = run(registry, wrong)
    assert outcome.rendered.status == 500 and answer["error"]["name"] == "mockHandlerReturn"


def test_past_its_timeout_a_handler_answers_504(registry: HandlerRegistry) -> None:
    release = threading.Event()

    async def never(req: Request) -> None:
        await asyncio.Event().wait()

    try:
        for function in (lambda req: release.wait(30), never):
            handler = Handler("slow", "slow", function, timeout_s=0.05)
            outcome, answer = run(registry, handler)
            assert outcome.rendered.status == 504 and answer["error"]["name"] == "mockHandlerTimeout"
            assert answer["error"]["message"] == "handler 'slow' did not answer within 0.05 s"
    finally:
        release.set()
