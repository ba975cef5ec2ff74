"""The live dashboard: status, examples, request log, and why a miss missed.

The request log is an HTML table with fixed columns (a long path or note is cut with an ellipsis,
its whole text in the cell's tooltip), so rows stay in line whatever they hold; the *Details*
dropdown picks the request whose match, request and response are shown below it.

Widgets are created and displayed on the kernel's main thread. After that they change
only through :meth:`Dashboard.request_refresh`, which any thread may call: it coalesces
calls and runs one refresh at most every :attr:`Dashboard.interval` seconds on the server's
own thread, so heavy traffic costs a bounded number of widget messages and nothing the
server does prints into a cell. While the server runs, the status line's uptime ticks once a
second (:attr:`Dashboard.tick`), also from the server's thread. Once the server has stopped,
a refresh runs at once on the caller's thread (the main thread: ``%mock stop``, ``%%example``), and the dashboard says
the mock stopped, or where the newer one runs.

Where widgets do not render (nbconvert, GitHub) the dashboard's ``text/plain`` and
``text/html`` show the picture at the time it was displayed.
"""

from __future__ import annotations

import contextvars
import html
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import ipywidgets as w
from IPython.display import display

from postmock_nb.answers.diagnostics import diff_rows, near_miss_text
from postmock_nb.behaviours.dispatch import answered_by
from postmock_nb.core.text import plural as _plural
from postmock_nb.matching import Candidate, MatchResult, near_misses
from postmock_nb.notebook.tables import row_class, sides
from postmock_nb.serving.browser_address import public_url
from postmock_nb.serving.journal import Batched
from postmock_nb.serving.requestlog import LogEntry
from postmock_nb.serving.shared.connection import StateUnavailable
from postmock_nb.serving.shared.flowstate import RedisFlowState

if TYPE_CHECKING:
    from postmock_nb.serving.server import MockServer
    from postmock_nb.session import Session, SessionEvent

LOG_ROWS = 200
"""How many log rows the dashboard lists (the server's log keeps its own bound)."""

