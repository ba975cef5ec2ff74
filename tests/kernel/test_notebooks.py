"""The notebooks' data and helpers, outside JupyterLab.

Running each notebook the way a person does (JupyterLab, Run All, then looking at its
dashboard or page) is tests/browser/test_browser.py; what each notebook's cells must show is listed
there. Here: notebooks 05 and 10 under a JupyterHub/Binder prefix (run with nbclient, sending cell
ids the way JupyterLab does, because ``%%example`` uses them), the sample collections in
``notebooks/data/`` (they validate, ``make demo`` serves them, newman runs them) and the
team-directory page on its own against ``make demo``'s collection, in headless Chromium.
The committed notebooks' own form (no outputs, stable ids) is tests/unit/test_notebook_files.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests
from nbclient import NotebookClient
from support.notebook_cells import NODE_BIN, cell_text, find_cell, newman_available, squeeze

from postmock_nb.cli import main as postmock_main
from postmock_nb.formats.postman import load_collection
from postmock_nb.serving.server import MockServer

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
USERS_COLLECTION = NOTEBOOK_DIR / "data" / "users.postman_collection.json"
ORDERS_COLLECTION = NOTEBOOK_DIR / "data" / "orders.postman_collection.json"
CELL_TIMEOUT = 60
IN_CI = bool(os.environ.get("CI"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]




# -- running a notebook ------------------------------------------------------------------------


class LabLikeClient(NotebookClient):
    """An nbclient that sends each cell's id with its execute request, as JupyterLab does.

    (nbclient itself sends none; ``%%example`` behaves differently with and without it.)
    """

    def __init__(self, nb: Any, **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self.current_cell_id: str | None = None
        self.on_cell_execute = self._on_cell_execute

    async def _on_cell_execute(self, cell: Any, cell_index: int) -> None:
        self.current_cell_id = cell.get("id")

    async def async_start_new_kernel_client(self) -> Any:
        kc = await super().async_start_new_kernel_client()
        build_message = kc.session.msg

        def msg(msg_type: str, content: Any = None, parent: Any = None, header: Any = None, metadata: Any = None):
            if msg_type == "execute_request":
                metadata = {**(metadata or {}), "cellId": self.current_cell_id}
            return build_message(msg_type, content, parent, header, metadata)

        kc.session.msg = msg
        return kc


def run_notebook(path: Path) -> Any:
    """Execute the notebook at ``path`` in its own directory; returns the executed notebook."""
    nb = nbformat.read(path, as_version=4)
    client = LabLikeClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb








# -- the team-directory page, in a browser ------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def _browser_problem() -> str | None:
    if CHROMIUM is None:
        return "Chromium is not installed (scripts/install-system-deps.sh installs it)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@contextlib.contextmanager
def static_server(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (another origin than any mock); yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def use_team_directory(url: str, *, scenarios: bool) -> None:
    """Open the team-directory page at ``url`` in Chromium and use it as a person would."""
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(url)
            stage = page.locator(".postmock-stage")
            await stage.get_by_role("button", name="Alice Park").click()
            await expect(stage.get_by_text("alice@example.com")).to_be_visible()
            await stage.get_by_role("button", name="Chloe Diaz").click()
            await expect(stage.get_by_text("This person is no longer in the team.")).to_be_visible()
            await expect(stage.get_by_text("GET /users/3 → 404 (User not found)")).to_be_visible()
            if scenarios:
                await stage.locator("select").select_option(label="Server error")
                await expect(stage.get_by_text("The team could not be loaded (500)")).to_be_visible()
                await stage.locator("select").select_option(label="Empty team")
                await expect(stage.get_by_text("No one here yet")).to_be_visible()
            assert not errors, f"the page raised JavaScript errors: {errors}"
        finally:
            await browser.close()


# -- the tests -------------------------------------------------------------------------------


PAGE_ADDRESSES = {
    # where Jupyter runs: (how it is imitated, the address the page calls, with {port})
    "binder": ({"JUPYTERHUB_SERVICE_PREFIX": "/user/demo-1234/"}, "/user/demo-1234/proxy/{port}/"),
    "colab": ({}, "https://{port}-m-s-standin.prod.colab.dev/"),  # a stand-in google.colab on PYTHONPATH
    "vscode-remote": ({"VSCODE_AGENT_FOLDER": "/home/me/.vscode-server", "SSH_CONNECTION": "10.0.0.2 5 10.0.0.3 22"},
                      "http://localhost:{port}/"),
}


@pytest.mark.parametrize("where", sorted(PAGE_ADDRESSES))
def test_the_frontend_page_calls_the_address_the_browser_reaches(tmp_path: Path, where: str, browser_environment,
                                                                  colab_standin: Path) -> None:
    """Under JupyterHub/Binder, Colab or VS Code remote the page's API address is the one a browser reaches
    (the notebook server's /proxy/<port>/, Colab's proxyPort, VS Code's forwarded localhost port), and
    ``%mock start`` prints it. The environments are imitated: their variables; Colab by a stand-in package."""
    variables, address = PAGE_ADDRESSES[where]
    for name, value in variables.items():
        browser_environment.setenv(name, value)
    if where == "colab":
        browser_environment.setenv("PYTHONPATH", os.pathsep.join(
            [str(colab_standin), *filter(None, [os.environ.get("PYTHONPATH")])]))
    nb = nbformat.read(NOTEBOOK_DIR / "05-frontend-demo.ipynb", as_version=4)
    keep = {"load", "list", "start", "api-url", "page"}
    nb.cells = [c for c in nb.cells if c.get("id") in keep]
    shutil.copytree(NOTEBOOK_DIR / "data", tmp_path / "data")  # the page cell reads data/team-directory.html
    (tmp_path / "elsewhere.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    executed = run_notebook(tmp_path / "elsewhere.ipynb")
    start = cell_text(find_cell(executed, "start"))
    port = re.search(r"Mock running at http://127\.0\.0\.1:(\d+)", start)
    assert port, start
    expected = address.format(port=port.group(1))
    assert f"From your browser: {expected}" in start, start
    api_url = squeeze(cell_text(find_cell(executed, "api-url")))
    assert api_url.strip().endswith(f"the page calls {expected.rstrip('/')}"), api_url
    html = next(o["data"]["text/html"] for o in find_cell(executed, "page").outputs if "text/html" in o.get("data", {}))
    assert f'const given = "{expected.rstrip("/")}"' in html


def test_the_realtime_chat_page_calls_the_binder_proxy(tmp_path: Path, browser_environment) -> None:
    """Notebook 10's page under a JupyterHub/Binder prefix: its streams and its socket go to the notebook server's
    proxy (``/user/…/proxy/<port>``; the page makes it absolute and ``ws:`` for the socket), not to 127.0.0.1.
    (That the proxy passes SSE and WebSockets through is tests/binder/test_binder.py.)"""
    browser_environment.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/demo-1234/")
    nb = nbformat.read(NOTEBOOK_DIR / "10-realtime.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if c.get("id") in {"load", "reply", "start", "api-url", "page"}]
    shutil.copytree(NOTEBOOK_DIR / "data", tmp_path / "data")  # the page cell reads data/team-chat.html
    (tmp_path / "elsewhere.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    executed = run_notebook(tmp_path / "elsewhere.ipynb")
    port = re.search(r"Mock running at http://127\.0\.0\.1:(\d+)", cell_text(find_cell(executed, "start")))
    assert port, cell_text(find_cell(executed, "start"))
    expected = f"/user/demo-1234/proxy/{port.group(1)}"
    assert squeeze(cell_text(find_cell(executed, "api-url"))).strip() == f"the page calls {expected}"
    html = next(o["data"]["text/html"] for o in find_cell(executed, "page").outputs if "text/html" in o.get("data", {}))
    assert f'const given = "{expected}"' in html and "__API_URL__" not in html and "__CHAT_ID__" not in html
    assert 'new URL("ws/presence?name=You", BASE)' in html and 'new URL(API.replace(/\\/?$/, "/"), location.href)' in html


@pytest.mark.parametrize("collection", [USERS_COLLECTION, ORDERS_COLLECTION], ids=lambda p: p.name)
def test_sample_collections_validate_cleanly(collection: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert postmock_main(["validate", str(collection)]) == 0
    out, err = capsys.readouterr()
    assert "can be served" in out and "warning" not in out + err, out + err


def test_demo_collection_serves_the_users_api() -> None:
    """What ``make demo`` serves: list, get by id, 404 for other ids, create (echoing the body)."""
    with MockServer(load_collection(USERS_COLLECTION)) as mock:
        users = requests.get(mock.url + "/users", timeout=10)
        assert users.status_code == 200 and [u["name"] for u in users.json()][:2] == ["Alice Park", "Ben Carter"]
        assert users.headers["X-Total-Count"] == "3"
        assert requests.get(mock.url + "/users/1", timeout=10).json()["name"] == "Alice Park"
        missing = requests.get(mock.url + "/users/42", timeout=10)
        assert (missing.status_code, missing.json()) == (404, {"error": "User not found"})
        created = requests.post(mock.url + "/users", json={"name": "Dana Evans", "email": "dana@example.com"}, timeout=10)
        assert created.status_code == 201 and created.headers["Location"] == "/users/4"
        assert created.json() == {"id": 4, "name": "Dana Evans", "email": "dana@example.com", "role": "viewer"}


@pytest.mark.timeout(120)
def test_newman_runs_the_demo_collection_against_the_mock(tmp_path: Path) -> None:
    """Postman's own runner reads the demo collection, and every request gets its example."""
    if not newman_available():
        if IN_CI:
            pytest.fail("newman is not installed in CI: scripts/install-system-deps.sh should have run npm install")
        pytest.skip("newman is not installed (npm install)")
    report = tmp_path / "report.json"
    with MockServer(load_collection(USERS_COLLECTION)) as mock:
        result = subprocess.run(
            [str(NODE_BIN / "newman"), "run", str(USERS_COLLECTION), "--env-var", f"baseUrl={mock.url}",
             "--color", "off", "--reporters", "cli,json", "--reporter-json-export", str(report)],
            capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    run = json.loads(report.read_text())["run"]
    codes = {e["item"]["name"]: e["response"]["code"] for e in run["executions"]}
    assert codes == {"GET /users": 200, "GET /users/1": 200, "GET /users/:id": 404, "POST /users": 201}, codes
    assert run["stats"]["requests"]["failed"] == 0


@pytest.mark.timeout(60)
def test_team_directory_page_works_on_its_own_against_make_demo() -> None:
    """notebooks/data/team-directory.html outside the notebook, on the collection `make demo` serves."""
    problem = _browser_problem()
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)
    with MockServer(load_collection(USERS_COLLECTION)) as mock, static_server(NOTEBOOK_DIR / "data") as base:
        asyncio.run(use_team_directory(f"{base}/team-directory.html?api={mock.url}", scenarios=False))
        assert {e.path for e in mock.log.recent(10)} >= {"/users", "/users/1", "/users/3"}
