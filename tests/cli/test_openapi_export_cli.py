"""``postmock convert`` and the exported document in other hands: ``postmock serve`` of it answers every example of
every fixture collection as the collection does, Prism (``prism mock``) serves it, and Schemathesis run against
``postmock serve`` of it finds no response that breaks its schema (but the mock's own "no example matches" 404s for
path values no example saved: tests/support/schemathesis_run.py).

Prism is the repository's npm tool (``package.json``: ``@stoplight/prism-cli``, installed into node_modules by
``make test``), Schemathesis a package of the test extra; without them those tests are skipped, saying so (and fail
under ``POSTMOCK_REQUIRE_ALL=1``, as in CI). Prism gets the exports of notebooks/data's collections; Schemathesis
runs on ``postmock serve`` of every notebooks/data file converted (an OpenAPI document converted to OpenAPI is the
document itself). ``benchmarks/openapi_roundtrip.py --schemathesis`` prints the same run's figures."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests
import yaml
from support.cli import SERVING, TIMEOUT, postmock
from support.layers import skip_unless_required
from support.notebook_cells import NODE_BIN
from support.paths import ROOT
from support.roundtrip import answer, served
from support.schemathesis_run import SCHEMATHESIS, run_schemathesis

from postmock_nb.cli import main, output_format
from postmock_nb.errors import PostmockError
from postmock_nb.formats.sources import load_any
from postmock_nb.serving.server import MockServer

SERVED = [ROOT / "tests" / "data" / "postman-local-mock-server" / name
          for name in ("all-request-types.json", "test-with-variables.json")]
"""Served by ``postmock serve`` here (a process each): every request type and body mode, and collection variables.
Every fixture collection's export is served in process (tests/server/test_openapi_export_served.py)."""
NOTEBOOK_DATA = sorted(path for path in (ROOT / "notebooks" / "data").iterdir() if path.suffix in (".json", ".yaml"))
NOTEBOOK_COLLECTIONS = [path for path in NOTEBOOK_DATA if path.name.endswith(".postman_collection.json")]
"""The exports Prism is given (an OpenAPI document converted to OpenAPI is the document itself: not postmock's)."""
PRISM = NODE_BIN / "prism"
PRISM_READY = re.compile(r"Prism is listening on (http://127\.0\.0\.1:\d+)")
USERS = ROOT / "notebooks" / "data" / "users.postman_collection.json"


# -- convert --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("output", "to", "expected"), [
    ("api.yaml", None, "openapi"), ("api.YML", None, "openapi"), ("api.postman_collection.json", None, "postman"),
    ("api.json", "openapi", "openapi"), ("api.yaml", "postman", "postman"),
])
def test_the_output_format_is_to_or_the_name(output: str, to: str | None, expected: str) -> None:
    assert output_format(output, to) == expected


def test_a_name_that_says_no_format_asks_for_to(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PostmockError, match="cannot tell the output format"):
        output_format("api.json", None)
    assert main(["convert", str(USERS), str(tmp_path / "api.json")]) == 2
    assert "Hint: add --to openapi or --to postman" in capsys.readouterr().err
    assert not (tmp_path / "api.json").exists()