_CSS = """
<style>
.postmock-dash { font-family: var(--jp-ui-font-family, sans-serif); color: var(--jp-ui-font-color1, #222); }
.postmock-dash h4 { margin: 8px 0 4px; font-size: 13px; }
.postmock-dash p { margin: 4px 0; }
.postmock-dash a { color: var(--jp-content-link-color, #1565c0); }
.postmock-dash table { border-collapse: collapse; font-size: 12px; color: inherit; }
.postmock-dash th, .postmock-dash td { text-align: left; padding: 2px 8px;
  border-bottom: 1px solid var(--jp-border-color2, #ddd); vertical-align: top; }
.postmock-dash code { background: none; color: inherit; }
.postmock-dash .pm-miss { color: var(--jp-error-color1, #c62828); font-weight: 600; }
.postmock-dash .pm-hit { color: var(--jp-success-color1, #2e7d32); }
.postmock-dash .pm-diff td { background: rgba(229, 57, 53, 0.16); }
.postmock-dash .pm-muted { color: var(--jp-ui-font-color2, #666); }
.postmock-dash pre { background: var(--jp-layout-color2, #f5f5f5); color: var(--jp-content-font-color1, #222);
  padding: 6px; margin: 2px 0; white-space: pre-wrap; max-height: 180px; overflow: auto; }
.postmock-dash table.pm-sides { table-layout: fixed; width: 100%; margin-top: 6px; }
.postmock-dash .pm-badge { border-radius: 3px; padding: 0 6px; background: var(--jp-layout-color3, #ddd);
  color: var(--jp-ui-font-color0, #000); font-family: var(--jp-code-font-family, monospace); }
.postmock-dash .pm-fault { color: var(--jp-warn-color1, #e65100); font-weight: 600; }
.postmock-dash .pm-live { color: var(--jp-brand-color1, #1565c0); }
.postmock-dash .pm-rows { max-height: 22em; overflow-y: auto; }
.postmock-dash table.pm-logtable { table-layout: fixed; width: 100%;
  font-family: var(--jp-code-font-family, monospace); }
.postmock-dash table.pm-logtable th, .postmock-dash table.pm-logtable td { white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; padding: 2px 6px; }
.postmock-dash table.pm-logtable thead th { position: sticky; top: 0; background: var(--jp-layout-color1, #fff); }
.postmock-dash col.pm-c-mark { width: 1.8em; } .postmock-dash col.pm-c-time { width: 6.2em; }
.postmock-dash col.pm-c-method { width: 5.4em; } .postmock-dash col.pm-c-status { width: 5.4em; }
.postmock-dash col.pm-c-ms { width: 6.6em; }
.postmock-dash td.pm-num { text-align: right; }
.postmock-dash .pm-pick select { font-family: var(--jp-code-font-family, monospace); font-size: 12px; }
</style>
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _method_badge(method: str) -> str:
    return f"<span class='pm-badge'>{_e(method)}</span>"


class Dashboard:
    """One dashboard, bound to one server run of a session."""

    interval = 0.5
    """Seconds between refreshes at most: under load, two a second of at most four widget messages each
    (status, examples, log table, Details): 8 a second in benchmarks/notebook_load.py (goal: at most 10)."""
    tick = 1.0
    """Seconds between updates of the status line's uptime while the server runs (one small message each,
    sent only when the line changed and no refresh updated it meanwhile, so a loaded mock sends none)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.server: MockServer | None = session.server
        self.refreshes = 0
        self.superseded_by: str | None = None
        self._lock = threading.Lock()
        self._reader: ThreadPoolExecutor | None = None
        """Reads a shared journal (``--state``) off the server's loop, one refresh at a time."""
        self._pending = False
        self._last = 0.0
        self._last_counts = (0, 0)
        """The request and miss counts last read (shown while a shared journal cannot be read)."""
        self._relisting: int | None = None  # the thread relisting the log, whose selection moves are not clicks
        self._detail_follows = False
        """The selected row is live (a connection open): each refresh redraws its detail view."""
        self._closed = False
        self.status = w.HTML(layout=w.Layout(margin="0 0 4px 0"))
        self.examples = w.HTML()
        self.table = w.HTML(value=_NO_REQUESTS)
        self.table.add_class("pm-log")
        self.log = w.Dropdown(options=[], value=None, description="Details:", layout=w.Layout(width="100%"))
        self.log.add_class("pm-pick")
        self.detail = w.HTML(value=_DETAIL_HINT)
        self.log.observe(self._on_select, names="value")
        tabs = w.Tab(children=[w.VBox([self.table, self.log, self.detail]), self.examples])
        tabs.set_title(0, "Requests")
        tabs.set_title(1, "Examples")
        self.widget = w.VBox([w.HTML(_CSS), self.status, tabs])
        self.widget.add_class("postmock-dash")
        self._unsubscribe = [session.store.subscribe(lambda _: self.request_refresh()), session.subscribe(self)]
        if self.server is not None:
            self._unsubscribe.append(self.server.log.subscribe(lambda _: self.request_refresh()))
        self.refresh()
        if self.server is not None:
            self.server.call_in_server_thread(self._tick_in_fresh_context, self.tick)

    # -- refreshing ------------------------------------------------------------------------

    def request_refresh(self) -> None:
        """Ask for a refresh from any thread; calls within ``interval`` are merged into one.

        While the server runs, the refresh happens on its thread; once it has stopped (or
        before it ever started) the caller's thread refreshes at once, so a refresh that was
        still waiting in a stopped server's loop can never leave the dashboard stale.
        """
        server = self.server
        if server is None or not server.running:
            self._flush()
            return
        with self._lock:
            if self._pending:
                return
            self._pending = True
        delay = max(0.0, self._last + self.interval - time.monotonic())
        if not server.call_in_server_thread(self._flush_in_fresh_context, delay):
            self._flush()

    def _flush_in_fresh_context(self) -> None:
        """Refresh outside the context of whoever asked.

        The server's loop runs a callback in the context it was scheduled from. A refresh asked
        for by a cell (an ``%%example`` edit) would then send its widget messages as replies to
        that cell, long finished, and nbclient/nbconvert would drop them. In an empty context
        ipykernel files them under the cell running now, like any other background output.
        """
        self._in_fresh_context(self._flush)

    def _in_fresh_context(self, function: Any) -> None:
        """``function()`` in an empty context: here, on the server's thread; with a shared journal (``--state``:
        its reads wait on Redis, never on the server's loop) in the dashboard's own reader thread."""
        server = self.server
        if server is not None and isinstance(server.log, Batched):
            if self._reader is None:
                self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postmock-dashboard")
            self._reader.submit(contextvars.Context().run, function)
            return
        contextvars.Context().run(function)

    def _flush(self) -> None:
        with self._lock:
            self._pending = False
            self._last = time.monotonic()
        try:
            self.refresh()
        except Exception as error:  # never let a display problem hurt the server
            if self.server is not None:
                self.server.error_log.report(f"dashboard refresh failed: {error!r}")

    def _tick_in_fresh_context(self) -> None:
        self._in_fresh_context(self._tick)  # as _flush_in_fresh_context: no cell's reply

    def _tick(self) -> None:
        """On the server's thread, every :attr:`tick` seconds while it runs: the uptime moves on."""
        server = self.server
        if self._closed or server is None or not server.running:
            return
        try:
            status = self._status_html() if time.monotonic() - self._last >= self.tick else self.status.value
            if status != self.status.value:
                self.status.value = status
        except Exception as error:  # as in _flush: never let a display problem hurt the server
            server.error_log.report(f"dashboard tick failed: {error!r}")
            return
        server.call_in_server_thread(self._tick_in_fresh_context, self.tick)

    def refresh(self) -> None:
        """Recompute every view from the session's current state."""
        self.refreshes += 1
        self.status.value = self._status_html()
        try:
            self.examples.value = self._examples_html()
            entries = self._recent(LOG_ROWS)
        except StateUnavailable:  # --state and Redis away: the views keep what they showed (the status line says why)
            return
        table = log_table_html(entries)
        if table != self.table.value:
            self.table.value = table
        options = [(_row_label(e), e.seq) for e in entries]
        if options != list(self.log.options):
            self._relist(options)
        self._follow_detail(entries)

    def _follow_detail(self, entries: list[LogEntry]) -> None:
        """The selected row's detail view follows it while its connection is open (or its stream is being sent),
        and once more when it closes: the transcript grows in place."""
        seq = self.log.value
        if not self._detail_follows or seq is None:
            return
        entry = next((e for e in entries if e.seq == seq), None)
        if entry is None:
            return
        self._detail_follows = entry.live
        detail = entry_html(entry)
        if detail != self.detail.value:
            self.detail.value = detail

    def _relist(self, options: list[tuple[str, int]]) -> None:
        """New log rows, keeping the selected request selected, in one message to the browser.

        ipywidgets moves the selection to the first row when the options change; ``_relisting``
        keeps that passing move (on this thread only: a click handled meanwhile on the main
        thread still counts) from redrawing the detail view.
        """
        selected = self.log.value
        seqs = [seq for _, seq in options]
        with self.log.hold_sync():
            self._relisting = threading.get_ident()
            try:
                self.log.options = options
                self.log.index = seqs.index(selected) if selected in seqs else None
            finally:
                self._relisting = None

    def _recent(self, limit: int) -> list[LogEntry]:
        """Newest first; a copy of the log, as the server thread may be appending to it."""
        if self.server is None:
            return []
        return self.server.log.recent(limit)

    def _find(self, seq: int) -> LogEntry | None:
        if self.server is None:
            return None
        return self.server.log.find(seq)

    def close(self) -> None:
        """Stop listening to the collection and the server's log, and stop the uptime's ticks."""
        self._closed = True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._reader is not None:
            self._reader.shutdown(wait=False)

    def session_changed(self, event: SessionEvent) -> None:
        """The session's events (on the main thread): a server started or stopped, or the session closed."""
        if event.kind == "closed":
            self.close()
        else:
            self.mark_superseded(event.url)

    def mark_superseded(self, url: str | None) -> None:
        """This dashboard's server stopped; a newer one may run at ``url``.

        Called on the main thread when the session stops or starts a server; refreshes at once.
        A dashboard replaced by a newer server's stops listening: it keeps its last picture.
        """
        self.superseded_by = url or ""
        self._flush()
        if url:
            self.close()

    # -- views -----------------------------------------------------------------------------

    def _counts(self) -> tuple[int, int]:
        server = self.server
        if server is None:
            return (0, 0)
        try:
            counts = server.log.counts()
        except StateUnavailable:  # --state and Redis away: the counts last read (the status line says why)
            return self._last_counts
        self._last_counts = (counts.total, counts.misses)
        return self._last_counts

    def _status_html(self) -> str:
        server = self.server
        if server is None:
            if self.superseded_by:
                return (f"<b>■ Not started when shown</b> — the mock now runs at <a href='{_e(self.superseded_by)}' "
                        f"target='_blank'>{_e(self.superseded_by)}</a> <span class='pm-muted'>(%mock show for its "
                        "live dashboard)</span>")
            return "<b>■ Mock not started</b> <span class='pm-muted'>— %mock start</span>"
        total, misses = self._counts()
        counts = (f"{_plural(total, 'request')} · "
                  f"<span class='{'pm-miss' if misses else ''}'>{_plural(misses, 'miss', 'misses')}</span>")
        if not server.running:
            url = _e(self.superseded_by or "")
            newer = (f" — a newer mock runs at <a href='{url}' target='_blank'>{url}</a>"
                     if self.superseded_by else " — %mock start to serve again")
            return f"<b class='pm-miss'>■ Stopped</b>{newer} <span class='pm-muted'>({counts} while it ran)</span>"
        outside = public_url(server.port or 0)
        link = f"<a href='{_e(server.url)}' target='_blank'>{_e(server.url)}</a>"
        if outside:
            link += f" · browser: <a href='{_e(outside)}' target='_blank'>{_e(outside)}</a>"
        mode = "private (x-api-key)" if server.private else "public"
        uptime = _duration(time.time() - (server.started_at or time.time()))
        failures = server.error_log.total
        errors = f" · <span class='pm-miss'>{_plural(failures, 'error')}</span>" if failures else ""
        states = _scenario_states(server)
        flows = (" · scenarios: " + _e(", ".join(f"{name} = {state}" for name, state in states.items()))
                 if states else "")
        chaos = f" · <span class='pm-miss'>chaos {server.config.chaos:.0%}</span>" if server.config.chaos else ""
        sockets = server.app.connections.count
        open_ = (f" · <span class='pm-live'>⇄ {_plural(sockets, 'WebSocket connection')} open</span>"
                 if sockets else "")
        return (f"<b class='pm-hit'>● Running</b> at {link} · {mode} · up {uptime} · {counts}{open_}{errors}{chaos}"
                f"{flows}" + _shared_html(server))

    def _examples_html(self) -> str:
        hits = self.server.log.hit_counts() if self.server is not None else {}
        rows = "".join(
            f"<tr><td>{_method_badge(e.request.method)}</td><td><code>{_e(e.request.url)}</code></td>"
            f"<td>{e.response.status}</td><td>{_e(e.name)}</td><td>{hits.get(e.id, 0)}</td>"
            f"<td>{_e(answered_by(e, getattr(self.session, 'behaviours', None)))}</td></tr>"
            for e in self.session.store.collection.examples)
        if not rows:
            return "<p class='pm-muted'>No examples yet: define one with <code>%%example GET /path 200</code>.</p>"
        head = "<tr><th>method</th><th>path</th><th>status</th><th>name</th><th>hits</th><th>answers</th></tr>"
        return f"<table>{head}{rows}</table>"

    def _on_select(self, change: dict[str, Any]) -> None:
        if self._relisting == threading.get_ident():
            return
        entry = self._find(change["new"]) if change["new"] is not None else None
        self._detail_follows = entry is not None and entry.live
        self.detail.value = entry_html(entry) if entry is not None else _DETAIL_HINT

    # -- display ---------------------------------------------------------------------------

    def text_summary(self, rows: int = 10) -> str:
        """What renderers without widgets show (nbconvert, GitHub): a picture taken when displayed."""
        server = self.server
        if server is None:
            state = "not started (%mock start)"
        elif server.running:
            state = f"running at {server.url} ({'private' if server.private else 'public'})"
        else:
            state = "stopped"
        total, misses = self._counts()
        lines = [f"postmock_nb dashboard — {state}",
                 f"{_plural(total, 'request')}, {_plural(misses, 'miss', 'misses')}"]
        examples = self.session.store.collection.examples
        lines.append(f"Examples ({len(examples)}):" if examples else "No examples yet.")
        width = max((len(e.request.url) for e in examples), default=0)
        lines += [f"  {e.request.method:<6} {e.request.url:<{width}}  → {e.response.status}  {e.name}"
                  for e in examples]
        recent = self._recent(rows)
        if recent:
            lines.append("Latest requests (newest first, ✗ = no example matched, ↯ = a fault, — = no status sent, "
                         "⇄ = a WebSocket connection, ↗ = a callback sent):")
            widths = _widths(recent)
            lines += [f"  {_row_label(e, widths)}" for e in recent]
        return "\n".join(lines)

    def _log_html(self, rows: int = 10) -> str:
        return log_table_html(self._recent(rows))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.text_summary()
        bundle["text/html"] = (_CSS + f"<div class='postmock-dash'><p>{self._status_html()}</p>"
                               f"{self._examples_html()}{self._log_html()}</div>")
        return bundle


