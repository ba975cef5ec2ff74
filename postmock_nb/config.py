"""The one settings record of a mock: :class:`MockConfig`.

The command line (``postmock serve``), the ``%mock start`` magic, :class:`~postmock_nb.session.Session`,
:class:`~postmock_nb.serving.server.MockServer`, the ASGI app and the matching engine all take this record and
pass it on whole. An option is declared here (with its check) and read by the two front ends; nothing
in between spells it again.

Pure: no web framework (whether the chosen server is installed is looked up, not imported);
the matching engine reads its ``match_*`` fields.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from postmock_nb.errors import ConfigError
from postmock_nb.serving.servers import check as check_server

DEFAULT_HOST = "127.0.0.1"
MAX_DELAY_MS = 180_000
"""The longest delay a mock (``--delay``) or a request (``x-mock-response-delay``) may ask for."""
NETWORK_PRESETS = {"2G": 300, "3G": 100}
"""Postman's network presets for the mock-wide latency (``--delay 3G``), in milliseconds."""


def delay_value(value: Any) -> Any:
    """``--delay``'s value: a preset name (``3G``) as its milliseconds, digits as a number, anything else as given."""
    if isinstance(value, str):
        text = value.strip()
        preset = NETWORK_PRESETS.get(text.upper())
        if preset is not None:
            return preset
        if text.isascii() and text.isdigit():
            return int(text)
    return value


def new_api_key() -> str:
    """A random key for a private mock, in the style of Postman's (``PMAK-…``)."""
    return "PMAK-" + secrets.token_hex(16)


