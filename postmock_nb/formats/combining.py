"""Pure steps of :mod:`postmock_nb.formats.schemagen`: an ``allOf`` part joined into one schema, a
``discriminator``'s ``mapping`` key, the values to try when one does not fit (``oneOf``, ``not``).

Joining keeps the first of each keyword, except: ``properties`` are united (a property in both becomes
``allOf`` of the two), ``required`` lists joined, the tightest of the lower and upper bounds kept,
``enum``s intersected, ``integer`` beats ``number``, two ``items`` become their ``allOf``. A second
``pattern``, ``format`` or ``multipleOf`` is not combined (the first is followed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from postmock_nb.formats.scalars import bound

LOWER_BOUNDS = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"})
UPPER_BOUNDS = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"})
GIVEN = frozenset({"example", "default", "examples"})

def join(merged: dict[str, Any], part: dict[str, Any]) -> None:
    """``part``'s keywords into ``merged``: the first of each, except what adds up or narrows."""
    for key, value in part.items():
        if key in GIVEN and (isinstance(value, dict) or key in merged):
            continue  # an object example is laid over the value made; a given value: the first
        if key not in merged:
            merged[key] = value
        elif key in _COMBINED:
            merged[key] = _COMBINED[key](merged[key], value)


def _properties(mine: Any, value: Any) -> Any:
    if not (isinstance(mine, dict) and isinstance(value, dict)):
        return mine
    return {**mine, **{n: {"allOf": [mine[n], s]} if n in mine else s for n, s in value.items()}}


def _required(mine: Any, value: Any) -> Any:
    if not (isinstance(mine, list) and isinstance(value, list)):
        return mine
    return [*mine, *(n for n in value if n not in mine)]


def _enum(mine: Any, value: Any) -> Any:
    if not (isinstance(mine, list) and isinstance(value, list)):
        return mine
    return [v for v in mine if v in value] or mine


def _type(mine: Any, value: Any) -> Any:
    return "integer" if {str(mine), str(value)} == {"number", "integer"} else mine


def _items(mine: Any, value: Any) -> Any:
    return {"allOf": [mine, value]} if isinstance(mine, dict) and isinstance(value, dict) else mine


def _tightest(pick: Callable[[float, float], float]) -> Callable[[Any, Any], Any]:
    def combined(mine: Any, value: Any) -> Any:
        return pick(mine, value) if bound(mine) is not None and bound(value) is not None else mine
    return combined


_COMBINED: dict[str, Callable[[Any, Any], Any]] = {
    "properties": _properties, "required": _required, "enum": _enum, "type": _type, "items": _items,
    **{key: _tightest(max) for key in LOWER_BOUNDS}, **{key: _tightest(min) for key in UPPER_BOUNDS},
}


def mapping_key(discriminator: dict[str, Any], ref: str) -> str:
    """The discriminator's ``mapping`` key for ``ref`` (a ``$ref`` or a bare schema name), else the schema's name."""
    name = ref.rsplit("/", 1)[-1]
    mapping = discriminator.get("mapping")
    for key, target in mapping.items() if isinstance(mapping, dict) else ():
        if target in (ref, name):
            return str(key)
    return name


def neighbours(value: Any) -> list[Any]:
    """Values to try in place of ``value`` (near it first, then one of each type)."""
    same: list[Any] = []
    if isinstance(value, str):
        same = [value + "x", "x" + value, "other", ""]
    elif isinstance(value, bool):
        same = [not value]
    elif isinstance(value, (int, float)):
        same = [value + 1, value - 1, value + 0.5, value * 2]
    elif isinstance(value, list):
        same = [[], [*value, *value[:1]]]
    elif isinstance(value, dict):
        same = [{}, {**value, "additionalProp1": "string"}]
    return [*same, "string", 0, 0.5, True, {}, [], None]


def flagged(schema: Any, flag: str, lookup: Callable[[str], Any], hops: int = 0) -> bool:
    """Whether ``flag`` (``readOnly``, ``writeOnly``) is ``true`` on ``schema``, on what its ``$ref`` points to,
    or on a part of its ``allOf``."""
    if not isinstance(schema, dict) or hops > 8:
        return False
    if schema.get(flag) is True:
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str) and flagged(lookup(ref), flag, lookup, hops + 1):
        return True
    parts = schema.get("allOf")
    return isinstance(parts, list) and any(flagged(part, flag, lookup, hops + 1) for part in parts)
