"""Scenario states and sequence positions: the state of :mod:`postmock_nb.behaviours.flows`, behind one store.

:class:`FlowState` is the narrow interface (what a shared backend implements); :class:`MemoryFlowState`
keeps it in this process. The store holds only state: which examples take part, and in which way, is
read from the snapshot by :class:`~postmock_nb.behaviours.flows.Flows`, which also serialises one
decision (read a state, take a turn, move the scenario) under its own lock. A store several processes share
(:class:`AtomicFlowState`, ``--state``) applies a decision itself, given as data (:class:`Rules`), in one atomic step.

Threads: the server thread calls :meth:`~FlowState.state`, :meth:`~FlowState.set_state`,
:meth:`~FlowState.advance` (or :meth:`AtomicFlowState.decide`) while it serves; the kernel thread (``%mock
reset``, the dashboard, ``Session.status``) and the admin API call :meth:`~FlowState.states` and
:meth:`~FlowState.reset`. :class:`MemoryFlowState` takes one lock for each call, so any thread may call it.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

STARTED = "Started"
"""The state every scenario starts in (WireMock's name)."""

SequenceKey = tuple[str, ...]
"""A sequence is known by its item: the item's folders, then its name."""

Move = tuple[str, str]
"""A scenario and the state a decision moves it to."""

_UNSEEDED = random.Random()


def seeded_pick(seed: int | None, turn: int, count: int, roll: int | None = None) -> int:
    """The pick of a ``random`` sequence at its ``turn`` among ``count`` examples. With a seed, the same for the
    same seed and turn in every process, in memory or on Redis (the first 32 bits of SHA-1 of ``"{seed}:{turn}"``,
    which Redis's Lua computes alike), so repeatable from a reset; else ``roll % count`` (a roll drawn now when
    None)."""
    if seed is None:
        return (roll if roll is not None else _UNSEEDED.getrandbits(30)) % count
    return int(hashlib.sha1(f"{seed}:{turn}".encode(), usedforsecurity=False).hexdigest()[:8], 16) % count


def new_roll() -> int:
    """A draw for an unseeded ``random`` sequence (see :func:`seeded_pick`)."""
    return _UNSEEDED.getrandbits(30)


@runtime_checkable
class FlowState(Protocol):
    """Scenario states (a scenario not moved is in :data:`STARTED`) and sequence positions (from 0)."""

    def state(self, scenario: str) -> str:
        """The scenario's current state (:data:`STARTED` when it has not moved)."""
        ...

    def set_state(self, scenario: str, state: str) -> None:
        """Move the scenario to ``state``."""
        ...

    def states(self) -> dict[str, str]:
        """Every scenario that moved since its last reset → its state."""
        ...

    def advance(self, key: SequenceKey) -> int:
        """The sequence's position (its turns taken so far), then one more turn taken."""
        ...

    def draw(self, key: SequenceKey, seed: int | None, count: int) -> int:
        """A random turn in ``range(count)`` for a ``random`` sequence; with a seed, repeatable from its reset."""
        ...

    def reset(self, scenario: str | None = None) -> list[str]:
        """``None``: every scenario back to Started and every sequence to its first turn; returns the
        scenarios that had moved. A name: that scenario only; returns ``[name]`` if it had moved, else ``[]``."""
        ...


@dataclass(frozen=True)
class Rule:
    """One scored candidate of a decision, as a shared store applies it (ranked: the first eligible one wins)."""

    requires: tuple[str, str] | None = None
    """The scenario and the state it must be in for this candidate to be eligible; None: always eligible."""
    group: int = -1
    """Its sequence (the item's number in the decision), or -1: not in a sequence."""
    order: int = 0
    """Its place in the collection (a sequence's turns go in this order)."""
    kind: str = ""
    """Its sequence's mode (``cycle``, ``stick``, ``random``), or empty."""
    seed: int | None = None
    move: Move | None = None
    """The scenario it moves when it answers, and to which state."""


@dataclass(frozen=True)
class Rules:
    """One decision of :class:`~postmock_nb.behaviours.flows.Flows` as data, for a shared store to apply
    atomically (:meth:`AtomicFlowState.decide`): the same rule as :func:`~postmock_nb.behaviours.flows.draft`
    then :meth:`~postmock_nb.behaviours.flows.FlowDraft.take`, which then build the result on what it read."""

    candidates: tuple[Rule, ...]
    sequences: Mapping[int, SequenceKey]
    """Each group's sequence (whose turn a winner of that group takes)."""
    roll: int
    """The draw of an unseeded ``random`` sequence (its pick is ``roll % count``)."""


@runtime_checkable
class AtomicFlowState(FlowState, Protocol):
    """A :class:`FlowState` shared by several processes (``--state``): it applies one decision atomically, awaited
    on the server's event loop (see postmock_nb.serving.shared.flowstate)."""

    async def decide(self, rules: Rules) -> tuple[dict[str, str], int | None]:
        """Apply ``rules`` as one atomic step: read the states the candidates require, take the winner's
        sequence's turn, move its scenario. Returns the states read (scenario → state) and the turn taken (None:
        none), on which the decision is then built again in this process (the same, by construction)."""
        ...


class MemoryFlowState:
    """:class:`FlowState` in this process's memory (one lock: any thread may call it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, str] = {}
        self._turns: dict[SequenceKey, int] = {}
        self._draws: dict[SequenceKey, int] = {}

    def state(self, scenario: str) -> str:
        with self._lock:
            return self._states.get(scenario, STARTED)

    def set_state(self, scenario: str, state: str) -> None:
        with self._lock:
            self._states[scenario] = state

    def states(self) -> dict[str, str]:
        with self._lock:
            return dict(self._states)

    def advance(self, key: SequenceKey) -> int:
        with self._lock:
            turn = self._turns.get(key, 0)
            self._turns[key] = turn + 1
            return turn

    def draw(self, key: SequenceKey, seed: int | None, count: int) -> int:
        with self._lock:
            taken = self._draws.get(key, 0)
            self._draws[key] = taken + 1
        return seeded_pick(seed, taken, count)

    def reset(self, scenario: str | None = None) -> list[str]:
        with self._lock:
            if scenario is None:
                done = sorted(self._states)
                self._states.clear()
                self._turns.clear()
                self._draws.clear()
                return done
            return [scenario] if self._states.pop(scenario, None) is not None else []
