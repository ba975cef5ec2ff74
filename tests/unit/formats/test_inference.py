"""formats/inference.py: a JSON Schema inferred from example bodies, one test per rule.

Every schema inferred here is checked to validate the values it came from (``infer``)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from postmock_nb.formats.inference import (
    ENUM_MAX_DISTINCT,
    ENUM_MAX_LENGTH,
    ENUM_MIN_SEEN,
    formats_of,
    infer_schema,
    infer_text_schema,
    typed_value,
)


def infer(*values: Any) -> dict[str, Any]:
    """The inferred schema, after checking it is valid 2020-12 and that every value validates against it."""
    schema = infer_schema(values)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    for value in values:
        validator.validate(value)
    return schema


def test_no_values_give_the_schema_that_accepts_anything() -> None:
    assert infer() == {}


@pytest.mark.parametrize(("values", "expected"), [
    ((1, 2), "integer"), ((1, 2.5), "number"), ((True,), "boolean"), (("a",), "string"), ((None,), "null"),
    (([1],), "array"), (({},), "object"),
])
def test_one_type(values: tuple[Any, ...], expected: str) -> None:
    assert infer(*values)["type"] == expected


def test_types_are_unioned() -> None:
    assert infer(1, "a", True) == {"type": ["boolean", "integer", "string"]}


def test_a_boolean_is_not_an_integer() -> None:
    assert infer(True, 1)["type"] == ["boolean", "integer"]


def test_null_joins_the_type_list_last() -> None:
    assert infer({"a": "x"}, {"a": None})["properties"]["a"] == {"type": ["string", "null"]}


def test_null_beside_a_format_is_one_schema_not_any_of() -> None:
    field = infer({"at": "2024-05-01T10:00:00Z"}, {"at": None})["properties"]["at"]
    assert field == {"type": ["string", "null"], "format": "date-time"}


def test_null_beside_an_object_keeps_its_properties() -> None:
    schema = infer({"a": 1}, None)
    assert schema["type"] == ["object", "null"]
    assert schema["properties"] == {"a": {"type": "integer"}}


def test_a_field_in_every_example_is_required() -> None:
    schema = infer({"id": 1, "note": "x"}, {"id": 2})
    assert schema["required"] == ["id"]
    assert set(schema["properties"]) == {"id", "note"}


def test_a_field_missing_from_one_example_is_not_required() -> None:
    assert "required" not in infer({"a": 1}, {"b": 2})


def test_arrays_of_objects_are_merged_item_by_item() -> None:
    schema = infer({"items": [{"id": 1, "price": 2}, {"id": 2}]}, {"items": [{"id": 3, "price": 2.5, "tag": "x"}]})
    items = schema["properties"]["items"]["items"]
    assert items["required"] == ["id"]
    assert items["properties"] == {"id": {"type": "integer"}, "price": {"type": "number"}, "tag": {"type": "string"}}


def test_an_empty_array_has_no_items_schema() -> None:
    assert infer([]) == {"type": "array"}


@pytest.mark.parametrize(("value", "expected"), [
    ("1b4e28ba-2fa1-11d2-883f-0016d3cca427", "uuid"),
    ("2024-05-01T10:00:00Z", "date-time"),
    ("2024-05-01T10:00:00.123+02:00", "date-time"),
    ("2024-05-01", "date"),
    ("ada@example.com", "email"),
    ("https://example.com/a?b=c", "uri"),
])
def test_a_format_is_detected(value: str, expected: str) -> None:
    assert infer(value) == {"type": "string", "format": expected}


@pytest.mark.parametrize("value", [
    "2024-05-01T10:00:00",  # no time zone: not RFC 3339
    "2024-02-30",  # not a calendar date
    "2024-05-01T25:00:00Z",
    "not an email@",
    "example.com/path",  # no scheme
    "mailto:ada@example.com",  # a scheme but no host
    "1b4e28ba-2fa1-11d2-883f",
])
def test_a_near_format_is_not_one(value: str) -> None:
    assert "format" not in infer(value)


def test_a_format_needs_every_value_to_have_it() -> None:
    assert "format" not in infer("2024-05-01", "tomorrow")


def test_the_first_format_every_value_shares_wins() -> None:
    assert formats_of("2024-05-01") == {"date"}
    assert infer("2024-05-01", "2024-05-02") == {"type": "string", "format": "date"}


def test_repeating_strings_become_an_enum() -> None:
    values = [{"status": status} for status in ("active", "active", "archived", "active")]
    assert infer(*values)["properties"]["status"] == {"type": "string", "enum": ["active", "archived"]}


def test_an_enum_with_null_lists_null() -> None:
    field = infer(*({"s": value} for value in ("on", "off", "on", "off", None)))["properties"]["s"]
    assert field == {"type": ["string", "null"], "enum": ["off", "on", None]}


@pytest.mark.parametrize("values", [
    ("on", "off", "on"),  # fewer than ENUM_MIN_SEEN values seen
    ("a", "b", "c", "d"),  # no value repeats (distinct > seen / 2)
    tuple("abcdef") * 2,  # more than ENUM_MAX_DISTINCT distinct values
    ("x" * (ENUM_MAX_LENGTH + 1),) * 4,  # too long to be a choice
])
def test_strings_that_do_not_repeat_are_not_an_enum(values: tuple[str, ...]) -> None:
    assert ENUM_MIN_SEEN == 4 and ENUM_MAX_DISTINCT == 5
    assert "enum" not in infer(*values)


def test_a_field_that_is_not_always_a_string_is_not_an_enum() -> None:
    assert infer("a", "a", "b", "b", 1) == {"type": ["integer", "string"]}


def test_formatted_strings_are_not_an_enum() -> None:
    assert infer(*["2024-05-01"] * 4) == {"type": "string", "format": "date"}


def test_nested_objects_are_inferred_at_every_level() -> None:
    schema = infer({"user": {"email": "a@b.io", "tags": ["x"]}}, {"user": {"email": "c@d.io", "tags": []}})
    user = schema["properties"]["user"]
    assert user["required"] == ["email", "tags"]
    assert user["properties"]["email"] == {"type": "string", "format": "email"}
    assert user["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}


def test_the_same_values_give_the_same_schema() -> None:
    values = [{"b": 1, "a": "x"}, {"a": "y", "c": None}]
    assert infer_schema(values) == infer_schema(list(values))


def test_a_placeholder_gives_neither_format_nor_enum() -> None:
    assert infer(*["{{$randomUUID}}"] * 4) == {"type": "string"}
    assert infer("2024-05-01", "{{today}}") == {"type": "string"}


@pytest.mark.parametrize(("values", "schema", "first"), [
    (["2", "10", "-3"], {"type": "integer"}, 2),
    (["1.5", "3", "2e3"], {"type": "number"}, 1.5),
    (["true", "false"], {"type": "boolean"}, True),
    (["007", "42"], {"type": "string"}, "007"),  # a leading zero: a code, not a number
    (["2", ""], {"type": "string"}, "2"),
    (["True"], {"type": "string"}, "True"),
    (["1e999"], {"type": "string"}, "1e999"),  # no finite JSON number: a number schema would refuse its example
    (["2", "-1e400"], {"type": "string"}, "2"),
    (["NaN", "Infinity"], {"type": "string"}, "NaN"),
    (["-0", "0"], {"type": "integer"}, 0),
    (["9" * 5000], {"type": "string"}, "9" * 5000),  # more digits than Python reads (4300): text, no ValueError
    (["1e-400"], {"type": "number"}, 0.0),
], ids=["integers", "numbers", "booleans", "leading zero", "one empty", "not JSON's true", "too large", "one too large",
        "NaN", "minus zero", "5000 digits", "too small"])
def test_parameters_sent_as_text_are_typed_by_their_values(values: list[str], schema: dict[str, Any],
                                                           first: Any) -> None:
    assert infer_text_schema(values) == schema
    assert typed_value(schema, values[0]) == first
