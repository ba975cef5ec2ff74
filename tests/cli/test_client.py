"""``postmock_nb.Client`` and ``postmock push`` against a live ``postmock serve`` process (one for the module),
and the Client's side of the verification contract (``/__postmock/requests`` and ``/verify``) against a stub."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from support.builders import make_collection, make_example
from support.cli import SERVING, Cli
from support.paths import ROOT

from postmock_nb import Client
from postmock_nb.client import ClientError
from postmock_nb.core.model import Collection
from postmock_nb.formats.postman import to_postman

KEY = "push-s3cret"
TIMEOUT = 10
PUSH_TIMEOUT = 60


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One ``postmock serve --admin-key KEY`` for the module: (its URL, the process)."""
    folder = tmp_path_factory.mktemp("served")
    start = folder / "start.json"
    start.write_text(json.dumps(to_postman(make_collection(
        make_example("GET /health", "Health", body="ok", id="ex-health"), name="shared mock"))))
    cli = Cli("serve", str(start), "--port", "0", "--admin-key", KEY)
    try:
        url = cli.wait_for(SERVING).group(3)
        cli.wait_for("^Press Ctrl-C")
        yield url, cli
    finally:
        cli.stop()


@pytest.fixture
def mock(served):
    """The module's mock with its collection as it started (replaced back after each test)."""
    url, _ = served
    with Client(url, admin_key=KEY) as client:
        yield client
        client.replace(to_postman(make_collection(make_example("GET /health", "Health", body="ok", id="ex-health"),
                                                  name="shared mock")))
        client.reset(log=True)


def test_the_banner_says_the_writes_are_on_with_the_key_masked(served):
    _, cli = served
    line = next(line for line in cli.stdout if line.startswith("Admin API writes: "))
    assert line.startswith("Admin API writes: on (send x-postmock-admin-key: ")
    assert KEY not in "\n".join(cli.stdout + cli.stderr)


def test_serve_takes_the_admin_key_from_the_environment_as_its_banner_says(tmp_path):
    """``POSTMOCK_ADMIN_KEY`` keeps the key out of the command line (``ps`` shows it to every user)."""
    path = collection_file(tmp_path, "env", make_example("GET /health", "Health", body="ok"))
    cli = Cli("serve", str(path), "--port", "0", env={**os.environ, "POSTMOCK_ADMIN_KEY": KEY})
    try:
        url = cli.wait_for(SERVING).group(3)
        cli.wait_for(r"^Admin API writes: on \(send x-postmock-admin-key: pu…\)$")
        with Client(url) as keyless, pytest.raises(ClientError, match="401 adminKeyRequired"):
            keyless.load({"item": []})
        with Client(url, admin_key=KEY) as keyed:
            assert keyed.load({"item": []})["added"] == []
    finally:
        cli.stop()
    assert KEY not in "\n".join(cli.stdout + cli.stderr)


def test_define_as_session_define_does(mock):
    example = mock.define("GET /users/:id 200", '{"id": 7, "name": "Ann"}', name="Ann")
    assert requests.get(f"{mock.url}/users/7", timeout=TIMEOUT).json() == {"id": 7, "name": "Ann"}
    again = mock.define("GET /users/:id 200", '{"id": 7, "name": "Bob"}', name="Ann")  # the same name: replaced
    assert again.id == example.id
    assert requests.get(f"{mock.url}/users/7", timeout=TIMEOUT).json()["name"] == "Bob"
    names = [r["name"] for item in mock.collection()["item"] for r in item["response"]]
    assert names == ["Health", "Ann"]


def test_define_checks_the_cell_locally(mock):
    with pytest.raises(Exception, match="expected METHOD PATH"):
        mock.define("GET", "")
    assert len(mock.collection()["item"]) == 1


def test_load_a_file_and_a_dict_then_delete(mock, tmp_path):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(to_postman(make_collection(
        make_example("GET /orders", "Orders", body="[]", id="ex-orders"), name="orders"))))
    report = mock.load(path)
    assert report["report"].startswith("Merged 'orders' into 'shared mock': 1 example added")
    report = mock.load(to_postman(make_collection(make_example("GET /carts", "Carts", body="[]"), name="carts")))
    assert [e["name"] for e in report["added"]] == ["Carts"]
    assert requests.get(f"{mock.url}/orders", timeout=TIMEOUT).json() == []
    assert [e["id"] for e in mock.delete("ex-orders")] == ["ex-orders"]
    assert requests.get(f"{mock.url}/orders", timeout=TIMEOUT).status_code == 404
    with pytest.raises(ClientError, match=r"DELETE http://127\.0\.0\.1:\d+/__postmock/examples/ex-orders: "
                                          r"404 exampleNotFound: no example with the id \(or name\) 'ex-orders'"):
        mock.delete("ex-orders")


ODD_NAMES = ["a/b", "a?b", "a#b", "50%", "50%25", "ü ñ", " spaced ", "..", ".", "a\\b", "x;y", "+plus"]
"""Example names a URL path would mangle: each a separator, an escape or a dot segment."""


