"""Through a real kernel (nbclient): nothing from the server thread lands in a cell.

A background thread sends 200 bad requests (and some that make the app fail) while a
``time.sleep`` cell runs: that cell stays empty; the next magic gives a one-line summary of
the server errors, never tracebacks; ``%mock stop`` with requests in flight prints only
its own line.
"""

from __future__ import annotations

from support.notebook_cells import cell_text, run_in_kernel

LOAD = r'''
import socket, threading, time
import postmock_nb.serving.app as app
real_build = app.build_response
def failing_build(result, snapshot, *args):
    if result.request.path == "/boom":
        raise RuntimeError("boom in the app")
    return real_build(result, snapshot, *args)
app.build_response = failing_build  # a bug of the app, as a person would meet one

def send(data):
    with socket.create_connection(("127.0.0.1", int(mockUrl.rsplit(":", 1)[1])), timeout=10) as sock:
        sock.sendall(data)
        while sock.recv(65536):
            pass

BAD = [b"GET /boom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
       b"GET /users HTTP/1.1\r\nHost: x\r\nConnection: close\r\nx-mock-response-code: " + b"9" * 5000 + b"\r\n\r\n",
       b"GET /users/%0d%0aSet-Cookie:x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
       b"GARBAGE\r\n\r\n",
       b"POST /users HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
       b"x-mock-match-request-body: true\r\nContent-Length: 10000\r\n\r\n" + b"[" * 5000 + b"]" * 5000]
done = threading.Event()
def hammer():
    try:
        for i in range(200):
            send(BAD[i % len(BAD)])
    finally:
        done.set()
'''

IN_FLIGHT = r'''
flying = []
for _ in range(10):
    sock = socket.create_connection(("127.0.0.1", int(mockUrl.rsplit(":", 1)[1])), timeout=10)
    sock.sendall(b"GET /users HTTP/1.1\r\nHost: x\r\nx-mock-response-delay: 60000\r\n\r\n")
    flying.append(sock)
'''


def test_server_output_never_lands_in_a_cell(tmp_path) -> None:
    cells = [
        "%load_ext postmock_nb",
        '%%example GET /users/:id 200\nLocation: /users/{{id}}\n\n{"id": "{{id}}"}',
        '%%example GET /boom 200\nok',
        "%%example POST /users 201\n> Content-Type: application/json\n>\n> []\n{}",
        "%mock start --no-dashboard",
        LOAD,
        "threading.Thread(target=hammer, daemon=True).start()\nwhile not done.is_set():\n    time.sleep(0.05)",
        "%mock status",
        "%mock status",
        IN_FLIGHT,
        "%mock stop",
        "for sock in flying:\n    sock.close()",
    ]
    out = [cell_text(cell) for cell in run_in_kernel(cells, tmp_path).cells]

    assert out[6] == "", f"the sleeping cell got output: {out[6][:500]}"
    assert "postmock: the mock server reported 40 new errors (latest: RuntimeError: boom in the app)" in out[7]
    assert "Traceback" not in out[7] and len(out[7].splitlines()) <= 10
    assert "40 errors" in out[7]
    assert "new error" not in out[8], "each error is summarised once"
    assert out[10] == "Mock stopped.\n", f"%mock stop printed more than its line: {out[10][:500]}"
    assert all("Traceback" not in text for text in out)


LEAVE_MID_TRICKLE = r'''
import socket, time
from postmock_nb.notebook.magics import session_of
with socket.create_connection(("127.0.0.1", int(mockUrl.rsplit(":", 1)[1])), timeout=10) as sock:
    sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nx-mock-response-fault: slow\r\n\r\n")
    assert sock.recv(64).startswith(b"HTTP/1.1 200")
log = session_of(get_ipython()).server.log
deadline = time.monotonic() + 10
while "left" not in log.recent(1)[0].note and time.monotonic() < deadline:
    time.sleep(0.05)  # polling the log: the cell stays running, as a person's would
'''


def test_a_client_leaving_a_slow_answer_prints_nothing_in_the_cell(tmp_path) -> None:
    """Issue 19: Hypercorn printed ``socket.send() raised exception.`` into the running cell for every chunk the
    slow fault wrote after the client left; the trickle now stops at ``http.disconnect``."""
    cells = [
        "%load_ext postmock_nb",
        "%%example GET /big 200\n" + "x" * 20_000,
        "%mock start --no-dashboard",
        LEAVE_MID_TRICKLE,
        "print(log.recent(1)[0].note)",
        "%mock stop",
    ]
    out = [cell_text(cell) for cell in run_in_kernel(cells, tmp_path).cells]
    assert out[3] == "", f"the running cell got output: {out[3][:500]}"
    assert out[4].startswith("fault slow: the client left after ") and out[4].endswith(" of 20000 bytes\n"), out[4]
    assert out[5] == "Mock stopped.\n", out[5][:500]
