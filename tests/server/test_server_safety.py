"""A real mock under bad input and load, on 127.0.0.1: quiet, bounded, and careful with secrets."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from postmock_nb.core.masking import mask
from postmock_nb.errors import ServerError
from postmock_nb.serving.server import MockServer, exposure_warning

TIMEOUT = 5


@pytest.fixture
def collection(build):
    return build.collection(build.example("GET /ping", "pong", body="pong"),
                            build.example("POST /upload", "upload", body="stored"))


def _raw(port: int, data: bytes, timeout: float = TIMEOUT) -> bytes:
    """Send ``data`` and read until the server closes or a full head and short body came."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_stopping_with_requests_in_flight_prints_nothing(collection, capfd):
    server = MockServer(collection).start()
    connections = []
    for _ in range(10):  # answers delayed well past the stop
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nx-mock-response-delay: 60000\r\n\r\n")
        connections.append(sock)
    for _ in range(5):  # bodies that never come
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
        connections.append(sock)
    deadline = time.monotonic() + TIMEOUT
    while server.log.total < 10 and time.monotonic() < deadline:  # the delayed ones have reached the app
        time.sleep(0.01)
    server.stop()
    for sock in connections:
        sock.close()
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert not server.running and list(server.errors) == []


def test_app_errors_stay_out_of_stderr(build, capfd, monkeypatch):
    monkeypatch.setattr("postmock_nb.serving.app.build_response", lambda *a, **k: 1 / 0)
    with MockServer(build.collection(build.example("GET /boom", "boom"))) as server:
        assert requests.get(server.url + "/boom", timeout=TIMEOUT).status_code == 500
        assert len(server.errors) == 1
    assert capfd.readouterr().err == ""


def test_a_stalled_body_is_closed_by_the_read_timeout(collection, server_name):
    """On every server (issue 19: Hypercorn's own read timeout did it, and cut long answers; now the app does)."""
    server = MockServer(collection, read_timeout_s=1, server=server_name)
    with server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT * 2) as sock:
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
            answer = b""
            while chunk := sock.recv(65536):  # closed by the server, not held for good
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert requests.get(server.url + "/ping", timeout=TIMEOUT).text == "pong"
        stalled = next(e for e in server.log.recent() if e.method == "POST")
        assert stalled.status == 408 and "did not arrive whole" in stalled.note  # not answered with a cut body


def test_a_half_sent_head_is_closed_after_the_read_timeout(collection, server_name):
    """A slowloris-style client (a head never finished) is not held for good: Hypercorn's idle timer,
    now that its read timeout is off, closes it after read_timeout_s."""
    with MockServer(collection, read_timeout_s=1, server=server_name) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT * 2) as sock:
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nx-slow")
            answer = b""
            while chunk := sock.recv(65536):  # closed by the server (a TimeoutError here means held)
                answer += chunk
            assert not answer.startswith(b"HTTP/1.1 2"), answer[:100]
        assert requests.get(server.url + "/ping", timeout=TIMEOUT).text == "pong"


def test_a_private_mock_refuses_before_the_body_is_sent(collection):
    with MockServer(collection, private=True) as server:
        head = b"POST /upload HTTP/1.1\r\nHost: x\r\nx-fuzz: 1\r\nContent-Length: 8000000\r\n\r\n"
        answer = _raw(server.port, head)  # no body sent at all: the 401 comes anyway
        assert answer.startswith(b"HTTP/1.1 401"), answer[:100]
        entry = server.log.recent(1)[0]
        assert entry.status == 401 and entry.raw_body == b"" and entry.body_size == 8_000_000