def test_delete_by_a_name_with_any_character(mock):
    mock.load(to_postman(make_collection(*(make_example(f"GET /odd/{i}", name, body=str(i))
                                           for i, name in enumerate(ODD_NAMES)), name="odd")))
    for name in ODD_NAMES:
        assert [e["name"] for e in mock.delete(name)] == [name]
    assert [e["name"] for e in mock.collection()["item"]] == ["GET /health"]


def test_reset_a_resource_and_scenarios(mock):
    from postmock_nb.behaviours.resources import ResourceStore

    resource = ResourceStore().define("tasks", [{"id": 1, "title": "seed"}], path="/tasks")
    collection = Collection(name="tasks")
    for example in resource.examples():
        collection = collection.with_example(example)
    mock.load(to_postman(collection))
    assert requests.post(f"{mock.url}/tasks", json={"title": "new"}, timeout=TIMEOUT).status_code == 201
    mock.reset("tasks")
    assert requests.get(f"{mock.url}/tasks", timeout=TIMEOUT).json() == [{"id": 1, "title": "seed"}]
    requests.post(f"{mock.url}/tasks", json={"title": "new"}, timeout=TIMEOUT)
    mock.reset()
    assert len(requests.get(f"{mock.url}/tasks", timeout=TIMEOUT).json()) == 1
    with pytest.raises(ClientError, match="no scenario or resource named 'nope'"):
        mock.reset("nope")


def test_refusals_name_the_status_and_the_mocks_message(served):
    url, _ = served
    with Client(url) as keyless, pytest.raises(ClientError) as caught:
        keyless.define("GET /x 200", "x")
    assert caught.value.status == 401
    assert "401 adminKeyRequired: This mock's admin API needs its admin key" in str(caught.value)
    with Client(url, admin_key="wrong") as wrong, pytest.raises(ClientError, match="401 adminKeyWrong"):
        wrong.load({"item": []})
    with Client(url, admin_key=KEY) as client, pytest.raises(ClientError, match="400 handlerRefused"):
        client.define("GET /code 200", "x", request_headers=["x-mock-handler: cell-1"])
    with Client("http://127.0.0.1:9", timeout=2) as nowhere, pytest.raises(ClientError, match="127.0.0.1:9"):
        nowhere.collection()


def test_the_client_never_shows_its_keys():
    client = Client("http://127.0.0.1:9", api_key="k1", admin_key="k2")
    assert "k1" not in repr(client) and "k2" not in repr(client)
    client.close()


def test_a_password_in_the_url_is_never_shown_and_a_broken_url_is_a_client_error():
    with Client("http://ci:pw-s3cret@127.0.0.1:9", timeout=2) as client:
        assert repr(client) == "Client('http://ci:***@127.0.0.1:9')"
        with pytest.raises(ClientError) as raised:
            client.collection()
    assert "pw-s3cret" not in str(raised.value) and "http://ci:***@127.0.0.1:9/__postmock/collection" in str(raised.value)
    with pytest.raises(ClientError, match=r"^http://\[::1: not a URL \(Invalid port"):
        Client("http://[::1")


# -- postmock push --------------------------------------------------------------------------------------

def push(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "POSTMOCK_ADMIN_KEY"} | (env or {})
    return subprocess.run([sys.executable, "-m", "postmock_nb.cli", "push", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=PUSH_TIMEOUT, check=False)


def collection_file(folder: Path, name: str, *examples) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(to_postman(make_collection(*examples, name=name))))
    return path


