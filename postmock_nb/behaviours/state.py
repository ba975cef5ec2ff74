"""Scenario states and sequence positions: the state of :mod:`postmock_nb.behaviours.flows`, behind one store.

:class:`FlowState` is the narrow interface (what a shared backend implements); :class:`MemoryFlowState`
keeps it in this process. The store holds only state: which examples take part, and in which way, is
read from the snapshot by :class:`~postmock_nb.behaviours.flows.Flows`, which also serialises one
decision (read a state, take a turn, move the scenario) under its own lock.

Threads: the server thread calls :meth:`~FlowState.state`, :meth:`~FlowState.set_state`,
:meth:`~FlowState.advance` and :meth:`~FlowState.draw` while it serves; the kernel thread (``%mock
reset``, the dashboard, ``Session.status``) and the admin API call :meth:`~FlowState.states` and
:meth:`~FlowState.reset`. :class:`MemoryFlowState` takes one lock for each call, so any thread may call it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar, runtime_checkable

STARTED = "Started"
"""The state every scenario starts in (WireMock's name)."""

SequenceKey = tuple[str, ...]
"""A sequence is known by its item: the item's folders, then its name."""

Move = tuple[str, str]
"""A scenario and the state a decision moves it to."""

_UNSEEDED = random.Random()


def seeded_pick(seed: int | None, turn: int, count: int) -> int:
    """The pick of a ``random`` sequence at its ``turn`` among ``count`` examples: with a seed, the same for the
    same seed and turn in every process (so repeatable from a reset, in memory or on Redis); else at random."""
    if seed is None:
        return _UNSEEDED.randrange(count)
    return random.Random(f"{seed}:{turn}").randrange(count)


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


DecidedT = TypeVar("DecidedT")
DecidedT_co = TypeVar("DecidedT_co", covariant=True)


class Draft(Protocol[DecidedT_co]):
    """A decision made on the scenario states it read, still to take its sequence's turn."""

    @property
    def sequence(self) -> SequenceKey | None:
        """The sequence whose turn the decision takes (None: none)."""
        ...

    def take(self, turn: int | None) -> tuple[DecidedT_co, Move | None]:
        """The decision at the sequence's ``turn`` (None when it has no sequence), and the scenario it moves (None:
        none): pure, and made again on other states when a store's compare-and-set lost a race."""
        ...


@runtime_checkable
class AtomicFlowState(FlowState, Protocol):
    """A :class:`FlowState` shared by several processes (``--state``): it makes one decision atomically, awaited
    on the server's event loop (see postmock_nb.serving.shared.flowstate)."""

    async def decide(self, scenarios: Sequence[str],
                     draft: Callable[[Mapping[str, str]], Draft[DecidedT]]) -> DecidedT:
        """``draft(states of scenarios)``, its turn taken and its move made as one atomic step; the decision."""
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
