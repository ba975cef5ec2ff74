"""Deterministic example values from JSON Schema / OpenAPI schemas (Prism's static mode).

For each schema the first of these that applies gives the value:

1. ``example`` (OpenAPI), then ``default``, then ``const``
2. the first of ``examples`` (JSON Schema 2020-12, a list), then ``enum[0]``
3. ``allOf`` (objects merged), ``oneOf`` / ``anyOf`` (the first choice)
4. by type: a format-aware string (``date-time``, ``email``, ``uuid``, ``uri`` …, padded to
   ``minLength``), ``minimum`` or 0 for numbers, ``true``, one item for arrays (``minItems``
   if more), every property for objects.

The same schema always gives the same value. ``$ref`` is followed through the ``lookup``
function given (a hop costs no nesting level: a chain of ``$ref``'d objects nests as deep as its
objects); a reference already being expanded (a circular schema) is cut: the property is left
out, an array is left empty. Values nested deeper than :data:`MAX_DEPTH` (or reached through more
than :data:`MAX_REF_HOPS` references) are cut the same way. Only the part cut is lost: a required
property that is cut gets its type's empty value (``{}``, ``[]``, or its scalar), never the body
``null``. Numeric keywords that are not finite numbers (``.nan``, ``.inf``, ``1e400``), and
length/count keywords that are not non-negative integers (``minLength: 1.5``), are ignored.

The work is bounded by a :class:`Budget` of steps (one per schema visited, one per array item
or hundred characters of string made; an array of ``minItems`` copies is charged for each copy
in full): schemas whose ``$ref`` keys fan out (each referring to the next twice, twenty levels
deep) or a ``minItems: 1000000000`` raise :class:`ExampleTooBig` instead of running for
minutes or filling the memory.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from postmock_nb.core.limits import MAX_EXAMPLE_STEPS

MAX_DEPTH = 32
"""Values nested deeper than this (objects and arrays, ``$ref`` hops not counted) are cut (a guard
besides the circular-reference cut; the step budget bounds the work)."""

MAX_REF_HOPS = 64
"""A chain of more ``$ref``s than this being expanded at once is cut (bounds the recursion)."""

FORMAT_VALUES: dict[str, str] = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00Z",
    "duration": "P1D",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uri-reference": "/example",
    "iri": "https://example.com",
    "uri-template": "https://example.com/{id}",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "byte": "c3RyaW5n",
    "binary": "",
    "password": "********",
    "json-pointer": "/example",
    "regex": ".*",
}

Lookup = Callable[[str], Any]


class _Cut(Exception):
    """A value that cannot be given without expanding a circular reference."""


class ExampleTooBig(Exception):
    """Making the value would take more than the budget's steps."""

    def __init__(self, steps: int) -> None:
        super().__init__(f"more than {steps:,} steps")
        self.steps = steps


@dataclass
class Budget:
    """Steps left for making an example value."""

    steps: int = MAX_EXAMPLE_STEPS
    limit: int = field(init=False)

    def __post_init__(self) -> None:
        self.limit = self.steps

    def spend(self, steps: int = 1) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise ExampleTooBig(self.limit)


@dataclass(frozen=True)
class Purpose:
    """Which side the value is for: responses leave out ``writeOnly``, requests ``readOnly``."""

    skip: str = "writeOnly"


RESPONSE = Purpose("writeOnly")
REQUEST = Purpose("readOnly")


@dataclass(frozen=True)
class _Walk:
    lookup: Lookup
    purpose: Purpose
    budget: Budget


def followed(value: Any, lookup: Lookup) -> Any:
    """An example value as written, except a ``$ref`` that is the whole value: followed (strictly that is
    literal data, but Prism and every documentation tool follow it, and users mean the data), an Example
    Object's ``value`` taken. A ``$ref`` that cannot be followed stays the data it is."""
    seen: set[str] = set()
    while isinstance(value, dict) and len(value) == 1 and isinstance(value.get("$ref"), str):
        ref = value["$ref"]
        if ref in seen or not ref.startswith("#/"):
            return value
        seen.add(ref)
        try:
            target = lookup(ref)
        except Exception:  # noqa: BLE001 - a $ref to nothing in data is data
            return value
        value = target["value"] if "/examples/" in ref and isinstance(target, dict) and "value" in target else target
    return value


def example_value(schema: Any, lookup: Lookup, purpose: Purpose = RESPONSE, *, budget: Budget | None = None) -> Any:
    """The example value of ``schema`` (``None`` when a circular schema leaves nothing).
    Raises :class:`ExampleTooBig` past ``budget`` (default: a budget of its own)."""
    try:
        return _value(schema, _Walk(lookup, purpose, budget or Budget()), (), 0)
    except _Cut:
        return None


def _value(schema: Any, walk: _Walk, expanding: tuple[str, ...], depth: int) -> Any:
    if not isinstance(schema, dict):
        return None if schema is not True else "string"
    walk.budget.spend()
    if depth > MAX_DEPTH:
        raise _Cut
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if "example" in schema:
            return followed(schema["example"], walk.lookup)
        if ref in expanding or len(expanding) >= MAX_REF_HOPS:
            raise _Cut
        return _value(walk.lookup(ref), walk, expanding + (ref,), depth)
    for key in ("example", "default", "const"):
        if key in schema:
            return followed(schema[key], walk.lookup) if key == "example" else schema[key]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if isinstance(schema.get("allOf"), list):
        return _all_of(schema, walk, expanding, depth)
    for key in ("oneOf", "anyOf"):
        choices = schema.get(key)
        if isinstance(choices, list) and choices:
            return _first_choice(choices, walk, expanding, depth)
    return _by_type(schema, _type_of(schema), walk, expanding, depth)