def test_push_merges_and_prints_the_merge_report(mock, tmp_path):
    path = collection_file(tmp_path, "pushed", make_example("GET /pushed", "Pushed", body="p"))
    done = push(str(path), "--to", mock.url, "--admin-key", KEY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Merged 'pushed' into 'shared mock': 1 example added, 0 replaced")
    assert "+ added    GET /pushed" in done.stdout
    assert requests.get(f"{mock.url}/pushed", timeout=TIMEOUT).text == "p"
    assert requests.get(f"{mock.url}/health", timeout=TIMEOUT).text == "ok"


def test_push_replace_with_the_key_from_the_environment(mock, tmp_path):
    path = collection_file(tmp_path, "whole", make_example("GET /whole", "Whole", body="w"))
    done = push(str(path), "--to", mock.url, "--replace", env={"POSTMOCK_ADMIN_KEY": KEY})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Replaced the collection of {mock.url} with 'whole' from {path}: 1 example."
    assert requests.get(f"{mock.url}/health", timeout=TIMEOUT).status_code == 404
    assert requests.get(f"{mock.url}/whole", timeout=TIMEOUT).text == "w"


def test_push_refusals_and_exit_codes(mock, tmp_path):
    path = collection_file(tmp_path, "refused", make_example("GET /refused", "Refused"))
    no_key = push(str(path), "--to", mock.url)
    assert no_key.returncode == 1
    assert f"postmock: push {path} to {mock.url}: POST {mock.url}/__postmock/items: 401 adminKeyRequired" \
        in no_key.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"info": {"name": "b"}, "item": [')
    bad = push(str(broken), "--to", mock.url, "--admin-key", KEY)
    assert bad.returncode == 2
    assert "400 invalidJson: not valid JSON" in bad.stderr and str(broken) in bad.stderr
    missing = push(str(tmp_path / "missing.json"), "--to", mock.url, "--admin-key", KEY)
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr and "missing.json" in missing.stderr
    assert requests.get(f"{mock.url}/refused", timeout=TIMEOUT).status_code == 404


def test_push_never_prints_a_password_and_a_broken_url_is_no_traceback(tmp_path):
    path = collection_file(tmp_path, "pushed", make_example("GET /pushed", "Pushed", body="p"))
    nowhere = push(str(path), "--to", "http://ci:pw-s3cret@127.0.0.1:9")
    assert nowhere.returncode == 1 and "pw-s3cret" not in nowhere.stderr
    assert nowhere.stderr.startswith(f"postmock: push {path} to http://ci:***@127.0.0.1:9: POST http://ci:***@")
    broken = push(str(path), "--to", "http://[::1")
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert broken.stderr.startswith(f"postmock: push {path} to http://[::1: http://[::1: not a URL")


# -- the verification contract, the Client's side (the endpoints are served by the verification part) ---------

class _Contract(BaseHTTPRequestHandler):
    """``GET /__postmock/requests`` and ``POST /__postmock/verify`` as the contract says; remembers what came."""

    seen: list[tuple[str, list[tuple[str, str]], object]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        self.seen.append(("GET " + parts.path, parse_qsl(parts.query), None))
        self._answer(200, [{"seq": 2, "method": "POST", "path": "/users/7", "status": 201, "matched": True}])

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.seen.append(("POST " + urlsplit(self.path).path, [], body))
        if body.get("times") == 1:
            self._answer(200, {"verified": True, "count": 1, "message": ""})
        else:
            self._answer(200, {"verified": False, "count": 1,
                               "message": "expected POST /users 2 times, received it 1 time"})

    def _answer(self, status: int, data: object) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def contract():
    """The contract's stub on http: (its URL, what it received)."""
    yield from _stub(None)


@pytest.fixture
def contract_tls(tmp_path):
    """The stub on https with a CA made for the test: (its URL, what it received, the CA file)."""
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    for url, seen in _stub(context):
        yield url, seen, str(ca_file)


def _stub(context: ssl.SSLContext | None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Contract)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Contract.seen = []
    scheme = "https" if context is not None else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}", _Contract.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


def test_requests_sends_the_filters_of_the_contract(contract):
    url, seen = contract
    with Client(url) as client:
        entries = client.requests("POST", "/users/:id", query={"page": "2"}, headers={"x-role": "admin"}, limit=5)
    assert entries[0]["path"] == "/users/7"
    assert seen == [("GET /__postmock/requests", [("method", "POST"), ("path", "/users/:id"), ("query", "page=2"),
                                                   ("header", "x-role:admin"), ("limit", "5")], None)]


def test_verify_passes_and_fails_with_the_mocks_message(contract):
    url, seen = contract
    with Client(url) as client:
        assert client.verify("POST /users", times=1, json={"name": "Ann"}) == 1
        with pytest.raises(AssertionError, match=r"^expected POST /users 2 times, received it 1 time$"):
            client.verify("POST /users", times=2, headers={"x-role": "admin"}, query={"page": "2"})
    assert [body for _, _, body in seen] == [
        {"request": "POST /users", "times": 1, "at_least": None, "at_most": None, "json": {"name": "Ann"}},
        {"request": "POST /users", "times": 2, "at_least": None, "at_most": None, "headers": {"x-role": "admin"},
         "query": {"page": "2"}}]


class _NotPostmock(_Contract):
    """An address that answers JSON, but not the admin API's (another service, a proxy's own page)."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer(200, {"items": []} if "requests" in self.path else ["not", "a", "collection"])

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["content-length"]))
        self._answer(200, {"verified": "no", "count": 0})


def test_an_answer_that_is_not_the_admin_apis_is_a_client_error_never_a_pass():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotPostmock)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with Client(f"http://127.0.0.1:{server.server_address[1]}") as client:
            with pytest.raises(ClientError, match="not a verification's answer"):
                client.verify("POST /users")  # "no" is truthy: it passed before
            with pytest.raises(ClientError, match=r"200 but not the admin API's answer \(a JSON array, not an object"):
                client.collection()
            with pytest.raises(ClientError, match=r"200 but not the admin API's answer \(a JSON object, not an array"):
                client.requests()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


def test_the_client_over_https_trusts_the_ca_file_it_is_given(contract_tls):
    url, seen, ca_file = contract_tls
    with Client(url, verify=ca_file) as client:
        assert client.verify("POST /users", times=1) == 1
    with Client(url) as untrusting, pytest.raises(ClientError, match="CERTIFICATE_VERIFY_FAILED|certificate verify"):
        untrusting.requests()
    assert [line for line, _, _ in seen] == ["POST /__postmock/verify"]
