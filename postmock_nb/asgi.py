"""The mock as a plain ASGI application, for the servers people already run.

    POSTMOCK_COLLECTION=users.postman_collection.json uvicorn postmock_nb.asgi:app
    POSTMOCK_COLLECTION=users.postman_collection.json granian --interface asgi postmock_nb.asgi:app
    POSTMOCK_COLLECTION=users.postman_collection.json hypercorn postmock_nb.asgi:app
    POSTMOCK_COLLECTION=users.postman_collection.json gunicorn -k uvicorn.workers.UvicornWorker postmock_nb.asgi:app

The server binds and runs its workers; each worker process builds its own mock from the
environment when the server first calls ``app``, at its lifespan startup (importing this module
reads nothing). A setting that cannot be used is printed, naming the variable, and fails the
startup, so the server stops before it serves anything. ``/__postmock/health`` answers
readiness and liveness probes.

==========================  ===============================================================
variable                    meaning
==========================  ===============================================================
POSTMOCK_COLLECTION         path of the Postman collection (v2.0/v2.1) or OpenAPI 3.0/3.1 document
                            (JSON or YAML) to serve (required)
POSTMOCK_ENVIRONMENT        a Postman environment file whose values resolve ``{{vars}}``
POSTMOCK_PROXY              forward requests no example answers to this http(s) URL
POSTMOCK_VALIDATE_REQUESTS  1/0: check requests against the OpenAPI document served (422)
POSTMOCK_DYNAMIC            1/0: answer OpenAPI examples with a fresh body made from their schema (default 0)
POSTMOCK_API_KEY            make the mock private with this key (sent as ``x-api-key``)
POSTMOCK_PRIVATE            1/0: private or not; private needs POSTMOCK_API_KEY (every worker
                            and replica must expect the same key, so none is made up here)
POSTMOCK_CORS               1/0: answer CORS preflights and add CORS headers (default 1)
POSTMOCK_DELAY_MS           delay every response by this many milliseconds (default 0)
POSTMOCK_MATCH_BODY         1/0: require request bodies to match (default 0)
POSTMOCK_MATCH_HEADERS      comma-separated request headers that must match (default none)
POSTMOCK_CALLBACK_ALLOW     comma-separated hosts (or *.domain) callbacks may call besides loopback (default none)
POSTMOCK_LOG_SIZE           how many requests the log keeps (default 1000): each worker's own, or with
                            POSTMOCK_STATE the one journal every replica writes (a capped Redis stream)
POSTMOCK_STATE              a Redis URL (redis://HOST:PORT/DB, rediss://, unix://): every worker and
                            replica naming it shares the mock's state (default: in memory, per process)
POSTMOCK_STATE_PREFIX       the mock's name in Redis (default: the collection's name)
POSTMOCK_ADMIN_KEY          the admin API's writes need this key (x-postmock-admin-key)
==========================  ===============================================================

Other ``POSTMOCK_*`` variables are refused (a misspelt one would otherwise change nothing, silently),
except postmock_nb's own that mean something elsewhere (:data:`OTHER_VARIABLES`).

HTTPS is the server's: give it your certificate and key with its own TLS flags (the app needs nothing)::

    uvicorn postmock_nb.asgi:app --ssl-certfile cert.pem --ssl-keyfile key.pem
    hypercorn --certfile cert.pem --keyfile key.pem postmock_nb.asgi:app
    granian --interface asgi --ssl-certificate cert.pem --ssl-keyfile key.pem postmock_nb.asgi:app

``python -m postmock_nb.healthcheck https://127.0.0.1:8000/__postmock/health --ca ca.pem`` (or
``POSTMOCK_TLS_CA``) checks it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from postmock_nb.behaviours.resources import check_seeds
from postmock_nb.config import OPTIONS, MockConfig, env_options
from postmock_nb.core.model import Pairs
from postmock_nb.errors import ConfigError, PostmockError
from postmock_nb.formats.environment import load_environment
from postmock_nb.formats.sources import Loaded, load_any
from postmock_nb.serving.build import ENVIRONMENT, file_mock

PREFIX = "POSTMOCK_"
VARIABLES: dict[str, str] = {option.env: option.name for option in OPTIONS if option.env and option.field}
"""The settings read from the environment: variable → MockConfig field (postmock_nb.config.OPTIONS)."""
KNOWN = ("POSTMOCK_COLLECTION", *sorted(option.env for option in OPTIONS
                                        if option.env and option.env != "POSTMOCK_COLLECTION"))
"""Every variable this entry point reads (POSTMOCK_COLLECTION by :func:`source`, POSTMOCK_ENVIRONMENT by
:func:`create_app`)."""
OTHER_VARIABLES = frozenset({"POSTMOCK_PUBLIC_URL", "POSTMOCK_REQUIRE_ALL", "POSTMOCK_UPDATE_DOCS",
                             "POSTMOCK_SKIP_BINDER_TEST", "POSTMOCK_TLS_CA"})
"""postmock_nb's variables that are not this entry point's (the notebook's public URL, the test suite's
switches, the healthcheck's CA file): left alone, not refused as misspellings."""


def config_from(environ: Mapping[str, str]) -> MockConfig:
    """The mock's settings from ``environ``; a :class:`ConfigError` naming the variable if one is wrong."""
    _refuse_unknown(environ)
    options = env_options(environ)
    _key_and_private(options)
    try:
        return MockConfig(**options)
    except ConfigError as error:  # its words are the CLI's (--delay ...): say which variable it was
        raise ConfigError(error.message, location=_culprit(options), hint=error.hint) from None


def _refuse_unknown(environ: Mapping[str, str]) -> None:
    """A ``POSTMOCK_*`` variable nobody reads is refused: a misspelt one would otherwise change nothing, silently."""
    unknown = sorted(name for name in environ
                     if name.startswith(PREFIX) and name not in KNOWN and name not in OTHER_VARIABLES)
    if unknown:
        raise ConfigError(f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
                          hint=f"postmock reads {', '.join(KNOWN)}")


def _culprit(options: dict[str, Any]) -> str:
    """The variable whose value the record refused (the first whose field alone is refused)."""
    return next((name for name, field in VARIABLES.items()
                 if field in options and not _accepted(field, options[field])), "the environment")


def _key_and_private(options: dict[str, Any]) -> None:
    """A key makes the mock private; private needs the key (every worker must expect the same one)."""
    if "api_key" in options:
        if not options.setdefault("private", True):
            raise ConfigError("POSTMOCK_API_KEY is set but POSTMOCK_PRIVATE is 0",
                              hint="unset one of them: a key makes the mock private")
    elif options.get("private"):
        raise ConfigError("POSTMOCK_PRIVATE=1 needs POSTMOCK_API_KEY",
                          hint="every worker and replica must expect the same key: set it, e.g. to PMAK-<random hex>")


def _accepted(field: str, value: Any) -> bool:
    try:
        MockConfig(**{field: value, **({"private": True} if field == "api_key" else {})})
    except ConfigError:
        return False
    return True


def source(environ: Mapping[str, str]) -> Path:
    """The collection file named by POSTMOCK_COLLECTION."""
    raw = environ.get("POSTMOCK_COLLECTION", "").strip()
    if not raw:
        raise ConfigError("POSTMOCK_COLLECTION is not set",
                          hint="set it to the path of the Postman collection to serve")
    return Path(raw)


def _load(path: Path) -> Loaded:
    """The collection to serve from ``path``: a Postman collection or an OpenAPI document."""
    loaded = load_any(path)
    check_seeds(loaded.collection.examples)  # a resource seed too deep to read: refused, as by postmock serve
    return loaded


def _environment(environ: Mapping[str, str]) -> Pairs:
    """The values of the Postman environment named by POSTMOCK_ENVIRONMENT (none when unset)."""
    raw = environ.get("POSTMOCK_ENVIRONMENT", "").strip()
    if not raw:
        return ()
    try:
        return load_environment(raw).values
    except PostmockError as error:
        raise ConfigError(f"POSTMOCK_ENVIRONMENT={raw}: {error}") from None


def create_app(environ: Mapping[str, str] | None = None) -> Any:
    """A new mock ASGI app configured from ``environ`` (default ``os.environ``).

    Also a factory for servers that call one: ``uvicorn --factory postmock_nb.asgi:create_app``.
    """
    environ = os.environ if environ is None else environ
    config = config_from(environ)
    path = source(environ)
    try:
        loaded = _load(path)
    except PostmockError as error:
        raise ConfigError(f"POSTMOCK_COLLECTION={path}: {error}") from None
    return file_mock(loaded=loaded, config=config, environment=lambda: _environment(environ),
                     wording=ENVIRONMENT).app


class LazyApp:
    """An ASGI app that builds the mock (``create_app()``) the first time a server calls it.

    Servers call it first with the lifespan startup, in each worker process: a setting that
    cannot be used is printed (``postmock: POSTMOCK_… …``) and the startup fails, so the
    server stops before it serves anything.
    """

    def __init__(self, factory: Callable[[], Any] = create_app) -> None:
        self._factory = factory
        self._mock: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        mock = self._mock
        if mock is None:
            try:
                mock = self._mock = self._factory()
            except PostmockError as error:
                print(f"postmock: {error}", file=sys.stderr, flush=True)
                if scope["type"] != "lifespan":
                    raise
                await receive()  # lifespan.startup
                await send({"type": "lifespan.startup.failed", "message": str(error)})
                return
        await mock(scope, receive, send)


app = LazyApp()
"""This process's mock, built from ``os.environ`` when the server first calls it."""
