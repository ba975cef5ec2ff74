"""formats/schemagen.py: deterministic example values from JSON Schema / OpenAPI schemas, in bounded work."""

from __future__ import annotations

from typing import Any

import pytest

from postmock_nb.core.limits import MAX_EXAMPLE_STEPS
from postmock_nb.formats.schemagen import (
    FORMAT_VALUES,
    MAX_DEPTH,
    REQUEST,
    RESPONSE,
    Budget,
    ExampleTooBig,
    example_value,
)


def components(**schemas: Any) -> Any:
    def lookup(ref: str) -> Any:
        return schemas[ref.rsplit("/", 1)[-1]]
    return lookup


def value(schema: Any, purpose: Any = RESPONSE, **schemas: Any) -> Any:
    return example_value(schema, components(**schemas), purpose)


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "string", "example": "given", "default": "d"}, "given"),
    ({"type": "string", "examples": ["first", "second"]}, "first"),
    ({"type": "string", "examples": ["first", "second"], "default": "d"}, "d"),  # default, then examples
    ({"type": "string", "examples": ["first"], "const": "c"}, "c"),
    ({"type": "integer", "default": 3, "enum": [1, 2]}, 3),
    ({"const": "fixed", "enum": ["other"]}, "fixed"),
    ({"type": "string", "enum": ["a", "b"]}, "a"),
    ({"type": "string", "example": None}, None),
    ({"type": "string", "examples": []}, "string"),
])
def test_given_values_come_first_in_their_order(schema: Any, expected: Any) -> None:
    assert value(schema) == expected


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "string"}, "string"), ({}, "string"), ({"type": "boolean"}, True), ({"type": "null"}, None),
    ({"type": "integer"}, 0), ({"type": "number"}, 0), ({"type": ["null", "integer"]}, 0),
    ({"type": ["null"]}, None), ({"properties": {"a": {"type": "integer"}}}, {"a": 0}),
    ({"items": {"type": "boolean"}}, [True]), (True, "string"), (False, None), ("not a schema", None),
])
def test_values_by_type(schema: Any, expected: Any) -> None:
    assert value(schema) == expected


@pytest.mark.parametrize("name", sorted(FORMAT_VALUES))
def test_a_format_gives_its_value(name: str) -> None:
    assert value({"type": "string", "format": name}) == FORMAT_VALUES[name]


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "string", "minLength": 10}, "stringstri"),
    ({"type": "string", "maxLength": 3}, "str"),
    ({"type": "string", "format": "binary", "minLength": 4}, "ssss"),
    ({"type": "string", "format": "date", "maxLength": 4}, "2024"),
    ({"type": "string", "minLength": 1.5, "maxLength": -1}, "string"),  # not counts: ignored
])
def test_string_lengths(schema: Any, expected: str) -> None:
    assert value(schema) == expected


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "integer", "minimum": 5}, 5),
    ({"type": "integer", "minimum": 5, "exclusiveMinimum": True}, 6),
    ({"type": "integer", "exclusiveMinimum": 5}, 6),
    ({"type": "number", "exclusiveMinimum": 1.0}, 2),
    ({"type": "number", "minimum": 1.5}, 1.5),
    ({"type": "number", "minimum": 1.5, "exclusiveMinimum": True}, 2.0),
    ({"type": "integer", "maximum": -3}, -3),
    ({"type": "integer", "maximum": -3, "exclusiveMaximum": True}, -4),
    ({"type": "integer", "exclusiveMaximum": 0}, -1),
    ({"type": "integer", "maximum": 10}, 0),
    ({"type": "number", "minimum": float("nan")}, 0),
    ({"type": "number", "minimum": float("inf")}, 0),
    ({"type": "integer", "minimum": True}, 0),
])
def test_numbers_respect_their_bounds(schema: Any, expected: Any) -> None:
    result = value(schema)
    assert result == expected and type(result) is type(expected)


def test_arrays_take_min_items_copies_and_tuple_items() -> None:
    assert value({"type": "array", "items": {"type": "integer"}, "minItems": 3}) == [0, 0, 0]
    assert value({"type": "array", "items": [{"type": "string"}, {"type": "boolean"}]}) == ["string", True]
    assert value({"type": "array"}) == ["string"]


def test_objects_skip_the_other_sides_properties() -> None:
    schema = {"type": "object", "required": ["id", "secret"],
              "properties": {"id": {"type": "integer", "readOnly": True},
                             "secret": {"type": "string", "writeOnly": True}, "name": {"type": "string"}}}
    assert value(schema, RESPONSE) == {"id": 0, "name": "string"}
    assert value(schema, REQUEST) == {"secret": "string", "name": "string"}


