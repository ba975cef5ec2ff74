"""serving/admin.py: the Quart admin API (build_admin_app), driven in-process through httpx: no socket.

test_app.py reaches it through the MockApp; here the admin app is built and called on its own, over a mock
whose parts (store, log, settings, behaviours) the tests change between requests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from support.builders import make_collection, make_example

from postmock_nb.config import MockConfig
from postmock_nb.core.model import Collection
from postmock_nb.matching.store import LiveCollection
from postmock_nb.serving.admin import build_admin_app
from postmock_nb.serving.app import MockApp
from postmock_nb.serving.requestlog import RequestLog

pytestmark = pytest.mark.anyio
KEY = "PMAK-admin-test"
JOBS = make_collection(
    make_example("GET /jobs/7", "pending", body="pending",
                 request_headers={"x-mock-scenario": "jobs; requires=Started; next=done"}),
    make_example("GET /jobs/7", "done", body="done", request_headers={"x-mock-scenario": "jobs; requires=done"}),
    make_example("GET /builds/1", "queued", body="queued",
                 request_headers={"x-mock-scenario": "builds; requires=Started; next=running"}),
    make_example("GET /builds/1", "running", body="running",
                 request_headers={"x-mock-scenario": "builds; requires=running"}),
    make_example("POST /login", "login", body="ok"),
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_mock(collection: Collection = JOBS, **settings: Any) -> MockApp:
    return MockApp(LiveCollection(collection), log=RequestLog(100), settings=MockConfig(**settings))


@asynccontextmanager
async def clients(mock: MockApp) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(the mock, its admin app built on its own) over the same state."""
    admin = build_admin_app(mock)
    assert admin.name == "postmock_nb.admin"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=mock), base_url="http://mock") as served, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=admin), base_url="http://mock") as administered:
        yield served, administered


async def test_health_reads_the_mock_at_each_request() -> None:
    mock = make_mock()
    async with clients(mock) as (served, admin):
        before = (await admin.get("/__postmock/health")).json()
        await served.get("/jobs/7")
        await served.get("/nothing")
        mock.error_log.report("boom")
        mock.store.replace(make_collection(make_example("GET /only")))
        after = (await admin.get("/__postmock/health")).json()
    assert before == {"status": "ok", "examples": 5, "requests": 0, "misses": 0, "errors": 0, "websockets": 0}
    assert after == {"status": "ok", "examples": 1, "requests": 2, "misses": 1, "errors": 1, "websockets": 0}


async def test_the_examples_count_their_hits() -> None:
    mock = make_mock()
    async with clients(mock) as (served, admin):
        for _ in range(3):
            await served.post("/login")
        listed = (await admin.get("/__postmock/examples")).json()
    login = next(entry for entry in listed if entry["name"] == "login")
    assert login == {"id": JOBS.examples[4].id, "name": "login", "method": "POST", "url": "/login", "status": 200,
                     "hits": 3}
    assert [entry["hits"] for entry in listed if entry["name"] != "login"] == [0, 0, 0, 0]


@pytest.mark.parametrize("flag", ["1", "true", "YES"])
async def test_the_log_filters_unmatched_and_limits(flag: str) -> None:
    mock = make_mock()
    async with clients(mock) as (served, admin):
        for url in ("/a", "/jobs/7", "/b"):
            await served.get(url)
        unmatched = (await admin.get("/__postmock/log", params={"unmatched": flag})).json()
        limited = (await admin.get("/__postmock/log", params={"limit": 2})).json()
        everything = (await admin.get("/__postmock/log", params={"unmatched": "no"})).json()
    assert [entry["url"] for entry in unmatched] == ["/b", "/a"]
    assert [entry["url"] for entry in limited] == ["/b", "/jobs/7"]
    assert len(everything) == 3


async def test_scenarios_are_listed_moved_and_reset_by_name() -> None:
    mock = make_mock()
    async with clients(mock) as (served, admin):
        assert (await admin.get("/__postmock/scenarios")).json() == {"jobs": "Started", "builds": "Started"}
        await served.get("/jobs/7")
        await served.get("/builds/1")
        moved = (await admin.get("/__postmock/scenarios")).json()
        one = await admin.delete("/__postmock/scenarios", params={"name": "jobs"})
        after_one = (await admin.get("/__postmock/scenarios")).json()
        every = await admin.delete("/__postmock/scenarios")
        after_all = (await admin.get("/__postmock/scenarios")).json()
        answer = await served.get("/builds/1")
    assert moved == {"jobs": "done", "builds": "running"}
    assert (one.status_code, after_one) == (204, {"jobs": "Started", "builds": "running"})
    assert (every.status_code, after_all) == (204, {"jobs": "Started", "builds": "Started"})
    assert answer.text == "queued"


