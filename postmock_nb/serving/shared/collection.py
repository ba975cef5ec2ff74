"""The collection shared on Redis (``--state``): an edit on one replica is served by every replica within a second.

:class:`SharedCollection` is a :class:`~postmock_nb.matching.store.CollectionStore` over a store of this process
(``local``, a :class:`~postmock_nb.matching.store.LiveCollection`): requests read ``local``'s snapshot, as without
``--state`` (no round trip on the hot path); edits go through Redis, and each process follows what the others store.

In Redis, one hash ``postmock:{prefix}:collection`` holds the collection as Postman v2.1 JSON (``collection``,
written and read by :mod:`postmock_nb.formats.postman`), its ``version`` (1, 2, ...) and the token of the edit
that wrote it (``edit``), always written together (one HSET). An edit is a read-modify-write on the stored
version: ``WATCH`` the hash, read it, apply the edit to the stored collection (to this process's own when nothing
is stored yet), then ``MULTI`` / ``HSET`` / ``EXEC``; if another replica wrote in between, EXEC
aborts and the edit is applied again to what it stored, so two racing edits are both applied, one after the
other, and none is lost.

Every process runs :meth:`SharedCollection.follow` on the server's event loop while it serves (the app's lifespan
starts it and cancels it at shutdown): it reads the stored version every :data:`POLL_S` seconds; a newer version
is read, decoded (in a worker thread) and swapped in.

Startup: a process that starts on a URL and prefix where a collection is stored adopts it (:meth:`adopt`);
otherwise it serves its own (its file, the notebook's cells) and stores nothing until an edit.
Python handlers' code cannot travel: their examples travel with their marker, and a replica without the
function answers their saved response (as a loaded file does).

Redis out of reach: an edit raises :class:`~postmock_nb.serving.shared.connection.StateUnavailable` (nothing
changes; the admin API answers 503, the notebook a UsageError); requests go on being served from the last
snapshot, and the follower catches up when Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from postmock_nb.core import limits
from postmock_nb.core.model import Collection, Pairs
from postmock_nb.errors import CollectionFormatError
from postmock_nb.formats.postman import parse_collection, to_postman
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.matching.store import CollectionStore, Listener, LiveCollection
from postmock_nb.serving.shared.connection import SharedState, StateUnavailable, redis_module

if TYPE_CHECKING:
    import redis
    import redis.asyncio

STORE = "collection"
"""The store's name in :class:`StateUnavailable` (and the 503 ``stateUnavailable``)."""
POLL_S = 0.25
"""How often a follower reads the stored version (an edit is served everywhere within this, plus its decoding)."""
Stored = bytes | str | None
"""A field of the stored hash as the client reads it (bytes: the clients do not decode; None: not stored)."""
MAX_ATTEMPTS = 200
"""How many times an edit is applied again because other replicas wrote first, before it is refused."""


