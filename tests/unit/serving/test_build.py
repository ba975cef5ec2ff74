"""The composition root (postmock_nb.serving.build): the graph it assembles for each front end, with keywords."""

from __future__ import annotations

import inspect
import random
from pathlib import Path
from typing import Any

import pytest
from support.builders import make_collection, make_example

from postmock_nb.behaviours.dispatch import Behaviours
from postmock_nb.bridges.bridges import Bridges
from postmock_nb.config import MockConfig
from postmock_nb.errors import ConfigError
from postmock_nb.formats.sources import Loaded, load_any
from postmock_nb.matching.store import LiveCollection
from postmock_nb.serving import build
from postmock_nb.serving.app import MockApp
from postmock_nb.serving.requestlog import RequestLog
from postmock_nb.serving.server import MockServer

SPEC = Path(__file__).resolve().parents[2] / "data" / "openapi" / "oai-v3.0-petstore-expanded.yaml"
USERS = make_collection(make_example("GET /users", "List", body="[]"))


@pytest.fixture
def app_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every MockApp the root builds, by the keywords it was given: a positional call fails the test."""
    calls: list[dict[str, Any]] = []

    def keywords_only(**parts: Any) -> MockApp:
        calls.append(parts)
        return MockApp(**parts)

    monkeypatch.setattr(build, "MockApp", keywords_only)
    return calls


def _no_environment() -> tuple[tuple[str, str], ...]:
    raise AssertionError("the environment is read only once the settings are found usable")


@pytest.mark.parametrize("function", [build.assemble, build.notebook_mock, build.file_mock])
def test_every_collaborator_is_passed_by_keyword(function: Any) -> None:
    kinds = {parameter.kind for parameter in inspect.signature(function).parameters.values()}
    assert kinds == {inspect.Parameter.KEYWORD_ONLY}, function.__name__


def test_assemble_builds_the_graph_of_one_mock(app_calls: list[dict[str, Any]]) -> None:
    store = LiveCollection(USERS)
    config = MockConfig(log_size=7, proxy="http://127.0.0.1:9")
    behaviours = Behaviours()
    mock = build.assemble(store=store, config=config, behaviours=behaviours)
    (parts,) = app_calls
    assert parts == {"store": store, "log": mock.log, "settings": config, "errors": mock.error_log,
                     "bridges": mock.bridges, "behaviours": behaviours, "shared": None, "broadcasts": None}
    assert (mock.store, mock.config, mock.app.behaviours) == (store, config, behaviours)
    assert mock.log.maxlen == 7
    assert mock.bridges.proxy is not None and mock.bridges.proxy.upstream == "http://127.0.0.1:9"
    assert (mock.bridges.request_validator, mock.bridges.recorder) == (None, None)


def test_assemble_takes_given_bridges_and_checks_chaos_with() -> None:
    bridges = Bridges()
    mock = build.assemble(store=LiveCollection(USERS), config=MockConfig(), bridges=bridges)
    assert mock.bridges is bridges
    build.assemble(store=LiveCollection(USERS), config=MockConfig(chaos=0.5, chaos_with="List"))
    with pytest.raises(ConfigError, match="--chaos-with 'Nowhere' is not 503, a fault or an example"):
        build.assemble(store=LiveCollection(USERS), config=MockConfig(chaos=0.5, chaos_with="Nowhere"))


def test_the_notebook_mock_has_the_sessions_parts_and_its_document() -> None:
    store, behaviours = LiveCollection(USERS), Behaviours()
    with pytest.raises(ConfigError) as refused:
        build.notebook_mock(store=store, config=MockConfig(validate_requests=True), spec=None, behaviours=behaviours)
    assert str(refused.value) == ("--validate-requests needs an OpenAPI document, and none is loaded\n"
                                  "Hint: serve (or %mock load) the OpenAPI document the examples come from")
    spec = load_any(SPEC).spec
    mock = build.notebook_mock(store=store, config=MockConfig(validate_requests=True), spec=spec,
                               behaviours=behaviours)
    assert (mock.store, mock.app.behaviours) == (store, behaviours)
    assert mock.bridges.request_validator is not None
    plain = build.notebook_mock(store=store, config=MockConfig(), spec=spec, behaviours=behaviours)
    assert plain.bridges.request_validator is None, "a document alone does not validate"


@pytest.mark.parametrize("wording, message", [
    (build.COMMAND, "--validate-requests needs an OpenAPI document, and this is a Postman collection"),
    (build.ENVIRONMENT, "POSTMOCK_VALIDATE_REQUESTS=1 needs an OpenAPI document, and POSTMOCK_COLLECTION is a "
                        "Postman collection"),
])
def test_a_file_mock_refuses_validation_without_a_document_before_reading_the_environment(
        wording: build.Wording, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        build.file_mock(loaded=Loaded(USERS), config=MockConfig(validate_requests=True),
                        environment=_no_environment, wording=wording)
    assert str(refused.value) == f"{message}\nHint: serve the OpenAPI document the collection was made from"
    with pytest.raises(ConfigError, match="--chaos-with 'Nowhere'"):
        build.file_mock(loaded=Loaded(USERS), config=MockConfig(chaos_with="Nowhere"),
                        environment=_no_environment, wording=wording)


def test_a_file_mock_serves_the_file_with_its_environment_and_document() -> None:
    loaded = load_any(SPEC)
    mock = build.file_mock(loaded=loaded, config=MockConfig(validate_requests=True),
                           environment=lambda: (("baseUrl", "https://staging.example.com"),),
                           wording=build.COMMAND)
    assert mock.store.snapshot.collection == loaded.collection
    assert mock.store.snapshot.variables["baseUrl"] == "https://staging.example.com"
    assert mock.bridges.request_validator is not None
    assert mock.log.maxlen == MockConfig().log_size


def test_a_worker_shares_the_parents_collection_settings_and_bridges_not_its_logs() -> None:
    parent = build.file_mock(loaded=Loaded(USERS), config=MockConfig(private=True), environment=tuple,
                             wording=build.COMMAND)
    worker = build.worker_mock(parent)
    assert (worker.store, worker.config, worker.bridges) == (parent.store, parent.config, parent.bridges)
    assert worker.config.key == parent.config.key
    assert worker.log is not parent.log and worker.error_log is not parent.error_log and worker.app is not parent.app


def test_mock_server_runs_what_the_root_assembles(app_calls: list[dict[str, Any]]) -> None:
    server = MockServer(USERS, port=8123, delay_ms=5)
    assert (server.config.port, server.config.delay_ms) == (8123, 5)
    assert (server.app, server.log, server.error_log, server.store) == (
        server.mock.app, server.mock.log, server.mock.error_log, server.mock.store)
    assert app_calls[-1]["settings"] is server.config
    journal = RequestLog(3)
    given = MockServer(USERS, log=journal)
    assert given.log is journal and app_calls[-1]["log"] is journal
    mock = build.assemble(store=LiveCollection(USERS), config=MockConfig())
    assert MockServer(mock=mock).app is mock.app
    with pytest.raises(TypeError, match="takes the assembled mock alone"):
        MockServer(mock=mock, port=1)


@pytest.mark.parametrize("wording, option", [(build.COMMAND, "--dynamic"), (build.ENVIRONMENT, "POSTMOCK_DYNAMIC=1"),
                                             (build.NOTEBOOK, "--dynamic")])
def test_dynamic_bodies_need_a_document(wording: build.Wording, option: str) -> None:
    with pytest.raises(ConfigError, match=f"^{option} needs an OpenAPI document, and {wording.lacking}"):
        build.require_document(MockConfig(dynamic=True), None, wording=wording)
    build.require_document(MockConfig(dynamic=True), load_any(SPEC).spec, wording=wording)


def test_a_document_gives_the_bridges_fresh_bodies_seeded_by_the_option() -> None:
    bridges = build.file_mock(loaded=load_any(SPEC), config=MockConfig(dynamic=True, seed=3),
                              environment=tuple, wording=build.COMMAND).bridges
    assert bridges.fresh is not None and bridges.fresh.spec is not None
    assert bridges.fresh.rng.random() == random.Random(3).random()
    assert build.file_mock(loaded=Loaded(USERS), config=MockConfig(), environment=tuple,
                           wording=build.COMMAND).bridges.fresh is None
