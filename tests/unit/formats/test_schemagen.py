"""formats/schemagen.py: deterministic example values from JSON Schema / OpenAPI schemas, in bounded work."""

from __future__ import annotations

import functools
import random
from pathlib import Path
from typing import Any

import pytest
from referencing import Registry, Resource
from support.schema_checks import problems

from postmock_nb.bridges.validation import OpenApi30Validator, OpenApi31Validator
from postmock_nb.core.limits import MAX_EXAMPLE_STEPS
from postmock_nb.formats.documents import read_document
from postmock_nb.formats.openapi import SPEC_URI, Operation, Spec, is_openapi, iter_operations, load_spec, pointer
from postmock_nb.formats.schemagen import (
    FORMAT_VALUES,
    MAX_DEPTH,
    REQUEST,
    RESPONSE,
    Budget,
    ExampleTooBig,
    Purpose,
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


# -- each keyword: the value satisfies it (checked by jsonschema, as the corpus test below) ------------


def satisfies(schema: Any, made: Any, is_31: bool = True, **schemas: Any) -> bool:
    """Whether jsonschema (the validators request validation uses, formats checked) accepts ``made``."""
    validator_class = OpenApi31Validator if is_31 else OpenApi30Validator
    document = {"components": {"schemas": schemas}, "schema": schema}
    registry = Registry().with_resource(SPEC_URI, Resource.opaque(document))
    validator = validator_class({"$ref": SPEC_URI + "#/schema"}, registry=registry,
                                format_checker=validator_class.FORMAT_CHECKER)
    return validator.is_valid(made)


@pytest.mark.parametrize("schema", [
    {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
    {"type": "string", "pattern": "[a-z]+@[a-z]+\\.org"},  # unanchored: searched, as JSON Schema does
    {"type": "string", "pattern": "^(red|green)-[0-9a-f]{2,4}$", "minLength": 7, "maxLength": 8},
    {"type": "string", "pattern": "^x+$", "minLength": 12},
    {"type": "string", "pattern": "^[^\\s]{5}\\w?$"},
    {"type": "string", "format": "uuid", "pattern": "^[0-9a-f-]{36}$"},  # the format's value, when it matches
    {"type": "string", "pattern": "^(?:(a|b)\\1)+$"},  # a backreference
])
def test_pattern(schema: Any) -> None:
    made = value(schema)
    assert isinstance(made, str) and satisfies(schema, made), made


def test_a_pattern_value_is_the_same_for_the_same_seed_and_fresh_from_a_shared_rng() -> None:
    schema = {"type": "string", "pattern": "^[a-z]{8}$"}
    assert value(schema) == value(schema) == example_value(schema, components(), seed=0)
    seeds = {example_value(schema, components(), seed=seed) for seed in range(5)}
    shared = random.Random(23)
    fresh = {example_value(schema, components(), rng=shared) for _ in range(5)}
    assert len(seeds) == len(fresh) == 5 and all(satisfies(schema, v) for v in seeds | fresh)


@pytest.mark.parametrize(("pattern", "reason"), [
    ("((((((a*)*)*)*)*)*)*b{1,3}$", ""),  # nested repeats: short, bounded, matched
    ("^[0-9]{20000}$", "repeats more than 10,000 times"),
    ("^(?:(?:x{20}){20}){30}$", "would take more than 10,000 steps"),
    ("^\\p{Lu}{3}$", "cannot be generated"),  # Unicode classes: not in Python's re
    ("^(?<year>[0-9]{4})$", "cannot be generated"),  # ECMA's named group
])
def test_a_pattern_too_big_or_foreign_gives_the_plain_value_and_a_note(pattern: str, reason: str) -> None:
    notes: list[str] = []
    made = example_value({"type": "string", "pattern": pattern, "maxLength": 300}, components(), notes=notes)
    if not reason:
        assert notes == [] and satisfies({"pattern": pattern}, made) and len(made) <= 300
    else:
        assert made == "string" and len(notes) == 1 and reason in notes[0] and repr(pattern) in notes[0]


def test_a_note_reaches_the_documents_warnings_once() -> None:
    bad = {"type": "string", "pattern": "^[0-9]{20000}$"}
    spec = load_spec({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
                      "components": {"schemas": {"Bad": bad}}}, "doc.yaml")
    for where in ("#/a", "#/b"):
        assert spec.example({"$ref": "#/components/schemas/Bad"}, RESPONSE, where) == "string"
    assert spec.warnings == ["doc.yaml at #/a: the pattern '^[0-9]{20000}$' is not followed (it repeats more "
                             "than 10,000 times): its values do not match it"]


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "string", "minLength": 3, "maxLength": 5}, "strin"),
    ({"type": "string", "format": "email", "maxLength": 40}, "user@example.com"),
    ({"type": "string", "minLength": 2, "maxLength": 2}, "st"),
])
def test_min_length_and_max_length(schema: Any, expected: str) -> None:
    assert value(schema) == expected and satisfies(schema, expected)


