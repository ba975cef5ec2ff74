"""Examples served in turn and by state: response sequences, scenarios and per-example delays.

Three markers in an example's saved request headers (``x-mock-*`` headers: never matched, ignored by
Postman, kept by ``%mock save``/``load`` and ``postmock serve``):

- ``x-mock-sequence: cycle`` (or ``stick``, ``random``, ``random; seed=7``): the examples of one item
  that carry it and fit a request answer in turn — ``cycle`` starts again after the last, ``stick``
  stays at the last, ``random`` picks one (repeatably with a seed). ``sequential`` is ``cycle``.
- ``x-mock-scenario: jobs; requires=Started; next=done`` (WireMock's scenarios): the example answers
  only while scenario ``jobs`` is in state ``Started``, and moves it to ``done`` when it answers. Every
  scenario starts in :data:`STARTED`; ``requires`` or ``next`` may be left out.
- ``x-mock-delay: 800`` or ``200-900``: this example's answer waits that many milliseconds (a range: a
  random wait inside it).

The matching engine stays pure: it ranks the candidates as always, and :meth:`Flows.choose` (called
by the app once per matched request, only when the snapshot carries such markers) drops the
candidates whose scenario is in another state, takes the sequence's turn and moves the scenario,
under one lock. The decision itself is pure (:func:`draft` over the states read, then
:meth:`FlowDraft.take` at the sequence's turn): in memory :class:`Flows` applies it under its lock;
a shared store (``--state``, an :class:`~postmock_nb.behaviours.state.AtomicFlowState`) applies the same rule,
given as data (:func:`rules_of`), atomically on Redis, and the result is built on what it read
(:meth:`Flows.achoose`, awaited on the server's loop). An explicit
``x-mock-response-name``/``-id`` picks its example as before: it neither advances a sequence nor requires
or moves a scenario state (a look at one example, not a step).

Limit: the engine scores at least ``ALWAYS_SCORED`` (50) candidates of a request and may skip others
that cannot win on points; beyond 50 examples fitting one request, a skipped one cannot be re-picked.

The :class:`Flows` of a session lives in its :class:`~postmock_nb.behaviours.dispatch.Behaviours` (state
survives a server restart; ``%mock reset`` and ``DELETE /__postmock/scenarios`` reset it). The state itself
(scenario states, sequence positions) is kept by a :class:`~postmock_nb.behaviours.state.FlowState` store,
given to :class:`Flows` by whoever builds the mock (in memory unless told otherwise).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from postmock_nb.behaviours.state import (
    STARTED,
    AtomicFlowState,
    FlowState,
    MemoryFlowState,
    Move,
    Rule,
    Rules,
    SequenceKey,
    new_roll,
    seeded_pick,
)
from postmock_nb.core.markers import (
    DELAY_MARKER,
    FAULT_MARKER,
    RESPONSE_ID,
    RESPONSE_NAME,
    SCENARIO_MARKER,
    SEQUENCE_MARKER,
    Flow,
    Step,
    check_markers,
    parse_delay,
    parse_scenario,
    parse_sequence,
    read_markers,
)
from postmock_nb.core.model import Example
from postmock_nb.errors import ExampleDefinitionError
from postmock_nb.matching import Candidate, MatchResult
from postmock_nb.matching.snapshot import Snapshot

__all__ = ["STARTED", "Flow", "Flows", "Step", "check_markers", "flow_markers", "flow_of", "parse_delay",
           "parse_scenario", "parse_sequence"]  # the markers' names and parsers live in core.markers


def flow_of(example: Example) -> Flow | None:
    """The example's flow markers, or None (a marker that cannot be read is ignored here: checked at definition).

    For an example outside a snapshot; a snapshot's examples have theirs in its :attr:`~Snapshot.flow_plan`.
    """
    return read_markers(example.request.headers).flow


def flow_markers(*, sequence: str = "", scenario: str = "", requires: str = "", next_state: str = "",
                 delay: str = "", fault: str = "") -> list[str]:
    """The marker header lines (``"x-mock-scenario: jobs; requires=Started"``) for ``%%example``'s options, checked."""
    lines = []
    if sequence:
        parse_sequence(sequence)
        lines.append(f"{SEQUENCE_MARKER}: {sequence}")
    if (requires or next_state) and not scenario:
        raise ExampleDefinitionError("--requires and --next need a --scenario name",
                                     hint="--scenario jobs --requires Started --next done")
    if scenario:
        text = scenario + (f"; requires={requires}" if requires else "")
        text += f"; next={next_state}" if next_state else ""
        parse_scenario(text)
        lines.append(f"{SCENARIO_MARKER}: {text}")
    if delay:
        parse_delay(delay)
        lines.append(f"{DELAY_MARKER}: {delay}")
    if fault:
        lines.append(f"{FAULT_MARKER}: {fault}")
        check_markers(((FAULT_MARKER, fault),))
    return lines


