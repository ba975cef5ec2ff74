"""``%mock start`` to the first served response, in a real IPython shell, on each server (goal < 300 ms).

    .venv/bin/python benchmarks/notebook_start.py [--rounds 5] [--servers hypercorn,uvicorn,granian]

Each round is a fresh Python process with an IPython ``InteractiveShell`` and the extension loaded
(as a kernel has it after ``%load_ext postmock_nb``) and one ``%%example``. It times, with
``time.perf_counter``, from calling ``%mock start --no-dashboard --server NAME`` to the end of the
first ``GET`` answered by it: ``cold`` is the first start in the process (the server's modules are
imported then), ``warm`` a start after ``%mock stop`` in the same process. Medians over the rounds.
The server runs on CPU 0 like every benchmark here (the whole process is pinned with taskset).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from postmock_nb.serving import servers

CHILD = r"""
import json, sys, time, urllib.request
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "postmock_nb")
shell.run_cell_magic("example", "GET /ping 200", "pong")
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
figures = []
for _ in range(2):
    started = time.perf_counter()
    shell.run_line_magic("mock", "start --no-dashboard --server " + sys.argv[1])
    with opener.open(shell.user_ns["mockUrl"] + "/ping", timeout=10) as response:
        assert response.read() == b"pong"
    figures.append((time.perf_counter() - started) * 1000)
    shell.run_line_magic("mock", "stop")
print("FIGURES " + json.dumps(figures))
"""

GOAL_MS = 300.0


def one_round(server: str) -> tuple[float, float]:
    done = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", CHILD, server], capture_output=True,
                          text=True, timeout=120, check=False)
    line = next((line for line in done.stdout.splitlines() if line.startswith("FIGURES ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"{server}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    cold, warm = json.loads(line.split(" ", 1)[1])
    return cold, warm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="%mock start to the first served response")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--servers", default=",".join(servers.installed()))
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.servers.split(",") if name.strip()]
    figures: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in names}
    for _ in range(args.rounds):
        for name in names:  # interleaved, like the other benchmarks
            cold, warm = one_round(name)
            figures[name][0].append(cold)
            figures[name][1].append(warm)
    print(f"%mock start -> first response, medians of {args.rounds} fresh processes (goal < {GOAL_MS:.0f} ms)")
    print("| server | cold ms | warm ms | goal |")
    print("| --- | ---: | ---: | --- |")
    for name, (cold_runs, warm_runs) in figures.items():
        median_cold, median_warm = statistics.median(cold_runs), statistics.median(warm_runs)
        print(f"| {name} | {median_cold:.0f} | {median_warm:.0f} | "
              f"{'MET' if max(median_cold, median_warm) < GOAL_MS else 'MISSED'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
