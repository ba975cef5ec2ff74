"""The live collection: one current snapshot, swapped whole on every edit.

Readers (the server thread) take ``store.snapshot`` once per request and use it to the
end; writers build a new :class:`~postmock_nb.matching.snapshot.Snapshot` and swap the reference,
which is atomic in Python. Writers are serialised by a lock; readers never take it.

:class:`CollectionStore` is the narrow interface (what a shared backend implements);
:class:`LiveCollection` keeps it in this process. Threads: the server thread reads
(:attr:`~CollectionStore.snapshot`, once per request); the kernel thread (cells, ``%mock load``,
the recorder's writer thread) edits and subscribes. Listeners are called on the editing thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from postmock_nb.core.model import Collection, Pairs
from postmock_nb.matching.snapshot import Snapshot

Listener = Callable[[Snapshot], None]


class CollectionStore(Protocol):
    """The collection a mock serves: one current snapshot, read whole, swapped whole on each edit."""

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot (read it once per request and use it to the end)."""
        ...

    @property
    def collection(self) -> Collection: ...

    @property
    def environment(self) -> Pairs:
        """The Postman environment values laid over the collection's variables."""
        ...

    def update(self, edit: Callable[[Collection], Collection]) -> Snapshot:
        """Swap in ``edit(current collection)``; if ``edit`` raises, nothing changes."""
        ...

    def replace(self, collection: Collection) -> Snapshot: ...

    def set_environment(self, environment: Pairs) -> Snapshot: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(snapshot)`` after each edit; returns the call that unsubscribes it."""
        ...

    async def follow(self) -> None:
        """Run on the server's event loop while it serves (cancelled when it stops): keeps this process's
        snapshot up to date with a store shared by other processes (``--state``). In memory: returns at once."""
        ...


class LiveCollection:
    """Holds the current snapshot and notifies listeners when it changes (the in-memory :class:`CollectionStore`)."""

    def __init__(self, collection: Collection | None = None, environment: Pairs = ()) -> None:
        self.environment: Pairs = environment
        """Postman environment values laid over the collection's variables in every snapshot."""
        self._snapshot = Snapshot(collection or Collection(), environment)
        self._write_lock = threading.Lock()
        self._listeners: list[Listener] = []

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def collection(self) -> Collection:
        return self._snapshot.collection

    def update(self, edit: Callable[[Collection], Collection]) -> Snapshot:
        """Apply ``edit`` to the current collection and swap in the result.

        If ``edit`` raises, nothing changes: the old snapshot stays in place.
        """
        with self._write_lock:
            snapshot = Snapshot(edit(self._snapshot.collection), self.environment)
            self._snapshot = snapshot
        for listener in list(self._listeners):
            listener(snapshot)
        return snapshot

    def set_environment(self, environment: Pairs) -> Snapshot:
        """Use these environment values from now on (a running mock sees them at once)."""
        with self._write_lock:
            self.environment = environment
        return self.update(lambda current: current)

    def replace(self, collection: Collection) -> Snapshot:
        return self.update(lambda _: collection)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(snapshot)`` after each edit; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def follow(self) -> None:
        """Nothing to follow: this process's edits are the only ones."""
