"""The contract every FlowState keeps (postmock_nb.behaviours.state): :class:`FlowStateContract` is written against
the :class:`FlowState` protocol only; a store of another backend reuses it by subclassing with its own ``make`` (a
fresh, empty store each call): tests/unit/behaviours/test_state.py (in memory), tests/unit/serving/shared/
test_flowstate.py (on Redis)."""

from __future__ import annotations

import threading

from postmock_nb.behaviours.state import STARTED, FlowState


class FlowStateContract:
    """The tests every FlowState passes. Subclass it (``Test…``) and define ``make``."""

    def make(self) -> FlowState:
        raise NotImplementedError

    def test_it_is_a_flow_state(self) -> None:
        assert isinstance(self.make(), FlowState)

    def test_a_scenario_starts_in_started_and_moves_when_set(self) -> None:
        store = self.make()
        assert store.state("jobs") == STARTED and store.states() == {}
        store.set_state("jobs", "done")
        store.set_state("orders", "paid")
        assert store.state("jobs") == "done" and store.states() == {"jobs": "done", "orders": "paid"}

    def test_states_is_a_copy(self) -> None:
        store = self.make()
        store.set_state("jobs", "done")
        store.states()["jobs"] = "changed"
        assert store.state("jobs") == "done"

    def test_advance_returns_the_position_then_takes_a_turn_per_key(self) -> None:
        store = self.make()
        assert [store.advance(("users", "list")) for _ in range(3)] == [0, 1, 2]
        assert store.advance(("users", "get")) == 0  # each sequence has its own position

    def test_a_seeded_draw_repeats_from_its_reset(self) -> None:
        store = self.make()
        first = [store.draw(("dice",), 7, 6) for _ in range(10)]
        assert all(0 <= turn < 6 for turn in first)
        store.reset()
        assert [store.draw(("dice",), 7, 6) for _ in range(10)] == first

    def test_a_seeded_draw_is_the_same_in_every_store(self) -> None:  # replicas draw alike
        first, second = self.make(), self.make()
        assert [first.draw(("dice",), 7, 6) for _ in range(10)] == [second.draw(("dice",), 7, 6) for _ in range(10)]
        assert first.draw(("other",), 7, 6) == second.draw(("other",), 7, 6)

    def test_reset_all_returns_the_moved_scenarios_and_restarts_every_sequence(self) -> None:
        store = self.make()
        store.set_state("b", "x")
        store.set_state("a", "y")
        store.advance(("seq",))
        assert store.reset() == ["a", "b"]
        assert store.states() == {} and store.state("a") == STARTED and store.advance(("seq",)) == 0
        assert store.reset() == []

    def test_reset_one_scenario_leaves_the_rest(self) -> None:
        store = self.make()
        store.set_state("a", "x")
        store.set_state("b", "y")
        store.advance(("seq",))
        assert store.reset("a") == ["a"] and store.reset("never-moved") == []
        assert store.states() == {"b": "y"} and store.advance(("seq",)) == 1  # sequences kept

    def test_turns_taken_from_many_threads_are_each_given_once(self) -> None:
        store = self.make()
        taken: list[int] = []
        lock = threading.Lock()
        start = threading.Barrier(4)

        def serve() -> None:
            start.wait()
            mine = [store.advance(("busy",)) for _ in range(500)]
            with lock:
                taken.extend(mine)

        threads = [threading.Thread(target=serve) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(taken) == list(range(2000))

    def test_a_reset_from_another_thread_while_serving_leaves_a_consistent_store(self) -> None:
        store = self.make()
        done = threading.Event()

        def serve() -> None:
            for turn in range(2000):
                store.set_state("jobs", f"s{turn % 3}")
                store.advance(("busy",))
            done.set()

        server = threading.Thread(target=serve)
        server.start()
        while not done.is_set():  # the kernel: reads and resets meanwhile
            assert set(store.states()) <= {"jobs"}
            store.reset()
        server.join()
        store.reset()
        assert store.states() == {} and store.advance(("busy",)) == 0
