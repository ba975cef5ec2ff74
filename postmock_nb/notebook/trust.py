"""``requests`` in the notebook trusts the https mock (``%mock start --tls``) while it runs.

``requests`` reads ``REQUESTS_CA_BUNDLE`` at every request. While an https mock runs, it names a bundle
of what ``requests`` trusted before (the file the variable named, else certifi's CAs) followed by the
mock's CA (or the person's own certificate with ``--tls-cert``), in a private temporary folder; when the
mock stops (``%mock stop``, the dashboard's button, the kernel closing the session) the variable is put
back as it was and the folder removed. Other https calls of the notebook keep working: the bundle holds
every CA they trusted.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from postmock_nb.serving.tls import Certificate
    from postmock_nb.session import SessionEvent

__all__ = ["VARIABLE", "KernelTrust", "trusted_before"]

VARIABLE = "REQUESTS_CA_BUNDLE"
"""What ``requests`` reads for the CAs it trusts (``CURL_CA_BUNDLE`` after it)."""


def trusted_before(environ: MutableMapping[str, str]) -> str | None:
    """The PEM file ``requests`` trusts now: the bundle the environment names, else certifi's (None: none found)."""
    for name in (VARIABLE, "CURL_CA_BUNDLE"):
        named = environ.get(name)
        if named and Path(named).is_file():
            return named
    try:
        import certifi  # deferred: only an https mock needs it (requests' own CA bundle)
    except ImportError:
        return ssl.get_default_verify_paths().cafile
    where: str = certifi.where()
    return where


class KernelTrust:
    """Points ``REQUESTS_CA_BUNDLE`` at a bundle that adds a mock's certificate, and puts it back.

    A :class:`~postmock_nb.session.SessionListener`: a session stopping or closing puts it back.
    """

    def __init__(self, environ: MutableMapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ
        self.trusted: Certificate | None = None
        """The certificate trusted now (None: the variable is as the person left it)."""
        self.bundle: str | None = None
        self._before: str | None = None
        self._directory: str | None = None

    def trust(self, certificate: Certificate) -> str:
        """Trust ``certificate`` from now on (instead of any trusted before); returns the bundle's path."""
        if self.trusted is certificate and self.bundle is not None:
            return self.bundle
        self.restore()
        base = trusted_before(self.environ)
        directory = tempfile.mkdtemp(prefix="postmock-trust-")
        bundle = Path(directory, "ca-bundle.pem")
        parts = [Path(base).read_bytes()] if base else []
        parts.append(Path(certificate.trust_file).read_bytes())
        bundle.write_bytes(b"\n".join(part.rstrip(b"\n") for part in parts) + b"\n")
        self._before = self.environ.get(VARIABLE)
        self._directory, self.bundle, self.trusted = directory, str(bundle), certificate
        self.environ[VARIABLE] = str(bundle)
        return str(bundle)

    def restore(self) -> None:
        """Put ``REQUESTS_CA_BUNDLE`` back as it was (unless someone changed it since) and remove the bundle."""
        if self.bundle is not None and self.environ.get(VARIABLE) == self.bundle:
            if self._before is None:
                self.environ.pop(VARIABLE, None)
            else:
                self.environ[VARIABLE] = self._before
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        self.trusted = self.bundle = self._before = self._directory = None

    def session_changed(self, event: SessionEvent) -> None:
        """The mock stopped, or the session closed: its certificate is trusted no longer."""
        if event.kind in ("stopped", "closed"):
            self.restore()
