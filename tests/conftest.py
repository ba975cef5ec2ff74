"""Fixtures shared by the whole test suite, in layers.

1. Paths: where the fixture collections live (``fixtures_dir``, ``load_fixture``).
2. Builders: small collections written in a line each (``build``).
3. Hygiene (autouse): no test leaves a mock server, its thread or its port behind.
4. IPython shells and the loaded extension: added by the notebook tests, at the end of this file.

The fixture collections are MIT-licensed Postman collections kept beside the repository
(``shared/`` next to ``main/``, as CI clones them), never copied into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from postmock_nb.model import Collection, Example, Pairs, RequestSpec, ResponseSpec
from postmock_nb.postman import load_collection
from postmock_nb.server import MockServer

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "postman-local-mock-server"


# -- 1. paths --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The directory of the Postman collections the behaviour is measured against."""
    if not FIXTURES_DIR.is_dir():
        pytest.fail(f"fixture collections not found at {FIXTURES_DIR}: clone the shared repository "
                    f"beside this one (…/shared next to …/main)")
    return FIXTURES_DIR


@pytest.fixture(scope="session")
def load_fixture(fixtures_dir: Path):
    """``load_fixture("test-scoring-collection.json")`` → an imported Collection (cached: it is immutable)."""
    cache: dict[str, Collection] = {}

    def load(name: str) -> Collection:
        if name not in cache:
            cache[name] = load_collection(fixtures_dir / name)
        return cache[name]

    return load


# -- 2. builders -----------------------------------------------------------------------------


def _split_url(url: str) -> tuple[str, Pairs]:
    """``/users/:id?a=1&b=`` → (``/users/:id``, (("a", "1"), ("b", ""))), values kept as written."""
    path, _, query = url.partition("?")
    return path or "/", tuple((k, v) for k, _, v in (p.partition("=") for p in query.split("&") if p))


def make_example(request: str, name: str = "", *, status: int = 200, body: str = "",
                 headers: dict[str, str] | None = None, request_headers: dict[str, str] | None = None,
                 request_body: str = "", id: str | None = None, preview_language: str = "") -> Example:
    """``make_example("GET /users/:id?role=admin", "Admin")``: one example from a one-line request."""
    method, _, url = request.partition(" ")
    path, query = _split_url(url.strip())
    spec = RequestSpec(method=method.upper(), path=path, query=query,
                       headers=tuple((request_headers or {}).items()), body=request_body)
    response = ResponseSpec(status=status, headers=tuple((headers or {}).items()), body=body,
                            preview_language=preview_language)
    example = Example(name=name or request, request=spec, response=response)
    return example if id is None else Example(example.name, spec, response, id=id)


def make_collection(*examples: Example, variables: dict[str, str] | None = None,
                    name: str = "test collection") -> Collection:
    """A collection holding ``examples`` in order; examples of the same method and path share an item."""
    collection = Collection(name=name, variables=tuple((variables or {}).items()))
    for example in examples:
        collection = collection.with_example(example)
    return collection


@pytest.fixture(scope="session")
def build() -> SimpleNamespace:
    """``build.example("GET /users", "List", body="[]")`` and ``build.collection(ex1, ex2, variables={...})``."""
    return SimpleNamespace(example=make_example, collection=make_collection)


# -- 3. hygiene ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def stop_leftover_servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[MockServer]]:
    """Stop every MockServer a test bound or started and did not stop, so no thread or port leaks.

    Tracks instances by wrapping ``MockServer.bind`` and ``MockServer.start``; yields the list
    of servers seen, for tests that want to look at it. Servers of fixtures with a wider scope
    (module, session) are set up before this fixture and left alone.
    """
    seen: list[MockServer] = []
    original_bind, original_start = MockServer.bind, MockServer.start

    def remember(server: MockServer) -> None:
        if not any(s is server for s in seen):
            seen.append(server)

    def tracking_bind(self: MockServer, *args, **kwargs):
        remember(self)
        return original_bind(self, *args, **kwargs)

    def tracking_start(self: MockServer, *args, **kwargs):
        remember(self)
        return original_start(self, *args, **kwargs)

    monkeypatch.setattr(MockServer, "bind", tracking_bind)
    monkeypatch.setattr(MockServer, "start", tracking_start)
    yield seen
    for server in seen:
        server.stop()  # safe on a stopped server: closes a socket left bound, joins a thread left running


# -- 4. IPython shells and the extension (notebook tests) -------------------------------------
