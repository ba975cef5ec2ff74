"""A value kept for the snapshot being served, started afresh when the snapshot changes.

What a snapshot can work out by itself is a cached property of the snapshot (its plans and tables,
read-only). What grows while requests are served (the match memo's decisions, the response
cache's encoded responses) cannot live there; it is held by a :class:`PerSnapshot`, the one
helper for such caches.

Thread-safe without a lock: the version and the value are replaced together, as one tuple, so a
reader sees either the old pair or the new one, never half of each. Two threads meeting a new
snapshot at once may each start a value: one is kept, the other serves its one request and is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")


class Versioned(Protocol):
    """Anything with a ``version`` (a :class:`~postmock_nb.matching.snapshot.Snapshot`)."""

    @property
    def version(self) -> int: ...


class PerSnapshot(Generic[T]):
    """The value made by ``fresh()`` for the snapshot last asked about (a newer snapshot: a new value)."""

    __slots__ = ("_fresh", "held")

    def __init__(self, fresh: Callable[[], T]) -> None:
        self._fresh = fresh
        self.held: tuple[int, T] | None = None
        """(version, value), replaced whole; read it only to inline :meth:`get` on a hot path (one call
        less per request: ``held[1] if held is not None and held[0] == snapshot.version else renew(snapshot)``)."""

    def get(self, snapshot: Versioned) -> T:
        """The value for ``snapshot``: the one kept when it is the same version, else a fresh one (kept)."""
        held = self.held
        if held is not None and held[0] == snapshot.version:
            return held[1]
        return self.renew(snapshot)

    def renew(self, snapshot: Versioned) -> T:
        """A fresh value for ``snapshot``, kept in place of the old one (a cache that is full starts again)."""
        value = self._fresh()
        self.held = (snapshot.version, value)
        return value

    def peek(self) -> T | None:
        """The value kept (for whichever snapshot), or None before the first :meth:`get`."""
        held = self.held
        return held[1] if held is not None else None
