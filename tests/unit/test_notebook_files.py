"""The committed notebooks are clean sources: what a person opens, and what git diffs well.

Each ``notebooks/*.ipynb`` is nbformat 4.5 with a python3 kernelspec and the full
``language_info`` a Python kernel reports (with less, JupyterLab fills it in as soon as a kernel
starts and marks the notebook modified before anything ran); every cell has an id
of its own (``%%example`` tells cells apart by their ids, as JupyterLab sends them, and a
review diff stays readable when they do not change); no code cell carries outputs or an
execution count; and notebooks 05 and 10 read their pages from ``notebooks/data/team-directory.html``
and ``team-chat.html`` instead of holding a copy. What a notebook writes (``%%writefile``, ``%mock save``, files it
makes) goes into ``notebooks/out/``, which git ignores. To clean a notebook after running it:
``jupyter nbconvert --clear-output --inplace notebooks/NAME.ipynb``.

The checks are one function, ``notebook_problems``, run on every committed notebook and, to
show that it catches what it should, on notebooks spoiled on purpose. Fast: no kernel.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.validator import get_validator

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
PAGE = NOTEBOOK_DIR / "data" / "team-directory.html"
PAGES = [PAGE, NOTEBOOK_DIR / "data" / "team-chat.html"]  # notebook 05's and notebook 10's
MOCK_LIFECYCLE = re.compile(r"^\s*%mock\s+(start|stop)\b", re.MULTILINE)
LANGUAGE_INFO_KEYS = {"codemirror_mode", "file_extension", "mimetype", "name", "nbconvert_exporter",
                      "pygments_lexer", "version"}
"""What ipykernel's kernel_info reply puts in ``language_info`` (JupyterLab copies it into the notebook)."""
OUT = "out/"
"""Where the notebooks write what they make (ignored by git: see .gitignore)."""
WRITES = [  # the ways the notebooks write a file, each capturing the file's path
    re.compile(r"^%%writefile\s+(?:-a\s+)?(\S+)", re.MULTILINE),
    re.compile(r"^%mock\s+save\s+(?!--)(\S+)", re.MULTILINE),
    re.compile(r"--environment\s+(\S+)"),
    re.compile(r"""Path\(\s*["']([^"']+)["']\s*\)\.write_(?:text|bytes)"""),
    re.compile(r"""open\(\s*["']([^"']+)["']\s*,\s*["'][wax]"""),
    re.compile(r"""["']--reporter-\w+-export["']\s*,\s*["']([^"']+)["']"""),
]


def page_lines(page: Path = PAGE) -> list[str]:
    """The page's lines long enough to be its own (a copy of any of them is a copy of the page)."""
    return [line.strip() for line in page.read_text(encoding="utf-8").splitlines() if len(line.strip()) >= 40]


