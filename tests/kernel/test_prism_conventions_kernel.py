"""``%mock start --dynamic --seed N`` in a real kernel (nbclient): an OpenAPI document loaded, each request answered
a fresh body from its schema (the same seed, the same bodies), ``Prefer: example=KEY`` picking an example by its key,
and ``--dynamic`` refused when no document is loaded."""

from __future__ import annotations

from pathlib import Path

from support.notebook_cells import cell_text, error_outputs, run_in_kernel
from support.openapi_documents import DATA

READ = ("import requests\n"
        "print([requests.get(f'{mockUrl}/pets/1', timeout=10).json()['name'] for _ in range(3)])\n"
        "print(requests.get(f'{mockUrl}/pets/1', headers={'Prefer': 'example=dog'}, timeout=10).json()['name'])")


def test_mock_start_dynamic_in_a_kernel(tmp_path: Path) -> None:
    nb = run_in_kernel([
        "%load_ext postmock_nb",
        "try:\n    get_ipython().run_line_magic('mock', 'start --no-dashboard --dynamic')\n"
        "except Exception as error:\n    print(error)",
        f"%mock load {DATA / 'local-prism-conventions.yaml'}",
        "%mock start --no-dashboard --dynamic --seed 3", READ, "%mock stop",
        "%mock start --no-dashboard --dynamic --seed 3", READ, "%mock log", "%mock stop",
        "%mock start --no-dashboard", READ,
    ], tmp_path, timeout=90)
    for cell in nb.cells:
        assert not error_outputs(cell), cell.source
    outputs = [cell_text(cell) for cell in nb.cells]
    assert "--dynamic needs an OpenAPI document, and none is loaded" in outputs[1]
    fresh, again, saved = outputs[4].splitlines(), outputs[7].splitlines(), outputs[11].splitlines()
    assert fresh == again and len(set(eval(fresh[0]))) == 3 and fresh[1] == "Spot"  # noqa: S307 - our own print
    assert saved == ["['Fluffy', 'Fluffy', 'Fluffy']", "Spot"]
    assert "dynamic: a fresh body from" in outputs[8]
