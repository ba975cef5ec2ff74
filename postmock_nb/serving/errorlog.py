"""The server's bounded log of its own errors (app exceptions, Hypercorn errors, dashboard failures)."""

from __future__ import annotations

import threading
from collections import deque


class ErrorLog:
    """The newest ``maxlen`` errors, oldest first, and how many were ever reported (never cut).

    Owned by :class:`~postmock_nb.serving.server.MockServer`; the app, Hypercorn's error logger and the
    dashboards report into it with :meth:`report`, from any thread.
    """

    def __init__(self, maxlen: int = 100) -> None:
        self._entries: deque[str] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self.total = 0

    def report(self, text: str) -> None:
        with self._lock:
            self._entries.append(text)
            self.total += 1

    def recent(self) -> list[str]:
        """The errors kept, oldest first."""
        with self._lock:
            return list(self._entries)

    def since(self, seen: int) -> list[str]:
        """The errors reported after the first ``seen`` (those still kept), oldest first."""
        with self._lock:
            kept = list(self._entries)
            first = self.total - len(kept)
        return kept[max(0, seen - first):]

    def __len__(self) -> int:
        return len(self._entries)
