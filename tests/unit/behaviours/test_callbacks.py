"""Callbacks (postmock_nb.behaviours.callbacks), in-process: the allow rule, what a callback asked for becomes,
and a handler's callbacks collected by the registry (``def`` in its worker thread, ``async def`` on the loop),
dropped when it fails. Sent over real sockets: tests/server/test_callbacks.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from postmock_nb.behaviours import callbacks
from postmock_nb.behaviours.callbacks import Callback, CallbackError, allowed, build, refusal, shown_url
from postmock_nb.behaviours.handlers import Handler, HandlerRegistry, Request


@pytest.mark.parametrize(("host", "allow", "expected"), [
    ("127.0.0.1", (), True),
    ("::1", (), True),
    ("[::1]", (), True),
    ("localhost", (), True),
    ("LOCALHOST.", (), True),
    ("example.com", (), False),
    ("127.0.0.2", (), False),  # loopback is the three names, nothing looser
    ("", (), False),
    ("hooks.example.com", ("hooks.example.com",), True),
    ("Hooks.Example.com", ("hooks.example.com",), True),
    ("evil-hooks.example.com", ("hooks.example.com",), False),
    ("a.internal.example", ("*.internal.example",), True),
    ("a.b.internal.example", ("*.internal.example",), True),
    ("internal.example", ("*.internal.example",), False),  # *.domain is what is under it
    ("xinternal.example", ("*.internal.example",), False),
    ("localhost.evil.com", (), False),
])
def test_the_allow_rule(host: str, allow: tuple[str, ...], expected: bool) -> None:
    assert allowed(host, allow) is expected


def test_a_refusal_says_why_and_how_to_allow() -> None:
    hook = build("POST", "https://hooks.example.com/settled")
    reason = refusal(hook, ("other.example",))
    assert "'hooks.example.com' is not allowed" in reason and "--callback-allow hooks.example.com" in reason
    assert "other.example" in reason
    assert refusal(build("POST", "http://127.0.0.1:9/x"), ()) == ""
    assert refusal(build("POST", "https://hooks.example.com/x"), ("hooks.example.com",)) == ""


def test_build_fills_the_body_and_checks_what_it_is_given() -> None:
    hook = build("post", "http://127.0.0.1:8000/hook", json={"status": "settled", "amount": 12.5, "who": "é"},
                 headers={"X-Signature": "abc"}, delay=2)
    assert hook.method == "POST" and hook.delay_s == 2.0 and hook.host == "127.0.0.1"
    assert json.loads(hook.body) == {"status": "settled", "amount": 12.5, "who": "é"}
    assert dict(hook.headers) == {"X-Signature": "abc", "Content-Type": "application/json"}
    text = build("PUT", "http://localhost/x", data="plain", headers={"content-type": "text/plain"})
    assert text.body == b"plain" and dict(text.headers) == {"content-type": "text/plain"}
    assert build("GET", "http://localhost/x").body == b"" and build("GET", "http://localhost/x").retries == 0
    assert build("GET", "http://localhost/x", retries=3).retries == 3
    for bad in [lambda: build("BREW", "http://localhost/"), lambda: build("POST", "/relative"),
                lambda: build("POST", "ftp://localhost/x"), lambda: build("POST", "http://localhost/", delay=-1),
                lambda: build("POST", "http://localhost/", delay=True),
                lambda: build("POST", "http://localhost/", json={}, data="x"),
                lambda: build("POST", "http://localhost/", retries=6),
                lambda: build("POST", "http://localhost/", retries=True),
                lambda: build("POST", "http://localhost/", data=b"x" * (callbacks.MAX_BODY_BYTES + 1))]:
        with pytest.raises(CallbackError):
            bad()


def test_a_password_in_the_url_is_masked_in_what_is_shown() -> None:
    assert shown_url("http://127.0.0.1:9/a?b=1") == "http://127.0.0.1:9/a?b=1"
    shown = shown_url("http://ann:s3cret-password-123@127.0.0.1:9/a")
    assert "s3cret-password-123" not in shown and shown.endswith("@127.0.0.1:9/a")
    assert Callback("POST", "http://tok-abcdefghijklmnop@localhost/").shown_url.endswith("@localhost/")


def test_mock_callback_outside_a_handler_says_where_it_belongs() -> None:
    with pytest.raises(CallbackError, match="inside a handler"):
        callbacks.ask(build("POST", "http://localhost/x"))


def request(body: bytes = b'{"callback_url": "http://127.0.0.1:9/done", "id": "p1"}') -> Request:
    return Request(method="POST", path="/payments", path_vars={}, query_pairs=(), header_map={}, body=body)


@pytest.fixture
def registry() -> Any:
    registry = HandlerRegistry()
    yield registry
    registry.close()


def test_a_def_handler_asks_in_its_worker_thread(registry: HandlerRegistry) -> None:
    def pay(seen: Request) -> Any:
        callbacks.ask(build("POST", seen.json["callback_url"], json={"id": seen.json["id"]}, delay=1.5))
        seen.callback("PUT", "http://localhost/audit", data="x")
        return {"accepted": True}, 202

    outcome = asyncio.run(registry.call(Handler("pay", "pay", pay), request()))
    assert outcome.rendered.status == 202
    first, second = outcome.callbacks
    assert (first.method, first.url, first.delay_s, json.loads(first.body)) == (
        "POST", "http://127.0.0.1:9/done", 1.5, {"id": "p1"})
    assert (second.method, second.url, second.body) == ("PUT", "http://localhost/audit", b"x")


def test_an_async_handler_asks_on_the_loop(registry: HandlerRegistry) -> None:
    async def pay(seen: Request) -> Any:
        await asyncio.sleep(0)
        callbacks.ask(build("POST", seen.json["callback_url"]))
        return {"accepted": True}

    outcome = asyncio.run(registry.call(Handler("pay", "pay", pay), request()))
    assert outcome.rendered.status == 200 and [c.url for c in outcome.callbacks] == ["http://127.0.0.1:9/done"]
    with pytest.raises(CallbackError):  # the context is the call's: after it, no handler is running
        callbacks.ask(build("POST", "http://localhost/x"))


def test_a_handler_that_fails_sends_no_callback_and_a_bad_one_is_its_500(registry: HandlerRegistry) -> None:
    def fails(seen: Request) -> Any:
        callbacks.ask(build("POST", "http://localhost/x"))
        raise RuntimeError("declined")

    def bad(seen: Request) -> Any:
        callbacks.ask(build("POST", "not a url"))
        return {}

    failed = asyncio.run(registry.call(Handler("fails", "fails", fails), request()))
    assert failed.rendered.status == 500 and failed.callbacks == ()
    wrong = asyncio.run(registry.call(Handler("bad", "bad", bad), request()))
    assert wrong.rendered.status == 500 and b"absolute http(s) URL" in wrong.rendered.body and wrong.callbacks == ()


def test_a_handler_asks_for_a_bounded_number(registry: HandlerRegistry) -> None:
    def many(seen: Request) -> Any:
        for _ in range(callbacks.MAX_CALLBACKS + 1):
            seen.callback("POST", "http://localhost/x")
        return {}

    outcome = asyncio.run(registry.call(Handler("many", "many", many), request()))
    assert outcome.rendered.status == 500 and b"at most" in outcome.rendered.body


@pytest.mark.parametrize("url", ["http://[::1", "http://[not-an-ip]/x", "http://127.0.0.1:99999/", "http://localhost:x/",
                                 "http://127.0.0.1/\r\nX-Injected: 1", "http://127.0.0.1/\x00"])
def test_a_url_no_http_client_can_send_is_a_callback_error_not_a_crash(url: str) -> None:
    # a request's body fills an example's callback URL: what it holds is the caller's mistake, said in the row
    with pytest.raises(CallbackError, match="URL"):
        build("POST", url)
