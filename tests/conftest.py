"""Fixtures shared by the whole test suite, in layers.

0. Test layers: every test module gets a layer marker here (``unit``, ``server``, ``cli``, ``kernel``,
   ``browser``, ``newman``, ``binder``, ``packaging``), and a test whose layer needs a tool this
   machine lacks (Chromium, newman, git) is skipped with the reason — or fails, when
   ``POSTMOCK_REQUIRE_ALL=1`` (CI), so CI never skips silently.
1. Paths: where the fixture collections live (``fixtures_dir``, ``load_fixture``); the HTTP servers a
   mock runs on (``server_name``: a test using it runs once per server).
2. Builders: small collections written in a line each (``build``).
3. Hygiene (autouse): no test leaves a mock server, its thread or its port behind.
4. IPython shells and the loaded extension: added by the notebook tests, at the end of this file.

The fixture collections are MIT-licensed Postman collections of the postman-local-mock-server
project, copied into ``tests/data/postman-local-mock-server/`` (licence and provenance beside them).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from fixture_collections import FIXTURES_DIR
from IPython.core.interactiveshell import InteractiveShell

from postmock_nb.core.model import Collection, Example, Pairs, RequestSpec, ResponseSpec
from postmock_nb.formats.postman import load_collection
from postmock_nb.serving import servers
from postmock_nb.serving.server import MockServer

ROOT = Path(__file__).resolve().parents[1]


# -- 0. test layers ----------------------------------------------------------------------------

LAYER_OF_MODULE = {
    # pure, in-process: no socket, no subprocess (test_app drives the ASGI app in-process)
    "test_app": "unit", "test_matching": "unit", "test_merging": "unit", "test_postman_import": "unit",
    "test_postman_export": "unit", "test_schema": "unit", "test_store": "unit", "test_templating": "unit",
    "test_notebook_files": "unit", "test_config": "unit", "test_openapi": "unit", "test_environment": "unit",
    "test_requestlog": "unit", "test_markers": "unit", "test_snapshot": "unit", "test_persnapshot": "unit", "test_limits": "unit", "test_body_matching": "unit", "test_layers": "unit",
    "test_state": "unit", "test_definitions": "unit", "test_records": "unit", "test_journal": "unit",
    "test_import_graph": "unit", "test_complexity": "unit", "test_public_api": "unit", "test_architecture_doc": "unit", "test_wire": "unit", "test_bridges": "unit",
    # a real mock server on a real 127.0.0.1 socket, in this process
    "test_server": "server", "test_magics": "server", "test_proxy": "server", "test_fuzz": "server",
    "test_server_safety": "server", "test_servers": "server", "test_postman_details": "server",
    "test_behaviours": "server", "test_flows": "server", "test_environment_served": "server", "test_openapi_served": "server", "test_faults": "server", "test_chaos": "server", "test_widgets": "server", "test_pytest_plugin": "server",
    # subprocesses: the postmock command, the README's blocks run for real
    "test_cli": "cli", "test_readme": "cli", "test_asgi": "cli", "test_deploy": "cli",
    # a real Jupyter kernel (nbclient)
    "test_kernel": "kernel", "test_notebooks": "kernel", "test_kernel_quiet": "kernel", "test_behaviours_kernel": "kernel", "test_flows_kernel": "kernel",
    # Chromium driven by Playwright
    "test_browser": "browser",
    # newman / postman-collection from npm
    "test_newman": "newman",
    # a fresh venv built from binder/, a real JupyterLab behind a JupyterHub-style prefix
    "test_binder": "binder",
    # the wheel, built and installed in a bare venv
    "test_packaging": "packaging",
}
LAYER_OF_TEST = {  # tests of another layer than their module's
    "test_cli_serve_with_an_environment": "cli",
    "test_cli_serves_yaml_with_request_validation": "cli",
    "test_kernel_dashboard_state_lists_every_request": "kernel",
    "test_kernel_stays_responsive_and_widget_messages_bounded_under_load": "kernel",
    "test_postman_collection_sdk_reads_the_built_export": "newman",
    "test_postman_collection_sdk_reads_every_fixture_export": "newman",
}
SERIAL_LAYERS = {"browser", "binder", "packaging"}
"""Layers whose tests run one after another on one xdist worker (each is heavy on its own)."""

REQUIRE_ALL = os.environ.get("POSTMOCK_REQUIRE_ALL") == "1"


def _chromium() -> str | None:
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        return "Chromium is not installed (Debian package `chromium`: bash scripts/install-system-deps.sh)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install -e '.[test]')"
    return None


def _newman() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed (Debian packages `nodejs npm`: bash scripts/install-system-deps.sh)"
    missing = [tool for tool in ("newman", "postman-collection") if not (ROOT / "node_modules" / tool).is_dir()]
    if missing:
        return f"{' and '.join(missing)} not installed in node_modules/ (npm install --no-audit --no-fund)"
    return None


def _kernel() -> str | None:
    missing = [name for name in ("ipykernel", "nbclient", "nbformat") if importlib.util.find_spec(name) is None]
    return f"{', '.join(missing)} not installed (pip install -e '.[test]')" if missing else None


def _git_checkout() -> str | None:
    if shutil.which("git") is None:
        return "git is not installed (the test copies the files a clone has: git ls-files)"
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT, capture_output=True, text=True)
    if inside.returncode != 0:
        return f"{ROOT} is not a git checkout (the test copies the files a clone has: git ls-files)"
    return None


REQUIREMENTS: dict[str, tuple[Callable[[], str | None], ...]] = {
    "browser": (_chromium,), "newman": (_newman,), "kernel": (_kernel,), "binder": (_kernel, _git_checkout),
}
"""What each layer needs beyond the Python packages of ``.[test]``: a check giving the reason it is missing."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every test its layer marker (and an xdist group for the layers that run serially)."""
    unknown = sorted({item.path.name for item in items if item.path.stem not in LAYER_OF_MODULE})
    if unknown:
        raise pytest.UsageError(f"test modules without a layer: {unknown}: add them to LAYER_OF_MODULE in tests/conftest.py")
    for item in items:
        name = getattr(item, "originalname", item.name)
        layer = LAYER_OF_TEST.get(name, LAYER_OF_MODULE[item.path.stem])
        item.add_marker(getattr(pytest.mark, layer))
        if layer in SERIAL_LAYERS and config.pluginmanager.hasplugin("xdist"):
            item.add_marker(pytest.mark.xdist_group(layer))


