"""A flood of requests whose pattern RE2 cannot run: does ``/__postmock/health`` still answer at once?

    .venv/bin/python benchmarks/redos_flood.py [--requests 40] [--rounds 7] [--repo PATH]

Starts ``postmock serve --validate-requests`` (from ``--repo``, default this checkout, so an
older checkout can be measured the same way) on a document whose query parameter has the
lookaround pattern ``^(?!b)(a|a)*$`` (RE2 cannot run it: it runs on the ``regex`` module within
the request's budget). Each round sends ``--requests`` concurrent attack requests
(``q=aaa…a!``, each using its whole budget) and, 200 ms later, one health request; then the same
number of valid requests (``q=aaaa``) and a health request, for the baseline. Prints the median
and the worst health latency of the rounds, for attacks and for valid requests.
Not a test; 127.0.0.1 only; the server is stopped by its PID.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

import httpx
from harness import served_document

ROOT = Path(__file__).resolve().parents[1]
SPEC = """\
openapi: 3.0.3
info: {title: lookaround, version: "1"}
paths:
  /s:
    get:
      parameters:
        - {name: q, in: query, required: true, schema: {type: string, pattern: '^(?!b)(a|a)*$'}}
      responses:
        "200": {description: ok, content: {application/json: {example: {ok: true}}}}
"""


async def round_trip(url: str, query: str, count: int) -> tuple[float, set[int]]:
    """Health latency (ms) while ``count`` requests with ``q=query`` are in flight, and their statuses."""
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=count + 5)) as client:
        await client.get(url + "/__postmock/health")

        async def health() -> float:
            await asyncio.sleep(0.2)
            started = time.perf_counter()
            await client.get(url + "/__postmock/health")
            return (time.perf_counter() - started) * 1000

        timing = asyncio.create_task(health())
        answers = await asyncio.gather(*(client.get(url + "/s", params={"q": query}) for _ in range(count)))
        return await timing, {answer.status_code for answer in answers}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40, help="concurrent requests per round (default 40)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (default 7)")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose postmock_nb is measured")
    args = parser.parse_args()
    attack: list[float] = []
    valid: list[float] = []
    statuses: set[int] = set()
    with served_document(SPEC, "lookaround.yaml", args.repo, "--validate-requests") as url:
        for _ in range(args.rounds):
            health_ms, answered = asyncio.run(round_trip(url, "a" * 28 + "!", args.requests))
            attack.append(health_ms)
            statuses |= answered
            valid.append(asyncio.run(round_trip(url, "aaaa", args.requests))[0])
    print(f"checkout: {args.repo}")
    print(f"health under {args.requests} concurrent lookaround attacks: median {statistics.median(attack):7.1f} ms, "
          f"worst {max(attack):7.1f} ms (attacks answered {sorted(statuses)})")
    print(f"health under {args.requests} concurrent valid requests:     median {statistics.median(valid):7.1f} ms, "
          f"worst {max(valid):7.1f} ms")


if __name__ == "__main__":
    main()