def checked_upstream(url: str) -> str:
    """A proxy's upstream URL without its trailing slash, or a clear error."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"the proxy URL must be an http:// or https:// URL, got {url!r}",
                          hint="for example --proxy https://api.example.com/v1")
    if parts.query or parts.fragment:
        raise ConfigError(f"the proxy URL cannot carry a query or fragment: {url!r}",
                          hint="give the base URL the request paths are appended to")
    return url.rstrip("/")


def _share(value: object) -> float:
    """``value`` as a number from 0 to 1 (digits given as text too), or -1 when it is none."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return -1.0
    try:
        number = float(value)
    except ValueError:
        return -1.0
    return number if 0 <= number <= 1 else -1.0


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class MockConfig:
    """How a mock listens and behaves (Postman's mock settings, plus ours). Frozen and checked when built.

    A private mock built without an ``api_key`` gets a new random one here, once: copies made with
    :meth:`updated` (and the CLI's worker processes) keep it.
    """

    host: str = DEFAULT_HOST
    """Address to bind (127.0.0.1: this machine only)."""
    port: int = 0
    """Port to bind; 0 picks a free one."""
    private: bool = False
    """Require the key in an ``x-api-key`` header."""
    api_key: str | None = field(default=None, repr=False)
    """The private mock's key (None: a new random one when private; always None when public)."""
    cors: bool = True
    """Answer CORS preflights and add CORS headers."""
    match_headers: tuple[str, ...] = ()
    """Request headers that must match for every request (lower-cased, each once)."""
    match_body: bool = False
    """Require request bodies to match for every request."""
    match_body_contains: bool = False
    """With ``match_body``: a request body need only contain the example's fields (``--match-body contains``)."""
    delay_ms: int = 0
    """Delay every response by this many milliseconds."""
    max_body_bytes: int = 10 * 1024 * 1024
    """Larger request bodies are refused with a 413."""
    log_size: int = 1000
    """How many requests the request log keeps (its counts are never cut)."""
    read_timeout_s: int = 30
    """A stalled request body is answered 408 after this long; a half-sent head or an idle connection is closed
    (never a connection waiting for a long answer)."""
    reveal_secrets: bool = False
    """Let the admin API show x-api-key / Authorization / Cookie values when asked (``?reveal=1``)."""
    workers: int = 1
    """Worker processes sharing the port (``postmock serve --workers``): each keeps its own log."""
    validate_requests: bool = False
    """Check requests against the OpenAPI document served (422 listing each violation)."""
    proxy: str | None = None
    """Forward requests no example answers to this http(s) URL and return its answer."""
    record: str | None = None
    """With ``proxy``: save every proxied answer as an example in this Postman v2.1 file."""
    server: str = "hypercorn"
    """The HTTP server that serves the mock: hypercorn, uvicorn or granian (see :mod:`postmock_nb.serving.servers`)."""
    chaos: float = 0.0
    """The share of mock requests (0-1, e.g. 0.1) answered by :attr:`chaos_with` instead (0: off)."""
    chaos_seed: int | None = None
    """Seed of the chaos draw, so that a run can be repeated (None: a different draw each start)."""
    chaos_with: str = "503"
    """What chaos answers: ``503``, a fault (reset, close, timeout, malformed, truncate, slow) or an example's name."""

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host.strip():
            raise ConfigError(f"--host must be an address, got {self.host!r}",
                              hint="127.0.0.1 serves this machine only")
        if not _whole(self.port) or not 0 <= self.port <= 65535:
            raise ConfigError(f"--port must be 0-65535, got {self.port}", hint="0 picks a free port")
        if self.api_key is not None:
            if not isinstance(self.api_key, str) or not self.api_key.strip():
                raise ConfigError("the API key is empty", hint="give a non-empty --api-key, or leave it out to get one")
            if not self.private:
                raise ConfigError("--api-key only makes sense with --private", hint="add --private")
            if not (self.api_key.isascii() and self.api_key.isprintable() and self.api_key == self.api_key.strip()):
                raise ConfigError("the API key must be printable ASCII without surrounding spaces",
                                  hint="clients send other characters as different bytes "
                                       "(curl UTF-8, requests Latin-1)")
        elif self.private:
            object.__setattr__(self, "api_key", new_api_key())  # decided here, once
        names = tuple(self.match_headers)
        if any(not isinstance(name, str) or not name.strip() for name in names):
            raise ConfigError(f"--match-header needs a header name, got {list(names)!r}", hint="--match-header x-role")
        object.__setattr__(self, "match_headers", tuple(dict.fromkeys(name.strip().lower() for name in names)))
        chaos = _share(self.chaos)
        if not 0 <= chaos <= 1:
            raise ConfigError(f"--chaos must be a share of requests from 0 to 1, got {self.chaos!r}",
                              hint="--chaos 0.1 answers one request in ten with --chaos-with (503 by default)")
        object.__setattr__(self, "chaos", chaos)
        if self.chaos_seed is not None and not _whole(self.chaos_seed):
            raise ConfigError(f"--chaos-seed must be a whole number, got {self.chaos_seed!r}", hint="--chaos-seed 7")
        if not isinstance(self.chaos_with, str) or not self.chaos_with.strip():
            raise ConfigError("--chaos-with is empty", hint="503, a fault (reset, close...) or an example's name")
        object.__setattr__(self, "delay_ms", delay_value(self.delay_ms))
        if not _whole(self.delay_ms) or not 0 <= self.delay_ms <= MAX_DELAY_MS:
            raise ConfigError(f"--delay must be 0-{MAX_DELAY_MS} milliseconds, got {self.delay_ms}",
                              hint="a whole number of milliseconds (0 for none), or a network preset: " + ", ".join(
                                  f"{name} ({ms} ms)" for name, ms in NETWORK_PRESETS.items()))
        if not _whole(self.max_body_bytes) or self.max_body_bytes < 0:
            raise ConfigError(f"max_body_bytes must be 0 or more, got {self.max_body_bytes}")
        if not _whole(self.read_timeout_s) or self.read_timeout_s < 1:
            raise ConfigError(f"read_timeout_s must be 1 or more seconds, got {self.read_timeout_s}")
        if not _whole(self.workers) or self.workers < 1:
            raise ConfigError(f"--workers must be 1 or more, got {self.workers}", hint="--workers 2 for two processes")
        if self.proxy is not None:
            object.__setattr__(self, "proxy", checked_upstream(self.proxy))
        if self.record is not None and self.proxy is None:
            raise ConfigError("--record needs --proxy URL: only proxied answers are recorded",
                              hint="--proxy https://api.example.com --record recorded.json")
        if not _whole(self.log_size) or self.log_size < 1:
            raise ConfigError(f"log_size must be 1 or more, got {self.log_size}",
                              hint="the log keeps the last N requests")
        check_server(self.server)  # known, and installed (looked up, not imported)

    def check_chaos_with(self, names: Callable[[str], bool], examples: Sequence[str] = ()) -> None:
        """``--chaos-with`` answers with something that exists: 503, a fault, or an example ``names`` knows
        (its name or id). Otherwise a :class:`ConfigError` naming it, with the choices (``examples``: some names).

        Checked when a mock starts serving a collection (the example must be defined by then), since a
        name that is nowhere would answer every chaos draw with a plain 503 instead of what was asked.
        """
        from postmock_nb.answers.faults import FAULTS

        what = self.chaos_with.strip()
        if what == "503" or what.lower() in FAULTS or names(what):
            return
        shown = ", ".join(repr(name) for name in examples[:5]) + (", ..." if len(examples) > 5 else "")
        raise ConfigError(f"--chaos-with {what!r} is not 503, a fault or an example of this mock",
                          hint=f"503, a fault ({', '.join(FAULTS)}) or the name or id of an example"
                               + (f": {shown}" if shown else " (define it first)"))

    @property
    def key(self) -> str:
        """The private mock's key, or "" for a public mock."""
        return self.api_key or ""

    def updated(self, **changes: Any) -> MockConfig:
        """A copy with ``changes`` (checked again). Going public drops the key; going private without one makes one."""
        if not changes:
            return self
        if "api_key" not in changes and changes.get("private", self.private) != self.private:
            changes["api_key"] = None
        return replace(self, **changes)

    def same_as(self, wanted: MockConfig, *, bound_port: int | None = None, any_key: bool = False) -> bool:
        """Whether a mock running with this config serves what ``wanted`` asks for.

        ``wanted``'s port 0 (any free port), or the port the mock is bound to (``bound_port``), fits;
        with ``any_key`` a private mock's key fits whatever key ``wanted`` made up; every other field
        must be equal.
        """
        port = self.port if wanted.port in (0, bound_port) else wanted.port
        key = self.api_key if any_key and wanted.private and self.private else wanted.api_key
        return replace(wanted, port=port, api_key=key) == self

    @classmethod
    def of(cls, config: MockConfig | None = None, **options: Any) -> MockConfig:
        """``config`` with ``options`` applied (the defaults when no config is given)."""
        return (config or cls()).updated(**options)
