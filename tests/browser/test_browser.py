"""Every notebook as a person runs it: JupyterLab 4 in Chromium, Run All, then look.

One ``jupyter lab`` for the module, started on 127.0.0.1 (a free port, a random token,
config/data/settings in a temporary directory, news, update checks and the extension manager
off) on a copy of ``notebooks/``, so nothing is written into the repository. One Debian
Chromium page through Playwright (no browser download; every request that is not to
127.0.0.1/localhost is refused) opens each notebook in turn, runs it from the **Run** menu's
*Run All Cells*, waits until every cell ran and the kernel is idle, and then:

- checks what the cells show: the notebook's model as JupyterLab holds it (the outputs a
  person sees) has no error and no stderr output, and the cells the prose relies on show
  what it says (``EXPECTED``);
- checks that a kernel starting leaves the notebook unmodified (its committed
  ``language_info`` is the kernel's), and that Run All writes nothing beside the notebooks
  (what they make goes into ``out/``);
- looks at what a person looks at after Run All: the quickstart's live dashboard (it still
  says "● Running", lists the requests with their ✗ marks in a table whose columns stay in
  line for a long path, updates when a new cell sends more, its uptime ticks with no request,
  reads well in the light and dark themes); notebook 05's page, clicked through (the team
  list, a person's details, the 404 state, the server-error and empty scenarios, the card
  cleared when the scenario changes; never "cannot be reached"); notebook 10's chat page (the
  welcome streamed over SSE, the presence list and the message a cell pushed over the WebSocket, an
  answer streamed on Ask, the webhook's callback row in the dashboard); every other dashboard's
  columns;
- saves a screenshot per notebook in ``test-artifacts/`` (``dashboard.png`` and
  ``dashboard-dark.png`` are copied to ``docs/`` for the README when
  ``POSTMOCK_UPDATE_DOCS=1``);
- closes the notebook and shuts its kernel down (which stops its mock) before the next.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest
from support.environments import BROWSER_ENVIRONMENT
from support.notebook_cells import NODE_BIN, cell_text, find_cell, newman_available, prism_available, squeeze

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb"))
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs"
IN_CI = bool(os.environ.get("CI"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RUN_ALL_TIMEOUT = 120  # seconds for a whole notebook (04 runs newman)

LONG_PATH = "/reports/" + "quarterly-summary-" * 8 + "north-america?include=" + "every-detail," * 6
LATER_PATHS = ["/users", "/users/5", "/orders/1", "/users?page=2", "/teams", LONG_PATH]
LATER_CELL = f"""\
for path in {LATER_PATHS!r}:
    requests.get(f"{{mockUrl}}{{path}}")"""
LATER_MISSES = ("/orders/1", "/teams", LONG_PATH)

pytestmark = pytest.mark.timeout(240)




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
    },
    "03-private-and-public.ipynb": {
        "start": ["Private: send the header x-api-key: PMAK-", "%mock key shows it"],
        "no-key": ["401", "'name': 'AuthenticationError'", "missing x-api-key header"],
        "key": ["starts with PMAK-"],
        "with-key": ["200 [{'id': 1, 'name': 'Alice Park'}"],
        "wrong-key": ["401 This mock is private", "(wrong x-api-key)", "401 (key as a query parameter)"],
        "call": ['200 OK ← example "List users"'],
        "status": ["private,"],
        "restart": ["Mock stopped."],
        "own-key": ["200\n401"],
        "public": ["needs no key"],
        "public-call": ["200"],
    },
    "04-postman-roundtrip.ipynb": {
        "save": ["Saved 4 examples to out/users.postman_collection.json"],
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
        "change-calls": ["{'id': 2, 'title': 'Emma', 'author': 'J. Austen'}", "{'id': 2, 'title': 'Persuasion'}",
                         "204 ''"],  # ids of one type: GET's are numbers, so PUT's and PATCH's are too
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
        "errors": ["the page shows: 404: todos '1' not found",
                   "the page shows: 400: the body must be a JSON object, got a JSON array",
                   "the page shows: 503: The todo service is busy, try again"],
        "live": ["#2 SHOW IT TO THE FRONT-END TEAM"],
        "reset": ["Resource 'todos' reset to its 2 seed records.", "[x] #1 Write the API sketch"],
        "log": ["todos · list (resource todos list)"],
    },
    "08-error-paths.ipynb": {
        "poll": ["polled: pending → pending → done"],
        "status": ["Scenarios: jobs = finished"],
        "reset": ["Scenario 'jobs' reset to Started.", "after reset: pending"],
        "retry": ["orders after 3 tries: [{'id': 1001, 'status': 'open'}]"],
        "slow-call": ["the page shows: gave up after 2 tries: ReadTimeout"],
        "faults": ["reset: the page shows: gave up after 2 tries: ConnectionError",
                   "truncate: the page shows: gave up after 2 tries: ChunkedEncodingError", "no fault: Alice Park"],
    },
    "09-from-openapi.ipynb": {
        "load": ["Merged 'Pet store'", "5 examples added", 'GET /v1/pets/:petId → 200 "The pet - A dog"'],
        "list-call": ["200 [{'name': 'Tom', 'species': 'cat', 'id': 1}]"],
        "select-call": ["{'id': 2, 'name': 'Rex', 'species': 'dog'}", "404 {'error': 'Pet not found'}"],
        "validate-call": ["422", "$.body - 'name' is a required property",
                          "$.body.species - 'fish' is not one of ['cat', 'dog', 'bird']"],
        "change": ['Updated example "A list of pets"'],
        "changed-call": ["['Tom', 'Rex']"],
        "env": ["Saved a Postman environment with mockUrl and baseUrl"],
    },
    "10-realtime.ipynb": {
        "reply": ['Defined example "Welcome": GET /chat/reply → 200'],
        "read": ["200 text/event-stream", "ms Hi! I am the mock assistant: every word arrives as an event."],
        "answer-call": ['16 events; the first: data: {"text":"You "} the last: data: [DONE]'],
        "api-url": ["the page calls http://127.0.0.1:"],
        "push": ["delivered to 1 open connection(s)"],  # the page's socket: it connected before the push
        "pay": ["202 {'id': 'pay_42', 'status': 'pending'}",
                "the webhook brought: {'body': {'id': 'pay_42', 'status': 'settled'}, 'signature': 't=1,v1=demo'}"],
    },
    "11-sketch-to-contract.ipynb": {
        "frontend": ["the page lists ['Pen', 'Notebook'] and shows 404 Product not found"],
        "save": ["Saved 9 examples to out/shop.yaml (OpenAPI 3.1)."],
        "show": ["Its path /products:", "summary: GET /products", "format: date-time", "- price",
                 "All-products:"],
        # "prism": filled in by expected_for(), depending on whether Prism is installed
        "real-api": ["the real API is at http://127.0.0.1:8124", "'price': '1.50'"],
        "check": ["ok GET /orders (200 application/json", "ok GET /orders/1 (200 application/json",
                  "drift GET /products (200 application/json",
                  "$[0].name: missing (required)", "note: $[0].title: unexpected field (not in the schema)",
                  "drift GET /products/1 (200 application/json", "$.price: expected number, got string",
                  "ok GET /products/9 (404 application/json", "POST /orders (POST is sent only with --unsafe",
                  "9 requests checked against http://127.0.0.1:8124: 3 ok, 2 drift, 4 skipped"],
        "stop-real": ["The real API at http://127.0.0.1:8124 stopped."],
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
    if name == "11-sketch-to-contract.ipynb":
        if prism_available():
            expected["prism"] = ["Prism serves the document: 200 {'id': 1, 'name': 'Pen', 'price': 1.5"]
        elif IN_CI:
            pytest.fail("Prism is not installed in CI: scripts/install-system-deps.sh should have run npm install")
        else:
            expected["prism"] = ["Prism is not installed here", "skipped"]
    return expected








def check_outputs(name: str, nb: Any) -> None:
    """Every code cell ran, none shows an error or stderr, and the prose's cells show what it says."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"{name}, cell {cell.id} did not run:\n{cell.source}"
        bad = [o for o in cell.outputs if o.output_type == "error"
               or (o.output_type == "stream" and o.name == "stderr")]
        assert not bad, f"{name}, cell {cell.id} shows an error:\n{cell.source}\n--- output:\n{cell_text(cell)}"
    for key, texts in expected_for(name).items():
        cell = find_cell(nb, key)
        shown = squeeze(cell_text(cell))
        for text in texts:
            assert squeeze(text) in shown, (
                f"{name}, cell {key!r}: expected {text!r} in its output.\n--- cell source:\n{cell.source}\n"
                f"--- output:\n{cell_text(cell)}")