async def test_resetting_a_scenario_that_does_not_exist_is_a_404_naming_those_that_do() -> None:
    mock = make_mock()
    async with clients(mock) as (_, admin):
        missing = await admin.delete("/__postmock/scenarios", params={"name": "jbos"})
    assert missing.status_code == 404
    assert missing.json()["error"] == {"name": "scenarioNotFound", "header": "Not Found", "message":
                                       "no scenario named 'jbos' (this mock's scenarios: 'builds', 'jobs')"}


async def test_clearing_the_log_keeps_the_error_count() -> None:
    mock = make_mock()
    async with clients(mock) as (served, admin):
        await served.get("/nothing")
        mock.error_log.report("kept")
        cleared = await admin.delete("/__postmock/log")
        health = (await admin.get("/__postmock/health")).json()
    assert (cleared.status_code, cleared.text) == (204, "")
    assert (health["requests"], health["misses"], health["errors"]) == (0, 0, 1)


async def test_an_entry_masks_secrets_unless_the_mock_lets_them_be_revealed() -> None:
    mock = make_mock()
    secret = {"authorization": "Bearer s3cret-token", "x-plain": "seen"}
    async with clients(mock) as (served, admin):
        await served.post("/login", headers=secret, content=b"user=ada")
        masked = (await admin.get("/__postmock/log/1", params={"reveal": "1"})).json()
        mock.settings = replace(mock.settings, reveal_secrets=True)
        shown = (await admin.get("/__postmock/log/1", params={"reveal": "true"})).json()
        asked_not = (await admin.get("/__postmock/log/1")).json()
    assert masked["secrets"] == "masked" and "s3cret-token" not in str(masked["headers"])
    assert shown["secrets"] == "shown" and "Bearer s3cret-token" in str(shown["headers"])
    assert asked_not["secrets"] == "masked"
    assert (shown["body"], shown["body_size"]) == ("user=ada", 8)
    assert shown["response"]["body"] == "ok" and shown["response"]["size"] == 2
    assert [candidate["name"] for candidate in shown["diagnosis"]["candidates"]] == ["login"]
    assert "traceback" not in shown


async def test_an_unknown_entry_names_the_log_size() -> None:
    async with clients(make_mock()) as (_, admin):
        missing = await admin.get("/__postmock/log/41")
        not_a_number = await admin.get("/__postmock/log/forty")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"name": "logEntryNotFound",
                                        "message": "no log entry #41 (the log keeps the last 100)"}}
    assert not_a_number.status_code == 404


async def test_a_private_mock_wants_its_key_except_for_preflight() -> None:
    mock = make_mock(private=True, api_key=KEY)
    async with clients(mock) as (served, admin):
        await served.get("/jobs/7")  # refused: no key
        none = await admin.get("/__postmock/health")
        wrong = await admin.get("/__postmock/health", headers={"x-api-key": KEY + "x"})
        preflight = await admin.options("/__postmock/health")
        health = await admin.get("/__postmock/health", headers={"x-api-key": KEY})
        cleared = await admin.delete("/__postmock/log")
    assert none.status_code == wrong.status_code == 401
    assert none.json()["error"]["name"] == "AuthenticationError"
    assert preflight.status_code == 200
    assert set(preflight.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert health.json()["refused"] == 1
    assert cleared.status_code == 401  # a reset needs the key too


async def test_a_public_mocks_health_has_no_refused_count() -> None:
    async with clients(make_mock()) as (_, admin):
        assert "refused" not in (await admin.get("/__postmock/health")).json()


async def test_with_several_workers_each_answer_says_it_is_one_workers_view() -> None:
    mock = make_mock(workers=3)
    async with clients(mock) as (_, admin):
        health = (await admin.get("/__postmock/health")).json()
        examples = await admin.get("/__postmock/examples")
        log = await admin.get("/__postmock/log")
        scenarios = await admin.get("/__postmock/scenarios")
    assert (health["workers"], health["worker_pid"]) == (3, os.getpid())
    assert health["scope"] == "this worker only: 3 worker processes share the port, each with its own log"
    for response in (examples, log):
        assert response.headers["x-postmock-workers"] == "3"
        assert response.headers["x-postmock-scope"] == f"one worker of 3 (pid {os.getpid()})"
    assert "x-postmock-workers" not in scenarios.headers


async def test_with_one_worker_there_is_no_worker_note() -> None:
    async with clients(make_mock()) as (_, admin):
        health = (await admin.get("/__postmock/health")).json()
        examples = await admin.get("/__postmock/examples")
    assert "workers" not in health and "x-postmock-workers" not in examples.headers


async def test_a_path_the_admin_api_does_not_have_is_404() -> None:
    async with clients(make_mock()) as (_, admin):
        assert (await admin.get("/__postmock/nothing")).status_code == 404
        assert (await admin.post("/__postmock/health")).status_code == 405
