"""``%mock start --tls`` in a real kernel: mockUrl is https, ``requests`` in the notebook trusts the mock while it
runs (and ``%mock call`` reaches it), ``%mock status`` says so; ``%mock stop`` puts REQUESTS_CA_BUNDLE back."""

from __future__ import annotations

import re

import pytest
from support.notebook_cells import cell_text, run_in_kernel

pytest.importorskip("trustme", reason="the team extra: pip install -e '.[team]'")


def test_mock_start_tls_makes_requests_in_the_notebook_trust_it(tmp_path) -> None:
    cells = [
        "%load_ext postmock_nb",
        '%%example GET /users 200\nContent-Type: application/json\n\n[{"id": 1}]',
        "import os\nbefore = os.environ.get('REQUESTS_CA_BUNDLE')\nprint(before)",
        "%mock start --tls --no-dashboard",
        "import requests\nr = requests.get(f'{mockUrl}/users')\nprint(mockUrl, r.status_code, r.json())\n"
        "print(os.environ['REQUESTS_CA_BUNDLE'] != before)",
        "%mock call GET /users",
        "%mock status",
        "%mock stop",
        "print(os.environ.get('REQUESTS_CA_BUNDLE') == before)",
    ]
    out = [cell_text(cell) for cell in run_in_kernel(cells, tmp_path).cells]
    started = re.search(r"^Mock running at (https://127\.0\.0\.1:\d+)  \(1 example\)$", out[3], re.M)
    assert started, out[3]
    url = started.group(1)
    ca = re.search(r"^HTTPS with a certificate for localhost, 127\.0\.0\.1, ::1 made for this run; its CA file: "
                   r"(/\S+/ca\.pem)$", out[3], re.M)
    assert ca, out[3]
    assert "`requests` in this notebook trusts it while the mock runs (REQUESTS_CA_BUNDLE)" in out[3]
    assert out[4] == f"{url} 200 [{{'id': 1}}]\nTrue\n"
    assert out[5].startswith('200 OK  ← example "GET /users 200"\n'), out[5]
    assert out[6].startswith(f"Running at {url}\nHTTPS with a certificate for localhost"), out[6]
    assert out[7] == "Mock stopped.\n"
    assert out[8] == "True\n", "REQUESTS_CA_BUNDLE is back as it was"
