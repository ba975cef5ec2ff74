"""Every server postmock runs on (postmock_nb.serving.servers), through the same socket tests, 127.0.0.1 only.

The ``server_name`` fixture (tests/conftest.py) runs each test once per server; a server whose
packages are not installed is skipped with the pip command (CI, with ``POSTMOCK_REQUIRE_ALL=1``,
fails instead: it installs them all, the test extra pulls the fast ones).
"""

from __future__ import annotations

import http.client
import importlib.util
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from IPython.core.error import UsageError
from support.cli import SERVING, STOP_TIMEOUT, fixture_path, granian_teardown_panic, postmock

from postmock_nb.config import MockConfig
from postmock_nb.core.model import Collection
from postmock_nb.errors import ConfigError
from postmock_nb.serving import servers
from postmock_nb.serving.server import MockServer

TIMEOUT = 5
BIG = 3 * 1024 * 1024


@pytest.fixture
def collection(build) -> Collection:
    return build.collection(
        build.example("GET /ping", "pong", body="pong",
                      headers={"X-Total": "2", "Set-Cookie": "s=1", "Date": "Tue, 02 Jul 2024 00:01:58 GMT",
                               "Server": "recorded"}),
        build.example("GET /users/:id", "user", body='{"id": "{{id}}"}'),
        build.example("POST /upload", "uploaded", status=201, body="stored"),
        build.example("GET /big", "big", body="x" * BIG),
        build.example("DELETE /users/:id", "deleted", status=204))


def server_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("postmock-server-") and t.is_alive()]


def connection(server: MockServer) -> http.client.HTTPConnection:
    assert server.port is not None
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)


# -- choosing a server ----------------------------------------------------------------------------


def test_unknown_server_is_a_config_error_listing_the_choices():
    with pytest.raises(ConfigError) as caught:
        MockConfig(server="tornado")
    assert str(caught.value) == ("--server must be one of hypercorn, uvicorn, granian, got 'tornado'\n"
                                 "Hint: hypercorn is the default; uvicorn and granian are the fast ones")


@pytest.mark.parametrize("name", ["uvicorn", "granian"])
def test_missing_server_is_a_config_error_with_the_pip_command(name, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda package, *args: None if package == name else real(package, *args))
    with pytest.raises(ConfigError) as caught:
        MockServer(Collection(), server=name)
    assert str(caught.value) == (f"the {name} server is not installed (missing: {name})\n"
                                 f'Hint: pip install ".[fast]" in a clone of the repository, or choose another --server')


def test_the_default_server_is_hypercorn_and_installed():
    assert MockConfig().server == "hypercorn" == servers.DEFAULT
    assert servers.installed()[0] == "hypercorn"


