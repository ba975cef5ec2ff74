"""Where a real API's answer differs from the sketch: a JSON value compared with a JSON Schema, one difference at
a time.

Used by ``postmock check`` (:mod:`postmock_nb.bridges.contract`). Each :class:`Difference` names where (a JSON path,
``$.items[0].price``) and what (``expected number, got string``), the way the near misses do. What fails a check:
a type that changed, a required field missing, an array item of another shape, a value outside the schema's
``enum`` (or ``const``), a string without the schema's ``format`` (``$.created: expected format date-time, got
"yesterday"``). What is only reported: a field the schema does not name (unless ``strict``, or the schema says
``additionalProperties: false``).

The walk knows the keywords that decide shapes: ``type`` (a list too, and OpenAPI 3.0's ``nullable``),
``properties``, ``required``, ``additionalProperties``, ``items`` (and ``prefixItems``), ``enum``/``const``,
``format`` (by jsonschema's :class:`~jsonschema.FormatChecker`: ``date-time``, ``date``, ``time``, ``email``,
``uuid``, ``uri``, ``ipv4``…; a format it has no checker for, such as OpenAPI's ``int64`` or ``binary``, is not
compared), ``allOf``/``anyOf``/``oneOf`` and local ``$ref``s (through ``lookup``). Other value constraints
(``pattern``, ``minimum``, ``maxLength``) are the request validator's business, not drift's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from postmock_nb.core.limits import member, shorten

OK, DRIFT, SKIPPED, ERROR = "ok", "drift", "skipped", "error"
"""A checked request's verdicts: as sketched, differs, not sent, no answer."""

Lookup = Callable[[str], Any]
"""What a local ``$ref`` (``#/components/schemas/Pet``) points to."""

MAX_DIFFERENCES = 50
"""The most differences one body reports (a list of a thousand changed items says it once per item otherwise)."""

MAX_REF_DEPTH = 64
"""How many ``$ref``s one walk follows inside each other before it stops (a schema that refers to itself)."""

MAX_STEPS = 20_000
"""The most (value, schema) pairs one comparison looks at: a schema whose ``anyOf`` alternatives nest would
otherwise take exponential time. Past it the comparison stops, saying so."""


@dataclass(frozen=True)
class Difference:
    """One way the answer differs: ``where`` (``status``, ``content-type``, ``$.items[0].price``), ``what``, and
    whether it fails the check (``False``: reported only)."""

    where: str
    what: str
    fails: bool = True

    def describe(self) -> str:
        return f"{self.where}: {self.what}"


