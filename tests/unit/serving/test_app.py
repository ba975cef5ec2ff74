"""The ASGI app (postmock_nb.serving.app.MockApp), driven in-process through httpx: no sockets."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import pytest

from postmock_nb.answers.diagnostics import POSTMAN_NOT_FOUND
from postmock_nb.answers.responses import content_type_for
from postmock_nb.config import MockConfig
from postmock_nb.core.model import Collection, ResponseSpec
from postmock_nb.matching.store import LiveCollection
from postmock_nb.serving.app import MockApp
from postmock_nb.serving.requestlog import RequestLog

pytestmark = pytest.mark.anyio
KEY = "PMAK-test-key"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_app(collection: Collection, *, log_size: int = 1000, **settings) -> MockApp:
    return MockApp(LiveCollection(collection), log=RequestLog(log_size), settings=MockConfig(**settings))


@asynccontextmanager
async def client(app: MockApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as http:
        yield http


def shown(response: httpx.Response) -> str:
    """The response in one string, for assertion messages."""
    return f"{response.request.method} {response.request.url} → {response.status_code} {dict(response.headers)}\n{response.text[:800]}"


@pytest.fixture
def users(build) -> Collection:
    return build.collection(
        build.example("GET /users", "list", body='[{"id": 1}]',
                      headers={"Content-Length": "999", "Content-Encoding": "gzip", "Transfer-Encoding": "chunked",
                               "Connection": "close", "X-Total": "1", "Set-Cookie": "s=1"}),
        build.example("GET /users/:id", "one", body='{"id": "{{id}}", "q": "{{$queryParams \'q\'}}"}',
                      preview_language="json"),
        build.example("GET /users/:id", "gone", status=404, body='{"error": "gone"}'),
        build.example("POST /users", "created", status=201, body="created {{$body 'name'}}",
                      headers={"Content-Type": "text/plain; charset=utf-8", "Location": "/users/2"}),
        build.example("GET /text", "text", body="plain words"),
    )


# -- a match ------------------------------------------------------------------------------------


async def test_match_status_headers_and_body(users):
    app = make_app(users)
    async with client(app) as http:
        response = await http.get("/users")
    assert response.status_code == 200, shown(response)
    assert response.json() == [{"id": 1}], shown(response)
    headers = response.headers
    assert headers["content-type"] == "application/json", shown(response)      # inferred from the body
    assert (headers["x-total"], headers["set-cookie"]) == ("1", "s=1"), shown(response)  # saved headers replayed
    assert (headers["x-mock-example-name"], headers["x-mock-score"]) == ("list", "100"), shown(response)
    assert headers["x-mock-example-id"] == users.examples[0].id
    assert headers["access-control-allow-origin"] == "*", shown(response)
    # saved framing headers describe the recorded response, not ours: never replayed
    assert headers["content-length"] == str(len(response.content)), shown(response)
    assert "content-encoding" not in headers and "transfer-encoding" not in headers, shown(response)
    assert headers.get("connection") != "close", shown(response)


async def test_dynamic_body_with_wildcard_echo_and_declared_type(users):
    async with client(make_app(users)) as http:
        one = await http.get("/users/42?q=hi")
        created = await http.post("/users", json={"name": "Ann"})
    assert (one.status_code, one.json()) == (200, {"id": "42", "q": "hi"}), shown(one)
    assert one.headers["content-type"] == "application/json"
    assert (created.status_code, created.text) == (201, "created Ann"), shown(created)
    assert created.headers["content-type"] == "text/plain; charset=utf-8"
    assert created.headers["location"] == "/users/2"


@pytest.mark.parametrize("body, language, declared, expected", [
    ('{"a": 1}', "", None, "application/json"),
    ("[1, 2]", "", None, "application/json"),
    ("  {\n}", "", None, "application/json"),
    ("{not json", "", None, "text/plain; charset=utf-8"),
    ("", "json", None, "application/json"),
    ("hello", "", None, "text/plain; charset=utf-8"),
    ("<!DOCTYPE html><html></html>", "", None, "text/html; charset=utf-8"),
    ("<p>hi</p>", "html", None, "text/html; charset=utf-8"),
    ('<?xml version="1.0"?><a/>', "", None, "application/xml"),
    ("<a/>", "xml", None, "application/xml"),
    ('{"a": 1}', "json", "application/vnd.api+json", "application/vnd.api+json"),
    ("x", "", "text/csv", "text/csv"),
])
def test_content_type_inference(body, language, declared, expected):
    spec = ResponseSpec(body=body, preview_language=language, headers=(("Content-Type", declared),) if declared else ())
    assert content_type_for(spec) == expected, f"body {body!r}, preview language {language!r}, declared {declared!r}"


async def test_fixture_served_through_the_app(load_fixture):
    app = make_app(load_fixture("wildcard-variables-test.json"))
    async with client(app) as http:
        response = await http.get("/users/fred")
    data = response.json()
    assert (response.status_code, data["name"], type(data["id"])) == (200, "fred", int), shown(response)


async def test_dotted_key_echo_with_body_matching(load_fixture):
    app = make_app(load_fixture("test-with-variables.json"), match_body=True)
    async with client(app) as http:
        response = await http.post("/post", json={"user.name": "Sonya"})
    assert response.json()["response"] == "dot-in-key-name", shown(response)
    assert response.json()["bodyName"] == "Sonya", shown(response)


async def test_selectors_as_query_parameters(users):
    async with client(make_app(users)) as http:
        by_header = await http.get("/users/7", headers={"x-mock-response-code": "404"})
        by_query = await http.get("/users/7?x-mock-response-name=gone")
    for response in (by_header, by_query):
        assert (response.status_code, response.json()) == (404, {"error": "gone"}), shown(response)


async def test_a_url_matches_itself(build):
    """Saved as Postman writes it (encoded), requested the same way: exact path, both parameters equal."""
    app = make_app(build.collection(build.example("GET /files/my%20report.txt?q=a+b&tag=c%2B%2B", "file")))
    async with client(app) as http:
        response = await http.get("/files/my%20report.txt?q=a+b&tag=c%2B%2B")
    assert (response.status_code, response.headers["x-mock-score"]) == (200, "120"), shown(response)


async def test_non_latin1_header_values_are_encoded(build):
    app = make_app(build.collection(build.example("GET /x", "x", headers={"X-Name": "Zoë ✓"})))
    async with client(app) as http:
        response = await http.get("/x")
    assert response.headers["x-name"] == "Zo%C3%AB %E2%9C%93", shown(response)


# -- no match -----------------------------------------------------------------------------------


async def test_404_has_postmans_body_and_a_diagnosis(users):
    app = make_app(users)
    async with client(app) as http:
        response = await http.get("/accounts/7?q=1")
    assert response.status_code == 404, shown(response)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    data = response.json()
    assert data["error"] == {"name": "mockRequestNotFoundError",
                             "message": "Double check your method and the request path and try again.",
                             "header": "No matching requests"} == POSTMAN_NOT_FOUND, shown(response)
    diagnosis = data["diagnosis"]
    assert diagnosis["request"] == {"method": "GET", "path": "/accounts/7", "query": [["q", "1"]]}
    assert diagnosis["reason"] == "no example for this method and path"
    closest = diagnosis["closest"][0]
    assert (closest["name"], closest["path"]) == ("one", "/users/:id"), json.dumps(diagnosis, indent=1)
    parts = {(d["part"], d["note"]) for d in closest["differences"]}
    assert ("path", "does not match") in parts and ("query", "not in the example") in parts, parts
    assert "<<<<< path does not match" in diagnosis["text"], diagnosis["text"]


async def test_404_diagnosis_marks_the_method(users):
    async with client(make_app(users)) as http:
        response = await http.delete("/users")
    diagnosis = response.json()["diagnosis"]
    assert diagnosis["reason"] == "no example for method DELETE", diagnosis
    assert diagnosis["closest"][0]["differences"][0] == {
        "part": "method", "name": "", "expected": "GET", "actual": "DELETE", "points": 0, "note": "GET expected"}
    assert "<<<<< method does not match" in diagnosis["text"], diagnosis["text"]


async def test_404_on_an_empty_collection():
    async with client(make_app(Collection())) as http:
        response = await http.get("/")
    assert response.status_code == 404
    assert "The collection has no examples yet." in response.json()["diagnosis"]["text"]


# -- private mode, CORS -------------------------------------------------------------------------


@pytest.mark.parametrize("headers, status, reason", [
    ({}, 401, "missing x-api-key header"),
    ({"x-api-key": "wrong"}, 401, "wrong x-api-key"),
    ({"x-api-key": ""}, 401, "wrong x-api-key"),
    ({"x-api-key": KEY}, 200, None),
])
async def test_private_mode(users, headers, status, reason):
    async with client(make_app(users, private=True, api_key=KEY)) as http:
        response = await http.get("/users", headers=headers)
    assert response.status_code == status, shown(response)
    if reason:
        error = response.json()["error"]
        assert error["name"] == "AuthenticationError", shown(response)
        assert error["message"] == f"This mock is private: send its key in the x-api-key header. ({reason})"
        assert response.headers["access-control-allow-origin"] == "*"   # so a browser can read the 401


async def test_private_key_only_in_the_header(users):
    async with client(make_app(users, private=True, api_key=KEY)) as http:
        response = await http.get(f"/users?x-api-key={KEY}")
    assert response.status_code == 401, shown(response)


async def test_preflight(users):
    preflight = {"origin": "http://localhost:8888", "access-control-request-method": "POST",
                 "access-control-request-headers": "content-type, x-mock-response-name"}
    for app in (make_app(users), make_app(users, private=True, api_key=KEY)):  # no key needed for a preflight
        async with client(app) as http:
            response = await http.options("/anything/at/all", headers=preflight)
        assert (response.status_code, response.content) == (204, b""), shown(response)
        assert response.headers["access-control-allow-origin"] == "http://localhost:8888"
        assert response.headers["access-control-allow-headers"] == "content-type, x-mock-response-name"
        assert "POST" in response.headers["access-control-allow-methods"]


async def test_options_without_preflight_headers_is_matched_like_any_request(users):
    async with client(make_app(users, private=True, api_key=KEY)) as http:
        response = await http.options("/users")
    assert response.status_code == 401, shown(response)


async def test_cors_off(users):
    async with client(make_app(users, cors=False)) as http:
        matched = await http.get("/users")
        preflight = await http.options("/users", headers={"origin": "http://x", "access-control-request-method": "GET"})
    assert "access-control-allow-origin" not in matched.headers, shown(matched)
    assert preflight.status_code == 404, shown(preflight)   # no OPTIONS example: an ordinary miss


# -- x-mock-* validation, delay, HEAD, body size ------------------------------------------------


@pytest.mark.parametrize("name, value, message", [
    ("x-mock-response-delay", "abc", "x-mock-response-delay must be a whole number of milliseconds 1-180000, got 'abc'"),
    ("x-mock-response-delay", "0", "x-mock-response-delay must be a whole number of milliseconds 1-180000, got '0'"),
    ("x-mock-response-delay", "999999",
     "x-mock-response-delay must be a whole number of milliseconds 1-180000, got '999999'"),
    ("x-mock-response-delay", "-5", "x-mock-response-delay must be a whole number of milliseconds 1-180000, got '-5'"),
    ("x-mock-response-delay", "1.5", "x-mock-response-delay must be a whole number of milliseconds 1-180000, got '1.5'"),
    ("x-mock-response-code", "abc", "x-mock-response-code must be an HTTP status 100-599, got 'abc'"),
    ("x-mock-response-code", "99", "x-mock-response-code must be an HTTP status 100-599, got '99'"),
    ("x-mock-response-code", "600", "x-mock-response-code must be an HTTP status 100-599, got '600'"),
])
@pytest.mark.parametrize("via", ["header", "query"])
async def test_bad_mock_headers_are_refused(users, name, value, message, via):
    async with client(make_app(users)) as http:
        if via == "header":
            response = await http.get("/users", headers={name: value})
        else:
            response = await http.get("/users", params={name: value})
    assert response.status_code == 400, shown(response)
    assert response.json() == {"error": {"name": "mockRequestError", "header": "Bad mock request", "message": message}}


async def test_delay(users):
    async with client(make_app(users)) as http:
        started = time.perf_counter()
        response = await http.get("/users", headers={"x-mock-response-delay": "60"})
        elapsed = time.perf_counter() - started
    assert response.status_code == 200 and elapsed >= 0.06, f"{elapsed:.3f} s"


async def test_mock_level_delay_and_override(users):
    async with client(make_app(users, delay_ms=300)) as http:
        started = time.perf_counter()
        await http.get("/users")
        default_delay = time.perf_counter() - started
        started = time.perf_counter()
        await http.get("/users", headers={"x-mock-response-delay": "1"})
        overridden = time.perf_counter() - started
    assert default_delay >= 0.3 and overridden < 0.25, (default_delay, overridden)


async def test_head_gets_no_body(users):
    async with client(make_app(users)) as http:
        get = await http.get("/text")
        head = await http.head("/text")
    assert (head.status_code, head.content) == (200, b""), shown(head)
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(b"plain words"))
    assert head.headers["x-mock-example-name"] == "text"


async def test_request_body_too_large(users):
    app = make_app(users, max_body_bytes=10)
    async with client(app) as http:
        response = await http.post("/users", content=b"x" * 11)
        fine = await http.post("/users", content=b"x" * 10)
    assert response.status_code == 413, shown(response)
    assert response.json()["error"]["message"] == "request body over 10 bytes"
    assert fine.status_code == 201, shown(fine)


async def test_an_error_in_the_app_is_a_500_and_recorded(build, monkeypatch):
    from postmock_nb.answers import templating

    monkeypatch.setitem(templating.FAKER_PROVIDERS, "randomBoom", lambda faker: 1 / 0)
    app = make_app(build.collection(build.example("GET /boom", "boom", body="{{$randomBoom}}"),
                                    build.example("GET /fine", "fine", body="ok")))
    async with client(app) as http:
        boom = await http.get("/boom")
        fine = await http.get("/fine")
    assert boom.status_code == 500, shown(boom)
    assert boom.json()["error"]["message"] == "ZeroDivisionError: division by zero"
    assert len(app.errors) == 1 and "ZeroDivisionError" in app.errors[0]
    assert (fine.status_code, fine.text) == (200, "ok"), shown(fine)
    assert app.log.recent(1, unmatched=False)[0].status == 200
    assert app.log.find(1).note == "internal error (see the server's errors)"


# -- the request log ----------------------------------------------------------------------------


async def test_request_log_is_bounded_and_counts_everything(users):
    app = make_app(users, log_size=5)
    async with client(app) as http:
        for n in range(20):
            await http.get("/users" if n % 4 else "/missing")
    log = app.log
    assert (len(log.entries), log.maxlen, log.total) == (5, 5, 20)
    assert [e.seq for e in log.recent()] == [20, 19, 18, 17, 16]
    assert (log.misses, log.hits[users.examples[0].id]) == (5, 15)


async def test_log_entry_contents(users):
    app = make_app(users)
    async with client(app) as http:
        await http.post("/users?src=test", json={"name": "Ann"}, headers={"X-Trace": "t1"})
        await http.get("/nope")
    hit, miss = app.log.find(1), app.log.find(2)
    assert (hit.method, hit.url, hit.status, hit.example_name, hit.score) == ("POST", "/users?src=test", 201, "created", 90)
    assert ("x-trace", "t1") in hit.headers and json.loads(hit.body) == {"name": "Ann"}
    assert hit.response_text == "created Ann" and hit.latency_ms >= 0
    assert (miss.status, miss.example_name, miss.is_miss, miss.note) == (404, None, True, "no example for this method and path")
    assert miss.summary()["example"] is None


# -- the admin API ------------------------------------------------------------------------------


async def test_admin_api(users):
    app = make_app(users)
    async with client(app) as http:
        await http.get("/users")
        await http.get("/users/7")
        await http.get("/nope")
        health = (await http.get("/__postmock/health")).json()
        examples = (await http.get("/__postmock/examples")).json()
        log = (await http.get("/__postmock/log")).json()
        limited = (await http.get("/__postmock/log", params={"limit": 1})).json()
        unmatched = (await http.get("/__postmock/log", params={"unmatched": "1"})).json()
        hit = (await http.get("/__postmock/log/2")).json()
        miss = (await http.get("/__postmock/log/3")).json()
        unknown = await http.get("/__postmock/log/999")
    assert health == {"status": "ok", "examples": 5, "requests": 3, "misses": 1, "errors": 0, "websockets": 0}
    assert [(e["name"], e["method"], e["url"], e["status"], e["hits"]) for e in examples] == [
        ("list", "GET", "/users", 200, 1), ("one", "GET", "/users/:id", 200, 1), ("gone", "GET", "/users/:id", 404, 0),
        ("created", "POST", "/users", 201, 0), ("text", "GET", "/text", 200, 0)]
    assert [(e["seq"], e["url"], e["status"], e["example"]) for e in log] == [
        (3, "/nope", 404, None), (2, "/users/7", 200, "one"), (1, "/users", 200, "list")]
    assert [e["seq"] for e in limited] == [3] and [e["seq"] for e in unmatched] == [3]
    candidates = hit["diagnosis"]["candidates"]
    assert [(c["name"], c["score"], c["lost"]) for c in candidates] == [
        ("one", 80, ""), ("gone", 80, "tie at 80: 'one' is defined earlier")], candidates
    assert hit["response"]["body"] == '{"id": "7", "q": ""}'
    assert miss["diagnosis"]["reason"] == "no example for this method and path"
    assert miss["diagnosis"]["closest"], miss
    assert unknown.status_code == 404
    assert app.log.total == 3, "admin requests must not be logged as mock requests"


async def test_admin_log_clear(users):
    app = make_app(users)
    async with client(app) as http:
        await http.get("/users")
        cleared = await http.delete("/__postmock/log")
        log = (await http.get("/__postmock/log")).json()
        health = (await http.get("/__postmock/health")).json()
    assert cleared.status_code == 204 and log == []
    assert (health["requests"], health["misses"]) == (0, 0)


async def test_admin_api_of_a_private_mock(users):
    async with client(make_app(users, private=True, api_key=KEY)) as http:
        refused = await http.get("/__postmock/health")
        allowed = await http.get("/__postmock/health", headers={"x-api-key": KEY})
    assert refused.status_code == 401 and refused.json()["error"]["name"] == "AuthenticationError"
    assert allowed.status_code == 200


# -- live edits ---------------------------------------------------------------------------------


async def test_snapshot_swap_changes_the_next_response(build, users):
    app = make_app(users)
    async with client(app) as http:
        before = await http.get("/users")
        app.store.update(lambda c: c.with_example(build.example("GET /users?active=true", "active", body="[]")))
        added = await http.get("/users?active=true")
        first = app.store.collection.examples[0]
        app.store.update(lambda c: c.with_example(replace(first, response=replace(first.response, body='["edited"]'))))
        edited = await http.get("/users")   # same example id, same score: the old cached bytes must not come back
        app.store.replace(Collection())
        emptied = await http.get("/users")
    assert before.json() == [{"id": 1}]
    assert (added.status_code, added.text, added.headers["x-mock-example-name"]) == (200, "[]", "active"), shown(added)
    assert edited.json() == ["edited"], shown(edited)
    assert emptied.status_code == 404, shown(emptied)


async def test_leading_zero_status_selector_and_admin_json_404(users):
    app = make_app(users)
    async with client(app) as http:
        gone = await http.get("/users/3", headers={"x-mock-response-code": "0404"})
        assert (gone.status_code, gone.json()) == (404, {"error": "gone"}), shown(gone)
        missing = await http.get("/__postmock/log/999")
        assert missing.status_code == 404, shown(missing)
        assert missing.json()["error"]["name"] == "logEntryNotFound", shown(missing)


async def test_log_numbers_are_never_reused_after_clear(users):
    app = make_app(users)
    async with client(app) as http:
        await http.get("/users")
        first = app.log.recent(1)[0].seq
        await http.delete("/__postmock/log")
        await http.get("/text")
        second = app.log.recent(1)[0]
    assert second.seq > first, "a cleared log must not hand out an old entry's number again"
    assert (app.log.total, app.log.find(first)) == (1, None)


async def test_the_same_request_follows_a_live_edit(build):
    """Decisions are remembered per snapshot: an edit between two identical requests changes the answer."""
    app = make_app(build.collection(build.example("GET /items/:id", "any item", body="any")))
    async with client(app) as http:
        assert (await http.get("/items/7")).text == "any"
        assert (await http.get("/items/7")).text == "any"
        app.store.replace(build.collection(build.example("GET /items/:id", "any item", body="any"),
                                           build.example("GET /items/7", "item seven", body="seven")))
        assert (await http.get("/items/7")).text == "seven"
    assert [e.example_name for e in app.log.recent()] == ["item seven", "any item", "any item"]


async def test_a_chunked_body_is_read_and_matched(build):
    """A body sent without Content-Length (chunked) is read whole: only a bodiless HTTP/1 request skips reading."""
    app = make_app(build.collection(
        build.example("POST /orders", "small", body="small", request_body='{"size": "s"}'),
        build.example("POST /orders", "large", body="large", request_body='{"size": "l"}')), match_body=True)

    async def chunks():
        yield b'{"size": '
        yield b'"l"}'

    async with client(app) as http:
        response = await http.post("/orders", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers and response.request.headers["transfer-encoding"]
    assert (response.status_code, response.text) == (200, "large")
    assert app.log.recent()[0].body == '{"size": "l"}'


async def test_a_logged_request_is_decoded_from_what_was_received(build):
    """The log keeps the raw request; its explanation's request (headers joined, query decoded) is rebuilt from it."""
    app = make_app(build.collection(build.example("GET /items", "items", body="[]")))
    async with client(app) as http:
        await http.get("/items?tag=a%20b&tag=c", headers=[("x-tag", "one"), ("X-Tag", "two")])
    entry = app.log.recent()[0]
    request = entry.result.request
    assert request.query == (("tag", "a b"), ("tag", "c"))
    assert request.headers["x-tag"] == "one, two" and request.path == "/items"
    assert entry.result.winner is not None and entry.result.winner.name == "items"