Chosen = tuple[MatchResult, Move | None]
"""What one decision made: the result to serve, and the scenario it moves (None: none)."""


class FlowDraft:
    """A decision made on the scenario states read (:func:`draft`), still to take its sequence's turn.

    A plain class with slots (it is made once per decision on the hot path): read-only by convention."""

    __slots__ = ("eligible", "group", "plan", "refused", "result", "roll", "sequence")

    def __init__(self, result: MatchResult, plan: Mapping[str, Flow], eligible: list[Candidate],
                 refused: dict[str, str], sequence: SequenceKey | None = None, group: Sequence[Candidate] = (),
                 roll: int | None = None) -> None:
        self.result = result
        self.roll = roll
        """The draw of an unseeded ``random`` sequence (None: drawn when taken)."""
        self.plan = plan
        self.eligible = eligible
        """The scored candidates whose scenario is in the state they require, ranked."""
        self.refused = refused
        """Example id → why its scenario's state refuses it."""
        self.sequence = sequence
        """The winner's sequence (its item's folders and name), whose turn :meth:`take` needs; None: none."""
        self.group = group
        """The eligible examples of that sequence, in their order."""

    def take(self, turn: int | None) -> Chosen:
        """The decision at the sequence's ``turn`` (None without a sequence): the winner, and its move."""
        result, refused = self.result, self.refused
        if not self.eligible:
            ranked = [_lost(c, refused.get(c.example.id, c.lost)) for c in result.candidates]
            return _replaced(result, winner=None, score=None, candidates=ranked,
                             error="no example for the current scenario state: " + "; ".join(
                                 dict.fromkeys(refused.values()))), None
        winner, why = self.eligible[0], ""
        flow = self.plan.get(winner.example.id)
        if self.sequence is not None and flow is not None and turn is not None:
            winner = self.group[_turn_of(flow, turn, len(self.group), self.roll)]
            why = f"sequence ({flow.sequence}): turn {turn + 1} is {winner.example.name!r}"
            flow = self.plan.get(winner.example.id)
        step = flow.step if flow is not None else None
        move = (step.scenario, step.next) if step is not None and step.next is not None else None
        if winner is result.candidates[0] and not refused:
            return result, move
        others = [_lost(c, refused.get(c.example.id) or why or c.lost or "")
                  for c in result.candidates if c is not winner]
        return _replaced(result, winner=winner.example, score=winner.score,
                         candidates=[_lost(winner, ""), *others]), move


_Frozen = TypeVar("_Frozen", MatchResult, Candidate)


def _replaced(made: _Frozen, **changes: object) -> _Frozen:
    """``dataclasses.replace(made, **changes)`` for a :class:`MatchResult` or :class:`Candidate` (frozen
    dataclasses without ``__post_init__``, slots or cached values): the fields copied at once rather than walked
    one by one, a few times faster on the hot path of every marked request."""
    copy: _Frozen = object.__new__(type(made))
    copy.__dict__.update(made.__dict__)
    copy.__dict__.update(changes)
    return copy


def _lost(candidate: Candidate, lost: str) -> Candidate:
    """The candidate with ``lost`` as the reason it lost (itself when that is its reason already: frozen)."""
    return candidate if candidate.lost == lost else _replaced(candidate, lost=lost)


def _turn_of(flow: Flow, turn: int, count: int, roll: int | None) -> int:
    """Which of a sequence's ``count`` examples answers at ``turn`` (``roll``: see seeded_pick)."""
    if flow.sequence == "random":
        return seeded_pick(flow.seed, turn, count, roll)
    if flow.sequence == "stick":
        return min(turn, count - 1)
    return turn % count  # cycle


