"""The records of matching: the request as the engine sees it, one check, one candidate, the result.

All frozen: a result is built once, read by the response layer, kept in the request log and
shown by the dashboards. Explaining it (every example scored, near misses) is the business of
:mod:`postmock_nb.matching.explain`, which reads a result and changes nothing in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import parse_qsl

from postmock_nb.config import MockConfig
from postmock_nb.core.model import Example, Pairs, path_with_query
from postmock_nb.core.paths import PathRule, path_as_matched
from postmock_nb.matching.snapshot import Snapshot

BASE_SCORE = 100
"""Every example starts with these points; the path rule and the query add or take away."""


@dataclass(frozen=True)
class IncomingRequest:
    """A request as the engine sees it: header names lower-cased, query decoded.

    ``path``: the path as matched (:func:`~postmock_nb.core.paths.path_as_matched`): decoded segment by
    segment, a ``/`` inside a segment kept as ``%2F`` (``/files/a%2Fb``), so ``/a%2Fb`` and ``/a/b`` differ.
    """

    method: str
    path: str
    query: Pairs = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""

    @classmethod
    def build(cls, method: str, url: str, headers: Mapping[str, str] | None = None,
              body: str = "") -> IncomingRequest:
        """Convenience: ``IncomingRequest.build("GET", "/users?role=admin")``."""
        path, _, query = url.partition("?")  # decoded as the app decodes them
        return cls(method.upper(), path_as_matched(path) or "/", tuple(parse_qsl(query, keep_blank_values=True)),
                   {k.lower(): v for k, v in (headers or {}).items()}, body)

    @property
    def url(self) -> str:
        return path_with_query(self.path, self.query)


@dataclass(frozen=True)
class Check:
    """One comparison between the request and an example: the unit of every diagnosis."""

    part: str          # method, path, query, header, body, selector
    name: str          # the query/header name, the path rule...
    ok: bool
    points: int
    expected: str
    actual: str
    note: str
    more: int = 0
    """How many more checks of this part failed past this one, not listed (a body's field differences)."""

    def describe(self) -> str:
        return f"{self.part} {self.name}: {self.note}".replace("  ", " ") if self.name else f"{self.part}: {self.note}"


@dataclass(frozen=True)
class Candidate:
    """An example considered for a request, its score (None once dropped) and why it lost."""

    example: Example
    order: int
    score: int | None
    checks: tuple[Check, ...]
    path_rule: PathRule | None = None
    captured: Mapping[str, str] = field(default_factory=dict)
    lost: str = ""

    @property
    def dropped(self) -> bool:
        return self.score is None

    @property
    def differences(self) -> list[Check]:
        """The checks that failed or cost points: what to show a person."""
        return [c for c in self.checks if not c.ok or c.points < 0]


class Decision(NamedTuple):
    """What a search decided: the fields of a :class:`MatchResult` after its request, snapshot and
    settings, in their order (``MatchResult(request, snapshot, settings, *decision)``)."""

    winner: Example | None
    score: int | None
    candidates: list[Candidate]
    selector: str
    error: str
    pruned: int
    method: str


@dataclass(frozen=True, eq=False)
class MatchResult:
    """Winner (or None), its score, and every candidate considered with the reason it lost.

    ``candidates`` is a list for the readers' convenience; nothing changes it once the result is built.
    """

    request: IncomingRequest
    snapshot: Snapshot
    settings: MockConfig
    winner: Example | None = None
    score: int | None = None
    candidates: list[Candidate] = field(default_factory=list)
    selector: str = ""
    error: str = ""
    pruned: int = 0
    method: str = ""
    """The method whose examples were searched: the request's, or GET for a HEAD request no HEAD example fits."""

    @property
    def matched(self) -> bool:
        return self.winner is not None

    @property
    def decision(self) -> Decision:
        """This result without its request, snapshot and settings: what the memo and the log keep."""
        return Decision(self.winner, self.score, self.candidates, self.selector, self.error, self.pruned,
                        self.method)

    @property
    def captured(self) -> Mapping[str, str]:
        """Path variables the winner captured (``{"id": "7"}``), for echoing."""
        return self.candidates[0].captured if self.winner is not None else {}

    @property
    def winner_candidate(self) -> Candidate | None:
        return self.candidates[0] if self.winner is not None else None

    @property
    def kept(self) -> tuple[list[Candidate], tuple[Candidate, ...]] | None:
        """What a result detached from its snapshot kept of its explanation (its candidates, its near misses),
        for :func:`~.explain.explain` and :func:`~.explain.near_misses`; None: they work it out from the snapshot."""
        return None