# -- jupyter lab -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    """PIDs of the process's children, grandchildren… (from /proc; kernels are the lab's children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def _repo_notebook_files() -> list[str]:
    return sorted(str(p.relative_to(NOTEBOOK_DIR)) for p in NOTEBOOK_DIR.rglob("*")
                  if ".ipynb_checkpoints" not in p.parts)


class Lab:
    def __init__(self, process: subprocess.Popen, url: str, token: str, log: Path, root: Path) -> None:
        self.process, self.url, self.token, self.log, self.root = process, url, token, log, root

    def files_beside_the_notebooks(self) -> list[str]:
        """The files in the lab's copy of notebooks/, but for out/ (what the notebooks write) and checkpoints."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*")
                      if p.is_file() and not {".ipynb_checkpoints", "out"} & set(p.relative_to(self.root).parts))

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """End every session and its kernel (the kernel's exit stops its mock), and wait until they are gone."""
        for session in self.api("GET", "/api/sessions") or []:
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels") or []:
            self.api("DELETE", f"/api/kernels/{kernel['id']}")
        deadline = time.monotonic() + 30
        while self.api("GET", "/api/kernels"):
            assert time.monotonic() < deadline, f"kernels still running: {self.api('GET', '/api/kernels')}"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists() or subprocess.run([jupyter, "lab", "--version"], capture_output=True, check=False).returncode:
        pytest.skip(f"jupyter lab is not installed ({jupyter}): pip install -e '.[test]'")
    base = tmp_path_factory.mktemp("lab")
    home = base / "jupyter"
    settings = home / "lab-settings"
    _write_json(settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    _write_json(settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings", {"windowingMode": "none"})
    _write_json(home / "config/jupyter_lab_config.json", {"LabApp": {"news_url": None}})
    root = base / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
               JUPYTER_PLATFORM_DIRS="1", JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               PATH=f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # newman, for notebook 04
    for name in BROWSER_ENVIRONMENT:  # not a Binder, Colab or VS Code remote here: the browser is on this machine
        env.pop(name, None)
    log = base / "jupyter-lab.log"
    command = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly", "--LabApp.expose_app_in_browser=True",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={home / 'workspaces'}"]
    if os.geteuid() == 0:  # CI containers
        command.append("--allow-root")
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root,
                                   start_new_session=True)
    server = Lab(process, f"http://127.0.0.1:{port}", token, log, root)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                server.api("GET", "/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer within 60 s:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        yield server
    finally:
        try:  # shut the kernels down through the server first (they stop their mock servers)
            server.shut_down_kernels()
        except (OSError, AssertionError):
            pass
        leftovers = _descendants(process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        _kill([pid for pid in leftovers if Path(f"/proc/{pid}").exists()], signal.SIGKILL)


# -- the browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(lab: Lab) -> Iterator[SimpleNamespace]:
    """JupyterLab open in a Chromium page (``.page``) that may only reach 127.0.0.1; ``.refused``: URLs it was refused."""
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed: pip install -e '.[test]'")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: bash scripts/install-system-deps.sh")
    refused: list[str] = []
    with sync_api.sync_playwright() as playwright:
        # launch() gives the browser a fresh temporary profile of its own
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 1400}, device_scale_factor=2,
                                      color_scheme="light")
        try:
            def only_local(route) -> None:
                if re.match(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/", route.request.url):
                    route.continue_()
                else:
                    refused.append(route.request.url)
                    route.abort()

            context.route("**/*", only_local)
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{lab.url}/lab?token={lab.token}")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell"
                                   " && document.querySelector('#jp-main-statusbar')", timeout=60_000)
            yield SimpleNamespace(page=page, refused=refused)
        finally:
            context.close()
            browser.close()


