"""OpenAPI input bombs: how long ``postmock validate`` takes on each, and its peak memory.

    .venv/bin/python benchmarks/openapi_bombs.py [--repo PATH] [--timeout 120]

Writes each bomb of tests/support/bombkit.py (``BOMBS``: YAML alias bombs, ``$ref`` fan-out,
``minItems``/``minLength`` bombs) and the tuple-items fan-out that the depth cut serves, plus
the petstore as a baseline, then runs ``postmock validate`` on each in a subprocess (from
``--repo``, default this checkout, so an older checkout is measured the same way) and prints
its wall time, its peak resident memory (``ru_maxrss`` of the child) and its exit code
(``timeout`` when killed after ``--timeout`` seconds); then, in another child, the time of
reading the document alone (``load_any``, without the interpreter's start and imports, which
the baseline shows). Not a test; no network. Careful with ``--repo`` on a checkout without
the limits: its minLength case alone reached 19 GB here before being killed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.bombkit import BOMBS, fan_out, write_bomb  # noqa: E402  (the very documents the tests refuse)


def measure(repo: Path, path: Path, timeout: float) -> tuple[float, float, str]:
    """Seconds, peak MB and exit code of ``postmock validate path`` in a fresh child process."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "postmock_nb.cli", "validate", str(path)], cwd=repo,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = False
    while True:  # os.wait4 reaps the child with its own resource usage (its peak memory)
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if not killed and time.perf_counter() - started > timeout:
            child.kill()
            killed = True
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait for it again
    return seconds, usage.ru_maxrss / 1024, "timeout" if killed else str(child.returncode)


LOAD_ONLY = """
import sys, time
from postmock_nb.formats.sources import load_any
started = time.perf_counter()
try:
    load_any(sys.argv[1])
except Exception:
    pass
print(time.perf_counter() - started)
"""


def load_seconds(repo: Path, path: Path, timeout: float) -> str:
    try:
        done = subprocess.run([sys.executable, "-c", LOAD_ONLY, str(path)], cwd=repo, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    return f"{float(done.stdout):.3f}" if done.stdout.strip() else "crashed"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose postmock_nb is measured")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a case is killed")
    args = parser.parse_args()
    print(f"checkout: {args.repo}")
    print(f"{'case':<28} {'bytes':>6} {'seconds':>8} {'peak MB':>8} {'exit':>7} {'load_any s':>10}")
    with tempfile.TemporaryDirectory() as folder:
        cases = [("baseline: petstore", ROOT / "tests" / "data" / "openapi" / "oai-v3.0-petstore.yaml")]
        cases += [(name, write_bomb(Path(folder), name)) for name in sorted(BOMBS)]
        tuples = Path(folder) / "tuple-fan-out.yaml"
        tuples.write_text(fan_out("{type: array, items: [{NEXT}, {NEXT}]}", "{type: string}", 24), encoding="utf-8")
        cases.append(("tuple-items fan-out (24)", tuples))
        for name, path in cases:
            seconds, peak, code = measure(args.repo, path, args.timeout)
            load = load_seconds(args.repo, path, args.timeout)
            print(f"{name:<28} {path.stat().st_size:>6} {seconds:>8.2f} {peak:>8.0f} {code:>7} {load:>10}", flush=True)


if __name__ == "__main__":
    main()
