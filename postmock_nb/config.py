"""The one settings record of a mock (:class:`MockConfig`), and the one table of its options (:data:`OPTIONS`).

The command line (``postmock serve``), the ``%mock start`` magic, :class:`~postmock_nb.session.Session`,
:class:`~postmock_nb.serving.server.MockServer`, the ASGI app and the matching engine all take this record and
pass it on whole. An option is declared once, as a row of :data:`OPTIONS` (its name, type, parser, default,
help and environment variable); from that table come the ``postmock serve`` parser, the ``%mock start`` parser,
the ``POSTMOCK_*`` reader of the ASGI app and the checks of :class:`MockConfig`. Nothing else spells an option.

Values are parsed where text comes in (:meth:`Option.parse`: ``"3G"`` → 300, ``"0.1"`` → 0.1); the record
holds typed values and checks each field with its row's check, with the same messages for every front end.

A leaf: imports nothing of the package but :mod:`postmock_nb.errors`. The names the checks need (the
servers and what each needs installed, the fault names) live here, and the modules that implement them
(:mod:`postmock_nb.serving.servers`, :mod:`postmock_nb.answers.faults`) import them from here.
Pure: whether a server is installed is looked up, never imported.
"""

from __future__ import annotations

import argparse
import importlib.util
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from postmock_nb.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
MAX_DELAY_MS = 180_000
"""The longest delay a mock (``--delay``) or a request (``x-mock-response-delay``) may ask for."""
NETWORK_PRESETS = {"2G": 300, "3G": 100}
"""Postman's network presets for the mock-wide latency (``--delay 3G``), in milliseconds."""
FAULTS = ("reset", "close", "timeout", "malformed", "truncate", "slow")
"""The faults an answer can be (``--chaos-with``, ``x-mock-fault``): :mod:`postmock_nb.answers.faults` does them."""


# -- the servers a mock can run on (what the settings know of them) ----------------------------------------------


@dataclass(frozen=True)
class ServerInfo:
    """One server postmock can run on."""

    name: str
    module: str
    """The adapter module (in :mod:`postmock_nb.serving.servers`), imported only when the server is used."""
    requires: tuple[str, ...]
    """Top-level packages it needs."""
    install: str
    """How to install what it needs."""


DEFAULT_SERVER = "hypercorn"
FAST_EXTRA = 'pip install ".[fast]" in a clone of the repository'
SERVERS: dict[str, ServerInfo] = {
    "hypercorn": ServerInfo("hypercorn", "hypercorn_server", ("hypercorn",), 'pip install "postmock_nb"'),
    "uvicorn": ServerInfo("uvicorn", "uvicorn_server", ("uvicorn", "httptools"), FAST_EXTRA),
    "granian": ServerInfo("granian", "granian_server", ("granian",), FAST_EXTRA),
}
SERVER_NAMES = tuple(SERVERS)


def missing_packages(name: str) -> list[str]:
    """The packages server ``name`` needs that are not installed (nothing is imported)."""
    return [package for package in SERVERS[name].requires if importlib.util.find_spec(package) is None]


def check_server(name: object) -> str:
    """``name`` if it is a known server whose packages are installed; a :class:`ConfigError` saying why not."""
    if not isinstance(name, str) or name not in SERVERS:
        raise ConfigError(f"--server must be one of {', '.join(SERVER_NAMES)}, got {name!r}",
                          hint=f"{DEFAULT_SERVER} is the default; uvicorn and granian are the fast ones")
    absent = missing_packages(name)
    if absent:
        raise ConfigError(f"the {name} server is not installed (missing: {', '.join(absent)})",
                          hint=f"{SERVERS[name].install}, or choose another --server")
    return name


# -- values: parsed at the boundary, checked in the record ------------------------------------------------------


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


def _delay_error(value: object) -> ConfigError:
    return ConfigError(f"--delay must be 0-{MAX_DELAY_MS} milliseconds, got {value}",
                       hint="a whole number of milliseconds (0 for none), or a network preset: " + ", ".join(
                           f"{name} ({ms} ms)" for name, ms in NETWORK_PRESETS.items()))