# -- a notebook, as a person runs it ---------------------------------------------------------------


def open_notebook(page, name: str) -> None:
    """Open ``name`` from the lab's root in a tab of its own and wait for its kernel to be idle."""
    page.evaluate("""async path => {
        window.pmPanel = await window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'});
        await window.pmPanel.context.ready;
        await window.pmPanel.sessionContext.ready;
    }""", name)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.wait_for_function("() => window.pmPanel.sessionContext.session?.kernel?.status === 'idle'",
                           timeout=60_000)


def assert_unmodified_by_the_kernel(page, name: str) -> None:
    """JupyterLab copies the kernel's language_info into the notebook: the committed one must be it already,
    or the notebook shows as modified before anything ran (only the Python version may differ by machine)."""
    state = page.evaluate("""async () => {
        const panel = window.pmPanel;
        const info = await panel.sessionContext.session.kernel.info;
        await new Promise(resolve => setTimeout(resolve, 0));  // let the panel copy it into the model
        return {dirty: panel.context.model.dirty, kernel: info.language_info,
                saved: panel.context.model.getMetadata('language_info')};
    }""")
    kernel, saved = dict(state["kernel"]), dict(state["saved"])
    assert {**kernel, "version": None} == {**saved, "version": None}, f"{name}: language_info {saved} != {kernel}"
    assert state["dirty"] == (kernel["version"] != saved["version"]), f"{name} is marked modified: {state}"


