"""The package as people get it: built from a clone's files, installed in a bare venv.

The sdist and the wheel are built with ``python -m build`` (the wheel from the sdist, so a
file the sdist forgets is missing from the wheel too), with setuptools held to the lowest
release the ``[build-system]`` floor allows: the floor is a promise that it builds. The wheel
is then installed, with its dependencies, in a venv that has nothing else, and used from a
directory outside the repository.

About half a minute (pip resolves the dependencies from its cache); runs in ``make test``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest
from support.fixture_collections import FIXTURES_DIR

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11 (tomllib)")

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

pytestmark = pytest.mark.timeout(300)


def run(command: list[str | Path], **kwargs: Any) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def clone_files() -> list[str]:
    """The files a clone has: tracked plus new ones not ignored (or, outside git, the tree minus build output)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, timeout=30) if shutil.which("git") else None
    if listed is not None and listed.returncode == 0:
        return [name for name in listed.stdout.decode().split("\0") if name and (ROOT / name).is_file()]
    skip = {".git", ".venv", "node_modules", "build", "dist", "test-artifacts", "__pycache__", ".pytest_cache"}
    return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(ROOT).parts) and not p.name.endswith(".egg-info")]


def setuptools_floor() -> str:
    """``setuptools>=77`` in [build-system] → ``77``."""
    found = [m for r in PYPROJECT["build-system"]["requires"] if (m := re.fullmatch(r"setuptools>=([\d.]+)", r))]
    assert len(found) == 1, f"[build-system] requires should hold one setuptools>=N floor: {PYPROJECT['build-system']}"
    return found[0].group(1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    base = tmp_path_factory.mktemp("packaging")
    source = base / "source"
    for name in clone_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    floor = setuptools_floor()
    constraints = base / "constraints.txt"
    constraints.write_text(f"setuptools~={floor}.0\n")  # the newest bug-fix release of the floor itself
    env = {**os.environ, "PIP_CONSTRAINT": str(constraints), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    run([sys.executable, "-m", "build", "--outdir", base / "dist", source], cwd=base, env=env, timeout=240)
    wheels, sdists = list((base / "dist").glob("*.whl")), list((base / "dist").glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in (base / "dist").iterdir())
    yield {"base": base, "wheel": wheels[0], "sdist": sdists[0]}


def test_the_wheel_carries_the_schema_its_licence_and_the_metadata(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = set(wheel.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(wheel.read(f"{dist_info}/METADATA").decode())
    for shipped in ("postmock_nb/formats/schemas/collection-v2.1.json", "postmock_nb/formats/schemas/LICENSE",
                    "postmock_nb/formats/schemas/README.md", "postmock_nb/py.typed",
                    f"{dist_info}/licenses/LICENSE", f"{dist_info}/licenses/postmock_nb/formats/schemas/LICENSE"):
        assert shipped in names, f"{shipped} is not in {built['wheel'].name}"
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "benchmarks/"))], "the wheel ships more than the package"
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == PYPROJECT["project"]["requires-python"]
    classifiers = metadata.get_all("Classifier")
    assert "Typing :: Typed" in classifiers and any(c.startswith("Programming Language :: Python :: 3.") for c in classifiers)
    assert not [u for u in metadata.get_all("Project-URL") or [] if "OWNER" in u], "a Project-URL names a placeholder owner"
    assert metadata["Description-Content-Type"] == "text/markdown" and "postmock_nb" in metadata.get_payload()
    notice = (ROOT / "postmock_nb" / "formats" / "schemas" / "LICENSE").read_text()
    assert "Apache License" in notice and "Version 2.0" in notice and "Postman" in notice


def test_the_sdist_holds_the_licences_and_the_schema(built: dict[str, Path]) -> None:
    import tarfile

    with tarfile.open(built["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for shipped in ("LICENSE", "pyproject.toml", "README.md", "postmock_nb/formats/schemas/LICENSE",
                    "postmock_nb/formats/schemas/collection-v2.1.json"):
        assert shipped in names, f"{shipped} is not in {built['sdist'].name}"


def test_the_wheel_installs_and_works_in_a_bare_venv(built: dict[str, Path]) -> None:
    base = built["base"]
    venv = base / "bare"
    run([sys.executable, "-m", "venv", venv], timeout=120)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # --no-compile: byte-compiling the dependencies is a third of the install and not what is tested
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-compile", built["wheel"]], cwd=base, env=env,
        timeout=240)
    outside = base / "elsewhere"  # not the repository: nothing can be imported from the source tree
    outside.mkdir()
    shutil.copy2(FIXTURES_DIR / "test-scoring-collection.json", outside / "scoring.json")
    checked = run([venv / "bin" / "postmock", "validate", "scoring.json"], cwd=outside, env=env, timeout=60)
    assert "can be served: 4 examples" in checked.stdout, checked.stdout + checked.stderr
    probe = run([venv / "bin" / "python", "-c",
                 "import json, postmock_nb, postmock_nb.formats.schema as s\n"
                 "from importlib.metadata import files\n"
                 "print(postmock_nb.__file__)\n"
                 "print(len(s.validate_postman(json.load(open('scoring.json')))))\n"
                 "print(sorted(str(f) for f in files('postmock_nb') if 'LICENSE' in str(f)))"],
                cwd=outside, env=env, timeout=60).stdout.splitlines()
    assert probe[0].startswith(str(venv)), f"postmock_nb was imported from {probe[0]}, not the bare venv"
    assert probe[1] == "0", "the shipped schema finds problems in a valid collection"
    assert "postmock_nb/formats/schemas/LICENSE" in probe[2], probe[2]
