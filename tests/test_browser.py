"""The dashboard in a real browser: JupyterLab 4 in Chromium, light and dark themes.

Starts ``jupyter lab`` on 127.0.0.1 (a free port, a random token, config/data/settings in a
temporary directory, news, update checks and the extension manager off), opens a copy of
the quickstart notebook in Debian's Chromium through Playwright (no browser download; every
request that is not to 127.0.0.1 is refused), runs all cells from the Run menu, sends more
requests from a new cell typed in, and checks the dashboard's rows in the page. Screenshots:
``test-artifacts/dashboard.png`` and ``dashboard-dark.png``, copied to ``docs/`` for the README when ``POSTMOCK_UPDATE_DOCS=1``.

The copy of the quickstart leaves out its ``%mock stop`` cell so the mock still serves the
later cell's requests.
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
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01-quickstart.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MISS = "%E2%9C%97"  # "✗", URL-encoded as ipywidgets writes it into each option's data-value

LATER_CELL = """\
for path in ["/users", "/users/5", "/orders/1", "/users?page=2", "/teams"]:
    requests.get(f"{mockUrl}{path}")"""
LATER_MISSES = ("/orders/1", "/teams")

pytestmark = pytest.mark.timeout(180)


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


def _quickstart_copy(root: Path) -> Path:
    shutil.copytree(NOTEBOOK.parent, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    notebook = root / NOTEBOOK.name
    nb = json.loads(notebook.read_text())
    nb["cells"] = [c for c in nb["cells"]
                   if not (c["cell_type"] == "code" and "".join(c["source"]).strip() == "%mock stop")]
    notebook.write_text(json.dumps(nb))
    return notebook


class Lab:
    def __init__(self, process: subprocess.Popen, url: str, token: str, log: Path) -> None:
        self.process, self.url, self.token, self.log = process, url, token, log

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            body = response.read()
        return json.loads(body) if body else None


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists() or subprocess.run([jupyter, "lab", "--version"], capture_output=True).returncode:
        pytest.skip(f"jupyter lab is not installed ({jupyter}): pip install -e '.[test]'")
    home = tmp_path / "jupyter"
    settings = home / "lab-settings"
    _write_json(settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    _write_json(settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings", {"windowingMode": "none"})
    _write_json(home / "config/jupyter_lab_config.json", {"LabApp": {"news_url": None}})
    root = tmp_path / "notebooks"
    _quickstart_copy(root)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
               JUPYTER_PLATFORM_DIRS="1", JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    env.pop("POSTMOCK_PUBLIC_URL", None)
    log = tmp_path / "jupyter-lab.log"
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
    server = Lab(process, f"http://127.0.0.1:{port}", token, log)
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
            for kernel in server.api("GET", "/api/kernels") or []:
                server.api("DELETE", f"/api/kernels/{kernel['id']}")
        except OSError:
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


@pytest.fixture
def browser(lab: Lab) -> Iterator[SimpleNamespace]:
    """A Chromium page (``.page``) that may only reach 127.0.0.1, and the URLs it was refused (``.refused``)."""
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
            yield SimpleNamespace(page=page, refused=refused)
        finally:
            context.close()
            browser.close()


def _wait_idle_and_executed(page, timeout: float = 60) -> None:
    """Every code cell ran (a number in its prompt, no [*]) and the kernel is idle."""
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""", timeout=timeout * 1000)


def _wait_rows(page, count: int | None = None, timeout: float = 20) -> None:
    """Until the log lists as many rows as the status line counts requests (``count`` if given),
    and that number held for a second (the dashboard refreshes at most every 0.25 s)."""
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        state = page.evaluate("""() => {
            const dash = document.querySelector('.postmock-dash');
            const total = dash && dash.textContent.match(/(\\d+) requests?/);
            return [total ? Number(total[1]) : -1, document.querySelectorAll('.postmock-dash .pm-log option').length];
        }""")
        if state != last:
            last, since = state, time.monotonic()
        total, rows = state
        if rows > 0 and rows == total and (count is None or rows == count) and time.monotonic() - since > 1:
            return
        page.wait_for_timeout(100)
    pytest.fail(f"the dashboard did not settle at {count or 'its request count'}: (requests, rows) = {last}")


def _options(page) -> list[str]:
    """The log's rows as shown (ipywidgets writes spaces as no-break spaces)."""
    rows = page.eval_on_selector_all(".postmock-dash .pm-log select option", "os => os.map(o => o.textContent)")
    return [row.replace("\u00a0", " ") for row in rows]


def _colors(page) -> dict[str, object]:
    """Computed colours of the parts that must stay readable: brightness 0-255 of text and ground."""
    return page.evaluate("""miss => {
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
        const select = document.querySelector('.postmock-dash .pm-log select');
        const diff = document.querySelector('.postmock-dash tr.pm-diff td');
        return {
            log_text: lum(getComputedStyle(select).color), log_ground: lum(ground(select)),
            miss_row: style(`.pm-log option[data-value^="${miss}"]`).color,
            hit_row: style(`.pm-log option:not([data-value^="${miss}"])`).color,
            diff_text: lum(getComputedStyle(diff).color), diff_ground: lum(ground(diff)),
            status_text: lum(style('.postmock-dash').color),
            status_ground: lum(ground(document.querySelector('.postmock-dash'))),
        };
    }""", MISS)


