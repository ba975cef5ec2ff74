"""Sequences, scenarios and per-example delays (postmock_nb.behaviours.flows), in-process: the marker parsers,
the markers a cell's options become, and :class:`Flows` choosing among the engine's candidates. The same
through the magics on a real socket: tests/server/test_flows.py."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from postmock_nb.behaviours.flows import (
    STARTED,
    Flow,
    Flows,
    Step,
    _lost,
    _replaced,
    check_markers,
    draft,
    flow_markers,
    flow_of,
    parse_delay,
    parse_scenario,
    parse_sequence,
    required_scenarios,
    states_in,
)
from postmock_nb.behaviours.state import MemoryFlowState, Rules
from postmock_nb.config import MAX_DELAY_MS
from postmock_nb.errors import ExampleDefinitionError
from postmock_nb.matching import Candidate, IncomingRequest, MatchResult, match
from postmock_nb.matching.snapshot import Snapshot


@pytest.mark.parametrize(("text", "step"), [
    ("jobs", Step("jobs")),
    ("jobs; requires=Started; next=done", Step("jobs", "Started", "done")),
    (" jobs ;NEXT = done; ", Step("jobs", None, "done")),  # keys in any case, spaces and a trailing ; ignored
])
def test_parse_scenario(text: str, step: Step) -> None:
    assert parse_scenario(text) == step


@pytest.mark.parametrize("text", ["", "; requires=Started", "jobs; after=done"])
def test_a_scenario_that_cannot_be_read_is_refused_with_its_syntax(text: str) -> None:
    with pytest.raises(ExampleDefinitionError) as raised:
        parse_scenario(text)
    assert "x-mock-scenario: jobs; requires=Started; next=done" in str(raised.value.hint)


@pytest.mark.parametrize("text", ["jobs; requires", "jobs; next=", "jobs; =done"])
def test_a_field_that_is_not_key_value_is_named(text: str) -> None:
    with pytest.raises(ExampleDefinitionError, match="expected key=value"):
        parse_scenario(text)


@pytest.mark.parametrize(("text", "parsed"), [
    ("cycle", ("cycle", None)), ("sequential", ("cycle", None)), ("STICK", ("stick", None)),
    ("random", ("random", None)), ("random; seed=7", ("random", 7)),
])
def test_parse_sequence(text: str, parsed: tuple[str, int | None]) -> None:
    assert parse_sequence(text) == parsed


@pytest.mark.parametrize("text", ["shuffle", "random; seed=x", "random; seed=-1", "cycle; every=2"])
def test_a_sequence_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(ExampleDefinitionError, match="cannot read the sequence"):
        parse_sequence(text)


def test_parse_delay_reads_a_value_or_a_range_within_the_limit() -> None:
    assert parse_delay("800") == (800, 800)
    assert parse_delay(" 200-900 ") == (200, 900)
    assert parse_delay(f"0-{MAX_DELAY_MS}") == (0, MAX_DELAY_MS)
    for bad in ("", "fast", "900-200", f"{MAX_DELAY_MS + 1}", "-5", "1.5"):
        with pytest.raises(ExampleDefinitionError, match="cannot read the delay"):
            parse_delay(bad)


def test_flow_of_reads_the_markers_and_ignores_the_unreadable(build) -> None:
    plain = build.example("GET /a")
    assert flow_of(plain) is None
    marked = build.example("GET /a", request_headers={"X-Mock-Scenario": "jobs; next=done", "x-mock-sequence": "random; seed=3",
                                                      "x-mock-delay": "5-10", "x-mock-fault": "reset"})
    assert flow_of(marked) == Flow(Step("jobs", None, "done"), "random", 3, (5, 10), "reset")
    unreadable = build.example("GET /a", request_headers={"x-mock-delay": "soon", "x-mock-sequence": "cycle"})
    assert flow_of(unreadable) == Flow(sequence="cycle")  # checked when defined, skipped when served


def test_check_markers_names_the_marker_that_cannot_be_read() -> None:
    check_markers((("x-mock-delay", "10"), ("Accept", "anything; at=all")))
    with pytest.raises(ExampleDefinitionError, match="cannot read the delay"):
        check_markers((("X-Mock-Delay", "later"),))
    with pytest.raises(ExampleDefinitionError) as raised:
        check_markers((("x-mock-fault", "explode"),))
    assert "--fault reset" in str(raised.value.hint)


def test_flow_markers_are_the_header_lines_of_the_options() -> None:
    assert flow_markers() == []
    assert flow_markers(sequence="cycle", scenario="jobs", requires="Started", next_state="done", delay="5",
                        fault="reset") == ["x-mock-sequence: cycle", "x-mock-scenario: jobs; requires=Started; next=done",
                                           "x-mock-delay: 5", "x-mock-fault: reset"]
    with pytest.raises(ExampleDefinitionError, match="need a --scenario name"):
        flow_markers(next_state="done")
    with pytest.raises(ExampleDefinitionError):
        flow_markers(sequence="sometimes")


def _jobs(build) -> Snapshot:
    return Snapshot(build.collection(
        build.example("GET /jobs/7", "pending", body="pending",
                      request_headers={"x-mock-scenario": "jobs; requires=Started; next=done"}),
        build.example("GET /jobs/7", "done", body="done", request_headers={"x-mock-scenario": "jobs; requires=done"}),
    ))


def _answer(flows: Flows, snapshot: Snapshot, url: str, headers: dict[str, str] | None = None) -> str | None:
    result = flows.choose(match(snapshot, IncomingRequest.build("GET", url, headers)), snapshot)
    return None if result.winner is None else result.winner.name


def test_a_scenario_answers_by_its_state_and_moves_it(build) -> None:
    flows, snapshot = Flows(), _jobs(build)
    assert flows.states(snapshot) == {"jobs": STARTED}
    assert [_answer(flows, snapshot, "/jobs/7") for _ in range(3)] == ["pending", "done", "done"]
    assert flows.states() == {"jobs": "done"}
    assert flows.reset() == ["jobs"] and flows.states(snapshot) == {"jobs": STARTED}
    assert _answer(flows, snapshot, "/jobs/7") == "pending"
    assert flows.reset("other") == [] and flows.reset("jobs") == ["jobs"]


def test_no_example_for_the_state_says_why(build) -> None:
    flows = Flows()
    snapshot = Snapshot(build.collection(
        build.example("GET /jobs/7", "done", request_headers={"x-mock-scenario": "jobs; requires=done"})))
    result = flows.choose(match(snapshot, IncomingRequest.build("GET", "/jobs/7")), snapshot)
    assert result.winner is None
    assert result.error == ("no example for the current scenario state: "
                            "scenario 'jobs' is in state 'Started', this example requires 'done'")


def test_the_hot_path_copies_are_dataclasses_replace(build) -> None:
    for kind in (MatchResult, Candidate):  # what _replaced counts on: every field in the instance's __dict__
        assert not hasattr(kind, "__post_init__") and not hasattr(kind, "__slots__")
    snapshot = _jobs(build)
    result = match(snapshot, IncomingRequest.build("GET", "/jobs/7"))
    changes = {"winner": None, "score": None, "candidates": result.candidates[::-1], "error": "no example"}
    copy = _replaced(result, **changes)
    assert type(copy) is MatchResult and vars(copy) == vars(dataclasses.replace(result, **changes))
    assert vars(result)["error"] == "" and copy.error == "no example"  # the original is left as it was
    loser = result.candidates[1]
    assert loser.lost and vars(_lost(loser, "refused")) == vars(dataclasses.replace(loser, lost="refused"))
    assert _lost(loser, loser.lost) is loser and loser == dataclasses.replace(_lost(loser, ""), lost=loser.lost)


def test_a_picked_example_neither_requires_nor_moves_the_state(build) -> None:
    flows, snapshot = Flows(), _jobs(build)
    assert _answer(flows, snapshot, "/jobs/7", {"x-mock-response-name": "done"}) == "done"
    assert flows.states(snapshot) == {"jobs": STARTED}


@pytest.mark.parametrize(("mode", "turns"), [
    ("cycle", ["heads", "tails", "heads", "tails"]), ("stick", ["heads", "tails", "tails", "tails"]),
])
def test_a_sequence_answers_in_turn(build, mode: str, turns: list[str]) -> None:
    flows = Flows()
    snapshot = Snapshot(build.collection(*(build.example("GET /coin", side, request_headers={"x-mock-sequence": mode})
                                           for side in ("heads", "tails"))))
    assert [_answer(flows, snapshot, "/coin") for _ in range(4)] == turns
    flows.reset()
    assert _answer(flows, snapshot, "/coin") == "heads"


def test_a_seeded_random_sequence_repeats(build) -> None:
    def draws() -> list[str | None]:
        flows = Flows()
        snapshot = Snapshot(build.collection(*(
            build.example("GET /dice", str(face), request_headers={"x-mock-sequence": "random; seed=11"})
            for face in range(1, 7))))
        return [_answer(flows, snapshot, "/dice") for _ in range(20)]

    first = draws()
    assert first == draws() and set(first) <= {"1", "2", "3", "4", "5", "6"} and len(set(first)) > 1


def test_delay_and_fault_of_an_example(build) -> None:
    fixed = build.example("GET /a", "fixed", request_headers={"x-mock-delay": "40", "x-mock-fault": "close"})
    ranged = build.example("GET /b", "ranged", request_headers={"x-mock-delay": "10-20"})
    plain = build.example("GET /c", "plain")
    snapshot = Snapshot(build.collection(fixed, ranged, plain))
    flows = Flows()
    ids = {example.name: example.id for example in snapshot.collection.examples}
    assert flows.delay_ms(ids["fixed"], snapshot) == 40 and flows.fault(ids["fixed"], snapshot) == "close"
    assert all(10 <= (flows.delay_ms(ids["ranged"], snapshot) or -1) <= 20 for _ in range(20))
    assert flows.delay_ms(ids["plain"], snapshot) is None and flows.fault(ids["plain"], snapshot) is None
    assert set(flows.plan(snapshot)) == {ids["fixed"], ids["ranged"]}


# -- the decision is pure: draft(states) then take(turn); a store applies it (memory: under the lock) ----------

def _walk(build) -> Snapshot:
    """A 4-step scenario (Started → a → b → c → Started) on one route, and a cycle of two on another."""
    steps = [("Started", "a"), ("a", "b"), ("b", "c"), ("c", "Started")]
    return Snapshot(build.collection(
        *(build.example("GET /job", f"step{i}", request_headers={"x-mock-scenario": f"job; requires={r}; next={n}"})
          for i, (r, n) in enumerate(steps)),
        *(build.example("GET /coin", side, request_headers={"x-mock-sequence": "cycle"}) for side in ("heads", "tails"))))


def test_a_draft_reads_only_the_states_the_candidates_require(build) -> None:
    snapshot = _walk(build)
    job, coin = (match(snapshot, IncomingRequest.build("GET", url)) for url in ("/job", "/coin"))
    assert required_scenarios(job, snapshot.flow_plan) == ("job",)
    assert required_scenarios(coin, snapshot.flow_plan) == ()
    made = draft(job, snapshot.flow_plan, snapshot, states_in({"job": "b"}))
    assert made.sequence is None and [c.example.name for c in made.eligible] == ["step2"]
    chosen, move = made.take(None)
    assert chosen.winner is not None and chosen.winner.name == "step2" and move == ("job", "c")
    again, moved_again = made.take(None)  # pure: taken again (a lost race), the same decision
    assert again.winner == chosen.winner and moved_again == move


def test_a_draft_at_each_turn_of_a_sequence(build) -> None:
    snapshot = _walk(build)
    coin = match(snapshot, IncomingRequest.build("GET", "/coin"))
    made = draft(coin, snapshot.flow_plan, snapshot, states_in({}))
    assert made.sequence is not None
    names = [made.take(turn)[0].winner.name for turn in range(4)]  # type: ignore[union-attr]
    assert names == ["heads", "tails", "heads", "tails"] and made.take(0)[1] is None


def test_a_draft_with_no_eligible_example_moves_nothing(build) -> None:
    snapshot = _jobs(build)
    result = match(snapshot, IncomingRequest.build("GET", "/jobs/7"))
    chosen, move = draft(result, snapshot.flow_plan, snapshot, states_in({"jobs": "elsewhere"})).take(None)
    assert chosen.winner is None and move is None
    assert "scenario 'jobs' is in state 'elsewhere'" in (chosen.error or "")


class _RulesStore(MemoryFlowState):
    """An atomic store applying :class:`Rules` in Python, as the Redis script does in Lua (a reference for the
    rule as data: the result Flows builds on what it read must be the one memory makes)."""

    def __init__(self) -> None:
        super().__init__()
        self.decisions = 0

    async def decide(self, rules: Rules) -> tuple[dict[str, str], int | None]:
        self.decisions += 1
        read = {rule.requires[0]: self.state(rule.requires[0]) for rule in rules.candidates if rule.requires}
        eligible = [i for i, rule in enumerate(rules.candidates)
                    if rule.requires is None or read[rule.requires[0]] == rule.requires[1]]
        if not eligible:
            return read, None
        winner, turn = rules.candidates[eligible[0]], None
        if winner.group >= 0:
            members = sorted((rules.candidates[i] for i in eligible if rules.candidates[i].group == winner.group),
                             key=lambda rule: rule.order)
            turn = self.advance(rules.sequences[winner.group])
            winner = members[{"stick": min(turn, len(members) - 1)}.get(winner.kind, turn % len(members))]
        if winner.move is not None:
            self.set_state(*winner.move)
        return read, turn


def test_a_shared_store_decides_by_the_rules_and_the_result_is_that_of_memory(build) -> None:
    snapshot, rules = _walk(build), _RulesStore()
    shared, memory = Flows(), Flows()
    shared.use(rules)
    assert shared.atomic is rules and memory.atomic is None

    def walk(flows: Flows, url: str) -> list[str | None]:
        async def one() -> str | None:
            result = await flows.achoose(match(snapshot, IncomingRequest.build("GET", url)), snapshot)
            return None if result.winner is None else result.winner.name
        return [asyncio.run(one()) for _ in range(5)]

    assert walk(shared, "/job") == walk(memory, "/job") == ["step0", "step1", "step2", "step3", "step0"]
    assert walk(shared, "/coin") == walk(memory, "/coin") == ["heads", "tails", "heads", "tails", "heads"]
    assert rules.decisions == 10 and shared.states() == memory.states() == {"job": "a"}


def test_use_switches_the_store_and_back_without_copying(build) -> None:
    snapshot, flows, other = _jobs(build), Flows(), MemoryFlowState()
    assert _answer(flows, snapshot, "/jobs/7") == "pending"  # in memory: jobs = done
    flows.use(other)
    assert flows.states(snapshot) == {"jobs": STARTED} and _answer(flows, snapshot, "/jobs/7") == "pending"
    other.reset()
    flows.use(None)  # back: the states it had
    assert flows.states() == {"jobs": "done"} and flows.atomic is None


class _Refusing(MemoryFlowState):
    """An atomic store out of reach: any decision asked of it fails (as Redis down would)."""

    async def decide(self, rules: Rules) -> tuple[dict[str, str], int | None]:
        raise AssertionError("asked for a decision")


def test_a_winner_with_no_scenario_or_sequence_asks_the_shared_store_nothing(build) -> None:
    snapshot = Snapshot(build.collection(
        build.example("GET /jobs/7", "pending", request_headers={"x-mock-scenario": "jobs; requires=Started"}),
        build.example("GET /ping", "ping"),
        build.example("GET /last", "last", request_headers={"x-mock-scenario": "jobs; next=done"})))
    flows = Flows()
    flows.use(_Refusing())

    async def name(url: str) -> str | None:
        result = await flows.achoose(match(snapshot, IncomingRequest.build("GET", url)), snapshot)
        return None if result.winner is None else result.winner.name

    assert asyncio.run(name("/ping")) == "ping"  # the snapshot has flows; this winner has none: no round trip
    with pytest.raises(AssertionError, match="asked for a decision"):
        asyncio.run(name("/last"))  # moves a scenario: Redis's to do
