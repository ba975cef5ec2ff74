"""``%%websocket`` through the magics in a real kernel (nbclient): a conversation with a real client, the
connection in ``%mock log``, save and load, a script line that cannot be read, and a script matched on the
upgrade's header that closes with 1008 after its own ``--timeout``; the dashboard (its widgets read in the kernel)
showing a connection open, its detail following the transcript, then closed."""

from __future__ import annotations

import json
import re

from support.notebook_cells import cell_text, error_outputs, run_in_kernel

TALK = ("from websockets.sync.client import connect\n"
        "with connect(mockUrl.replace('http', 'ws', 1) + '/ws/prices/ACME', open_timeout=10) as s:\n"
        "    s.send('{\"subscribe\": \"ACME\", \"depth\": 3}')\n"
        "    print([s.recv(timeout=10) for _ in range(2)])")


QUICK = ("from websockets.exceptions import ConnectionClosed\n"
         "with connect(mockUrl.replace('http', 'ws', 1) + '/ws/quick', additional_headers={'X-Team': 'a'},\n"
         "             open_timeout=10) as s:\n"
         "    try:\n        s.recv(timeout=10)\n"
         "    except ConnectionClosed as closed:\n        print(closed.rcvd.code, closed.rcvd.reason)")


def test_a_websocket_script_plays_in_a_kernel_and_survives_save_and_load(tmp_path) -> None:
    saved = tmp_path / "ws.json"
    nb = run_in_kernel([
        "%load_ext postmock_nb",
        "%%websocket /ws/prices/:symbol --interval 10\n"
        '> {"subscribe": "{{symbol}}", "depth": "{{$any}}"}\n< {"price": 1}\n< {"price": 2}',
        "%mock start --no-dashboard", TALK, "%mock log",
        f"%mock save {saved}", "%mock stop", "%mock clear", f"%mock load {saved}", "%mock start --no-dashboard", TALK,
        "try:\n    get_ipython().run_cell_magic('websocket', '/ws/x', 'hello')\n"
        "except Exception as error:\n    print(error)",
        '%%websocket /ws/quick --timeout 0.5 -R "X-Team: a"\n> ready\n< go', QUICK,
    ], tmp_path, timeout=60)
    outputs = [cell_text(cell) for cell in nb.cells]
    for cell in nb.cells:
        assert not error_outputs(cell), cell.source
    assert 'Defined WebSocket conversation "WS /ws/prices/:symbol"' in outputs[1]
    got = """['{"price": 1}', '{"price": 2}']"""
    assert outputs[3].strip() == got and outputs[-4].strip() == got
    assert "WebSocket" in outputs[4] and "/ws/prices/ACME" in outputs[4]  # open, or closed by then
    assert "neither '< MESSAGE' nor '> MESSAGE'" in outputs[-3]
    assert outputs[-2].startswith('Defined WebSocket conversation "WS /ws/quick"')
    assert outputs[-1].strip() == "1008 expected ready: nothing came"  # after --timeout 0.5 s, not 10


WATCH = """\
import html, json, time
from websockets.sync.client import connect
from postmock_nb.notebook.magics import session_of
dash = session_of(get_ipython()).dashboards[-1]

def until(check, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not check():  # the dashboard refreshes on the server's thread, throttled: wait for what it shows
        assert time.monotonic() < deadline, f"the dashboard never showed {what}"
        time.sleep(0.01)

seen = {}
with connect(mockUrl.replace('http', 'ws', 1) + '/ws/room', open_timeout=10) as socket:
    socket.send('join')
    seen['got'] = socket.recv(timeout=10)
    # a refresh draws the table, then the Details labels, then the picked row's detail: wait on the last drawn
    until(lambda: dash.log.options and 'WebSocket open: 1 sent, 1 received' in dash.log.options[0][0], 'the open row')
    seen['open_table'] = dash.table.value
    seen['open_status'] = dash.status.value
    seen['open_label'], seq = dash.log.options[0]
    dash.log.value = seq  # picked under Details, as a person would
    socket.send('still here')
    until(lambda: '&gt; still here' in dash.detail.value, 'the detail following the connection')
    seen['open_detail'] = html.unescape(dash.detail.value)
until(lambda: '-- WebSocket:' in html.unescape(dash.detail.value), 'the whole transcript')
seen['closed_label'] = dash.log.options[0][0]
seen['closed_detail'] = html.unescape(dash.detail.value)
seen['closed_status'] = dash.status.value
print(json.dumps(seen))
"""