def _assert_readable(colors: dict[str, object], dark: bool) -> None:
    for part in ("log", "diff", "status"):
        text, ground = colors[f"{part}_text"], colors[f"{part}_ground"]
        assert abs(text - ground) > 110, f"{part} text unreadable in the {'dark' if dark else 'light'} theme: {colors}"
    # misses stand out: their rows are drawn in the theme's error colour
    assert colors["miss_row"] == ("rgb(244, 67, 54)" if dark else "rgb(211, 47, 47)") != colors["hit_row"], colors


def _shot(page, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    dashboard = page.locator(".postmock-dash").first
    dashboard.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # let the theme and the last refresh paint
    dashboard.screenshot(path=str(path))


def test_dashboard_in_jupyterlab_light_and_dark(lab: Lab, browser: SimpleNamespace) -> None:
    try:
        _check_dashboard(lab, browser)
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        browser.page.screenshot(path=str(ARTIFACTS / "browser-failure.png"))
        print(f"page at failure: {ARTIFACTS / 'browser-failure.png'}; jupyter lab log:\n{lab.log.read_text()[-4000:]}")
        raise


def _check_dashboard(lab: Lab, browser: SimpleNamespace) -> None:
    started = time.monotonic()
    page = browser.page
    (ARTIFACTS / "browser-failure.png").unlink(missing_ok=True)
    page.goto(f"{lab.url}/lab/tree/{NOTEBOOK.name}?token={lab.token}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.wait_for_function("() => document.querySelector('#jp-main-statusbar')?.textContent.includes('Idle')",
                           timeout=60_000)

    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    _wait_idle_and_executed(page)
    dashboard = page.locator(".postmock-dash")
    dashboard.first.wait_for()
    assert dashboard.count() == 1, "one dashboard expected, from %mock start"
    _wait_rows(page)
    before = _options(page)
    assert any("/accounts/7" in o and o.startswith("✗") for o in before), f"the quickstart's miss unmarked: {before}"
    assert any(" GET    /users " in o and "List users" in o for o in before), before

    # a later cell, typed in and run: the dashboard above updates live
    page.locator(".jp-Notebook .jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.insert_text(LATER_CELL)
    page.keyboard.press("Control+Enter")  # run in place (Shift+Enter would add an empty cell)
    expected = len(before) + 5
    _wait_rows(page, expected)
    _wait_idle_and_executed(page)
    rows = _options(page)
    assert len(rows) == expected, rows
    newest = rows[:5]
    for row, path in zip(newest, ["/teams", "/users?page=2", "/orders/1", "/users/5", "/users"]):
        assert f" GET    {path} " in row, f"{path} should be in {row!r}"
        assert row.startswith("✗") == (path in LATER_MISSES), f"miss marker wrong in {row!r}"
    assert "List users" in newest[4] and "User not found" in newest[3]

    status = page.locator(".postmock-dash").inner_text()
    assert "● Running" in status and f"{expected} requests" in status, status
    assert re.search(rf"{sum(1 for r in rows if r.startswith('✗'))} misses", status), status
    # select the quickstart's miss: the detail shows the request, the response and why it missed
    index = next(i for i, row in enumerate(rows) if "/accounts/7" in row)
    page.locator(".postmock-dash .pm-log select").select_option(index=index)
    detail = page.locator(".postmock-dash h4.pm-miss", has_text="No match")
    detail.wait_for()
    text = page.locator(".postmock-dash").inner_text()
    assert "user-agent: python-requests" in text and "mockRequestNotFoundError" in text
    assert "✗ path does not match" in text and "User not found" in text, text
    assert page.locator(".postmock-dash tr.pm-diff").count() >= 1

    _assert_readable(_colors(page), dark=False)
    _shot(page, ARTIFACTS / "dashboard.png")
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=20_000)
    page.wait_for_timeout(500)
    _assert_readable(_colors(page), dark=True)
    _shot(page, ARTIFACTS / "dashboard-dark.png")

    # the Examples tab: each example with its hit count
    page.locator(".postmock-dash .lm-TabBar-tab", has_text="Examples").click()
    table = page.locator(".postmock-dash table", has_text="hits")
    table.wait_for()
    examples = [row.split("\t") for row in table.inner_text().splitlines()[1:]]
    assert examples[0][:4] == ["GET", "/users", "200", "List users"] and int(examples[0][4]) >= 4, examples
    assert examples[1][:4] == ["GET", "/users/:id", "404", "User not found"] and int(examples[1][4]) >= 3, examples
    _shot(page, ARTIFACTS / "dashboard-examples-dark.png")

    if os.environ.get("POSTMOCK_UPDATE_DOCS"):  # refresh the README's screenshots on purpose only
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(ARTIFACTS / "dashboard.png", DOCS / "dashboard.png")
        shutil.copyfile(ARTIFACTS / "dashboard-dark.png", DOCS / "dashboard-dark.png")
    assert browser.refused == [], f"the page tried to reach the network: {browser.refused}"
    assert time.monotonic() - started < 90
