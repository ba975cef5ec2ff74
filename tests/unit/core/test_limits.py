"""The explicit JSON depth limit: deep input is refused cleanly, never a RecursionError."""

from __future__ import annotations

import pytest

from postmock_nb.answers.responses import content_type_for
from postmock_nb.core import limits
from postmock_nb.core.bodies import bodies_equal, json_path
from postmock_nb.core.model import ResponseSpec

DEPTH = limits.MAX_JSON_DEPTH


@pytest.mark.parametrize("text, deep", [
    ("[" * DEPTH + "]" * DEPTH, False),
    ("[" * (DEPTH + 1) + "]" * (DEPTH + 1), True),
    ('{"a":' * (DEPTH + 1) + "1" + "}" * (DEPTH + 1), True),
    ('["[[[["]' * 300, False),  # brackets inside strings do not count
    ('["\\"[[[["]' * 300, False),  # nor after an escaped quote
    ("[]" * 100_000, False),
    ("[1," * 5000 + "1" + "]" * 5000, True),
])
def test_depth(text: str, deep: bool) -> None:
    assert limits.json_too_deep(text) is deep


def test_loads_refuses_deep_json_as_a_value_error() -> None:
    with pytest.raises(ValueError, match="more than 200 levels"):
        limits.loads("[" * 5000 + "]" * 5000)
    assert limits.loads('{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}


def test_deep_request_and_example_bodies_fall_back_to_text() -> None:
    deep = "[" * 5000 + "]" * 5000
    assert bodies_equal(deep, deep, "application/json") and not bodies_equal("[]", deep, "application/json")
    assert json_path('{"a":' * 5000 + "1" + "}" * 5000, "a", "none") == "none"
    assert content_type_for(ResponseSpec(body=deep)).startswith("text/plain")
