"""The OpenAPI export's round trip over every fixture collection, as figures (issue 24).

    .venv/bin/python benchmarks/openapi_roundtrip.py [--schemathesis]

For each Postman collection of tests/data/ and notebooks/data/: export it (``to_openapi``), write it as YAML and
read it back as ``postmock serve`` does (``load_any``), check the document with openapi-spec-validator, then serve
the original and the export side by side (in process, on 127.0.0.1) and send every example's request to both — as
Postman's Send would send it, and again asking for that example by ``x-mock-response-name``/``-code`` — counting
the answers with the same status, example and body. ``--schemathesis`` also runs Schemathesis (the test extra's
``st``) against ``postmock serve`` of each notebooks/data export, checking ``response_schema_conformance``, and
prints the responses checked and the failures (the mock's own 404 for a path value no example saved, which the
document does not describe, counted apart). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import yaml  # noqa: E402
from harness import stop_process  # noqa: E402
from openapi_spec_validator import validate  # noqa: E402
from support.roundtrip import answer, served  # noqa: E402
from support.schemathesis_run import SchemaConformance, run_schemathesis  # noqa: E402

from postmock_nb.formats.openapi_export import save_openapi  # noqa: E402
from postmock_nb.formats.sources import load_any  # noqa: E402
from postmock_nb.serving.server import MockServer  # noqa: E402

FIXTURES = sorted(path for path in [*(ROOT / "tests" / "data").glob("**/*.json"),
                                    *(ROOT / "notebooks" / "data").glob("*.json")]
                  if "openapi" not in path.parts and "environment" not in path.name)
NOTEBOOK_DATA = sorted(path for path in (ROOT / "notebooks" / "data").iterdir() if path.suffix in (".json", ".yaml"))


def round_trip(path: Path, folder: Path) -> tuple[int, int, int, bool, int]:
    """(examples served, same answer as sent, same answer asked by name, valid, warnings) for one collection."""
    original = load_any(path).collection
    written, warnings = save_openapi(original, folder / f"{path.stem}.yaml")
    loaded = load_any(written)
    try:
        validate(yaml.safe_load(written.read_text(encoding="utf-8")))
        valid = True
    except Exception:  # noqa: BLE001 - any finding of the validator is "not valid" here
        valid = False
    examples = served(original)
    same = same_selected = 0
    with MockServer(original, port=0) as before, MockServer(loaded.collection, port=0) as after:
        for example in examples:
            same += answer(after.url, example, original, selected=False) == answer(
                before.url, example, original, selected=False)
            same_selected += answer(after.url, example, original, selected=True) == answer(
                before.url, example, original, selected=True)
    return len(examples), same, same_selected, valid, len(warnings)


def schemathesis(path: Path, folder: Path) -> SchemaConformance:
    """Schemathesis on ``postmock serve`` of the export of ``path``."""
    document = folder / f"{path.stem}-st.yaml"
    save_openapi(load_any(path).collection, document)
    reports = folder / f"{path.stem}-reports"
    reports.mkdir()
    serve = subprocess.Popen([sys.executable, "-m", "postmock_nb.cli", "serve", str(document), "--port", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert serve.stdout is not None
        url = next(line.split(" at ")[-1].strip() for line in serve.stdout if line.startswith("Serving "))
        return run_schemathesis(document, url, reports, timeout=300)
    finally:
        stop_process(serve)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schemathesis", action="store_true", help="also run Schemathesis on notebooks/data's exports")
    args = parser.parse_args()
    totals = [0, 0, 0, 0]
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'collection':62} {'examples':>8} {'same':>6} {'by name':>8} {'valid':>6} {'warnings':>8}")
        for path in FIXTURES:
            count, same, selected, valid, warnings = round_trip(path, Path(folder))
            totals = [totals[0] + count, totals[1] + same, totals[2] + selected, totals[3] + valid]
            print(f"{str(path.relative_to(ROOT)):62} {count:8d} {same:6d} {selected:8d} {'yes' if valid else 'NO':>6} "
                  f"{warnings:8d}")
        print(f"{len(FIXTURES)} collections, {totals[0]} examples: the same answer as sent {totals[1]} "
              f"({100 * totals[1] / max(totals[0], 1):.1f} %), asked by name and code {totals[2]} "
              f"({100 * totals[2] / max(totals[0], 1):.1f} %); "
              f"valid by openapi-spec-validator {totals[3]}/{len(FIXTURES)}")
        if args.schemathesis:
            print(f"\n{'Schemathesis on postmock serve of':62} {'checked':>8} {'failures':>9} {'mock 404s':>10}")
            for path in NOTEBOOK_DATA:
                found = schemathesis(path, Path(folder))
                print(f"{str(path.relative_to(ROOT)):62} {found.checked:8d} {len(found.failures):9d} "
                      f"{found.unmatched:10d}")


if __name__ == "__main__":
    main()
