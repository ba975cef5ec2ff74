"""binder/ builds a working Binder: as close to repo2docker as this machine allows.

There is no Docker build here. Instead the test does what repo2docker's Python build pack
does, in a FRESH virtual environment: install ``binder/requirements.txt``, run
``binder/postBuild`` from a copy of the repository (a clone's files), then start a real
``jupyter lab`` from that environment the way Binder does — under a JupyterHub prefix
(``--ServerApp.base_url`` = ``JUPYTERHUB_SERVICE_PREFIX`` = ``/user/test/``) and with a
token. The quickstart notebook's cells run in a kernel that server starts (over its
websocket, as JupyterLab does), and the mock is then fetched through jupyter-server-proxy at
``<prefix>proxy/<mock port>/users`` — the URL ``%mock start`` prints "From your browser".

Slow (about a minute: pip resolves JupyterLab), and it runs in CI. Set
``POSTMOCK_SKIP_BINDER_TEST=1`` to leave it out of a quick local run.
"""

from __future__ import annotations

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
    if (ROOT / "node_modules" / ".bin" / "newman").exists():
        (repo / "node_modules").symlink_to(ROOT / "node_modules")  # postBuild skips npm when newman is there

    venv = base / "venv"
    started = time.monotonic()
    run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(venv),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    run([str(venv / "bin" / "pip"), "install", "-q", "-r", str(repo / "binder" / "requirements.txt")],
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


def test_quickstart_mock_is_reachable_through_the_binder_proxy(binder_env: dict[str, Any]) -> None:
    repo, venv, base = binder_env["repo"], binder_env["venv"], binder_env["base"]
    port = free_port()
    server_url = f"http://127.0.0.1:{port}{PREFIX}"
    auth = {"Authorization": f"token {TOKEN}"}
    env = {**binder_env["env"], "JUPYTERHUB_SERVICE_PREFIX": PREFIX,
           "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"), "JUPYTER_RUNTIME_DIR": str(base / "jupyter-runtime"),
           "IPYTHONDIR": str(base / "ipython")}
    env.pop("POSTMOCK_PUBLIC_URL", None)
    log_path = base / "jupyter-lab.log"
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

            lab_page = requests.get(server_url + "lab/tree/notebooks/01-quickstart.ipynb", headers=auth, timeout=30)
            assert lab_page.status_code == 200, f"the Binder link's urlpath does not open JupyterLab: {lab_page.status_code}"

            kernel = requests.post(server_url + "api/kernels", json={"name": "python3"}, headers=auth, timeout=60)
            assert kernel.status_code == 201, kernel.text
            kernel_id = kernel.json()["id"]
            channel = KernelChannel(f"ws://127.0.0.1:{port}{PREFIX}api/kernels/{kernel_id}/channels?token={TOKEN}")
            kernel_pid = int(channel.execute("import os; print(os.getpid())")["text"].strip())
            where = channel.execute("import os, sys; os.chdir('notebooks'); print(sys.executable)")["text"]
            assert str(venv) in where, f"the server's kernel is not the Binder environment's Python: {where}"

            quickstart = nbformat.read(repo / "notebooks" / "01-quickstart.ipynb", as_version=4)
            code_cells = [c for c in quickstart.cells if c.cell_type == "code"]
            shown: dict[str, str] = {}
            for cell in code_cells:  # Run All: the notebook leaves its mock running
                result = channel.execute(cell.source, cell.get("id"))
                assert result["error"] is None, f"quickstart cell failed on the Binder server:\n{cell.source}\n{result['text']}"
                shown[cell.source] = result["text"]

            start_output = shown["%mock start"]
            mock_port = int(re.search(r"Mock running at http://127\.0\.0\.1:(\d+)", start_output).group(1))
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
            requests.delete(server_url + f"api/kernels/{kernel_id}", headers=auth, timeout=30)
        finally:
            if channel is not None:
                channel.close()
            if lab is not None:
                stop_process(lab)
            kill_pid(kernel_pid)
