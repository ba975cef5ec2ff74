"""The flow-state store (postmock_nb.behaviours.state): the in-memory one keeps the contract of
tests/support/flowstate_contract.py (which a store of another backend reuses by giving a factory)."""

from __future__ import annotations

import pytest
from support.flowstate_contract import FlowStateContract

from postmock_nb.behaviours.state import FlowState, MemoryFlowState, seeded_pick


class TestMemoryFlowState(FlowStateContract):
    def make(self) -> FlowState:
        return MemoryFlowState()


def test_the_behaviours_read_and_reset_the_store_they_are_given():
    from postmock_nb.behaviours.dispatch import Behaviours

    store = MemoryFlowState()
    behaviours = Behaviours(flow_state=store)
    store.set_state("jobs", "done")
    assert behaviours.scenario_states() == {"jobs": "done"}
    assert behaviours.reset_scenarios() == ["jobs"] and store.states() == {}


def test_a_seeded_pick_depends_on_the_seed_and_the_turn_only() -> None:
    picks = [seeded_pick(7, turn, 6) for turn in range(30)]
    assert picks == [seeded_pick(7, turn, 6) for turn in range(30)]  # every process, every store: the same
    assert set(picks) <= set(range(6)) and len(set(picks)) > 1
    assert picks != [seeded_pick(8, turn, 6) for turn in range(30)]


@pytest.mark.parametrize("count", [1, 2, 5])
def test_an_unseeded_pick_is_in_range(count: int) -> None:
    assert all(0 <= seeded_pick(None, turn, count) < count for turn in range(20))
