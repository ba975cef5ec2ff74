"""Proxy and record (postmock_nb.bridges.proxy, .recording) against real upstreams on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from support.waiting import wait_until

from postmock_nb.bridges.bridges import Bridges
from postmock_nb.bridges.proxy import Proxy
from postmock_nb.bridges.recording import Recorder
from postmock_nb.formats.postman import load_collection
from postmock_nb.notebook.magics import session_of
from postmock_nb.serving.server import MockServer

BINARY = bytes(range(256)) * 4
BOMB = gzip.compress(b"0" * (20 * 1024 * 1024), compresslevel=9)
RELEASE = threading.Event()


class Upstream(BaseHTTPRequestHandler):
    """JSON, text, binary, gzip, errors, slow, and an echo of what arrived."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Upstream", "yes")
        self.send_header("Set-Cookie", "session=secret")
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        if path.endswith("/json"):
            self._send(200, json.dumps({"id": 7, "name": "Alice"}).encode(), "application/json")
        elif path.endswith("/text"):
            self._send(200, "plain words ✓".encode(), "text/plain; charset=utf-8")
        elif path.endswith("/binary"):
            self._send(200, BINARY, "application/octet-stream")
        elif path.endswith("/gzip"):
            self._send(200, gzip.compress(b'{"zipped": true}'), "application/json", Content_Encoding="gzip")
        elif path.endswith("/bomb"):  # 20 MiB of zeros in about 20 KB of gzip
            self._send(200, BOMB, "application/json", Content_Encoding="gzip")
        elif path.endswith("/error"):
            self._send(503, b'{"error": "maintenance"}', "application/json", Retry_After="30")
        elif path.endswith("/slow"):
            RELEASE.wait(10)
            self._send(200, b"late", "text/plain")
        else:
            echo = {"method": self.command, "path": self.path, "host": self.headers.get("Host"),
                    "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body.decode("latin-1")}
            self._send(201, json.dumps(echo).encode(), "application/json")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


@pytest.fixture
def upstream() -> Iterator[str]:
    RELEASE.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/base"
    finally:
        RELEASE.set()
        server.shutdown()
        server.server_close()
        thread.join(5)





def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_proxy_fidelity(build, upstream):
    with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream))) as mock:
        response = requests.post(mock.url + "/users/7?x=1&y=two", data=b'{"a": 1}',
                                 headers={"Content-Type": "application/json", "X-Custom": "v",
                                          "Connection": "keep-alive, X-Drop-Me", "X-Drop-Me": "1"}, timeout=5)
        assert response.status_code == 201
        echo = response.json()
        assert echo["method"] == "POST" and echo["path"] == "/base/users/7?x=1&y=two"
        assert echo["host"] == upstream.split("/")[2]  # Host rewritten to the upstream's
        assert echo["headers"]["x-custom"] == "v" and echo["body"] == '{"a": 1}'
        assert "x-drop-me" not in echo["headers"]  # named by Connection: hop-by-hop
        assert requests.get(mock.url + "/json", timeout=5).json() == {"id": 7, "name": "Alice"}
        text = requests.get(mock.url + "/text", timeout=5)
        assert text.text == "plain words ✓" and text.headers["content-type"] == "text/plain; charset=utf-8"
        assert requests.get(mock.url + "/binary", timeout=5).content == BINARY
        zipped = requests.get(mock.url + "/gzip", timeout=5)
        assert zipped.json() == {"zipped": True} and zipped.headers["content-encoding"] == "gzip"  # as it came
        error = requests.get(mock.url + "/error", timeout=5)
        assert error.status_code == 503 and error.headers["retry-after"] == "30"
        assert requests.head(mock.url + "/json", timeout=5).status_code == 200
        entry = mock.log.recent(1)[0]
        assert entry.proxied and entry.upstream_ms is not None and entry.upstream_ms > 0
        assert entry.summary()["proxied"] is True and entry.note.startswith(f"proxied to {upstream} (")
        assert not entry.is_miss and mock.log.misses == 0


def test_an_encoded_slash_reaches_the_upstream_encoded(build, upstream):
    """Issue 23: the upstream gets the path's segments as sent (``a%2Fb`` one segment, not ``a/b``)."""
    with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream))) as mock:
        encoded = requests.get(mock.url + "/files/a%2Fb/caf%C3%A9", timeout=5).json()
    assert encoded["path"] == "/base/files/a%2Fb/caf%C3%A9"