def encode(collection: Collection) -> bytes:
    """The collection as stored: Postman v2.1 JSON, UTF-8."""
    return json.dumps(to_postman(collection), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(data: bytes | str) -> Collection:
    """A stored collection (:func:`encode`'s); a :class:`CollectionFormatError` when it is not one."""
    try:
        return parse_collection(limits.loads(data.decode("utf-8") if isinstance(data, bytes) else data))
    except (ValueError, limits.TooDeep) as error:
        raise CollectionFormatError(f"the collection stored in Redis is not valid JSON: {error}") from None


class _Failed(Exception):
    """An edit that raised inside the transaction (carried out of it untouched, so it is never taken for Redis's)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class SharedCollection:
    """A :class:`CollectionStore` shared on Redis by every process naming the same URL and prefix (see the module)."""

    def __init__(self, shared: SharedState, local: CollectionStore | None = None, *, adopt: bool = True) -> None:
        """``local``: this process's store, whose snapshot is served (a new LiveCollection unless given);
        ``adopt``: swap in the collection stored already, if there is one (the startup rule)."""
        self.shared = shared
        self.local: CollectionStore = local if local is not None else LiveCollection()
        self.key = shared.key("collection")
        self.version = 0
        """The stored version this process serves (0: none stored yet, or not read)."""
        self.lineage: str | None = None
        """The history that version belongs to: a token made by the edit that stored into an empty key. A Redis
        restarted empty starts a new history, whose versions count from 1 again: a process compares
        (lineage, version), never the version alone, so it neither ignores the new history nor overwrites it."""
        self.error: str | None = None
        """Why the last stored version could not be used (a collection that does not read), or None."""
        self.unfollowed: str | None = None
        """Why :meth:`follow` could not read Redis the last time it tried (None: it could)."""
        self._swap_lock = threading.RLock()
        """Held while ``version`` and ``local``'s collection change together (a listener called meanwhile must
        not edit this store from another thread)."""
        self._edit_lock = threading.RLock()
        """Edits of this process one at a time (they would only make each other try again)."""
        self._bad_version: tuple[str | None, int] = (None, 0)
        if adopt:
            with contextlib.suppress(StateUnavailable):  # serves its own; the follower catches up later
                self.adopt()

    # -- reading (this process's snapshot: no round trip) ----------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        return self.local.snapshot

    @property
    def collection(self) -> Collection:
        return self.local.collection

    @property
    def environment(self) -> Pairs:
        """This process's Postman environment (not shared: each replica is given its own)."""
        return self.local.environment

    def set_environment(self, environment: Pairs) -> Snapshot:
        return self.local.set_environment(environment)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """``listener(snapshot)`` after each edit, this process's and those followed from other replicas (on the
        follower's worker thread then)."""
        return self.local.subscribe(listener)

    # -- editing (a read-modify-write on the stored version) -------------------------------------

    def update(self, edit: Callable[[Collection], Collection]) -> Snapshot:
        """Apply ``edit`` to the stored collection, store the result and serve it; if ``edit`` raises, nothing
        changes. :class:`StateUnavailable` when Redis is out of reach (nothing changes either)."""
        with self._edit_lock:
            try:
                collection, version, lineage = self.shared.call_sync(
                    STORE, lambda client: self._transact(client, edit))
            except _Failed as failed:
                raise failed.error from None
            return self._swap(collection, version, lineage)

    def replace(self, collection: Collection) -> Snapshot:
        return self.update(lambda _: collection)

    def _transact(self, client: redis.Redis,
                  edit: Callable[[Collection], Collection]) -> tuple[Collection, int, str]:
        """WATCH the hash, read it, edit, MULTI/HSET/EXEC; again while another replica wrote first.

        Each write carries this edit's token (field ``edit``): when the connection broke while EXEC's answer was
        on its way (redis-py says WatchError then), the next attempt finds its own token stored and stops
        there, so an edit is never applied twice."""
        watch_error = redis_module().exceptions.WatchError
        token = uuid.uuid4().hex
        written: tuple[Collection, int, str] | None = None
        with client.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(self.key)  # type: ignore[no-untyped-call]
                    stored_version, data, last_edit, stored_lineage = pipe.hmget(
                        self.key, ["version", "collection", "edit", "lineage"])
                    if written is not None and _text(last_edit) == token:  # applied by the attempt before
                        return written
                    base, version, lineage = self._base(stored_version, data, _text(stored_lineage))
                    try:
                        edited = edit(base)
                    except Exception as error:
                        raise _Failed(error) from error
                    pipe.multi()
                    pipe.hset(self.key, mapping={"version": version + 1, "collection": encode(edited),
                                                 "edit": token, "lineage": lineage})
                    written = edited, version + 1, lineage
                    pipe.execute()
                    return written
                except watch_error:
                    continue
        raise StateUnavailable(STORE, f"the edit lost to other replicas' edits {MAX_ATTEMPTS} times in a row")

    def _base(self, stored_version: Stored, data: Stored, lineage: str | None) -> tuple[Collection, int, str]:
        """What an edit applies to, the version it replaces and its lineage: the stored collection (this
        process's own when it serves that very version, or when nothing is stored: then a new lineage starts)."""
        with self._swap_lock:
            mine, version, served = self.local.collection, self.version, self.lineage
        if stored_version is None or data is None:
            return mine, version, uuid.uuid4().hex
        stored = int(stored_version)
        base = mine if stored == version and lineage == served else decode(data)
        return base, stored, lineage or uuid.uuid4().hex  # a hash stored without one (by hand) starts one

    def _swap(self, collection: Collection, version: int, lineage: str | None) -> Snapshot:
        """Serve ``collection`` (stored as ``version`` of ``lineage``) unless a newer one of it is served already."""
        with self._swap_lock:
            if lineage == self.lineage and version <= self.version:
                return self.local.snapshot
            self.version, self.lineage = version, lineage
            return self.local.replace(collection)

    # -- following what the other replicas store -------------------------------------------------

    def adopt(self) -> bool:
        """Serve the collection stored (the startup rule), if there is one newer than the one served; whether
        one was swapped in. :class:`StateUnavailable` when Redis is out of reach."""
        stored_version, data, lineage = self.shared.call_sync(
            STORE, lambda client: client.hmget(self.key, ["version", "collection", "lineage"]))
        return self._adopt(stored_version, data, _text(lineage))

    def _newer(self, stored_version: Stored, lineage: str | None) -> bool:
        """Whether the stored version is not the one served nor older than it (another lineage is newer)."""
        return stored_version is not None and (lineage != self.lineage or int(stored_version) > self.version)

    def _adopt(self, stored_version: Stored, data: Stored, lineage: str | None) -> bool:
        if stored_version is None or data is None or not self._newer(stored_version, lineage):
            return False
        version = int(stored_version)
        if (lineage, version) == self._bad_version:
            return False
        try:
            collection = decode(data)
        except CollectionFormatError as error:  # written by something else: kept out, said in status()
            self._bad_version, self.error = (lineage, version), f"version {version}: {error.message}"
            return False
        self.error = None
        before = (self.lineage, self.version)
        self._swap(collection, version, lineage)
        return (self.lineage, self.version) != before

    async def follow(self) -> None:
        """Until cancelled, swap in each newer collection another replica stores: it reads the stored version
        every :data:`POLL_S` seconds (one HMGET of the version and its lineage) and, when it is newer than the
        one served (or of another lineage), the collection. Redis out of reach: said by :attr:`unfollowed`, tried
        again each round, and caught up when it is back (these reads are not the mock's calls: they count in no
        refusal of ``SharedState.status()``).

        Why a poll and no pub/sub: a cancelled ``PubSub.get_message`` of redis-py's asyncio client may never
        return (seen on Python 3.11), which would hold the server's shutdown; a poll is cancelled in its sleep."""
        task = asyncio.current_task()
        try:
            while not _cancelling(task):  # a cancel a client swallowed still ends the loop
                try:
                    await self._catch_up(self.shared.client())
                    self.unfollowed = None
                except Exception as error:  # noqa: BLE001 - out of reach, or a hash that does not read: said, tried again
                    self.unfollowed = f"Redis at {self.shared.shown_url}: {type(error).__name__}: {error}"
                await asyncio.sleep(POLL_S)
        finally:  # the server stops: its loop's client goes with it (made again if something else still needs it)
            await self.shared.aclose()

    async def _catch_up(self, client: redis.asyncio.Redis) -> bool:
        """Read the stored version, and swap in the collection if it is newer; whether one was swapped in."""
        stored_version, lineage = await client.hmget(self.key, ["version", "lineage"])
        if not self._newer(stored_version, _text(lineage)):
            return False
        stored_version, data, lineage = await client.hmget(self.key, ["version", "collection", "lineage"])
        # decoding is not for the server's loop
        return await asyncio.to_thread(self._adopt, stored_version, data, _text(lineage))

    def status(self) -> dict[str, Any]:
        """The version served; why a stored one could not be used, and why the follower cannot read Redis (if so)."""
        return {"version": self.version, **({"error": self.error} if self.error else {}),
                **({"unfollowed": self.unfollowed} if self.unfollowed else {})}


def _cancelling(task: asyncio.Task[Any] | None) -> bool:
    """Whether ``task`` was asked to stop (``Task.cancelling``, Python 3.11 on; on 3.10: only by the cancel itself)."""
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling()) if cancelling is not None else False


def _text(value: Stored) -> str | None:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def shared_collection(store: CollectionStore, shared: SharedState | None) -> CollectionStore:
    """``store`` shared on ``shared`` (``--state``), or ``store`` itself without it or when it is shared already
    (a ``postmock serve --workers`` worker is given its parent's)."""
    if shared is None or isinstance(store, SharedCollection):
        return store
    return SharedCollection(shared, store)