def test_a_connection_shows_open_then_closed_in_the_dashboard_and_mock_log(tmp_path) -> None:
    """In a real kernel: the dashboard's widgets (read in the kernel) show a ``%%websocket`` connection open with
    its counts, its detail view following the transcript, then closed; ``%mock log`` and ``--detail`` show it."""
    nb = run_in_kernel([
        "%load_ext postmock_nb",
        "%%websocket /ws/room\n> join\n< welcome",
        "%mock start",
        WATCH,
        "%mock log",
        "%mock log --detail",
        "1 + 1",
        "%mock stop",
    ], tmp_path, timeout=90)
    for cell in nb.cells:
        assert not error_outputs(cell), (cell.source, cell_text(cell))
    seen = json.loads(cell_text(nb.cells[3]))
    assert seen["got"] == "welcome"
    assert "<tr class='pm-live'" in seen["open_table"] and "<td class='pm-num'>open</td>" in seen["open_table"]
    assert seen["open_label"].startswith("⇄ ") and "/ws/room  → 101  WS /ws/room · WebSocket open: 1 sent, 1 received" \
        in seen["open_label"] and seen["open_label"].endswith("(open)")
    assert "> join\n< welcome\n> still here\n" in seen["open_detail"] and "Upgrade request" in seen["open_detail"]
    assert "WebSocket: 1 sent, 2 received, closed " in seen["closed_label"] and " ms)" in seen["closed_label"]
    assert "⇄ 1 WebSocket connection open" in seen["open_status"]
    assert "WebSocket connection" not in seen["closed_status"] and "● Running" in seen["closed_status"]
    assert re.search(r"> still here\n-- WebSocket: 1 sent, 2 received, closed \d+ by the client", seen["closed_detail"])
    log, detail = cell_text(nb.cells[4]), cell_text(nb.cells[5])
    row = next(line for line in log.splitlines() if "/ws/room" in line)
    assert row.split()[1] == "⇄" and "WS /ws/room (WebSocket: 1 sent, 2 received, closed " in row
    assert detail.startswith("#1 ⇄ GET /ws/room → 101 · WS /ws/room · ")
    assert "Transcript (< sent, > received, ! near miss):\n  > join\n  < welcome\n  > still here\n  -- WebSocket" in detail
    # the server's refreshes printed nothing into cells: each shows only its own output
    assert len(cell_text(nb.cells[3]).splitlines()) == 1
    assert [(o["output_type"], o["data"]["text/plain"]) for o in nb.cells[6].outputs] == [("execute_result", "2")]


def test_a_socket_handler_and_a_broadcast_from_a_cell_in_a_kernel(tmp_path) -> None:
    nb = run_in_kernel([
        "%load_ext postmock_nb",
        "@mock.websocket('/ws/chat')\nasync def chat(socket):\n"
        "    await socket.send_json({'hello': socket.arg('nick')})\n"
        "    async for message in socket:\n        await socket.send('echo ' + message)",
        "%mock start --no-dashboard",
        "import contextlib\nfrom websockets.sync.client import connect\nstack = contextlib.ExitStack()\n"
        "client = stack.enter_context(connect(mockUrl.replace('http', 'ws', 1) + '/ws/chat?nick=ann', "
        "open_timeout=10))\n"
        "print(client.recv(timeout=10))\nclient.send('hi')\nprint(client.recv(timeout=10))",
        '%mock broadcast /ws/chat {"news": "lunch is ready"}',
        "print(client.recv(timeout=10))",
        "print(mock.broadcast('/ws/chat', {'n': 2}), client.recv(timeout=10))",
        "try:\n    get_ipython().run_line_magic('mock', 'broadcast /ws/nope hi')\n"
        "except Exception as error:\n    print(error)",
        "stack.close()\nimport time\n"
        "for _ in range(100):\n"
        "    if 'closed' in (mock.session.server.log.recent(1)[0].note or ''): break\n"
        "    time.sleep(0.05)",
        "%mock log -n 1",
    ], tmp_path, timeout=60)
    outputs = [cell_text(cell) for cell in nb.cells]
    for cell in nb.cells:
        assert not error_outputs(cell), cell.source
    assert outputs[3].splitlines() == ['{"hello": "ann"}', "echo hi"]
    assert outputs[4].strip() == "sent to 1 connection of /ws/chat"
    assert outputs[5].strip() == '{"news": "lunch is ready"}'
    assert outputs[6].strip() == '1 {"n": 2}'
    assert "no WebSocket route '/ws/nope' (routes: /ws/chat)" in outputs[7]
    assert "WebSocket: 4 sent, 1 received" in outputs[9]