def run_all_cells(page) -> None:
    """Run → Run All Cells, then wait until no cell is queued or running and the kernel is idle."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_function("""() => {
        const panel = window.pmPanel;
        const prompts = [...panel.content.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
        if (prompts.some(p => p.textContent.includes('*'))) return false;
        const cells = panel.content.model.toJSON().cells.filter(c => c.cell_type === 'code');
        const failed = cells.some(c => c.outputs.some(o => o.output_type === 'error'));
        return (failed || cells.every(c => c.execution_count !== null))
            && panel.sessionContext.session?.kernel?.status === 'idle';
    }""", timeout=RUN_ALL_TIMEOUT * 1000)


def shown_notebook(page) -> Any:
    """The notebook as JupyterLab holds it now: cells, ids and the outputs on screen."""
    return nbformat.from_dict(page.evaluate("() => window.pmPanel.content.model.toJSON()"))


def close_notebook(page, lab: Lab) -> None:
    """Close the tab without saving (the outputs stay out of the copy) and shut its kernel down."""
    page.evaluate("""() => {
        const panel = window.pmPanel;
        if (panel && !panel.isDisposed) { panel.context.model.dirty = false; panel.close(); }
        window.pmPanel = null;
    }""")
    lab.shut_down_kernels()


def _wait_idle_and_executed(page, timeout: float = 60) -> None:
    """Every code cell ran (a number in its prompt, no [*]) and the kernel is idle."""
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent))
                && window.pmPanel.sessionContext.session?.kernel?.status === 'idle';
        }""", timeout=timeout * 1000)


