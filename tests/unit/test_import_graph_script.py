"""scripts/import_graph.py: the cycle finder `make lint` runs over the package's import graph."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "import_graph.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and typing look the module up by name
    spec.loader.exec_module(module)
    return module


def graph(*edges: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for edge in edges:
        a, b = edge.split("->")
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set())
    return out


@pytest.mark.parametrize(("edges", "expected"), [
    (("a->b", "b->c"), []),
    (("a->b", "b->a"), [["a", "b"]]),
    (("a->a",), [["a"]]),
    (("a->b", "b->c", "c->a", "c->d", "d->e", "e->d"), [["a", "b", "c"], ["d", "e"]]),
    (("x->y", "y->z", "z->y", "x->z"), [["y", "z"]]),
])
def test_components_are_the_cycles(script: ModuleType, edges: tuple[str, ...], expected: list[list[str]]) -> None:
    assert script.components(graph(*edges)) == expected


def test_a_shortest_cycle_is_printed_through_the_component(script: ModuleType) -> None:
    edges = graph("a->b", "b->c", "c->d", "d->a", "b->a")
    assert script.shortest_cycle(edges, ["a", "b", "c", "d"]) == ["a", "b", "a"]
    edges = graph("a->b", "b->c", "c->a")
    assert script.shortest_cycle(edges, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_a_long_chain_needs_no_recursion(script: ModuleType) -> None:
    n = sys.getrecursionlimit() + 100
    edges = graph(*(f"m{i}->m{i + 1}" for i in range(n)), f"m{n}->m0")
    (component,) = script.components(edges)
    assert len(component) == n + 1


def test_the_package_has_no_cycle_but_the_allowed_edges(script: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert script.main() == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "0 cycle(s)" in out and "import graph: ok" in out


def test_a_cycle_fails_with_its_edges_and_lines(script: ModuleType, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A package with a cycle (one edge a function-local import, one under TYPE_CHECKING) fails, naming each edge."""
    package = tmp_path / "cyclic_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f() -> None:\n    from cyclic_pkg import b  # noqa\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cyclic_pkg import a\n")
    (package / "c.py").write_text("from cyclic_pkg import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(script, "PACKAGE", "cyclic_pkg")
    monkeypatch.setattr(script, "ALLOWED_EDGES", {})
    assert script.main() == 1
    err = capsys.readouterr().err
    assert "cyclic_pkg.a -> cyclic_pkg.b   [line 2" in err
    assert "cyclic_pkg.b -> cyclic_pkg.a   [line 3" in err
    assert "cyclic_pkg.c" not in err.split("FAILED")[0].split("cycle among")[1]
    assert "FAILED, 1 cycle(s)" in err


def test_a_stale_allowance_fails(script: ModuleType, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(script, "ALLOWED_EDGES", {**script.ALLOWED_EDGES,
                                                  ("postmock_nb.core.model", "postmock_nb.cli"): "never there"})
    assert script.main() == 1
    assert "postmock_nb.core.model -> postmock_nb.cli, which no longer exists: delete its line" in capsys.readouterr().err
