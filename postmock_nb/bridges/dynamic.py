"""Prism's dynamic mode: a fresh body for each request, made from the response's schema (``--dynamic``,
``Prefer: dynamic=true``, ``?__dynamic=true``).

An OpenAPI import saves where each example comes from (``x-mock-openapi``: its media type object in the
document, :class:`~postmock_nb.core.markers.OpenApiSource`); :class:`FreshBodies` holds the document and makes a
value from that media type's ``schema`` with its own ``random.Random`` (seeded by ``--seed``: the same seed, the
same sequence of answers; ``Prefer: seed=7`` makes one answer from its own seed) and Faker drawing from that
generator: a ``format`` (``email``, ``uuid``, ``date-time``, ``uri``…) or a property's name (``name``, ``email``,
``city``…) asks for a realistic value. Enums, ``const``, bounds, lengths, ``multipleOf``, ``minItems``/
``maxItems`` and ``uniqueItems`` are kept, a ``pattern`` gets a fresh matching string; what cannot be drawn at random
(a ``not``, a schema that refers to itself, on its second visit), and any drawn value the quick check
(:func:`~postmock_nb.formats.conforms.fits`) finds breaking its schema, takes the value
:func:`~postmock_nb.formats.schemagen.example_value` gives (the static mode's, which satisfies it). The work is
bounded like the static mode's (:data:`~postmock_nb.core.limits.MAX_EXAMPLE_STEPS`).
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import random
from collections.abc import Callable
from typing import Any

from postmock_nb.answers.templating import FakeData
from postmock_nb.core import limits
from postmock_nb.core.markers import OpenApiSource
from postmock_nb.formats import scalars
from postmock_nb.formats.conforms import fits
from postmock_nb.formats.schemagen import RESPONSE, Budget, ExampleTooBig, example_value, type_of

MAX_DEPTH = 16
"""Values nested deeper than this (``$ref`` hops counted) take the static value (a guard besides the budget)."""

_UTC = datetime.timezone.utc
_SINCE, _UNTIL = datetime.datetime(1970, 1, 1, tzinfo=_UTC), datetime.datetime(2038, 1, 1, tzinfo=_UTC)
"""Dates are drawn between these (fixed, not "until now": the same seed gives the same dates on another day)."""


def _moment(faker: Any) -> datetime.datetime:
    moment: datetime.datetime = faker.date_time_between(start_date=_SINCE, end_date=_UNTIL, tzinfo=_UTC)
    return moment.replace(microsecond=0)


FORMATS: dict[str, Callable[[Any], str]] = {
    "date-time": lambda f: _moment(f).isoformat().replace("+00:00", "Z"),
    "date": lambda f: _moment(f).date().isoformat(),
    "time": lambda f: _moment(f).strftime("%H:%M:%SZ"),
    "email": lambda f: f.email(),
    "idn-email": lambda f: f.email(),
    "uuid": lambda f: f.uuid4(),
    "uri": lambda f: f.url(),
    "url": lambda f: f.url(),
    "iri": lambda f: f.url(),
    "hostname": lambda f: f.domain_name(),
    "idn-hostname": lambda f: f.domain_name(),
    "ipv4": lambda f: f.ipv4(),
    "ipv6": lambda f: f.ipv6(),
    "byte": lambda f: base64.b64encode(f.binary(length=12)).decode("ascii"),
    "password": lambda f: f.password(),
}
"""A string ``format`` → how Faker makes one."""
NAMES: dict[str, Callable[[Any], str]] = {
    "name": lambda f: f.name(), "fullname": lambda f: f.name(), "firstname": lambda f: f.first_name(),
    "lastname": lambda f: f.last_name(), "username": lambda f: f.user_name(), "email": lambda f: f.email(),
    "phone": lambda f: f.phone_number(), "phonenumber": lambda f: f.phone_number(), "city": lambda f: f.city(),
    "country": lambda f: f.country(), "address": lambda f: f.address().replace("\n", ", "),
    "street": lambda f: f.street_address(), "company": lambda f: f.company(), "title": lambda f: f.sentence(4),
    "description": lambda f: f.sentence(), "url": lambda f: f.url(), "website": lambda f: f.url(),
    "zip": lambda f: f.postcode(), "postcode": lambda f: f.postcode(), "postalcode": lambda f: f.postcode(),
}
"""A string property's name (lower case, ``_`` and ``-`` dropped) → how Faker makes one, when no ``format`` says."""