_DETAIL_HINT = ("<p class='pm-muted'>Select a request under Details to see it, its response, "
                "and why it matched or not.</p>")
_NO_REQUESTS = "<p class='pm-muted'>No requests yet.</p>"
_LOG_COLUMNS = (("mark", ""), ("time", "time"), ("method", "method"), ("path", "path"), ("status", "status"),
                ("target", "answered by"), ("ms", "duration"))


def _row_class(entry: LogEntry) -> str:
    kind = row_class(entry)
    return f"pm-{kind}" if kind else ""


def log_table_html(entries: list[LogEntry]) -> str:
    """The log as a table whose columns keep their place: fixed widths, a long path or note cut with an
    ellipsis (its whole text in the tooltip). Misses in the error colour, faults in the warning colour, connections
    still open (and streams still being sent) in the brand colour, ``open`` for their duration."""
    if not entries:
        return _NO_REQUESTS
    cols = "".join(f"<col class='pm-c-{name}'>" for name, _ in _LOG_COLUMNS)
    head = "".join(f"<th>{_e(title)}</th>" for _, title in _LOG_COLUMNS)
    rows = []
    for e in entries:
        target = _target(e)
        rows.append(
            f"<tr class='{_row_class(e)}' data-seq='{e.seq}'><td>{e.mark}</td>"
            f"<td>{time.strftime('%H:%M:%S', time.localtime(e.time))}</td><td>{_e(e.method)}</td>"
            f"<td title='{_e(e.url)}'>{_e(e.url)}</td><td>{_e(e.status_text)}</td>"
            f"<td title='{_e(target)}'>{_e(target)}</td><td class='pm-num'>{e.latency_text(' ms')}</td></tr>")
    return (f"<div class='pm-rows'><table class='pm-logtable'><colgroup>{cols}</colgroup>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _target(entry: LogEntry) -> str:
    return entry.answered()  # a handler or resource answered: its note says what it did


def _widths(entries: list[LogEntry], limit: int = 40) -> tuple[int, int]:
    """How wide the path and example columns are, so rows line up (longer values stick out)."""
    return (min(limit, max((len(e.url) for e in entries), default=0)),
            min(limit, max((len(_target(e)) for e in entries), default=0)))


def _row_label(entry: LogEntry, widths: tuple[int, int] = (0, 0)) -> str:
    """One log row: ``✗ 12:00:01  GET    /accounts/7  → 404  no match  (0.4 ms)``; ✗ marks a miss, ↯ a fault
    (``→ —`` when no status line went out), ⇄ a WebSocket connection (``(open)`` while it is), ↗ a callback."""
    clock = time.strftime("%H:%M:%S", time.localtime(entry.time))
    url, target = widths
    return (f"{entry.mark} {clock}  {entry.method:<6} {entry.url:<{url}}  → {entry.status_text}  "
            f"{_target(entry):<{target}}"
            f"  ({entry.latency_text(' ms')})")


def _headers_text(headers: list[tuple[str, str]]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in headers)


def _side(headers: list[tuple[str, str]], body: str) -> str:
    return _e(_headers_text(headers) + "\n\n" + body if headers else body)


def _note_html(entry: LogEntry) -> str:
    """What the row's note says: what answered (a handler, a resource), a connection's counts and close, a
    callback's origin or error, a stream's events sent."""
    if not entry.note:
        return ""
    if entry.example_name and not entry.channel:
        return f"<p>Answered by {_e(entry.note)}</p>"
    live = " <b class='pm-live'>open</b>" if entry.live else ""
    return f"<p>{_e(entry.note)}{live}</p>"


def entry_html(entry: LogEntry) -> str:
    """The selected request: why it matched or missed first, then the request and response side by side (a
    connection's upgrade request and transcript, a callback's request sent and the receiver's answer)."""
    response_headers = entry.shown_response_headers()
    heading = (f"<h4 class='{_row_class(entry)}'>{entry.mark} {_method_badge(entry.method)} "
               f"<code>{_e(entry.url)}</code> → "
               f"{_e(entry.status_text)}{' (fault ' + _e(entry.fault) + ')' if entry.fault else ''}"
               f"{' — ' + _e(entry.example_name) if entry.example_name else ''}"
               f" <span class='pm-muted'>· {_e(entry.latency_text(' ms'))}</span></h4>")
    why = match_html(entry.result) if entry.result is not None else ""
    asked, answer = sides(entry)
    sides_html = (f"<table class='pm-sides'><tr><th>{_e(asked)}</th><th>{_e(answer)}</th></tr><tr>"
                  f"<td><pre>{_side(entry.headers, entry.body)}</pre></td>"
                  f"<td><pre>{_side(response_headers, entry.response_text)}</pre></td></tr></table>")
    answered = _note_html(entry)
    trace = (f"<details open><summary>Handler traceback</summary><pre>{_e(entry.traceback)}</pre></details>"
             if getattr(entry, "traceback", "") else "")
    return heading + answered + trace + why + sides_html


def match_html(result: MatchResult) -> str:
    """Why this request matched (candidates and scores) or missed (closest examples, diffs marked)."""
    if result.winner is not None:
        rows = "".join(f"<tr><td>{_e(c.example.name)}</td><td>{'' if c.score is None else c.score}</td>"
                       f"<td>{_e(c.lost) or '<b class=pm-hit>winner</b>'}</td></tr>" for c in result.candidates[:10])
        selector = f"<p>Picked by <code>{_e(result.selector)}</code></p>" if result.selector else ""
        return (f"<h4>Matched with score {result.score}</h4>{selector}"
                f"<table><tr><th>example</th><th>score</th><th>why</th></tr>{rows}</table>")
    closest = near_misses(result, 3)
    parts = [f"<h4 class='pm-miss'>No match: {_e(result.error)}</h4>"]
    parts += [_near_miss_html(rank, c, result) for rank, c in enumerate(closest, 1)]
    parts.append(f"<details><summary>as text</summary><pre>{_e(near_miss_text(result, 3, closest))}</pre></details>")
    return "".join(parts)


def _near_miss_html(rank: int, candidate: Candidate, result: MatchResult) -> str:
    rows = "".join(
        f"<tr class='{'' if row.ok else 'pm-diff'}'><td><code>{_e(left)}</code></td>"
        f"<td><code>{_e(right)}</code></td><td>{_e(row.mark if row.ok else '✗ ' + row.mark)}</td></tr>"
        for row in diff_rows(candidate, result) for left, right in [row.sides()])
    return (f"<p><b>{rank}. {_e(candidate.example.name)}</b> <span class='pm-muted'>{_e(candidate.lost)}</span></p>"
            f"<table><tr><th>request</th><th>example</th><th></th></tr>{rows}</table>")


def show_dashboard(session: Session) -> Dashboard:
    """Create (on this, the main thread) and display a dashboard for the session's server."""
    dashboard = Dashboard(session)  # listens to the session's events from now on
    display(dashboard)  # type: ignore[no-untyped-call]  # IPython.display is untyped
    return dashboard


def _scenario_states(server: MockServer) -> dict[str, str]:
    """The scenario states for the status line. With ``--state`` they are the ones this process last saw (no
    round trip: the status line is drawn on the server's thread, which never waits on Redis)."""
    state = server.app.behaviours.flows.state
    if isinstance(state, RedisFlowState):
        return state.known_states()
    return server.scenario_states()


def _shared_html(server: MockServer) -> str:
    """`` · state: redis://… (prefix p)``, or why it is unavailable (``--state``); empty without it."""
    shared = server.mock.shared
    if shared is None:
        return ""
    status = shared.status()
    where = f"{_e(status['url'])} (prefix {_e(status['prefix'])})"
    if status["available"]:
        return f" · state: {where}"
    return f" · <span class='pm-miss'>state unavailable: {where}: {_e(status.get('error') or '')}</span>"