@pytest.mark.parametrize(("schema", "is_31", "expected"), [
    ({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, False, 1),  # 3.0: booleans
    ({"type": "number", "maximum": -2.5, "exclusiveMaximum": True}, False, -3.0),
    ({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 2}, True, 1),  # 3.1: numbers
    ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}, True, 0.5),
    ({"type": "number", "minimum": 10, "exclusiveMinimum": 12}, True, 13),  # the tighter of the two
    ({"type": "integer", "maximum": 100, "minimum": 200}, True, 200),  # impossible: the lower bound
])
def test_minimum_maximum_and_exclusive_bounds(schema: Any, is_31: bool, expected: Any) -> None:
    made = value(schema)
    assert made == expected and type(made) is type(expected)
    assert satisfies(schema, made, is_31) or schema.get("minimum", 0) > schema.get("maximum", 1)


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "integer", "multipleOf": 5, "minimum": 1}, 5),
    ({"type": "integer", "multipleOf": 4, "minimum": -7, "maximum": -1}, -4),
    ({"type": "number", "multipleOf": 0.1, "minimum": 0.25}, 0.4),  # 0.3 / 0.1 is 2.9999999999999996
    ({"type": "number", "multipleOf": 0.01, "minimum": 1.005, "maximum": 2}, 1.01),
    ({"type": "number", "multipleOf": 2.5, "exclusiveMinimum": 5}, 7.5),
    ({"type": "integer", "multipleOf": 0.5, "minimum": 3}, 3),
])
def test_multiple_of(schema: Any, expected: Any) -> None:
    made = value(schema)
    assert made == expected and satisfies(schema, made)


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "integer", "format": "int32", "minimum": -(2**40)}, -(2**31)),
    ({"type": "integer", "format": "int64", "minimum": -(2**70)}, -(2**63)),
    ({"type": "integer", "format": "int32"}, 0),
    ({"type": "number", "format": "float", "minimum": -1e300}, -3.4028234663852886e38),
])
def test_number_formats_bound_the_value(schema: Any, expected: Any) -> None:
    assert value(schema) == expected


@pytest.mark.parametrize("name", ["date-time", "date", "time", "email", "uuid", "uri", "url", "ipv4", "ipv6",
                                  "hostname", "byte", "binary", "uri-reference", "json-pointer"])
