"""bridges/drift.py: a JSON value against a JSON Schema, each difference named by its JSON path."""

from __future__ import annotations

from typing import Any

import pytest

from postmock_nb.bridges.drift import MAX_DIFFERENCES, MAX_STEPS, differences, type_of
from postmock_nb.formats.inference import infer_schema

PRODUCT = {"type": "object", "required": ["id", "price"],
           "properties": {"id": {"type": "integer"}, "price": {"type": "number"},
                          "tags": {"type": "array", "items": {"type": "string"}}}}
LIST = {"type": "object", "properties": {"items": {"type": "array", "items": PRODUCT}}}


def _described(value: Any, schema: Any, **options: Any) -> list[tuple[str, bool]]:
    return [(d.describe(), d.fails) for d in differences(value, schema, **options)]


@pytest.mark.parametrize(("value", "schema", "found"), [
    ({"id": 1, "price": 2.5}, PRODUCT, []),
    ({"id": 1, "price": 2}, PRODUCT, []),  # an integer is a number
    ({"id": 1.0, "price": 2}, PRODUCT, []),  # 1.0 is an integer in JSON
    ({"id": 1, "price": "2.50"}, PRODUCT, [("$.price: expected number, got string", True)]),
    ({"id": 1}, PRODUCT, [("$.price: missing (required)", True)]),
    ({"items": [{"id": 1, "price": 1}, {"id": 2, "price": "1"}]}, LIST,
     [("$.items[1].price: expected number, got string", True)]),
    ({"items": [{"id": 1, "price": 1, "tags": ["a", 3]}]}, LIST,
     [("$.items[0].tags[1]: expected string, got integer", True)]),
    ({"id": 1, "price": 1, "beta": True}, PRODUCT, [("$.beta: unexpected field (not in the schema)", False)]),
    ([1], PRODUCT, [("$: expected object, got array", True)]),
    (None, {"type": ["string", "null"]}, []),
    (None, {"type": "string", "nullable": True}, []),  # OpenAPI 3.0
    (None, {"type": "string"}, [("$: expected string, got null", True)]),
    ({"a b": 1}, {"type": "object", "properties": {"a b": {"type": "string"}}},
     [('$["a b"]: expected string, got integer', True)]),
    ({"x": 1}, {"type": "object", "additionalProperties": {"type": "string"}}, [("$.x: expected string, got integer", True)]),
    ({"x": 1}, {"type": "object", "properties": {}, "additionalProperties": False},
     [("$.x: unexpected field (not in the schema)", True)]),
    ({"x": 1}, {"type": "object", "additionalProperties": True, "properties": {"y": {}}}, []),
    ([1, "a"], {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "integer"}]},
     [("$[1]: expected integer, got string", True)]),
])
def test_differences(value: Any, schema: Any, found: list[tuple[str, bool]]) -> None:
    assert _described(value, schema) == found


def test_unexpected_fields_fail_when_strict() -> None:
    assert _described({"id": 1, "price": 1, "beta": True}, PRODUCT, strict=True) == [
        ("$.beta: unexpected field (not in the schema)", True)]


def test_a_value_outside_the_enum_fails() -> None:
    schema = {"type": "object", "properties": {"status": {"type": "string", "enum": ["active", "archived"]},
                                               "kind": {"const": "order"}}}
    assert _described({"status": "archived", "kind": "order"}, schema) == []
    assert _described({"status": "gone", "kind": "cart"}, schema) == [
        ('$.status: expected one of "active", "archived", got "gone"', True),
        ('$.kind: expected one of "order", got "cart"', True)]
    assert _described({"status": None}, {"properties": {"status": {"enum": ["a", None]}}}) == []  # an inferred null


@pytest.mark.parametrize(("name", "good", "bad"), [
    ("date-time", "2024-05-01T10:00:00Z", "yesterday"),
    ("date-time", "2024-05-01T10:00:00+02:00", "2024-05-01 10:00"),  # no time zone
    ("date", "2024-05-01", "2024-13-01"),
    ("email", "ann@example.com", "ann.example.com"),
    ("uuid", "3fa85f64-5717-4562-b3fc-2c963f66afa6", "3fa85f64"),
    ("uri", "https://example.com/a", "/a"),  # relative: a uri-reference, not a uri
    ("ipv4", "10.0.0.1", "10.0.0.300"),
])
def test_a_string_without_its_format_fails(name: str, good: str, bad: str) -> None:
    schema = {"type": "object", "properties": {"created": {"type": "string", "format": name}}}
    assert _described({"created": good}, schema) == []
    assert _described({"created": bad}, schema) == [(f'$.created: expected format {name}, got "{bad}"', True)]


