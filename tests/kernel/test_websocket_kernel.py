"""``%%websocket`` through the magics in a real kernel (nbclient): a conversation with a real client, the
connection in ``%mock log``, save and load, a script line that cannot be read, and a script matched on the
upgrade's header that closes with 1008 after its own ``--timeout``."""

from __future__ import annotations

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