def test_format_values_and_their_variants_are_valid(name: str) -> None:
    schema = {"type": "array", "minItems": 6, "uniqueItems": True, "items": {"type": "string", "format": name}}
    made = value(schema)
    assert satisfies(schema, made) and (len(made) == 6 or name == "binary"), made


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "array", "items": {"type": "integer"}, "minItems": 3, "uniqueItems": True}, [0, 1, 2]),
    ({"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 2, "uniqueItems": True}, ["a", "b"]),
    ({"type": "array", "items": {"type": "boolean"}, "minItems": 2, "uniqueItems": True}, [True, False]),
    ({"type": "array", "items": {"type": "string", "maxLength": 1}, "minItems": 3, "uniqueItems": True},
     ["s", "1", "2"]),
    ({"type": "array", "items": {"type": "integer"}, "minItems": 2}, [0, 0]),
    ({"type": "array", "items": {"type": "integer"}, "maxItems": 0}, []),
    ({"type": "array", "items": {"type": "integer"}, "minItems": 5, "maxItems": 2}, [0, 0]),
    ({"type": "array", "prefixItems": [{"const": "x"}, {"type": "integer"}], "items": False}, ["x", 0]),
    ({"type": "array", "prefixItems": [{"const": "x"}], "minItems": 3, "items": {"type": "boolean"}},
     ["x", True, True]),
])
def test_min_items_max_items_unique_items_and_prefix_items(schema: Any, expected: Any) -> None:
    made = value(schema)
    assert made == expected
    assert satisfies(schema, made) or schema.get("minItems", 0) > schema.get("maxItems", 99)


def test_unique_items_of_objects_vary_a_property() -> None:
    schema = {"type": "array", "minItems": 3, "uniqueItems": True, "items": {
        "type": "object", "required": ["id"], "properties": {"id": {"type": "string", "format": "uuid"},
                                                            "on": {"type": "boolean"}}}}
    made = value(schema)
    assert len(made) == 3 and satisfies(schema, made)


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "object", "minProperties": 2, "properties": {"a": {"type": "integer"}}},
     {"a": 0, "additionalProp1": "string"}),
    ({"type": "object", "minProperties": 2, "additionalProperties": {"type": "integer", "minimum": 3}},
     {"additionalProp1": 3, "additionalProp2": 3}),
    ({"type": "object", "maxProperties": 1, "required": ["b"], "properties": {"a": {}, "b": {"type": "boolean"}}},
     {"b": True}),
    ({"type": "object", "required": ["x"], "additionalProperties": {"type": "integer"}}, {"x": 0}),
    ({"required": ["x"]}, {"x": "string"}),
    ({"type": "object", "additionalProperties": False, "minProperties": 3, "properties": {"a": {}}},
     {"a": "string"}),
])
def test_min_properties_max_properties_required_and_additional_properties(schema: Any, expected: Any) -> None:
    made = value(schema)
    assert made == expected
    assert satisfies(schema, made) or schema.get("additionalProperties") is False


@pytest.mark.parametrize(("schema", "is_31"), [
    ({"type": "string", "nullable": True, "minLength": 2}, False),
    ({"type": ["null", "integer"], "minimum": 4}, True),
    ({"type": ["null", "string"], "format": "date"}, True),
    ({"const": {"a": [1]}}, True),
    ({"enum": [None, "x"]}, True),
])
def test_nullable_type_lists_enum_and_const(schema: Any, is_31: bool) -> None:
    assert satisfies(schema, value(schema), is_31)


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "string", "not": {"const": "string"}}, "stringx"),
    ({"type": "integer", "not": {"enum": [0, 1]}}, -1),
    ({"type": "integer", "minimum": 0, "not": {"multipleOf": 2}}, 1),
    ({"not": {"type": "string"}}, 0),
    ({"type": "object", "not": {"required": ["a"]}, "properties": {"a": {}}}, {}),
])
def test_not(schema: Any, expected: Any) -> None:
    made = value(schema)
    assert made == expected and satisfies(schema, made)


