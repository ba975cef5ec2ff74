"""Which cell defined what: the one record of it for a session.

Re-running a cell replaces what it defined instead of adding a copy. Three things are remembered, all
here (they were kept by the session, the behaviours and the ``mock`` object before):

- the example a ``%%example`` cell defined (by the cell's id);
- the example a handler stands for (by the handler's key: ``cell:<id>``, ``cell:<id>#2`` for the second
  handler a cell defines in one run, or ``name:<name>`` outside a notebook);
- how many handlers each cell defined in its latest run (which gives those keys).

Thread: the kernel's only (cells define; the server never reads it), so no lock.
"""

from __future__ import annotations


class CellDefinitions:
    """What each cell (or handler key) defined, for one session. Kernel thread only."""

    def __init__(self) -> None:
        self._examples: dict[str, str] = {}
        """A ``%%example`` cell's id → the id of the example it defined."""
        self._handlers: dict[str, str] = {}
        """A handler's key → the id of its example."""
        self._runs: dict[str, tuple[int, int]] = {}
        """A cell's id → (its run number, handlers defined in that run)."""

    def example_of(self, cell_key: str) -> str | None:
        """The id of the example this cell defined, or None."""
        return self._examples.get(cell_key)

    def defined(self, cell_key: str, example_id: str) -> None:
        """This cell defined the example ``example_id`` (a re-run replaces it)."""
        self._examples[cell_key] = example_id

    def forget_examples(self) -> None:
        """Every example was deleted (``%mock clear``): no cell's example is known any more."""
        self._examples.clear()

    def handler_example_of(self, key: str) -> str | None:
        """The id of the example the handler ``key`` stands for, or None."""
        return self._handlers.get(key)

    def handler_defined(self, key: str, example_id: str) -> None:
        self._handlers[key] = example_id

    def handler_key(self, cell_id: str | None, run: int, name: str) -> str:
        """The key of a handler defined now: by the cell and its place among the cell's handlers in this run
        (``cell:<id>``, ``cell:<id>#2``...), or by ``name`` outside a cell."""
        if cell_id is None:
            return f"name:{name}"
        last_run, count = self._runs.get(cell_id, (run, 0))
        count = count + 1 if last_run == run else 1
        self._runs[cell_id] = (run, count)
        return f"cell:{cell_id}" + (f"#{count}" if count > 1 else "")
