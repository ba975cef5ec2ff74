"""The request journal: what a mock served, behind one narrow interface.

:class:`Journal` is what the app appends to and what the dashboard, ``%mock log``, ``Session.status``
and the admin API read; :class:`~postmock_nb.serving.requestlog.RequestLog` keeps it in this process
(bounded to its ``maxlen`` entries, with running counts that are never cut). A shared backend
implements the same interface.

Threads: the server thread appends (:meth:`~Journal.next_seq`, :meth:`~Journal.append`,
:meth:`~Journal.append_refused`, :meth:`~Journal.sending_failed`) and calls the listeners; any thread
reads (:meth:`~Journal.recent`, :meth:`~Journal.find`, :meth:`~Journal.counts`,
:meth:`~Journal.hit_counts`), subscribes and clears. :class:`RequestLog` takes its lock for each, and
every read returns a copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from postmock_nb.serving.requestlog import Counts, LogEntry

__all__ = ["Counts", "Journal"]


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

    def append_refused(self, entry: LogEntry, reason: str) -> LogEntry:
        """Log a request refused for want of the key (one entry per burst); returns the entry kept."""
        ...

    def sending_failed(self, entry: LogEntry, error: BaseException, *, head_sent: bool) -> None:
        """Record that ``entry``'s response did not go out as logged."""
        ...

    def subscribe(self, listener: Callable[[LogEntry], None]) -> Callable[[], None]:
        """Call ``listener(entry)`` for each new entry; returns the call that unsubscribes it."""
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
