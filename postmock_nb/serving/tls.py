"""HTTPS for a mock: the certificate it serves with, and what a client needs to trust it.

``--tls`` makes, on the fly, a CA of its own and a certificate it signs for ``localhost``, ``127.0.0.1`` and
``::1`` (and ``--host`` when it names one address), with PyPI's ``trustme`` (the ``team`` extra). The files
go to a private temporary folder (0700; the key 0600), removed when the mock stops (or the process ends);
the CA file is the one clients trust (``curl --cacert``, ``requests.get(..., verify=...)``,
``NODE_EXTRA_CA_CERTS``). ``--tls-cert FILE --tls-key FILE`` serves with the person's own files, checked
before anything serves (a file missing or unreadable, not PEM, or a key that does not fit the certificate
is a :class:`~postmock_nb.errors.ConfigError` naming the file).

Each server does the TLS itself, on the socket :class:`~postmock_nb.serving.server.MockServer` bound
(Hypercorn's ``certfile``/``keyfile``, uvicorn's ``ssl_certfile``/``ssl_keyfile``, granian's
``ssl_cert``/``ssl_key``): the adapters take the :class:`Certificate` and pass its two files on.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import ssl
import tempfile
import weakref
from pathlib import Path

from postmock_nb.config import MockConfig
from postmock_nb.errors import ConfigError

__all__ = ["IDENTITIES", "TEAM_INSTALL", "Certificate", "certificate_for", "check_pair", "made_on_the_fly",
           "user_files"]

IDENTITIES = ("localhost", "127.0.0.1", "::1")
"""What a certificate made on the fly is for (and ``--host`` when it names one address)."""
TEAM_INSTALL = 'pip install "postmock_nb[team]" (in a clone: pip install -e ".[team]")'
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


class Certificate:
    """The files a mock serves https with: ``cert`` (PEM chain) and ``key``; ``ca``, the CA that signed it
    when it was made on the fly (None: the person's own files). A certificate made on the fly owns its
    folder (``directory``): :meth:`remove` deletes it, as does the end of the process."""

    def __init__(self, cert: str, key: str, *, ca: str | None = None, directory: str | None = None,
                 identities: tuple[str, ...] = ()) -> None:
        self.cert = cert
        self.key = key
        self.ca = ca
        self.directory = directory
        self.identities = identities
        """What a certificate made on the fly is for (empty for the person's own)."""
        self._remover = (weakref.finalize(self, shutil.rmtree, directory, ignore_errors=True)
                         if directory is not None else None)

    @property
    def made(self) -> bool:
        """Made on the fly for this mock (else the person's own files)."""
        return self.ca is not None

    @property
    def trust_file(self) -> str:
        """The PEM file a client trusts to reach the mock: the CA made for it, or the person's certificate
        (its chain: a self-signed certificate is its own anchor)."""
        return self.ca or self.cert

    def remove(self) -> None:
        """Delete the files made on the fly (nothing for the person's own). Safe to call twice."""
        if self._remover is not None:
            self._remover()

    def client_lines(self, url: str) -> list[str]:
        """How to reach ``url`` trusting this certificate: curl, requests, Node (the ``postmock serve`` banner)."""
        trust = self.trust_file
        return [f'curl --cacert {trust} {url}/',
                f'requests.get("{url}/", verify="{trust}")',
                f'NODE_EXTRA_CA_CERTS={trust} node app.js']

    def describe(self) -> str:
        """One line saying what the mock serves https with."""
        if self.made:
            return (f"HTTPS with a certificate for {', '.join(self.identities)} made for this run; "
                    f"its CA file: {self.ca}")
        return f"HTTPS with the certificate {self.cert} (key {self.key})"

    def __repr__(self) -> str:
        return f"<Certificate {'made on the fly, CA ' + str(self.ca) if self.made else self.cert}>"


def certificate_for(config: MockConfig) -> Certificate | None:
    """The certificate ``config`` serves https with (None: plain http). Made or checked here, before serving."""
    if config.tls_cert is not None and config.tls_key is not None:
        return user_files(config.tls_cert, config.tls_key)
    if config.tls:
        return made_on_the_fly(identities_for(config.host))
    return None


def identities_for(host: str) -> tuple[str, ...]:
    """:data:`IDENTITIES`, and ``host`` when the mock listens on one address that is not among them."""
    extra = () if host in WILDCARD_HOSTS or host in IDENTITIES else (host,)
    return IDENTITIES + extra


def made_on_the_fly(identities: tuple[str, ...] = IDENTITIES) -> Certificate:
    """A new CA and a certificate it signs for ``identities``, written to a private temporary folder."""
    if importlib.util.find_spec("trustme") is None:
        raise ConfigError("--tls needs the trustme package to make a certificate",
                          hint=f"{TEAM_INSTALL}, or give your own: --tls-cert FILE --tls-key FILE")
    import trustme  # deferred: an optional package (the team extra), imported only to make a certificate

    authority = trustme.CA(organization_name="postmock_nb")
    leaf = authority.issue_cert(*identities, common_name=identities[0])
    directory = tempfile.mkdtemp(prefix="postmock-tls-")  # 0700: this user's only
    folder = Path(directory)
    try:
        _write(folder / "ca.pem", authority.cert_pem.bytes())
        _write(folder / "cert.pem", b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        _write(folder / "key.pem", leaf.private_key_pem.bytes())
    except OSError:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return Certificate(str(folder / "cert.pem"), str(folder / "key.pem"), ca=str(folder / "ca.pem"),
                       directory=directory, identities=identities)


def _write(path: Path, data: bytes) -> None:
    """Write a new file readable by this user only (0600)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def user_files(cert: str, key: str) -> Certificate:
    """The person's certificate and key, checked (:func:`check_pair`)."""
    check_pair(cert, key)
    return Certificate(str(Path(cert).expanduser()), str(Path(key).expanduser()))


def _no_password() -> bytes:
    raise ConfigError("encrypted")  # caught below: OpenSSL must never prompt on the terminal


def check_pair(cert: str, key: str) -> None:
    """A :class:`ConfigError` naming the file unless ``cert`` is a readable PEM certificate and ``key`` a readable,
    unencrypted PEM private key that fits it."""
    for flag, name in (("--tls-cert", cert), ("--tls-key", key)):
        path = Path(name).expanduser()
        try:
            with path.open("rb") as file:
                file.read(1)
        except OSError as error:
            raise ConfigError(f"{flag} {name}: cannot read the file ({error.strerror or error})",
                              hint="give the path of a PEM file this user can read") from None
    try:
        ssl.create_default_context(cafile=str(Path(cert).expanduser()))
    except (ssl.SSLError, ValueError):
        raise ConfigError(f"--tls-cert {cert}: not a PEM certificate",
                          hint="a file starting with -----BEGIN CERTIFICATE-----") from None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(Path(cert).expanduser()), str(Path(key).expanduser()), password=_no_password)
    except ssl.SSLError as error:
        if "KEY_VALUES_MISMATCH" in str(error) or "key values mismatch" in str(error):
            raise ConfigError(f"--tls-key {key}: this key does not fit the certificate {cert}",
                              hint="give the private key the certificate was made for") from None
        raise ConfigError(f"--tls-key {key}: not a PEM private key ({error.reason or error})",
                          hint="a file starting with -----BEGIN PRIVATE KEY----- (unencrypted)") from None
    except ConfigError:
        raise ConfigError(f"--tls-key {key}: the key is encrypted with a password",
                          hint=f"give it unencrypted: openssl pkey -in {key} -out key.pem") from None