def _shot(locator, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    locator.scroll_into_view_if_needed()
    locator.page.wait_for_timeout(300)  # let the theme and the last refresh paint
    locator.screenshot(path=str(path))


# -- the dashboard ---------------------------------------------------------------------------------


def _wait_rows(page, count: int | None = None, timeout: float = 20) -> None:
    """Until the log lists as many rows as the status line counts requests (``count`` if given),
    and that number held for a second (the dashboard refreshes at most every 0.5 s)."""
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        state = page.evaluate("""() => {
            const dash = document.querySelector('.postmock-dash');
            const total = dash && dash.textContent.match(/(\\d+) requests?/);
            return [total ? Number(total[1]) : -1, document.querySelectorAll('.postmock-dash .pm-log tbody tr').length];
        }""")
        if state != last:
            last, since = state, time.monotonic()
        total, rows = state
        if rows > 0 and rows == total and (count is None or rows == count) and time.monotonic() - since > 1:
            return
        page.wait_for_timeout(100)
    pytest.fail(f"the dashboard did not settle at {count or 'its request count'}: (requests, rows) = {last}")


def _rows(page) -> list[list[str]]:
    """The log table's rows, newest first, as their cells' whole texts:
    [mark, time, method, path, status, answered by, duration]."""
    return page.eval_on_selector_all(".postmock-dash .pm-log tbody tr",
                                     "rows => rows.map(r => [...r.cells].map(c => c.textContent))")


def _assert_columns_aligned(page) -> None:
    """Every row's cells sit in the same columns (bounding boxes), inside the dashboard, whatever the row
    holds: a long path or note is cut with an ellipsis (whole in its tooltip), never the status or duration."""
    boxes = page.evaluate("""() => {
        const table = document.querySelector('.postmock-dash .pm-log table.pm-logtable');
        const dash = document.querySelector('.postmock-dash').getBoundingClientRect();
        const rows = [...table.rows].map(r => [...r.cells].map(c => {
            const b = c.getBoundingClientRect();
            return {left: b.left, right: b.right, cut: c.scrollWidth > c.clientWidth, title: c.title,
                    text: c.textContent};
        }));
        return {rows, right: table.getBoundingClientRect().right, dash: dash.right};
    }""")
    rows = boxes["rows"]
    assert len(rows) >= 2 and all(len(row) == 7 for row in rows), rows
    for column in range(7):
        lefts = {round(row[column]["left"], 1) for row in rows}
        rights = {round(row[column]["right"], 1) for row in rows}
        assert len(lefts) == 1 and len(rights) == 1, f"column {column} out of line: {lefts} {rights}"
    assert boxes["right"] <= boxes["dash"] + 1, f"the log is wider than the dashboard: {boxes['right']} > {boxes['dash']}"
    assert not [c["text"] for c in rows[0] if c["cut"]], f"a column's heading is cut: {rows[0]}"
    for row in rows[1:]:
        mark, _, _, path, status, target, duration = row
        assert not status["cut"] and not duration["cut"], row
        assert duration["text"].endswith(" ms") or duration["text"] == "open", row  # open: a live connection
        if path["cut"]:
            assert path["title"] == path["text"], f"a cut path must show whole in its tooltip: {path}"
        if target["cut"]:
            assert target["title"] == target["text"], f"a cut note must show whole in its tooltip: {target}"


def _assert_uptime_ticks(page) -> None:
    """With no request, the status line's uptime still moves on."""
    status = page.locator(".postmock-dash").first.inner_text()
    before = re.search(r"up (.+?) ·", status)
    count = re.search(r"(\d+) requests?", status)
    assert before and count, status
    page.wait_for_function("""before => {
        const found = document.querySelector('.postmock-dash').textContent.match(/up (.+?) ·/);
        return found && found[1] !== before;
    }""", arg=before[1], timeout=10_000)
    after = page.locator(".postmock-dash").first.inner_text()
    assert re.search(r"(\d+) requests?", after)[0] == count[0], f"a request came in meanwhile: {after}"


def _running_dashboard(page) -> str:
    """The one dashboard's text, once its log settled; it must still say the mock is running."""
    dashboard = page.locator(".postmock-dash")
    dashboard.first.wait_for()
    assert dashboard.count() == 1, "one dashboard expected, from %mock start"
    _wait_rows(page)
    status = dashboard.inner_text()
    assert "● Running" in status and "Stopped" not in status, f"after Run All the dashboard says:\n{status}"
    return status


def _colors(page) -> dict[str, Any]:
    """Computed colours of the parts that must stay readable: brightness 0-255 of text and ground."""
    return page.evaluate("""() => {
        const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
        const lum = s => Math.round(rgb(s).reduce((a, b) => a + b, 0) / 3);
        const style = selector => getComputedStyle(document.querySelector(selector));
        const ground = el => {  // the backgrounds up the tree, translucent ones blended onto what is below
            const layers = [];
            for (; el; el = el.parentElement) {
                const [r, g, b, a = 1] = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g).map(Number);
                if (a > 0) layers.push([r, g, b, a]);
                if (a >= 1) break;
            }
            let color = [255, 255, 255];
            for (const [r, g, b, a] of layers.reverse()) color = [r, g, b].map((c, i) => c * a + color[i] * (1 - a));
            return `rgb(${color.join(', ')})`;
        };
        const cell = document.querySelector('.postmock-dash .pm-log tbody tr:not(.pm-miss):not(.pm-fault) td');
        const diff = document.querySelector('.postmock-dash tr.pm-diff td');
        return {
            log_text: lum(getComputedStyle(cell).color), log_ground: lum(ground(cell)),
            miss_row: style('.pm-log tbody tr.pm-miss td').color,
            hit_row: getComputedStyle(cell).color,
            diff_text: lum(getComputedStyle(diff).color), diff_ground: lum(ground(diff)),
            status_text: lum(style('.postmock-dash').color),
            status_ground: lum(ground(document.querySelector('.postmock-dash'))),
        };
    }""")


def _assert_readable(colors: dict[str, Any], dark: bool) -> None:
    for part in ("log", "diff", "status"):
        text, ground = colors[f"{part}_text"], colors[f"{part}_ground"]
        assert abs(text - ground) > 110, f"{part} text unreadable in the {'dark' if dark else 'light'} theme: {colors}"
    # misses stand out: their rows are drawn in the theme's error colour
    assert colors["miss_row"] == ("rgb(244, 67, 54)" if dark else "rgb(211, 47, 47)") != colors["hit_row"], colors


def _set_theme(page, theme: str, light: bool) -> None:
    page.evaluate("theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme)
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{str(light).lower()}'", timeout=20_000)
    page.wait_for_timeout(500)


# -- looking, per notebook -------------------------------------------------------------------------


def look_at_quickstart(page) -> None:
    """The dashboard after Run All, a new cell's requests arriving live, both themes, the Examples tab."""
    _running_dashboard(page)
    _assert_uptime_ticks(page)
    before = _rows(page)
    assert any(r[3] == "/accounts/7" and r[0] == "✗" for r in before), f"the quickstart's miss unmarked: {before}"
    assert any(r[2:5] == ["GET", "/users", "200"] and r[5].startswith("List users") for r in before), before

    # a later cell, typed in and run: the dashboard above updates live
    page.locator(".jp-Notebook .jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.insert_text(LATER_CELL)
    page.keyboard.press("Control+Enter")  # run in place (Shift+Enter would add an empty cell)
    expected = len(before) + len(LATER_PATHS)
    _wait_rows(page, expected)
    _wait_idle_and_executed(page)
    rows = _rows(page)
    assert len(rows) == expected, rows
    newest = rows[:len(LATER_PATHS)]
    for row, path in zip(newest, reversed(LATER_PATHS)):
        assert row[2:4] == ["GET", path], f"{path} should be in {row!r}"
        assert (row[0] == "✗") == (path in LATER_MISSES), f"miss marker wrong in {row!r}"
    assert "List users" in newest[-1][5] and "User not found" in newest[-2][5]
    _assert_columns_aligned(page)  # the long path is cut in its column; the others keep their places
    long_row = page.locator(".postmock-dash .pm-log tbody tr").first
    assert long_row.locator("td").nth(3).get_attribute("title") == LONG_PATH

    status = page.locator(".postmock-dash").inner_text()
    assert "● Running" in status and f"{expected} requests" in status, status
    assert re.search(rf"{sum(1 for r in rows if r[0] == '✗')} misses", status), status
    # pick the quickstart's miss under Details: the detail shows the request, the response and why it missed
    index = next(i for i, row in enumerate(rows) if row[3] == "/accounts/7")
    page.locator(".postmock-dash .pm-pick select").select_option(index=index)
    page.locator(".postmock-dash h4.pm-miss", has_text="No match").wait_for()
    text = page.locator(".postmock-dash").inner_text()
    assert "user-agent: python-requests" in text and "mockRequestNotFoundError" in text
    assert "✗ path does not match" in text and "User not found" in text, text
    assert page.locator(".postmock-dash tr.pm-diff").count() >= 1

    dashboard = page.locator(".postmock-dash").first
    _assert_readable(_colors(page), dark=False)
    _shot(dashboard, ARTIFACTS / "dashboard.png")
    _set_theme(page, "JupyterLab Dark", light=False)
    try:
        _assert_readable(_colors(page), dark=True)
        _shot(dashboard, ARTIFACTS / "dashboard-dark.png")

        # the Examples tab: each example with its hit count
        page.locator(".postmock-dash .lm-TabBar-tab", has_text="Examples").click()
        table = page.locator(".postmock-dash table", has_text="hits")
        table.wait_for()
        examples = [row.split("\t") for row in table.inner_text().splitlines()[1:]]
        assert ["GET", "/users", "200", "List users"] == examples[0][:4] and int(examples[0][4]) >= 4, examples
        assert ["GET", "/users/:id", "404", "User not found"] == examples[1][:4] and int(examples[1][4]) >= 3, examples
        _shot(dashboard, ARTIFACTS / "dashboard-examples-dark.png")
    finally:
        _set_theme(page, "JupyterLab Light", light=True)  # the next notebooks are looked at in the light theme

    if os.environ.get("POSTMOCK_UPDATE_DOCS"):  # refresh the README's screenshots on purpose only
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(ARTIFACTS / "dashboard.png", DOCS / "dashboard.png")
        shutil.copyfile(ARTIFACTS / "dashboard-dark.png", DOCS / "dashboard-dark.png")


def look_at_scenarios(page) -> None:
    status = _running_dashboard(page)
    rows = _rows(page)
    assert any(row[2:4] == ["GET", "/users/42"] and "User not found" in row[5] for row in rows), rows
    assert re.search(rf"{len(rows)} requests", status), status
    _assert_columns_aligned(page)
    _shot(page.locator(".postmock-dash").first, ARTIFACTS / "02-scenarios-dashboard.png")


def look_at_frontend_page(page) -> None:
    """The page in notebook 05's output, used as a person would after Run All: the mock must still answer."""
    from playwright.sync_api import expect

    stage = page.locator(".postmock-stage")
    assert stage.count() == 1, "notebook 05 should show its page once"
    stage.scroll_into_view_if_needed()

    def no_trouble() -> None:
        text = stage.inner_text()
        assert "cannot be reached" not in text and "Loading" not in text, f"the page shows:\n{text}"

    for name in ("Alice Park", "Ben Carter", "Chloe Diaz"):  # the list, fetched when the page was shown
        expect(stage.get_by_role("button", name=name)).to_be_visible()
    no_trouble()
    stage.get_by_role("button", name="Alice Park").click()
    expect(stage.get_by_text("alice@example.com")).to_be_visible()
    expect(stage.get_by_text("Role: admin")).to_be_visible()
    stage.get_by_role("button", name="Chloe Diaz").click()
    expect(stage.get_by_text("This person is no longer in the team.")).to_be_visible()
    expect(stage.get_by_text("GET /users/3 → 404 (User not found)")).to_be_visible()
    no_trouble()
    _shot(stage, ARTIFACTS / "05-frontend-page.png")

    stage.locator("select").select_option(label="Server error")
    expect(stage.get_by_text("The team could not be loaded (500)")).to_be_visible()
    # another scenario, another team: the card of the person picked before is gone
    expect(stage.get_by_text("Pick a person.")).to_be_visible()
    expect(stage.get_by_text("This person is no longer in the team.")).to_have_count(0)
    _shot(stage, ARTIFACTS / "05-frontend-page-server-error.png")
    stage.locator("select").select_option(label="Empty team")
    expect(stage.get_by_text("No one here yet")).to_be_visible()
    stage.locator("select").select_option(label="Normal")
    expect(stage.get_by_role("button", name="Chloe Diaz")).to_be_visible()
    no_trouble()

    # every click reached the mock: the dashboard above lists them
    _running_dashboard(page)
    rows = _rows(page)
    assert any(row[2:4] == ["GET", "/users/3"] and "User not found" in row[5] for row in rows), rows
    assert any("x-mock-response-code=500" in row[3] and "Server down" in row[5] for row in rows), rows
    _assert_columns_aligned(page)


def look_at_realtime_chat(page) -> None:
    """Notebook 10's chat page after Run All: the welcome streamed token by token over SSE, the presence list
    and the message pushed from a cell over the WebSocket; Ask streams a handler's answer; the dashboard shows
    the socket and the webhook's callback row."""
    from playwright.sync_api import expect

    chat = page.locator(".postmock-chat")
    assert chat.count() == 1, "notebook 10 should show its page once"
    chat.scroll_into_view_if_needed()
    welcome = "Hi! I am the mock assistant: every word arrives as an event."
    expect(chat.locator(".message", has_text="Assistant:").first).to_have_text(f"Assistant:{welcome}")
    expect(chat.locator(".message.streaming")).to_have_count(0)  # the done event closed the stream
    expect(chat.locator('[data-role="online"] li')).to_have_text(["Ana", "Ben", "You"])
    expect(chat.get_by_text("WebSocket: open")).to_be_visible()
    expect(chat.locator(".message.pushed")).to_have_text(["Notebook:Release at 17:00, please merge by 16:00"])

    chat.locator('[data-role="question"]').fill("Can I see it stream?")
    chat.get_by_role("button", name="Ask").click()
    expect(chat.locator(".message").nth(-2)).to_have_text("You:Can I see it stream?")
    expect(chat.locator(".message").last).to_have_text(
        "Assistant:You asked: “Can I see it stream?”. A token stream sends the answer while it is being written. ")
    expect(chat.locator(".message.streaming")).to_have_count(0)
    _shot(chat, ARTIFACTS / "10-realtime-chat.png")

    _running_dashboard(page)
    rows = _rows(page)
    assert any(row[0] == "↗" and row[3].endswith("/hooks/payment") and "callback of #" in row[5]
               and row[4] == "200" for row in rows), rows
    assert any(row[0] == "⇄" and row[3].startswith("/ws/presence") and row[4] == "101" and row[6] == "open"
               and "presence · WebSocket open: " in row[5] for row in rows), rows  # the page's socket, live
    assert [row for row in rows if row[3].startswith("/chat/answer?q=Can")], rows
    _assert_columns_aligned(page)
    _shot(page.locator(".postmock-dash").first, ARTIFACTS / "10-realtime-dashboard.png")


def look_at_the_end(page) -> None:
    """Any other notebook: its dashboard, if it shows one, keeps its columns in line; its last outputs are
    what a person sees last."""
    name = page.evaluate("() => window.pmPanel.context.path").removesuffix(".ipynb")
    if page.locator(".postmock-dash").count():
        _running_dashboard(page)
        _assert_columns_aligned(page)
        _shot(page.locator(".postmock-dash").first, ARTIFACTS / f"{name}-dashboard.png")
    page.locator(".jp-Notebook .jp-Cell").last.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-end.png"))


def look_at_contract_check(page) -> None:
    """Notebook 11's ``%mock check`` table, as rendered: a row per request, the two drifting requests in the
    error colour, one row per difference under them, the notes greyed; then the end of the notebook."""
    table = page.locator(".jp-OutputArea-output table", has_text="GET /products/1")
    assert table.count() == 1, "notebook 11 should show one check table"
    table.scroll_into_view_if_needed()
    rows = [[cell.strip() for cell in row] for row in table.evaluate(
        "t => [...t.querySelectorAll('tbody tr')].map(r => [...r.querySelectorAll('td')].map(c => c.textContent))")]
    assert [row[:2] for row in rows if row[0]] == [
        ["GET /orders", "ok"], ["GET /orders/1", "ok"], ["POST /orders", "skipped"],
        ["PUT /orders/1", "skipped"], ["PATCH /orders/1", "skipped"], ["DELETE /orders/1", "skipped"],
        ["GET /products", "drift"], ["GET /products/1", "drift"], ["GET /products/9", "ok"]], rows
    assert [row[1:] for row in rows if not row[0]] == [
        ["", "$[0].name", "missing (required)"], ["", "$[0].price", "expected number, got string"],
        ["", "$[1].name", "missing (required)"], ["note", "$[0].title", "unexpected field (not in the schema)"],
        ["note", "$[1].title", "unexpected field (not in the schema)"],
        ["", "$.price", "expected number, got string"]], rows
    weights = table.evaluate("t => [...t.querySelectorAll('tbody tr')].filter(r => r.textContent.includes('drift'))"
                             ".map(r => getComputedStyle(r).fontWeight)")
    assert weights == ["600", "600"], weights  # the drifting requests stand out
    ARTIFACTS.mkdir(exist_ok=True)
    _shot(table, ARTIFACTS / "11-sketch-to-contract-check.png")
    look_at_the_end(page)


LOOK: dict[str, Callable[[Any], None]] = {
    "01-quickstart.ipynb": look_at_quickstart,
    "02-scenarios.ipynb": look_at_scenarios,
    "05-frontend-demo.ipynb": look_at_frontend_page,
    "10-realtime.ipynb": look_at_realtime_chat,
    "11-sketch-to-contract.ipynb": look_at_contract_check,
}


# -- the test --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_run_all_then_look(name: str, lab: Lab, browser: SimpleNamespace) -> None:
    page = browser.page
    before, beside = _repo_notebook_files(), lab.files_beside_the_notebooks()
    failure_shot = ARTIFACTS / f"failure-{name.removesuffix('.ipynb')}.png"
    failure_shot.unlink(missing_ok=True)
    try:
        open_notebook(page, name)
        assert_unmodified_by_the_kernel(page, name)
        run_all_cells(page)
        check_outputs(name, shown_notebook(page))
        LOOK.get(name, look_at_the_end)(page)
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(failure_shot))
        print(f"page at failure: {failure_shot}; jupyter lab log:\n{lab.log.read_text()[-4000:]}")
        raise
    finally:
        close_notebook(page, lab)
    assert browser.refused == [], f"the page tried to reach the network: {browser.refused}"
    assert _repo_notebook_files() == before, f"running {name} wrote files into the repository's notebooks/"
    left = sorted(set(lab.files_beside_the_notebooks()) - set(beside))
    assert left == [], f"running {name} left {left} beside the notebooks: write them into out/"