def test_examples_win_over_the_proxy(build, upstream):
    collection = build.collection(build.example("GET /json", "Mocked", body='{"mocked": true}'))
    with MockServer(collection, bridges=Bridges(proxy=Proxy(upstream))) as mock:
        response = requests.get(mock.url + "/json", timeout=5)
        assert response.json() == {"mocked": True} and "x-upstream" not in response.headers
        assert requests.get(mock.url + "/text", timeout=5).text == "plain words ✓"


def test_upstream_down_is_a_502_naming_it(build):
    down = f"http://127.0.0.1:{closed_port()}"
    with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(down))) as mock:
        response = requests.get(mock.url + "/anything", timeout=5)
        assert response.status_code == 502
        error = response.json()["error"]
        assert error["name"] == "mockUpstreamError" and error["upstream"] == down and "ConnectError" in error["message"]
        assert "failed" in mock.log.recent(1)[0].note


def test_upstream_slow_is_a_504_naming_it(build, upstream):
    with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream, timeout=0.3))) as mock:
        response = requests.get(mock.url + "/slow", timeout=10)
        assert response.status_code == 504
        error = response.json()["error"]
        assert error["name"] == "mockUpstreamTimeout" and error["upstream"] == upstream
        assert "no answer within 0.3 s" in error["message"]


def test_upstream_bodies_are_bounded(build, upstream):
    with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream, max_bytes=100))) as mock:
        response = requests.get(mock.url + "/binary", timeout=5)
        assert response.status_code == 502 and "over 100 bytes" in response.json()["error"]["message"]


def test_bad_proxy_urls_are_refused():
    from postmock_nb.errors import PostmockError

    for url in ("ftp://x", "api.example.com", "http://x/?a=1"):
        with pytest.raises(PostmockError, match="proxy URL"):
            Proxy(url)


def test_record_then_replay_without_the_upstream(build, upstream, tmp_path):
    record = tmp_path / "recorded.json"
    calls = [("GET", "/json", None), ("GET", "/text", None), ("GET", "/gzip", None), ("GET", "/error", None),
             ("POST", "/echo?b=2&a=1", '{"n": 1}'), ("POST", "/echo?a=1&b=2", '{"n": 1}'),  # the same request
             ("POST", "/echo?a=1&b=2", '{"n": 2}'), ("GET", "/binary", None)]
    answers = {}
    recorder = Recorder(record)
    with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream), recorder=recorder)) as mock:
        for method, url, data in calls:
            response = requests.request(method, mock.url + url, data=data, timeout=5,
                                        headers={"Authorization": "Bearer SECRET", "Cookie": "c=SECRET",
                                                 "x-api-key": "SECRET", "Content-Type": "application/json"})
            answers.setdefault((method, url.split("?")[0], data), (response.status_code, response.content))
            wait_until(record.exists)  # written at once for the first example, then in batches
            assert load_collection(record)  # the file is whole whenever it is read
    collection = load_collection(record)
    for example in collection.examples:  # the echo's body holds them, but no saved header does
        assert {k.lower() for k, _ in example.request.headers} <= {"content-type", "accept"}
        assert "SECRET" not in json.dumps(example.request.headers)
    assert "session=secret" not in record.read_text(encoding="utf-8")  # the upstream's Set-Cookie
    assert len(collection.examples) == 6  # binary not recorded, the repeated POST once
    assert recorder.skipped == ["GET /binary: the body is not UTF-8 text"]
    headers = {k.lower() for e in collection.examples for k, _ in e.response.headers}
    assert {"date", "server", "content-length", "content-encoding", "set-cookie"}.isdisjoint(headers)
    with MockServer(collection, match_body=True) as replay:  # no upstream; bodies tell the POSTs apart
        for (method, path, data), (status, content) in answers.items():
            if path == "/binary":
                continue
            query = "?a=1&b=2" if path == "/echo" else ""
            response = requests.request(method, replay.url + path + query, data=data, timeout=5,
                                        headers={"Content-Type": "application/json"})
            assert response.status_code == status
            expected = gzip.decompress(content) if path == "/gzip" and content[:2] == b"\x1f\x8b" else content
            assert response.content == expected, path


