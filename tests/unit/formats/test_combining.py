"""formats/combining.py: allOf parts joined into one schema, a discriminator's mapping key, readOnly/writeOnly flags."""

from __future__ import annotations

from typing import Any

from postmock_nb.formats.combining import flagged, join, mapping_key, neighbours


def test_join_unites_narrows_and_keeps_the_first() -> None:
    merged: dict[str, Any] = {"type": "number", "minimum": 1, "maxLength": 9, "required": ["a"],
                              "properties": {"a": {"type": "string"}}, "enum": [1, 2, 3], "pattern": "^a"}
    part = {"type": "integer", "minimum": 4, "maxLength": 3, "required": ["b", "a"], "pattern": "^b",
            "properties": {"a": {"minLength": 2}, "b": {}}, "enum": [3, 2], "example": {"x": 1}, "default": 7}
    join(merged, part)
    assert merged == {"type": "integer", "minimum": 4, "maxLength": 3, "required": ["a", "b"], "pattern": "^a",
                      "properties": {"a": {"allOf": [{"type": "string"}, {"minLength": 2}]}, "b": {}},
                      "enum": [2, 3], "default": 7}
    assert part["properties"] == {"a": {"minLength": 2}, "b": {}}  # the document is not changed


def test_mapping_key() -> None:
    discriminator = {"propertyName": "kind", "mapping": {"c": "#/components/schemas/Cat", "d": "Dog"}}
    assert mapping_key(discriminator, "#/components/schemas/Cat") == "c"
    assert mapping_key(discriminator, "#/components/schemas/Dog") == "d"
    assert mapping_key(discriminator, "#/components/schemas/Cow") == "Cow"


def test_flagged_through_ref_and_all_of() -> None:
    schemas = {"A": {"readOnly": True}, "B": {"allOf": [{"$ref": "#/B2"}]}, "B2": {"writeOnly": True}}

    def lookup(ref: str) -> Any:
        return schemas[ref.rsplit("/", 1)[-1]]

    assert flagged({"$ref": "#/A"}, "readOnly", lookup) and not flagged({"$ref": "#/A"}, "writeOnly", lookup)
    assert flagged({"$ref": "#/B"}, "writeOnly", lookup) and not flagged({}, "readOnly", lookup)


def test_neighbours_start_near_the_value() -> None:
    assert neighbours("s")[:2] == ["sx", "xs"] and neighbours(3)[:2] == [4, 2] and neighbours(True)[0] is False
