"""``%mock verify`` in a real kernel: one line when verified, the verification's message in red (a UsageError,
no traceback) when not."""

from __future__ import annotations

from typing import Any

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from support.notebook_cells import cell_text, error_outputs


def _run(cells: list[str], folder: Any) -> Any:
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def test_mock_verify_passes_and_fails_in_a_kernel(tmp_path) -> None:
    nb = _run([
        "%load_ext postmock_nb",
        '%%example POST /users 201 --name "Create user"\n{"id": 1}',
        "%mock start --no-dashboard",
        "import requests\n"
        "requests.post(mockUrl + '/users?page=2', json={'name': 'Ann'}, headers={'x-role': 'admin'}, timeout=5)\n"
        "requests.post(mockUrl + '/users', json={'name': 'Bob'}, timeout=5)\n"
        "print('sent')",
        """%mock verify POST /users --times 1 --json '{"name": "Ann"}' --header x-role:admin --query page=2""",
        "%mock verify POST /users --at-least 1 --at-most 2",
        """%mock verify POST /users --times 1 --json '{"name": "Cy"}'""",
        "%mock verify POST /users --times 1 --at-least 1",
        "%mock verify POST /users --json '{oops'",
    ], tmp_path)
    out = [cell_text(cell) for cell in nb.cells]
    red = ["".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
           for cell in nb.cells]
    assert not any(red[:6]) and "error" not in str([cell.outputs for cell in nb.cells[:6]]), red[:6]
    assert out[4].strip() == ("Verified: POST /users?page=2 was received 1 time (expected exactly 1 time; "
                              "2 requests checked).")
    assert out[5].strip() == ("Verified: POST /users was received 2 times (expected between 1 and 2 times; "
                              "2 requests checked).")

    failed = red[6]  # IPython shows a UsageError as red text on stderr: the message, no traceback
    assert "Traceback" not in failed and not error_outputs(nb.cells[6])
    lines = failed.splitlines()
    assert lines[0] == "UsageError: Expected POST /users to be received exactly 1 time, but it was received 0 times."
    assert "Checked the 2 requests the journal holds (it keeps the last 1000); 0 matched." in lines
    assert lines.index("1. #2 POST /users → 201 — 1 difference") < lines.index(
        "2. #1 POST /users?page=2 → 201 — 1 difference")
    assert any(line.split(" | ")[0].strip() == 'body $.name: "Bob"' and line.endswith('expected "Cy", got "Bob"')
               for line in lines)

    assert red[7].startswith("UsageError: give times, or at_least and/or at_most, not both")
    assert red[8].startswith("UsageError: %mock verify: --json is not JSON") and "Hint:" in red[8]
