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
