"""An https mock (``--tls``) in Debian's Chromium, trusting the mock's certificate the way a person pins one.

Chromium is launched (Playwright, no browser download) with ``--ignore-certificate-errors-spki-list`` naming the
SHA-256 of the public keys of two mocks' certificates, which trusts exactly those (never
``ignore_https_errors``). A page served by mock A over https reads mock B's JSON with ``fetch()``
(cross-origin, CORS, no mixed content); a third https mock, not pinned, is refused: the TLS is real.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from postmock_nb.core.model import Collection
from postmock_nb.serving.server import MockServer

pytest.importorskip("trustme", reason="the team extra: pip install -e '.[team]'")
pytestmark = pytest.mark.timeout(120)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE = """<!doctype html><html><head><title>front end</title></head><body><pre id="out">waiting</pre></body></html>"""


def spki_pin(cert_file: str) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of the first certificate in ``cert_file``: what Chromium pins."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    leaf = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
    der = leaf.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


@pytest.fixture
def mocks(build) -> Iterator[tuple[MockServer, MockServer, MockServer]]:
    front = build.collection(build.example("GET /app", "page", body=PAGE, headers={"Content-Type": "text/html"}))
    api: Collection = build.collection(build.example("GET /users", "users", body='[{"id": 1, "name": "Ann"}]',
                                                     headers={"Content-Type": "application/json"}))
    started = [MockServer(front, tls=True).start(), MockServer(api, tls=True).start(),
               MockServer(api, tls=True).start()]
    try:
        yield started[0], started[1], started[2]
    finally:
        for mock in started:
            mock.stop()


def test_chromium_pinning_the_mocks_certificates_reads_the_https_mock_with_fetch(mocks) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: bash scripts/install-system-deps.sh")
    front, api, unpinned = mocks
    assert front.tls is not None and api.tls is not None
    pins = ",".join(spki_pin(mock.tls.cert) for mock in (front, api) if mock.tls is not None)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pins}"])
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(front.url + "/app")
            assert page.evaluate("location.protocol") == "https:" and page.title() == "front end"
            read = page.evaluate("url => fetch(url).then(r => r.json())", api.url + "/users")
            assert read == [{"id": 1, "name": "Ann"}]
            refused = page.evaluate("url => fetch(url).then(r => 'answered ' + r.status, e => 'refused: ' + e)",
                                    unpinned.url + "/users")
            assert refused == "refused: TypeError: Failed to fetch"
        finally:
            browser.close()
    assert [entry.path for entry in api.log.recent(10)] == ["/users"]
    assert unpinned.log.recent(10) == [], "the unpinned mock's TLS handshake failed: no request reached it"
