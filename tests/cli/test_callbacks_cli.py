"""``postmock serve`` of a saved file whose example carries a callback (``x-mock-callback``): the receiver (a tiny
HTTP server in this process, on 127.0.0.1) gets it filled from the request, ``--callback-allow`` is read from the
command line, a host it does not name is refused, and the admin API's log shows the outgoing rows."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from support.cli import TIMEOUT, postmock
from support.waiting import wait_until


def test_serve_sends_a_saved_examples_callback(tmp_path: Path) -> None:
    from postmock_nb.session import Session

    received: list[dict[str, Any]] = []

    class Handle(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            size = int(self.headers.get("content-length") or 0)
            received.append({"path": self.path, "body": self.rfile.read(size)})
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

    session = Session()
    session.define("POST /payments 202", '{"status": "pending"}', name="Pay later", request_headers=[
        "x-mock-callback: POST {{$body 'callback_url'}}",
        "x-mock-callback-body: {\"id\": \"{{$body 'id'}}\", \"status\": \"settled\"}"])
    path = session.save(tmp_path / "pay.postman_collection.json")
    session.close()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/pay"
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        with postmock("serve", str(path), "--port", "0", "--callback-allow", "hooks.example.com") as cli:
            url = cli.wait_for(r"at (http://127\.0\.0\.1:\d+)").group(1)
            for target in (hook, "http://elsewhere.example.net/hooks"):
                answered = requests.post(url + "/payments", json={"id": "p-1", "callback_url": target},
                                         timeout=TIMEOUT)
                assert answered.status_code == 202 and answered.json() == {"status": "pending"}

            def outgoing() -> list[dict[str, Any]]:
                rows = requests.get(url + "/__postmock/log", timeout=TIMEOUT).json()
                return [r for r in rows if r.get("direction") == "out"]

            wait_until(lambda: len(outgoing()) == 2, "both callbacks' rows")
            rows = {r["url"]: r for r in outgoing()}
            assert rows[hook]["status"] == 200 and rows[hook]["note"].startswith("callback of #")
            refused = rows["http://elsewhere.example.net/hooks"]
            assert refused["status"] is None and "'elsewhere.example.net' is not allowed" in refused["note"]
            assert "hooks.example.com" in refused["note"]  # the hosts --callback-allow named
            assert [(r["path"], json.loads(r["body"])) for r in received] == [
                ("/hooks/pay", {"id": "p-1", "status": "settled"})]
            cli.interrupt()
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join(5)