class Unavailable(Exception):
    """No fresh body for this example: why (the log's note)."""


class FreshBodies:
    """Fresh response bodies made from an OpenAPI document's schemas (one per app: its event loop only)."""

    def __init__(self, spec: Any, seed: int | None = None) -> None:
        self.spec = spec
        """The document (a :class:`~postmock_nb.formats.openapi.Spec`) the examples' pointers point into."""
        self.rng = random.Random(seed)
        """The draw of every fresh body (``--seed``: repeatable)."""
        self._fake = FakeData()  # a Faker of its own: each draw points it at the request's generator

    @property
    def faker(self) -> Any:
        """The Faker (slow to import: loaded on the first fresh body, or when the mock starts)."""
        return self._fake.faker

    def value(self, source: OpenApiSource, seed: str | None = None) -> Any:
        """A fresh value of ``source``'s schema (``seed``: from a generator of its own). Raises :class:`Unavailable`."""
        try:
            schema = self.spec.lookup(source.schema)
        except Exception:  # noqa: BLE001 - a pointer into another document, or into nothing: the saved body
            raise Unavailable(f"no schema at {source.schema} in the document") from None
        rng = random.Random(seed) if seed is not None else self.rng
        faker = self.faker
        faker.random = rng  # Faker draws from this request's generator (the app runs on one thread)
        try:
            return _Draw(rng, faker, self.spec.lookup).value(schema, "", 0)
        except ExampleTooBig as error:
            raise Unavailable(f"the schema at {source.schema} would take {error} to fill") from None

    def body(self, source: OpenApiSource, content_type: str, seed: str | None = None) -> bytes:
        """:meth:`value` as the response's body: JSON, or a string as it is for another media type."""
        value = self.value(source, seed)
        if isinstance(value, str) and "json" not in content_type.lower():
            return value.encode("utf-8")
        return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")