def test_recording_continues_an_existing_file(build, upstream, tmp_path):
    record = tmp_path / "recorded.json"
    with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream), recorder=Recorder(record))) as mock:
        requests.get(mock.url + "/json", timeout=5)
    with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream), recorder=Recorder(record))) as mock:
        requests.get(mock.url + "/json", timeout=5)
        requests.get(mock.url + "/text", timeout=5)
    assert sorted(e.request.path for e in load_collection(record).examples) == ["/json", "/text"]


def test_cli_proxy_record_and_replay(build, upstream, tmp_path):
    from support.cli import SERVING, postmock

    from postmock_nb.formats.postman import save_collection

    source = save_collection(build.collection(build.example("GET /mocked", body="mine")), tmp_path / "c.json")
    record = tmp_path / "rec.json"
    with postmock("serve", str(source), "--port", "0", "--proxy", upstream, "--record", str(record)) as cli:
        url = cli.wait_for(SERVING).group(3)
        cli.wait_for("go to " + upstream)
        assert requests.get(url + "/mocked", timeout=5).text == "mine"
        assert requests.get(url + "/json", timeout=5).json() == {"id": 7, "name": "Alice"}
        assert cli.interrupt() == 0
    with postmock("serve", str(record), "--port", "0") as cli:
        url = cli.wait_for(SERVING).group(3)
        assert requests.get(url + "/json", timeout=5).json() == {"id": 7, "name": "Alice"}
        assert cli.interrupt() == 0
    from postmock_nb.cli import main

    assert main(["serve", str(source), "--record", str(record)]) == 2


def test_notebook_proxy_records_into_the_live_collection(upstream, tmp_path, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "postmock_nb")
    try:
        ip.run_line_magic("mock", "start --no-dashboard")
        url = ip.user_ns["mockUrl"]
        assert requests.get(url + "/json", timeout=5).status_code == 404
        ip.run_line_magic("mock", f"proxy {upstream} --record {tmp_path / 'rec.json'}")
        assert requests.get(url + "/json", timeout=5).json() == {"id": 7, "name": "Alice"}
        session = session_of(ip)
        assert [e.request.path for e in session.store.collection.examples] == ["/json"]  # joined live
        from postmock_nb.notebook.widgets import show_dashboard

        dashboard = show_dashboard(session)
        requests.get(url + "/text", timeout=5)
        wait_until(lambda: "proxied to" in dashboard.text_summary())  # the dashboard marks proxied rows
        assert "ms upstream" in dashboard.text_summary()
        wait_until(lambda: [e.request.path for e in load_collection(tmp_path / "rec.json").examples]
                   == ["/json", "/text"])  # the next batch is written within a moment
        ip.run_line_magic("mock", "proxy --off")
        assert requests.get(url + "/gzip", timeout=5).status_code == 404
    finally:
        ip.run_line_magic("unload_ext", "postmock_nb")


def test_set_proxy_swaps_the_bridges_whole_and_keeps_the_validator(build, upstream, tmp_path):
    import dataclasses

    from postmock_nb.session import Session

    session = Session(build.collection())
    session.start()
    try:
        before = session.server.bridges
        session.set_proxy(upstream, tmp_path / "rec.json")
        during = session.server.bridges
        assert during is not before and before.proxy is None and before.recorder is None  # the old one untouched
        assert during.proxy is not None and during.recorder is not None
        assert during.request_validator is before.request_validator
        with pytest.raises(dataclasses.FrozenInstanceError):
            during.proxy = None  # type: ignore[misc]
        assert requests.get(session.url + "/json", timeout=5).json() == {"id": 7, "name": "Alice"}
        session.set_proxy(None)
        assert session.server.bridges.proxy is None and session.server.bridges.recorder is None
        assert requests.get(session.url + "/text", timeout=5).status_code == 404  # (/json was recorded: an example)
    finally:
        session.close()


# -- %mock call URL --save NAME: Postman's "Save as Example" from a cell --------------------------------


