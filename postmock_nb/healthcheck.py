"""``python -m postmock_nb.healthcheck [URL] [--ca FILE]``: exit 0 if the mock at URL is healthy, 1 if not.

The container's ``HEALTHCHECK`` (and a Kubernetes exec probe for a private mock). The default
URL is ``http://127.0.0.1:$GRANIAN_PORT/__postmock/health`` (port 8000 without it), the
image's server; ``https://`` when granian serves TLS (``GRANIAN_SSL_CERTIFICATE`` is set). A private
mock's key is sent from ``POSTMOCK_API_KEY``, as the mock reads it.

An https mock is checked against ``--ca FILE`` (or ``POSTMOCK_TLS_CA``): the CA file ``--tls`` printed,
or the certificate itself (a file of certificates, each trusted as it is); without it, against the
system's CAs. Standard library only: it runs every few seconds, so it starts fast.
"""

from __future__ import annotations

import os
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

TIMEOUT = 3.0
CA_VARIABLE = "POSTMOCK_TLS_CA"
"""The CA file (or certificate) an https mock is checked against, when ``--ca`` is not given."""
USAGE = "usage: python -m postmock_nb.healthcheck [URL] [--ca FILE]"


def default_url() -> str:
    scheme = "https" if os.environ.get("GRANIAN_SSL_CERTIFICATE") else "http"
    return f"{scheme}://127.0.0.1:{os.environ.get('GRANIAN_PORT', '8000')}/__postmock/health"


def tls_context(ca: str | None) -> ssl.SSLContext:
    """What an https check trusts: the certificates in ``ca`` (a CA, or the server's own certificate, as an
    anchor), else the system's."""
    context = ssl.create_default_context(cafile=ca)
    if ca:
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # the server's own certificate is anchor enough
    return context


def healthy(url: str, api_key: str = "", timeout: float = TIMEOUT, ca: str | None = None) -> tuple[bool, str]:
    """Whether ``url`` answers 200, and what it said (or why it could not). ``ca``: what an https URL is
    checked against."""
    try:
        request = urllib.request.Request(url, headers={"x-api-key": api_key} if api_key else {})
        context = tls_context(ca) if url.lower().startswith("https:") else None
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status == 200, f"{response.status} {response.read(200).decode(errors='replace')}"
    except urllib.error.HTTPError as error:
        return False, f"{error.code} {error.reason}"
    except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
        return False, str(getattr(error, "reason", error))


def _arguments(args: list[str]) -> tuple[str | None, str | None]:
    """The URL and the ``--ca`` file of the command line (a ValueError saying what is wrong)."""
    url: str | None = None
    ca: str | None = None
    words = iter(args)
    for word in words:
        if word == "--ca":
            ca = next(words, None)
            if not ca:
                raise ValueError("--ca needs a FILE")
        elif word.startswith("--ca="):
            ca = word.partition("=")[2]
        elif word.startswith("-") or url is not None:
            raise ValueError(f"unexpected argument {word!r}")
        else:
            url = word
    return url, ca


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print((__doc__ or "").strip())
        return 0
    try:
        url, ca = _arguments(args)
    except ValueError as error:
        print(f"{error}\n{USAGE}", file=sys.stderr)
        return 2
    url = url or default_url()
    ok, said = healthy(url, os.environ.get("POSTMOCK_API_KEY", ""), ca=ca or os.environ.get(CA_VARIABLE) or None)
    print(f"{url}: {said}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