def test_checking_a_server_imports_none(server_name):
    """MockConfig looks the package up without importing it (``postmock --help`` stays light)."""
    import subprocess
    import sys

    code = (f"import sys; from postmock_nb.config import MockConfig; MockConfig(server={server_name!r}); "
            f"print(sorted(m for m in ('hypercorn', 'uvicorn', 'granian') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]", out


# -- serving -------------------------------------------------------------------------------------


def test_start_returns_once_serving(collection, server_name):
    before = server_threads()
    server = MockServer(collection, server=server_name)
    assert server.start() is server
    try:
        assert server_threads() == before + [f"postmock-server-{server.port}"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url), server.url
        # no retry: the first request after start() is answered
        response = requests.get(server.url + "/ping", timeout=TIMEOUT)
        assert (response.status_code, response.text) == (200, "pong")
    finally:
        server.stop()
    assert server_threads() == before and server.errors == []


def test_status_and_headers(collection, server_name):
    with MockServer(collection, server=server_name) as server:
        http_connection = connection(server)
        http_connection.request("GET", "/ping")
        response = http_connection.getresponse()
        body = response.read()
        names = [name.lower() for name, _ in response.getheaders()]
        http_connection.request("DELETE", "/users/7")
        deleted = http_connection.getresponse()
        deleted_body = deleted.read()
        http_connection.close()
        missing = requests.get(server.url + "/nothing/here", timeout=TIMEOUT)
    assert (response.status, body) == (200, b"pong")
    assert (response.getheader("x-total"), response.getheader("set-cookie")) == ("2", "s=1")
    assert (response.getheader("x-mock-example-name"), response.getheader("content-length")) == ("pong", "4")
    assert names.count("date") == 1 and names.count("server") <= 1, response.getheaders()
    assert response.getheader("date") != "Tue, 02 Jul 2024 00:01:58 GMT"  # the server's own, once
    assert response.getheader("server") != "recorded"
    assert (deleted.status, deleted_body) == (204, b"")
    assert missing.status_code == 404 and missing.json()["error"]["name"] == "mockRequestNotFoundError"


def test_head_sends_the_headers_without_the_body(collection, server_name):
    with MockServer(collection, server=server_name) as server:
        http_connection = connection(server)
        http_connection.request("HEAD", "/ping")
        head = http_connection.getresponse()
        head_body = head.read()
        http_connection.request("GET", "/ping")  # the same connection is still in step
        after = http_connection.getresponse().read()
        http_connection.close()
    assert (head.status, head_body, head.getheader("content-length")) == (200, b"", "4")
    assert head.getheader("x-mock-example-name") == "pong" and after == b"pong"


def test_an_absolute_form_target_is_served_as_its_path(collection, server_name):
    """``GET http://host/users/7?a=1 HTTP/1.1``, as a client sends it to a proxy: served as ``/users/7?a=1``."""
    with MockServer(collection, server=server_name) as server:
        http_connection = connection(server)
        http_connection.request("GET", f"{server.url}/users/7?a=%C3%A9")  # http.client sends the URL as the target
        response = http_connection.getresponse()
        body = response.read()
        http_connection.close()
        entry = server.log.recent()[0]
    assert (response.status, body) == (200, b'{"id": "7"}')
    assert (entry.path, entry.query_string, entry.status) == ("/users/7", b"a=%C3%A9", 200)


def status_line(server: MockServer, target: str, method: str = "GET") -> bytes:
    """The first line of the answer to one raw request."""
    assert server.port is not None
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while b"\r\n" not in received and (chunk := sock.recv(4096)):
            received += chunk
    return received.partition(b"\r\n")[0]


def test_the_status_line_has_the_standard_reason_phrase(collection, server_name):
    """Issue 19: Hypercorn sent ``HTTP/1.1 404 `` (requests then says "404 Client Error:  for url")."""
    with MockServer(collection, server=server_name) as server:
        lines = [status_line(server, "/ping"), status_line(server, "/nothing/here"),
                 status_line(server, "/upload", "POST"), status_line(server, "/users/7", "DELETE")]
        raised = requests.get(server.url + "/nothing/here", timeout=TIMEOUT)
    assert lines == [b"HTTP/1.1 200 OK", b"HTTP/1.1 404 Not Found", b"HTTP/1.1 201 Created",
                     b"HTTP/1.1 204 No Content"]
    with pytest.raises(requests.HTTPError, match="404 Client Error: Not Found for url"):
        raised.raise_for_status()


def test_cors_preflight_and_headers(collection, server_name):
    preflight = {"origin": "http://localhost:8888", "access-control-request-method": "POST",
                 "access-control-request-headers": "content-type, x-mock-response-name"}
    with MockServer(collection, server=server_name) as server:
        response = requests.options(server.url + "/anything", headers=preflight, timeout=TIMEOUT)
        matched = requests.get(server.url + "/ping", headers={"origin": "http://localhost:8888"}, timeout=TIMEOUT)
    assert (response.status_code, response.content) == (204, b"")
    assert response.headers["access-control-allow-origin"] == "http://localhost:8888"
    assert response.headers["access-control-allow-headers"] == "content-type, x-mock-response-name"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert matched.headers["access-control-allow-origin"] == "*"
    with MockServer(collection, server=server_name, cors=False) as server:
        off = requests.options(server.url + "/ping", headers=preflight, timeout=TIMEOUT)
        plain = requests.get(server.url + "/ping", timeout=TIMEOUT)
    assert off.status_code == 404 and "access-control-allow-origin" not in plain.headers


def test_private_mode(collection, server_name):
    with MockServer(collection, server=server_name, private=True) as server:
        refused = requests.get(server.url + "/ping", timeout=TIMEOUT)
        wrong = requests.get(server.url + "/ping", headers={"x-api-key": "PMAK-wrong"}, timeout=TIMEOUT)
        allowed = requests.get(server.url + "/ping", headers={"x-api-key": server.api_key}, timeout=TIMEOUT)
    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert (allowed.status_code, allowed.text) == (200, "pong")


def test_large_request_and_response_bodies(collection, server_name):
    payload = bytes(range(256)) * (BIG // 256)
    with MockServer(collection, server=server_name, max_body_bytes=BIG) as server:
        uploaded = requests.post(server.url + "/upload", data=payload, timeout=TIMEOUT)
        too_large = requests.post(server.url + "/upload", data=payload + b"!", timeout=TIMEOUT)
        big = requests.get(server.url + "/big", timeout=TIMEOUT)
        after = requests.get(server.url + "/ping", timeout=TIMEOUT)
    assert (uploaded.status_code, uploaded.text) == (201, "stored")
    assert too_large.status_code == 413
    assert (big.status_code, len(big.content), set(big.content)) == (200, BIG, {ord("x")})
    assert after.text == "pong"


def test_keep_alive_serves_many_requests_on_one_connection(collection, server_name):
    with MockServer(collection, server=server_name) as server:
        http_connection = connection(server)
        http_connection.request("GET", "/users/0")
        assert http_connection.getresponse().read() == b'{"id": "0"}'
        sock = http_connection.sock
        for n in range(1, 30):
            http_connection.request("GET", f"/users/{n}")
            response = http_connection.getresponse()
            assert (response.status, response.read()) == (200, b'{"id": "%d"}' % n)
        assert http_connection.sock is sock and sock is not None  # never reconnected
        http_connection.close()
        assert server.log.total == 30


def test_concurrent_clients(collection, server_name):
    with MockServer(collection, server=server_name) as server, ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda n: requests.get(f"{server.url}/users/{n}", timeout=TIMEOUT).status_code,
                                 range(40)))
        assert statuses == [200] * 40 and server.log.total == 40


