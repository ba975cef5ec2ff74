"""docs/architecture.md is drawn from the tree: every module it names exists, every subpackage is named,
and the contract it quotes is pyproject's."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "postmock_nb"
DOC = ROOT / "docs" / "architecture.md"
TEXT = DOC.read_text()
REPO_FOLDERS = ("scripts/", "tests/", "docs/", "benchmarks/")


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", TEXT, re.M | re.S)


def tree_paths() -> list[str]:
    """Paths (relative to postmock_nb/) of what the tree block lists: ``sub/ a.py b.py`` is sub/a.py, sub/b.py."""
    tree = next(block for block in blocks("text") if block.startswith("postmock_nb/\n"))
    paths = []
    for line in tree.splitlines()[1:]:
        words = line.split()
        folder = words[0] if words and words[0].endswith("/") else ""
        paths.append(folder) if folder else None
        paths.extend(folder + word for word in words if word.endswith(".py"))
    return paths


def named_paths() -> list[str]:
    """Every ``x.py`` / ``x/`` path the prose names in backticks, and every path in the tree."""
    prose = re.findall(r"`(\w[\w./]*(?:\.py|/))`", TEXT)
    return sorted(set(tree_paths()) | {p for p in prose if p != "postmock_nb/"})


def named_modules() -> list[str]:
    """Every dotted ``postmock_nb.x.y`` the page names."""
    return sorted(set(re.findall(r"\bpostmock_nb(?:\.\w+)+", TEXT)))


def is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a name under a module that is not a package
        return False


def subpackages() -> list[str]:
    return sorted(p.parent.relative_to(PACKAGE).as_posix() + "/" for p in PACKAGE.rglob("__init__.py")
                  if p.parent != PACKAGE)


@pytest.mark.parametrize("path", named_paths())
def test_every_module_the_doc_names_exists(path: str) -> None:
    where = ROOT / path if path.startswith(REPO_FOLDERS) else PACKAGE / path
    assert where.is_dir() if path.endswith("/") else where.is_file(), f"docs/architecture.md names {path}: not found"


@pytest.mark.parametrize("dotted", named_modules())
def test_every_dotted_name_the_doc_names_exists(dotted: str) -> None:
    """``postmock_nb.matching`` is a module; ``postmock_nb.__all__`` a name in one."""
    parts = dotted.split(".")
    cut = next(cut for cut in range(len(parts), 0, -1) if is_module(".".join(parts[:cut])))
    value = importlib.import_module(".".join(parts[:cut]))
    for name in parts[cut:]:
        assert hasattr(value, name), f"docs/architecture.md names {dotted}: no such module or name"
        value = getattr(value, name)


def test_every_subpackage_is_named() -> None:
    named = set(named_paths())
    missing = [folder for folder in subpackages() if folder not in named]
    assert subpackages() and not missing, f"subpackages docs/architecture.md does not name: {missing}"


def test_every_subpackage_is_in_the_tree() -> None:
    listed = set(tree_paths())
    assert [folder for folder in subpackages() if folder not in listed] == []


def test_the_quoted_contract_is_pyprojects() -> None:
    tomllib = pytest.importorskip("tomllib")
    quoted = tomllib.loads(blocks("toml")[0])["tool"]["importlinter"]["contracts"]
    actual = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    keys = ("name", "type", "layers", "source_modules", "forbidden_modules")
    assert [{k: c.get(k) for k in keys} for c in quoted] == [{k: c.get(k) for k in keys} for c in actual]


def test_the_tree_lists_every_module() -> None:
    """The tree block is the whole package: a new module is drawn where it sits."""
    modules = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")
    drawn = set(tree_paths())
    assert [m for m in modules if m not in drawn] == []
