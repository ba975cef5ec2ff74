"""Tables the magics return: HTML in a notebook, aligned text everywhere else."""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from postmock_nb.answers.diagnostics import near_miss_text
from postmock_nb.behaviours.dispatch import answered_by
from postmock_nb.core.model import Collection
from postmock_nb.serving.requestlog import LogEntry


def _text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


_ROW_STYLES = {
    "miss": " style='color:var(--jp-error-color1, #c62828);font-weight:600'",
    "fault": " style='color:var(--jp-warn-color1, #e65100);font-weight:600'",
}
"""How a row stands out: a miss in the theme's error colour, a fault in its warning colour."""


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], row_classes: Sequence[str] = ()) -> str:
    head = "".join(f"<th style='text-align:left'>{html.escape(str(h))}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        style = _ROW_STYLES.get(row_classes[index] if index < len(row_classes) else "", "")
        cells = "".join(f"<td style='text-align:left'>{html.escape(str(c))}</td>" for c in row)
        body.append(f"<tr{style}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


@dataclass
class ExampleTable:
    """``%mock list``."""

    rows: list[dict[str, Any]]
    headers: tuple[str, ...] = ("method", "url", "status", "name", "folder", "hits", "answers")

    @classmethod
    def of(cls, collection: Collection, hits: Mapping[str, int], behaviours: Any = None) -> ExampleTable:
        rows = [{"method": e.request.method, "url": e.request.url, "status": e.response.status, "name": e.name,
                 "folder": "/".join(item.folder), "hits": hits.get(e.id, 0), "id": e.id,
                 "answers": answered_by(e, behaviours)}
                for item, e in collection.iter_examples()]
        return cls(rows)

    def _cells(self) -> list[list[Any]]:
        return [[row[h] for h in self.headers] for row in self.rows]

    def __repr__(self) -> str:
        if not self.rows:
            return "No examples yet: define one with %%example GET /path 200"
        return _text_table(self.headers, self._cells())

    def _repr_html_(self) -> str:
        if not self.rows:
            return "<p>No examples yet: define one with <code>%%example GET /path 200</code></p>"
        return _html_table(self.headers, self._cells())


def _answered(entry: LogEntry) -> str:
    """What answered: the example, with what its handler or resource did (``get_user (handler get_user 0.4 ms)``)."""
    return entry.answered(detail="{name} ({note})", miss="(no match)")


@dataclass
class LogTable:
    """``%mock log``: newest first, marked ✓ answered, ✗ missed, ↯ a fault; misses followed by their
    near-miss explanation."""

    entries: list[LogEntry]
    unmatched: bool = False
    headers: tuple[str, ...] = field(default=("", "time", "method", "url", "status", "example", "ms"))

    def _cells(self) -> list[list[Any]]:
        shared = self._shared
        return [[e.mark, time.strftime("%H:%M:%S", time.localtime(e.time)), e.method, e.url, e.status_text,
                 _answered(e), f"{e.latency_ms:.1f}", *([e.replica] if shared else [])]
                for e in self.entries]

    @property
    def _shared(self) -> bool:
        """The journal is shared (``--state``): a column says which replica served each request."""
        return any(e.replica for e in self.entries)

    @property
    def _headers(self) -> tuple[str, ...]:
        return (*self.headers, "replica") if self._shared else self.headers

    def _explanations(self) -> list[str]:
        return [f"#{e.seq} {near_miss_text(e.result) if e.result is not None else shared['text']}"
                for e in self.entries if e.is_miss
                for shared in [e.shared_diagnosis or {}] if e.result is not None or "text" in shared]

    def __repr__(self) -> str:
        if not self.entries:
            return "No unmatched requests." if self.unmatched else "No requests yet."
        key = "\n(↯ a fault answered; — no status line went out)" if any(e.fault for e in self.entries) else ""
        parts = [_text_table(self._headers, self._cells()) + key] + self._explanations()
        return "\n\n".join(parts)

    def _repr_html_(self) -> str:
        if not self.entries:
            return f"<p>{'No unmatched requests.' if self.unmatched else 'No requests yet.'}</p>"
        classes = ["fault" if e.fault else "miss" if e.is_miss else "" for e in self.entries]
        explanations = "".join(f"<pre>{html.escape(text)}</pre>" for text in self._explanations())
        return _html_table(self._headers, self._cells(), classes) + explanations
