"""The notebooks in notebooks/ run top to bottom in a real kernel, and say what they should.

Each notebook runs with nbclient in a temporary copy of notebooks/ (so nothing is written
into the repository), one kernel per notebook, one after the other (they are a few seconds
each; a second core buys little and two kernels racing for ports and CPU buys flaky
timings). Cells are sent the way JupyterLab sends them, with their cell id, because
``%%example`` uses it to know which cell defined which example.

Outputs are checked where the notebook's prose depends on them: the status codes it prints,
the 401 of the private mock, newman's summary, the merge report. Notebook 05's page is
opened in headless Chromium while its mock runs, and clicked through.
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
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import nbformat
import pytest
import requests
from nbclient import NotebookClient

from postmock_nb.cli import main as postmock_main
from postmock_nb.postman import load_collection
from postmock_nb.server import MockServer

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb"))
USERS_COLLECTION = NOTEBOOK_DIR / "data" / "users.postman_collection.json"
ORDERS_COLLECTION = NOTEBOOK_DIR / "data" / "orders.postman_collection.json"
NODE_BIN = ROOT / "node_modules" / ".bin"
CELL_TIMEOUT = 60
IN_CI = bool(os.environ.get("CI"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def newman_available() -> bool:
    return (NODE_BIN / "newman").exists() and shutil.which("node") is not None


# -- running a notebook ------------------------------------------------------------------------


class LabLikeClient(NotebookClient):
    """An nbclient that sends each cell's id with its execute request, as JupyterLab does.

    (nbclient itself sends none; ``%%example`` behaves differently with and without it.)
    ``before_stop`` runs, with the notebook so far, just before the last ``%mock stop`` cell.
    """

    def __init__(self, nb: Any, before_stop: Callable[[Any], Awaitable[None]] | None = None, **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self.current_cell_id: str | None = None
        self.before_stop = before_stop
        stops = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip() == "%mock stop"]
        self.last_stop = stops[-1] if stops else None
        self.on_cell_execute = self._on_cell_execute

    async def _on_cell_execute(self, cell: Any, cell_index: int) -> None:
        self.current_cell_id = cell.get("id")
        if self.before_stop is not None and cell_index == self.last_stop:
            await self.before_stop(self.nb)

    async def async_start_new_kernel_client(self) -> Any:
        kc = await super().async_start_new_kernel_client()
        build_message = kc.session.msg

        def msg(msg_type: str, content: Any = None, parent: Any = None, header: Any = None, metadata: Any = None):
            if msg_type == "execute_request":
                metadata = {**(metadata or {}), "cellId": self.current_cell_id}
            return build_message(msg_type, content, parent, header, metadata)

        kc.session.msg = msg
        return kc


def run_notebook(name: str, workdir: Path, before_stop: Callable[[Any], Awaitable[None]] | None = None) -> Any:
    """Execute notebooks/<name> in ``workdir`` (a copy of notebooks/); returns the executed notebook."""
    shutil.copytree(NOTEBOOK_DIR, workdir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"), dirs_exist_ok=True)
    nb = nbformat.read(workdir / name, as_version=4)
    client = LabLikeClient(nb, before_stop=before_stop, timeout=CELL_TIMEOUT, kernel_name="python3",
                           resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return nb


def cell_text(cell: Any) -> str:
    """Everything a cell showed, as text (streams, plain-text results, errors)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
        else:
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def squeeze(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text)


def find_cell(nb: Any, key: str) -> Any:
    """The cell with this id, else the one code cell whose source contains ``key``."""
    by_id = [c for c in nb.cells if c.get("id") == key]
    if by_id:
        return by_id[0]
    by_source = [c for c in nb.cells if c.cell_type == "code" and key in c.source]
    assert len(by_source) == 1, f"expected one cell with id or source {key!r}, found {len(by_source)}"
    return by_source[0]


# -- what each notebook must show --------------------------------------------------------------
# notebook → {cell id or source snippet → texts its output must contain (runs of spaces squeezed)}