def _type_of(schema: dict[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):  # 3.1: ["string", "null"]
        declared = next((t for t in declared if t != "null"), "null")
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _first_choice(choices: list[Any], walk: _Walk, expanding: tuple[str, ...], depth: int) -> Any:
    for choice in choices:  # the first that is not cut
        try:
            return _value(choice, walk, expanding, depth + 1)
        except _Cut:
            continue
    raise _Cut


def _all_of(schema: dict[str, Any], walk: _Walk, expanding: tuple[str, ...], depth: int) -> Any:
    merged: dict[str, Any] = {}
    other: Any = None
    own = {k: v for k, v in schema.items() if k != "allOf"}
    for part in [*schema["allOf"], own] if own.get("properties") else schema["allOf"]:
        value = _value(part, walk, expanding, depth + 1)
        if isinstance(value, dict):
            merged.update(value)
        elif other is None:
            other = value
    return merged if merged or other is None else other


def _by_type(schema: dict[str, Any], kind: str, walk: _Walk, expanding: tuple[str, ...], depth: int) -> Any:
    if kind == "object":
        return _object(schema, walk, expanding, depth)
    if kind == "array":
        return _array(schema, walk, expanding, depth)
    if kind == "integer":
        return _integer(_number(schema, 1))
    if kind == "number":
        fractional = isinstance(_bound(schema.get("minimum")), float)
        return _number(schema, 0.5) if fractional else _integer(_number(schema, 1))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    text = _string(schema)
    walk.budget.spend(len(text) // 100)
    return text


def _bound(value: Any) -> float | None:
    """A numeric keyword's value, when it is a finite number (``.nan``, ``.inf``, ``1e400`` read as ``inf``
    and ``true`` are not: they are ignored)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if isinstance(value, int) or math.isfinite(value) else None


def _count(value: Any) -> int | None:
    """A length or count keyword's value, when it is a non-negative integer (else it is ignored)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _integer(value: float) -> int:
    return value if isinstance(value, int) else int(value)


def _number(schema: dict[str, Any], step: float) -> float:
    minimum, maximum = _bound(schema.get("minimum")), _bound(schema.get("maximum"))
    exclusive_min, exclusive_max = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    open_min, open_max = _bound(exclusive_min), _bound(exclusive_max)  # the 3.1 form: a number
    if open_min is not None:
        return open_min + step
    if minimum is not None:
        return minimum + step if exclusive_min is True else minimum
    if open_max is not None and open_max <= 0:
        return open_max - step
    if maximum is not None and maximum < 0:
        return maximum - step if exclusive_max is True else maximum
    return 0


def _string(schema: dict[str, Any]) -> str:
    text = FORMAT_VALUES.get(str(schema.get("format", "")), "string")
    min_length, max_length = _count(schema.get("minLength")), _count(schema.get("maxLength"))
    if min_length is not None and min_length > MAX_EXAMPLE_STEPS * 100:
        raise ExampleTooBig(MAX_EXAMPLE_STEPS)  # never build the string to find out
    if min_length is not None and len(text) < min_length:
        text = (text * (min_length // max(len(text), 1) + 1))[:min_length] if text else "s" * min_length
    if max_length is not None and len(text) > max_length:
        text = text[:max_length]
    return text


def _array(schema: dict[str, Any], walk: _Walk, expanding: tuple[str, ...], depth: int) -> list[Any]:
    items = schema.get("items", {})
    if isinstance(items, list):  # tuple form
        return [_item(item, walk, expanding, depth) for item in items]
    before = walk.budget.steps
    try:
        item = _value(items, walk, expanding, depth + 1)
    except _Cut:
        return []
    count = _count(schema.get("minItems"))
    count = count if count is not None and count > 1 else 1
    walk.budget.spend((count - 1) * max(before - walk.budget.steps, 1))  # each copy is written out in full
    return [item] * count


def _item(schema: Any, walk: _Walk, expanding: tuple[str, ...], depth: int) -> Any:
    try:
        return _value(schema, walk, expanding, depth + 1)
    except _Cut:
        return None


def _object(schema: dict[str, Any], walk: _Walk, expanding: tuple[str, ...], depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    properties = schema.get("properties")
    required = set(schema.get("required") or ())
    if isinstance(properties, dict):
        for name, prop in properties.items():
            if isinstance(prop, dict) and prop.get(walk.purpose.skip) is True:
                continue  # readOnly is not sent, writeOnly not returned (even when "required")
            try:
                result[name] = _value(prop, walk, expanding, depth + 1)
            except _Cut:  # only this property is lost: left out, or (required) its type's empty value
                if name in required:
                    result[name] = _stub(prop, walk)
    extra = schema.get("additionalProperties")
    if not result and isinstance(extra, dict):
        with contextlib.suppress(_Cut):
            result["additionalProp1"] = _value(extra, walk, expanding, depth + 1)
    return result


def _stub(schema: Any, walk: _Walk) -> Any:
    """A cut required property's value: ``{}`` or ``[]`` for its type, a scalar as usual; nothing is expanded."""
    for _ in range(MAX_REF_HOPS):
        if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
            break
        schema = walk.lookup(schema["$ref"])
    if not isinstance(schema, dict):
        return None
    kind = _type_of(schema)
    if kind in ("object", "array"):
        return {} if kind == "object" else []
    return _by_type(schema, kind, walk, (), MAX_DEPTH)
