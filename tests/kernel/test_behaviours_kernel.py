"""Handlers and resources through the magics in a real kernel (nbclient), with the cell outputs checked."""

from __future__ import annotations

from support.notebook_cells import cell_text, run_in_kernel


def _run(cells: list[str], path) -> list[tuple[str, list]]:
    nb = run_in_kernel(cells, path, timeout=60)
    result = []
    for cell in nb.cells:
        result.append((cell_text(cell), [o for o in cell.outputs if o.output_type == "error"
                              or (o.output_type == "stream" and o.name == "stderr")]))
    return result


def test_handlers_and_resources_in_a_kernel_survive_export(tmp_path) -> None:
    out = _run([
        "%load_ext postmock_nb\nimport requests",
        "%%resource users --id id\n[{\"id\": 1, \"name\": \"Alice\"}, {\"id\": 2, \"name\": \"Ben\"}]",
        "greeting = 'Hello'",
        "@mock.handler('GET /greet/:name')\ndef greet(request):\n"
        "    return {'text': f\"{greeting}, {request.path_vars['name']}\", 'users': len(users)}",
        "@mock.handler('GET /boom')\ndef boom(request):\n    raise ValueError('broken on purpose')\n\n"
        "@mock.handler('GET /slow', timeout=0.2)\nasync def slow(request):\n"
        "    import asyncio\n    await asyncio.sleep(3)\n\n"
        "@mock.handler('GET /wrong')\ndef wrong(request):\n    return 42",
        "%mock start --no-dashboard",
        "print(requests.get(f'{mockUrl}/greet/Ann').json())",
        "greeting = 'Bonjour'",  # a later cell changes the variable the handler reads
        "print(requests.get(f'{mockUrl}/greet/Ann').json())",
        "print([requests.get(f'{mockUrl}{p}').status_code for p in ('/boom', '/slow', '/wrong')])",
        "r = requests.post(f'{mockUrl}/users', json={'name': 'Chloe'})\nprint(r.status_code, r.json(), users[-1])",
        "users[0]['name'] = 'Alicia'\nprint(requests.get(f'{mockUrl}/users/1').json())",
        "%mock log -n 20",
        f"%mock save {tmp_path / 'proto.json'}",
        "%mock reset\nprint(len(users), requests.get(f'{mockUrl}/users').headers['x-total-count'])",
    ], tmp_path)
    texts = [t for t, _ in out]
    assert all(not errors for _, errors in out[:13]), [e for _, e in out if e]  # clean cells, even for /boom
    assert "Resource 'users': 2 records at /users" in texts[1]
    assert "{'text': 'Hello, Ann', 'users': 2}" in texts[6]
    assert "{'text': 'Bonjour, Ann', 'users': 2}" in texts[8]
    assert "[500, 504, 500]" in texts[9]
    assert "201 {'name': 'Chloe', 'id': 3} {'name': 'Chloe', 'id': 3}" in texts[10]
    assert "{'id': 1, 'name': 'Alicia'}" in texts[11]
    assert "handler boom" in texts[12] and "resource users create" in texts[12]
    assert "Saved" in texts[13] and any("cannot run in Postman" in e.get("text", "") for e in out[13][1])
    assert "2 2" in texts[14]

    fresh = _run([
        "%load_ext postmock_nb\nimport requests",
        f"%mock load {tmp_path / 'proto.json'}",
        "%mock start --no-dashboard",
        "print([u['name'] for u in requests.get(f'{mockUrl}/users').json()])\n"
        "print(requests.post(f'{mockUrl}/users', json={'name': 'Dan'}).json())\n"
        "print(requests.get(f'{mockUrl}/greet/Ann').json())",
    ], tmp_path)
    assert all(not errors for _, errors in fresh), [e for _, e in fresh if e]
    assert "Resource 'users': 3 records at /users" in fresh[1][0]
    assert "['Alicia', 'Ben', 'Chloe']" in fresh[3][0]
    assert "{'name': 'Dan', 'id': 4}" in fresh[3][0]
    assert "{'text': 'Bonjour, Ann', 'users': 2}" in fresh[3][0]  # the handler's most recent response, static