EXPECTED: dict[str, dict[str, list[str]]] = {
    "01-quickstart.ipynb": {
        "%mock start": ["Mock running at http://127.0.0.1:", "mockUrl is set"],
        'response = requests.get(f"{mockUrl}/users")': ["200 application/json", "'name': 'Alice Park'"],
        "missing = requests.get": ["(404, {'error': 'User not found'})"],
        "typo = requests.get": ["404", "No example matched GET /accounts/7"],
        "--replace": ['Updated example "List users"'],
        'len(requests.get(f"{mockUrl}/users").json())': ["3"],
        "%mock call GET /users/7": ['404', 'example "User not found"'],
        "%mock stop": ["Mock stopped."],
    },
    "02-scenarios.ipynb": {
        "show": ["200 /users <- All users (score 100)", "200 /users?role=admin <- Admins (score 110)",
                 "200 /users?role=editor <- Editors (score 110)"],
        "viewer": ["200 /users?role=viewer <- Admins (score 95)"],
        "plain-again": ["200 /users <- All users (score 100)"],
        "by-header": ["200 /users <- No users yet", "500 /users <- Server down"],
        "by-query": ["500 /users?x-mock-response-code=500 <- Server down",
                     "200 /users?x-mock-response-name=No%20users%20yet <- No users yet"],
        "call-ids": ["200 /users/1 <- Alice (score 100)", "404 /users/42 <- User not found (score 80)"],
        "front-end-checks": ["front end: 3 checks passed"],
        "stop": ["Mock stopped."],
    },
    "03-private-and-public.ipynb": {
        "start": ["Private: send the header x-api-key: PMAK-", "%mock key shows it"],
        "no-key": ["401", "'name': 'AuthenticationError'", "missing x-api-key header"],
        "key": ["starts with PMAK-"],
        "with-key": ["200 [{'id': 1, 'name': 'Alice Park'}"],
        "wrong-key": ["401 This mock is private", "(wrong x-api-key)", "401 (key as a query parameter)"],
        "call": ['200 OK ← example "List users"'],
        "status": ["private,"],
        "own-key": ["200\n401"],
        "public": ["needs no key"],
        "public-call": ["200"],
    },
    "04-postman-roundtrip.ipynb": {
        "save": ["Saved 4 examples to users.postman_collection.json"],
        "peek": ["GET /users/:id 404 User not found", "baseUrl = http://127.0.0.1:"],
        "validate": ["can be served: 4 examples"],
        # "newman": filled in by expected_for(), depending on whether newman is installed
        "load": ["3 examples added", "Open orders", "Order not found"],
        "orders": ["200 /orders?status=open <- Open orders", "200 /orders/1001 <- Order found",
                   "404 /orders/1001?x-mock-response-code=404 <- Order not found"],
        "reload": ["0 examples added, 3 replaced"],
        "save-all": ["Saved 7 examples"],
    },
    "05-frontend-demo.ipynb": {
        "cors-check": ["preflight: 204", "Access-Control-Allow-Origin: *"],
        "api-url": ["the page calls http://127.0.0.1:"],
        "checks": ["/users 200 Team", "/users/1 200 Alice", "/users/3 404 User not found",
                   "/users?x-mock-response-name=No%20users%20yet 200 No users yet",
                   "/users?x-mock-response-code=500 500 Server down"],
    },
    "06-rest-for-beginners.ipynb": {
        "get-calls": ["200 [{'id': 1, 'title': 'Dune'", "200 Dune", "404 {'error': 'No book with that id'}"],
        "headers-example": ['Updated example "All books"'],
        "headers-call": ["X-Total-Count: 2", "Cache-Control: max-age=60"],
        "post-calls": ["201 /books/3 {'id': 3, 'title': 'Middlemarch', 'author': 'George Eliot'}",
                       "422 {'error': 'A book needs a title'}"],
        "change-calls": ["'title': 'Persuasion'", "204 ''"],
        "auth-calls": ["401\n200"],
        "miss-call": ["404", "No example matched POST /books/1", "method does not match"],
    },
    "07-prototype-a-crud-api.ipynb": {
        "todos": ["Resource 'todos': 2 records at /todos", "the live records are in `todos`"],
        "client": ["[x] #1 Write the API sketch", "[ ] #2 Show it to the front-end team"],
        "create": ["created {'title': 'Prototype the API in a notebook', 'done': False, 'id': 3}",
                   "[ ] #3 Prototype the API in a notebook"],
        "edit": ["[x] #2 Show it to the front-end team", "#3 Prototype the API with postmock_nb",
                 "{'total': 3, 'done': 2, 'open': 1}"],
        "delete": ["[x] #2 Show it", "#3 Prototype the API with postmock_nb"],
        "errors": ["the page shows: 404: todos '1' not found", "the page shows: 400 Client Error",
                   "the page shows: 503: The todo service is busy, try again"],
        "live": ["#2 SHOW IT TO THE FRONT-END TEAM"],
        "reset": ["Resource 'todos' reset to its 2 seed records.", "[x] #1 Write the API sketch"],
        "log": ["todos · list (resource todos list)"],
        "stop": ["Mock stopped."],
    },
}