def required_scenarios(result: MatchResult, plan: Mapping[str, Flow]) -> tuple[str, ...]:
    """The scenarios whose state a scored candidate of ``result`` requires (what a decision reads), in order."""
    names: dict[str, None] = {}
    for candidate in result.candidates:
        if candidate.score is None:
            continue
        flow = plan.get(candidate.example.id)
        if flow is not None and flow.step is not None and flow.step.requires is not None:
            names[flow.step.scenario] = None
    return tuple(names)


def draft(result: MatchResult, plan: Mapping[str, Flow], snapshot: Snapshot,
          state_of: Callable[[str], str], roll: int | None = None) -> FlowDraft:
    """The decision on the states ``state_of(scenario)`` gives (those of :func:`required_scenarios` are all it
    asks): the scored candidates whose scenario is in the state they require (why each other one is not), and the
    winner's sequence. Pure when ``state_of`` is."""
    refused: dict[str, str] = {}
    eligible: list[Candidate] = []
    for candidate in result.candidates:
        if candidate.score is None:
            continue
        flow = plan.get(candidate.example.id)
        if flow is not None:
            step = flow.step
            if step is not None and step.requires is not None:
                state = state_of(step.scenario)
                if state != step.requires:
                    refused[candidate.example.id] = (f"scenario {step.scenario!r} is in state {state!r}, "
                                                     f"this example requires {step.requires!r}")
                    continue
        eligible.append(candidate)
    if eligible:
        flow = plan.get(eligible[0].example.id)
        if flow is not None and flow.sequence is not None:
            item = snapshot.by_id[eligible[0].example.id].item
            group = sorted((c for c in eligible if snapshot.by_id[c.example.id].item is item
                            and (plan.get(c.example.id) or Flow()).sequence is not None), key=lambda c: c.order)
            return FlowDraft(result, plan, eligible, refused, (*item.folder, item.name), group, roll)
    return FlowDraft(result, plan, eligible, refused, roll=roll)


def rules_of(result: MatchResult, plan: Mapping[str, Flow], snapshot: Snapshot, roll: int) -> Rules:
    """:func:`draft` and :meth:`FlowDraft.take` as data (:class:`~postmock_nb.behaviours.state.Rules`), for a
    shared store to apply in one atomic step: each scored candidate's required state, sequence and move."""
    groups: dict[int, int] = {}  # id(item) → its group number
    sequences: dict[int, SequenceKey] = {}
    rules = []
    for candidate in result.candidates:
        if candidate.score is None:
            continue
        flow = plan.get(candidate.example.id)
        if flow is None:
            rules.append(Rule(order=candidate.order))
            continue
        step = flow.step
        group = -1
        if flow.sequence is not None:
            item = snapshot.by_id[candidate.example.id].item
            group = groups.setdefault(id(item), len(groups))
            sequences[group] = (*item.folder, item.name)
        rules.append(Rule(requires=(step.scenario, step.requires) if step is not None and step.requires is not None
                          else None, group=group, order=candidate.order, kind=flow.sequence or "", seed=flow.seed,
                          move=(step.scenario, step.next) if step is not None and step.next is not None else None))
    return Rules(tuple(rules), sequences, roll)


def states_in(states: Mapping[str, str]) -> Callable[[str], str]:
    """``state_of`` for :func:`draft` from the states read (a scenario not among them: Started)."""
    return lambda scenario: states.get(scenario, STARTED)


