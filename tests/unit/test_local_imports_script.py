"""scripts/local_imports.py: an import inside a function says why it waits, or `make lint` fails."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "local_imports.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("local_imports_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_an_unexplained_local_import_is_named_and_explained_ones_pass(script: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "def a():\n"
        "    from os import path\n"               # line 3: unexplained
        "    return path\n"
        "def b():\n"
        "    import json  # deferred: slow\n"
        "def c():\n"
        "    # deferred: both are slow\n"
        "    import csv\n"
        "    import re\n"
        "def d():\n"
        "    if TYPE_CHECKING:\n"
        "        import decimal\n"
        "    x = 1\n"
        "    import fractions\n"                  # line 15: the comment above the earlier run does not cover it
        "    return x\n")
    assert script.unsaid(source) == [(3, "from os import path"), (15, "import fractions")]


def test_the_package_explains_every_local_import(script: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert script.main() == 0, capsys.readouterr().err
    assert "local imports: ok" in capsys.readouterr().out
