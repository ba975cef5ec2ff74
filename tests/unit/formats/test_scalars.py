"""formats/scalars.py: strings and numbers that satisfy their keywords; a pattern's value made in bounded work."""

from __future__ import annotations

import random
from typing import Any

import pytest

from postmock_nb.formats.scalars import (
    PATTERN_STEPS,
    PatternNotFollowed,
    fitted,
    is_multiple,
    number_value,
    plain_string,
    string_value,
)


def test_a_patterns_value_matches_and_depends_only_on_the_rng() -> None:
    schema = {"pattern": "^[a-f0-9]{8}-(x|y)$"}
    first, again = string_value(schema, random.Random(1)), string_value(schema, random.Random(1))
    assert first == again and len(first) == 10 and first[-2:] in ("-x", "-y")


@pytest.mark.parametrize("pattern", ["(((a*)*)*)*$", "^(?:[ab]+){3,}c{0,1000}$", "^(x|y|z)*(?:\\d+)*q+$"])
def test_nested_repeats_stay_short(pattern: str) -> None:
    made = string_value({"pattern": pattern}, random.Random(0))
    assert len(made) <= PATTERN_STEPS


@pytest.mark.parametrize(("pattern", "message"), [
    ("^a{10001}$", "repeats more than 10,000 times"),
    ("^(?:(?:b{30}){30}){30}$", "more than 10,000 steps"),
    ("^(?<n>x)$", "cannot be generated"),
    ("^x$", "no value made matched it with lengths 3..None"),
])
def test_a_pattern_not_followed_says_why(pattern: str, message: str) -> None:
    with pytest.raises(PatternNotFollowed, match=message):
        string_value({"pattern": pattern, "minLength": 3} if pattern == "^x$" else {"pattern": pattern},
                     random.Random(0))


def test_plain_strings_and_their_variants_fit_the_lengths() -> None:
    assert plain_string({"format": "email"}) == "user@example.com"
    assert plain_string({"format": "email"}, 3) == "user3@example.com"
    assert len({plain_string({"maxLength": 2}, n) for n in range(60)}) == 60
    assert fitted("ab", 5, None) == "ababa" and fitted("", 2, None) == "ss" and fitted("abcdef", None, 2) == "ab"


@pytest.mark.parametrize(("schema", "integer", "nth", "expected"), [
    ({}, True, 0, 0), ({}, True, 2, 2), ({"minimum": 3, "maximum": 4}, True, 5, 3),
    ({"maximum": -1}, True, 1, -2), ({"exclusiveMinimum": 0, "exclusiveMaximum": 1}, False, 1, 1 / 3),
    ({"minimum": 1, "multipleOf": 7}, True, 0, 7), ({"multipleOf": 0.25, "minimum": 0.3}, False, 0, 0.5),
])
def test_numbers(schema: dict[str, Any], integer: bool, nth: int, expected: float) -> None:
    assert number_value(schema, integer, nth) == expected


def test_is_multiple_is_jsonschemas_check() -> None:
    assert is_multiple(6, 3) and not is_multiple(7, 3) and is_multiple(0.4, 0.1) and not is_multiple(0.3, 0.1)
    assert not is_multiple(1e308, 1e-308)
