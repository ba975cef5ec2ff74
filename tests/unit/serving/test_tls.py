"""postmock_nb.serving.tls: the certificate a mock serves https with, made (trustme) or the person's own, checked.

Pure: files in a temporary folder, no socket (tests/server/test_tls.py serves with them)."""

from __future__ import annotations

import importlib.util
import ssl
import stat
from pathlib import Path

import pytest

from postmock_nb.config import MockConfig
from postmock_nb.errors import ConfigError
from postmock_nb.serving import tls

trustme = pytest.importorskip("trustme", reason="the team extra: pip install -e '.[team]'")


def pair(folder: Path, *identities: str) -> tuple[str, str, trustme.CA]:
    """A certificate and key made by a CA of the test's own, written to ``folder``."""
    authority = trustme.CA()
    leaf = authority.issue_cert(*(identities or ("localhost",)))
    cert, key = folder / "cert.pem", folder / "key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    return str(cert), str(key), authority


def test_a_certificate_made_on_the_fly_is_for_localhost_and_lives_in_a_private_folder() -> None:
    made = tls.made_on_the_fly()
    try:
        folder = Path(made.directory or "")
        assert made.made and made.trust_file == made.ca
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(Path(made.key).stat().st_mode) == 0o600
        assert {Path(made.cert).parent, Path(made.key).parent, Path(made.ca or "").parent} == {folder}
        assert made.identities == ("localhost", "127.0.0.1", "::1")
        tls.check_pair(made.cert, made.key)  # the key fits
        # the CA made for it is what a client trusts: the certificate verifies against it
        context = ssl.create_default_context(cafile=made.ca)
        assert context.cert_store_stats()["x509_ca"] == 1
    finally:
        made.remove()
    assert not folder.exists()
    made.remove()  # twice is fine


def test_the_describe_and_client_lines_name_the_ca_file() -> None:
    made = tls.made_on_the_fly()
    try:
        assert made.describe() == (f"HTTPS with a certificate for localhost, 127.0.0.1, ::1 made for this run; "
                                   f"its CA file: {made.ca}")
        assert made.client_lines("https://127.0.0.1:8443") == [
            f"curl --cacert {made.ca} https://127.0.0.1:8443/",
            f'requests.get("https://127.0.0.1:8443/", verify="{made.ca}")',
            f"NODE_EXTRA_CA_CERTS={made.ca} node app.js"]
    finally:
        made.remove()


@pytest.mark.parametrize(("host", "extra"), [("127.0.0.1", ()), ("0.0.0.0", ()), ("::", ()),
                                             ("192.168.1.20", ("192.168.1.20",)), ("mock.internal", ("mock.internal",))])
def test_a_host_naming_one_address_is_added_to_the_identities(host: str, extra: tuple[str, ...]) -> None:
    assert tls.identities_for(host) == tls.IDENTITIES + extra


def test_certificate_for_a_config(tmp_path: Path) -> None:
    assert tls.certificate_for(MockConfig()) is None
    made = tls.certificate_for(MockConfig(tls=True, host="10.1.2.3"))
    assert made is not None and made.made and made.identities[-1] == "10.1.2.3"
    made.remove()
    cert, key, _ = pair(tmp_path)
    own = tls.certificate_for(MockConfig(tls_cert=cert, tls_key=key))
    assert own is not None and not own.made and (own.cert, own.key, own.trust_file) == (cert, key, cert)
    assert own.describe() == f"HTTPS with the certificate {cert} (key {key})"
    own.remove()  # the person's files are never removed
    assert Path(cert).exists() and Path(key).exists()


def test_without_trustme_tls_is_a_config_error_with_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "trustme" else real(name, *a))
    with pytest.raises(ConfigError) as caught:
        tls.made_on_the_fly()
    assert caught.value.message == "--tls needs the trustme package to make a certificate"
    assert caught.value.hint == ('pip install "postmock_nb[team]" (in a clone: pip install -e ".[team]"), '
                                 "or give your own: --tls-cert FILE --tls-key FILE")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    cert, key, _ = pair(tmp_path)
    with pytest.raises(ConfigError, match=r"^--tls-cert /nowhere/cert.pem: cannot read the file \(No such file"):
        tls.check_pair("/nowhere/cert.pem", key)
    with pytest.raises(ConfigError, match=r"^--tls-key /nowhere/key.pem: cannot read the file \(No such file"):
        tls.check_pair(cert, "/nowhere/key.pem")
    with pytest.raises(ConfigError, match=r"cannot read the file \(Is a directory"):
        tls.check_pair(str(tmp_path), key)


def test_a_file_that_is_not_pem_is_named(tmp_path: Path) -> None:
    cert, key, _ = pair(tmp_path)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ConfigError) as caught:
        tls.check_pair(str(junk), key)
    assert caught.value.message == f"--tls-cert {junk}: not a PEM certificate"
    with pytest.raises(ConfigError) as caught:
        tls.check_pair(cert, str(junk))
    assert caught.value.message.startswith(f"--tls-key {junk}: not a PEM private key")
    with pytest.raises(ConfigError, match="not a PEM private key"):
        tls.check_pair(cert, cert)  # the certificate given as its own key


def test_a_key_that_does_not_fit_the_certificate_is_named(tmp_path: Path) -> None:
    cert, _, _ = pair(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _, other_key, _ = pair(other)
    with pytest.raises(ConfigError) as caught:
        tls.check_pair(cert, other_key)
    assert caught.value.message == f"--tls-key {other_key}: this key does not fit the certificate {cert}"


def test_an_encrypted_key_is_refused_without_a_prompt(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    cert, key, _ = pair(tmp_path)
    loaded = serialization.load_pem_private_key(Path(key).read_bytes(), password=None)
    locked = tmp_path / "locked.pem"
    locked.write_bytes(loaded.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.BestAvailableEncryption(b"secret")))
    with pytest.raises(ConfigError) as caught:
        tls.check_pair(cert, str(locked))
    assert caught.value.message == f"--tls-key {locked}: the key is encrypted with a password"
    assert caught.value.hint == f"give it unencrypted: openssl pkey -in {locked} -out key.pem"
