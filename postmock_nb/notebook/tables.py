"""Tables the magics return: HTML in a notebook, aligned text everywhere else."""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from postmock_nb.answers.diagnostics import near_miss_text
from postmock_nb.behaviours.dispatch import answered_by
from postmock_nb.bridges.drift import DRIFT, ERROR
from postmock_nb.core.model import Collection
from postmock_nb.serving.requestlog import STREAM, WEBSOCKET, LogEntry

if TYPE_CHECKING:
    from postmock_nb.bridges.contract_report import Report


def _text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


_ROW_STYLES = {
    "miss": " style='color:var(--jp-error-color1, #c62828);font-weight:600'",
    "note": " style='color:var(--jp-ui-font-color2, #616161)'",
    "fault": " style='color:var(--jp-warn-color1, #e65100);font-weight:600'",
    "live": " style='color:var(--jp-brand-color1, #1565c0)'",
}
"""How a row stands out: a miss in the theme's error colour, a fault in its warning colour, a connection still
open (or a stream still being sent) in its brand colour."""


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


def row_class(entry: LogEntry) -> str:
    """How a row stands out: ``fault``, ``miss``, ``live`` (a connection open, a stream being sent) or ""."""
    return "fault" if entry.fault else "miss" if entry.is_miss else "live" if entry.live else ""


def sides(entry: LogEntry) -> tuple[str, str]:
    """The titles of a row's two sides in the detail views, by what the row stands for."""
    if entry.direction == "out":
        return "Request sent", "Receiver's answer"
    if entry.channel == WEBSOCKET:
        return "Upgrade request", "Transcript (< sent, > received, ! near miss)"
    if entry.channel == STREAM:
        return "Request", "Response (streamed: what was sent" + (" so far)" if entry.live else ")")
    return "Request", "Response"


def headline(entry: LogEntry) -> str:
    """A row in one line, as its detail views start: ``#5 ⇄ GET /ws/chat → 101 · WS /ws/chat · open``."""
    name = f" · {entry.example_name}" if entry.example_name else ""
    fault = f" (fault {entry.fault})" if entry.fault else ""
    return (f"#{entry.seq} {entry.mark} {entry.method} {entry.url} → {entry.status_text}{fault}{name}"
            f" · {entry.latency_text(' ms')}")


def _block(title: str, headers: list[tuple[str, str]], body: str) -> list[str]:
    lines = [f"{title}:"] + [f"  {k}: {v}" for k, v in headers]
    if body:
        lines += ([""] if headers else []) + [f"  {line}" for line in body.splitlines()]
    return lines


def entry_text(entry: LogEntry) -> str:
    """One row in full, as ``%mock log --detail N`` prints it: the headline, the note (what answered, the
    connection's summary, the callback's origin or error), the request and the response (a connection's
    transcript, a callback's request sent and the receiver's answer), secrets masked; a miss's closest examples."""
    lines = [headline(entry)]
    if entry.note:
        lines.append(entry.note)
    if entry.replica:
        lines.append(f"served by {entry.replica}")
    asked, answer = sides(entry)
    lines += ["", *_block(asked, entry.headers, entry.body), ""]
    lines += _block(answer, entry.shown_response_headers(), entry.response_text)
    if entry.is_miss:
        shared = entry.shared_diagnosis or {}
        why = near_miss_text(entry.result) if entry.result is not None else shared.get("text", "")
        lines += ["", str(why)] if why else []
    if entry.traceback:
        lines += ["", "Handler traceback:", entry.traceback.rstrip()]
    return "\n".join(lines)


@dataclass
class EntryDetail:
    """``%mock log --detail N``: one row in full (:func:`entry_text`)."""

    entry: LogEntry

    def __repr__(self) -> str:
        return entry_text(self.entry)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(entry_text(self.entry))}</pre>"


@dataclass
class LogTable:
    """``%mock log``: newest first, numbered (``%mock log --detail N`` shows one row in full), marked ✓ answered,
    ✗ missed, ↯ a fault, ⇄ a WebSocket connection, ↗ a callback sent; misses followed by their near-miss
    explanation. A connection still open, or a stream still being sent, shows ``open`` for its duration."""

    entries: list[LogEntry]
    unmatched: bool = False
    headers: tuple[str, ...] = field(default=("#", "", "time", "method", "url", "status", "example", "ms"))

    def _cells(self) -> list[list[Any]]:
        shared = self._shared
        return [[e.seq, e.mark, time.strftime("%H:%M:%S", time.localtime(e.time)), e.method, e.url, e.status_text,
                 _answered(e), e.latency_text(), *([e.replica] if shared else [])]
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
        if any(e.channel == WEBSOCKET for e in self.entries):
            key += "\n(⇄ a WebSocket connection: %mock log --detail N shows its transcript)"
        parts = [_text_table(self._headers, self._cells()) + key] + self._explanations()
        return "\n\n".join(parts)

    def _repr_html_(self) -> str:
        if not self.entries:
            return f"<p>{'No unmatched requests.' if self.unmatched else 'No requests yet.'}</p>"
        classes = [row_class(e) for e in self.entries]
        explanations = "".join(f"<pre>{html.escape(text)}</pre>" for text in self._explanations())
        return _html_table(self._headers, self._cells(), classes) + explanations


@dataclass
class CheckTable:
    """``%mock check URL``: one row per request (ok, drift, skipped, error: drift and errors in the theme's error
    colour), then one per difference (a difference reported, not failed, greyed as a note), and the summary."""

    report: Report
    headers: tuple[str, ...] = ("request", "result", "where", "difference")

    def _classes(self) -> list[str]:
        return ["miss" if result in (DRIFT, ERROR) else "note" if result == "note" else ""
                for _, result, _, _ in self.report.rows()]

    def __repr__(self) -> str:
        return self.report.text()

    def _repr_html_(self) -> str:
        return (_html_table(self.headers, self.report.rows(), self._classes())
                + f"<p>{html.escape(self.report.summary())}</p>")