@pytest.mark.parametrize(("schema", "expected"), [
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 0.5),  # 0 is both: a neighbour that is one
    ({"oneOf": [{"type": "string"}, {"type": "string", "maxLength": 3}]}, "string"),  # only the first
    ({"oneOf": [{"type": "string", "minLength": 2}, {"type": "string", "maxLength": 6}]}, "stringx"),
    ({"type": "object", "properties": {"a": {"type": "integer"}},
      "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 0}),  # the schema's own keywords kept
    ({"anyOf": [{"type": "integer", "minimum": 3}, {"type": "string"}]}, 3),
])
def test_one_of_satisfies_exactly_one_and_any_of_one(schema: Any, expected: Any) -> None:
    made = value(schema)
    assert made == expected and satisfies(schema, made)


def test_all_of_is_merged_into_one_schema() -> None:
    schema = {"allOf": [
        {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer", "minimum": 2}}},
        {"$ref": "#/components/schemas/More"},
        {"properties": {"n": {"maximum": 9, "multipleOf": 3}}},
    ]}
    more = {"required": ["tag", "n"], "properties": {"tag": {"enum": ["a", "b", "c"]}},
            "allOf": [{"properties": {"tag": {"enum": ["c", "b"]}}}]}
    made = value(schema, More=more)
    assert made == {"n": 3, "tag": "b"} and satisfies(schema, made, More=more)
    assert value({"allOf": [{"type": "string", "minLength": 2}, {"maxLength": 3}]}) == "str"
    assert value({"allOf": [{"type": "number"}, {"type": "integer", "exclusiveMinimum": 1}]}) == 2


def test_all_of_keeps_a_parts_own_object_example() -> None:
    schema = {"allOf": [{"$ref": "#/components/schemas/Base"}, {"properties": {"b": {"type": "boolean"}}}]}
    base = {"type": "object", "properties": {"a": {"type": "integer"}}, "example": {"a": 7}}
    assert value(schema, Base=base) == {"a": 7, "b": True}


def test_a_discriminator_sets_its_property_to_the_chosen_schemas_mapping_key() -> None:
    schemas = {
        "Pet": {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
                "discriminator": {"propertyName": "kind", "mapping": {"c": "#/components/schemas/Cat"}}},
        "Cat": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
        "Dog": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
    }
    assert value({"$ref": "#/components/schemas/Pet"}, **schemas) == {"kind": "c"}
    only_dog = {"oneOf": [{"$ref": "#/components/schemas/Dog"}], "discriminator": {"propertyName": "kind"}}
    assert value(only_dog, **schemas) == {"kind": "Dog"}  # no mapping: the schema's name


def test_a_discriminator_inherited_through_all_of_names_the_schema() -> None:
    schemas = {
        "Base": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}},
                 "discriminator": {"propertyName": "kind", "mapping": {"big-cat": "Lion"}}},
        "Lion": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"properties": {"roar": {"type": "boolean"}}}]},
        "Tiger": {"allOf": [{"$ref": "#/components/schemas/Base"}]},
        "Fixed": {"allOf": [{"$ref": "#/components/schemas/Base"},
                            {"properties": {"kind": {"enum": ["fixed"]}}}]},
    }
    assert value({"$ref": "#/components/schemas/Lion"}, **schemas) == {"kind": "big-cat", "roar": True}
    assert value({"$ref": "#/components/schemas/Tiger"}, **schemas) == {"kind": "Tiger"}
    assert value({"$ref": "#/components/schemas/Fixed"}, **schemas) == {"kind": "fixed"}  # its enum wins
    assert value({"$ref": "#/components/schemas/Base"}, **schemas) == {"kind": "string"}  # the base: as it is


def test_read_only_and_write_only_through_ref_and_all_of() -> None:
    schemas = {"Id": {"type": "integer", "readOnly": True}, "Secret": {"type": "string", "writeOnly": True}}
    schema = {"type": "object", "properties": {
        "id": {"$ref": "#/components/schemas/Id"},
        "password": {"allOf": [{"$ref": "#/components/schemas/Secret"}], "description": "hidden"},
        "token": {"allOf": [{"writeOnly": True}, {"type": "string"}]},
        "name": {"type": "string"}}}
    assert value(schema, RESPONSE, **schemas) == {"id": 0, "name": "string"}
    assert value(schema, REQUEST, **schemas) == {"password": "string", "token": "string", "name": "string"}
    merged = {"allOf": [{"$ref": "#/components/schemas/Base"}, {"properties": {"extra": {"type": "boolean"}}}]}
    base = {"type": "object", "properties": {"id": {"$ref": "#/components/schemas/Id"}}}
    assert value(merged, REQUEST, Base=base, **schemas) == {"extra": True}