def parse_delay(text: str) -> int:
    """``--delay``'s text: a preset name (``3G``) as its milliseconds, or digits as a number."""
    stripped = text.strip()
    preset = NETWORK_PRESETS.get(stripped.upper())
    if preset is not None:
        return preset
    if stripped.isascii() and stripped.isdigit():
        return int(stripped)
    raise _delay_error(text)


def _chaos_error(value: object) -> ConfigError:
    return ConfigError(f"--chaos must be a share of requests from 0 to 1, got {value!r}",
                       hint="--chaos 0.1 answers one request in ten with --chaos-with (503 by default)")


def parse_share(text: str) -> float:
    """``--chaos``'s text as a share from 0 to 1 (``"0.1"`` → 0.1)."""
    try:
        number = float(text)
    except ValueError:
        raise _chaos_error(text) from None
    if not 0 <= number <= 1:
        raise _chaos_error(text)
    return number


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


EXAMPLES_CHOICES = ("as-written", "generate")
"""``--examples``: serve an OpenAPI document's response examples as written (the default), or generate a value from
the schema for each one that breaks its own schema (:mod:`postmock_nb.formats.openapi`)."""


def parse_examples(text: str) -> str:
    """``--examples``' text: one of :data:`EXAMPLES_CHOICES`."""
    value = text.strip().lower()
    if value not in EXAMPLES_CHOICES:
        raise ConfigError(f"--examples must be {' or '.join(EXAMPLES_CHOICES)}, got {text!r}",
                          hint="--examples generate serves a value generated from the schema for each response "
                               "example that breaks it")
    return value


# -- environment variables (the ASGI entry point): how each type's text is read -----------------------------------

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def env_flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {raw!r}")


