"""Schemathesis (the test extra's ``st``) run against a mock of an OpenAPI document, and its report read: the
``response_schema_conformance`` check only (tests/cli/test_openapi_export_cli.py, benchmarks/openapi_roundtrip.py)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postmock_nb.answers.diagnostics import POSTMAN_NOT_FOUND

SCHEMATHESIS = Path(sys.executable).parent / "st"


@dataclass
class SchemaConformance:
    """What Schemathesis found: the responses it checked, the operations whose answer broke the schema, and the
    answers that were the mock's own "no example matches" 404 (``mockRequestNotFoundError``), kept apart: a path
    parameter is any string in an export (no ``enum`` of the saved values), so Schemathesis asks for values no
    example saved, and the mock answers those as Postman's does, with no example of the sketched API."""

    checked: int = 0
    failures: list[str] = field(default_factory=list)
    unmatched: int = 0
    output: str = ""
    returncode: int = 0


def run_schemathesis(document: Path, url: str, reports: Path, timeout: float = 240) -> SchemaConformance:
    """``st run`` of ``document`` against ``url`` (positive cases, seed 1, 10 examples an operation, every phase),
    its ndjson report in ``reports``."""
    done = subprocess.run(
        [str(SCHEMATHESIS), "run", str(document), "--url", url, "--checks", "response_schema_conformance",
         "--mode", "positive", "--seed", "1", "--max-examples", "10", "--workers", "1",
         "--phases", "examples,coverage,fuzzing,stateful", "--request-timeout", "10",
         "--report", "ndjson", "--report-dir", str(reports)],
        capture_output=True, text=True, cwd=reports, timeout=timeout, check=False)
    found = SchemaConformance(output=done.stdout, returncode=done.returncode)
    for report in reports.glob("*.ndjson"):
        for line in report.read_text(encoding="utf-8").splitlines():
            recorder = json.loads(line).get("ScenarioFinished", {}).get("recorder", {})
            interactions = recorder.get("interactions", {})
            for case, checks in recorder.get("checks", {}).items():
                for check in checks:
                    if check.get("name") != "response_schema_conformance":
                        continue
                    found.checked += 1
                    if check.get("status") != "failure":
                        continue
                    if _no_example_matched(interactions.get(case) or {}):
                        found.unmatched += 1
                    else:
                        found.failures.append(recorder.get("label", ""))
    return found


def _no_example_matched(interaction: dict[str, Any]) -> bool:
    """Whether Schemathesis's recorded answer is the mock's own 404 saying no example matches the request."""
    response = interaction.get("response") or {}
    content = response.get("content") or {}
    try:
        body = json.loads(base64.b64decode(content.get("$base64", "")))
    except ValueError:
        return False
    return (response.get("status_code") == 404 and isinstance(body, dict)
            and body.get("error", {}).get("name") == POSTMAN_NOT_FOUND["name"])