def expected_for(name: str) -> dict[str, list[str]]:
    expected = dict(EXPECTED.get(name, {}))
    if name == "04-postman-roundtrip.ipynb":
        if newman_available():
            expected["newman"] = ["4 requests, 0 failed; 4 assertions, 0 failed", "GET /users/:id -> 404",
                                  "POST /users -> 201"]
        elif IN_CI:
            pytest.fail("newman is not installed in CI: scripts/install-system-deps.sh should have run npm install")
        else:
            expected["newman"] = ["newman is not installed here"]
    return expected


# -- notebook 05: the page, in a browser ------------------------------------------------------


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


async def click_through_stage_page(nb: Any, workdir: Path) -> None:
    """Serve the page notebook 05 displayed from another origin than its mock, and use it."""
    page_cell = find_cell(nb, "page")
    html = next((o["data"]["text/html"] for o in page_cell.outputs if "text/html" in o.get("data", {})), None)
    assert html, "notebook 05 showed no HTML page"
    (workdir / "stage.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>stage</title></head><body>"
        f"{html}</body></html>", encoding="utf-8")
    with static_server(workdir) as base:
        await use_team_directory(f"{base}/stage.html", scenarios=True)


# -- the tests -------------------------------------------------------------------------------


@pytest.fixture
def kernel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels see the repository's node tools (newman) and no JupyterHub/Binder settings."""
    monkeypatch.setenv("PATH", f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    monkeypatch.delenv("POSTMOCK_PUBLIC_URL", raising=False)


def _repo_notebook_files() -> list[str]:
    return sorted(str(p.relative_to(NOTEBOOK_DIR)) for p in NOTEBOOK_DIR.rglob("*") if ".ipynb_checkpoints" not in p.parts)


def test_there_are_notebooks_to_run() -> None:
    assert NOTEBOOKS[:1] == ["01-quickstart.ipynb"], NOTEBOOKS
    assert len(NOTEBOOKS) >= 6, NOTEBOOKS


@pytest.mark.timeout(150)
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_and_shows_what_its_prose_says(name: str, tmp_path: Path, kernel_environment: None) -> None:
    before = _repo_notebook_files()
    workdir = tmp_path / "notebooks"
    browser_skipped = None
    before_stop = None
    if name == "05-frontend-demo.ipynb":
        browser_skipped = _browser_problem()
        if browser_skipped and IN_CI:
            pytest.fail(f"notebook 05's page cannot be checked in CI: {browser_skipped}")
        if browser_skipped is None:
            async def before_stop(nb: Any) -> None:
                await click_through_stage_page(nb, workdir)

    nb = run_notebook(name, workdir, before_stop)

    for key, texts in expected_for(name).items():
        cell = find_cell(nb, key)
        shown = squeeze(cell_text(cell))
        for text in texts:
            assert squeeze(text) in shown, (
                f"{name}, cell {key!r}: expected {text!r} in its output.\n--- cell source:\n{cell.source}\n"
                f"--- output:\n{cell_text(cell)}")
    assert _repo_notebook_files() == before, f"running {name} wrote files into the repository's notebooks/"
    if browser_skipped:
        pytest.skip(f"ran and checked; the page in a browser was not: {browser_skipped}")


def test_the_frontend_page_points_at_the_proxy_on_binder(tmp_path: Path, kernel_environment: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Under JupyterHub/Binder the page's API address is the server's /proxy/<port>/ path."""
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/demo-1234/")
    nb = nbformat.read(NOTEBOOK_DIR / "05-frontend-demo.ipynb", as_version=4)
    keep = {"load", "list", "start", "api-url", "page", "stop"}
    nb.cells = [c for c in nb.cells if c.get("id") in keep]
    (tmp_path / "binder.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    executed = run_notebook("binder.ipynb", tmp_path)
    api_url = squeeze(cell_text(find_cell(executed, "api-url")))
    assert re.search(r"the page calls /user/demo-1234/proxy/\d+$", api_url.strip()), api_url
    start = cell_text(find_cell(executed, "start"))
    assert re.search(r"From your browser: /user/demo-1234/proxy/\d+/", start), start
    html = next(o["data"]["text/html"] for o in find_cell(executed, "page").outputs if "text/html" in o.get("data", {}))
    assert 'const given = "/user/demo-1234/proxy/' in html


def test_notebooks_are_committed_without_outputs() -> None:
    for name in NOTEBOOKS:
        nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (
                    f"{name}, cell {cell.get('id')}: outputs are committed (clear them: "
                    f"jupyter nbconvert --clear-output --inplace notebooks/{name})")
        first = nb.cells[0]
        assert first.cell_type == "markdown" and first.source.startswith("# "), f"{name} should open with a title"


def test_generated_notebooks_match_their_source() -> None:
    """02–06 are written by scripts/build_notebooks.py; an edit to one belongs in the script."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_notebooks.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


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
            capture_output=True, text=True, timeout=90)
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
