"""binder/ builds a working Binder: as close to repo2docker as this machine allows.

There is no Docker build here. Instead the test does what repo2docker's Python build pack
does, in a FRESH virtual environment: install ``binder/requirements.txt``, run
``binder/postBuild`` from a copy of the repository (a clone's files), then start a real
``jupyter lab`` from that environment the way Binder does — under a JupyterHub prefix
(``--ServerApp.base_url`` = ``JUPYTERHUB_SERVICE_PREFIX`` = ``/user/test/``) and with a
token. The quickstart notebook's cells run in a kernel that server starts (over its
websocket, as JupyterLab does), and the mock is then fetched through jupyter-server-proxy at
``<prefix>proxy/<mock port>/users`` — the URL ``%mock start`` prints "From your browser". The
real-time notebook's cells run the same way, and its page's event streams and WebSocket are read
through that proxy.

Slow (about a minute: pip resolves JupyterLab), and it runs in CI. Set
``POSTMOCK_SKIP_BINDER_TEST=1`` to leave it out of a quick local run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/user/test/"
TOKEN = "binder-test-" + uuid.uuid4().hex
INSTALL_TIMEOUT = 240
SERVER_START_TIMEOUT = 60
CELL_TIMEOUT = 60

pytestmark = [
    pytest.mark.timeout(420),
    pytest.mark.xdist_group("binder"),  # one worker builds the Binder environment once for the module
    pytest.mark.skipif(os.environ.get("POSTMOCK_SKIP_BINDER_TEST") == "1", reason="POSTMOCK_SKIP_BINDER_TEST=1"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def repository_files() -> list[str]:
    """The files a clone would have (tracked, plus new files not ignored)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True, timeout=30).stdout.decode().split("\0")
    return [name for name in listed if name and (ROOT / name).is_file()]


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


# -- building the environment --------------------------------------------------------------------


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A clone-like copy of the repository, and a fresh venv built from binder/ as repo2docker would."""
    base = tmp_path_factory.mktemp("binder")
    repo = base / "repo"
    for name in repository_files():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    assert (repo / "binder" / "requirements.txt").is_file() and (repo / "binder" / "postBuild").is_file()
    if all((ROOT / "node_modules" / ".bin" / tool).exists() for tool in ("newman", "prism")):
        (repo / "node_modules").symlink_to(ROOT / "node_modules")  # postBuild skips npm when both are there

    venv = base / "venv"
    started = time.monotonic()
    run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(venv),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    # --no-compile (repo2docker byte-compiles): a third of the install, and not what is tested
    run([str(venv / "bin" / "pip"), "install", "-q", "--no-compile", "-r", str(repo / "binder" / "requirements.txt")],
        cwd=repo, env=env, timeout=INSTALL_TIMEOUT)
    post_build = run(["bash", str(repo / "binder" / "postBuild")], cwd=repo, env=env, timeout=INSTALL_TIMEOUT)
    print(f"binder environment built in {time.monotonic() - started:.0f} s")
    yield {"repo": repo, "venv": venv, "env": env, "base": base, "post_build": post_build}


def test_postbuild_is_strict_and_installs_the_package(binder_env: dict[str, Any]) -> None:
    text = (ROOT / "binder" / "postBuild").read_text()
    assert text.startswith("#!/usr/bin/env bash") and re.search(r"^set -e", text, re.M), "postBuild must stop at the first failure"
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK), "postBuild must be executable"
    venv_python = str(binder_env["venv"] / "bin" / "python")
    shown = run([venv_python, "-c", "import postmock_nb, jupyter_server_proxy, ipywidgets, jupyterlab, sys; "
                                    "print(postmock_nb.__file__)"], cwd=binder_env["base"], timeout=60).stdout
    assert str(binder_env["venv"]) in shown, f"postmock_nb is not installed in the fresh venv: {shown}"
    extensions = run([str(binder_env["venv"] / "bin" / "jupyter"), "server", "extension", "list"],
                     env=binder_env["env"], timeout=60)
    listing = extensions.stdout + extensions.stderr
    assert re.search(r"jupyter_server_proxy.*enabled", listing), listing


# -- a Binder-shaped JupyterLab -----------------------------------------------------------------


class KernelChannel:
    """Just enough of the Jupyter kernel protocol over the server's websocket to run cells."""

    def __init__(self, ws_url: str) -> None:
        import websocket  # websocket-client, a dependency of jupyter_server

        self.ws = websocket.create_connection(ws_url, timeout=CELL_TIMEOUT, header=[f"Authorization: token {TOKEN}"])
        self.session = uuid.uuid4().hex

    def execute(self, code: str, cell_id: str | None = None) -> dict[str, Any]:
        """Run ``code``; returns {"text": everything shown as text, "error": ename or None}."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": self.session, "msg_type": "execute_request",
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {"cellId": cell_id} if cell_id else {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        texts: list[str] = []
        error = None
        idle = replied = False
        deadline = time.monotonic() + CELL_TIMEOUT
        while not (idle and replied):
            assert time.monotonic() < deadline, f"cell did not finish in {CELL_TIMEOUT} s:\n{code}"
            message = json.loads(self.ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                texts.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                texts.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                error = content["ename"]
                texts.append(f"{content['ename']}: {content['evalue']}")
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
            elif kind == "execute_reply":
                replied = True
        return {"text": "".join(texts), "error": error}

    def close(self) -> None:
        self.ws.close()


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def kill_pid(pid: int | None) -> None:
    if pid is None:
        return
    try:
        os.kill(pid, 0)
    except OSError:
        return  # already gone
    os.kill(pid, 15)
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, 9)
    except OSError:
        pass


@dataclass
class BinderLab:
    """A ``jupyter lab`` from the Binder venv under the JupyterHub prefix, and a kernel it started."""

    port: int
    server_url: str  # http://127.0.0.1:<port>/user/test/
    auth: dict[str, str]
    channel: KernelChannel
    kernel_id: str

    def proxied(self, mock_port: int) -> str:
        """What the browser fetches for the mock: the notebook server's proxy (absolute, for a client here)."""
        return f"http://127.0.0.1:{self.port}{PREFIX}proxy/{mock_port}/"


