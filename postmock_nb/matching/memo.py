"""Decisions remembered per snapshot: the same request line is searched once, not on every request.

:func:`~.search.match` reads a request's headers and body only when the mock's settings, an example
or an ``x-mock-*`` selector asks it to. When none does, the decision (winner, score, candidates)
follows from the snapshot, the method, the path and the query string alone, so a load test that
sends ``GET /items/2500`` ten thousand times pays for one search. A remembered decision is given
back with the new request in it: a result is the same as a fresh search would build.

Only matches are remembered (a miss goes on to its near misses, which cost far more than the
search). The memo empties when the snapshot changes, and when it holds ``maxsize`` decisions or
``max_candidates`` candidates in all: a decision keeps every candidate with its checks, and a
client that makes each request line unique (a cache-busting ``?_ts=``) must not fill the memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from postmock_nb.config import MockConfig
from postmock_nb.matching.persnapshot import PerSnapshot
from postmock_nb.matching.search import match
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.matching.types import Decision, IncomingRequest, MatchResult

MAX_LINE = 2048
"""Request lines (path and query string) longer than this are searched every time, never kept."""


@dataclass
class _Kept:
    """The decisions kept for one snapshot, and how many candidates they hold."""

    decisions: dict[tuple[str, str, bytes], Decision] = field(default_factory=dict)
    candidates: int = 0
    """Candidates held by the decisions kept (each with its checks: what the memory follows)."""


class MatchMemo:
    """The decisions of one app, for the snapshot it serves (held by a :class:`~.persnapshot.PerSnapshot`)."""

    def __init__(self, settings: MockConfig, maxsize: int = 4096, max_candidates: int = 8192) -> None:
        self.settings = settings
        self.maxsize = maxsize
        self.max_candidates = max_candidates
        self._usable = not settings.match_headers and not settings.match_body
        """Whether the mock's own settings let a decision follow from the request line alone."""
        self._kept: PerSnapshot[_Kept] = PerSnapshot(_Kept)

    def match(self, snapshot: Snapshot, request: IncomingRequest, query_string: bytes, *,
              selectors: bool) -> MatchResult:
        """What :func:`~.search.match` answers for ``request``; ``selectors``: it sent ``x-mock-*`` values."""
        if not self.remembers(snapshot, selectors=selectors):
            return match(snapshot, request, self.settings)
        held = self._kept.held  # PerSnapshot.get, inlined: this runs on every request
        kept = held[1] if held is not None and held[0] == snapshot.version else self._kept.renew(snapshot)
        key = (request.method, request.path, query_string)
        decision = kept.decisions.get(key)
        if decision is not None:
            return MatchResult(request, snapshot, self.settings, *decision)
        result = match(snapshot, request, self.settings)
        if result.winner is not None and len(request.path) + len(query_string) <= MAX_LINE:
            if len(kept.decisions) >= self.maxsize or kept.candidates + len(result.candidates) > self.max_candidates:
                kept = self._kept.renew(snapshot)
            kept.decisions[key] = result.decision
            kept.candidates += len(result.candidates)
        return result

    def remembers(self, snapshot: Snapshot, *, selectors: bool) -> bool:
        """Whether a match of ``snapshot`` is decided on the request line alone (and a hit kept, unless the
        line is longer than :data:`MAX_LINE`): not when the request sent ``x-mock-*`` values (``selectors``),
        the mock matches headers or bodies, or an example of the snapshot reads them."""
        return not selectors and self._usable and not snapshot.reads_request_content

    @property
    def kept_candidates(self) -> int:
        """Candidates held by the decisions kept (what the memory follows; bounded by ``max_candidates``)."""
        kept = self._kept.peek()
        return kept.candidates if kept is not None else 0

    def __len__(self) -> int:
        kept = self._kept.peek()
        return len(kept.decisions) if kept is not None else 0