def test_additional_properties_give_one_when_there_is_nothing_else() -> None:
    assert value({"type": "object", "additionalProperties": {"type": "integer"}}) == {"additionalProp1": 0}
    assert value({"type": "object", "properties": {"a": {"type": "boolean"}},
                  "additionalProperties": {"type": "integer"}}) == {"a": True}


def test_all_of_merges_objects_with_the_schemas_own_properties() -> None:
    schema = {"allOf": [{"$ref": "#/components/schemas/Base"}, {"properties": {"b": {"type": "boolean"}}}],
              "properties": {"c": {"type": "string", "format": "email"}}}
    assert value(schema, Base={"properties": {"a": {"type": "integer"}}}) == {
        "a": 0, "b": True, "c": "user@example.com"}
    assert value({"allOf": [{"type": "integer", "minimum": 4}, {"type": "integer"}]}) == 4


def test_one_of_and_any_of_take_the_first_choice_not_cut() -> None:
    assert value({"oneOf": [{"type": "boolean"}, {"type": "integer"}]}) is True
    node = {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "string", "example": "leaf"}]}
    assert value({"$ref": "#/components/schemas/Node"}, Node=node) == "leaf"


def test_a_ref_is_followed_and_its_own_example_wins() -> None:
    assert value({"$ref": "#/components/schemas/Id"}, Id={"type": "string", "format": "uuid"}) == FORMAT_VALUES["uuid"]
    assert value({"$ref": "#/components/schemas/Id", "example": "mine"}, Id={"type": "integer"}) == "mine"


def test_a_circular_schema_cuts_only_the_part_that_loops() -> None:
    tree = {"type": "object", "required": ["name", "parent", "children"],
            "properties": {"name": {"type": "string"}, "parent": {"$ref": "#/components/schemas/Tree"},
                           "children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}},
                           "sibling": {"$ref": "#/components/schemas/Tree"}}}
    assert value({"$ref": "#/components/schemas/Tree"}, Tree=tree) == {"name": "string", "parent": {},
                                                                      "children": []}
    assert value({"$ref": "#/components/schemas/Loop"}, Loop={"$ref": "#/components/schemas/Loop"}) is None


def test_values_nested_past_the_depth_are_cut() -> None:
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(MAX_DEPTH + 5):
        schema = {"type": "object", "properties": {"x": schema}}
    made = value(schema)
    depth = 0
    while isinstance(made, dict) and "x" in made:
        made, depth = made["x"], depth + 1
    assert made == {} and depth == MAX_DEPTH


def test_the_same_schema_always_gives_the_same_value() -> None:
    schema = {"type": "object", "properties": {k: {"type": t} for k, t in
                                               (("a", "string"), ("b", "number"), ("c", "array"))}}
    assert value(schema) == value(schema) == {"a": "string", "b": 0, "c": ["string"]}


def test_the_budget_is_spent_and_refuses_a_fan_out() -> None:
    budget = Budget(100)
    assert budget.limit == 100
    example_value({"type": "object", "properties": {"a": {"type": "integer"}}}, components(), budget=budget)
    assert budget.steps == 98
    fan = {f"L{n}": {"type": "object", "properties": {"a": {"$ref": f"#/components/schemas/L{n + 1}"},
                                                      "b": {"$ref": f"#/components/schemas/L{n + 1}"}}}
           for n in range(30)}
    fan["L30"] = {"type": "integer"}
    with pytest.raises(ExampleTooBig) as caught:
        example_value({"$ref": "#/components/schemas/L0"}, components(**fan), budget=Budget(10_000))
    assert (caught.value.steps, str(caught.value)) == (10_000, "more than 10,000 steps")


def test_huge_counts_are_refused_before_anything_is_built() -> None:
    with pytest.raises(ExampleTooBig):
        value({"type": "array", "items": {"type": "string"}, "minItems": 1_000_000_000})
    with pytest.raises(ExampleTooBig) as caught:
        value({"type": "string", "minLength": MAX_EXAMPLE_STEPS * 100 + 1})
    assert caught.value.steps == MAX_EXAMPLE_STEPS


def test_budget_spend_raises_only_past_zero() -> None:
    budget = Budget(2)
    budget.spend(2)
    assert budget.steps == 0
    with pytest.raises(ExampleTooBig):
        budget.spend()
