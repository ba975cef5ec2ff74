"""Fuzz counts: send every case of tests/support/fuzzkit.py to a real mock and count the answers.

    python benchmarks/fuzz_counts.py [--server hypercorn|uvicorn|granian] [--show-failures]

Prints sent / 2xx / 3xx / 4xx / 5xx (and how many 5xx the example itself asked for) /
dropped (no complete final response) / bad framing / log mismatches (the log's status is
not the wire's). Not a test: the assertions live in tests/server/test_fuzz.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support import fuzzkit

from postmock_nb.serving import servers
from postmock_nb.serving.server import MockServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=servers.NAMES, default=servers.DEFAULT, help="the HTTP server to fuzz")
    parser.add_argument("--show-failures", action="store_true", help="list every dropped, 5xx or mismatched case")
    args = parser.parse_args()
    with MockServer(fuzzkit.fuzz_collection(), log_size=5000, server=args.server) as server:
        outcomes = fuzzkit.run(server)
        answering = fuzzkit.still_answers(server)
        errors = len(server.errors)
    print(json.dumps(fuzzkit.counts(outcomes) | {"still_answering": answering, "server_errors": errors}))
    if args.show_failures:
        for outcome in outcomes:
            bad = (outcome.status is None or outcome.problem or (outcome.status >= 500 and not outcome.case.allow_5xx)
                   or (outcome.logged_status is not None and outcome.logged_status != outcome.status))
            if bad:
                print(f"  {outcome.case.label[:70]:<70} wire={outcome.status} log={outcome.logged_status} "
                      f"{outcome.problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