def notebook_problems(raw: dict[str, Any], name: str) -> list[str]:
    """Everything wrong with a notebook's JSON as committed; [] when it is clean."""
    problems = []
    if (raw.get("nbformat"), raw.get("nbformat_minor")) != (4, 5):
        problems.append(f"{name}: nbformat {raw.get('nbformat')}.{raw.get('nbformat_minor')}, expected 4.5 "
                        f"(the version with cell ids)")
    # the schema itself: nbformat.validate() would quietly repair missing and duplicate ids
    schema = get_validator(version=raw.get("nbformat", 4), version_minor=raw.get("nbformat_minor", 5))
    invalid = sorted(schema.iter_errors(raw), key=lambda e: list(e.path))
    if invalid:
        problems.append(f"{name}: not a valid notebook: {invalid[0].message}")
    kernelspec = raw.get("metadata", {}).get("kernelspec", {})
    if kernelspec.get("name") != "python3" or kernelspec.get("language") != "python":
        problems.append(f"{name}: metadata.kernelspec should name the python3 kernel, is {kernelspec}")
    language_info = raw.get("metadata", {}).get("language_info", {})
    if not LANGUAGE_INFO_KEYS <= set(language_info) or language_info.get("name") != "python":
        problems.append(f"{name}: metadata.language_info should be the Python kernel's whole language_info "
                        f"(lacks {sorted(LANGUAGE_INFO_KEYS - set(language_info))}): JupyterLab fills it in when a "
                        f"kernel starts, and marks the notebook modified")
    if "widgets" in raw.get("metadata", {}):
        problems.append(f"{name}: saved widget state in metadata.widgets (an output; delete that key)")
    seen: dict[str, int] = {}
    pages = {page.name: page_lines(page) for page in PAGES}
    last_lifecycle = None
    for index, cell in enumerate(raw.get("cells", [])):
        where = f"{name}, cell {index} ({cell.get('id', 'no id')})"
        cell_id = cell.get("id")
        if not cell_id:
            problems.append(f"{where}: no cell id")
        elif cell_id in seen:
            problems.append(f"{where}: id {cell_id!r} is also cell {seen[cell_id]}'s")
        else:
            seen[cell_id] = index
        source = "".join(cell.get("source", []))
        if cell.get("cell_type") == "code":
            if cell.get("outputs"):
                problems.append(f"{where}: outputs are committed")
            if cell.get("execution_count") is not None:
                problems.append(f"{where}: execution_count {cell['execution_count']} is committed")
            if "execution" in cell.get("metadata", {}):
                problems.append(f"{where}: run timings are committed (metadata.execution)")
            for match in MOCK_LIFECYCLE.finditer(source):
                last_lifecycle = match.group(1)
            for pattern in WRITES:
                for target in pattern.findall(source):
                    if not target.startswith(OUT):
                        problems.append(f"{where}: writes {target!r} beside the notebooks; write it into {OUT} "
                                        f"(git ignores notebooks/{OUT})")
        for page_name, lines in pages.items():
            copied = [line for line in lines if line in source]
            if copied:
                problems.append(f"{where}: holds a copy of data/{page_name} ({copied[0][:60]!r}…); "
                                f"read the file instead")
    if last_lifecycle == "stop":
        problems.append(f"{name}: its last mock command is %mock stop, so after Run All the mock is stopped "
                        f"(the dashboard says Stopped, a page's fetches fail); leave it running and say how to stop it")
    return problems