def test_convert_a_collection_to_openapi_and_back(tmp_path: Path) -> None:
    document = tmp_path / "users.yaml"
    done = subprocess.run([*_postmock(), "convert", str(USERS), str(document)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{document}: OpenAPI 3.1 document 'Users API (postmock_nb demo)', 4 examples")
    assert yaml.safe_load(document.read_text())["openapi"] == "3.1.0"
    back = tmp_path / "users.postman_collection.json"
    assert main(["convert", str(document), str(back)]) == 0
    assert json.loads(back.read_text())["info"]["schema"].endswith("v2.1.0/collection.json")
    before = sorted((e.id, e.name, e.response.status) for e in load_any(USERS).collection.examples)
    assert sorted((e.id, e.name, e.response.status) for e in load_any(back).collection.examples) == before


@pytest.mark.parametrize("source", [ROOT / "notebooks" / "data" / "petstore.openapi.yaml",
                                    ROOT / "tests" / "data" / "openapi" / "local-3.1-constraints.yaml"],
                         ids=["3.0", "3.1"])
def test_convert_an_openapi_document_to_openapi_writes_the_document_itself(
        source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Its schemas, ``$ref``s, constraints and security as written (never ones inferred from its examples), in
    the other syntax; a 3.0 document stays 3.0, said in a warning."""
    target = tmp_path / "api.json"
    assert main(["convert", str(source), str(target), "--to", "openapi"]) == 0
    assert json.loads(target.read_text()) == yaml.safe_load(source.read_text())
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning:")]
    version = yaml.safe_load(source.read_text())["openapi"]
    assert warnings == ([] if version.startswith("3.1") else [
        f"warning: written as it is (OpenAPI {version} document): postmock converts no document between versions"])


def test_convert_refuses_to_write_over_its_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same file, however it is named (``./``, ``..``, a symlink), in the same format or another: exit 2."""
    source = tmp_path / "v.postman_collection.json"
    source.write_bytes(USERS.read_bytes())
    (tmp_path / "link.json").symlink_to(source)
    for output, to in [(source, None), (tmp_path / "sub" / ".." / source.name, "openapi"),
                       (tmp_path / "link.json", "postman")]:
        assert main(["convert", str(source), str(output), *(["--to", to] if to else [])]) == 2
        assert "the output is the source" in capsys.readouterr().err
    assert source.read_bytes() == USERS.read_bytes()


def test_convert_says_what_it_cannot_write_and_never_replaces_a_device(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A folder, a missing folder one cannot make, a device or pipe: exit 2 naming OUTPUT (not a temporary file);
    a symbolic link is written through, and stays a link."""
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)
    for output, to in [(tmp_path, "openapi"), (Path("/proc/api.yaml"), "openapi"), (pipe, "openapi"),
                       (Path("/proc/api.postman_collection.json"), "postman")]:
        assert main(["convert", str(USERS), str(output), "--to", to]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"postmock: cannot write {output}: ") and "postmock-tmp" not in err, err
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    real, link = tmp_path / "shared.yaml", tmp_path / "api.yaml"
    real.write_text("old", encoding="utf-8")
    link.symlink_to(real)
    assert main(["convert", str(USERS), str(link)]) == 0
    assert link.is_symlink() and yaml.safe_load(real.read_text(encoding="utf-8"))["openapi"] == "3.1.0"


def _postmock() -> list[str]:

    return [sys.executable, "-m", "postmock_nb.cli"]


# -- postmock serve of the exported document ------------------------------------------------------


@pytest.mark.parametrize("path", SERVED, ids=lambda path: path.name)
def test_postmock_serve_of_the_export_answers_as_the_collection(path: Path, tmp_path: Path) -> None:
    document = tmp_path / "exported.yaml"
    assert main(["convert", str(path), str(document)]) == 0
    original = load_any(path).collection
    with MockServer(original, port=0) as before, postmock("serve", str(document), "--port", "0") as cli:
        url = cli.wait_for(SERVING).group(3)
        for example in served(original):
            for selected in (False, True):
                expected = answer(before.url, example, original, selected=selected)
                assert answer(url, example, original, selected=selected) == expected, example.describe()
        cli.stop()


# -- Prism and Schemathesis -------------------------------------------------------------------------


def _needs(program: Path, what: str, installed_by: str) -> None:
    if not program.exists():
        skip_unless_required(f"{program} is absent ({installed_by} installs it)", what)


@pytest.mark.parametrize("path", NOTEBOOK_COLLECTIONS, ids=lambda path: path.name)
def test_prism_serves_the_exported_document(path: Path, tmp_path: Path) -> None:
    _needs(PRISM, "Prism (npm @stoplight/prism-cli)", "`make test`: npm install")
    document = tmp_path / "exported.yaml"
    assert main(["convert", str(path), str(document)]) == 0
    spec = yaml.safe_load(document.read_text())
    prism = subprocess.Popen([str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(_free_port()), str(document)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        url = _prism_url(prism)
        values = [entry["value"] for item in spec["paths"].values() for operation in item.values()
                  for response in operation["responses"].values() for media in response.get("content", {}).values()
                  for entry in media.get("examples", {}).values()]
        for template, item in spec["paths"].items():
            for method, operation in item.items():
                path_now = re.sub(r"\{([^}]+)\}", lambda m: _example_of(operation, m.group(1)), template)
                query = {p["name"]: p.get("example", "x") for p in operation.get("parameters", []) if p["in"] == "query"}
                got = requests.request(method, url + path_now, params=query, timeout=TIMEOUT, json=_body_of(operation))
                documented = {code for other in spec["paths"].values() if method in other
                              for code in other[method]["responses"]}
                assert str(got.status_code) in documented, (method, template, got.text)
                if got.headers.get("content-type", "").startswith("application/json") and got.content:
                    assert got.json() in values, (method, template, got.text)
    finally:
        prism.terminate()
        prism.wait(15)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _prism_url(prism: subprocess.Popen[str]) -> str:
    assert prism.stdout is not None
    seen = []
    for line in prism.stdout:
        seen.append(line)
        found = PRISM_READY.search(line)
        if found:
            import threading

            threading.Thread(target=lambda: [None for _ in prism.stdout or ()], daemon=True).start()
            return found.group(1)
    pytest.fail("prism mock did not start:\n" + "".join(seen))


def _example_of(operation: dict, name: str) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["name"] == name and parameter["in"] == "path":
            return str(parameter.get("example", "1"))
    return "1"


def _body_of(operation: dict) -> object:
    content = operation.get("requestBody", {}).get("content", {})
    media = content.get("application/json")
    return next(iter(media["examples"].values()))["value"] if media else None


@pytest.mark.parametrize("path", NOTEBOOK_DATA, ids=lambda path: path.name)
def test_schemathesis_finds_no_schema_violation_on_postmock_serve_of_the_export(path: Path, tmp_path: Path) -> None:
    _needs(SCHEMATHESIS, "Schemathesis", "the test extra: pip install -e '.[test]'")
    document = tmp_path / "exported.yaml"
    assert main(["convert", str(path), str(document)]) == 0
    with postmock("serve", str(document), "--port", "0") as cli, tempfile.TemporaryDirectory() as reports:
        url = cli.wait_for(SERVING).group(3)
        found = run_schemathesis(document, url, Path(reports))
        assert found.checked > 0, found.output[-2000:]
        assert found.failures == [], found.output[-4000:]
        assert found.returncode == 0 or found.unmatched, found.output[-4000:]
        cli.stop()
