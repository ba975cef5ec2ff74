"""``postmock serve --tls``: the banner names the CA file and how clients trust it; https on every server, with
``--workers``; the certificate's folder goes when it stops; bad ``--tls-cert``/``--tls-key`` refused before serving."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from support.cli import SERVING, STOP_TIMEOUT, fixture_path, granian_teardown_panic, postmock
from support.paths import ROOT
from support.waiting import wait_until

from postmock_nb.healthcheck import healthy

pytest.importorskip("trustme", reason="the team extra: pip install -e '.[team]'")

TIMEOUT = 5
CA_LINE = re.compile(r"^HTTPS with a certificate for localhost, 127\.0\.0\.1, ::1 made for this run; "
                     r"its CA file: (/\S+/ca\.pem)$")


def test_serve_tls_prints_the_ca_file_and_how_to_trust_it(fixtures_dir: Path) -> None:
    with postmock("serve", fixture_path(fixtures_dir, "test-scoring-collection.json"), "--port", "0", "--tls") as cli:
        url = cli.wait_for(SERVING).group(3)
        assert url.startswith("https://127.0.0.1:")
        ca = cli.wait_for(CA_LINE).group(1)
        cli.wait_for(r"^Trust it from a client:$")
        assert cli.wait_for(r"^  curl .*").group(0) == f"  curl --cacert {ca} {url}/"
        assert cli.wait_for(r"^  requests.*").group(0) == f'  requests.get("{url}/", verify="{ca}")'
        assert cli.wait_for(r"^  NODE_EXTRA.*").group(0) == f"  NODE_EXTRA_CA_CERTS={ca} node app.js"
        answer = requests.get(url + "/get?name=John", verify=ca, timeout=TIMEOUT)
        assert (answer.status_code, answer.headers["x-mock-score"]) == (200, "110")
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url + "/get?name=John", timeout=TIMEOUT)
        assert Path(ca).is_file() and oct(Path(ca).parent.stat().st_mode & 0o777) == "0o700"
        assert cli.interrupt() == 0, f"stdout: {cli.stdout}\nstderr: {cli.stderr}"
        assert not Path(ca).parent.exists(), "the certificate's folder goes when postmock serve stops"


def test_serve_tls_with_workers_on_each_server(fixtures_dir: Path, server_name: str) -> None:
    with postmock("serve", fixture_path(fixtures_dir, "test-scoring-collection.json"), "--port", "0", "--tls",
                  "--workers", "2", "--server", server_name) as cli:
        url = cli.wait_for(SERVING).group(3)
        ca = cli.wait_for(CA_LINE).group(1)
        cli.wait_for(r"^2 workers share the port$")
        for _ in range(10):  # a new connection each time: the kernel hands them to either process
            answer = requests.get(url + "/get?name=John", verify=ca, timeout=TIMEOUT)
            assert answer.status_code == 200
        assert cli.interrupt() == 0, f"stdout: {cli.stdout}\nstderr: {cli.stderr}"
        deadline = time.monotonic() + STOP_TIMEOUT
        while cli.group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not cli.group_alive(), "a worker process outlived postmock serve"
        assert not Path(ca).parent.exists()
        assert not cli.stderr or granian_teardown_panic(server_name, cli.stderr), cli.stderr


def test_serve_with_own_files_and_a_key_that_does_not_fit(fixtures_dir: Path, tmp_path: Path) -> None:
    import trustme

    leaf = trustme.CA().issue_cert("127.0.0.1")
    other = trustme.CA().issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "other-key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    other.private_key_pem.write_to_path(str(key))
    with postmock("serve", fixture_path(fixtures_dir, "test-scoring-collection.json"), "--port", "0",
                  "--tls-cert", str(cert), "--tls-key", str(key)) as cli:
        assert cli.process.wait(STOP_TIMEOUT) == 2
        cli.output()
        assert cli.stderr == [f"postmock: --tls-key {key}: this key does not fit the certificate {cert}",
                              "Hint: give the private key the certificate was made for"]
        assert cli.stdout == [], "nothing served"


def test_serve_with_tls_cert_alone_says_what_is_missing(fixtures_dir: Path) -> None:
    with postmock("serve", fixture_path(fixtures_dir, "test-scoring-collection.json"), "--port", "0",
                  "--tls-cert", "cert.pem") as cli:
        assert cli.process.wait(STOP_TIMEOUT) == 2
        cli.output()
        assert cli.stderr[0] == "postmock: --tls-cert needs --tls-key too", cli.stderr


def asgi_tls_command(server: str, port: int, cert: str, key: str) -> list[str]:
    """Each server's own command with its own TLS flags, as docs/deploy.md and postmock_nb/asgi.py give them."""
    return {
        "uvicorn": ["-m", "uvicorn", "postmock_nb.asgi:app", "--host", "127.0.0.1", "--port", str(port),
                    "--no-access-log", "--ssl-certfile", cert, "--ssl-keyfile", key],
        "hypercorn": ["-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "--certfile", cert, "--keyfile", key,
                      "postmock_nb.asgi:app"],
        "granian": ["-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
                    "--ssl-certificate", cert, "--ssl-keyfile", key, "postmock_nb.asgi:app"],
    }[server]


def test_the_asgi_app_behind_each_server_s_own_tls_flags_and_the_healthcheck(
        server_name: str, fixtures_dir: Path, tmp_path: Path) -> None:
    import trustme

    authority = trustme.CA()
    leaf = authority.issue_cert("127.0.0.1")
    ca, cert, key = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    authority.cert_pem.write_to_path(str(ca))
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    environ = {**os.environ, "POSTMOCK_COLLECTION": fixture_path(fixtures_dir, "test-scoring-collection.json"),
               "POSTMOCK_TLS_CA": str(ca)}  # the healthcheck's: the app does not take it for a misspelling
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([sys.executable, *asgi_tls_command(server_name, port, str(cert), str(key))],
                               cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"https://127.0.0.1:{port}"

    def healthcheck() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "postmock_nb.healthcheck", url + "/__postmock/health"],
                              env=environ, capture_output=True, text=True, timeout=30, check=False)

    try:
        wait_until(lambda: process.poll() is not None or healthy(url + "/__postmock/health", ca=str(ca))[0],
                   f"{server_name} to answer the healthcheck over https", timeout=30)
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        checked = healthcheck()
        assert checked.stdout.startswith(f"{url}/__postmock/health: 200 "), checked
        answer = requests.get(url + "/get?name=John", verify=str(ca), timeout=TIMEOUT)
        assert (answer.status_code, answer.headers["x-mock-score"]) == (200, "110")
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url + "/get?name=John", timeout=TIMEOUT)
        untrusted = subprocess.run([sys.executable, "-m", "postmock_nb.healthcheck", url + "/__postmock/health"],
                                   env={k: v for k, v in environ.items() if k != "POSTMOCK_TLS_CA"},
                                   capture_output=True, text=True, timeout=30, check=False)
        assert untrusted.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr, untrusted
    finally:
        # killed, not asked: these servers' own stop waits (up to asyncio's 30 s) for the close_notify of any TLS
        # connection a client left open; postmock serve's adapters drop them (tests/server/test_tls.py)
        process.kill()
        process.wait(STOP_TIMEOUT)
        try:
            os.killpg(process.pid, signal.SIGKILL)  # its group id is its PID: workers left behind, if any
        except ProcessLookupError:
            pass
        log.close()
