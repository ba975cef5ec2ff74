"""A quick, partial check that a value satisfies a schema, for the choices generation makes
(:mod:`postmock_nb.formats.schemagen`: a ``oneOf`` choice that satisfies exactly one, a value outside a ``not``).

It checks ``type`` (and 3.0 ``nullable``), ``enum``/``const``, string lengths and ``pattern``, number
bounds and ``multipleOf``, ``required``/``properties``/``additionalProperties``/``min|maxProperties``,
``items``/``min|maxItems``/``uniqueItems``, ``allOf``/``anyOf``/``oneOf``/``not``, following ``$ref``.
The work is bounded (:data:`STEPS` schemas); past it, or on a ``$ref`` or pattern it cannot follow, the
answer is "fits" (the generator then keeps the value it has).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from postmock_nb.core import patterns
from postmock_nb.formats.scalars import bound, count, is_multiple

STEPS = 2_000
"""Schemas one check may visit."""

MAX_NESTING = 16

Lookup = Callable[[str], Any]


class _Unsure(Exception):
    """The check cannot tell (too much work, a ``$ref`` or a pattern it cannot follow)."""


def fits(value: Any, schema: Any, lookup: Lookup) -> bool:
    """Whether ``value`` satisfies ``schema``, as far as this quick check tells (``True`` when unsure)."""
    try:
        return _Check(lookup).fits(value, schema, 0)
    except _Unsure:
        return True


class _Check:
    def __init__(self, lookup: Lookup) -> None:
        self.lookup, self.steps = lookup, STEPS

    def fits(self, value: Any, schema: Any, depth: int) -> bool:
        if not isinstance(schema, dict):
            return schema is not False
        self.steps -= 1
        if self.steps < 0 or depth > MAX_NESTING:
            raise _Unsure
        ref = schema.get("$ref")
        if isinstance(ref, str):
            try:
                target = self.lookup(ref)
            except Exception:  # noqa: BLE001 - any lookup failure: cannot tell
                raise _Unsure from None
            if not self.fits(value, target, depth + 1):
                return False
        if value is None and schema.get("nullable") is True:
            return True
        return (_type_fits(value, schema) and _enum_fits(value, schema) and _string_fits(value, schema)
                and _number_fits(value, schema) and self._object_fits(value, schema, depth)
                and self._array_fits(value, schema, depth) and self._combinators_fit(value, schema, depth))

    def _object_fits(self, value: Any, schema: dict[str, Any], depth: int) -> bool:
        if not isinstance(value, dict):
            return True
        required = schema.get("required")
        if isinstance(required, list) and any(name not in value for name in required):
            return False
        low, high = count(schema.get("minProperties")), count(schema.get("maxProperties"))
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            return False
        found = schema.get("properties")
        properties: dict[str, Any] = found if isinstance(found, dict) else {}
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                if not self.fits(item, properties[name], depth + 1):
                    return False
            elif "patternProperties" not in schema and extra is not None and not self.fits(item, extra, depth + 1):
                return False
        return True

    def _array_fits(self, value: Any, schema: dict[str, Any], depth: int) -> bool:
        if not isinstance(value, list):
            return True
        low, high = count(schema.get("minItems")), count(schema.get("maxItems"))
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            return False
        if schema.get("uniqueItems") is True and len({_key(item) for item in value}) < len(value):
            return False
        items = schema.get("items")
        return not isinstance(items, dict) or all(self.fits(item, items, depth + 1) for item in value)

    def _combinators_fit(self, value: Any, schema: dict[str, Any], depth: int) -> bool:
        for key in ("allOf", "anyOf", "oneOf"):
            parts = schema.get(key)
            if not isinstance(parts, list) or not parts:
                continue
            fitting = sum(1 for part in parts if self.fits(value, part, depth + 1))
            if (key == "allOf" and fitting < len(parts)) or (key == "anyOf" and not fitting) or (
                    key == "oneOf" and fitting != 1):
                return False
        return "not" not in schema or not self.fits(value, schema["not"], depth + 1)


_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _type_fits(value: Any, schema: dict[str, Any]) -> bool:
    declared = schema.get("type")
    names = declared if isinstance(declared, list) else [declared] if isinstance(declared, str) else []
    known = [_TYPES[name] for name in names if name in _TYPES]
    return not known or any(test(value) for test in known)


def _enum_fits(value: Any, schema: dict[str, Any]) -> bool:
    enum = schema.get("enum")
    if isinstance(enum, list) and _key(value) not in {_key(item) for item in enum}:
        return False
    return "const" not in schema or _key(value) == _key(schema["const"])


def _string_fits(value: Any, schema: dict[str, Any]) -> bool:
    if not isinstance(value, str):
        return True
    low, high = count(schema.get("minLength")), count(schema.get("maxLength"))
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        return False
    pattern = schema.get("pattern")
    if not isinstance(pattern, str):
        return True
    try:
        return patterns.search(pattern, value)
    except patterns.UncheckablePattern:
        raise _Unsure from None


def _number_fits(value: Any, schema: dict[str, Any]) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    minimum, maximum = bound(schema.get("minimum")), bound(schema.get("maximum"))
    low_open, high_open = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if minimum is not None and (value < minimum or (low_open is True and value == minimum)):
        return False
    if maximum is not None and (value > maximum or (high_open is True and value == maximum)):
        return False
    open_min, open_max = bound(low_open), bound(high_open)
    if (open_min is not None and value <= open_min) or (open_max is not None and value >= open_max):
        return False
    multiple = bound(schema.get("multipleOf"))
    return multiple is None or multiple <= 0 or is_multiple(value, multiple)


def _key(value: Any) -> str:
    """A value's identity for ``enum``/``const``/``uniqueItems`` (``1`` and ``true`` differ, as in JSON)."""
    return json.dumps(value, sort_keys=True, default=str)
