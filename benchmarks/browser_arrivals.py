"""In Chromium: when each event of an ``--sse --interval MS`` stream reaches ``EventSource``, and each message of a
``%%websocket --interval MS`` stream reaches ``WebSocket``, vs the interval.

Debian's Chromium (Playwright, headless, no browser download) opens a page the mock serves itself (same origin)
and notes ``performance.now()`` at each ``EventSource`` event / ``WebSocket`` message of a stream of ``--events``
events; a gap between two arrivals minus the interval is how late (or early, after a late one) the page saw it.
Rounds are interleaved: each round runs every (server, kind, interval) once, in an order rotated by one per round,
so a busy moment of the machine falls on all of them alike. Printed: per server, kind and interval, the median,
the 90th percentile and the largest |gap - interval| over every gap of every round, and the whole stream's span
vs the ideal ``(events - 1) * interval``. Everything listens on and talks to 127.0.0.1.

    .venv/bin/python benchmarks/browser_arrivals.py [--rounds 5] [--events 10] [--intervals 50,200]
                                                    [--servers hypercorn,uvicorn,granian]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from dataclasses import dataclass, field

from playwright.sync_api import Browser, sync_playwright

from postmock_nb.serving import servers
from postmock_nb.session import Session

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE = "<!doctype html><title>arrivals</title>"
KINDS = ("EventSource", "WebSocket")

SSE_ARRIVALS = """async ([url, count]) => await new Promise((resolve, reject) => {
    const at = [];
    const source = new EventSource(url);
    source.onmessage = () => {
        at.push(performance.now());
        if (at.length === count) { source.close(); resolve(at); }
    };
    source.onerror = () => { source.close(); reject(new Error("stream broken after " + at.length)); };
})"""

WS_ARRIVALS = """async ([url, count]) => await new Promise((resolve, reject) => {
    const at = [];
    const socket = new WebSocket(url);
    socket.onmessage = () => {
        at.push(performance.now());
        if (at.length === count) { socket.close(1000); resolve(at); }
    };
    socket.onclose = () => { if (at.length < count) reject(new Error("socket closed after " + at.length)); };
})"""


@dataclass
class Series:
    """The arrivals of one (server, kind, interval) over every round."""

    errors: list[float] = field(default_factory=list)
    """Each gap between two arrivals minus the interval, ms."""
    spans: list[float] = field(default_factory=list)
    """First to last arrival of each stream, ms."""


def build(events: int, intervals: list[int]) -> Session:
    """A mock with the page, an SSE example and a WebSocket script per interval."""
    session = Session()
    session.define("GET /page", PAGE, name="page", headers=["Content-Type: text/html"])
    for interval in intervals:
        stream = "\n\n".join(f"id: {n}\ndata: event {n} at {{{{$timestamp}}}}" for n in range(1, events + 1))
        session.define(f"GET /sse/{interval}", stream, name=f"sse {interval}",
                       request_headers=["x-mock-sse: true", f"x-mock-interval: {interval}"])
        script = "\n".join(f"< message {n}" for n in range(1, events + 1))
        session.define(f"GET /ws/{interval}", script, name=f"ws {interval}", headers=["Content-Type: text/plain"],
                       request_headers=["x-mock-websocket: true", f"x-mock-interval: {interval}"])
    return session


def run(browser: Browser, url: str, kind: str, interval: int, events: int) -> list[float]:
    """The arrival times (ms, the page's clock) of one stream."""
    page = browser.new_page()
    try:
        page.set_default_timeout(60_000)
        page.goto(url + "/page")
        if kind == "EventSource":
            at: list[float] = page.evaluate(SSE_ARRIVALS, [f"/sse/{interval}", events])
        else:
            at = page.evaluate(WS_ARRIVALS, [url.replace("http://", "ws://", 1) + f"/ws/{interval}", events])
        return at
    finally:
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--intervals", default="50,200", help="ms between two events, comma-separated")
    parser.add_argument("--servers", default=",".join(servers.NAMES))
    args = parser.parse_args()
    intervals = [int(value) for value in args.intervals.split(",")]
    names = [name for name in args.servers.split(",") if not servers.missing(name)]
    sessions = {name: build(args.events, intervals) for name in names}
    series = {(name, kind, interval): Series() for name in names for kind in KINDS for interval in intervals}
    order = list(series)
    try:
        for name, session in sessions.items():
            session.start(port=0, server=name)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                for round_ in range(args.rounds):
                    for name, kind, interval in order[round_ % len(order):] + order[:round_ % len(order)]:
                        url = sessions[name].url
                        at = run(browser, url, kind, interval, args.events)
                        found = series[name, kind, interval]
                        found.errors.extend(b - a - interval for a, b in zip(at, at[1:], strict=False))
                        found.spans.append(at[-1] - at[0])
            finally:
                browser.close()
    finally:
        for session in sessions.values():
            session.close()
    print(f"Chromium, {args.events} events a stream, {args.rounds} interleaved rounds, servers: {', '.join(names)}")
    print("| server | client | interval ms | gap - interval, median ms | p90 of abs ms | max of abs ms "
          "| span, median ms (ideal) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (name, kind, interval), found in series.items():
        absolute = sorted(abs(error) for error in found.errors)
        p90 = absolute[min(len(absolute) - 1, int(0.9 * len(absolute)))]
        print(f"| {name} | {kind} | {interval} | {statistics.median(found.errors):+.2f} | {p90:.2f} "
              f"| {absolute[-1]:.2f} | {statistics.median(found.spans):.1f} ({(args.events - 1) * interval}) |")


if __name__ == "__main__":
    main()
