"""The ASGI entry point (postmock_nb.asgi): settings from the environment, and the app under each
server's own command line (uvicorn, granian, hypercorn, gunicorn with uvicorn workers), as a deployment runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import requests
from support.asgi_servers import COMMANDS, Served, free_port, installed_or_skip
from support.builders import make_collection, make_example

from postmock_nb import asgi
from postmock_nb.config import MockConfig
from postmock_nb.errors import ConfigError
from postmock_nb.formats.postman import save_collection

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60  # interpreter start, imports and the collection load
TIMEOUT = 5
COLLECTION = "test-scoring-collection.json"


# -- settings from the environment ---------------------------------------------------------------


def test_defaults(tmp_path):
    assert asgi.config_from({}) == MockConfig()
    assert asgi.config_from({"PATH": "/bin", "HOME": "/root"}) == MockConfig()  # other variables are not ours


def test_every_setting_is_read():
    config = asgi.config_from({
        "POSTMOCK_API_KEY": "PMAK-shared", "POSTMOCK_CORS": "off", "POSTMOCK_DELAY_MS": " 25 ",
        "POSTMOCK_MATCH_BODY": "yes", "POSTMOCK_MATCH_HEADERS": "X-Role, x-tenant", "POSTMOCK_LOG_SIZE": "50"})
    assert config == MockConfig(private=True, api_key="PMAK-shared", cors=False, delay_ms=25, match_body=True,
                                match_headers=("x-role", "x-tenant"), log_size=50)
    assert asgi.config_from({"POSTMOCK_PRIVATE": "true", "POSTMOCK_API_KEY": "k"}).key == "k"
    assert asgi.config_from({"POSTMOCK_PRIVATE": "0"}).private is False


@pytest.mark.parametrize("environ, message", [
    ({"POSTMOCK_DELAY_MS": "abc"}, "POSTMOCK_DELAY_MS must be a whole number, got 'abc'"),
    ({"POSTMOCK_DELAY_MS": "999999"}, "POSTMOCK_DELAY_MS: --delay must be 0-180000 milliseconds, got 999999"),
    ({"POSTMOCK_CORS": "maybe"}, "POSTMOCK_CORS must be 1 or 0 (true/false, yes/no, on/off), got 'maybe'"),
    ({"POSTMOCK_MATCH_HEADERS": "x-a,,x-b"}, "POSTMOCK_MATCH_HEADERS must be header names separated by commas"),
    ({"POSTMOCK_LOG_SIZE": "0"}, "POSTMOCK_LOG_SIZE: log_size must be 1 or more, got 0"),
    ({"POSTMOCK_API_KEY": " "}, "POSTMOCK_API_KEY: the API key is empty"),
    ({"POSTMOCK_PRIVATE": "1"}, "POSTMOCK_PRIVATE=1 needs POSTMOCK_API_KEY"),
    ({"POSTMOCK_PRIVATE": "0", "POSTMOCK_API_KEY": "k"}, "POSTMOCK_API_KEY is set but POSTMOCK_PRIVATE is 0"),
    ({"POSTMOCK_PRIVTE": "1", "POSTMOCK_X": ""},
     "unknown settings POSTMOCK_PRIVTE, POSTMOCK_X\nHint: postmock reads POSTMOCK_COLLECTION, POSTMOCK_ADMIN_KEY, POSTMOCK_API_KEY"),
])
def test_bad_settings_name_the_variable(environ, message):
    with pytest.raises(ConfigError) as caught:
        asgi.config_from(environ)
    assert str(caught.value).startswith(message), str(caught.value)


def test_the_collection_is_required_and_must_load(tmp_path):
    with pytest.raises(ConfigError, match=r"^POSTMOCK_COLLECTION is not set\nHint: set it to the path"):
        asgi.create_app({})
    with pytest.raises(ConfigError, match=rf"^POSTMOCK_COLLECTION={tmp_path}/missing.json: no such file: "):
        asgi.create_app({"POSTMOCK_COLLECTION": str(tmp_path / "missing.json")})
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(ConfigError, match=r"^POSTMOCK_COLLECTION=.*bad\.json: "):
        asgi.create_app({"POSTMOCK_COLLECTION": str(tmp_path / "bad.json")})


def test_a_too_deep_resource_seed_is_refused(tmp_path):
    from support.saved_collections import deep_seed_collection

    with pytest.raises(ConfigError, match=r"^POSTMOCK_COLLECTION=.*deep\.postman_collection\.json: the seed of "
                                          r"resource 'todos' .* nests JSON more than 200 levels deep"):
        asgi.create_app({"POSTMOCK_COLLECTION": str(deep_seed_collection(tmp_path))})


def test_importing_the_module_reads_nothing():
    code = "import os; os.environ.pop('POSTMOCK_COLLECTION', None); import postmock_nb.asgi; print('imported')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO,
                         check=False)
    assert (out.returncode, out.stdout.strip()) == (0, "imported"), out.stderr


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_app_serves_the_collection_in_process(fixtures_dir, anyio_backend):
    app = asgi.create_app({"POSTMOCK_COLLECTION": str(fixtures_dir / COLLECTION), "POSTMOCK_API_KEY": "PMAK-k"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as http:
        refused = await http.get("/get?name=John")
        allowed = await http.get("/get?name=John", headers={"x-api-key": "PMAK-k"})
        health = await http.get("/__postmock/health", headers={"x-api-key": "PMAK-k"})
    assert refused.status_code == 401
    assert (allowed.status_code, allowed.headers["x-mock-score"]) == (200, "110")
    assert health.status_code == 200 and health.json()["status"] == "ok"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_app_leaves_a_1xx_example_out_and_serves_the_rest(tmp_path, anyio_backend):
    """Issue 19: one 1xx example no longer refuses the whole file: it is left out, the rest is served."""
    data = {"info": {"name": "codes"},
            "item": [{"name": f"{code}", "request": {"method": "GET", "url": f"http://x/s{code}"},
                      "response": [{"name": f"Status {code}", "code": code, "body": f"code {code}"}]}
                     for code in (101, 200)]}
    path = tmp_path / "codes.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    app = asgi.create_app({"POSTMOCK_COLLECTION": str(path)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as http:
        served, left_out = await http.get("/s200"), await http.get("/s101")
    assert (served.status_code, served.text) == (200, "code 200")
    assert left_out.status_code == 404 and left_out.json()["error"]["name"] == "mockRequestNotFoundError"


# -- under each server's own command ---------------------------------------------------------------


@pytest.fixture(params=list(COMMANDS))
def server(request: pytest.FixtureRequest) -> str:
    return installed_or_skip(request.param)


def test_each_server_serves_the_collection(server, fixtures_dir, tmp_path):
    environ = {"POSTMOCK_COLLECTION": str(fixtures_dir / COLLECTION), "POSTMOCK_LOG_SIZE": "100"}
    served = Served(server, free_port(), environ, tmp_path / "server.log")
    try:
        health = served.wait_until_healthy().json()
        assert health["status"] == "ok" and health["examples"] > 0
        for _ in range(6):  # new connections: with gunicorn, either worker
            response = requests.get(served.url + "/get?name=John", timeout=TIMEOUT)
            assert (response.status_code, response.headers["x-mock-score"]) == (200, "110"), response.text
        missing = requests.get(served.url + "/no/such/path", timeout=TIMEOUT)
        assert missing.status_code == 404 and missing.json()["error"]["name"] == "mockRequestNotFoundError"
    finally:
        code = served.stop()
    assert code is not None, f"{server} did not stop on SIGTERM:\n{served.output()}"


def test_a_private_deployment_needs_the_key(fixtures_dir, tmp_path):
    """The settings are read the same way under every server: one (uvicorn, of the test extra) shows it."""
    server = "uvicorn"
    environ = {"POSTMOCK_COLLECTION": str(fixtures_dir / COLLECTION), "POSTMOCK_API_KEY": "PMAK-team"}
    served = Served(server, free_port(), environ, tmp_path / "server.log")
    try:
        served.wait_until_healthy({"x-api-key": "PMAK-team"})
        assert requests.get(served.url + "/get?name=John", timeout=TIMEOUT).status_code == 401
        assert requests.get(served.url + "/get?name=John", headers={"x-api-key": "PMAK-team"},
                            timeout=TIMEOUT).status_code == 200
    finally:
        served.stop()


def test_a_bad_setting_stops_the_server_with_the_variable_named(server, fixtures_dir, tmp_path):
    environ = {"POSTMOCK_COLLECTION": str(fixtures_dir / COLLECTION), "POSTMOCK_DELAY_MS": "soon"}
    served = Served(server, free_port(), environ, tmp_path / "server.log")
    try:
        code = served.process.wait(START_TIMEOUT)
    finally:
        served.stop()
    if server != "hypercorn":  # Hypercorn's command exits 0 when its worker process fails to start
        assert code != 0, served.output()
    assert "POSTMOCK_DELAY_MS must be a whole number, got 'soon'" in served.output()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_openapi_document_with_an_environment_and_request_validation(tmp_path, anyio_backend):
    """What a team deploys from its OpenAPI document: examples served, requests checked, {{vars}} resolved."""
    spec = Path(__file__).resolve().parents[2] / "notebooks" / "data" / "petstore.openapi.yaml"
    environment = tmp_path / "env.json"
    environment.write_text('{"name": "staging", "_postman_variable_scope": "environment", '
                           '"values": [{"key": "baseUrl", "value": "https://staging.example.com", "enabled": true}]}')
    app = asgi.create_app({"POSTMOCK_COLLECTION": str(spec), "POSTMOCK_VALIDATE_REQUESTS": "1",
                           "POSTMOCK_ENVIRONMENT": str(environment)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as http:
        listed = await http.get("/v1/pets")
        invalid = await http.post("/v1/pets", json={"species": "fish"})
    assert listed.status_code == 200 and isinstance(listed.json(), list)
    assert invalid.status_code == 422 and "'name' is a required property" in invalid.text, invalid.text
    assert app.store.snapshot.variables["baseUrl"] == "https://staging.example.com"
    with pytest.raises(ConfigError, match="POSTMOCK_VALIDATE_REQUESTS=1 needs an OpenAPI document"):
        asgi.create_app({"POSTMOCK_COLLECTION": str(spec.with_name("users.postman_collection.json")),
                         "POSTMOCK_VALIDATE_REQUESTS": "1"})
    with pytest.raises(ConfigError, match="POSTMOCK_ENVIRONMENT="):
        asgi.create_app({"POSTMOCK_COLLECTION": str(spec), "POSTMOCK_ENVIRONMENT": str(tmp_path / "none.json")})


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_postmock_examples_generate_replaces_the_examples_that_break_their_schema(anyio_backend):
    """POSTMOCK_EXAMPLES=generate is postmock serve's --examples generate; anything else is refused, named."""
    from support.openapi_documents import BROKEN_EXAMPLES, DATA

    spec = str(DATA / BROKEN_EXAMPLES)
    answers = {}
    for examples in ("as-written", "generate"):
        app = asgi.create_app({"POSTMOCK_COLLECTION": spec, "POSTMOCK_EXAMPLES": examples})
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as http:
            answers[examples] = await http.get("/owners/1")
    assert answers["as-written"].json() == {"id": 7, "name": 42}
    assert answers["generate"].json() == {"id": 1, "name": "Ada"}
    assert answers["generate"].headers["x-postmock-note"].startswith("--examples generate: the document's example")
    with pytest.raises(ConfigError, match="POSTMOCK_EXAMPLES=always: --examples must be as-written or generate"):
        asgi.create_app({"POSTMOCK_COLLECTION": spec, "POSTMOCK_EXAMPLES": "always"})


