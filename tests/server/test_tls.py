"""HTTPS on every server (``--tls``, ``--tls-cert``/``--tls-key``): real TLS on a 127.0.0.1 socket.

Each server (the ``server_name`` fixture) serves https with a certificate made on the fly, reached by
``requests`` trusting its CA and refused by one that does not (an SSL error: the handshake is real);
with the person's own files (made by trustme here); bad files are refused before anything serves. The
healthcheck and ``Session.call`` reach an https mock too.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

from postmock_nb import healthcheck
from postmock_nb.core.model import Collection
from postmock_nb.errors import ConfigError
from postmock_nb.serving.server import MockServer
from postmock_nb.session import Session

trustme = pytest.importorskip("trustme", reason="the team extra: pip install -e '.[team]'")

TIMEOUT = 5


@pytest.fixture
def collection(build) -> Collection:
    return build.collection(build.example("GET /ping", "pong", body='{"pong": true}',
                                          headers={"Content-Type": "application/json"}))


def own_files(folder: Path, *identities: str) -> tuple[str, str, str]:
    """A CA file, and a certificate and key it signed for ``identities``, made by the test."""
    authority = trustme.CA()
    leaf = authority.issue_cert(*identities)
    ca, cert, key = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    authority.cert_pem.write_to_path(str(ca))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(cert))  # a key and chain in one file is fine too
    leaf.private_key_pem.write_to_path(str(key))
    return str(ca), str(cert), str(key)


def test_tls_serves_https_that_only_a_client_trusting_the_ca_reaches(server_name: str, collection: Collection) -> None:
    with MockServer(collection, tls=True, server=server_name) as mock:
        assert mock.tls is not None and mock.tls.ca is not None
        assert mock.url == f"https://127.0.0.1:{mock.port}"
        answer = requests.get(mock.url + "/ping", verify=mock.tls.ca, timeout=TIMEOUT)
        assert (answer.status_code, answer.json()) == (200, {"pong": True})
        assert answer.url.startswith("https://")
        with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            requests.get(mock.url + "/ping", timeout=TIMEOUT)  # the system's CAs do not know ours
        with socket.create_connection(("127.0.0.1", mock.port or 0), timeout=TIMEOUT) as plain:
            plain.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            said = b""
            try:
                while chunk := plain.recv(4096):
                    said += chunk
            except ConnectionResetError:
                pass
        assert b"pong" not in said  # plain http gets no answer from the example
        folder = Path(mock.tls.directory or "")
        assert folder.is_dir()
    assert not folder.exists(), "the certificate made on the fly goes with the mock"
    assert mock.tls is None


def test_a_client_holding_its_tls_connection_does_not_hold_the_stop(server_name: str, collection: Collection) -> None:
    """A polite TLS close waits for the client's close_notify; a client that keeps its connection without reading
    (a response still held) never sends one: the stop drops it instead of waiting past its own timeout."""
    mock = MockServer(collection, tls=True, server=server_name).start()
    with requests.Session() as client:
        held = client.get(mock.url + "/ping", verify=mock.tls.ca if mock.tls else True, timeout=TIMEOUT)
        assert held.status_code == 200
        thread = mock._thread
        mock.stop()
        assert thread is not None and not thread.is_alive()
        assert mock.errors == [], "the server thread stopped within its timeout"


def test_own_certificate_and_key_are_served(server_name: str, collection: Collection, tmp_path: Path) -> None:
    ca, cert, key = own_files(tmp_path, "127.0.0.1")
    with MockServer(collection, tls_cert=cert, tls_key=key, server=server_name) as mock:
        assert mock.config.tls and mock.url.startswith("https://")
        answer = requests.get(mock.url + "/ping", verify=ca, timeout=TIMEOUT)
        assert answer.status_code == 200
    assert Path(cert).exists() and Path(key).exists(), "the person's files are theirs"


def test_a_key_that_does_not_fit_is_refused_before_serving(server_name: str, collection: Collection,
                                                           tmp_path: Path) -> None:
    _, cert, _ = own_files(tmp_path, "127.0.0.1")
    (tmp_path / "other").mkdir()
    _, _, other_key = own_files(tmp_path / "other", "127.0.0.1")
    mock = MockServer(collection, tls_cert=cert, tls_key=other_key, server=server_name)
    with pytest.raises(ConfigError) as caught:
        mock.start()
    assert caught.value.message == f"--tls-key {other_key}: this key does not fit the certificate {cert}"
    assert not mock.running and mock.port is None, "nothing was bound"


def test_the_healthcheck_reaches_an_https_mock_with_its_ca(collection: Collection,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    with MockServer(collection, tls=True) as mock:
        assert mock.tls is not None and mock.tls.ca is not None
        url = mock.url + "/__postmock/health"
        assert healthcheck.main([url, "--ca", mock.tls.ca]) == 0
        assert capsys.readouterr().out.startswith(f"{url}: 200 ")
        assert healthcheck.main([url, "--ca", mock.tls.cert]) == 0, "the server's own certificate is anchor enough"
        assert healthcheck.main([url]) == 1
        assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().err


def test_session_call_trusts_its_own_https_mock(collection: Collection) -> None:
    session = Session(collection)
    try:
        server = session.start(tls=True)
        assert session.url.startswith("https://") and session.status()["url"] == server.url
        answer = session.call("GET", "/ping")
        assert (answer.status_code, answer.json()) == (200, {"pong": True})
    finally:
        session.close()


def test_the_dashboard_links_the_https_url(collection: Collection) -> None:
    from postmock_nb.notebook.widgets import Dashboard  # deferred: ipywidgets, for this test only

    session = Session(collection)
    try:
        session.start(tls=True)
        dashboard = Dashboard(session)
        try:
            url = session.url
            assert url.startswith("https://127.0.0.1:")
            assert f"<a href='{url}' target='_blank'>{url}</a>" in dashboard.status.value, dashboard.status.value
        finally:
            dashboard.close()
    finally:
        session.close()
