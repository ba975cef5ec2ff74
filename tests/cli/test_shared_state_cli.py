"""``postmock serve --state``: two processes and a ``--workers 4`` one on one Redis walk one scenario when hit
alternately, and say where their state is."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from support.builders import make_collection, make_example
from support.cli import SERVING, Cli
from support.redis_server import RedisServer

from postmock_nb.formats.postman import save_collection

STEPS = [("Started", "placed"), ("placed", "paid"), ("paid", "shipped"), ("shipped", "Started")]


@pytest.fixture(scope="module")
def replicas(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[Cli, str]]]:
    """Three ``postmock serve`` processes on one --state URL: one, one, and one with four workers."""
    import redis  # deferred: only the shared-state tests need the client

    url = redis_server.db_url(62)
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    path = tmp_path_factory.mktemp("shared") / "orders.json"
    save_collection(make_collection(
        *(make_example("GET /order", f"step {i}", body=json.dumps({"step": i}),
                       request_headers={"x-mock-scenario": f"order; requires={requires}; next={after}"})
          for i, (requires, after) in enumerate(STEPS)), name="Orders"), path)
    started: list[tuple[Cli, str]] = []
    try:
        for workers in ("1", "1", "4"):
            cli = Cli("serve", str(path), "--port", "0", "--state", url, "--workers", workers)
            started.append((cli, cli.wait_for(SERVING).group(3)))
        yield started
    finally:
        for cli, _ in started:
            cli.stop()


def test_two_processes_and_four_workers_walk_one_scenario(replicas: list[tuple[Cli, str]]) -> None:
    urls = [url for _, url in replicas]
    steps = [requests.get(urls[n % 3] + "/order", timeout=5).json()["step"] for n in range(12)]
    assert steps == [0, 1, 2, 3] * 3
    # the four workers share one port: each new connection may reach another worker, and the walk goes on
    assert [requests.get(urls[2] + "/order", timeout=5).json()["step"] for _ in range(8)] == [0, 1, 2, 3] * 2


def test_serve_says_where_its_state_is(replicas: list[tuple[Cli, str]]) -> None:
    cli, url = replicas[2]
    cli.wait_for(r"^Shared state: redis://127\.0\.0\.1:\d+/62 \(prefix orders\)$")
    cli.wait_for(r"^4 workers share the port and the state$")  # the next line (a loaded machine may print it late)
    health = requests.get(url + "/__postmock/health", timeout=5).json()
    assert health["state"]["available"] is True and health["state"]["prefix"] == "orders"


def test_a_password_in_the_state_url_is_never_printed(redis_server: RedisServer, tmp_path) -> None:
    """``?password=`` (which redis-py reads as the password) is masked like ``redis://:password@``."""
    path = tmp_path / "orders.json"
    save_collection(make_collection(make_example("GET /order", "order", body="{}"), name="Orders"), path)
    cli = Cli("serve", str(path), "--port", "0", "--state", redis_server.db_url(61) + "?password=s3cretpw")
    try:
        url = cli.wait_for(SERVING).group(3)
        cli.wait_for(r"^Shared state: redis://127\.0\.0\.1:\d+/61\?password=\*\*\* \(prefix orders\)$")
        health = requests.get(url + "/__postmock/health", timeout=5)
        assert health.json()["state"]["url"].endswith("/61?password=***") and "s3cretpw" not in health.text
    finally:
        cli.stop()
    assert "s3cretpw" not in cli.output() + "\n".join(cli.stderr)


def test_a_state_url_redis_cannot_use_is_refused_before_serving(tmp_path) -> None:
    path = tmp_path / "orders.json"
    save_collection(make_collection(make_example("GET /order", "order", body="{}"), name="Orders"), path)
    done = subprocess.run([sys.executable, "-m", "postmock_nb.cli", "serve", str(path), "--port", "0",
                           "--state", "redis://:s3cretpw@127.0.0.1:notaport/0"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr and "s3cretpw" not in done.stderr
    assert done.stderr.startswith("postmock: --state must be a Redis URL (redis://HOST:PORT/DB), got "
                                  "'redis://:***@127.0.0.1:notaport/0': Port could not be cast to integer")
