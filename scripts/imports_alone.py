"""Every module of postmock_nb imports alone, in a fresh interpreter (``python -c "import X"`` for each).

    .venv/bin/python scripts/imports_alone.py [--jobs 2]

A module that imports only after another one was imported (an import order a cycle or a missing
import hides) fails here even when the test suite, which imports everything, passes. Prints how many
modules were imported and how long the slowest took; exits 1 naming each module that failed, with
the end of its traceback. Run by ``make lint``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "postmock_nb"
TIMEOUT = 120.0


@dataclass(frozen=True)
class Imported:
    module: str
    returncode: int
    seconds: float
    stderr: str


def modules(package: Path = PACKAGE) -> list[str]:
    """The dotted name of every module (and package) under ``package``."""
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def import_alone(module: str) -> Imported:
    """Import ``module`` in a new interpreter (from the repository, no site customisation of ours)."""
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True,
                              text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return Imported(module, -1, time.perf_counter() - started, f"no end within {TIMEOUT:g} s")
    return Imported(module, done.returncode, time.perf_counter() - started, done.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="interpreters at once (default 2)")
    args = parser.parse_args(argv)
    names = modules()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(import_alone, names))
    failed = [r for r in results if r.returncode != 0]
    slowest = max(results, key=lambda r: r.seconds)
    print(f"imports alone: {len(results)} modules, each imported in a fresh interpreter; {len(failed)} failed; "
          f"slowest {slowest.module} ({slowest.seconds:.2f} s)")
    if failed:
        for r in failed:
            tail = "\n    ".join(r.stderr.strip().splitlines()[-6:])
            print(f"{r.module} does not import alone (exit {r.returncode}):\n    {tail}", file=sys.stderr)
        print(f"imports alone: FAILED, {len(failed)} module(s)", file=sys.stderr)
        return 1
    print("imports alone: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