def test_stop_frees_the_port(collection, server_name):
    server = MockServer(collection, server=server_name).start()
    port = server.port
    server.stop()
    with socket.socket() as sock:  # no SO_REUSEADDR: fails if anything still holds the port
        sock.bind(("127.0.0.1", port))
    again = MockServer(collection, server=server_name, port=port).start()  # after requests too
    with requests.Session() as session:
        assert [session.get(f"http://127.0.0.1:{port}/ping", timeout=TIMEOUT).text for _ in range(3)] == ["pong"] * 3
    again.stop()
    with socket.socket() as sock:  # as any server binds (connections closed by the server linger)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
    assert not server_threads()


def test_stop_with_a_client_connection_open(collection, server_name):
    """An idle keep-alive connection does not hold stop() up (or the port)."""
    server = MockServer(collection, server=server_name).start()
    http_connection = connection(server)
    http_connection.request("GET", "/ping")
    assert http_connection.getresponse().read() == b"pong"
    started = time.monotonic()
    server.stop()
    assert not server.running and time.monotonic() - started < STOP_TIMEOUT
    http_connection.close()
    assert not server_threads()


def test_restart_after_stop(collection, server_name):
    server = MockServer(collection, server=server_name).start()
    server.stop()
    server.start()
    assert requests.get(server.url + "/ping", timeout=TIMEOUT).text == "pong"
    server.stop()


def test_two_servers_side_by_side(collection, server_name):
    with MockServer(collection, server=server_name) as one, MockServer(collection, server=server_name) as two:
        assert requests.get(one.url + "/users/1", timeout=TIMEOUT).json() == {"id": "1"}
        assert requests.get(two.url + "/users/2", timeout=TIMEOUT).json() == {"id": "2"}
        assert (one.log.total, two.log.total) == (1, 1)


def test_nothing_is_printed_while_serving(collection, server_name, capfd):
    """In a kernel, output from the server thread would land in a cell: servers log into the mock's errors."""
    with MockServer(collection, server=server_name) as server:
        requests.get(server.url + "/ping", timeout=TIMEOUT)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


# -- the notebook: %mock start --server ------------------------------------------------------------



def test_mock_start_with_a_server(shell, server_name, capsys):
    shell.run_cell_magic("example", "GET /hello 200", "hi")
    shell.run_line_magic("mock", f"start --no-dashboard --server {server_name}")
    try:
        url = shell.user_ns["mockUrl"]
        assert requests.get(url + "/hello", timeout=TIMEOUT).text == "hi"
        assert f"Mock running at {url}" in capsys.readouterr().out
    finally:
        shell.run_line_magic("mock", "stop")
    with pytest.raises(UsageError, match=r"--server must be one of hypercorn, uvicorn, granian, got 'nginx'"):
        shell.run_line_magic("mock", "start --no-dashboard --server nginx")


# -- postmock serve --server NAME --workers N -------------------------------------------------------


def test_cli_serves_with_workers(fixtures_dir, server_name):
    with postmock("serve", fixture_path(fixtures_dir, "test-scoring-collection.json"), "--port", "0",
                  "--server", server_name, "--workers", "2") as cli:
        url = cli.wait_for(SERVING).group(3)
        cli.wait_for(r"^2 workers share the port$")
        for _ in range(20):  # a new connection each time: the kernel hands them to either process
            response = requests.get(url + "/get?name=John", timeout=TIMEOUT)
            assert (response.status_code, response.headers["x-mock-score"]) == (200, "110")
        code = cli.interrupt()
        # a worker's Rust panic at teardown is granian's known defect (see granian_teardown_panic), nothing else:
        # the worker aborts, and the exit code may say so
        panicked = granian_teardown_panic(server_name, cli.stderr)
        assert code == 0 or panicked, f"stdout: {cli.stdout}\nstderr: {cli.stderr}"
        assert "Stopped." in cli.output() and (not cli.stderr or panicked), cli.stderr
        deadline = time.monotonic() + STOP_TIMEOUT
        while cli.group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not cli.group_alive(), "a worker process outlived postmock serve"


