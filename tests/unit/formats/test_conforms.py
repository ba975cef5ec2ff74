"""formats/conforms.py: the quick, bounded check generation uses for oneOf and not."""

from __future__ import annotations

from typing import Any

import pytest

from postmock_nb.formats.conforms import STEPS, fits

SCHEMAS = {"Id": {"type": "integer", "minimum": 1}}


def lookup(ref: str) -> Any:
    return SCHEMAS[ref.rsplit("/", 1)[-1]]


@pytest.mark.parametrize(("value", "schema", "expected"), [
    (1, {"type": "integer"}, True), (1.0, {"type": "integer"}, True), (True, {"type": "integer"}, False),
    (None, {"type": "string", "nullable": True}, True), (None, {"type": ["string", "null"]}, True),
    ("ab", {"minLength": 3}, False), ("ab", {"pattern": "^a"}, True), ("ab", {"pattern": "^b"}, False),
    (5, {"exclusiveMaximum": 5}, False), (5, {"maximum": 5, "exclusiveMaximum": True}, False),
    (0.3, {"multipleOf": 0.1}, False), (2, {"enum": [1, 2]}, True), (1, {"const": True}, False),
    ({"a": 1}, {"required": ["b"]}, False), ({"a": 1}, {"additionalProperties": False}, False),
    ({"a": 1}, {"properties": {"a": {"$ref": "#/Id"}}}, True), ({"a": 0}, {"properties": {"a": {"$ref": "#/Id"}}}, False),
    ([1, 1], {"uniqueItems": True}, False), ([1], {"items": {"type": "string"}}, False), ([], {"minItems": 1}, False),
    (0, {"oneOf": [{"type": "integer"}, {"type": "number"}]}, False), (0.5, {"oneOf": [{"type": "integer"},
                                                                                      {"type": "number"}]}, True),
    (1, {"anyOf": [{"type": "string"}, {"type": "integer"}]}, True), (1, {"allOf": [{"minimum": 2}, {}]}, False),
    (1, {"not": {"type": "integer"}}, False), (1, False, False), (1, True, True),
])
def test_fits(value: Any, schema: Any, expected: bool) -> None:
    assert fits(value, schema, lookup) is expected


def test_unsure_is_fits() -> None:
    assert fits(1, {"$ref": "#/Missing", "type": "string"}, lookup)
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(STEPS + 5):
        deep = {"allOf": [deep]}
    assert fits(1, deep, lookup)
