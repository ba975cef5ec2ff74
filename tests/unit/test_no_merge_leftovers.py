"""No merge conflict left in a tracked file: a README with ``<<<<<<<`` in it reads fine to the tests that run its
code blocks, and wrong to every person."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKERS = ("<<<<<<< ", ">>>>>>> ")
TEXT = {".py", ".md", ".toml", ".yaml", ".yml", ".ipynb", ".json", ".txt", ".cfg", ".sh", ".ini", ".html", ".js"}
SKIPPED = {"node_modules", "build", "dist", "__pycache__"}


def _text_files() -> list[Path]:
    """The repository's text files (not under a hidden folder, a build or node_modules)."""
    return [path for path in ROOT.rglob("*") if path.suffix in TEXT and path.is_file()
            and not any(part.startswith(".") or part in SKIPPED for part in path.relative_to(ROOT).parts[:-1])]


@pytest.mark.unit
def test_no_tracked_file_holds_a_conflict_marker() -> None:
    found = []
    for path in _text_files():
        text = path.read_bytes().decode("utf-8", "replace")
        found += [f"{path.relative_to(ROOT)}:{number}" for number, line in enumerate(text.splitlines(), 1)
                  if line.startswith(MARKERS) or line.rstrip() in {"<<<<<<<", ">>>>>>>"}]
    assert found == [], f"merge conflict markers left in: {found}"
