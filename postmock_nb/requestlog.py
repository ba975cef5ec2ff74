"""A bounded log of the requests a mock served: what came in, what matched, how long it took."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .matching import MatchResult

BODY_LIMIT = 4096
"""Bodies are kept up to this many bytes; the rest is cut and marked."""


def _text(data: bytes) -> str:
    text = data[:BODY_LIMIT].decode("utf-8", "replace")
    return text + f"… ({len(data)} bytes in all)" if len(data) > BODY_LIMIT else text


@dataclass(slots=True)
class LogEntry:
    """One request and its answer. Raw parts are decoded only when looked at."""

    seq: int
    time: float
    method: str
    path: str
    query_string: bytes
    raw_headers: list
    raw_body: bytes
    status: int
    example_id: str | None
    example_name: str | None
    score: int | None
    latency_ms: float
    result: "MatchResult | None" = None
    response_headers: list = field(default_factory=list)
    response_body: bytes = b""
    note: str = ""
    traceback: str = ""
    """A Python handler's traceback, when it raised (shown in the detail view, never in a cell)."""

    @property
    def matched(self) -> bool:
        return self.example_id is not None

    @property
    def is_miss(self) -> bool:
        """Matched against the collection and found nothing (not a refusal or a preflight)."""
        return self.result is not None and self.example_id is None

    @property
    def query(self) -> str:
        return self.query_string.decode("latin-1")

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query}" if self.query_string else self.path

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.raw_headers]

    @property
    def body(self) -> str:
        return _text(self.raw_body)

    @property
    def response_text(self) -> str:
        return _text(self.response_body)

    def summary(self) -> dict:
        """A JSON-friendly row: what ``%mock log`` and the admin API show."""
        return {"seq": self.seq, "time": self.time, "method": self.method, "url": self.url, "status": self.status,
                "example": self.example_name, "example_id": self.example_id, "score": self.score,
                "latency_ms": round(self.latency_ms, 3), "note": self.note}


Listener = Callable[[LogEntry], None]


class RequestLog:
    """The last ``maxlen`` entries, with running counts that are never cut."""

    def __init__(self, maxlen: int = 1000) -> None:
        self.entries: deque[LogEntry] = deque(maxlen=maxlen)
        self.total = 0
        self.misses = 0
        self.hits: Counter[str] = Counter()
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._seq = 0

    @property
    def maxlen(self) -> int:
        return self.entries.maxlen or 0

    def next_seq(self) -> int:
        """A number no other entry of this log has had, even across ``clear()``."""
        with self._lock:
            self.total += 1
            self._seq += 1
            return self._seq

    def append(self, entry: LogEntry) -> None:
        self.entries.append(entry)
        if entry.example_id is not None:
            self.hits[entry.example_id] += 1
        elif entry.is_miss:
            self.misses += 1
        for listener in self._listeners:
            listener(entry)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(entry)`` (on the server thread) for each new entry."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def recent(self, limit: int | None = None, *, unmatched: bool = False) -> list[LogEntry]:
        """Newest first."""
        entries = [e for e in reversed(self.entries) if not unmatched or e.is_miss]
        return entries[:limit] if limit is not None else entries

    def find(self, seq: int) -> LogEntry | None:
        return next((e for e in self.entries if e.seq == seq), None)

    def clear(self) -> None:
        self.entries.clear()
        self.misses = 0
        self.hits.clear()
        with self._lock:
            self.total = 0