class Flows:
    """Scenario states and sequence turns of one session, kept by ``state`` (in memory by default).

    One decision (:meth:`choose`) is serialised by this object's lock; the store makes each of its own
    calls safe from any thread (the kernel resets and reads while the server thread serves). A shared store
    (:meth:`use`, ``--state``) makes the decision itself, atomically (:meth:`achoose`).
    """

    def __init__(self, *, state: FlowState | None = None) -> None:
        self._lock = threading.Lock()
        self._memory: FlowState = state if state is not None else MemoryFlowState()
        self.state: FlowState = self._memory
        """Scenario states and sequence positions (see postmock_nb.behaviours.state)."""
        self.atomic: AtomicFlowState | None = state if isinstance(state, AtomicFlowState) else None
        """The state when it is shared (``--state``): decisions are then :meth:`achoose`'s; else None."""
        self._delays = random.Random()

    def use(self, state: FlowState | None) -> None:
        """Keep the states in ``state`` from now on (a shared store, ``%mock start --state``), or None: back in
        the store this object was made with (its states as they were: nothing is copied either way)."""
        with self._lock:
            self.state = state if state is not None else self._memory
            self.atomic = state if isinstance(state, AtomicFlowState) else None

    @staticmethod
    def plan(snapshot: Snapshot) -> dict[str, Flow]:
        """Example id → its flow, for the examples of ``snapshot`` that have one (the snapshot's own table,
        :attr:`~postmock_nb.matching.snapshot.Snapshot.flow_plan`: read-only, shared by every thread)."""
        return snapshot.flow_plan

    def states(self, snapshot: Snapshot | None = None) -> dict[str, str]:
        """Every scenario (those of ``snapshot`` and those moved) → its current state."""
        found = self.state.states()
        if snapshot is not None:
            for flow in self.plan(snapshot).values():
                if flow.step is not None:
                    found.setdefault(flow.step.scenario, STARTED)
        return dict(sorted(found.items()))

    def reset(self, name: str | None = None) -> list[str]:
        """Scenarios (all, or ``name``) back to Started, sequences to their first turn; returns those reset."""
        with self._lock:  # never inside a decision of choose()
            return self.state.reset(name)

    def fault(self, example_id: str, snapshot: Snapshot) -> str | None:
        """The example's own fault, or None."""
        flow = self.plan(snapshot).get(example_id)
        return flow.fault if flow is not None else None

    def delay_ms(self, example_id: str, snapshot: Snapshot) -> int | None:
        """The example's own delay (a draw inside its range), or None."""
        flow = self.plan(snapshot).get(example_id)
        if flow is None or flow.delay is None:
            return None
        low, high = flow.delay
        with self._lock:
            return low if low == high else self._delays.randint(low, high)

    @staticmethod
    def _decides(result: MatchResult, snapshot: Snapshot) -> dict[str, Flow] | None:
        """The plan when ``result`` needs a decision; None when it is served as matched (no winner, an explicit
        ``x-mock-response-name``/``-id``, no flow marker on any of its candidates: no lock, no state read)."""
        plan = snapshot.flow_plan
        if not plan or result.winner is None or result.selector.startswith((RESPONSE_NAME, RESPONSE_ID)):
            return None
        for candidate in result.candidates:
            if candidate.example.id in plan:
                return plan
        return None

    def choose(self, result: MatchResult, snapshot: Snapshot) -> MatchResult:
        """The result with the scenario filter, the sequence's turn and the scenario move applied (this
        process: under the lock, on any :class:`FlowState`)."""
        plan = snapshot.flow_plan  # _decides, inlined (the hot path of a marked collection)
        if not plan or result.winner is None or result.selector.startswith((RESPONSE_NAME, RESPONSE_ID)):
            return result
        for candidate in result.candidates:
            if candidate.example.id in plan:
                break
        else:  # no candidate has a flow: served as matched
            return result
        with self._lock:
            state = self.state
            made = draft(result, plan, snapshot, state.state)
            chosen, move = made.take(state.advance(made.sequence) if made.sequence is not None else None)
            if move is not None:
                state.set_state(*move)
        return chosen

    async def achoose(self, result: MatchResult, snapshot: Snapshot) -> MatchResult:
        """:meth:`choose` made atomically by the shared store (``--state``), awaited on the server's loop."""
        plan = self._decides(result, snapshot)
        atomic = self.atomic
        if plan is None:
            return result
        if atomic is None:
            return self.choose(result, snapshot)
        scenarios = required_scenarios(result, plan)
        if not scenarios:  # reads no state: when it takes no turn and moves nothing, no round trip either
            made = draft(result, plan, snapshot, states_in({}))
            if made.sequence is None:
                chosen, move = made.take(None)
                if move is None:
                    return chosen
        roll = new_roll()
        states, turn = await atomic.decide(rules_of(result, plan, snapshot, roll))
        chosen, _ = draft(result, plan, snapshot, states_in(states), roll).take(turn)  # what the store applied
        return chosen
