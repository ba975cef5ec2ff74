"""Why a request did not match: Postman's 404 body plus a WireMock-style near-miss diff.

A diff is a list of typed :class:`DiffRow` records (as WireMock's ``Diff``), rendered three
ways: as text (:func:`near_miss_text`, the 404 body's ``text`` and ``%mock log``), as JSON
(:meth:`DiffRow.as_json`, the 404 body's ``differences``) and as HTML by the dashboard
(:func:`postmock_nb.notebook.widgets.match_html`), which reads the rows, never the text.

Values of headers that carry credentials (:func:`postmock_nb.core.masking.is_secret_header`) are masked
in every row, on both sides, as the log masks its header list: a client's 404 must not show the
key an example expects, nor a log view the one a request sent. Only the admin API's
``?reveal=1``, on a mock started with ``reveal_secrets``, passes ``reveal=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from postmock_nb.core.masking import (
    is_secret_header,
    mask_compared,
    mask_compared_parameter,
    mask_parameter,
    mask_query,
)
from postmock_nb.core.text import plural
from postmock_nb.matching import Candidate, Check, MatchResult, near_misses

POSTMAN_NOT_FOUND = {
    "name": "mockRequestNotFoundError",
    "message": "Double check your method and the request path and try again.",
    "header": "No matching requests",
}
FAIL_MARK = "<<<<<"
"""What the text diff puts before a row that failed."""


@dataclass(frozen=True)
class DiffRow:
    """One line of a request-vs-example diff."""

    part: str          # method, path, query, header, body, selector
    name: str          # the query/header name, the path rule ("" for method, body)
    expected: str      # the example's side
    actual: str        # the request's side
    ok: bool
    note: str = ""
    points: int = 0
    more: int = 0
    """How many more rows of this part there are past this one, not listed (a body's field differences)."""

    @classmethod
    def of(cls, check: Check, *, reveal: bool = False) -> DiffRow:
        """The row of ``check``; a secret header's values, and an ``api_key`` parameter's, masked unless ``reveal``."""
        expected, actual = check.expected, check.actual
        if not reveal and check.part == "header" and is_secret_header(check.name):
            expected, actual = mask_compared(check.name, expected), mask_compared(check.name, actual)
        elif not reveal and check.part == "query":  # the key a WebSocket upgrade may carry as ?api_key=
            name = check.name
            expected, actual = mask_compared_parameter(name, expected), mask_compared_parameter(name, actual)
        return cls(check.part, check.name, expected, actual, check.ok, check.note, check.points, check.more)

    @property
    def labelled(self) -> bool:
        """Rows other than method and path show their part and name beside each value."""
        return self.part not in ("method", "path")

    @property
    def costs(self) -> bool:
        """Fits, but costs points (a weaker path rule, an extra query parameter...)."""
        return self.ok and self.points < 0

    @property
    def mark(self) -> str:
        """``path does not match``, ``(path: trailing slash ignored, -5)``, or "" for a row that fits for free."""
        if not self.ok:
            return self.note
        if self.costs:
            return f"({self.note}, {self.points})" if self.labelled else f"({self.part}: {self.note}, {self.points})"
        return ""

    def sides(self) -> tuple[str, str]:
        """(request side, example side) as shown: labelled where the part needs it, bodies shortened."""
        actual, expected = self.actual, self.expected
        if self.part == "body":
            actual, expected = _short(actual), _short(expected)
        if not self.labelled:
            return actual, expected
        label = f"{self.part} {self.name}".strip()
        return f"{label}: {actual}", f"{label}: {expected}"

    def as_json(self) -> dict[str, Any]:
        shown = {"part": self.part, "name": self.name, "expected": self.expected, "actual": self.actual,
                 "points": self.points, "note": self.note}
        return {**shown, "more_not_listed": self.more} if self.more else shown


def diff_rows(candidate: Candidate, result: MatchResult, *, reveal: bool = False) -> list[DiffRow]:
    """The method and path rows, then every other check that failed or cost points (secrets masked
    unless ``reveal``)."""
    request, example = result.request, candidate.example
    method_check = next((c for c in candidate.checks if c.part == "method"), None)
    method_ok = method_check is None or method_check.ok
    rows = [DiffRow("method", "", example.request.method, request.method, method_ok,
                    "" if method_ok else "method does not match")]
    path_check = next((c for c in candidate.checks if c.part == "path"), None)
    if path_check is None:
        rows.append(DiffRow("path", "", example.request.path, request.path, True))
    elif not path_check.ok:
        rows.append(DiffRow("path", "", example.request.path, request.path, False, "path does not match"))
    else:
        rows.append(DiffRow("path", path_check.name, example.request.path, request.path, True, path_check.note,
                            path_check.points))
    rows += [DiffRow.of(c, reveal=reveal) for c in candidate.checks
             if c.part in ("query", "header", "body", "selector") and (not c.ok or c.points < 0)]
    return rows


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def candidate_json(candidate: Candidate, *, reveal: bool = False) -> dict[str, Any]:
    """One near miss as data: the example, its score and every difference (secrets masked unless ``reveal``)."""
    example = candidate.example
    return {"name": example.name, "id": example.id, "method": example.request.method, "path": example.request.path,
            "query": dict(example.request.query), "status": example.response.status, "score": candidate.score,
            "lost": candidate.lost,
            "differences": [DiffRow.of(c, reveal=reveal).as_json() for c in candidate.differences]}


def diagnosis(result: MatchResult, limit: int = 3, *, reveal: bool = False) -> dict[str, Any]:
    """The machine-readable explanation of a miss (its near misses worked out once, for data and text);
    secret header values and an ``api_key`` parameter's masked unless ``reveal``."""
    request = result.request
    closest = near_misses(result, limit)
    query = [[k, v if reveal else mask_parameter(k, v)] for k, v in request.query]
    return {"request": {"method": request.method, "path": request.path, "query": query},
            "reason": result.error, "closest": [candidate_json(c, reveal=reveal) for c in closest],
            "text": near_miss_text(result, limit, closest, reveal=reveal)}


def not_found_body(result: MatchResult, limit: int = 3) -> dict[str, Any]:
    """Postman's 404 body, with our ``diagnosis`` beside its ``error`` (secrets masked: it goes to the client)."""
    return {"error": dict(POSTMAN_NOT_FOUND), "diagnosis": diagnosis(result, limit)}


def near_miss_text(result: MatchResult, limit: int = 3, closest: Sequence[Candidate] | None = None, *,
                   reveal: bool = False) -> str:
    """A side-by-side text diff of the request and its closest examples (``closest``: when known already;
    secret header values and an ``api_key`` parameter's masked unless ``reveal``)."""
    request = result.request
    url = request.url if reveal else _masked_url(request.url)
    lines = [f"No example matched {request.method} {url}" + (f" ({result.error})" if result.error else "")]
    if closest is None:
        closest = near_misses(result, limit)
    if not closest:
        lines.append("The collection has no examples yet.")
        return "\n".join(lines)
    for rank, candidate in enumerate(closest, 1):
        example = candidate.example
        lost = f" — {candidate.lost}" if candidate.lost else ""
        lines += ["", f'{rank}. "{example.name}" ({example.describe()}){lost}',
                  *diff_table(diff_rows(candidate, result, reveal=reveal))]
    return "\n".join(lines)


def diff_table(diffs: Sequence[DiffRow], expected: str = "Example") -> list[str]:
    """The side-by-side lines of one near miss: the request's side, then ``expected``'s (its column's title)."""
    rows = [(*row.sides(), _text_mark(row)) for row in diffs]
    width = max(24, *(len(r[0]) for r in rows))
    right = max(24, *(len(r[1]) for r in rows))
    lines = [f"  {'Request':<{width}} | {expected:<{right}}", f"  {'-' * width}-+-{'-' * right}"]
    lines += [f"  {left:<{width}} | {right_side:<{right}} {mark}".rstrip() for left, right_side, mark in rows]
    lines += [f"  … and {plural(row.more, f'more {row.part} difference')} not listed" for row in diffs if row.more]
    return lines


def _text_mark(row: DiffRow) -> str:
    return f"{FAIL_MARK} {row.mark}" if not row.ok else row.mark


def _masked_url(url: str) -> str:
    """A request's path and query, an ``api_key`` in the query masked."""
    path, mark, query = url.partition("?")
    return f"{path}{mark}{mask_query(query)}" if mark else url