_missing: dict[str, str | None] = {}


def skip_unless_required(reason: str, what: str) -> None:
    """Skip the test for ``reason``; or fail it, when ``POSTMOCK_REQUIRE_ALL=1`` forbids skipping ``what``."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} — and POSTMOCK_REQUIRE_ALL=1 forbids skipping {what}", pytrace=False)
    pytest.skip(f"{what}: {reason}")


@pytest.hookimpl(tryfirst=True)  # before the test's own skipif markers: under REQUIRE_ALL a missing tool fails
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or, with ``POSTMOCK_REQUIRE_ALL=1``, fail) a test whose layer needs a missing tool."""
    for layer, checks in REQUIREMENTS.items():
        if item.get_closest_marker(layer) is None:
            continue
        for check in checks:
            if check.__name__ not in _missing:
                _missing[check.__name__] = check()
            reason = _missing[check.__name__]
            if reason is None:
                continue
            skip_unless_required(reason, f"{layer} tests")


class LayerViolation(Exception):
    """A ``unit`` test bound a socket or started a process: it belongs to another layer."""


@pytest.fixture(autouse=True)
def _unit_tests_stay_in_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``unit`` layer is pure and in-process: a unit test that binds a socket, connects or starts a
    process fails, naming the layer to move it to (``server`` or ``cli``)."""
    if request.node.get_closest_marker("unit") is None:
        return

    def refuse(what: str, layer: str) -> Callable[..., object]:
        def refused(*args: object, **kwargs: object) -> object:
            raise LayerViolation(f"a unit test {what}: move it to the {layer} layer (tests/conftest.py, LAYER_OF_MODULE)")
        return refused

    monkeypatch.setattr(socket.socket, "bind", refuse("bound a socket", "server"))
    monkeypatch.setattr(socket.socket, "connect", refuse("opened a connection", "server"))
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("started a process", "cli"))
    monkeypatch.setattr(os, "posix_spawn", refuse("started a process", "cli"))
    monkeypatch.setattr(os, "fork", refuse("started a process", "cli"))


# -- 1. paths --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The directory of the Postman collections the behaviour is measured against."""
    if not FIXTURES_DIR.is_dir():
        pytest.fail(f"fixture collections not found at {FIXTURES_DIR} (they are part of the repository)")
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


