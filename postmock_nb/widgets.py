"""The live dashboard: status, examples, request log, and why a miss missed.

Widgets are created and displayed on the kernel's main thread. After that they change
only through :meth:`Dashboard.request_refresh`, which any thread may call: it coalesces
calls and runs one refresh at most every :attr:`Dashboard.interval` seconds on the server's
own thread, so heavy traffic costs a bounded number of widget messages and nothing the
server does prints into a cell.
"""

from __future__ import annotations

import html
import threading
import time
from typing import TYPE_CHECKING, Any

import ipywidgets as w
from IPython.display import display

from .diagnostics import near_miss_text
from .matching import Candidate, MatchResult
from .requestlog import LogEntry

if TYPE_CHECKING:
    from .server import MockServer
    from .session import Session

LOG_ROWS = 200
"""How many log rows the dashboard lists (the server's log keeps its own bound)."""

_CSS = """
<style>
.postmock-dash { font-family: var(--jp-ui-font-family, sans-serif); color: var(--jp-ui-font-color1, #222); }
.postmock-dash table { border-collapse: collapse; font-size: 12px; }
.postmock-dash th, .postmock-dash td { text-align: left; padding: 2px 8px; border-bottom: 1px solid var(--jp-border-color2, #ddd); vertical-align: top; }
.postmock-dash .pm-miss { color: var(--jp-error-color1, #c62828); font-weight: 600; }
.postmock-dash .pm-hit { color: var(--jp-success-color1, #2e7d32); }
.postmock-dash .pm-diff td { background: var(--jp-error-color3, #fde0e0); }
.postmock-dash .pm-muted { color: var(--jp-ui-font-color2, #666); }
.postmock-dash pre { background: var(--jp-layout-color2, #f5f5f5); color: var(--jp-content-font-color1, #222); padding: 6px; margin: 2px 0; white-space: pre-wrap; max-height: 240px; overflow: auto; }
.postmock-dash .pm-badge { border-radius: 3px; padding: 0 6px; background: var(--jp-layout-color3, #ddd); }
</style>
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _method_badge(method: str) -> str:
    return f"<span class='pm-badge'>{_e(method)}</span>"


class Dashboard:
    """One dashboard, bound to one server run of a session."""

    interval = 0.25
    """Seconds between refreshes at most (four a second under load)."""

    def __init__(self, session: "Session") -> None:
        self.session = session
        self.server: "MockServer | None" = session.server
        self.refreshes = 0
        self.superseded_by: str | None = None
        self._lock = threading.Lock()
        self._pending = False
        self._last = 0.0
        self.status = w.HTML(layout=w.Layout(margin="0 0 4px 0"))
        self.examples = w.HTML()
        self.log = w.Select(options=[], rows=10, layout=w.Layout(width="100%", font_family="monospace"))
        self.detail = w.HTML(value="<p class='pm-muted'>Select a request to see it, its response, and why it matched or not.</p>")
        self.log.observe(self._on_select, names="value")
        tabs = w.Tab(children=[w.VBox([self.log, self.detail]), self.examples])
        tabs.set_title(0, "Requests")
        tabs.set_title(1, "Examples")
        self.widget = w.VBox([w.HTML(_CSS), self.status, tabs])
        self.widget.add_class("postmock-dash")
        self._unsubscribe = [session.store.subscribe(lambda _: self.request_refresh())]
        if self.server is not None:
            self._unsubscribe.append(self.server.log.subscribe(lambda _: self.request_refresh()))
        self.refresh()

    # -- refreshing ------------------------------------------------------------------------

    def request_refresh(self) -> None:
        """Ask for a refresh from any thread; calls within ``interval`` are merged into one."""
        with self._lock:
            if self._pending:
                return
            self._pending = True
        delay = max(0.0, self._last + self.interval - time.monotonic())
        server = self.server
        if server is None or not server.call_in_server_thread(self._flush, delay):
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            self._pending = False
            self._last = time.monotonic()
        try:
            self.refresh()
        except Exception as error:  # never let a display problem hurt the server
            if self.server is not None:
                self.server.errors.append(f"dashboard refresh failed: {error!r}")

    def refresh(self) -> None:
        """Recompute every view from the session's current state."""
        self.refreshes += 1
        self.status.value = self._status_html()
        self.examples.value = self._examples_html()
        entries = self.server.log.recent(LOG_ROWS) if self.server is not None else []
        options = [(_row_label(e), e.seq) for e in entries]
        if options != list(self.log.options):
            selected = self.log.value
            self.log.options = options
            if selected in {seq for _, seq in options}:
                self.log.value = selected

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    def mark_superseded(self, url: str | None) -> None:
        """This dashboard's server stopped; a newer one may run at ``url``."""
        self.superseded_by = url or ""
        self.request_refresh()

    # -- views -----------------------------------------------------------------------------

    def _status_html(self) -> str:
        server = self.server
        if server is None:
            return "<b>■ Mock not started</b> <span class='pm-muted'>— %mock start</span>"
        log = server.log
        counts = f"{log.total} requests · <span class='{'pm-miss' if log.misses else ''}'>{log.misses} misses</span>"
        if not server.running:
            newer = (f" — a newer mock runs at <a href='{_e(self.superseded_by)}' target='_blank'>{_e(self.superseded_by)}</a>"
                     if self.superseded_by else " — %mock start to serve again")
            return f"<b class='pm-miss'>■ Stopped</b>{newer} <span class='pm-muted'>({counts} while it ran)</span>"
        from .session import public_url

        outside = public_url(server.port or 0)
        link = f"<a href='{_e(server.url)}' target='_blank'>{_e(server.url)}</a>"
        if outside:
            link += f" · browser: <a href='{_e(outside)}' target='_blank'>{_e(outside)}</a>"
        mode = "private (x-api-key)" if server.private else "public"
        uptime = int(time.time() - (server.started_at or time.time()))
        errors = f" · <span class='pm-miss'>{len(server.errors)} errors</span>" if server.errors else ""
        return f"<b class='pm-hit'>● Running</b> at {link} · {mode} · up {uptime} s · {counts}{errors}"

    def _examples_html(self) -> str:
        hits = self.server.log.hits if self.server is not None else {}
        rows = "".join(
            f"<tr><td>{_method_badge(e.request.method)}</td><td><code>{_e(e.request.url)}</code></td>"
            f"<td>{e.response.status}</td><td>{_e(e.name)}</td><td>{hits.get(e.id, 0)}</td></tr>"
            for e in self.session.store.collection.examples)
        if not rows:
            return "<p class='pm-muted'>No examples yet: define one with <code>%%example GET /path 200</code>.</p>"
        return f"<table><tr><th>method</th><th>path</th><th>status</th><th>name</th><th>hits</th></tr>{rows}</table>"

    def _on_select(self, change: dict) -> None:
        entry = self.server.log.find(change["new"]) if self.server is not None and change["new"] is not None else None
        self.detail.value = entry_html(entry) if entry is not None else ""

    # -- display ---------------------------------------------------------------------------

    def text_summary(self) -> str:
        """What renderers without widgets show (nbconvert, GitHub)."""
        server = self.server
        lines = [f"postmock_nb dashboard — {'running at ' + server.url if server is not None and server.running else 'stopped'}"]
        lines += [f"  {e.request.method} {e.request.url} → {e.response.status} {e.name}"
                  for e in self.session.store.collection.examples]
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.text_summary()
        bundle["text/html"] = _CSS + f"<div class='postmock-dash'>{self._status_html()}{self._examples_html()}</div>"
        return bundle


