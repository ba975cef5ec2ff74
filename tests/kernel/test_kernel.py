"""End to end through a real Jupyter kernel (nbclient): the way a person uses the extension."""

from __future__ import annotations

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from support.notebook_cells import cell_text


def test_private_mock_lifecycle_in_a_kernel(tmp_path) -> None:
    cells = [
        "%load_ext postmock_nb",
        '%%example GET /users 200 --name "List users"\nX-Total-Count: 2\n\n'
        '[{"id": 1, "name": "Alice Park"}, {"id": 2, "name": "Ben Carter"}]',
        '%%example GET /users/:id 404 --name "User not found"\n{"error": "User not found"}',
        "%mock start --private --no-dashboard",
        "key = %mock key\nprint(key[:5])",
        "import requests\n"
        'ok = requests.get(f"{mockUrl}/users", headers={"x-api-key": key}, timeout=5)\n'
        'print(ok.status_code, ok.headers["X-Total-Count"], [u["name"] for u in ok.json()])\n'
        'print("without key:", requests.get(f"{mockUrl}/users", timeout=5).status_code)\n'
        'nf = requests.get(f"{mockUrl}/users/9", headers={"x-api-key": key, "x-mock-response-code": "404"}, timeout=5)\n'
        'print(nf.status_code, nf.json())',
        # the person edits the first example and re-runs its cell
        '%%example GET /users 200 --name "List users"\nX-Total-Count: 3\n\n'
        '[{"id": 1, "name": "Alice Park"}, {"id": 2, "name": "Ben Carter"}, {"id": 3, "name": "Chloe Diaz"}]',
        'again = requests.get(f"{mockUrl}/users", headers={"x-api-key": key}, timeout=5)\n'
        'print(again.status_code, again.headers["X-Total-Count"], len(again.json()))\n'
        "%mock list",
        "url = mockUrl\n%mock stop",
        "try:\n    requests.get(url + '/users', timeout=2)\n    print('still serving')\n"
        "except requests.ConnectionError:\n    print('port released')",
        "import threading\nprint(sorted(t.name for t in threading.enumerate() if t.name.startswith('postmock')))",
    ]
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    out = [cell_text(cell) for cell in nb.cells]

    assert 'Defined example "List users"' in out[1]
    assert "Mock running at http://127.0.0.1:" in out[3] and "Private: send the header x-api-key: PMAK-" in out[3]
    assert out[4].strip() == "PMAK-"
    assert "200 2 ['Alice Park', 'Ben Carter']" in out[5]
    assert "without key: 401" in out[5]
    assert "404 {'error': 'User not found'}" in out[5]
    assert 'Updated example "List users"' in out[6]
    assert "200 3 3" in out[7] and "List users" in out[7] and "User not found" in out[7]
    assert "Mock stopped." in out[8]
    assert "port released" in out[9]
    assert out[10].strip() == "[]", f"server threads left behind: {out[10]}"
    assert all(output.output_type != "error" for cell in nb.cells for output in cell.outputs)


def _run(cells: list[str], tmp_path) -> list[str]:
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return [cell_text(cell) for cell in nb.cells]


PROBE = (
    "import json, requests\n"
    "calls = [('GET', '/users', {}), ('GET', '/users?role=admin', {}), ('GET', '/users/7', {}),\n"
    "         ('GET', '/users/7', {'x-mock-response-code': '404'}), ('POST', '/users', {'Content-Type': 'application/json'}),\n"
    "         ('GET', '/nothing', {})]\n"
    "seen = []\n"
    "for method, path, headers in calls:\n"
    "    r = requests.request(method, mockUrl + path, headers=headers, data='{\"name\": \"Alice\"}' if method == 'POST' else None, timeout=5)\n"
    "    seen.append([method, path, r.status_code, r.headers.get('x-mock-example-name'), r.headers.get('Content-Type'),\n"
    "                 r.text if r.status_code != 404 or r.headers.get('x-mock-example-name') else 'miss'])\n"
    "print('SEEN=' + json.dumps(seen))"
)


def test_examples_survive_export_and_import_into_a_fresh_kernel(tmp_path) -> None:
    defining = [
        "%load_ext postmock_nb",
        '%%example GET /users 200 --name "List users" --folder Users\nX-Total-Count: 2\n\n[{"id": 1}, {"id": 2}]',
        '%%example GET /users?role=admin 200 --name Admins --folder Users\n[{"id": 1, "role": "admin"}]',
        '%%example GET /users/:id 200 --name "Get user" --folder Users\n{"id": "{{id}}"}',
        '%%example GET /users/:id 404 --name "User not found" --folder Users\n{"error": "User not found"}',
        '%%example POST /users 201 --name Created\n> Content-Type: application/json\n>\n> {"name": "Alice"}\n'
        'Location: /users/3\n\n{"id": 3}',
        "%mock start --no-dashboard",
        PROBE,
        "%mock save exported.postman_collection.json",
    ]
    first = _run(defining, tmp_path)
    importing = ["%load_ext postmock_nb", "%mock load exported.postman_collection.json",
                 "%mock start --no-dashboard", PROBE]
    second = _run(importing, tmp_path)
    before = first[7].split("SEEN=")[1]
    after = second[3].split("SEEN=")[1]
    assert after == before, f"served differently after export → import:\n{before}\n{after}"
    assert '"Created"' in before and '"User not found"' in before and "miss" in before
    assert "added 5" in second[1].lower() or "5" in second[1], second[1]