@contextlib.contextmanager
def binder_lab(binder_env: dict[str, Any]) -> Iterator[BinderLab]:
    """Start the lab the way Binder does, a kernel in it (in ``notebooks/``), and stop both afterwards."""
    repo, venv, base = binder_env["repo"], binder_env["venv"], binder_env["base"]
    port = free_port()
    server_url = f"http://127.0.0.1:{port}{PREFIX}"
    auth = {"Authorization": f"token {TOKEN}"}
    env = {**binder_env["env"], "JUPYTERHUB_SERVICE_PREFIX": PREFIX,
           "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"), "JUPYTER_RUNTIME_DIR": str(base / "jupyter-runtime"),
           "IPYTHONDIR": str(base / "ipython")}
    env.pop("POSTMOCK_PUBLIC_URL", None)
    log_path = base / f"jupyter-lab-{port}.log"
    lab = None
    kernel_pid = None
    channel = None
    with open(log_path, "w") as log:
        try:
            lab = subprocess.Popen(
                [str(venv / "bin" / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                 "--ServerApp.port_retries=0", f"--ServerApp.base_url={PREFIX}", f"--IdentityProvider.token={TOKEN}",
                 f"--ServerApp.root_dir={repo}", *(["--allow-root"] if os.geteuid() == 0 else [])],
                cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + SERVER_START_TIMEOUT
            while True:
                assert lab.poll() is None, f"jupyter lab exited ({lab.returncode}):\n{log_path.read_text()[-3000:]}"
                assert time.monotonic() < deadline, f"jupyter lab did not answer in {SERVER_START_TIMEOUT} s:\n{log_path.read_text()[-3000:]}"
                try:
                    if requests.get(server_url + "api/status", headers=auth, timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                time.sleep(0.3)

            kernel = requests.post(server_url + "api/kernels", json={"name": "python3"}, headers=auth, timeout=60)
            assert kernel.status_code == 201, kernel.text
            kernel_id = kernel.json()["id"]
            channel = KernelChannel(f"ws://127.0.0.1:{port}{PREFIX}api/kernels/{kernel_id}/channels?token={TOKEN}")
            kernel_pid = int(channel.execute("import os; print(os.getpid())")["text"].strip())
            where = channel.execute("import os, sys; os.chdir('notebooks'); print(sys.executable)")["text"]
            assert str(venv) in where, f"the server's kernel is not the Binder environment's Python: {where}"
            yield BinderLab(port, server_url, auth, channel, kernel_id)
            requests.delete(server_url + f"api/kernels/{kernel_id}", headers=auth, timeout=30)
        finally:
            if channel is not None:
                channel.close()
            if lab is not None:
                stop_process(lab)
            kill_pid(kernel_pid)


def run_notebook_cells(lab: BinderLab, repo: Path, name: str, *, leave_out: tuple[str, ...] = ()) -> dict[str, str]:
    """Run the notebook's code cells in order (Run All), each with its id; returns what each showed, by id."""
    notebook = nbformat.read(repo / "notebooks" / name, as_version=4)
    shown: dict[str, str] = {}
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.get("id") in leave_out:
            continue
        result = lab.channel.execute(cell.source, cell.get("id"))
        assert result["error"] is None, f"{name} cell failed on the Binder server:\n{cell.source}\n{result['text']}"
        shown[cell.get("id") or cell.source] = result["text"]
    return shown


def mock_port_of(start_output: str) -> int:
    found = re.search(r"Mock running at http://127\.0\.0\.1:(\d+)", start_output)
    assert found, start_output
    return int(found.group(1))


def test_quickstart_mock_is_reachable_through_the_binder_proxy(binder_env: dict[str, Any]) -> None:
    with binder_lab(binder_env) as lab:
        lab_page = requests.get(lab.server_url + "lab/tree/notebooks/01-quickstart.ipynb", headers=lab.auth, timeout=30)
        assert lab_page.status_code == 200, f"the Binder link's urlpath does not open JupyterLab: {lab_page.status_code}"
        quickstart = nbformat.read(binder_env["repo"] / "notebooks" / "01-quickstart.ipynb", as_version=4)
        shown = run_notebook_cells(lab, binder_env["repo"], "01-quickstart.ipynb")  # it leaves its mock running
        channel, port, auth = lab.channel, lab.port, lab.auth

        start_output = shown[next(c.id for c in quickstart.cells if c.source == "%mock start")]
        mock_port = mock_port_of(start_output)
        browser_url = f"{PREFIX}proxy/{mock_port}/"
        assert f"From your browser: {browser_url}" in start_output, start_output
        status = channel.execute("%mock status")["text"]
        assert f"(browser: {browser_url})" in status, status
        helper = channel.execute(f"from postmock_nb.session import public_url; print(public_url({mock_port}))")["text"]
        assert helper.strip() == browser_url
        # the live dashboard's status line links the same address (the session is the extension's own)
        dashboard = channel.execute("from postmock_nb.notebook.magics import session_of\nsession = session_of(get_ipython())\n"
                                    "print(session.dashboards[-1].status.value)")
        assert dashboard["error"] is None and f"href='{browser_url}'" in dashboard["text"], dashboard

        through_proxy = requests.get(f"http://127.0.0.1:{port}{browser_url}users", headers=auth, timeout=30)
        assert through_proxy.status_code == 200, through_proxy.text[:500]
        users = through_proxy.json()
        assert [u["name"] for u in users] == ["Alice Park", "Ben Carter", "Chloe Diaz"], users
        assert through_proxy.headers.get("x-mock-example-name") == "List users"
        missing = requests.get(f"http://127.0.0.1:{port}{browser_url}users/42", headers=auth, timeout=30)
        assert (missing.status_code, missing.json()) == (404, {"error": "User not found"})
        anonymous = requests.get(f"http://127.0.0.1:{port}{browser_url}users", timeout=30, allow_redirects=False)
        assert anonymous.status_code in (302, 403), "the proxy must not serve the mock without the server's login"

        stopped = channel.execute("%mock stop")  # what the notebook's last words tell the reader to run
        assert "Mock stopped." in stopped["text"], stopped


def sse_data(response: requests.Response) -> list[str]:
    return [line[len("data: "):] for line in response.iter_lines(decode_unicode=True) if line.startswith("data: ")]


def test_the_realtime_notebook_streams_and_socket_pass_the_binder_proxy(binder_env: dict[str, Any]) -> None:
    """Notebook 10 on Binder: its page reaches the mock through jupyter-server-proxy, so the event streams and the
    WebSocket must pass it. An ``EventSource`` request (``Accept: text/event-stream``) is relayed as it arrives
    (chunked, never buffered into one Content-Length body); the WebSocket upgrade is proxied, and a message
    ``mock.broadcast`` pushes from the kernel comes through. (The cell that waits for the page's socket is left
    out: no page here.)"""
    import websocket  # websocket-client, a dependency of jupyter_server

    with binder_lab(binder_env) as lab:
        shown = run_notebook_cells(lab, binder_env["repo"], "10-realtime.ipynb", leave_out=("push",))
        mock_port = mock_port_of(shown["start"])
        proxied = lab.proxied(mock_port)
        assert shown["api-url"].strip() == f"the page calls {PREFIX}proxy/{mock_port}", shown["api-url"]
        assert "the webhook brought: {'body': {'id': 'pay_42', 'status': 'settled'}" in shown["pay"], shown["pay"]
        browser = {**lab.auth, "Accept": "text/event-stream", "Origin": f"http://127.0.0.1:{lab.port}"}

        for path, last in (("chat/reply", "[DONE]"), ("chat/answer?q=Binder", "[DONE]")):
            with requests.get(proxied + path, headers=browser, stream=True, timeout=30) as response:
                assert response.status_code == 200, response.text[:500]
                assert response.headers["content-type"].startswith("text/event-stream"), response.headers
                assert "content-length" not in response.headers, f"the proxy buffered {path}: {response.headers}"
                data = sse_data(response)
            assert data[-1] == last and len(data) > 3, data
        assert "".join(json.loads(d)["text"] for d in sse_data(requests.get(
            proxied + "chat/reply", headers=browser, stream=True, timeout=30))[:-1]) == \
            "Hi! I am the mock assistant: every word arrives as an event."

        address = proxied.replace("http://", "ws://", 1) + "ws/presence?name=Binder"
        socket = websocket.create_connection(address, timeout=CELL_TIMEOUT, header=[f"Authorization: token {TOKEN}"])
        try:
            assert json.loads(socket.recv()) == {"type": "presence", "online": ["Ana", "Ben", "Binder"]}
            pushed = lab.channel.execute('print(mock.broadcast("/ws/presence", {"type": "message", "from": "Notebook", '
                                         '"text": "through the proxy"}))')
            assert pushed["error"] is None and pushed["text"].strip() == "1", pushed
            assert json.loads(socket.recv()) == {"type": "message", "from": "Notebook", "text": "through the proxy"}
            socket.send("hello")
            assert json.loads(socket.recv()) == {"type": "message", "from": "Binder", "text": "hello"}
        finally:
            socket.close()
        lab.channel.execute("%mock stop")
