"""postmock_nb.healthcheck's own contract, without a server (tests/cli/test_deploy.py runs it against real mocks)."""

from __future__ import annotations

import pytest

from postmock_nb import healthcheck


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_prints_the_usage_and_checks_nothing(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert healthcheck.main([flag]) == 0
    assert "python -m postmock_nb.healthcheck [URL]" in capsys.readouterr().out


@pytest.mark.parametrize("url", ["not a url", "ftp//missing-colon", ""])
def test_a_url_that_cannot_be_asked_is_unhealthy_with_the_reason(url: str) -> None:
    ok, said = healthcheck.healthy(url)
    assert ok is False and "unknown url type" in said


def test_the_default_url_follows_the_image_s_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANIAN_PORT", "9123")
    assert healthcheck.default_url() == "http://127.0.0.1:9123/__postmock/health"
    monkeypatch.delenv("GRANIAN_PORT")
    assert healthcheck.default_url() == "http://127.0.0.1:8000/__postmock/health"


def test_the_default_url_is_https_when_granian_serves_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANIAN_PORT", "8443")
    monkeypatch.setenv("GRANIAN_SSL_CERTIFICATE", "/etc/mock/cert.pem")
    assert healthcheck.default_url() == "https://127.0.0.1:8443/__postmock/health"


@pytest.mark.parametrize(("args", "said"), [(["--ca"], "--ca needs a FILE"),
                                            (["--cert", "x"], "unexpected argument '--cert'"),
                                            (["http://a", "http://b"], "unexpected argument 'http://b'")])
def test_a_wrong_command_line_says_so_with_the_usage(args: list[str], said: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert healthcheck.main(args) == 2
    assert capsys.readouterr().err == f"{said}\n{healthcheck.USAGE}\n"


def test_a_ca_file_is_trusted_as_an_anchor_even_when_it_is_the_server_s_own_certificate(tmp_path) -> None:
    trustme = pytest.importorskip("trustme", reason="the team extra: pip install -e '.[team]'")
    leaf = trustme.CA().issue_cert("127.0.0.1")
    cert = tmp_path / "cert.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    context = healthcheck.tls_context(str(cert))
    assert context.cert_store_stats()["x509"] == 1
    assert context.verify_flags & healthcheck.ssl.VERIFY_X509_PARTIAL_CHAIN
    assert not healthcheck.tls_context(None).verify_flags & healthcheck.ssl.VERIFY_X509_PARTIAL_CHAIN
