"""``%%websocket`` scripts: the steps read from a cell, and a client's message compared with a ``>`` step."""

from __future__ import annotations

import pytest

from postmock_nb.answers.websocket import Step, mismatch, parse_script, steps_of
from postmock_nb.errors import ExampleDefinitionError


def test_a_script_is_its_send_and_expect_lines_in_order() -> None:
    script = '# prices\n< {"price": 1}\n\n>  {"ack": true}\n<done'
    assert parse_script(script) == [Step("<", '{"price": 1}'), Step(">", '{"ack": true}'), Step("<", "done")]


def test_a_line_that_is_neither_is_refused_with_its_number() -> None:
    with pytest.raises(ExampleDefinitionError, match="line 2 of the script"):
        parse_script("< hi\nhello")


def test_json_is_compared_as_json_with_any() -> None:
    assert mismatch('{"a": 1, "b": "{{$any}}"}', '{"b": [1, 2], "a": 1}') == ""
    assert "$.a" in mismatch('{"a": 1}', '{"a": 2}')
    assert mismatch("bye", "bye") == "" and mismatch("bye", "hello") != ""


def test_a_script_is_read_once_while_it_is_played() -> None:
    script = "\n".join(f"< {n}" for n in range(1000))
    assert steps_of(script) is steps_of(script) and len(steps_of(script)) == 1000
