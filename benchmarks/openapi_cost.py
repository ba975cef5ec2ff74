"""What OpenAPI costs: loading documents, and checking a request (--validate-requests), in-process.

    .venv/bin/python benchmarks/openapi_cost.py [--reps 20] [--checks 20000]

Prints, per document of tests/data/openapi/, the median time of load_any (parse + $ref check +
conversion) and the number of examples; then the time of one RequestValidator.check for a valid GET
with a path parameter and a POST with a JSON body (swagger-petstore-v3, credentials sent: its security
is checked), and of check_request for local-refusals.yaml's refusals (401, 405, 415, a `format`, the
document's own 422) and a valid POST whose body has `format`s.
Not a test; no network; no server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from postmock_nb.bridges.validation import RequestValidator, check_request  # noqa: E402
from postmock_nb.formats.sources import load_any  # noqa: E402
from postmock_nb.matching import IncomingRequest  # noqa: E402

DATA = ROOT / "tests" / "data" / "openapi"


def median_ms(function: object, reps: int) -> float:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        function()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--checks", type=int, default=20000)
    args = parser.parse_args()
    for path in sorted(DATA.glob("*.*")):
        if path.suffix not in (".yaml", ".json") or "v2.0" in path.name:
            continue
        examples = len(load_any(path).collection.examples)
        cost = median_ms(lambda p=path: load_any(p), args.reps)
        print(f"load_any {path.name:<40} {cost:8.2f} ms  {examples:3} examples")
    spec = load_any(DATA / "swagger-petstore-v3.yaml").spec
    assert spec is not None
    validator = RequestValidator(spec)
    body = b'{"name": "doggie", "photoUrls": ["https://example.com/a.png"], "status": "available"}'
    signed = {"authorization": "Bearer t"}
    cases = {"GET /api/v3/pet/7": ("GET", "/api/v3/pet/7", (), signed, b""),
             "POST /api/v3/pet (JSON body)": ("POST", "/api/v3/pet", (), {
                 "content-type": "application/json", **signed}, body)}
    for label, case in cases.items():
        assert validator.check(*case) == []
        started = time.perf_counter()
        for _ in range(args.checks):
            validator.check(*case)
        per = (time.perf_counter() - started) / args.checks * 1e6
        print(f"check    {label:<40} {per:8.1f} µs per request ({args.checks} checks)")
    refusals(args.checks)


def refusals(checks: int) -> None:
    """check_request (the violations made one Refusal, the document's own answer looked up) on local-refusals.yaml."""
    spec = load_any(DATA / "local-refusals.yaml").spec
    assert spec is not None
    validator = RequestValidator(spec)
    json_bearer = {"content-type": "application/json", "authorization": "Bearer t"}
    pet = b'{"name": "Rex", "email": "rex@example.com", "born": "2024-02-29"}'
    cases = {"valid POST /pets (formats, bearer)": (IncomingRequest.build("POST", "/pets", json_bearer), pet, None),
             "401 GET /pets (no API key)": (IncomingRequest.build("GET", "/pets"), b"", 401),
             "405 PATCH /pets": (IncomingRequest.build("PATCH", "/pets"), b"", 405),
             "415 PUT /owners": (IncomingRequest.build("PUT", "/owners", {"content-type": "application/json"}),
                                 b"{}", 415),
             "422 POST /pets (its own 422)": (IncomingRequest.build("POST", "/pets", json_bearer),
                                              b'{"email": "rex"}', 422)}
    for label, (request, raw, status) in cases.items():
        refusal = check_request(validator, request, raw)[0]
        assert (refusal.status if refusal is not None else None) == status, (label, refusal)
        started = time.perf_counter()
        for _ in range(checks):
            check_request(validator, request, raw)
        per = (time.perf_counter() - started) / checks * 1e6
        print(f"refusal  {label:<40} {per:8.1f} µs per request ({checks} checks)")


if __name__ == "__main__":
    main()
