"""The public API is what the README teaches: ``postmock_nb.__all__`` is its table, and every import
the README and the notebooks show works."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

import postmock_nb

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FROM_IMPORT = re.compile(r"^\s*from\s+(postmock_nb[\w.]*)\s+import\s+(\([^)]*\)|[^\n#]+)", re.M)
DOTTED = re.compile(r"`(postmock_nb(?:\.\w+)+)(?:\([^`]*\))?`")


def section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading."""
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    after = re.search(r"^#{1,6} ", text[start:], re.M)
    return text[start: start + after.start()] if after else text[start:]


def documented_api() -> list[str]:
    """The names in the first column of the README's "The Python API" table, in order."""
    rows = [line for line in section(README.read_text(), "### The Python API").splitlines() if line.startswith("| `")]
    return [name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])]


def resolve(dotted: str) -> Any:
    """``postmock_nb.a.b.name``: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            value = getattr(value, attribute)
        return value
    raise ModuleNotFoundError(dotted)


def imports_in(text: str) -> list[tuple[str, str]]:
    """``(module, name)`` for each name of each ``from postmock_nb… import …`` in ``text``."""
    found = []
    for module, names in FROM_IMPORT.findall(text):
        for name in names.strip("()").replace("\n", " ").split(","):
            name = name.split(" as ")[0].strip()
            if name:
                found.append((module, name))
    return found


def notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")


def test_all_is_the_documented_list() -> None:
    documented = documented_api()
    assert len(documented) == len(set(documented)) == 25, documented
    assert postmock_nb.__all__ == documented


@pytest.mark.parametrize("name", postmock_nb.__all__)
def test_each_public_name_resolves(name: str) -> None:
    value = getattr(postmock_nb, name)
    assert value is not None
    assert getattr(value, "__name__", name) == name
    assert name in dir(postmock_nb)


def test_the_old_names_are_gone_from_the_top() -> None:
    for name in ("MatchSettings", "IncomingRequest", "MatchResult", "match", "Snapshot", "LiveCollection",
                 "to_postman", "Prototype"):
        assert name not in postmock_nb.__all__
        with pytest.raises(AttributeError, match=f"no attribute '{name}'"):
            getattr(postmock_nb, name)
    assert not hasattr(importlib.import_module("postmock_nb.matching"), "MatchSettings")


def test_the_engine_names_resolve_from_matching() -> None:
    matching = importlib.import_module("postmock_nb.matching")
    assert {"IncomingRequest", "MatchResult", "match", "explain", "near_misses", "Candidate", "Check"} <= set(
        matching.__all__)
    for name in matching.__all__:
        assert getattr(matching, name) is not None


README_IMPORTS = sorted(set(imports_in(README.read_text())))
NOTEBOOK_IMPORTS = [(path.name, module, name) for path in NOTEBOOKS for module, name in imports_in(notebook_code(path))]


@pytest.mark.parametrize(("module", "name"), README_IMPORTS, ids=lambda v: v)
def test_every_import_in_the_readme_works(module: str, name: str) -> None:
    imported = importlib.import_module(module)
    assert hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}") is not None, f"{module}.{name}"


@pytest.mark.parametrize(("notebook", "module", "name"), NOTEBOOK_IMPORTS, ids=lambda v: v)
def test_every_import_in_the_notebooks_works(notebook: str, module: str, name: str) -> None:
    imported = importlib.import_module(module)
    assert hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}") is not None, f"{notebook}"


def test_the_readme_teaches_the_top_level_imports() -> None:
    names = {name for module, name in README_IMPORTS if module == "postmock_nb"}
    assert {"Session", "MockServer", "load_collection", "MockConfig"} <= names


@pytest.mark.parametrize("dotted", sorted(set(DOTTED.findall(README.read_text()))))
def test_every_dotted_name_in_the_readme_resolves(dotted: str) -> None:
    assert resolve(dotted) is not None