def test_there_are_notebooks_and_the_pages() -> None:
    assert [p.name for p in NOTEBOOKS][:1] == ["01-quickstart.ipynb"], NOTEBOOKS
    assert len(NOTEBOOKS) >= 6 and all(len(page_lines(page)) > 20 for page in PAGES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_clean(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert notebook_problems(raw, path.name) == []
    first = raw["cells"][0]
    assert first["cell_type"] == "markdown" and "".join(first["source"]).startswith("# "), \
        f"{path.name} should open with a title"


def test_what_the_notebooks_write_goes_into_one_ignored_folder() -> None:
    writes = [target for path in NOTEBOOKS for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
              if cell["cell_type"] == "code" for pattern in WRITES for target in pattern.findall("".join(cell["source"]))]
    assert len(writes) >= 6 and all(w.startswith(OUT) for w in writes), writes  # 04's and 09's files, at least
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert f"notebooks/{OUT}" in ignored, "notebooks/out/ should be in .gitignore"


def test_notebook_06_answers_ids_of_one_type() -> None:
    """GET answers ``"id": 1``; PUT and PATCH must not answer ``"id": "2"`` (a quoted ``{{id}}``)."""
    nb = nbformat.read(NOTEBOOK_DIR / "06-rest-for-beginners.ipynb", as_version=4)
    examples = [c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith("%%example")]
    assert any('"id": {{id}}' in source for source in examples), examples
    assert not [source for source in examples if '"{{id}}"' in source], "an id answered as a string"


@pytest.mark.parametrize(("notebook", "page"), [("05-frontend-demo.ipynb", "team-directory.html"),
                                              ("10-realtime.ipynb", "team-chat.html")])
def test_a_notebook_reads_its_page_from_the_data_file(notebook: str, page: str) -> None:
    nb = nbformat.read(NOTEBOOK_DIR / notebook, as_version=4)
    readers = [c for c in nb.cells if c.cell_type == "code" and f"data/{page}" in c.source]
    assert len(readers) == 1, f"one cell should read data/{page}"


# -- the checks catch what they should ----------------------------------------------------------


@pytest.fixture
def clean() -> dict[str, Any]:
    return json.loads((NOTEBOOK_DIR / "05-frontend-demo.ipynb").read_text(encoding="utf-8"))


def _code_cells(raw: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in raw["cells"] if c["cell_type"] == "code"]


def test_outputs_counts_timings_and_widget_state_are_caught(clean: dict[str, Any]) -> None:
    cell = _code_cells(clean)[0]
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
    cell["execution_count"] = 3
    cell["metadata"]["execution"] = {"iopub.status.idle": "2025-01-01T00:00:00Z"}
    clean["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    problems = notebook_problems(clean, "nb")
    assert "nb: saved widget state in metadata.widgets (an output; delete that key)" in problems, problems
    assert any(p.endswith("run timings are committed (metadata.execution)") for p in problems), problems
    assert any(p.endswith(f"({cell['id']}): outputs are committed") for p in problems), problems
    assert any(p.endswith("execution_count 3 is committed") for p in problems), problems


def test_a_short_language_info_and_a_write_beside_the_notebooks_are_caught(clean: dict[str, Any]) -> None:
    clean["metadata"]["language_info"] = {"name": "python"}
    cell = _code_cells(clean)[0]
    cell["source"] = ["%%writefile petstore.yaml\n", "openapi: 3.0.3"]
    _code_cells(clean)[1]["source"] = ["%mock save --environment mock.postman_environment.json"]
    problems = notebook_problems(clean, "nb")
    assert any(p.startswith("nb: metadata.language_info should be the Python kernel's whole language_info")
               for p in problems), problems
    assert any(p.endswith("writes 'petstore.yaml' beside the notebooks; write it into out/ (git ignores "
                          "notebooks/out/)") for p in problems), problems
    assert any("writes 'mock.postman_environment.json'" in p for p in problems), problems


def test_missing_and_duplicate_ids_are_caught(clean: dict[str, Any]) -> None:
    first, second = clean["cells"][0], clean["cells"][1]
    del first["id"]
    second["id"] = clean["cells"][2]["id"]
    problems = notebook_problems(clean, "nb")
    assert "nb, cell 0 (no id): no cell id" in problems, problems
    assert f"nb, cell 2 ({second['id']}): id {second['id']!r} is also cell 1's" in problems, problems


def test_an_old_format_without_ids_is_caught(clean: dict[str, Any]) -> None:
    clean["nbformat_minor"] = 4
    for cell in clean["cells"]:
        del cell["id"]
    problems = notebook_problems(clean, "nb")
    assert problems[0] == "nb: nbformat 4.4, expected 4.5 (the version with cell ids)", problems


def test_a_copy_of_the_page_is_caught(clean: dict[str, Any]) -> None:
    cell = next(c for c in _code_cells(clean) if "team-directory.html" in "".join(c["source"]))
    cell["source"] = f"from IPython.display import HTML\nHTML('''{PAGE.read_text(encoding='utf-8')}''')"
    problems = notebook_problems(clean, "nb")
    assert any(f"({cell['id']}): holds a copy of data/team-directory.html" in p for p in problems), problems


def test_ending_with_the_mock_stopped_is_caught(clean: dict[str, Any]) -> None:
    clean["cells"].append({"cell_type": "code", "id": "stop", "metadata": {}, "execution_count": None,
                           "outputs": [], "source": ["%mock stop"]})
    problems = notebook_problems(clean, "nb")
    assert problems and problems[-1].startswith("nb: its last mock command is %mock stop"), problems
    # a stop followed by a start (03's restarts) is fine
    clean["cells"].append({**clean["cells"][-1], "id": "again", "source": ["%mock start --no-dashboard"]})
    assert notebook_problems(clean, "nb") == []
