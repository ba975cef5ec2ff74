"""A handler calling ``mock.callback`` in a real kernel (nbclient): the receiver (a tiny HTTP server in this
process, on 127.0.0.1) gets the webhook, and ``%mock log`` shows the outgoing row; no cell shows an error."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support.notebook_cells import cell_text, run_in_kernel


def test_a_handler_calls_back_from_a_kernel(tmp_path) -> None:
    received: list[dict[str, Any]] = []

    class Handle(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            size = int(self.headers.get("content-length") or 0)
            received.append({"path": self.path, "body": self.rfile.read(size)})
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    hook = f"http://127.0.0.1:{server.server_address[1]}/hooks/pay"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        nb = run_in_kernel([
            "%load_ext postmock_nb\nimport requests, time",
            "@mock.handler('POST /payments', status=202)\ndef pay(request):\n"
            "    order = request.json\n"
            "    mock.callback('POST', order['callback_url'], json={'status': 'settled', 'id': order['id']})\n"
            "    return {'id': order['id'], 'status': 'pending'}, 202",
            "%mock start --no-dashboard",
            f"r = requests.post(f'{{mockUrl}}/payments', json={{'id': 'p-1', 'callback_url': {hook!r}}})\n"
            "print(r.status_code, r.json())",
            # wait for the outgoing row (a condition polled, as support.waiting does; bounded)
            "deadline = time.monotonic() + 10\n"
            "while not [e for e in mock.session.server.log.recent() if e.direction == 'out'] "
            "and time.monotonic() < deadline:\n    time.sleep(0.02)",
            "%mock log -n 5",
            "%mock stop",
        ], tmp_path, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    texts = [cell_text(cell) for cell in nb.cells]
    errors = [o for cell in nb.cells for o in cell.outputs
              if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]
    assert errors == []
    assert "202 {'id': 'p-1', 'status': 'pending'}" in texts[3]
    assert [(r["path"], json.loads(r["body"])) for r in received] == [("/hooks/pay", {"status": "settled", "id": "p-1"})]
    log = texts[5]
    assert "↗" in log and hook in log and "204" in log and "callback of #" in log
