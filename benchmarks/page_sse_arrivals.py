"""When a page's ``EventSource`` sees each event of an ``--sse --interval MS`` stream: direct, and through
jupyter-server-proxy (the address a page on Binder or JupyterHub calls; notebook 10's chat page).

A mock on 127.0.0.1 streams N events ``--interval`` ms apart. A ``jupyter server`` from this environment
(jupyter-server-proxy loaded, a random token, its config in a temporary directory) proxies it at
``/proxy/<port>/``. Headless Chromium (Debian's, through Playwright) opens a page on the Jupyter server's
origin (a page of the mock's, through the proxy) and reads the stream with ``EventSource``, noting when
each event arrives (``performance.now()``): once from the mock itself (another origin: the mock's CORS
headers) and once through the proxy (same origin). Per path: each gap between two events minus the
interval, median and worst over every run, and the whole stream's duration. Gaps near 0 where the
interval is not would say the stream was buffered (the proxy relays ``Accept: text/event-stream``
requests as they arrive; other requests it buffers).

    .venv/bin/python benchmarks/page_sse_arrivals.py [--interval 80] [--events 10] [--runs 5]

Every process is started here and stopped by its own PID; everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from postmock_nb.session import Session

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
READ = """async ([url, count]) => {
    const arrivals = [];
    await new Promise((resolve, reject) => {
        const source = new EventSource(url);
        source.onmessage = () => {
            arrivals.push(performance.now());
            if (arrivals.length === count) { source.close(); resolve(); }
        };
        source.onerror = () => { source.close(); reject(new Error("the stream failed after " + arrivals.length)); };
    });
    return arrivals.map(at => at - arrivals[0]);
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_jupyter(home: Path, token: str) -> tuple[subprocess.Popen[bytes], str]:
    jupyter = Path(sys.executable).with_name("jupyter")
    port = free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"))
    command = [str(jupyter), "server", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={home}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=home)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"jupyter server exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2).read()
            return process, url
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("jupyter server did not answer within 60 s") from None
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def measure(page: Any, url: str, events: int, runs: int) -> list[list[float]]:
    print(f"reading {url}", file=sys.stderr)
    return [page.evaluate(READ, [url, events]) for _ in range(runs)]


def report(name: str, runs: list[list[float]], interval: int) -> None:
    errors = [b - a - interval for run in runs for a, b in zip(run, run[1:], strict=False)]
    whole = statistics.median(run[-1] for run in runs)
    print(f"| {name} | {statistics.median(errors):+.1f} | {min(errors):+.1f} | {max(errors):+.1f} | {whole:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--interval", type=int, default=80, help="ms between two events")
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright  # deferred: a test-extra dependency, needed only here

    session = Session()
    body = "\n\n".join(f"id: {i}\ndata: token {i}" for i in range(1, args.events + 1))
    session.define("GET /chat/reply", body, name="reply",
                   request_headers=["x-mock-sse: true", f"x-mock-interval: {args.interval}"])
    session.define("GET /page", "<!doctype html><title>EventSource arrivals</title>", name="page",
                   headers=["Content-Type: text/html"])
    session.start(port=0)
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as home:
        jupyter, jupyter_url = start_jupyter(Path(home), token)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
                try:
                    page = browser.new_page()
                    page.on("console", lambda message: print("page:", message.text, file=sys.stderr))
                    # a page on the Jupyter server's origin, served through its proxy from loopback (as JupyterLab's)
                    port = session.server.port if session.server is not None else 0
                    page.goto(f"{jupyter_url}/proxy/{port}/page?token={token}")
                    paths = {"direct (CORS)": f"{session.url}/chat/reply",
                             "jupyter-server-proxy": f"{jupyter_url}/proxy/{port}/chat/reply?token={token}"}
                    results = {name: measure(page, url, args.events, args.runs) for name, url in paths.items()}
                finally:
                    browser.close()
        finally:
            stop(jupyter)
            session.close()
    print(f"Chromium EventSource, {args.events} events, --interval {args.interval} ms, {args.runs} runs each")
    print("| path | gap - interval, median ms | min ms | max ms | whole stream, median ms |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in results.items():
        report(name, runs, args.interval)
    print(f"(ideal whole stream: {(args.events - 1) * args.interval} ms)")


if __name__ == "__main__":
    main()
