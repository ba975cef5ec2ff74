"""scripts/complexity.py: no function above cyclomatic complexity 20, but the ones allowed for now."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "complexity.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("complexity_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def branches(name: str, n: int, indent: str = "") -> str:
    """A function of cyclomatic complexity ``n + 1`` (``n`` ifs)."""
    body = "".join(f"{indent}    if x == {i}:\n{indent}        return {i}\n" for i in range(n))
    return f"{indent}def {name}(x):\n{body}{indent}    return -1\n"


def test_functions_methods_and_nested_functions_are_measured(script: ModuleType, tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "mod.py").write_text(
        branches("plain", 3) + "\n\nclass Thing:\n" + branches("method", 5, "    ") + "\n\n"
        + "def outer(x):\n" + branches("inner", 4, "    ") + "    return inner(x)\n")
    measured = {m.name: m.complexity for m in script.measure(package)}
    assert measured == {"pkg/sub/mod.py::plain": 4, "pkg/sub/mod.py::Thing.method": 6,
                        "pkg/sub/mod.py::outer": 1, "pkg/sub/mod.py::outer.inner": 5}


def test_problems(script: ModuleType) -> None:
    Measured = script.Measured
    measured = [Measured("m.py::big", 1, 25), Measured("m.py::grown", 2, 31), Measured("m.py::listed", 3, 22),
                Measured("m.py::split", 4, 12), Measured("m.py::small", 5, 20)]
    allowed = {"m.py::grown": 30, "m.py::listed": 22, "m.py::split": 40, "m.py::gone": 21}
    found = script.problems(measured, allowed, 20)
    assert found == [
        "m.py::big (line 1) has complexity 25, over 20: split it",
        "m.py::grown (line 2) has complexity 31, more than the 30 it is allowed for now "
        "(ALLOWED in scripts/complexity.py): split it",
        "ALLOWED lists m.py::gone (21), which no longer exists: delete its line",
        "ALLOWED lists m.py::split (40), now at 12 (within 20): delete its line",
    ]


def test_the_package_passes_and_prints_its_figures(script: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert script.main([]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "functions measured (radon cc)" in out and "complexity: ok" in out


def test_a_function_over_the_limit_fails(script: ModuleType, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(script, "ALLOWED", {})
    measured = script.measure()
    over = [m for m in measured if m.complexity > 10]
    assert script.main(["--limit", "10"]) == 1
    err = capsys.readouterr().err
    assert f"{len(over)} problem(s)" in err
    assert all(f"{m.name} (line {m.line}) has complexity {m.complexity}, over 10: split it" in err for m in over)
