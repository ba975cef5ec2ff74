"""A schema with its examples taken out, for ``--examples generate``'s last resort.

:func:`~postmock_nb.formats.schemagen.example_value` gives a schema's own ``example`` (or first of ``examples``)
before anything it would make from the types: the author's data, kept on purpose. When that data breaks the
schema it stands in (a property's ``example: 5`` under ``type: string``), the value made from the schema breaks
it too; :func:`without_examples` is the same schema, every subschema's ``example``/``examples`` left out, so the
value is made from the types, formats and bounds alone. ``$ref`` is not followed here: :func:`stripping` wraps
the document's lookup so that what a reference points to is stripped too (each target once).

Only keywords that hold schemas are walked: a property *named* ``example`` (under ``properties``) is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EXAMPLE_KEYWORDS = frozenset({"example", "examples"})
"""OpenAPI's ``example`` and JSON Schema's ``examples`` (a list in 2020-12)."""
_ONE_SCHEMA = frozenset({"items", "additionalProperties", "additionalItems", "not", "contains", "propertyNames",
                         "if", "then", "else", "unevaluatedItems", "unevaluatedProperties"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems", "items"})


def without_examples(schema: Any) -> Any:
    """``schema`` without the ``example``/``examples`` of itself and of every subschema (a new object; the
    document is not changed). What is not a schema object is given back as it is."""
    if not isinstance(schema, dict):
        return schema
    stripped: dict[str, Any] = {}
    for key, value in schema.items():
        if key in EXAMPLE_KEYWORDS:
            continue
        if key in _ONE_SCHEMA and isinstance(value, dict):
            value = without_examples(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            value = [without_examples(part) for part in value]
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            value = {name: without_examples(part) for name, part in value.items()}
        stripped[key] = value
    return stripped


def stripping(lookup: Callable[[str], Any]) -> Callable[[str], Any]:
    """``lookup``, with what each reference points to given :func:`without_examples` (each target stripped once)."""
    done: dict[str, Any] = {}

    def stripped_lookup(ref: str) -> Any:
        if ref not in done:
            done[ref] = without_examples(lookup(ref))
        return done[ref]

    return stripped_lookup