def env_whole(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def env_names(name: str, raw: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in raw.split(","))
    if any(not part for part in names):
        raise ConfigError(f"{name} must be header names separated by commas, got {raw!r}",
                          hint=f"{name}=x-role,x-tenant")
    return names


def env_text(name: str, raw: str) -> str:
    return raw


def env_stripped(name: str, raw: str) -> str:
    return raw.strip()


# -- the checks of the record, one per field (in the order they run) ----------------------------------------------

Check = Callable[["MockConfig"], Any]
"""A field's check: its value (normalised) from the record being built, or a :class:`ConfigError`."""


def _check_host(config: MockConfig) -> str:
    if not isinstance(config.host, str) or not config.host.strip():
        raise ConfigError(f"--host must be an address, got {config.host!r}", hint="127.0.0.1 serves this machine only")
    return config.host


def _check_port(config: MockConfig) -> int:
    if not _whole(config.port) or not 0 <= config.port <= 65535:
        raise ConfigError(f"--port must be 0-65535, got {config.port}", hint="0 picks a free port")
    return config.port


def _check_api_key(config: MockConfig) -> str | None:
    key = config.api_key
    if key is None:
        return new_api_key() if config.private else None  # decided here, once
    if not isinstance(key, str) or not key.strip():
        raise ConfigError("the API key is empty", hint="give a non-empty --api-key, or leave it out to get one")
    if not config.private:
        raise ConfigError("--api-key only makes sense with --private", hint="add --private")
    if not (key.isascii() and key.isprintable() and key == key.strip()):
        raise ConfigError("the API key must be printable ASCII without surrounding spaces",
                          hint="clients send other characters as different bytes (curl UTF-8, requests Latin-1)")
    return key


def _check_match_headers(config: MockConfig) -> tuple[str, ...]:
    given: object = config.match_headers
    names = (given,) if isinstance(given, str) else tuple(config.match_headers)  # one name, not its letters
    if any(not isinstance(name, str) or not name.strip() for name in names):
        raise ConfigError(f"--match-header needs a header name, got {list(names)!r}", hint="--match-header x-role")
    return tuple(dict.fromkeys(name.strip().lower() for name in names))


def _check_callback_allow(config: MockConfig) -> tuple[str, ...]:
    given: object = config.callback_allow
    names = (given,) if isinstance(given, str) else tuple(config.callback_allow)  # one host, not its letters
    for name in names:
        if not isinstance(name, str) or not name.strip() or any(c in name.strip() for c in "/@ \t"):
            raise ConfigError(f"--callback-allow needs a host name (or *.domain), got {name!r}",
                              hint="--callback-allow hooks.example.com --callback-allow '*.internal.example'")
    return tuple(dict.fromkeys(name.strip().lower() for name in names))


def _check_chaos(config: MockConfig) -> float:
    value: object = config.chaos
    if isinstance(value, str):  # text given to the Python API: read as the command line reads it
        return parse_share(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise _chaos_error(value)
    return float(value)


def _check_chaos_seed(config: MockConfig) -> int | None:
    if config.chaos_seed is not None and not _whole(config.chaos_seed):
        raise ConfigError(f"--chaos-seed must be a whole number, got {config.chaos_seed!r}", hint="--chaos-seed 7")
    return config.chaos_seed


def _check_seed(config: MockConfig) -> int | None:
    if config.seed is not None and not _whole(config.seed):
        raise ConfigError(f"--seed must be a whole number, got {config.seed!r}", hint="--seed 3")
    return config.seed


def _check_chaos_with(config: MockConfig) -> str:
    if not isinstance(config.chaos_with, str) or not config.chaos_with.strip():
        raise ConfigError("--chaos-with is empty", hint="503, a fault (reset, close...) or an example's name")
    return config.chaos_with


def _check_delay(config: MockConfig) -> int:
    value: object = config.delay_ms
    if isinstance(value, str):  # text given to the Python API (MockConfig(delay_ms="3G")): read as the CLI reads it
        value = parse_delay(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DELAY_MS:
        raise _delay_error(value)
    return value


def _at_least(name: str, least: int, *, label: str = "", unit: str = "", hint: str = "") -> Check:
    """The check of a whole-number field that must be ``least`` or more (``label``: its name in the message)."""
    def check(config: MockConfig) -> int:
        value: int = getattr(config, name)
        if not _whole(value) or value < least:
            raise ConfigError(f"{label or name} must be {least} or more{unit}, got {value}", hint=hint)
        return value
    return check


def _check_proxy(config: MockConfig) -> str | None:
    return None if config.proxy is None else checked_upstream(config.proxy)


def _check_record(config: MockConfig) -> str | None:
    if config.record is not None and config.proxy is None:
        raise ConfigError("--record needs --proxy URL: only proxied answers are recorded",
                          hint="--proxy https://api.example.com --record recorded.json")
    return config.record


def _check_server(config: MockConfig) -> str:
    return check_server(config.server)  # known, and installed (looked up, not imported)


STATE_SCHEMES = ("redis", "rediss", "unix")
"""The URL schemes ``--state`` takes (redis-py's: TCP, TLS, a Unix socket)."""


SECRET_QUERY = frozenset({"password"})
"""Query parameters of a state URL that carry a secret (redis-py reads ``?password=``)."""


def masked_url(url: str) -> str:
    """``url`` with its password (``redis://:secret@host``, ``?password=secret``) shown as ``***``: how a state
    URL is shown. A URL too broken to read shows nothing of what stands before its host."""
    base, question, query = url.partition("?")
    try:
        parts = urlsplit(base)
        password = parts.password
    except ValueError:  # an unclosed [IPv6 address: its credentials cannot be told from the rest
        scheme, sep, rest = base.partition("://")
        base = f"{scheme}{sep}***@{rest.rpartition('@')[2]}" if "@" in rest else base
    else:
        if password is not None:
            base = parts._replace(netloc=f"{parts.username or ''}:***@{parts.netloc.rpartition('@')[2]}").geturl()
    pairs = [pair.partition("=") for pair in query.split("&")] if query else []
    query = "&".join(f"{name}{eq}***" if name.lower() in SECRET_QUERY and value else f"{name}{eq}{value}"
                     for name, eq, value in pairs)
    return f"{base}{question}{query}"


def _check_state(config: MockConfig) -> str | None:
    url = config.state
    if url is None:
        return None
    shown = masked_url(url) if isinstance(url, str) else url
    hint = "--state redis://127.0.0.1:6379/0 (every process naming it shares the mock's state)"
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is not None:
            parts.port  # noqa: B018 - read to check it (a port that is not a number raises)
    except ValueError as error:
        raise ConfigError(f"--state must be a Redis URL (redis://HOST:PORT/DB), got {shown!r}: {error}",
                          hint=hint) from None
    if parts is None or parts.scheme not in STATE_SCHEMES or not (parts.path if parts.scheme == "unix"
                                                                   else parts.hostname):
        raise ConfigError(f"--state must be a Redis URL (redis://HOST:PORT/DB), got {shown!r}", hint=hint)
    database = parts.path.strip("/")
    if parts.scheme != "unix" and database and not (database.isascii() and database.isdigit()):
        raise ConfigError(f"--state {shown}: the database must be a number (redis://HOST:PORT/DB), got {database!r}",
                          hint=hint)
    return url


def _check_state_prefix(config: MockConfig) -> str | None:
    prefix = config.state_prefix
    if prefix is None:
        return None
    if config.state is None:
        raise ConfigError("--state-prefix only makes sense with --state URL", hint="add --state redis://HOST:PORT/DB")
    if not isinstance(prefix, str) or not prefix.strip() or not all(c.isalnum() or c in "-_.:" for c in prefix):
        raise ConfigError(f"--state-prefix must be letters, digits and - _ . : only, got {prefix!r}",
                          hint="--state-prefix shop-mock (the default is the collection's name)")
    return prefix


def _check_admin_key(config: MockConfig) -> str | None:
    key = config.admin_key
    if key is None:
        return None
    if not isinstance(key, str) or not key.strip() or not (key.isascii() and key.isprintable() and key == key.strip()):
        raise ConfigError("the admin key must be printable ASCII without surrounding spaces",
                          hint="--admin-key KEY; clients send it in an x-postmock-admin-key header")
    if config.private and key == config.api_key:
        raise ConfigError("the admin key must differ from the mock's API key",
                          hint="a front end holding the mock's key must not be able to reconfigure the mock")
    return key


def _check_tls(config: MockConfig) -> bool:
    if (config.tls_cert is None) != (config.tls_key is None):
        given, missing = ("--tls-cert", "--tls-key") if config.tls_key is None else ("--tls-key", "--tls-cert")
        raise ConfigError(f"{given} needs {missing} too", hint="--tls-cert cert.pem --tls-key key.pem, or --tls alone "
                                                               "for a certificate made on the fly")
    return config.tls or config.tls_cert is not None


# -- the table -----------------------------------------------------------------------------------------------------

SERVE, START, LOAD = "serve", "start", "load"
"""The command lines: ``postmock serve``, ``%mock start`` and ``%mock load`` (which takes the options that say how
a file is read)."""


@dataclass(frozen=True)
class Option:
    """One option of a mock: a :class:`MockConfig` field (or a front end's own), and how each front end takes it."""

    name: str
    """The :class:`MockConfig` field, or (``field=False``) the front ends' own name for it."""
    type: str
    """What its value is: ``text``, ``int``, ``bool`` (a switch), ``names`` (repeatable), ``delay``, ``share``."""
    help: str
    flag: str = ""
    """The command-line spelling (``--match-header``); "" when no command line takes it."""
    fronts: tuple[str, ...] = (SERVE, START)
    """The command lines that take it (:data:`SERVE`, :data:`START`)."""
    parser: Callable[[str], Any] | None = None
    """Text → typed value, at the boundary (None: argparse's own type, or the text itself)."""
    default: Any = None
    """The command line's default (before parsing)."""
    env: str = ""
    """The ``POSTMOCK_*`` variable the ASGI entry point reads it from ("" when it does not)."""
    read_env: Callable[[str, str], Any] = env_text
    """How that variable's text is read (its name, its text)."""
    metavar: str | None = None
    check: Check | None = None
    """The record's check of the field (None: nothing to check)."""
    field: bool = True
    """Whether it is a :class:`MockConfig` field (``False``: the collection, the environment file, the dashboard)."""
    off: bool = False
    """A switch that turns the field off (``--no-cors``)."""
    help_start: str = ""
    """``%mock start``'s help, where it differs from ``postmock serve``'s."""

    @property
    def dest(self) -> str:
        """The attribute argparse stores it in."""
        return self.name

    def parse(self, value: Any) -> Any:
        """A command line's value as the field's type (text through :attr:`parser`; repeated names as a tuple)."""
        if self.type == "names":
            return tuple(value)
        if self.parser is not None and isinstance(value, str):
            return self.parser(value)
        return value

    def add_to(self, parser: argparse.ArgumentParser, front: str, defaults: Mapping[str, Any]) -> None:
        """Add this option to ``front``'s argparse ``parser`` (``defaults``: the front end's own, by option name)."""
        kwargs: dict[str, Any] = {"dest": self.dest, "help": (self.help_start if front == START else "") or self.help}
        if self.type == "bool":
            kwargs["action"] = "store_false" if self.off else "store_true"
        elif self.type == "names":
            kwargs.update(action="append", default=[])
        else:
            kwargs["default"] = defaults.get(self.name, self.default)
            if self.type == "int":
                kwargs["type"] = int
        if self.metavar is not None:
            kwargs["metavar"] = self.metavar
        parser.add_argument(self.flag, **kwargs)


OPTIONS: tuple[Option, ...] = (
    Option("collection", "text", "path of the collection JSON file, or of an OpenAPI document (JSON/YAML)",
           fronts=(), env="POSTMOCK_COLLECTION", field=False),
    Option("host", "text", "address to bind (default 127.0.0.1: this machine only)", "--host",
           default=DEFAULT_HOST, check=_check_host),
    Option("port", "int", "port (default 8000; 0 picks a free one)", "--port", default=8000, check=_check_port,
           help_start="port (default: a free one, or %%config PostmockMagics.default_port)"),
    Option("private", "bool", "require the key in an x-api-key header", "--private", env="POSTMOCK_PRIVATE",
           read_env=env_flag),
    Option("api_key", "text", "the key of a private mock (default: a new random one)", "--api-key",
           env="POSTMOCK_API_KEY", check=_check_api_key),
    Option("workers", "int", "worker processes sharing the port (default 1)", "--workers", fronts=(SERVE,),
           default=1, check=_at_least("workers", 1, label="--workers", hint="--workers 2 for two processes")),
    Option("server", "text", 'HTTP server: hypercorn (default), uvicorn or granian (the fast ones, '
                             'in a clone: pip install ".[fast]")', "--server", default=DEFAULT_SERVER, metavar="NAME",
           check=_check_server),
    Option("cors", "bool", "do not answer CORS preflights or add CORS headers", "--no-cors", off=True,
           env="POSTMOCK_CORS", read_env=env_flag),
    Option("chaos", "share", "answer this share of requests (0-1, e.g. 0.1) with --chaos-with instead (off: 0)",
           "--chaos", parser=parse_share, default="0", metavar="SHARE", check=_check_chaos),
    Option("chaos_seed", "int", "seed the chaos draw (repeatable runs)", "--chaos-seed", metavar="N",
           check=_check_chaos_seed),
    Option("chaos_with", "text", "what chaos answers: 503 (default), a fault (reset, close, timeout, malformed, "
                                 "truncate, slow) or an example's name", "--chaos-with", default="503",
           metavar="ANSWER", check=_check_chaos_with),
    Option("delay_ms", "delay", "delay every response by MS milliseconds, or a network preset: 2G (300 ms), "
                                "3G (100 ms)", "--delay", parser=parse_delay, default="0", metavar="MS",
           env="POSTMOCK_DELAY_MS", read_env=env_whole, check=_check_delay),
    Option("match_body", "bool", "require request bodies to match (per mock)", "--match-body",
           env="POSTMOCK_MATCH_BODY", read_env=env_flag),
    Option("match_body_contains", "bool", "require request bodies to contain each example's fields "
                                          "(per mock; see the README)", "--match-body-contains"),
    Option("match_headers", "names", "require this request header to match (repeatable)", "--match-header",
           metavar="NAME", env="POSTMOCK_MATCH_HEADERS", read_env=env_names, check=_check_match_headers),
    Option("callback_allow", "names", "let callbacks (webhooks) of handlers and examples call this host too, or "
                                      "every host under *.domain (repeatable; loopback is always allowed, any other "
                                      "host refused)",
           "--callback-allow", metavar="HOST", env="POSTMOCK_CALLBACK_ALLOW", read_env=env_names,
           check=_check_callback_allow),
    Option("validate_requests", "bool", "(OpenAPI documents) refuse requests that break the document, as Prism "
                                        "does: 422 (parameters, body, formats), 401 (credentials its security "
                                        "asks for), 405 (a method the path lacks), 415 (a media type)",
           "--validate-requests",
           env="POSTMOCK_VALIDATE_REQUESTS", read_env=env_flag),
    Option("dynamic", "bool", "(OpenAPI documents) answer each request with a fresh body made from the response's "
                              "schema instead of its example, as `prism mock -d` (per request: Prefer: dynamic=true "
                              "or false)", "--dynamic", env="POSTMOCK_DYNAMIC", read_env=env_flag),
    Option("seed", "int", "seed the --dynamic bodies (the same seed, the same sequence of answers)", "--seed",
           metavar="N", check=_check_seed),
    Option("environment", "text", "a Postman environment whose enabled values resolve {{vars}} over collection "
                                  "variables", "--environment", metavar="FILE", env="POSTMOCK_ENVIRONMENT",
           field=False),
    Option("examples", "text", "(OpenAPI documents) as-written: serve each response example as the document writes "
                               "it; generate: serve a value generated from the schema instead of each example that "
                               "breaks its own schema (a missing required field, a value outside its enum, a wrong "
                               "type), listed at start-up (also %%mock load FILE --examples generate)",
           "--examples", fronts=(SERVE, LOAD), parser=parse_examples, default="as-written", metavar="WHICH",
           env="POSTMOCK_EXAMPLES", field=False),
    Option("proxy", "text", "forward requests no example answers to this http(s) URL, and return its answer",
           "--proxy", metavar="URL", env="POSTMOCK_PROXY", read_env=env_stripped, check=_check_proxy),
    Option("record", "text", "with --proxy: save every proxied answer as an example in FILE (Postman v2.1), "
                             "one per distinct method + path + query + body; FILE is written in batches as it "
                             "records", "--record", metavar="FILE", check=_check_record),
    Option("reveal_secrets", "bool", "let the admin API show x-api-key/Authorization/Cookie values with ?reveal=1",
           "--reveal-secrets", fronts=(SERVE,)),
    Option("state", "text", "share scenario states, sequences, resources, the request log and the examples defined "
                            "through the admin API with every process naming this Redis URL (redis://HOST:PORT/DB)",
           "--state", metavar="URL", env="POSTMOCK_STATE", read_env=env_stripped, check=_check_state),
    Option("state_prefix", "text", "with --state: the mock's name in Redis, so several mocks can share one "
                                   "(default: the collection's name)", "--state-prefix", metavar="NAME",
           env="POSTMOCK_STATE_PREFIX", read_env=env_stripped, check=_check_state_prefix),
    Option("admin_key", "text", "require this key in an x-postmock-admin-key header for the admin API's writes "
                                "(needed to write at all when bound beyond this machine)", "--admin-key",
           metavar="KEY", env="POSTMOCK_ADMIN_KEY", check=_check_admin_key),
    Option("tls", "bool", "serve https with a certificate for localhost/127.0.0.1 made on the fly (prints its CA file)",
           "--tls", check=_check_tls),
    Option("tls_cert", "text", "serve https with this certificate (PEM; with --tls-key)", "--tls-cert", metavar="FILE"),
    Option("tls_key", "text", "the private key of --tls-cert (PEM)", "--tls-key", metavar="FILE"),
    Option("dashboard", "bool", "do not show the live dashboard", "--no-dashboard", fronts=(START,), off=True,
           field=False),
    Option("max_body_bytes", "int",
           "larger request bodies are refused with a 413, larger WebSocket messages closed with 1009", fronts=(),
           check=_at_least("max_body_bytes", 0)),
    Option("read_timeout_s", "int", "a stalled request body is answered 408 after this many seconds", fronts=(),
           check=_at_least("read_timeout_s", 1, unit=" seconds")),
    Option("log_size", "int",
           "how many requests the log keeps (each worker's own; with --state, the journal every process shares)",
           fronts=(), env="POSTMOCK_LOG_SIZE",
           read_env=env_whole, check=_at_least("log_size", 1, hint="the log keeps the last N requests")),
)
"""Every option, in the order ``postmock serve --help`` lists them."""
OPTION = {option.name: option for option in OPTIONS}

CHECK_ORDER = ("host", "port", "api_key", "admin_key", "state", "state_prefix", "tls", "match_headers", "chaos",
               "chaos_seed", "chaos_with", "delay_ms", "seed",
               "max_body_bytes", "read_timeout_s", "workers", "proxy", "record", "log_size", "server")
"""The order the record checks its fields in (which mistake is reported first when there are several)."""
_CHECKS: tuple[tuple[str, Check], ...] = tuple(
    (name, check) for name in CHECK_ORDER if (check := OPTION[name].check) is not None)


def options_of(front: str) -> Iterator[Option]:
    """The options command line ``front`` takes, in the table's order."""
    return (option for option in OPTIONS if front in option.fronts)


def add_options(parser: argparse.ArgumentParser, front: str, defaults: Mapping[str, Any] | None = None) -> None:
    """Add every option of ``front`` to ``parser`` (``defaults``: the front end's own, by option name)."""
    for option in options_of(front):
        option.add_to(parser, front, defaults or {})


def config_options(front: str, args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`MockConfig` fields a parsed command line of ``front`` gives, parsed (a ConfigError if one
    cannot be read). ``--match-body-contains`` implies ``--match-body``."""
    options = {option.name: option.parse(getattr(args, option.dest))
               for option in options_of(front) if option.field}
    options["match_body"] = options["match_body"] or options["match_body_contains"]
    return options


CHECK_TIMEOUT_S = 10.0
"""Seconds each request ``postmock check`` sends may take, unless ``--timeout`` says."""

CHECK_MAX_TIMEOUT_S = 3600.0
"""The longest ``--timeout`` ``postmock check`` takes (an hour; ``inf`` would never end a hung request)."""


def add_check_options(parser: argparse.ArgumentParser) -> None:
    """The options ``postmock check SOURCE --against URL`` and ``%mock check URL`` share (not a mock's options:
    they set how the real API is checked, not how a mock serves)."""
    parser.add_argument("--unsafe", action="store_true",
                        help="send POST, PUT, PATCH and DELETE too (they may change the real API's data)")
    parser.add_argument("--strict", action="store_true",
                        help="fail on fields the schema does not name too (by default they are reported only, "
                             "unless the schema says additionalProperties: false)")
    parser.add_argument("--junit", metavar="FILE", default=None, help="write the results as JUnit XML, for CI")
    parser.add_argument("--header", "-H", action="append", default=[], metavar='"NAME: VALUE"',
                        help="a header sent with every request, e.g. credentials (never shown in the report)")
    parser.add_argument("--environment", metavar="FILE", default=None,
                        help="a Postman environment whose values resolve {{vars}} (over the collection's)")
    parser.add_argument("--timeout", type=float, default=CHECK_TIMEOUT_S, metavar="S",
                        help=f"seconds each request may take, its whole answer included (default: "
                             f"{CHECK_TIMEOUT_S:g}, at most {CHECK_MAX_TIMEOUT_S:g})")


def env_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """The :class:`MockConfig` fields ``environ``'s ``POSTMOCK_*`` variables set, read (errors name the variable)."""
    return {option.name: option.read_env(option.env, environ[option.env])
            for option in OPTIONS if option.env and option.field and option.env in environ}


# -- the record ----------------------------------------------------------------------------------------------------


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
    """With ``match_body``: a request body need only contain the example's fields (``--match-body-contains``)."""
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
    """Worker processes sharing the port (``postmock serve --workers``): each keeps its own log and state, unless
    ``state`` gives them one Redis."""
    validate_requests: bool = False
    """Check requests against the OpenAPI document served (401, 405, 415 or 422 naming each violation)."""
    dynamic: bool = False
    """OpenAPI examples answer a fresh body made from their response's schema on each request (``prism mock -d``);
    a request's ``Prefer: dynamic=true/false`` (``?__dynamic=``) decides for itself."""
    seed: int | None = None
    """Seed of the ``dynamic`` bodies, so that a run can be repeated (None: a different draw each start)."""
    callback_allow: tuple[str, ...] = ()
    """Hosts (or ``*.domain``) handlers' callbacks may call besides loopback (127.0.0.1, ::1, localhost)."""
    proxy: str | None = None
    """Forward requests no example answers to this http(s) URL and return its answer."""
    record: str | None = None
    """With ``proxy``: save every proxied answer as an example in this Postman v2.1 file."""
    server: str = DEFAULT_SERVER
    """The HTTP server that serves the mock: hypercorn, uvicorn or granian (see :mod:`postmock_nb.serving.servers`)."""
    chaos: float = 0.0
    """The share of mock requests (0-1, e.g. 0.1) answered by :attr:`chaos_with` instead (0: off)."""
    chaos_seed: int | None = None
    """Seed of the chaos draw, so that a run can be repeated (None: a different draw each start)."""
    chaos_with: str = "503"
    """What chaos answers: ``503``, a fault (reset, close, timeout, malformed, truncate, slow) or an example's name."""

    state: str | None = field(default=None, repr=False)
    """A Redis URL (``--state redis://HOST:PORT/DB``): state shared by every process naming it (None: in memory).
    Its password is a secret: shown through :func:`masked_url` only."""
    state_prefix: str | None = None
    """The mock's name in Redis (its keys' prefix); None: the collection's name."""
    admin_key: str | None = field(default=None, repr=False)
    """The key the admin API's writes need (``x-postmock-admin-key``); None: none (loopback only)."""
    tls: bool = False
    """Serve https (with ``tls_cert``/``tls_key``, or a certificate for localhost made on the fly)."""
    tls_cert: str | None = None
    """A PEM certificate file to serve https with (with ``tls_key``)."""
    tls_key: str | None = None
    """The PEM private key of ``tls_cert``."""

    def __post_init__(self) -> None:
        for name, check in _CHECKS:  # one check per field, from the options table
            value = check(self)
            if value is not getattr(self, name):
                object.__setattr__(self, name, value)

    def check_chaos_with(self, names: Callable[[str], bool], examples: Sequence[str] = ()) -> None:
        """``--chaos-with`` answers with something that exists: 503, a fault, or an example ``names`` knows
        (its name or id). Otherwise a :class:`ConfigError` naming it, with the choices (``examples``: some names).

        Checked when a mock starts serving a collection (the example must be defined by then), since a
        name that is nowhere would answer every chaos draw with a plain 503 instead of what was asked.
        """
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