def test_cli_unknown_server(fixtures_dir, capsys):
    from postmock_nb.cli import main

    assert main(["serve", fixture_path(fixtures_dir, "test-collection.json"), "--port", "0", "--server", "x"]) == 2
    assert "postmock: --server must be one of hypercorn, uvicorn, granian, got 'x'" in capsys.readouterr().err


def test_each_server_in_a_real_kernel(server_name, tmp_path):
    """In a Jupyter kernel the server runs in a daemon thread of the kernel and prints nothing into any cell."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    cells = ["%load_ext postmock_nb",
             "%%example GET /users/:id 200\n{\"id\": \"{{id}}\"}",
             f"%mock start --no-dashboard --server {server_name}",
             "import requests\nwith requests.Session() as s:\n"
             "    ids = [s.get(f'{mockUrl}/users/{n}', timeout=5).json()['id'] for n in range(50)]\n"
             "print(len(ids), ids[:3])",
             "import threading\nprint([t.daemon for t in threading.enumerate() if t.name.startswith('postmock-server')])",
             "url = mockUrl\n%mock stop",
             "try:\n    requests.get(url + '/users/1', timeout=2)\n    print('still serving')\n"
             "except requests.ConnectionError:\n    print('port released')"]
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [[(o.output_type, o.get("name"), o.get("text", "")) for o in cell.outputs] for cell in nb.cells]
    texts = ["".join(text for _, _, text in cell) for cell in outputs]
    assert texts[2].startswith("Mock running at http://127.0.0.1:"), outputs[2]
    # nothing else in the cell: the text, not how the kernel happened to split the stream into messages
    assert {(kind, name) for kind, name, _ in outputs[3]} == {("stream", "stdout")}, outputs[3]
    assert texts[3] == "50 ['0', '1', '2']\n", outputs[3]
    assert texts[4].strip() == "[True]"
    assert "Mock stopped." in texts[5] and texts[6].strip() == "port released"
    assert all(kind != "error" and name != "stderr" for cell in outputs for kind, name, _ in cell), outputs


# -- stopping with requests in flight ----------------------------------------------------------------


def test_stopping_with_requests_in_flight_answers_or_logs_what_went_out(server_name, capfd):
    """Issue 19: Hypercorn and uvicorn answered 500 after their grace period, and the log had no entry for it.
    A delay is cut short by the stop (the client gets the whole answer); a request still being worked on when
    the grace period ends is logged with what the server sent instead (its own 500)."""
    import asyncio

    from postmock_nb.notebook.prototype import Prototype
    from postmock_nb.session import Session

    session = Session()
    proto = Prototype(session)
    started = {"mark": threading.Event(), "think": threading.Event()}

    @proto.handler("GET /mark")
    def mark(request):
        started["mark"].set()
        return {"marked": True}

    @proto.handler("GET /think", timeout=20)
    async def think(request):
        started["think"].set()
        await asyncio.sleep(4)  # beyond Hypercorn's and uvicorn's 2 s grace period; granian waits for it
        return {"thought": True}

    server = session.start(port=0, server=server_name)
    got: dict[str, bytes] = {}

    def client(path: str, headers: str = "") -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            got[path] = received

    try:
        clients = [threading.Thread(target=client, args=("/mark", "x-mock-response-delay: 60000\r\n")),
                   threading.Thread(target=client, args=("/think",))]
        for thread in clients:
            thread.start()
        assert all(event.wait(TIMEOUT) for event in started.values())
        session.stop()
        for thread in clients:
            thread.join(30)
        logged = {entry.path: entry for entry in server.log.recent()}
        assert set(logged) == {"/mark", "/think"}, logged
        for path, received in got.items():
            status_line = received.partition(b"\r\n")[0]
            assert status_line.startswith(f"HTTP/1.1 {logged[path].status} ".encode()), (path, received, logged[path])
        assert got["/mark"].endswith(b'{"marked": true}') and logged["/mark"].status == 200
        assert "delay cut short: the mock stopped" in logged["/mark"].note
        if logged["/think"].status == 500:  # Hypercorn, uvicorn: cancelled at the end of the grace period
            assert "the mock stopped before this request was answered" in logged["/think"].note
        else:  # granian waits for the app
            assert got["/think"].endswith(b'{"thought": true}') and logged["/think"].status == 200
        assert capfd.readouterr() == ("", ""), "nothing printed (in a kernel it would land in a cell)"
    finally:
        session.close()
