"""Postman environments on a running mock: precedence over collection variables on a real socket,
live switching in the notebook, ``postmock serve --environment`` and ``%mock save --environment``.
(The parsing, in-process, is in test_environment.py.)"""

from __future__ import annotations

import json

import pytest
import requests
from IPython.core.error import UsageError
from support.environments import write_environment

from postmock_nb.formats.environment import load_environment
from postmock_nb.formats.postman import load_collection, save_collection
from postmock_nb.matching.store import LiveCollection
from postmock_nb.serving.server import MockServer


@pytest.fixture
def collection(build):
    return build.collection(
        build.example("GET /users/{{userId}}", "The user", body='{"id": "{{userId}}", "greeting": "{{greeting}}", "from": "{{origin}}"}',
                      headers={"Content-Type": "application/json", "X-Env": "{{envName}}"}),
        variables={"userId": "1", "greeting": "hello from the collection", "origin": "collection",
                   "envName": "none"})


def test_environment_wins_over_collection_variables_in_url_headers_and_body(tmp_path, collection):
    env = load_environment(write_environment(tmp_path / "e.json", {"userId": "7", "greeting": "hi from staging",
                                                                    "envName": "staging"}))
    with MockServer(LiveCollection(collection, env.values)) as mock:
        response = requests.get(mock.url + "/users/7", timeout=5)
        assert response.status_code == 200
        assert response.json() == {"id": "7", "greeting": "hi from staging", "from": "collection"}  # origin: collection's
        assert response.headers["X-Env"] == "staging"
        assert mock.store.snapshot.variables["userId"] == "7"
    with MockServer(collection) as mock:  # without it, the collection's own values
        assert requests.get(mock.url + "/users/1", timeout=5).json()["greeting"] == "hello from the collection"


def test_cli_serve_with_an_environment(tmp_path, collection):
    from support.cli import SERVING, postmock

    path = save_collection(collection, tmp_path / "c.json")
    env = write_environment(tmp_path / "e.json", {"userId": "42"})
    with postmock("serve", str(path), "--port", "0", "--environment", str(env)) as cli:
        url = cli.wait_for(SERVING).group(3)
        assert requests.get(url + "/users/42", timeout=5).status_code == 200
        assert cli.interrupt() == 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"values": 3}', encoding="utf-8")
    from postmock_nb.cli import main

    assert main(["serve", str(path), "--port", "0", "--environment", str(bad)]) == 2


def test_switching_environments_live_and_exports_keep_collection_values(shell, tmp_path, collection, capsys):
    source = save_collection(collection, tmp_path / "c.json")
    staging = write_environment(tmp_path / "staging.json", {"userId": "7"})
    shell.run_line_magic("mock", f"load {source}")
    shell.run_line_magic("mock", f"start --no-dashboard --environment {staging}")
    url = shell.user_ns["mockUrl"]
    assert requests.get(url + "/users/7", timeout=5).json()["id"] == "7"
    production = write_environment(tmp_path / "prod.json", {"userId": "9"})
    shell.run_line_magic("mock", f"environment {production}")
    assert 'Using environment "Staging": userId' in capsys.readouterr().out
    assert requests.get(url + "/users/9", timeout=5).json()["id"] == "9"  # the running mock switched at once
    shell.run_line_magic("mock", "environment --clear")
    assert requests.get(url + "/users/1", timeout=5).json()["id"] == "1"
    shell.run_line_magic("mock", f"environment {production}")
    shell.run_line_magic("mock", f"save {tmp_path / 'out.json'}")
    assert dict(load_collection(tmp_path / "out.json").variables)["userId"] == "1"  # not the environment's


def test_save_environment_with_the_mock_url(shell, tmp_path, capsys):
    with pytest.raises(UsageError, match="the mock is not running"):
        shell.run_line_magic("mock", f"save --environment {tmp_path / 'env.json'}")
    shell.run_line_magic("mock", "start --no-dashboard")
    shell.run_line_magic("mock", f"save --environment {tmp_path / 'env.json'}")
    written = json.loads((tmp_path / "env.json").read_text(encoding="utf-8"))
    assert written["_postman_variable_scope"] == "environment"
    values = {v["key"]: v["value"] for v in written["values"] if v["enabled"]}
    assert values == {"mockUrl": shell.user_ns["mockUrl"], "baseUrl": shell.user_ns["mockUrl"]}
    assert load_environment(tmp_path / "env.json").values == tuple(values.items())  # it reads back


def test_save_environment_prefers_the_public_url(shell, tmp_path, monkeypatch):
    monkeypatch.setenv("POSTMOCK_PUBLIC_URL", "https://hub.example.org/user/ann/proxy/{port}/")
    shell.run_line_magic("mock", "start --no-dashboard")
    shell.run_line_magic("mock", f"save --environment {tmp_path / 'env.json'}")
    port = shell.user_ns["mockUrl"].rsplit(":", 1)[1]
    values = {v["key"]: v["value"] for v in json.loads((tmp_path / "env.json").read_text())["values"]}
    assert values["mockUrl"] == f"https://hub.example.org/user/ann/proxy/{port}"
