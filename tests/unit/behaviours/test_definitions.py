"""Which cell defined what (postmock_nb.behaviours.definitions): one record for a session."""

from __future__ import annotations

from postmock_nb.behaviours.definitions import CellDefinitions


def test_a_cell_s_example_is_remembered_until_the_examples_are_forgotten():
    cells = CellDefinitions()
    assert cells.example_of("cell-1") is None
    cells.defined("cell-1", "ex-1")
    cells.defined("cell-1", "ex-2")  # re-run: the newer example
    assert cells.example_of("cell-1") == "ex-2"
    cells.handler_defined("cell:cell-1", "h-1")
    cells.forget_examples()
    assert cells.example_of("cell-1") is None and cells.handler_example_of("cell:cell-1") == "h-1"


def test_handler_keys_count_the_handlers_of_a_cell_within_one_run():
    cells = CellDefinitions()
    assert [cells.handler_key("c", 1, "f"), cells.handler_key("c", 1, "g")] == ["cell:c", "cell:c#2"]
    assert [cells.handler_key("c", 2, "f"), cells.handler_key("c", 2, "g")] == ["cell:c", "cell:c#2"]  # re-run
    assert cells.handler_key("d", 2, "f") == "cell:d"
    assert cells.handler_key(None, 2, "greet") == "name:greet"  # outside a notebook: by name


def test_example_and_handler_keys_do_not_meet():
    cells = CellDefinitions()
    cells.defined("cell:x", "example")
    cells.handler_defined("cell:x", "handler")
    assert (cells.example_of("cell:x"), cells.handler_example_of("cell:x")) == ("example", "handler")