def _row_label(entry: LogEntry) -> str:
    clock = time.strftime("%H:%M:%S", time.localtime(entry.time))
    mark = "✗" if entry.is_miss else "✓" if entry.matched else "·"
    target = entry.example_name or ("no match" if entry.is_miss else entry.note or "-")
    return f"{mark} {clock}  {entry.method:<6} {entry.url}  → {entry.status}  {target}  ({entry.latency_ms:.1f} ms)"


def _headers_text(headers: list[tuple[str, str]]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in headers)


def entry_html(entry: LogEntry) -> str:
    """The selected request: request, response, and the match explanation."""
    response_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in entry.response_headers]
    parts = [
        f"<h4>{_method_badge(entry.method)} <code>{_e(entry.url)}</code> → {entry.status}"
        f"{' — ' + _e(entry.example_name) if entry.example_name else ''}</h4>",
        "<table><tr><th>Request</th><th>Response</th></tr><tr>"
        f"<td><pre>{_e(_headers_text(entry.headers))}\n\n{_e(entry.body)}</pre></td>"
        f"<td><pre>{_e(_headers_text(response_headers))}\n\n{_e(entry.response_text)}</pre></td></tr></table>",
    ]
    if entry.result is not None:
        parts.append(match_html(entry.result))
    return "".join(parts)


def match_html(result: MatchResult) -> str:
    """Why this request matched (candidates and scores) or missed (closest examples, diffs marked)."""
    if result.winner is not None:
        rows = "".join(f"<tr><td>{_e(c.example.name)}</td><td>{'' if c.score is None else c.score}</td>"
                       f"<td>{_e(c.lost) or '<b class=pm-hit>winner</b>'}</td></tr>" for c in result.candidates[:10])
        selector = f"<p>Picked by <code>{_e(result.selector)}</code></p>" if result.selector else ""
        return f"<h4>Matched with score {result.score}</h4>{selector}<table><tr><th>example</th><th>score</th><th>why</th></tr>{rows}</table>"
    closest = result.near_misses(3)
    parts = [f"<h4 class='pm-miss'>No match: {_e(result.error)}</h4>"]
    parts += [_near_miss_html(rank, c, result) for rank, c in enumerate(closest, 1)]
    parts.append(f"<details><summary>as text</summary><pre>{_e(near_miss_text(result))}</pre></details>")
    return "".join(parts)


def _near_miss_html(rank: int, candidate: Candidate, result: MatchResult) -> str:
    from .diagnostics import _rows

    rows = "".join(
        f"<tr class='{'pm-diff' if mark.startswith('<<<<<') else ''}'><td><code>{_e(left)}</code></td>"
        f"<td><code>{_e(right)}</code></td><td>{_e(mark.replace('<<<<< ', '✗ '))}</td></tr>"
        for left, right, mark in _rows(candidate, result))
    return (f"<p><b>{rank}. {_e(candidate.example.name)}</b> <span class='pm-muted'>{_e(candidate.lost)}</span></p>"
            f"<table><tr><th>request</th><th>example</th><th></th></tr>{rows}</table>")


def show_dashboard(session: "Session") -> Dashboard:
    """Create (on this, the main thread) and display a dashboard for the session's server."""
    dashboard = Dashboard(session)
    session.dashboards.append(dashboard)
    display(dashboard)
    return dashboard
