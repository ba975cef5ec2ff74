"""The request journal: what a mock served, behind one narrow interface.

:class:`Journal` is what the app appends to and what the dashboard, ``%mock log``, ``Session.status``
and the admin API read; :class:`~postmock_nb.serving.requestlog.RequestLog` keeps it in this process
(bounded to its ``maxlen`` entries, with running counts that are never cut). A shared backend
implements the same interface.

Threads: the server thread appends (:meth:`~Journal.next_seq`, :meth:`~Journal.append`,
:meth:`~Journal.append_refused`, :meth:`~Journal.sending_failed`, :meth:`~Journal.progressed`,
:meth:`~Journal.completed`) and calls the listeners; any thread reads (:meth:`~Journal.recent`,
:meth:`~Journal.find`, :meth:`~Journal.counts`, :meth:`~Journal.hit_counts`), subscribes and clears.
:class:`RequestLog` takes its lock for each, and every read returns a copy.

A journal shared by several processes (``--state``: :class:`~postmock_nb.serving.shared.journal.SharedJournal`)
is also :class:`Batched`: the app lets its batch of entries go out before each response (:meth:`Batched.handed`),
closes it when the server stops, and the admin API reads it off the server's loop (:func:`read`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from postmock_nb.serving.requestlog import Counts, LogEntry

__all__ = ["Batched", "Counts", "Journal", "read"]

T = TypeVar("T")


class Journal(Protocol):
    """The requests a mock served, newest kept, with counts."""

    @property
    def maxlen(self) -> int:
        """How many entries are kept (older ones go first)."""
        ...

    def next_seq(self) -> int:
        """A number no other entry has had, even across :meth:`clear`; counts the request."""
        ...

    def append(self, entry: LogEntry) -> None: ...

    def add(self, entry: LogEntry, *, number: bool = True) -> None:
        """:meth:`next_seq` and :meth:`append` in one: ``entry`` numbered, counted and kept (what the mock does for
        each request it logs); ``number=False``: :meth:`append`."""
        ...

    def append_refused(self, entry: LogEntry, reason: str) -> LogEntry:
        """Log a request refused for want of the key (one entry per burst); returns the entry kept."""
        ...

    def sending_failed(self, entry: LogEntry, error: BaseException, *, head_sent: bool) -> None:
        """Record that ``entry``'s response did not go out as logged."""
        ...

    def progressed(self, entry: LogEntry) -> None:
        """``entry``, appended when its answer began (a WebSocket connection, a stream), went on: a message came
        or went, an event or chunk went out (its note and body say so). The listeners hear it again (the
        dashboard, throttled); nothing is written anywhere: a shared journal writes it again once it is
        :meth:`completed`, so the other replicas see it as first written (open) meanwhile."""
        ...

    def completed(self, entry: LogEntry) -> None:
        """``entry``, appended when its answer began (a stream, a WebSocket connection), was completed in place
        when the answer ended (its note, body, status): the listeners hear it again, and a journal that keeps
        copies keeps the new one."""
        ...

    def subscribe(self, listener: Callable[[LogEntry], None]) -> Callable[[], None]:
        """Call ``listener(entry)`` for each new entry, and each :meth:`progressed` or :meth:`completed`; returns the
        call that unsubscribes it."""
        ...

    def recent(self, limit: int | None = None, *, unmatched: bool = False) -> list[LogEntry]:
        """The entries kept, newest first (only misses with ``unmatched``), at most ``limit``."""
        ...

    def find(self, seq: int) -> LogEntry | None: ...

    def counts(self) -> Counts: ...

    def hit_counts(self) -> dict[str, int]:
        """Hits per example id."""
        ...

    def clear(self) -> None:
        """Forget every entry and count (sequence numbers go on)."""
        ...


@runtime_checkable
class Batched(Protocol):
    """A journal written in batches by a task of the server's loop (a shared one); its reads wait on the network."""

    async def handed(self) -> None:
        """Return once this process's entries appended so far are on their way (written to the store's socket,
        not acknowledged), or at once when the store is out of reach: awaited before each response goes out, so
        whoever got a response also finds it in the log. Never a round trip."""
        ...

    async def astart(self) -> None:
        """Start the batch writer on the running loop (the server's) and connect it, before the server serves
        (an attempt: a store out of reach is tried again when there is something to write)."""
        ...

    async def aclose(self) -> None:
        """Write what is pending (briefly) and stop the batch writer: the server stops."""
        ...

    def status(self) -> dict[str, Any]:
        """What the batch writer is doing: entries queued, dropped (the store was out of reach), written."""
        ...


async def read(journal: Journal, call: Callable[..., T], *args: object, **kwargs: object) -> T:
    """``call(*args, **kwargs)``, a read of ``journal`` from the server's loop: in a worker thread when the
    journal is :class:`Batched` (its reads wait on the network, never on the loop), else at once."""
    if isinstance(journal, Batched):
        return await asyncio.to_thread(call, *args, **kwargs)
    return call(*args, **kwargs)
