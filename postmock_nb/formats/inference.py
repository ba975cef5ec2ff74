"""A JSON Schema (2020-12, as OpenAPI 3.1 uses it) inferred from example bodies.

``infer_schema(values)`` merges every value given into one schema that each of them validates
against. The rules (GenSON does the merging; this module adds formats, enums and nullability):

- **types are unioned**: ``1`` and ``"a"`` give ``type: [integer, string]``; ``1`` and ``1.5``
  give ``number`` (an integer is a number).
- **null** joins the type list: ``"a"`` and ``null`` give ``type: [string, "null"]`` (3.1 has no
  ``nullable``); an ``enum`` then lists ``null`` too.
- **required**: an object's field is required when every object seen at that place has it.
- **arrays of objects are merged item by item**: every item of every array at one place is one
  more example of the ``items`` schema (so a field is required when every item has it).
- **format**: a string field gets a format when every value seen at that place has it, tried in
  this order: ``uuid`` (8-4-4-4-12 hex digits), ``date-time`` (RFC 3339: ``2024-05-01T10:00:00Z``,
  a time zone required), ``date`` (``2024-05-01``, a real calendar date), ``email``
  (``local@domain.tld``), ``uri`` (an absolute URI with a scheme and a host: ``https://…``).
- **enum**: a string field without a format becomes an ``enum`` of its values when the values
  repeat: at least :data:`ENUM_MIN_SEEN` values seen at that place, at most
  :data:`ENUM_MAX_DISTINCT` distinct ones, each seen twice on average (distinct ≤ seen / 2), and
  none longer than :data:`ENUM_MAX_LENGTH` characters. ``status: active`` in three examples and
  ``status: archived`` in one gives ``enum: [active, archived]``; four different names do not.
  Only a field that is a string (or a string and ``null``) everywhere is given an enum.
- **placeholders**: a string holding ``{{`` (Postman's ``{{$randomInt}}``, filled when served) counts
  for the type only: a field where one is seen gets neither a format nor an enum.
- No values (an empty sequence) give ``{}``, the schema every value validates.

The same values always give the same schema (keys and enums sorted).

Query and header parameters are text on the wire; :func:`infer_text_schema` types them by what their values
say: ``integer`` when every value is a decimal integer (``2``, ``-10``; not ``007``), ``number`` when every one
is a finite JSON number (``1.5``, ``2``; not ``1e400``, ``NaN``, nor an integer of more than 4300 digits, which
Python does not read), ``boolean`` when every one is ``true`` or ``false``; else a string schema
by the rules above (a format, an enum).
"""

from __future__ import annotations

import datetime
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from genson import SchemaNode  # type: ignore[import-untyped]
from genson.schema.strategies import BASIC_SCHEMA_STRATEGIES, String  # type: ignore[import-untyped]

ENUM_MIN_SEEN = 4
"""An enum needs at least this many string values seen at one place."""
ENUM_MAX_DISTINCT = 5
"""An enum has at most this many values."""
ENUM_MAX_LENGTH = 32
"""No enum value is longer than this (longer strings are text, not a choice)."""

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z",
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\Z")  # unquoted local parts
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*\Z")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_BOOLEANS = ("true", "false")


def _is_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_date_time(text: str) -> bool:
    found = _DATE_TIME.match(text)
    if not found or not _is_date(found.group(1)):
        return False
    hour, minute, second = (int(found.group(n)) for n in (2, 3, 4))
    return hour < 24 and minute < 60 and second < 61  # 60: a leap second (RFC 3339)


def _is_uri(text: str) -> bool:
    if any(ch.isspace() for ch in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return bool(parts.scheme and _SCHEME.match(parts.scheme) and parts.netloc)


FORMATS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("uuid", lambda text: bool(_UUID.match(text))),
    ("date-time", _is_date_time),
    ("date", _is_date),
    ("email", lambda text: bool(_EMAIL.match(text))),
    ("uri", _is_uri),
)
"""The formats detected, in the order tried: the first that every value has is the field's."""


def formats_of(text: str) -> set[str]:
    """The formats of :data:`FORMATS` that one string has."""
    return {name for name, test in FORMATS if test(text)}


