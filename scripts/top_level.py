"""At most 12 modules at postmock_nb's top level (``__init__.py`` counted): the rest lives in subpackages.

    .venv/bin/python scripts/top_level.py

The top level holds the facade and the entry points whose import paths are contracts
(docs/architecture.md); a new concept goes into the subpackage of its layer. Prints the modules
and the subpackages it found; exits 1 when there are more than :data:`MOST` modules. Run by ``make lint``.
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "postmock_nb"
MOST = 12


def main() -> int:
    modules = sorted(path.stem for path in PACKAGE.glob("*.py"))
    packages = sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))
    print(f"top level: {len(modules)} modules (at most {MOST}): {' '.join(modules)}; "
          f"{len(packages)} subpackages: {' '.join(packages)}")
    if len(modules) > MOST:
        print(f"top level: FAILED, {len(modules)} modules at postmock_nb's top level, more than {MOST}: "
              f"move the new ones into the subpackage of their layer (docs/architecture.md)", file=sys.stderr)
        return 1
    print("top level: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