def test_postmock_variables_of_other_parts_are_not_taken_for_misspellings():
    """CI sets POSTMOCK_REQUIRE_ALL, a notebook server POSTMOCK_PUBLIC_URL: neither is this entry point's."""
    environ = {"POSTMOCK_REQUIRE_ALL": "1", "POSTMOCK_PUBLIC_URL": "/proxy/{port}/", "POSTMOCK_DELAY_MS": "5"}
    assert asgi.config_from(environ) == MockConfig(delay_ms=5)
    with pytest.raises(ConfigError, match="unknown setting POSTMOCK_DELAY"):
        asgi.config_from({"POSTMOCK_REQUIRE_ALL": "1", "POSTMOCK_DELAY": "5"})


def test_replicas_on_one_postmock_state_walk_one_scenario(tmp_path, redis_url):
    """Two uvicorn replicas of the ASGI app with POSTMOCK_STATE, hit alternately: one scenario, four steps."""
    steps = [("Started", "placed"), ("placed", "paid"), ("paid", "shipped"), ("shipped", "Started")]
    path = tmp_path / "orders.json"
    save_collection(make_collection(
        *(make_example("GET /order", f"step {i}", body=json.dumps({"step": i}),
                       request_headers={"x-mock-scenario": f"order; requires={requires}; next={after}"})
          for i, (requires, after) in enumerate(steps)), name="Orders"), path)
    environ = {"POSTMOCK_COLLECTION": str(path), "POSTMOCK_STATE": redis_url}
    replicas = [Served("uvicorn", free_port(), environ, tmp_path / f"replica{n}.log") for n in range(2)]
    try:
        health = [replica.wait_until_healthy().json() for replica in replicas]
        assert all(h["state"]["available"] and h["state"]["prefix"] == "orders" for h in health)
        walked = [requests.get(replicas[n % 2].url + "/order", timeout=TIMEOUT).json()["step"] for n in range(8)]
        assert walked == [0, 1, 2, 3, 0, 1, 2, 3]
    finally:
        codes = [replica.stop() for replica in replicas]
    assert None not in codes, [replica.output() for replica in replicas]  # the lifespan shutdown closes its client