# -- every schema of the corpora ------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[2] / "data" / "openapi"


def corpus_schemas() -> list[Any]:
    """(document, JSON pointer, purpose) for every components schema (both purposes) and every request and
    response media schema of the OpenAPI 3 documents in tests/data/openapi/."""
    found: list[Any] = []
    for path in sorted(CORPUS.glob("*.*")):
        if path.suffix not in (".json", ".yaml", ".yml"):
            continue
        data = read_document(path)
        if not is_openapi(data) or "openapi" not in data:  # Swagger 2 is not read
            continue
        spec = load_spec(data, str(path))
        schemas = (data.get("components") or {}).get("schemas") or {}
        for name in schemas:
            for purpose in (RESPONSE, REQUEST):
                found.append(pytest.param(path.name, pointer("components", "schemas", name), purpose,
                                          id=f"{path.name}:{name}:{purpose.skip}"))
        for operation in iter_operations(spec):
            found += _media_schemas(spec, operation, path.name)
    return found


def _media_schemas(spec: Spec, operation: Operation, document: str) -> list[Any]:
    found: list[Any] = []
    places: list[tuple[Any, str, Any]] = [(operation.data.get("requestBody"), f"{operation.where}/requestBody", REQUEST)]
    responses = operation.data.get("responses")
    for code, raw in responses.items() if isinstance(responses, dict) else ():
        places.append((raw, f"{operation.where}/responses/{pointer(str(code))[2:]}", RESPONSE))
    for raw, where, purpose in places:
        if raw is None:
            continue
        node, at = spec.resolve(raw, where)
        content = node.get("content") if isinstance(node, dict) else None
        for media_type, media in content.items() if isinstance(content, dict) else ():
            if isinstance(media, dict) and "schema" in media:
                schema_at = f"{at}/content/{pointer(str(media_type))[2:]}/schema"
                found.append(pytest.param(document, schema_at, purpose, id=f"{document}:{schema_at}"))
    return found


KNOWN_BAD: dict[str, str] = {
    "local-3.1-constraints.yaml:#/components/schemas/BigRepeat":
        "a pattern whose value would take more than PATTERN_STEPS is not followed (a note says so)",
    "local-3.0-broken-examples.yaml:#/paths/~1badges/get/responses/200/content/application~1json/schema":
        "the schema's own `example` breaks it on purpose (the author's example is used: --examples generate's case)",
}
"""Schemas whose generated value cannot satisfy them, with the reason (each an xfail)."""


@pytest.mark.parametrize(("document", "where", "purpose"), corpus_schemas())
def test_every_corpus_schema_gives_a_value_that_satisfies_it(document: str, where: str, purpose: Purpose) -> None:
    if f"{document}:{where}" in KNOWN_BAD:
        pytest.xfail(KNOWN_BAD[f"{document}:{where}"])
    spec = _spec(document)
    made = example_value(spec.lookup(where), spec.lookup, purpose)
    found = problems(spec, where, made, purpose.skip)
    assert not found, f"{made!r}\n" + "\n".join(found)


@functools.cache
def _spec(document: str) -> Spec:
    return load_spec(read_document(CORPUS / document), document)


def test_a_choice_merged_with_the_schemas_own_keywords_keeps_its_inherited_discriminator() -> None:
    schemas = {"Base": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}},
                        "discriminator": {"propertyName": "kind", "mapping": {"l": "#/components/schemas/Lion"}}},
               "Lion": {"allOf": [{"$ref": "#/components/schemas/Base"}]}}
    schema = {"type": "object", "properties": {"id": {"type": "integer"}},
              "oneOf": [{"$ref": "#/components/schemas/Lion"}]}
    assert value(schema, **schemas) == {"id": 0, "kind": "l"}
