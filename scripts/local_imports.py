"""Every import inside a function says why it is there: ``# deferred: <reason>`` (a slow or optional module).

    .venv/bin/python scripts/local_imports.py

An import inside a function that only dodges an import cycle hides a layering mistake
(docs/architecture.md); one that defers a slow module (``postmock --help``, ``import postmock_nb``
and ``%load_ext`` stay fast) or an optional one (Colab) is fine, and says so on its line, on the
first import of its run, or on the comment line just above the run. Imports under ``if TYPE_CHECKING:``
are types only and not counted. Prints the count; exits 1 naming each import without the comment. Run by ``make lint``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "postmock_nb"
MARK = "# deferred:"


def _said(lines: list[str], node: ast.stmt, block: list[ast.stmt]) -> bool:
    """``node``'s line, the first line of the run of imports it is in, or the comment line just above that
    run carries the mark."""
    if MARK in lines[node.lineno - 1]:
        return True
    first = node
    for stmt in block:  # the first import of the run of imports that ends at node
        if not isinstance(stmt, (ast.Import, ast.ImportFrom)):
            first = node
        elif first is node:
            first = stmt
        if stmt is node:
            break
    above = lines[first.lineno - 2].strip() if first.lineno > 1 else ""
    return MARK in lines[first.lineno - 1] or (above.startswith("#") and MARK in above)


def unsaid(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each function-local import in ``path`` without the mark."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for function in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for parent in ast.walk(function):
            for field in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(parent, field, None)
                if not isinstance(block, list):
                    continue
                if isinstance(parent, ast.If) and "TYPE_CHECKING" in ast.unparse(parent.test) and field == "body":
                    continue
                for node in block:
                    if isinstance(node, (ast.Import, ast.ImportFrom)) and not _said(lines, node, block):
                        found.append((node.lineno, lines[node.lineno - 1].strip()))
    return sorted(set(found))


def main() -> int:
    files = sorted(PACKAGE.rglob("*.py"))
    problems = [(path, line, text) for path in files for line, text in unsaid(path)]
    print(f"local imports: {len(files)} modules read; {len(problems)} function-local import(s) without '{MARK}'")
    if problems:
        for path, line, text in problems:
            print(f"  {path.relative_to(ROOT)}:{line}: {text}", file=sys.stderr)
        print(f"local imports: FAILED: move each to the top of its module, or say why it waits ('{MARK} <reason>')",
              file=sys.stderr)
        return 1
    print("local imports: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
