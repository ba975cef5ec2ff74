"""The arithmetic behind the benchmarks' verdicts: benchmarks/harness.py's per-round ratio, servers_bench.py's
issue goals, workers_scaling.py's CPU shares (pure: figures in, figures out; no server, no wrk)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> dict[str, ModuleType]:
    saved = list(sys.path)
    sys.path.insert(0, str(BENCHMARKS))  # the scripts import each other by their file names (and add to the path)
    try:
        import harness  # deferred: benchmarks/ is on the path only from here
        import servers_bench  # deferred: as above
        import workers_scaling  # deferred: as above
    finally:
        sys.path[:] = saved
    return {"harness": harness, "servers_bench": servers_bench, "workers_scaling": workers_scaling}


def test_a_ratio_is_the_median_of_the_per_round_ratios(bench: dict[str, ModuleType]) -> None:
    # the ratio of the medians (45 / 12) would be 3.75; the rounds' own ratios are 1.0, 1.5 and 5.0
    assert bench["harness"].round_ratio([10.0, 45.0, 60.0], [10.0, 30.0, 12.0]) == 1.5


def figures(**runs: list[float]) -> dict[str, dict[str, list[float]]]:
    return {name.replace("_", "/", 1).replace("_", "-"): {"runs": values} for name, values in runs.items()}


def test_the_goals_are_issue_25s(bench: dict[str, ModuleType]) -> None:
    rounds = 7
    rows = {row["ratio"]: row for row in bench["servers_bench"].ratios(figures(
        granian_asgi_hello=[100.0] * rounds, granian_mock_1=[80.0] * rounds, granian_mock_1000=[79.0] * rounds,
        granian_mock_10000=[76.0] * rounds, **{"wiremock-1": [66.0] * rounds, "wiremock-1000": [8.0] * rounds},
        hypercorn_quart_hello=[10.0] * rounds, hypercorn_mock_1=[15.0] * rounds,
        hypercorn_mock_10000=[14.0] * rounds), ["hypercorn", "granian"])}

    assert {label: (row["goal"], row["met"]) for label, row in rows.items() if row["goal"] is not None} == {
        "granian mock-1 / granian asgi-hello": (0.8, True),
        "granian mock-1 / WireMock 1 stub": (1.2, True),
        "granian mock-1000 / WireMock 1,000 stubs": (10.0, False),  # 9.875x
        "granian mock-10000 / mock-1": (0.95, True),
        "hypercorn mock-1 / hypercorn quart-hello": (1.5, True),
        "hypercorn mock-10000 / mock-1": (0.95, False),  # 0.933x
    }


def test_the_hypercorn_goal_is_not_judged_on_fewer_than_7_rounds(bench: dict[str, ModuleType]) -> None:
    rows = bench["servers_bench"].ratios(figures(hypercorn_quart_hello=[10.0] * 3, hypercorn_mock_1=[16.0] * 3),
                                         ["hypercorn"])

    assert [(row["value"], row["met"]) for row in rows] == [(1.6, "not judged: 3 rounds, the goal is on 7")]


def test_cpu_shares_split_the_cores_between_the_sides(bench: dict[str, ModuleType]) -> None:
    clock = bench["workers_scaling"].Clock
    before = clock(mock=(1.0, 2.0), wrk=0.0, redis=5.0, busy=10.0, total=20.0)
    after = clock(mock=(2.0, 3.0), wrk=0.5, redis=5.5, busy=13.6, total=24.0)  # 4 s of the cores, 3.6 busy

    cpu, per_process = bench["workers_scaling"].shares(before, after)

    assert per_process == [0.25, 0.25]
    assert cpu == pytest.approx({"mock": 0.5, "wrk": 0.125, "redis-server": 0.125, "other": 0.15, "idle": 0.1})


def test_a_worker_that_served_next_to_nothing_is_counted(bench: dict[str, ModuleType]) -> None:
    idle_workers = bench["workers_scaling"].idle_workers

    assert (idle_workers([0.30, 0.28]), idle_workers([0.001, 0.45]), idle_workers([0.5])) == (0, 1, 0)