class _Draw:
    """One fresh value: the walk over a schema, with its generator, Faker and budget."""

    def __init__(self, rng: random.Random, faker: Any, lookup: Callable[[str], Any]) -> None:
        self.rng, self.faker, self.lookup = rng, faker, lookup
        self.budget = Budget(limits.MAX_EXAMPLE_STEPS)
        self.expanding: list[str] = []
        """The ``$ref``\\ s being expanded (a cycle is cut on the second visit)."""

    def static(self, schema: Any) -> Any:
        """The static mode's value of ``schema`` (what cannot be drawn at random)."""
        return example_value(schema, self.lookup, RESPONSE, budget=self.budget)

    def value(self, schema: Any, name: str, depth: int) -> Any:
        """A fresh value of ``schema``; where the draw breaks it (a keyword the draw does not follow: ``required``
        beyond ``properties``, a float ``multipleOf``, ``not``…), the static value, which satisfies it."""
        drawn = self.drawn(schema, name, depth)
        if isinstance(schema, dict) and not fits(drawn, schema, self.lookup):
            return self.static(schema)
        return drawn

    def drawn(self, schema: Any, name: str, depth: int) -> Any:
        if not isinstance(schema, dict):
            return self.static(schema)
        self.budget.spend()
        if depth > MAX_DEPTH:
            return self.static(schema)
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref in self.expanding:  # a schema that refers to itself: the static value, which cuts the cycle
                return self.static(schema)
            self.expanding.append(ref)
            try:
                return self.value(self.lookup(ref), name, depth + 1)
            finally:
                self.expanding.pop()
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return self.rng.choice(enum)
        if isinstance(schema.get("allOf"), list):
            return self.all_of(schema, name, depth)
        for key in ("oneOf", "anyOf"):
            choices = schema.get(key)
            if isinstance(choices, list) and choices:
                return self.value(self.rng.choice(choices), name, depth + 1)
        if isinstance(schema.get("pattern"), str):
            try:
                return scalars.string_value(schema, self.rng)  # a fresh string matching it (rstr, bounded)
            except scalars.PatternNotFollowed:  # not a regex, too big: the static value (its load warning said so)
                return self.static(schema)
        if "not" in schema:
            return self.static(schema)
        return self.by_type(schema, type_of(schema), name, depth)

    def all_of(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        merged: dict[str, Any] = {}
        own = {k: v for k, v in schema.items() if k != "allOf"}
        for part in [*schema["allOf"], own]:
            value = self.value(part, name, depth + 1) if part is not own or own.get("properties") else None
            if isinstance(value, dict):
                merged.update(value)
            elif value is not None and not merged:
                return value
        return merged

    def by_type(self, schema: dict[str, Any], kind: str, name: str, depth: int) -> Any:
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind in ("integer", "number"):
            return self.number(schema, kind == "integer")
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self.string(schema, name)

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for key, prop in properties.items():
                if isinstance(prop, dict) and prop.get("writeOnly") is True:
                    continue  # never in a response
                result[str(key)] = self.value(prop, str(key), depth + 1)
        extra = schema.get("additionalProperties")
        if not result and isinstance(extra, dict):
            result[self.faker.word()] = self.value(extra, "", depth + 1)
        return result

    def array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        items = schema.get("items", {})
        if isinstance(items, list):  # the tuple form
            return [self.value(item, name, depth + 1) for item in items]
        if "prefixItems" in schema or not isinstance(items, dict):  # 3.1's tuple form, `items: false`: the static value
            value: list[Any] = self.static(schema)
            return value
        low = _count(schema.get("minItems"), 0)
        high = _count(schema.get("maxItems"), low + 3)
        high = max(low, min(high, low + 3))
        count = self.rng.randint(max(low, min(1, high)), high)
        values: list[Any] = []
        for _ in range(count * 3 if schema.get("uniqueItems") is True else count):
            value = self.value(items, name, depth + 1)
            if schema.get("uniqueItems") is not True or value not in values:
                values.append(value)
            if len(values) == count:
                break
        return values if len(values) >= low else self.static(schema)

    def number(self, schema: dict[str, Any], integer: bool) -> float:
        low, high = _bounds(schema, integer)
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0:
            quotients = low / step, high / step
            if not all(map(math.isfinite, quotients)):  # `multipleOf: 1e-300` with bounds near 1e300: too many
                value: float = self.static(schema)
                return value
            first, last = math.ceil(quotients[0]), math.floor(quotients[1])
            if first > last:
                value = self.static(schema)
                return value
            multiple = self.rng.randint(first, last) * step
            return int(multiple) if integer else multiple
        if integer:
            if math.ceil(low) > math.floor(high):  # no whole number between fractional bounds
                value = self.static(schema)
                return value
            return self.rng.randint(math.ceil(low), math.floor(high))
        return min(max(round(self.rng.uniform(low, high), 2), low), high)

    def string(self, schema: dict[str, Any], name: str) -> str:
        fmt = FORMATS.get(str(schema.get("format", "")))
        named = NAMES.get(name.lower().replace("_", "").replace("-", ""))
        maker = fmt or named
        if maker is None and schema.get("format") is not None:
            text = str(self.static(schema))  # a format we draw no value for: the static one
        else:
            text = maker(self.faker) if maker is not None else self.faker.word()
        low = _count(schema.get("minLength"), 0)
        high = _count(schema.get("maxLength"), max(low, len(text)))
        if len(text) < low:
            if fmt is not None:
                return str(self.static(schema))
            text += "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(low - len(text)))
        if len(text) > high:
            if fmt is not None:
                return str(self.static(schema))
            text = text[:high]
        self.budget.spend(len(text) // 100)
        return text


def _count(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return value


def _bounds(schema: dict[str, Any], integer: bool) -> tuple[float, float]:
    """The closed range a number is drawn from: the schema's bounds (exclusive ones moved in), else 0-1000 around
    the one bound given."""
    gap = 1 if integer else 0.01
    low, high = _finite(schema.get("minimum")), _finite(schema.get("maximum"))
    exclusive_low, exclusive_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    open_low, open_high = _finite(exclusive_low), _finite(exclusive_high)
    if open_low is not None:  # the 3.1 form: a number
        low = max(low if low is not None else -math.inf, open_low + gap)
    elif exclusive_low is True and low is not None:
        low += gap
    if open_high is not None:
        high = min(high if high is not None else math.inf, open_high - gap)
    elif exclusive_high is True and high is not None:
        high -= gap
    if low is None and high is None:
        return 0, 1000
    if low is None:
        assert high is not None
        return min(0, high) if high >= 0 else high - 1000, high
    if high is None:
        return low, low + 1000
    return low, max(low, high)