@pytest.fixture(scope="module", params=servers.NAMES)
def server_name(request: pytest.FixtureRequest) -> str:
    """Each server a mock runs on, by name (``MockServer(..., server=server_name)``).

    Module-scoped, so that a module's tests run server by server and a module-scoped fixture
    built on it (one fuzz run, one server) is set up once per server. A server whose packages
    are not installed is skipped with the command that installs them — or fails the test with
    ``POSTMOCK_REQUIRE_ALL=1`` (CI installs them all: the test extra pulls the fast ones).
    """
    name: str = request.param
    absent = servers.missing(name)
    if absent:
        skip_unless_required(f"{name} is not installed (missing {', '.join(absent)}): {servers.SERVERS[name].install}",
                             f"the {name} server's tests")
    return name


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


@contextmanager
def loaded_shell() -> Iterator[InteractiveShell]:
    """The test IPython shell with postmock_nb loaded (a fresh session each time); unloaded (server
    stopped) afterwards. Usable where one test needs several sessions in turn, as fresh kernels."""
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "postmock_nb")
    try:
        yield ip
    finally:
        ip.run_line_magic("unload_ext", "postmock_nb")


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    """The test IPython shell with postmock_nb loaded; unloaded (server stopped) afterwards."""
    with loaded_shell() as ip:
        yield ip


# -- 5. where notebooks run: environments imitated ------------------------------------------

BROWSER_ENVIRONMENT = ("POSTMOCK_PUBLIC_URL", "JUPYTERHUB_SERVICE_PREFIX", "CODESPACES", "CODESPACE_NAME",
                       "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN", "TERM_PROGRAM", "VSCODE_PID",
                       "VSCODE_IPC_HOOK_CLI", "VSCODE_CWD", "VSCODE_AGENT_FOLDER", "REMOTE_CONTAINERS",
                       "VSCODE_REMOTE_CONTAINERS_SESSION", "SSH_CONNECTION", "WSL_DISTRO_NAME")
"""The variables postmock_nb.serving.browser_address reads: a test starts with none of them set."""
COLAB_STANDIN = '''"""A stand-in for Colab's google.colab.output (tests only): the page's proxyPort, answered here."""
import re
import threading

ASKED = []


def eval_js(script, ignore_result=False, timeout_sec=None):
    port = re.fullmatch(r"google\\.colab\\.kernel\\.proxyPort\\((\\d+)\\)", script)
    if port is None:
        raise ValueError(f"the stand-in only answers proxyPort, not {script!r}")
    ASKED.append((int(port.group(1)), threading.current_thread().name))
    return f"https://{port.group(1)}-m-s-standin.prod.colab.dev"
'''


@pytest.fixture
def browser_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """None of the variables that say where the browser is (a test sets the ones it imitates)."""
    for name in BROWSER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def colab_standin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a stand-in ``google.colab`` (Colab's package: ``output.eval_js`` answers the page's
    ``google.colab.kernel.proxyPort(port)`` with a URL) to put on ``sys.path`` or ``PYTHONPATH``."""
    root = tmp_path_factory.mktemp("colab-standin")
    package = root / "google" / "colab"  # no google/__init__.py: a namespace package, as Google's are
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Stand-in for Google Colab\'s package (tests only)."""\n')
    (package / "output.py").write_text(COLAB_STANDIN)
    return root
