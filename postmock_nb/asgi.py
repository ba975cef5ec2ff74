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
POSTMOCK_API_KEY            make the mock private with this key (sent as ``x-api-key``)
POSTMOCK_PRIVATE            1/0: private or not; private needs POSTMOCK_API_KEY (every worker
                            and replica must expect the same key, so none is made up here)
POSTMOCK_CORS               1/0: answer CORS preflights and add CORS headers (default 1)
POSTMOCK_DELAY_MS           delay every response by this many milliseconds (default 0)
POSTMOCK_MATCH_BODY         1/0: require request bodies to match (default 0)
POSTMOCK_MATCH_HEADERS      comma-separated request headers that must match (default none)
POSTMOCK_LOG_SIZE           how many requests each worker's log keeps (default 1000)
==========================  ===============================================================

Other ``POSTMOCK_*`` variables are refused (a misspelt one would otherwise change nothing, silently),
except postmock_nb's own that mean something elsewhere (:data:`OTHER_VARIABLES`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from postmock_nb.config import MockConfig
from postmock_nb.errors import ConfigError, PostmockError

if TYPE_CHECKING:
    from postmock_nb.core.model import Pairs
    from postmock_nb.formats.sources import Loaded

PREFIX = "POSTMOCK_"
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {raw!r}")


def _whole(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _names(name: str, raw: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in raw.split(","))
    if any(not part for part in names):
        raise ConfigError(f"{name} must be header names separated by commas, got {raw!r}",
                          hint=f"{name}=x-role,x-tenant")
    return names


_Read = Callable[[str, str], Any]
VARIABLES: dict[str, tuple[str, _Read]] = {
    # variable: (MockConfig field, how its text is read)
    "POSTMOCK_API_KEY": ("api_key", lambda name, raw: raw),
    "POSTMOCK_PRIVATE": ("private", _flag),
    "POSTMOCK_CORS": ("cors", _flag),
    "POSTMOCK_DELAY_MS": ("delay_ms", _whole),
    "POSTMOCK_MATCH_BODY": ("match_body", _flag),
    "POSTMOCK_MATCH_HEADERS": ("match_headers", _names),
    "POSTMOCK_LOG_SIZE": ("log_size", _whole),
    "POSTMOCK_PROXY": ("proxy", lambda name, raw: raw.strip()),
    "POSTMOCK_VALIDATE_REQUESTS": ("validate_requests", _flag),
}
"""The settings read from the environment (POSTMOCK_COLLECTION is read by :func:`source`)."""
KNOWN = ("POSTMOCK_COLLECTION", *VARIABLES, "POSTMOCK_ENVIRONMENT")
OTHER_VARIABLES = frozenset({"POSTMOCK_PUBLIC_URL", "POSTMOCK_REQUIRE_ALL", "POSTMOCK_UPDATE_DOCS",
                             "POSTMOCK_SKIP_BINDER_TEST"})
"""postmock_nb's variables that are not this entry point's (the notebook's public URL, the test suite's
switches): left alone, not refused as misspellings."""


def config_from(environ: Mapping[str, str]) -> MockConfig:
    """The mock's settings from ``environ``; a :class:`ConfigError` naming the variable if one is wrong."""
    unknown = sorted(name for name in environ
                     if name.startswith(PREFIX) and name not in KNOWN and name not in OTHER_VARIABLES)
    if unknown:
        raise ConfigError(f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
                          hint=f"postmock reads {', '.join(KNOWN)}")
    options: dict[str, Any] = {}
    for name, (field, read) in VARIABLES.items():
        if name in environ:
            options[field] = read(name, environ[name])
    if "api_key" in options:
        if not options.setdefault("private", True):
            raise ConfigError("POSTMOCK_API_KEY is set but POSTMOCK_PRIVATE is 0",
                              hint="unset one of them: a key makes the mock private")
    elif options.get("private"):
        raise ConfigError("POSTMOCK_PRIVATE=1 needs POSTMOCK_API_KEY",
                          hint="every worker and replica must expect the same key: set it, e.g. to PMAK-<random hex>")
    try:
        return MockConfig(**options)
    except ConfigError as error:  # its words are the CLI's (--delay ...): say which variable it was
        culprit = next((name for name, (field, _) in VARIABLES.items()
                        if field in options and not _accepted(field, options[field])), "")
        raise ConfigError(error.message, location=culprit or "the environment", hint=error.hint) from None


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
    from postmock_nb.behaviours.resources import check_seeds
    from postmock_nb.formats.sources import load_any

    loaded = load_any(path)
    check_seeds(loaded.collection.examples)  # a resource seed too deep to read: refused, as by postmock serve
    return loaded


def _environment(environ: Mapping[str, str]) -> Pairs:
    """The values of the Postman environment named by POSTMOCK_ENVIRONMENT (none when unset)."""
    raw = environ.get("POSTMOCK_ENVIRONMENT", "").strip()
    if not raw:
        return ()
    from postmock_nb.formats.environment import load_environment

    try:
        return load_environment(raw).values
    except PostmockError as error:
        raise ConfigError(f"POSTMOCK_ENVIRONMENT={raw}: {error}") from None


def create_app(environ: Mapping[str, str] | None = None) -> Any:
    """A new mock ASGI app configured from ``environ`` (default ``os.environ``).

    Also a factory for servers that call one: ``uvicorn --factory postmock_nb.asgi:create_app``.
    """
    from postmock_nb.bridges.bridges import Bridges
    from postmock_nb.matching.store import LiveCollection
    from postmock_nb.serving.app import MockApp
    from postmock_nb.serving.requestlog import RequestLog
    from postmock_nb.serving.server import check_chaos_with

    environ = os.environ if environ is None else environ
    config = config_from(environ)
    path = source(environ)
    try:
        loaded = _load(path)
    except PostmockError as error:
        raise ConfigError(f"POSTMOCK_COLLECTION={path}: {error}") from None
    if config.validate_requests and loaded.spec is None:
        raise ConfigError("POSTMOCK_VALIDATE_REQUESTS=1 needs an OpenAPI document, and POSTMOCK_COLLECTION is a "
                          "Postman collection", hint="serve the OpenAPI document the collection was made from")
    check_chaos_with(config, loaded.collection)
    store = LiveCollection(loaded.collection, _environment(environ))
    return MockApp(store, log=RequestLog(config.log_size), settings=config,
                   bridges=Bridges.build(config, spec=loaded.spec))


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
