"""Fixtures shared by the whole test suite, in layers.

0. Test layers: every test gets the marker of the folder it is in (``tests/unit/``, ``server/``, ``cli/``,
   ``kernel/``, ``browser/``, ``newman/``, ``binder/``, ``packaging/``); a unit test (its fixtures too)
   that binds a socket or starts a process fails; and a test whose layer needs a tool this
   machine lacks (Chromium, newman, git) is skipped with the reason — or fails, when
   ``POSTMOCK_REQUIRE_ALL=1`` (CI), so CI never skips silently. What tests share is in ``tests/support/``.
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
from IPython.core.interactiveshell import InteractiveShell
from support.builders import make_collection, make_example
from support.environments import BROWSER_ENVIRONMENT
from support.fixture_collections import FIXTURES_DIR
from support.layers import LayerViolation, skip_unless_required
from support.paths import ROOT
from support.receiver import Receiver
from support.redis_server import RedisServer
from support.shells import loaded_shell

from postmock_nb.core.model import Collection
from postmock_nb.formats.postman import load_collection
from postmock_nb.serving import servers
from postmock_nb.serving.server import MockServer

# -- 0. test layers ----------------------------------------------------------------------------

TESTS = Path(__file__).resolve().parent
LAYERS = ("unit", "server", "cli", "kernel", "browser", "newman", "binder", "packaging")
"""The layers, each a folder of tests/ (``tests/unit/<subpackage>/test_<module>.py`` for the pure modules):
a test's layer is the folder it is in."""
LAYER_OF_TEST = {  # the few tests of another layer than their folder's (a module is never split across folders)
    "test_cli_serve_with_an_environment": "cli",  # server/test_environment_served.py
    "test_cli_serves_yaml_with_request_validation": "cli",  # server/test_openapi_served.py
    "test_kernel_dashboard_state_lists_every_request": "kernel",  # server/test_widgets.py
    "test_kernel_stays_responsive_and_widget_messages_bounded_under_load": "kernel",  # server/test_widgets.py
    "test_postman_collection_sdk_reads_the_built_export": "newman",  # unit/formats/test_postman_export.py
    "test_postman_collection_sdk_reads_every_fixture_export": "newman",  # unit/formats/test_postman_export.py
}
SERIAL_LAYERS = {"browser", "binder", "packaging"}
"""Layers whose tests run one after another on one xdist worker (each is heavy on its own)."""


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


def layer_of(path: Path) -> str | None:
    """The layer of the test module at ``path``: the folder of tests/ it is in (None outside a layer's folder)."""
    try:
        parts = path.resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 and parts[0] in LAYERS else None


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group markers (it gives each test its group)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every test its layer marker, from its folder (and an xdist group for the layers that run serially)."""
    outside = sorted({str(item.path.relative_to(TESTS.parent)) for item in items if layer_of(item.path) is None})
    if outside:
        raise pytest.UsageError(f"test modules outside a layer's folder: {outside}: put each in tests/<layer>/ "
                                f"(one of {', '.join(LAYERS)}; pure modules: tests/unit/<subpackage>/test_<module>.py)")
    for item in items:
        name = getattr(item, "originalname", item.name)
        layer = LAYER_OF_TEST.get(name) or layer_of(item.path)
        item.add_marker(getattr(pytest.mark, layer))
        if layer in SERIAL_LAYERS and config.pluginmanager.hasplugin("xdist"):
            item.add_marker(pytest.mark.xdist_group(layer))


@pytest.hookimpl(specname="pytest_runtest_setup")
def pytest_serial_layers_stay_grouped(item: pytest.Item) -> None:
    """Under ``--dist loadgroup``, a serial layer's test fails when it lost its xdist group (pytest-xdist#1386: the
    group is a suffix xdist writes into the node id, which some pytest versions ignore): it would run beside the
    layer's other tests and build their environments twice."""
    serial = any(item.get_closest_marker(layer) for layer in SERIAL_LAYERS)
    if serial and item.config.getoption("loadgroup", default=False) and "@" not in item.nodeid:
        pytest.fail(f"--dist loadgroup is not grouping ({item.nodeid} has no @group): this pytest and pytest-xdist "
                    "do not work together (pytest-xdist#1386); install the test extra's pins (pip install -e '.[test]')",
                    pytrace=False)


_missing: dict[str, str | None] = {}


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


def _refuse(what: str, layer: str) -> Callable[..., object]:
    def refused(*args: object, **kwargs: object) -> object:
        raise LayerViolation(f"a unit test {what}: move it to the {layer} layer (its module to tests/{layer}/)")
    return refused


@pytest.hookimpl(wrapper=True, specname="pytest_runtest_setup")
def pytest_unit_setup_stays_in_process(item: pytest.Item) -> Iterator[None]:
    """A ``unit`` test's set-up (its fixtures of every scope) stays in process too."""
    with _in_process_only(item):
        return (yield)


@pytest.hookimpl(wrapper=True, specname="pytest_runtest_call")
def pytest_unit_call_stays_in_process(item: pytest.Item) -> Iterator[None]:
    """The ``unit`` layer is pure and in-process: a unit test that binds a socket, connects or starts a
    process fails, naming the layer to move it to (``server`` or ``cli``)."""
    with _in_process_only(item):
        return (yield)


@contextmanager
def _in_process_only(item: pytest.Item) -> Iterator[None]:
    if item.get_closest_marker("unit") is None:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "bind", _refuse("bound a socket", "server"))
        patch.setattr(socket.socket, "connect", _refuse("opened a connection", "server"))
        patch.setattr(subprocess.Popen, "__init__", _refuse("started a process", "cli"))
        patch.setattr(os, "posix_spawn", _refuse("started a process", "cli"))
        patch.setattr(os, "fork", _refuse("started a process", "cli"))
        yield


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


# -- 2. builders (support/builders.py) ------------------------------------------------------


@pytest.fixture(scope="session")
def build() -> SimpleNamespace:
    """``build.example("GET /users", "List", body="[]")`` and ``build.collection(ex1, ex2, variables={...})``."""
    return SimpleNamespace(example=make_example, collection=make_collection)


# -- 2b. a real Redis (support/redis_server.py) ------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One ``redis-server`` per test session (and xdist worker) on a free loopback port, no persistence."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


_next_db = iter(range(1, 1_000_000))


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A Redis URL of a database of its own for this test (emptied first): ``--state`` it."""
    import redis  # deferred: only the shared-state tests need the client

    url = redis_server.db_url(1 + next(_next_db) % 63)
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local HTTP receiver on 127.0.0.1 (support/receiver.py): what callbacks and webhooks reach."""
    found = Receiver()
    yield found
    found.close()


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


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    """The test IPython shell with postmock_nb loaded; unloaded (server stopped) afterwards."""
    with loaded_shell() as ip:
        yield ip


# -- 5. where notebooks run: environments imitated ------------------------------------------

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