class _String(String):  # type: ignore[misc]  # genson is untyped
    """GenSON's string strategy, also remembering the formats all values share and each value's count."""

    def __init__(self, node_class: type[SchemaNode]) -> None:
        super().__init__(node_class)
        self._formats: set[str] | None = None
        self._seen: Counter[str] = Counter()
        self._placeholder = False

    def add_object(self, obj: str) -> None:
        super().add_object(obj)
        self._placeholder = self._placeholder or "{{" in obj
        found = formats_of(obj)
        self._formats = found if self._formats is None else self._formats & found
        self._seen[obj] += 1

    def _is_enum(self) -> bool:
        seen = sum(self._seen.values())
        distinct = len(self._seen)
        return (
            seen >= ENUM_MIN_SEEN
            and distinct <= ENUM_MAX_DISTINCT
            and distinct * 2 <= seen
            and all(len(value) <= ENUM_MAX_LENGTH for value in self._seen)
        )

    def to_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = super().to_schema()
        if self._placeholder:
            return schema
        detected = [name for name, _ in FORMATS if self._formats and name in self._formats]
        if detected:
            schema["format"] = detected[0]
        elif self._is_enum():
            schema["enum"] = sorted(self._seen)
        return schema


class _Node(SchemaNode):  # type: ignore[misc]  # genson is untyped
    """GenSON's node, with one type list instead of ``anyOf`` when the types' keywords do not clash.

    GenSON writes ``anyOf`` as soon as one type has a keyword beside ``type`` (a string with a
    format and ``null``); each keyword here applies to one type only (``format`` and ``enum`` to
    strings, ``properties`` to objects, ``items`` to arrays), so one schema with a type list says the
    same, and is what OpenAPI 3.1 readers expect for a nullable field.
    """

    STRATEGIES = (*(_String if strategy is String else strategy for strategy in BASIC_SCHEMA_STRATEGIES),)

    def to_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = super().to_schema()
        if "anyOf" not in schema:
            return _nullable(schema)
        merged: dict[str, Any] = {}
        types: list[str] = []
        for choice in schema["anyOf"]:
            kind = choice.get("type")
            types.extend(kind if isinstance(kind, list) else [kind])
            for key, value in choice.items():
                if key == "type":
                    continue
                if key in merged:  # a clash (never from the strategies above): keep GenSON's anyOf
                    return schema
                merged[key] = value
        if "enum" in merged and set(types) - {"string", "null"}:
            del merged["enum"]  # a field that is sometimes a number is not a choice among strings
        return _nullable({"type": types, **merged})


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """A type list sorted with ``"null"`` last (``[string, "null"]``), and ``null`` in its enum."""
    kind = schema.get("type")
    if isinstance(kind, list):
        schema["type"] = sorted(set(kind), key=lambda name: (name == "null", name))
        if "enum" in schema and "null" in kind:
            schema["enum"] = [*schema["enum"], None]
    return schema


def infer_schema(values: Sequence[Any]) -> dict[str, Any]:
    """One JSON Schema that every value validates against, by the rules of this module's docstring.

    ``values`` are decoded JSON values (dicts, lists, strings, numbers, booleans, ``None``); the
    schema has no ``$schema`` keyword (it is meant to sit inside an OpenAPI 3.1 document).
    """
    root = _Node()
    for value in values:
        root.add_object(value)
    schema: dict[str, Any] = root.to_schema()
    return schema


def infer_text_schema(values: Sequence[str]) -> dict[str, Any]:
    """The schema of a parameter sent as text (a query or header parameter): ``integer``, ``number`` or
    ``boolean`` when every value says so (this module's docstring), else :func:`infer_schema` of the strings."""
    if values and all(value in _BOOLEANS for value in values):
        return {"type": "boolean"}
    numbers = [_number(value) for value in values]
    if values and all(isinstance(number, int) for number in numbers):
        return {"type": "integer"}
    if values and all(number is not None for number in numbers):
        return {"type": "number"}
    return infer_schema(list(values))


def _number(text: str) -> int | float | None:
    """The JSON number ``text`` spells (an ``int`` without a fraction or an exponent), or None: no number, or one
    no JSON value holds (``1e400`` is infinite) or Python will not read (more digits than its limit, 4300)."""
    if not _NUMBER.match(text):
        return None
    try:
        if not any(mark in text for mark in ".eE"):
            return int(text)
        number = float(text)
    except ValueError:  # an integer longer than sys.get_int_max_str_digits()
        return None
    return number if math.isfinite(number) else None


def typed_value(schema: dict[str, Any], text: str) -> Any:
    """``text`` as a value of the type :func:`infer_text_schema` gave (``"2"`` → ``2`` for ``integer``)."""
    kind = schema.get("type")
    if kind == "boolean" and text in _BOOLEANS:
        return text == "true"
    number = _number(text) if kind in ("integer", "number") else None
    if number is not None and (kind == "number" or isinstance(number, int)):
        return number
    return text
