"""One mock's connection to the Redis its state is shared on (``--state redis://HOST:PORT/DB``).

:class:`SharedState` knows the URL (shown masked), the mock's key prefix, a client for the server's event loop
(redis-py's asyncio API: the hot path awaits Redis, it never blocks the loop) and a blocking client for the
kernel's thread and the command line; and whether Redis answered the last time it was asked. Every call to
Redis goes through :meth:`SharedState.call` (on the loop) or :meth:`SharedState.call_sync` (elsewhere): a Redis
that cannot be reached becomes :class:`StateUnavailable`, naming the store (the app answers 503
``stateUnavailable``), and the next call tries again, so service resumes by itself when Redis is back.
Never a silent fallback to per-process state.

Keys: ``postmock:{prefix}:{store}:...``, one prefix per mock (``--state-prefix``, default the collection's name),
so several mocks can share one Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from postmock_nb.config import masked_url
from postmock_nb.errors import ConfigError, PostmockError

if TYPE_CHECKING:
    import redis
    import redis.asyncio

T = TypeVar("T")

CONNECT_TIMEOUT_S = 1.0
"""How long a connection to Redis may take before the store is called unavailable."""
COMMAND_TIMEOUT_S = 2.0
"""How long one command may take (a Redis that stopped answering)."""
INSTALL_HINT = "pip install \"postmock_nb[team]\" (the redis client; in a clone: pip install -e \".[team]\")"


SERVER_REFUSALS = ("DB index is out of range", "MISCONF")
"""The start of a Redis error that says the server cannot keep the state (besides its read-only replica, out of
memory and no-permission errors): the store is unavailable, as when Redis does not answer, never a 500."""


UNAVAILABLE_HINT = ("start Redis again, or check the --state URL: nothing was changed, the mock goes on serving what "
                    "it has and resumes by itself once Redis answers")


class StateUnavailable(PostmockError):
    """Redis could not be reached: ``store`` (scenarios, sequences, resources, journal, collection) cannot be used.
    A PostmockError, so the notebook says it as a UsageError and the command line as its message."""

    def __init__(self, store: str, reason: str) -> None:
        super().__init__(f"the shared {store} store is unavailable: {reason}", hint=UNAVAILABLE_HINT)
        self.store = store
        self.reason = reason

    def __str__(self) -> str:  # the message alone (the 503's); the hint is the notebook's and the command line's
        return self.message


def redis_module() -> Any:
    """redis-py (``import redis``), or a :class:`ConfigError` saying how to install it."""
    try:
        import redis  # deferred: redis is the `team` extra's; the embedded default never imports it
        import redis.asyncio  # deferred: as above
    except ImportError:
        raise ConfigError("--state needs the redis client, which is not installed", hint=INSTALL_HINT) from None
    return redis


def default_prefix(name: str) -> str:
    """A key prefix made of a collection's name: letters, digits and ``_.`` kept, runs of anything else as one ``-``
    (``Users API (demo)`` → ``users-api-demo``)."""
    kept = "".join(c if c.isalnum() or c in "-_." else "-" for c in name.strip().lower())
    return "-".join(part for part in kept.split("-") if part) or "postmock"


class SharedState:
    """The Redis of one mock: clients, key names, and whether it answers (see the module's docstring)."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis_module()
        self.url = url
        self.prefix = prefix
        self._clients: dict[int, redis.asyncio.Redis] = {}
        """One asyncio client per event loop (a client's connections belong to the loop that made them)."""
        self._sync: redis.Redis | None = None
        self._lock = threading.Lock()
        self.error: str | None = None
        """Why the last call failed (None: Redis answered it)."""
        self.down_since: float | None = None
        """When Redis stopped answering (``time.time()``), or None."""
        self.failures = 0
        """Calls refused for want of Redis, since this mock started."""

    @property
    def shown_url(self) -> str:
        """The URL with its password masked (how it is shown: status, logs, the admin API)."""
        return masked_url(self.url)

    def key(self, *parts: str) -> str:
        """The key ``postmock:{prefix}:{parts...}``."""
        return ":".join(("postmock", self.prefix, *parts))

    # -- clients -------------------------------------------------------------------------------------------------

    def _options(self) -> dict[str, Any]:
        retry = self._redis.retry.Retry(self._redis.backoff.ExponentialBackoff(cap=0.05, base=0.01), 1)
        return {"socket_connect_timeout": CONNECT_TIMEOUT_S, "socket_timeout": COMMAND_TIMEOUT_S,
                "retry": retry, "decode_responses": False}

    def client(self) -> redis.asyncio.Redis:
        """The asyncio client of the running event loop (the server's), made on first use."""
        loop = asyncio.get_running_loop()
        found = self._clients.get(id(loop))
        if found is None:
            options = self._options()
            options["retry"] = self._redis.asyncio.retry.Retry(
                self._redis.backoff.ExponentialBackoff(cap=0.05, base=0.01), 1)
            found = self._clients[id(loop)] = self._redis.asyncio.Redis.from_url(self.url, **options)
        return found

    def sync_client(self) -> redis.Redis:
        """The blocking client (the kernel's thread, the admin API's slow paths, the command line)."""
        with self._lock:
            if self._sync is None:
                self._sync = self._redis.Redis.from_url(self.url, **self._options())
            return self._sync

    async def aclose(self) -> None:
        """Close the running loop's client (the server stops)."""
        client = self._clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.aclose()

    def close(self) -> None:
        with self._lock:
            if self._sync is not None:
                self._sync.close()
                self._sync = None

    # -- calls ---------------------------------------------------------------------------------------------------

    async def call(self, store: str, operation: Callable[[redis.asyncio.Redis], Awaitable[T]]) -> T:
        """``await operation(client)`` on the running loop; a Redis out of reach is :class:`StateUnavailable`."""
        with self._guarded(store):
            return await operation(self.client())

    def call_sync(self, store: str, operation: Callable[[redis.Redis], T]) -> T:
        """``operation(client)`` with the blocking client; a Redis out of reach is :class:`StateUnavailable`."""
        with self._guarded(store):
            return operation(self.sync_client())

    @contextlib.contextmanager
    def _guarded(self, store: str) -> Iterator[None]:
        """Redis out of reach, or refusing to keep the state, as :class:`StateUnavailable` naming ``store``; an
        answer marks Redis available again."""
        try:
            yield
        except (self._redis.exceptions.ConnectionError, self._redis.exceptions.TimeoutError, OSError) as error:
            raise self._unavailable(store, error) from error
        except (self._redis.exceptions.ResponseError, self._redis.exceptions.InvalidResponse) as error:
            if not self._out_of_service(error):
                raise
            raise self._unavailable(store, error, answer="refuses the call") from error
        self._answered()

    def _out_of_service(self, error: BaseException) -> bool:
        """Whether a Redis error says the server cannot keep the state (a database index out of range, a
        read-only replica, out of memory, no permission, not Redis at all): the store is unavailable."""
        exceptions = self._redis.exceptions
        return isinstance(error, (exceptions.InvalidResponse, exceptions.ReadOnlyError, exceptions.OutOfMemoryError,
                                  exceptions.NoPermissionError)) or str(error).startswith(SERVER_REFUSALS)

    def _unavailable(self, store: str, error: BaseException, *, answer: str = "does not answer") -> StateUnavailable:
        reason = f"Redis at {self.shown_url} {answer} ({type(error).__name__}: {error})"
        self.error = reason
        self.failures += 1
        if self.down_since is None:
            self.down_since = time.time()
        return StateUnavailable(store, reason)

    def _answered(self) -> None:
        if self.error is not None:
            self.error = None
            self.down_since = None

    def status(self) -> dict[str, Any]:
        """What ``%mock status``, the dashboard and ``/__postmock/health`` say of the shared state."""
        return {"url": self.shown_url, "prefix": self.prefix, "available": self.error is None,
                **({"error": self.error, "down_since": self.down_since} if self.error is not None else {}),
                "refused_for_want_of_redis": self.failures}