def test_a_format_is_compared_only_on_strings_and_only_when_it_can_be_checked() -> None:
    assert _described(5, {"type": ["integer", "string"], "format": "date-time"}) == []
    assert _described("x", {"type": "string", "format": "int64"}) == []  # OpenAPI's: no checker, not compared
    assert _described("x", {"type": "string", "format": "binary"}) == []
    nullable = {"type": ["string", "null"], "format": "date"}  # as formats/inference.py writes it
    assert _described(None, nullable) == [] and _described("soon", nullable) == [
        ('$: expected format date, got "soon"', True)]


def test_formats_and_enums_inferred_from_examples_are_compared() -> None:
    examples = [{"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "at": "2024-05-01T10:00:00Z", "state": state}
                for state in ("open", "open", "paid", "paid")]
    schema = infer_schema(examples)
    answer = {"id": "42", "at": "yesterday", "state": "lost"}
    assert _described(answer, schema) == [  # in the answer's order
        ('$.id: expected format uuid, got "42"', True),
        ('$.at: expected format date-time, got "yesterday"', True),
        ('$.state: expected one of "open", "paid", got "lost"', True)]


def test_refs_are_followed_through_the_lookup() -> None:
    components = {"#/components/schemas/Product": PRODUCT}
    schema = {"type": "array", "items": {"$ref": "#/components/schemas/Product"}}
    assert _described([{"id": "7", "price": 1}], schema, lookup=components.__getitem__) == [
        ("$[0].id: expected integer, got string", True)]


def test_a_schema_that_refers_to_itself_ends() -> None:
    tree = {"type": "object", "properties": {"child": {"$ref": "#/tree"}, "n": {"type": "integer"}}}
    value: dict[str, Any] = {"n": 1}
    for _ in range(100):
        value = {"n": 1, "child": value}
    assert differences(value, tree, lookup={"#/tree": tree}.__getitem__) == []


def test_an_alternative_that_only_refers_to_itself_fits_nothing_and_the_walk_ends() -> None:
    """``Node: {anyOf: [$ref Node, $ref Node, $ref Node]}`` once walked 3⁶⁴ alternatives (M2)."""
    loop = {"anyOf": [{"$ref": "#/Node"}] * 3}
    lookup = {"#/Node": loop}.__getitem__
    assert _described({"a": 1}, {"$ref": "#/Node"}, lookup=lookup) == [
        ("$: expected what #/Node describes, but it refers to itself here: not compared", False)]
    named = {"anyOf": [{"$ref": "#/Named"}, {"type": "object", "properties": {"a": {"type": "string"}}}]}
    assert _described({"a": 1}, named, lookup={"#/Named": named}.__getitem__) == [  # not "fits anything"
        ("$.a: expected string, got integer", True)]
    assert _described({"a": "x"}, named, lookup={"#/Named": named}.__getitem__) == []


def test_alternatives_nested_in_alternatives_stop_at_a_budget_saying_so() -> None:
    node = {"anyOf": [{"type": "object", "properties": {"n": {"$ref": "#/N"}, "k": {"type": "integer"}}}] * 3}
    value: dict[str, Any] = {"k": "x"}
    for _ in range(30):  # 3³⁰ ways to walk without a budget
        value = {"n": value, "k": 1}
    found = differences(value, node, lookup={"#/N": node}.__getitem__)
    assert found[-1].describe() == (f"$: compared only in part: the schema asks for over {MAX_STEPS} comparisons "
                                    "(alternatives nested in alternatives)")
    assert not found[-1].fails


def test_all_of_checks_every_part_and_one_of_the_closest_alternative() -> None:
    named = {"type": "object", "properties": {"name": {"type": "string"}}}
    dated = {"type": "object", "required": ["at"], "properties": {"at": {"type": "string"}}}
    assert _described({"name": "a", "at": "x"}, {"allOf": [named, dated]}) == []  # each part's fields are known
    assert _described({"name": 1}, {"allOf": [named, dated]}) == [
        ("$.name: expected string, got integer", True), ("$.at: missing (required)", True)]
    either = {"oneOf": [{"type": "string"}, PRODUCT]}
    assert _described({"id": 1, "price": "x"}, either) == [("$.price: expected number, got string", True)]
    assert _described("ok", either) == []


def test_differences_are_bounded() -> None:
    found = differences([str(i) for i in range(500)], {"type": "array", "items": {"type": "integer"}})
    assert len(found) == MAX_DIFFERENCES
    assert found[-1].describe() == f"$: … and {500 - MAX_DIFFERENCES + 1} more differences"
    dates = differences(["soon"] * 500, {"type": "array", "items": {"type": "string", "format": "date"}})
    assert len(dates) == MAX_DIFFERENCES and dates[0].describe() == '$[0]: expected format date, got "soon"'


@pytest.mark.parametrize(("value", "name"), [(None, "null"), (True, "boolean"), (3, "integer"), (2.0, "integer"),
                                             (2.5, "number"), ("", "string"), ([], "array"), ({}, "object")])
def test_type_of(value: Any, name: str) -> None:
    assert type_of(value) == name
