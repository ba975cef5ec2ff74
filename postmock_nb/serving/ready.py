"""Answers given again as they went out: the fast path of a static example's request line.

Most requests a mock serves under load are the same few request lines answered by saved, static
examples. Such an answer follows from the snapshot and the request line alone when

* the mock has no key, ``--chaos`` or ``--delay`` (:func:`answers_again`), and no ``--validate-requests``
  (checked per request: the notebook swaps the bridges);
* the request is plain (:func:`plain_request`): HTTP/1 with no body announced, no ``x-mock-*`` or
  ``Prefer`` header and no CORS preflight's ``Access-Control-Request-Method`` (query parameters are part
  of the request line: a ``?x-mock-…`` one is never kept);
* its match was decided on the request line alone (the memo's condition, :meth:`MatchMemo.remembers`)
  and answered by a cached static response (no placeholders), with nothing else to do: no handler or
  resource, callback, stream, media-type negotiation, fault, delay or note, and no candidate in a scenario
  or sequence (:func:`readiness`).

The first such request goes through every stage of the app; what went out, and what the log keeps
of its match, are kept here by request line for the snapshot it was served from. The next ones are
answered from it: one lookup, one log entry (the same fields as the full path writes), two sends.
A new snapshot starts afresh; at most ``maxsize`` request lines are kept (then it starts again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from postmock_nb.config import MockConfig
from postmock_nb.core import wire
from postmock_nb.core.headers import raw_names_any_of
from postmock_nb.matching.memo import MAX_LINE
from postmock_nb.matching.persnapshot import PerSnapshot
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.serving.reading import BODY_NAMES, MOCK_HEADER_NAMES

if TYPE_CHECKING:
    from postmock_nb.answers.responses import HttpResponse
    from postmock_nb.matching import MatchResult

RequestLine = tuple[str, str, bytes]
"""Method, path as matched, raw query string."""
_UNPLAIN = BODY_NAMES | MOCK_HEADER_NAMES | {b"access-control-request-method"}


@dataclass(frozen=True, slots=True)
class Ready:
    """One request line's answer, as it went out and as the log keeps it."""

    status: int
    headers: list[tuple[bytes, bytes]]
    """Framed for the request's method (shared with the response cache, never changed)."""
    body: bytes
    logged: dict[str, Any]
    """The first request's log entry but for what each request has of its own (:meth:`LogEntry.template`)."""


def answers_again(settings: MockConfig) -> bool:
    """Whether this mock's settings let a request line be answered again as it was (see the module)."""
    return not (settings.private or settings.chaos or settings.delay_ms)


def plain_request(scope: dict[str, Any], raw_headers: list[tuple[bytes, bytes]]) -> bool:
    """HTTP/1, no body announced, no ``x-mock-*`` or ``Prefer`` header, no CORS preflight: read on the header
    names' bytes."""
    return scope.get("http_version") in wire.HTTP1 and not raw_names_any_of(raw_headers, _UNPLAIN)


def readiness(result: MatchResult, snapshot: Snapshot, response: HttpResponse) -> bool:
    """Whether a plain request's answer (nothing but the winner's saved response) may be given again: a
    cached static response of an example no plan of the snapshot names (handlers and resources, callbacks,
    streams, OpenAPI media types), and no candidate in a scenario or sequence (which could pick another)."""
    winner = result.winner
    if winner is None or response.frames is None:
        return False
    key = winner.id
    if (key in snapshot.code_plan or key in snapshot.callback_plan or key in snapshot.sse_plan
            or key in snapshot.openapi_plan):
        return False
    flows = snapshot.flow_plan
    return not flows or not any(candidate.example.id in flows for candidate in result.candidates)


class ReadyAnswers:
    """The answers kept for the snapshot being served, by request line (the app's own; one event loop)."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._kept: PerSnapshot[dict[RequestLine, Ready]] = PerSnapshot(dict)

    def find(self, snapshot: Snapshot, line: RequestLine) -> Ready | None:
        """The answer kept for ``line`` while serving ``snapshot`` (a newer snapshot empties the table)."""
        held = self._kept.held  # PerSnapshot.get, inlined: this runs on every request
        if held is None or held[0] != snapshot.version:
            return None
        return held[1].get(line)

    def keep(self, snapshot: Snapshot, line: RequestLine, ready: Ready) -> None:
        """Keep ``ready`` for ``line`` (a line longer than the memo's :data:`MAX_LINE` is not kept)."""
        if len(line[1]) + len(line[2]) > MAX_LINE:
            return
        answers = self._kept.get(snapshot)
        if len(answers) >= self.maxsize:
            answers = self._kept.renew(snapshot)
        answers[line] = ready

    def __len__(self) -> int:
        kept = self._kept.peek()
        return len(kept) if kept is not None else 0