def test_a_loaded_resource_in_a_fresh_kernel_is_a_live_list(tmp_path) -> None:
    from support.saved_collections import deep_seed_collection

    made = _run([
        "%load_ext postmock_nb",
        "%%resource todos\n[{\"id\": 1, \"title\": \"write\"}, {\"id\": 2, \"title\": \"test\"}]",
        f"%mock save {tmp_path / 'todos.json'}",
    ], tmp_path)
    assert all(not errors for _, errors in made), [e for _, e in made if e]
    deep = deep_seed_collection(tmp_path)
    out = _run([
        "%load_ext postmock_nb\nimport requests, json",
        f"%mock load {tmp_path / 'todos.json'}",
        "todos = mock.resource('todos')\nprint(len(todos), isinstance(todos, list), todos is mock.resources['todos'])",
        "%mock start --no-dashboard",
        "requests.post(f'{mockUrl}/todos', json={'title': 'ship'})\nprint(json.dumps(todos))",
        f"try:\n    get_ipython().run_line_magic('mock', 'load {deep}')\nexcept Exception as error:\n"
        "    print(type(error).__name__, '|', str(error).replace(chr(10), ' | '))",
    ], tmp_path)
    assert all(not errors for _, errors in out), [e for _, e in out if e]
    assert "mock.resources['todos']" in out[1][0]
    assert "2 True True" in out[2][0]
    assert ('[{"id": 1, "title": "write"}, {"id": 2, "title": "test"}, {"title": "ship", "id": 3}]'
            in out[4][0])
    refused = out[5][0]
    assert refused.startswith("UsageError | ") and "resource 'todos'" in refused and "| Hint:" in refused
    assert "Traceback" not in refused and refused.count("|") == 2


def test_handlers_that_exit_interrupt_or_block_in_a_kernel(tmp_path) -> None:
    """SystemExit/KeyboardInterrupt in def and async def handlers: a 500 naming it, the mock serves on,
    nothing printed into a cell, %mock stop frees the port; a blocking async def is named in %mock status."""
    handlers = "\n".join(
        f"@mock.handler('GET /{kind}/{name}')\n{'async ' if kind == 'async' else ''}def {kind}_{name}(request):\n"
        f"    raise {name}('bye')\n"
        for kind in ("sync", "async") for name in ("SystemExit", "KeyboardInterrupt"))
    out = _run([
        "%load_ext postmock_nb\nimport requests, socket, time",
        handlers + "\n@mock.handler('GET /ok')\ndef ok(request):\n    return {'ok': True}\n\n"
        "@mock.handler('GET /blocking')\nasync def blocking(request):\n    time.sleep(0.5)\n    return {'slept': True}",
        "%mock start --no-dashboard",
        "for path in ('/sync/SystemExit', '/sync/KeyboardInterrupt', '/async/SystemExit', '/async/KeyboardInterrupt'):\n"
        "    r = requests.get(mockUrl + path, timeout=10)\n"
        "    print(path, r.status_code, r.json()['error']['exception'], requests.get(mockUrl + '/ok', timeout=10).json())",
        "print(requests.get(mockUrl + '/blocking', timeout=10).json())",
        "%mock status",
        "%mock log -n 3",
        "port = int(mockUrl.rsplit(':', 1)[1])",
        "%mock stop",
        "try:\n    socket.create_connection(('127.0.0.1', port), timeout=5).close()\n    print('still listening')\n"
        "except ConnectionRefusedError:\n    print('port free')",
    ], tmp_path)
    texts = [t for t, _ in out]
    assert all(not errors for _, errors in out), [e for _, e in out if e]  # nothing on stderr, no error in any cell
    for kind in ("sync", "async"):
        for name in ("SystemExit", "KeyboardInterrupt"):
            assert f"/{kind}/{name} 500 {name} {{'ok': True}}" in texts[3]
    assert "Traceback" not in "".join(texts) and "Exception in thread" not in "".join(texts)
    assert "{'slept': True}" in texts[4]
    assert "Warning: async handler 'blocking' blocked the server's loop (1 call, longest" in texts[5]
    assert "blocking (handler blocking ran" in texts[6] and "waited" in texts[6]
    assert "Mock stopped." in texts[8] and "port free" in texts[9]
