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
