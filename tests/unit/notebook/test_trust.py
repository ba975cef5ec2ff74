"""postmock_nb.notebook.trust: REQUESTS_CA_BUNDLE names a bundle with the mock's CA while it runs, then is put back.

Pure: an environment dictionary and files in a temporary folder (tests/kernel/test_tls_kernel.py does it in a kernel)."""

from __future__ import annotations

from pathlib import Path

import certifi
import pytest

from postmock_nb.notebook.trust import VARIABLE, KernelTrust, trusted_before
from postmock_nb.serving.tls import Certificate
from postmock_nb.session import SessionEvent

PEM = b"-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n"


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    (tmp_path / "ca.pem").write_bytes(PEM)
    return Certificate(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"), ca=str(tmp_path / "ca.pem"))


def test_the_bundle_is_certifi_s_cas_then_the_mock_s(certificate: Certificate) -> None:
    environ: dict[str, str] = {}
    trust = KernelTrust(environ)
    bundle = trust.trust(certificate)
    assert environ == {VARIABLE: bundle}
    text = Path(bundle).read_bytes()
    assert text.startswith(Path(certifi.where()).read_bytes().rstrip(b"\n")) and text.endswith(PEM)
    trust.restore()
    assert environ == {} and not Path(bundle).exists()


def test_a_bundle_named_before_is_kept_in_ours_and_put_back(certificate: Certificate, tmp_path: Path) -> None:
    corporate = tmp_path / "corporate.pem"
    corporate.write_bytes(b"-----BEGIN CERTIFICATE-----\nCORP\n-----END CERTIFICATE-----\n")
    environ = {VARIABLE: str(corporate)}
    assert trusted_before(environ) == str(corporate)
    trust = KernelTrust(environ)
    bundle = trust.trust(certificate)
    assert Path(bundle).read_bytes() == corporate.read_bytes() + PEM
    trust.session_changed(SessionEvent("stopped"))
    assert environ == {VARIABLE: str(corporate)} and trust.trusted is None


def test_a_variable_changed_since_is_left_alone(certificate: Certificate) -> None:
    environ: dict[str, str] = {}
    trust = KernelTrust(environ)
    trust.trust(certificate)
    environ[VARIABLE] = "/the/person/s/own.pem"
    trust.session_changed(SessionEvent("closed"))
    assert environ == {VARIABLE: "/the/person/s/own.pem"}


def test_trusting_again_replaces_and_a_start_event_changes_nothing(certificate: Certificate, tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    trust = KernelTrust(environ)
    first = trust.trust(certificate)
    assert trust.trust(certificate) == first  # the same certificate: the same bundle
    trust.session_changed(SessionEvent("started", "https://127.0.0.1:1"))
    assert environ == {VARIABLE: first}
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "cert.pem").write_bytes(PEM)
    second = trust.trust(Certificate(str(tmp_path / "other" / "cert.pem"), str(tmp_path / "other" / "key.pem")))
    assert second != first and not Path(first).exists() and environ == {VARIABLE: second}
    trust.restore()
    assert environ == {}
