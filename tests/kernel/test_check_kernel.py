"""``%mock check URL`` in a real kernel: the notebook's examples checked against a real API on 127.0.0.1
(tests/support/drift_upstream.py, in the test's process), shown as an HTML table with a row per difference."""

from __future__ import annotations

import html
import re
from pathlib import Path
from xml.etree import ElementTree

from support.drift_upstream import QUERY_SECRET, TOKEN, upstream, write_sketch
from support.notebook_cells import cell_text, run_in_kernel


def _rows(table: str) -> list[list[str]]:
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table) if "<td" in row]


def test_mock_check_shows_each_difference_in_a_table(tmp_path: Path) -> None:
    collection, environment = write_sketch(tmp_path)
    with upstream(drifting=True) as api:
        nb = run_in_kernel([
            "%load_ext postmock_nb",
            f"%mock load {collection}",
            f"%mock environment {environment}",
            '%%example GET /extra 200\n{"id": 1}',
            f'%mock check {api.url} --header "Authorization: Bearer {TOKEN}" --timeout 1 --junit check.xml',
            f"%mock check {api.url.replace('//', '//ann:NBPASSWORD@')} --timeout 1",  # shown as ann:***@
            "try:\n    get_ipython().run_line_magic('mock', 'check notaurl')\n"  # its message: the magic's syntax
            "except Exception as error:\n    print(type(error).__name__, error)",
        ], tmp_path)
    cell = nb.cells[4]
    [result] = [o for o in cell.outputs if o.output_type == "execute_result"]
    table = result["data"]["text/html"]
    rows = _rows(table)
    assert [r[:2] for r in rows if r[0]] == [
        ["GET /users/7", "drift"], ["GET /products/1", "drift"], ["GET /products/2", "ok"], ["GET /orders", "drift"],
        ["GET /profile", "ok"], ["GET /slow", "error"], [f"GET /health?token={QUERY_SECRET[:4]}…", "ok"],
        ["POST /products", "skipped"], ["GET /extra", "drift"]]
    differences = [r[1:] for r in rows if not r[0]]
    assert differences == [
        ["", "$.name", "missing (required)"], ["note", "$.full_name", "unexpected field (not in the schema)"],
        ["", "$.price", "expected number, got string"], ["", "status", "expected 200, got 500"],
        ["note", "$.beta", "unexpected field (not in the schema)"], ["", "status", "expected 200, got 404"]]
    assert "9 requests checked against" in table and "4 drift, 1 error, 1 skipped" in table
    assert "font-weight:600" in table  # drift and errors stand out
    text = cell_text(cell)
    assert "JUnit XML written to" in text and "drift    GET /users/7" in text
    suite = ElementTree.parse(tmp_path / "check.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "4"
    assert cell_text(nb.cells[6]).strip() == (
        "UsageError %mock check 'notaurl' is not an http(s) URL\nHint: %mock check https://api.example.com")
    [with_password] = [o for o in nb.cells[5].outputs if o.output_type == "execute_result"]
    assert "checked against http://ann:***@127.0.0.1:" in with_password["data"]["text/html"]
    everything = str([c.outputs for c in nb.cells]) + (tmp_path / "check.xml").read_text()
    assert TOKEN not in everything and QUERY_SECRET not in everything and "NBPASSWORD" not in everything