def test_an_oversized_body_is_refused_from_its_content_length(collection):
    with MockServer(collection) as server:
        answer = _raw(server.port, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\nabc")
        assert answer.startswith(b"HTTP/1.1 413"), answer[:100]


def test_the_key_is_compared_as_the_bytes_received_by_mock_and_admin(collection):
    with MockServer(collection, private=True, api_key="s3cret-key") as server:
        for path in ("/ping", "/__postmock/health"):
            good = _raw(server.port, f"GET {path} HTTP/1.1\r\nHost: x\r\nx-api-key: s3cret-key\r\n\r\n".encode())
            utf8 = _raw(server.port, f"GET {path} HTTP/1.1\r\nHost: x\r\nx-api-key: s3cret-kéy\r\n\r\n".encode())
            latin = _raw(server.port, f"GET {path} HTTP/1.1\r\nHost: x\r\nx-api-key: s3cret-kéy\r\n\r\n"
                         .encode("latin-1"))
            assert good.startswith(b"HTTP/1.1 200") and utf8.startswith(b"HTTP/1.1 401"), path
            assert latin.startswith(b"HTTP/1.1 401"), path


@pytest.mark.parametrize("key", ["clé", "tab\tkey", " padded", "emoji😀"])
def test_keys_that_clients_would_send_differently_are_refused(collection, key):
    with pytest.raises(ServerError, match="printable ASCII"):
        MockServer(collection, private=True, api_key=key)


@pytest.mark.parametrize("port", [-1, 65536, 70000])
def test_ports_out_of_range_are_a_clear_error(collection, port):
    with pytest.raises(ServerError, match="port must be 0-65535"):
        MockServer(collection, port=port)


@pytest.mark.parametrize("key", ["k", "abcd1234", "twelve-chars", "PMAK-" + "a" * 32, "x" * 20])
def test_keys_are_masked_whatever_their_length(key):
    shown = mask(key)
    assert shown != key and "…" in shown
    assert len(shown.replace("…", "")) <= len(key) // 2


def test_binding_beyond_loopback_warns():
    assert exposure_warning("127.0.0.1") == "" and exposure_warning("localhost") == ""
    assert exposure_warning("::1") == ""
    assert "every network interface" in exposure_warning("0.0.0.0")
    assert "other machines can reach it" in exposure_warning("192.168.1.20")
    assert exposure_warning("127.0.0.2") == "" and exposure_warning("ip6-localhost") == ""
    assert "other machines can reach it" in exposure_warning("127.0.0.1.nip.io")  # a name, not an address
    assert MockServer(host="0.0.0.0").exposure_warning


def test_secrets_are_masked_in_the_admin_api_unless_revealed(collection):
    secrets = {"x-api-key": "PMAK-" + "b" * 32, "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
               "Cookie": "session=abcdef0123456789"}
    with MockServer(collection, private=True, api_key=secrets["x-api-key"]) as server:
        requests.get(server.url + "/ping", headers=secrets, timeout=TIMEOUT)
        seq = server.log.recent(1)[0].seq
        key = {"x-api-key": secrets["x-api-key"]}
        shown = requests.get(f"{server.url}/__postmock/log/{seq}", headers=key, timeout=TIMEOUT).json()
        asked = requests.get(f"{server.url}/__postmock/log/{seq}?reveal=1", headers=key, timeout=TIMEOUT).json()
    with MockServer(collection, private=True, api_key=secrets["x-api-key"], reveal_secrets=True) as server:
        requests.get(server.url + "/ping", headers=secrets, timeout=TIMEOUT)
        seq = server.log.recent(1)[0].seq
        revealed = requests.get(f"{server.url}/__postmock/log/{seq}?reveal=1", headers=key, timeout=TIMEOUT).json()
    for data in (shown, asked):
        headers = dict(data["headers"])
        assert data["secrets"] == "masked"
        assert all(value not in headers.values() for value in secrets.values()), headers
        assert headers["authorization"].startswith("Bearer ")
    assert revealed["secrets"] == "shown"
    assert {k: dict(revealed["headers"])[k.lower()] for k in secrets} == secrets


def test_a_multi_worker_admin_api_says_it_shows_one_worker(collection):
    server = MockServer(collection, workers=3)
    with server:
        health = requests.get(server.url + "/__postmock/health", timeout=TIMEOUT).json()
        log = requests.get(server.url + "/__postmock/log", timeout=TIMEOUT)
    assert health["workers"] == 3 and "this worker only" in health["scope"]
    assert log.headers["x-postmock-workers"] == "3"


def test_a_websocket_upgrade_is_refused_and_logged(collection):
    with MockServer(collection) as server:
        answer = _raw(server.port, b"GET /ping HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 501"), answer[:100]
        entry = server.log.recent(1)[0]
        assert (entry.status, entry.note) == (501, "WebSocket upgrade refused")


def test_secret_match_headers_are_masked_in_diagnoses_unless_revealed(build):
    token, sent = "Bearer eyJhbGciOiJIUzI1NiJ9.team-secret-payload.c2ln", "Bearer someone-elses-token-0123456"
    collection = build.collection(build.example("GET /me", "Me", body="{}", request_headers={"Authorization": token}))
    texts = {}
    for reveal_secrets in (False, True):
        with MockServer(collection, match_headers=("Authorization",), reveal_secrets=reveal_secrets) as server:
            missed = requests.get(server.url + "/me", headers={"Authorization": sent}, timeout=TIMEOUT)
            seq = server.log.recent(1)[0].seq
            detail = f"{server.url}/__postmock/log/{seq}"
            texts[reveal_secrets] = {
                "404 body": missed.json(), "detail": requests.get(detail, timeout=TIMEOUT).json(),
                "detail ?reveal=1": requests.get(detail + "?reveal=1", timeout=TIMEOUT).json()}
        assert missed.status_code == 404 and missed.json()["diagnosis"]["closest"][0]["name"] == "Me"
    for reveal_secrets, shown in texts.items():
        for where, data in shown.items():
            text = json.dumps(data, ensure_ascii=False)
            if reveal_secrets and where == "detail ?reveal=1":  # the diagnosis whole (the 404 as it went out: masked)
                text = json.dumps(data["diagnosis"], ensure_ascii=False)
                assert token in text and sent in text and "…" not in text, text
            else:
                assert token not in text and sent not in text, (reveal_secrets, where, text)
                assert "Bearer eyJhbGciO…c2ln" in text and "Bearer some…" in text, (reveal_secrets, where, text)
    assert texts[True]["detail ?reveal=1"]["secrets"] == "shown"


def test_keyless_requests_are_counted_in_one_entry_and_evict_nothing(collection):
    key = {"x-api-key": "PMAK-" + "c" * 32}
    with MockServer(collection, private=True, api_key=key["x-api-key"], log_size=50) as server:
        with requests.Session() as team:
            for _ in range(10):
                assert team.get(server.url + "/ping", headers=key, timeout=TIMEOUT).status_code == 200
        with requests.Session() as stranger:  # a burst of 500 requests without the key, a few with a wrong one
            for n in range(495):
                headers = {"x-api-key": "guess"} if n % 100 == 0 else {}
                assert stranger.get(server.url + "/ping", headers=headers, timeout=TIMEOUT).status_code == 401
        for _ in range(5):  # and WebSocket upgrades, which the mock refuses (and logs) before they are HTTP
            answer = _raw(server.port, b"GET /ping HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            assert answer.startswith(b"HTTP/1.1 401"), answer[:100]
        log = requests.get(server.url + "/__postmock/log", headers=key, timeout=TIMEOUT).json()
        health = requests.get(server.url + "/__postmock/health", headers=key, timeout=TIMEOUT).json()
        assert team.get(server.url + "/ping", headers=key, timeout=TIMEOUT).status_code == 200  # the burst ends
        assert requests.get(server.url + "/ping", timeout=TIMEOUT).status_code == 401  # a new one begins
        after = server.log.recent()
    assert [e["status"] for e in log] == [401] + [200] * 10, log  # the team's entries are all still there
    assert log[0]["note"].startswith("500 requests without the key refused") and log[0]["refused"] == 500, log[0]
    assert health["refused"] == 500
    assert [e.status for e in after] == [401, 200, 401] + [200] * 10
    assert after[0].note.startswith("1 request without the key refused") and server.log.refused == 501
