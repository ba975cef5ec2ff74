"""A schema without its examples (postmock_nb.formats.schemaonly), the last resort of ``--examples generate``."""

from __future__ import annotations

from typing import Any

from postmock_nb.formats.schemagen import example_value
from postmock_nb.formats.schemaonly import stripping, without_examples


def test_every_subschema_loses_its_examples_and_nothing_else() -> None:
    schema = {
        "type": "object", "example": {"id": "x"}, "required": ["id"],
        "properties": {
            "id": {"type": "integer", "example": "seven"},
            "example": {"type": "string", "examples": ["kept name, dropped list"]},  # a property named "example"
            "tags": {"type": "array", "items": {"type": "string", "example": 5}},
            "extra": {"additionalProperties": {"type": "boolean", "example": "no"}},
        },
        "allOf": [{"example": 1, "minProperties": 1}], "not": {"example": 2, "type": "null"},
    }
    assert without_examples(schema) == {
        "type": "object", "required": ["id"],
        "properties": {
            "id": {"type": "integer"},
            "example": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "extra": {"additionalProperties": {"type": "boolean"}},
        },
        "allOf": [{"minProperties": 1}], "not": {"type": "null"},
    }
    assert schema["properties"]["id"]["example"] == "seven"  # the document is not changed


def test_what_is_not_a_schema_object_is_given_back() -> None:
    assert without_examples(True) is True
    assert without_examples([1]) == [1]


def test_references_are_stripped_through_the_lookup_once() -> None:
    targets = {"#/components/schemas/Id": {"type": "integer", "minimum": 3, "example": "three"}}
    calls: list[str] = []

    def lookup(ref: str) -> Any:
        calls.append(ref)
        return targets[ref]

    stripped = stripping(lookup)
    schema = {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/Id"},
                                               "b": {"$ref": "#/components/schemas/Id"}}}
    assert example_value(schema, lookup) == {"a": "three", "b": "three"}
    calls.clear()
    assert example_value(without_examples(schema), stripped) == {"a": 3, "b": 3}
    assert calls == ["#/components/schemas/Id"]