def test_call_a_real_api_and_save_the_answer_as_an_example(upstream, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    from postmock_nb.notebook.widgets import show_dashboard

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "postmock_nb")
    try:
        ip.run_line_magic("mock", "start --no-dashboard")
        session = session_of(ip)
        dashboard = show_dashboard(session)
        mock_url = ip.user_ns["mockUrl"]
        ip.run_line_magic("mock", f'call GET {upstream}/users/7/json?full=1 -H "Authorization: Bearer SECRET" '
                                  f'--save "Get user" --base {upstream} --as /users/:id/json')
        out = capsys.readouterr().out
        assert '"name": "Alice"' in out and 'Saved as example "Get user": GET /users/:id/json?full=1 → 200' in out
        [example] = session.store.collection.examples
        assert example.request.path == "/users/:id/json" and example.request.base == upstream
        assert dict(example.request.headers) == {"Accept": "*/*"}  # no Authorization
        assert {k.lower() for k, _ in example.response.headers} == {"content-type", "x-upstream"}
        wait_until(lambda: "Get user" in dashboard.examples.value)  # shown in the dashboard at once
        served = requests.get(mock_url + "/users/8/json?full=1", timeout=5)  # served by the running mock at once
        assert served.json() == {"id": 7, "name": "Alice"} and served.headers["x-mock-example-name"] == "Get user"
        ip.run_line_magic("mock", f"call GET {upstream}/users/7/text --save 'Get user' --base {upstream} "
                                  f'-H "x-api-key: K1" --keep-secrets')
        [again] = session.store.collection.examples  # the same name: updated, not added
        assert again.id == example.id and again.response.body == "plain words ✓"
        assert dict(again.request.headers)["x-api-key"] == "K1" and again.request.path == "/users/7/text"
    finally:
        ip.run_line_magic("unload_ext", "postmock_nb")


def test_relative_paths():
    from postmock_nb.bridges.recording import relative_path

    assert relative_path("https://api.example.com/v1/users/7", "https://api.example.com/v1") == "/users/7"
    assert relative_path("https://api.example.com/v1/users/7", "https://api.example.com/v1/") == "/users/7"
    assert relative_path("https://api.example.com/v10/users", "https://api.example.com/v1") == "/v10/users"
    assert relative_path("https://other.example.com/v1/users", "https://api.example.com/v1") == "/v1/users"
    assert relative_path("https://api.example.com/v1", "https://api.example.com/v1") == "/"


def test_https_upstream(build, tmp_path):
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate for a local https upstream")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    upstream = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream, verify=str(cert)))) as mock:
            assert requests.get(mock.url + "/json", timeout=5).json() == {"id": 7, "name": "Alice"}
        with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream))) as mock:  # an unknown CA: refused, and said
            response = requests.get(mock.url + "/json", timeout=5)
            assert response.status_code == 502 and "CERTIFICATE_VERIFY_FAILED" in response.json()["error"]["message"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_private_mock_does_not_send_its_key_upstream(build, upstream):
    with MockServer(build.collection(), private=True, api_key="mock-key", bridges=Bridges(proxy=Proxy(upstream))) as mock:
        assert requests.get(mock.url + "/echo", timeout=5).status_code == 401  # the key is still required
        echo = requests.get(mock.url + "/echo", headers={"x-api-key": "mock-key", "X-Other": "1"}, timeout=5).json()
        assert "x-api-key" not in echo["headers"] and echo["headers"]["x-other"] == "1"


def test_the_admin_key_is_never_sent_upstream(build, upstream):
    """A test harness that sends its admin key on every request must not hand it to the upstream API."""
    with MockServer(build.collection(), admin_key="admin-s3cret", bridges=Bridges(proxy=Proxy(upstream))) as mock:
        echo = requests.get(mock.url + "/echo", headers={"x-postmock-admin-key": "admin-s3cret", "X-Other": "1"},
                            timeout=5).json()
        assert "x-postmock-admin-key" not in echo["headers"] and echo["headers"]["x-other"] == "1"


# -- issue 19: one client's upstream cookies never reach another ----------------------------------


def test_the_proxy_keeps_no_cookies_between_clients(build, upstream, tmp_path, server_name):
    record = tmp_path / "rec.json"
    recorder = Recorder(record)
    bridges = Bridges(proxy=Proxy(upstream), recorder=recorder)
    with MockServer(build.collection(), bridges=bridges, server=server_name) as mock:
        with requests.Session() as alice, requests.Session() as bob:
            first = alice.get(mock.url + "/echo/alice", headers={"Cookie": "mine=alice"}, timeout=5)
            assert first.json()["headers"]["cookie"] == "mine=alice"  # exactly what she sent
            assert first.headers["set-cookie"] == "session=secret"  # the upstream's Set-Cookie reaches her
            second = bob.get(mock.url + "/echo/bob", timeout=5, cookies={})
            assert "cookie" not in second.json()["headers"]  # Bob sent none, so none goes upstream
            third = bob.get(mock.url + "/echo/bob2", headers={"Cookie": "mine=bob"}, timeout=5)
            assert third.json()["headers"]["cookie"] == "mine=bob"  # his own, and only his
    recorder.close()
    for example in load_collection(record).examples:  # the echoes hold what went upstream: no stray session
        assert "session=secret" not in example.response.body


def test_a_gzip_bomb_is_refused_while_recording(build, upstream, tmp_path):
    import tracemalloc

    cap = 1024 * 1024
    record = tmp_path / "rec.json"
    recorder = Recorder(record)
    assert len(BOMB) < cap < 20 * 1024 * 1024  # small on the wire, past the cap once decoded
    with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream, max_bytes=cap), recorder=recorder)) as mock:
        requests.get(mock.url + "/json", timeout=5)  # recorded: the file exists
        tracemalloc.start()
        try:
            response = requests.get(mock.url + "/bomb", timeout=30)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert response.status_code == 502
        error = response.json()["error"]
        assert error["name"] == "mockUpstreamTooLarge" and f"over {cap} bytes" in error["message"]
        assert "gzip" in error["message"] and mock.log.recent(1)[0].status == 502
        assert peak < 8 * cap, f"decoding held {peak} bytes"  # never the 20 MiB it expands to
    assert [e.request.path for e in load_collection(record).examples] == ["/json"]  # the bomb is not recorded
    assert record.stat().st_size < 64 * 1024
    assert recorder.skipped == [f"GET /bomb: the upstream's gzip body decodes to over {cap} bytes "
                                "(the limit on upstream bodies)"]


