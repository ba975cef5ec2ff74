"""Where things are: the repository's root and the tests' data (``tests/data/``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root (a clone's top directory)."""
DATA = ROOT / "tests" / "data"
"""The tests' data files: Postman collections, OpenAPI documents."""
