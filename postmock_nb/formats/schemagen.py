"""Deterministic example values from JSON Schema / OpenAPI schemas (Prism's static mode) that satisfy them.

For each schema the first of these that applies gives the value:

1. ``example`` (OpenAPI), then ``default``, then ``const``
2. the first of ``examples`` (JSON Schema 2020-12, a list), then ``enum[0]``
3. ``allOf``: its parts merged into one schema (properties and ``required`` joined, the tightest bounds,
   ``enum``s intersected), then made as one; a part's own object ``example`` laid over the value
4. ``oneOf`` / ``anyOf``: the first choice not cut, merged with the schema's other keywords; for
   ``oneOf``, the first whose value satisfies exactly one choice (a quick check,
   :mod:`~postmock_nb.formats.conforms`); a ``discriminator``'s property set to the chosen ``$ref``'s
   ``mapping`` key (else its schema name), and so for a schema that inherits the discriminator via ``allOf``
5. ``not``: the value without it, or else the first of a few others that stays outside it
6. by type (the first non-null of a type list): strings and numbers by :mod:`~postmock_nb.formats.scalars`
   (``pattern``, ``format``, lengths, bounds, ``multipleOf``); ``true``; arrays of ``minItems`` items (one
   if none, within ``maxItems``; distinct items for ``uniqueItems``; ``prefixItems``); objects with
   every property, each ``required`` one, ``additionalProp1``… up to ``minProperties`` (one when there is
   nothing else and ``additionalProperties`` is a schema), within ``maxProperties``.

Properties that are ``writeOnly`` (in responses) or ``readOnly`` (in requests) are left out, also
when the flag comes through a ``$ref`` or an ``allOf``. The same schema always gives the same value:
``seed`` seeds the random choices a ``pattern`` needs (or pass ``rng``, a :class:`random.Random`, for a
fresh value each time). ``$ref`` is followed through the ``lookup`` function given (a hop costs no
nesting level: a chain of ``$ref``'d objects nests as deep as its objects); a reference already being
expanded (a circular schema) is cut: the property is left out, an array is left empty. Values nested
deeper than :data:`MAX_DEPTH` (or reached through more than :data:`MAX_REF_HOPS` references) are cut
the same way. Only the part cut is lost: a required property that is cut gets its type's empty value
(``{}``, ``[]``, or its scalar), never the body ``null``. Numeric keywords that are not finite numbers
(``.nan``, ``.inf``, ``1e400``), and length/count keywords that are not non-negative integers
(``minLength: 1.5``), are ignored. A ``pattern`` that cannot be followed gives the plain value and a
line in ``notes``.

The work is bounded by a :class:`Budget` of steps (one per schema visited, one per array item
or hundred characters of string made; an array of ``minItems`` copies is charged for each copy
in full): schemas whose ``$ref`` keys fan out (each referring to the next twice, twenty levels
deep) or a ``minItems: 1000000000`` raise :class:`ExampleTooBig` instead of running for
minutes or filling the memory.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from postmock_nb.core.limits import MAX_EXAMPLE_STEPS
from postmock_nb.formats import scalars
from postmock_nb.formats.combining import flagged, join, mapping_key, neighbours
from postmock_nb.formats.conforms import fits
from postmock_nb.formats.scalars import FORMAT_VALUES as FORMAT_VALUES
from postmock_nb.formats.scalars import count

MAX_DEPTH = 32
"""Values nested deeper than this (objects and arrays, ``$ref`` hops not counted) are cut (a guard
besides the circular-reference cut; the step budget bounds the work)."""

MAX_REF_HOPS = 64
"""A chain of more ``$ref``s than this being expanded at once is cut (bounds the recursion)."""

ONE_OF_TRIES = 4
"""``oneOf`` choices tried for one that satisfies exactly one, before taking the first."""

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
    randomness: list[random.Random | int]  # the generator, or its seed until a pattern needs one (made lazily)
    notes: list[str] | None = None
    nth: int = 0  # the nth distinct value asked for (uniqueItems)

    @property
    def rng(self) -> random.Random:
        made = self.randomness[0]
        if not isinstance(made, random.Random):
            made = self.randomness[0] = random.Random(made)
        return made

    def note(self, line: str) -> None:
        if self.notes is not None and line not in self.notes:
            self.notes.append(line)


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


def example_value(schema: Any, lookup: Lookup, purpose: Purpose = RESPONSE, *, budget: Budget | None = None,
                  seed: int = 0, rng: random.Random | None = None, notes: list[str] | None = None) -> Any:
    """The example value of ``schema`` (``None`` when a circular schema leaves nothing).

    ``seed`` makes the random choices (a ``pattern``'s value) the same each time; ``rng`` (a
    :class:`random.Random`, shared between calls) instead gives fresh values. ``notes`` collects a line
    for each ``pattern`` that could not be followed. Raises :class:`ExampleTooBig` past ``budget``
    (default: a budget of its own)."""
    walk = _Walk(lookup, purpose, budget or Budget(), [rng or seed], notes)
    try:
        return _value(schema, walk, (), 0)
    except _Cut:
        return None


_NOTHING = object()


def _value(schema: Any, walk: _Walk, expanding: tuple[str, ...], depth: int, name: str = "") -> Any:
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
        return _value(walk.lookup(ref), walk, expanding + (ref,), depth, ref)
    given = _given(schema, walk)
    if given is not _NOTHING:
        return given
    if isinstance(schema.get("allOf"), list):
        return _all_of(schema, walk, expanding, depth, name)
    for key in ("oneOf", "anyOf"):
        choices = schema.get(key)
        if isinstance(choices, list) and choices:
            return _choice(schema, key, walk, expanding, depth)
    if "not" in schema:
        return _outside(schema, walk, expanding, depth)
    return _by_type(schema, type_of(schema), walk, expanding, depth)


def _given(schema: dict[str, Any], walk: _Walk) -> Any:
    """The value the schema gives itself (``example``, ``default``, ``const``, ``examples``, ``enum``)."""
    for key in ("example", "default", "const"):
        if key in schema:
            return followed(schema[key], walk.lookup) if key == "example" else schema[key]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[walk.nth % len(enum)]
    return _NOTHING


def type_of(schema: dict[str, Any]) -> str:
    """The type a value of ``schema`` takes: its ``type`` (the first not ``null`` of a 3.1 list), else what its
    keywords say (``properties`` → object, ``items`` → array), else string."""
    declared = schema.get("type")
    if isinstance(declared, list):  # 3.1: ["string", "null"]
        declared = next((t for t in declared if t != "null"), "null")
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return "string"


# -- allOf, oneOf / anyOf, not --------------------------------------------------------------------

_NOTES = frozenset({"description", "title", "externalDocs", "xml", "deprecated", "$comment", "discriminator"})


def _all_of(schema: dict[str, Any], walk: _Walk, expanding: tuple[str, ...], depth: int, name: str) -> Any:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    overlays: list[dict[str, Any]] = []
    seen = _merge(merged, schema["allOf"], walk, expanding, overlays)
    value = _value(merged, walk, seen, depth)
    if isinstance(value, dict):
        for overlay in overlays:  # a part's own example: the author's data over the made one
            value.update({k: v for k, v in overlay.items() if k in value or not _skipped(merged, k, walk)})
        _inherit_discriminator(value, merged, name, walk)
    return value


def _merge(merged: dict[str, Any], parts: list[Any], walk: _Walk, expanding: tuple[str, ...],
           overlays: list[dict[str, Any]]) -> tuple[str, ...]:
    """Each part (its ``$ref`` followed, its own ``allOf`` merged first) joined into ``merged``; returns the
    references followed (cut as circular further down)."""
    for raw in parts:
        walk.budget.spend()
        part, expanding = _followed_schema(raw, walk, expanding)
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("allOf"), list):
            inner = {k: v for k, v in part.items() if k != "allOf"}
            expanding = _merge(inner, part["allOf"], walk, expanding, overlays)
            part = inner
        example = followed(part["example"], walk.lookup) if "example" in part else None
        if isinstance(example, dict):
            overlays.append(example)
        join(merged, part)
    return expanding


def _followed_schema(schema: Any, walk: _Walk, expanding: tuple[str, ...]) -> tuple[Any, tuple[str, ...]]:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if ref in expanding or len(expanding) >= MAX_REF_HOPS:
            raise _Cut
        schema, expanding = walk.lookup(ref), expanding + (ref,)
    return schema, expanding


def _inherit_discriminator(value: dict[str, Any], merged: dict[str, Any], name: str, walk: _Walk) -> None:
    """A schema reached by ``$ref`` that inherits a ``discriminator`` (``allOf: [Pet, …]``): its property set
    to this schema's ``mapping`` key (else its name), unless the property's schema does not allow it."""
    discriminator = merged.get("discriminator")
    if not name or not isinstance(discriminator, dict) or not isinstance(discriminator.get("propertyName"), str):
        return
    prop, key = discriminator["propertyName"], mapping_key(discriminator, name)
    properties = merged.get("properties")
    schema = properties.get(prop, True) if isinstance(properties, dict) else True
    if fits(key, schema, walk.lookup):
        value[prop] = key


def _choice(schema: dict[str, Any], key: str, walk: _Walk, expanding: tuple[str, ...], depth: int) -> Any:
    choices: list[Any] = schema[key]
    rest = {k: v for k, v in schema.items() if k != key}
    own = any(k not in _NOTES for k in rest)
    discriminator = schema.get("discriminator")
    first: Any = _NOTHING
    tried = 0
    for choice in choices:
        try:
            named = choice.get("$ref", "") if own and isinstance(choice, dict) else ""  # an inherited discriminator
            value = _value({"allOf": [rest, choice]} if own else choice, walk, expanding, depth + 1, named)
        except _Cut:
            continue
        _tag(value, choice, discriminator, walk)
        if key == "anyOf" or len(choices) == 1:
            return value
        if first is _NOTHING:
            first = value
        for candidate in (value, *neighbours(value)):  # one that satisfies exactly one choice: it, or a neighbour
            walk.budget.spend()
            if fits(candidate, schema, walk.lookup):
                return candidate
        tried += 1
        if tried >= ONE_OF_TRIES:
            break
    if first is _NOTHING:
        raise _Cut
    return first


def _tag(value: Any, choice: Any, discriminator: Any, walk: _Walk) -> None:
    """The discriminator's property of a value made from a ``$ref`` choice: that choice's mapping key (unless
    the choice does not allow that value there)."""
    if not (isinstance(value, dict) and isinstance(discriminator, dict) and isinstance(choice, dict)):
        return
    prop, ref = discriminator.get("propertyName"), choice.get("$ref")
    if isinstance(prop, str) and isinstance(ref, str):
        tagged = {**value, prop: mapping_key(discriminator, ref)}
        if fits(tagged, choice, walk.lookup):
            value[prop] = tagged[prop]


def _outside(schema: dict[str, Any], walk: _Walk, expanding: tuple[str, ...], depth: int) -> Any:
    """A value of the schema without ``not`` that stays outside ``not``: its own, else the first of a few others."""
    rest = {k: v for k, v in schema.items() if k != "not"}
    value = _value(rest, walk, expanding, depth)
    banned = schema["not"]
    if not fits(value, banned, walk.lookup):
        return value
    for other in neighbours(value):
        walk.budget.spend()
        if not fits(other, banned, walk.lookup) and fits(other, rest, walk.lookup):
            return other
    return value


# -- by type --------------------------------------------------------------------------------------


def _by_type(schema: dict[str, Any], kind: str, walk: _Walk, expanding: tuple[str, ...], depth: int) -> Any:
    if kind == "object":
        return _object(schema, walk, expanding, depth)
    if kind == "array":
        return _array(schema, walk, expanding, depth)
    if kind in ("integer", "number"):
        return scalars.number_value(schema, kind == "integer", walk.nth)
    if kind == "boolean":
        return walk.nth % 2 == 0
    if kind == "null":
        return None
    return _string(schema, walk)


def _string(schema: dict[str, Any], walk: _Walk) -> str:
    min_length = count(schema.get("minLength"))
    if min_length is not None and min_length > MAX_EXAMPLE_STEPS * 100:
        raise ExampleTooBig(MAX_EXAMPLE_STEPS)  # never build the string to find out
    try:
        text = (scalars.string_value(schema, walk.rng, walk.nth) if isinstance(schema.get("pattern"), str)
                else scalars.plain_string(schema, walk.nth))
    except scalars.PatternNotFollowed as error:
        walk.note(f"the pattern {schema.get('pattern')!r} is not followed ({error}): its values do not match it")
        text = scalars.plain_string(schema, walk.nth)
    walk.budget.spend(len(text) // 100)
    return text


def _array(schema: dict[str, Any], walk: _Walk, expanding: tuple[str, ...], depth: int) -> list[Any]:
    items = schema.get("items", {})
    prefix = schema.get("prefixItems", items if isinstance(items, list) else None)
    if isinstance(items, list):  # the tuple form: more items by additionalItems
        items = schema.get("additionalItems", False)
    low, high = count(schema.get("minItems")), count(schema.get("maxItems"))
    if isinstance(prefix, list):
        made = [_item(item, walk, expanding, depth) for item in prefix[:high]]
        wanted = low or 0
    else:
        made, wanted = [], max(low or 0, 1)
    wanted = wanted if high is None else min(wanted, high)
    if len(made) >= wanted or items is False:
        return made
    before = walk.budget.steps
    try:
        item = _value(items, walk, expanding, depth + 1)
    except _Cut:
        return made
    copies = wanted - len(made)
    if copies > 1 and schema.get("uniqueItems") is True:
        return [*made, *_distinct(item, items, copies, walk, expanding, depth)]
    walk.budget.spend((copies - 1) * max(before - walk.budget.steps, 1))  # each copy is written out in full
    return [*made, *[item] * copies]


def _distinct(first: Any, items: Any, wanted: int, walk: _Walk, expanding: tuple[str, ...], depth: int) -> list[Any]:
    """``wanted`` different items (the nth variant of each value), as many as can be made."""
    made, keys = [first], {json.dumps(first, sort_keys=True, default=str)}
    for nth in range(1, wanted * 4):
        if len(made) >= wanted:
            break
        try:
            item = _value(items, replace(walk, nth=nth), expanding, depth + 1)
        except _Cut:
            break
        key = json.dumps(item, sort_keys=True, default=str)
        if key not in keys:
            made.append(item)
            keys.add(key)
    return made


def _item(schema: Any, walk: _Walk, expanding: tuple[str, ...], depth: int) -> Any:
    try:
        return _value(schema, walk, expanding, depth + 1)
    except _Cut:
        return None


def _object(schema: dict[str, Any], walk: _Walk, expanding: tuple[str, ...], depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    found = schema.get("properties")
    properties: dict[str, Any] = found if isinstance(found, dict) else {}
    listed = schema.get("required")
    required = [name for name in listed if isinstance(name, str)] if isinstance(listed, list) else []
    for name, prop in properties.items():
        if _skipped(schema, name, walk):
            continue  # readOnly is not sent, writeOnly not returned (even when "required")
        try:
            result[name] = _value(prop, walk, expanding, depth + 1)
        except _Cut:  # only this property is lost: left out, or (required) its type's empty value
            if name in required:
                result[name] = _stub(prop, walk)
    extra = schema.get("additionalProperties")
    for name in required:
        if name not in result and name not in properties:
            result[name] = _item(extra if isinstance(extra, dict) else True, walk, expanding, depth)
    _fill(result, schema, extra, walk, expanding, depth)
    high = count(schema.get("maxProperties"))
    if high is not None and len(result) > high:  # the last optional ones go
        for name in [n for n in reversed(result) if n not in required][: len(result) - high]:
            del result[name]
    return result


def _fill(result: dict[str, Any], schema: dict[str, Any], extra: Any, walk: _Walk, expanding: tuple[str, ...],
          depth: int) -> None:
    """``additionalProp1``… up to ``minProperties`` (one when there is nothing else and a schema for them)."""
    if extra is False:
        return
    low = count(schema.get("minProperties"))
    wanted = low if low is not None else 1 if not result and isinstance(extra, dict) else 0
    number = 1
    while len(result) < wanted:
        walk.budget.spend()
        name = f"additionalProp{number}"
        if name not in result:
            try:
                result[name] = _value(extra if isinstance(extra, dict) else True, walk, expanding, depth + 1)
            except _Cut:
                return
        number += 1


def _skipped(schema: dict[str, Any], name: str, walk: _Walk) -> bool:
    """Whether the property is the other side's (``readOnly`` in a request, ``writeOnly`` in a response),
    flagged on it, on what its ``$ref`` points to, or on a part of its ``allOf``."""
    properties = schema.get("properties")
    prop = properties.get(name) if isinstance(properties, dict) else None
    return flagged(prop, walk.purpose.skip, walk.lookup)


def _stub(schema: Any, walk: _Walk) -> Any:
    """A cut required property's value: ``{}`` or ``[]`` for its type, a scalar as usual; nothing is expanded."""
    for _ in range(MAX_REF_HOPS):
        if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
            break
        schema = walk.lookup(schema["$ref"])
    if not isinstance(schema, dict):
        return None
    kind = type_of(schema)
    if kind in ("object", "array"):
        return {} if kind == "object" else []
    return _by_type(schema, kind, walk, (), MAX_DEPTH)
