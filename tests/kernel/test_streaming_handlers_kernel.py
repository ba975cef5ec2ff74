"""A streaming handler (a generator of ``postmock_nb.Event``) defined in a cell of a real kernel (nbclient): its
events reach an SSE client, a client leaving closes it quietly (no cell output, no error), and the log notes it."""

from __future__ import annotations

from support.notebook_cells import cell_text, error_outputs, run_in_kernel


def test_a_generator_handler_streams_from_a_kernel(tmp_path) -> None:
    nb = run_in_kernel([
        "%load_ext postmock_nb\nimport httpx\nfrom postmock_nb import Event",
        "import threading\nclosed, both = [], threading.Event()\n"
        "@mock.handler('GET /chat/stream')\ndef chat(request):\n"
        "    try:\n"
        "        for n, word in enumerate(['Hel', 'lo', 'there']):\n"
        "            yield Event({'token': word}, event='token', id=str(n))\n"
        "    finally:\n"
        "        closed.append(request.last_event_id)\n"
        "        if len(closed) == 2:\n"
        "            both.set()",
        "%mock start --no-dashboard",
        "from httpx_sse import connect_sse\n"
        "with httpx.Client(timeout=10) as c, connect_sse(c, 'GET', f'{mockUrl}/chat/stream',"
        " headers={'Last-Event-ID': '7'}) as s:\n"
        "    print([(e.event, e.id, e.json()['token']) for e in s.iter_sse()])",
        "with httpx.Client(timeout=10) as c, c.stream('GET', f'{mockUrl}/chat/stream') as r:\n"
        "    first = next(r.iter_raw())\n"
        "print(both.wait(10), closed)",
        "%mock log",
        "%mock stop",
    ], tmp_path, timeout=60)
    outputs = [cell_text(cell) for cell in nb.cells]
    for cell in nb.cells:
        assert not error_outputs(cell), cell.source
    assert outputs[3].strip() == "[('token', '0', 'Hel'), ('token', '1', 'lo'), ('token', '2', 'there')]"
    assert outputs[4].strip() == "True ['7', None]"
    assert "handler chat streamed 3 items (sse)" in outputs[5]