def test_the_upstreams_set_cookie_is_masked_in_the_log_unless_revealed(build, upstream):
    from postmock_nb.notebook.widgets import entry_html

    for reveal_secrets in (False, True):
        with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream)), reveal_secrets=reveal_secrets) as mock:
            assert requests.get(mock.url + "/json", timeout=5).headers["set-cookie"] == "session=secret"  # sent whole
            entry = mock.log.recent(1)[0]
            detail = requests.get(f"{mock.url}/__postmock/log/{entry.seq}", timeout=5).json()
            assert dict(detail["response"]["headers"])["Set-Cookie"] == "session=…"  # its name stays, not its value
            assert "session=secret" not in json.dumps(detail) + entry_html(entry)  # nor the dashboard
            asked = requests.get(f"{mock.url}/__postmock/log/{entry.seq}?reveal=1", timeout=5).json()
            shown = dict(asked["response"]["headers"])["Set-Cookie"]
            assert shown == ("session=secret" if reveal_secrets else "session=…")  # whole only with --reveal-secrets


def test_set_cookie_masking_keeps_the_name_and_attributes():
    from postmock_nb.core.masking import mask_response_header

    assert mask_response_header("Set-Cookie", "sid=0123456789abcdef0123; Path=/; HttpOnly") == "sid=0123…; Path=/; HttpOnly"
    assert mask_response_header("set-cookie", "opaque") == "…" and mask_response_header("X-Other", "v=1") == "v=1"


# -- issue 19: the record file keeps its mode, and a killed recording leaves it whole and alone -----


def test_recording_keeps_the_files_mode(build, upstream, tmp_path, server_name):
    import os
    import stat

    from postmock_nb.formats.postman import save_collection

    existing = save_collection(build.collection(), tmp_path / "existing.json")
    existing.chmod(0o640)
    fresh = tmp_path / "fresh.json"
    umask = os.umask(0o022)
    os.umask(umask)
    for record in (existing, fresh):
        recorder = Recorder(record)
        with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream), recorder=recorder),
                        server=server_name) as mock:
            requests.get(mock.url + "/json", timeout=5)
            requests.get(mock.url + "/text", timeout=5)
        # the server's stop writes the last batch, on every server
        assert [e.request.path for e in load_collection(record).examples] == ["/json", "/text"]
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640  # as it was
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask  # as any new file, not a temporary file's 0600


