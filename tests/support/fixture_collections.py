"""Where the Postman fixture collections live, for the test modules that parametrize over them.

They are the collections of the ``postman-local-mock-server`` project (MIT, see the LICENSE and
README beside them), copied into ``tests/data/postman-local-mock-server/`` so that a clone of
this repository is whole by itself.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "data" / "postman-local-mock-server"


def fixture_names() -> list[str]:
    """The fixture collections' file names, sorted; an error (not an empty list) if none is found.

    Used at collection time by ``@pytest.mark.parametrize``: an empty list would quietly
    collect zero cases, so a missing directory stops the run instead.
    """
    names = sorted(path.name for path in FIXTURES_DIR.glob("*.json"))
    if not names:
        raise FileNotFoundError(f"no fixture collections (*.json) in {FIXTURES_DIR}: the tests' data is missing")
    return names
