"""``%%example --sse`` through the magics in a real kernel (nbclient): the stream, save and load, and an
option error."""

from __future__ import annotations

from support.notebook_cells import cell_text, error_outputs, run_in_kernel

READ = ("from httpx_sse import connect_sse\n"
        "with httpx.Client(timeout=10) as c, connect_sse(c, 'GET', f'{mockUrl}/chat/stream') as s:\n"
        "    print([(e.event, e.id, e.data) for e in s.iter_sse()])")


def test_an_sse_example_streams_in_a_kernel_and_survives_save_and_load(tmp_path) -> None:
    saved = tmp_path / "sse.json"
    nb = run_in_kernel([
        "%load_ext postmock_nb\nimport httpx",
        "%%example GET /chat/stream 200 --sse --interval 20\nevent: token\nid: 1\ndata: Hel\n\n"
        "event: token\nid: 2\ndata: lo\n\nevent: done\nid: 3\ndata: [DONE]",
        "%mock start --no-dashboard", READ, "%mock log",
        f"%mock save {saved}", "%mock stop", "%mock clear", f"%mock load {saved}", "%mock start --no-dashboard", READ,
        "try:\n    get_ipython().run_cell_magic('example', 'GET /x --interval 5', 'hi')\n"
        "except Exception as error:\n    print(error)",
    ], tmp_path, timeout=60)
    outputs = [cell_text(cell) for cell in nb.cells]
    for cell in nb.cells:
        assert not error_outputs(cell), cell.source
    events = "[('token', '1', 'Hel'), ('token', '2', 'lo'), ('done', '3', '[DONE]')]"
    assert outputs[3].strip() == events and outputs[-2].strip() == events
    assert "sse: 3 of 3 events sent" in outputs[4]
    assert "--interval needs --sse" in outputs[-1]