def test_a_killed_recording_leaves_a_whole_file_and_no_temporary_one(build, upstream, tmp_path):
    import os
    import signal
    import time

    from support.cli import SERVING, postmock

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to see the files the recording process has open")

    from postmock_nb.formats.postman import save_collection

    source = save_collection(build.collection(), tmp_path / "c.json")
    folder = tmp_path / "recorded"
    folder.mkdir()
    record = folder / "rec.json"
    # a long recording already (10 MB): each write of the file takes a while
    examples = [build.example(f"GET /old/{n}", body=json.dumps({"n": n, "pad": "x" * 20_000})) for n in range(500)]
    save_collection(build.collection(*examples), record)
    stop = threading.Event()

    def others() -> list[str]:
        return sorted(p.name for p in folder.iterdir() if p.name != "rec.json")

    def writing(pid: int) -> bool:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:  # closed meanwhile
                continue
            if target.startswith(f"{folder}/") and target != str(record):
                return True
        return False

    with postmock("serve", str(source), "--port", "0", "--proxy", upstream, "--record", str(record)) as cli:
        url = cli.wait_for(SERVING).group(3)

        def client() -> None:  # new distinct requests, one after another, until the process is gone
            n = 0
            while not stop.is_set():
                try:
                    requests.get(f"{url}/json?n={n}", timeout=5)
                except requests.RequestException:
                    return
                n += 1

        thread = threading.Thread(target=client, daemon=True)
        thread.start()
        try:
            # kill it while it writes a new version of the file: while it holds open a file of the folder
            # other than the record file (a temporary one, named or not), or a temporary name shows
            first = record.stat().st_ino
            wait_until(lambda: record.stat().st_ino != first, timeout=60)  # a first batch is written
            pid = cli.process.pid
            deadline = time.monotonic() + 60
            while not writing(pid) and not others():
                assert time.monotonic() < deadline, f"the record file was not rewritten: {cli.stderr}"
                time.sleep(0.001)
            os.kill(pid, signal.SIGKILL)
            assert cli.process.wait(10) == -signal.SIGKILL
        finally:
            stop.set()
            thread.join(10)
    assert others() == []  # no temporary file left behind
    recorded = load_collection(record)  # whole: a loadable collection
    paths = [e.request.path for e in recorded.examples]
    assert paths[:500] == [f"/old/{n}" for n in range(500)] and set(paths[500:]) == {"/json"}
    assert len(paths) > 500  # the batches written before the kill are there


def test_a_record_file_that_cannot_be_written_is_said_in_the_log(build, upstream, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the record file's folder should be", encoding="utf-8")
    recorder = Recorder(blocker / "rec.json")
    with MockServer(build.collection(), bridges=Bridges(proxy=Proxy(upstream), recorder=recorder)) as mock:
        assert requests.get(mock.url + "/json", timeout=5).status_code == 200  # the answer still goes out
        wait_until(lambda: recorder.write_error != "")
        assert requests.get(mock.url + "/text", timeout=5).status_code == 200
        note = mock.log.recent(1)[0].note
        assert "the record file could not be written" in note and str(blocker / "rec.json") in note
    assert [e.request.path for e in recorder.collection.examples] == ["/json", "/text"]  # kept in memory


def test_recording_may_go_on_after_close_and_loses_nothing(tmp_path):
    from postmock_nb.bridges.recording import Exchange

    record = tmp_path / "rec.json"
    recorder = Recorder(record)
    headers = (("Content-Type", "application/json"),)

    def record_some(first: int) -> None:
        for n in range(first, first + 100):
            recorder.record(Exchange("GET", f"/items/{n}", (), headers, b"", 200, headers, b'{"n": %d}' % n))

    threads = [threading.Thread(target=record_some, args=(first,)) for first in (0, 100, 200)]
    for thread in threads:
        thread.start()
    recorder.close()  # while they record: it writes what it has; a later record starts a writer again
    for thread in threads:
        thread.join(30)
    recorder.close()
    assert sorted(e.request.path for e in load_collection(record).examples) == sorted(f"/items/{n}" for n in range(300))
    assert recorder.write_error == ""
    assert not [t for t in threading.enumerate() if t.name == "postmock record rec.json"]  # its writer ended