def type_of(value: Any) -> str:
    """The JSON type of a parsed value: ``null``, ``boolean``, ``integer``, ``number``, ``string``, ``array``,
    ``object``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _fits_type(value: Any, expected: str) -> bool:
    actual = type_of(value)
    return actual == expected or (expected == "number" and actual == "integer")


def _no_lookup(ref: str) -> Any:
    return {}


@cache
def _conforms() -> Callable[[Any, str], bool]:
    """jsonschema's checkers of the formats JSON Schema names (``date-time`` by rfc3339-validator, ``uri`` by
    rfc3986-validator: the ``format-nongpl`` extra), made once."""
    from jsonschema import FormatChecker  # deferred: jsonschema's format checkers take seconds to import

    return FormatChecker().conforms


class _Walk:
    """One comparison of a value with a schema, with its options."""

    def __init__(self, *, lookup: Lookup, strict: bool) -> None:
        self.lookup, self.strict = lookup, strict
        self.steps = 0
        self.active: set[tuple[str, str]] = set()
        """The ``$ref``s being compared, each with the JSON path it is compared at: met again at the same path,
        it refers to itself without a shape in between (``Node: {anyOf: [$ref: Node, …]}``)."""

    def compare(self, value: Any, schema: Any, path: str, depth: int = 0) -> Iterator[Difference]:
        self.steps += 1
        if self.steps > MAX_STEPS:
            return
        schema, refs = self._followed(schema, depth)
        entered = {(ref, path) for ref in refs} - self.active
        if len(entered) < len(set(refs)):
            yield Difference(path, f"expected what {refs[0]} describes, but it refers to itself here: not compared",
                             fails=False)  # an alternative that says nothing: any other that fits is chosen
            return
        if not isinstance(schema, dict) or depth > MAX_REF_DEPTH:
            return
        self.active |= entered
        try:
            yield from self._shaped(value, schema, path, depth)
        finally:
            self.active -= entered

    def _shaped(self, value: Any, schema: dict[str, Any], path: str, depth: int) -> Iterator[Difference]:
        combined = self._combined(value, schema, path, depth)
        if combined is not None:
            yield from combined
            return
        expected = self._types(schema)
        if expected and not any(_fits_type(value, t) for t in expected):
            yield Difference(path, f"expected {' or '.join(expected)}, got {type_of(value)}")
            return
        yield from self._values(value, schema, path)
        if isinstance(value, dict):
            yield from self._object(value, schema, path, depth)
        elif isinstance(value, list):
            yield from self._array(value, schema, path, depth)

    def _followed(self, schema: Any, depth: int) -> tuple[Any, list[str]]:
        """The schema a chain of ``$ref``s leads to, and the ``$ref``s followed (a loop of them: its first again)."""
        refs: list[str] = []
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth <= MAX_REF_DEPTH:
            ref = schema["$ref"]
            refs.append(ref)
            if refs.count(ref) > 1:
                break
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            target = self.lookup(ref)
            schema = {**target, **rest} if isinstance(target, dict) and rest else target
            depth += 1
        return schema, refs

    @staticmethod
    def _types(schema: dict[str, Any]) -> list[str]:
        declared = schema.get("type")
        types = [declared] if isinstance(declared, str) else [t for t in declared or () if isinstance(t, str)]
        if types and schema.get("nullable") is True and "null" not in types:
            types.append("null")
        return types

    def _combined(self, value: Any, schema: dict[str, Any], path: str, depth: int) -> list[Difference] | None:
        """``allOf`` (every part), ``anyOf``/``oneOf`` (the alternative that fits best); None without them."""
        parts = schema.get("allOf")
        if isinstance(parts, list) and parts:
            return self._all_of(value, parts, {k: v for k, v in schema.items() if k != "allOf"}, path, depth)
        for keyword in ("anyOf", "oneOf"):
            alternatives = schema.get(keyword)
            if isinstance(alternatives, list) and alternatives:
                tried = [list(self.compare(value, alternative, path, depth + 1)) for alternative in alternatives]
                # the closest: one whose type fits the value, then the fewest failures
                return min(tried, key=lambda found: (any(d.where == path and d.what.startswith("expected ")
                                                         for d in found), sum(d.fails for d in found), len(found)))
        return None

    def _all_of(self, value: Any, parts: list[Any], rest: dict[str, Any], path: str, depth: int) -> list[Difference]:
        merged: dict[str, Difference] = {}
        for part in [*parts, rest]:
            for difference in self.compare(value, part, path, depth + 1):
                merged.setdefault(difference.describe(), difference)
        # a field named by one part is not unexpected because another part leaves it out
        named = {p for part in parts for p in self._properties(part, depth)} | set(rest.get("properties") or {})
        return [d for d in merged.values() if not (d.what == UNEXPECTED and d.where.rpartition(".")[2] in named)]

    def _properties(self, schema: Any, depth: int) -> dict[str, Any]:
        schema, _ = self._followed(schema, depth)
        properties = schema.get("properties") if isinstance(schema, dict) else None
        return properties if isinstance(properties, dict) else {}

    @staticmethod
    def _values(value: Any, schema: dict[str, Any], path: str) -> Iterator[Difference]:
        """``enum``/``const``, and a string's ``format``."""
        allowed = schema.get("enum")
        if "const" in schema:
            allowed = [schema["const"]]
        if isinstance(allowed, list) and value not in allowed:
            shown = ", ".join(shorten(json.dumps(a), 30) for a in allowed[:8]) + (", …" if len(allowed) > 8 else "")
            yield Difference(path, f"expected one of {shown}, got {shorten(json.dumps(value), 40)}")
            return
        wanted = schema.get("format")
        if isinstance(value, str) and isinstance(wanted, str) and not _conforms()(value, wanted):
            yield Difference(path, f"expected format {wanted}, got {shorten(json.dumps(value), 40)}")

    def _object(self, value: dict[str, Any], schema: dict[str, Any], path: str, depth: int) -> Iterator[Difference]:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        for name in schema.get("required") or ():
            if isinstance(name, str) and name not in value:
                yield Difference(member(path, name), "missing (required)")
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                yield from self.compare(item, properties[name], member(path, name), depth + 1)
            elif isinstance(extra, dict):
                yield from self.compare(item, extra, member(path, name), depth + 1)
            elif extra is False or (extra is None and properties and "patternProperties" not in schema):
                yield Difference(member(path, name), UNEXPECTED, fails=self.strict or extra is False)

    def _array(self, value: list[Any], schema: dict[str, Any], path: str, depth: int) -> Iterator[Difference]:
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        items = schema.get("items")
        for index, item in enumerate(value):
            part = prefix[index] if index < len(prefix) else items
            if part is not None:
                yield from self.compare(item, part, f"{path}[{index}]", depth + 1)


UNEXPECTED = "unexpected field (not in the schema)"


def differences(value: Any, schema: Any, *, lookup: Lookup = _no_lookup, strict: bool = False) -> list[Difference]:
    """How ``value`` differs from ``schema`` (at most :data:`MAX_DIFFERENCES`, the failing ones first).

    ``strict``: an unexpected field fails too (else it is reported only). The schema is a document's (an OpenAPI
    response schema) or one inferred from the sketch's examples: either way its ``enum`` and ``format`` are what
    the front end was built against, and a value outside them fails.
    """
    walk = _Walk(lookup=lookup, strict=strict)
    found: list[Difference] = []
    seen: set[str] = set()
    for difference in walk.compare(value, schema, "$"):
        if difference.describe() not in seen:
            seen.add(difference.describe())
            found.append(difference)
    if walk.steps > MAX_STEPS:
        found.append(Difference("$", f"compared only in part: the schema asks for over {MAX_STEPS} comparisons "
                                     "(alternatives nested in alternatives)", fails=False))
    found.sort(key=lambda d: not d.fails)  # stable: document order within each kind
    if len(found) > MAX_DIFFERENCES:
        cut = len(found) - MAX_DIFFERENCES + 1
        found = [*found[:MAX_DIFFERENCES - 1], Difference("$", f"… and {cut} more differences", fails=False)]
    return found
