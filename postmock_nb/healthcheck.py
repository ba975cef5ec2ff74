"""``python -m postmock_nb.healthcheck [URL]``: exit 0 if the mock at URL is healthy, 1 if not.

The container's ``HEALTHCHECK`` (and a Kubernetes exec probe for a private mock). The default
URL is ``http://127.0.0.1:$GRANIAN_PORT/__postmock/health`` (port 8000 without it), the
image's server; a private mock's key is sent from ``POSTMOCK_API_KEY``, as the mock reads it.
Standard library only: it runs every few seconds, so it starts fast.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

TIMEOUT = 3.0


def default_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('GRANIAN_PORT', '8000')}/__postmock/health"


def healthy(url: str, api_key: str = "", timeout: float = TIMEOUT) -> tuple[bool, str]:
    """Whether ``url`` answers 200, and what it said (or why it could not)."""
    try:
        request = urllib.request.Request(url, headers={"x-api-key": api_key} if api_key else {})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status == 200, f"{response.status} {response.read(200).decode(errors='replace')}"
    except urllib.error.HTTPError as error:
        return False, f"{error.code} {error.reason}"
    except (OSError, ValueError) as error:
        return False, str(getattr(error, "reason", error))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print((__doc__ or "").strip())
        return 0
    url = args[0] if args else default_url()
    ok, said = healthy(url, os.environ.get("POSTMOCK_API_KEY", ""))
    print(f"{url}: {said}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
