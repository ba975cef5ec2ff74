"""Strings and numbers that satisfy their schema's keywords (for :mod:`postmock_nb.formats.schemagen`).

A string: a ``pattern``'s value (made by ``rstr``'s regex-driven generator, bounded: at most
:data:`PATTERN_STEPS` states and characters, a repeat taken at most :data:`REPEAT_SPREAD` times past
its minimum, and checked against the pattern; a pattern that cannot be followed — not a Python
regular expression, too big, or a value that still does not match — gives the plain value and a
note), else the ``format``'s value, fitted to ``minLength``/``maxLength``. A number: the lowest
value the bounds allow (``minimum``/``maximum``, ``exclusive*`` as 3.0 booleans or 3.1 numbers,
``int32``/``int64``/``float``/``double`` ranges) nearest 0, a multiple of ``multipleOf``.

``nth`` asks for the nth distinct value (``uniqueItems``): a different string or number of the
same kind; ``rng`` drives the pattern generator (a ``random.Random`` seeded by the caller: the same
seed, the same values).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from rstr.xeger import Xeger

from postmock_nb.core import patterns

PATTERN_STEPS = 10_000
"""States visited and characters written for one pattern's value: past this, the pattern is not followed."""

REPEAT_SPREAD = 4
"""A repeat (``*``, ``+``, ``{n,m}``) runs between its minimum and this many times more."""

PATTERN_TRIES = 8
"""Values generated for a pattern (with the lengths asked) before giving up on it."""

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
    "iri-reference": "/example",
    "uri-template": "https://example.com/{id}",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "byte": "c3RyaW5n",
    "binary": "",
    "password": "********",
    "json-pointer": "/example",
    "relative-json-pointer": "0",
    "regex": ".*",
}

_VARIANTS: dict[str, Callable[[int], str]] = {
    "date-time": lambda n: f"2024-01-{n % 28 + 1:02}T00:00:{n // 28 % 60:02}Z",
    "date": lambda n: f"{2024 + n // 336}-{n // 28 % 12 + 1:02}-{n % 28 + 1:02}",
    "time": lambda n: f"12:{n // 60 % 60:02}:{n % 60:02}Z",
    "email": lambda n: f"user{n}@example.com",
    "idn-email": lambda n: f"user{n}@example.com",
    "hostname": lambda n: f"host{n}.example.com",
    "idn-hostname": lambda n: f"host{n}.example.com",
    "ipv4": lambda n: f"192.0.{n // 254 % 256}.{n % 254 + 1}",
    "ipv6": lambda n: f"2001:db8::{n + 1:x}",
    "uri": lambda n: f"https://example.com/{n}",
    "url": lambda n: f"https://example.com/{n}",
    "iri": lambda n: f"https://example.com/{n}",
    "uuid": lambda n: f"3fa85f64-5717-4562-b3fc-{n:012x}"[-36:],
    "uri-reference": lambda n: f"/example/{n}",
    "iri-reference": lambda n: f"/example/{n}",
    "uri-template": lambda n: f"https://example.com/{n}/{{id}}",
    "json-pointer": lambda n: f"/example/{n}",
    "relative-json-pointer": lambda n: str(n),
    "duration": lambda n: f"P{n + 1}D",
    "byte": lambda n: ("c3RyaW5n", "c3RyaW5nMQ==", "c3RyaW5nMg==")[n % 3] if n < 3 else "c3RyaW5n" * (n + 1),
}

INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "int8": (-(2**7), 2**7 - 1), "int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1), "uint8": (0, 2**8 - 1), "uint16": (0, 2**16 - 1), "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
FLOAT_RANGES: dict[str, tuple[float, float]] = {
    "float": (-3.4028234663852886e38, 3.4028234663852886e38),
    "double": (-1.7976931348623157e308, 1.7976931348623157e308),
}


def bound(value: Any) -> float | None:
    """A numeric keyword's value, when it is a finite number (``.nan``, ``.inf``, ``1e400`` read as ``inf``
    and ``true`` are not: they are ignored)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if isinstance(value, int) or math.isfinite(value) else None


def count(value: Any) -> int | None:
    """A length or count keyword's value, when it is a non-negative integer (else it is ignored)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


# -- strings --------------------------------------------------------------------------------------


class PatternNotFollowed(Exception):
    """A ``pattern`` no value could be made for (the reason is the message)."""


class _Xeger(Xeger):
    """rstr's generator with its work bounded and its repeats short."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.steps = PATTERN_STEPS

    def _handle_state(self, state: Any) -> Any:
        self.steps -= 1
        if self.steps < 0:
            raise PatternNotFollowed(f"its value would take more than {PATTERN_STEPS:,} steps")
        return super()._handle_state(state)

    def _handle_repeat(self, start_range: int, end_range: int, value: Any) -> str:
        if start_range > PATTERN_STEPS:
            raise PatternNotFollowed(f"it repeats more than {PATTERN_STEPS:,} times")
        times = self._random.randint(start_range, min(end_range, start_range + REPEAT_SPREAD))
        parts: list[str] = []
        for _ in range(times):
            parts.append("".join(self._handle_state(i) for i in value))
            self.steps -= len(parts[-1])
        return "".join(parts)


def string_value(schema: dict[str, Any], rng: random.Random, nth: int = 0) -> str:
    """A string for ``schema`` (raises :class:`PatternNotFollowed`, with :func:`plain_string` the fallback)."""
    low, high = count(schema.get("minLength")), count(schema.get("maxLength"))
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        return _patterned(pattern, plain_string(schema, nth), low, high, rng)
    return plain_string(schema, nth)


def plain_string(schema: dict[str, Any], nth: int = 0) -> str:
    """The ``format``'s value (or ``string``), the ``nth`` distinct one, fitted to ``minLength``/``maxLength``."""
    name = str(schema.get("format", ""))
    variant = _VARIANTS.get(name)
    text = FORMAT_VALUES.get(name, "string") if nth == 0 else variant(nth) if variant else f"string{nth}"
    return fitted(text, count(schema.get("minLength")), count(schema.get("maxLength")), nth)


def fitted(text: str, low: int | None, high: int | None, nth: int = 0) -> str:
    """``text`` padded to ``low`` characters and cut to ``high`` (keeping the ``nth`` variant's tail distinct)."""
    if low is not None and len(text) < low:
        text = (text * (low // max(len(text), 1) + 1))[:low] if text else "s" * low
    if high is not None and len(text) > high:
        tail = _tail(nth, high) if nth else ""
        text = text[: high - len(tail)] + tail
    return text


def _tail(nth: int, room: int) -> str:
    """The ``nth`` distinct ending that fits in ``room`` characters (digits and letters, none of ``string``'s: a
    variant cut short never ends as the first value, ``string`` cut, does)."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefhjklmopquvwxyz"
    digits = ""
    while nth and len(digits) < room:
        nth, digit = divmod(nth, len(alphabet))
        digits = alphabet[digit] + digits
    return digits


def _patterned(pattern: str, plain: str, low: int | None, high: int | None, rng: random.Random) -> str:
    """A value matching ``pattern`` (searched, as JSON Schema does) within the lengths; the plain value first."""
    if _fits(pattern, plain, low, high):
        return plain
    generator = _Xeger(rng)
    reason = "no value made matched it"
    for _ in range(PATTERN_TRIES):
        try:
            text = generator.xeger(pattern)
        except PatternNotFollowed:
            raise
        except (re.error, ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError) as error:
            # sre's parser refuses ECMA-only syntax (\p{L}, (?<name>…)); rstr's cases miss a few opcodes
            raise PatternNotFollowed(f"it cannot be generated ({type(error).__name__}: {error})") from None
        for candidate in (text, fitted(text, low, high), text + "a" * max((low or 0) - len(text), 0)):
            if _fits(pattern, candidate, low, high):
                return candidate
        reason = f"no value made matched it with lengths {low}..{high}" if low or high is not None else reason
    raise PatternNotFollowed(reason)


def _fits(pattern: str, text: str, low: int | None, high: int | None) -> bool:
    if (low is not None and len(text) < low) or (high is not None and len(text) > high):
        return False
    try:
        return patterns.search(pattern, text)
    except patterns.UncheckablePattern:
        return False


# -- numbers --------------------------------------------------------------------------------------


def number_value(schema: dict[str, Any], integer: bool, nth: int = 0) -> int | float:
    """The value nearest the lower bound (else nearest 0) that the bounds and ``multipleOf`` allow;
    an integer unless the type is ``number`` and a bound or the multiple is fractional."""
    low, low_open, high, high_open = _bounds(schema, integer)
    multiple = bound(schema.get("multipleOf"))
    multiple = multiple if multiple is not None and multiple > 0 else None
    fractional = not integer and any(isinstance(v, float) and not v.is_integer() for v in (low, high, multiple))
    step: float = 0.5 if fractional else 1
    start = _start(low, low_open, high, high_open, step, fractional)
    value = start + nth * step
    if high is not None and (value > high or (high_open and value >= high)):
        value = start - nth * step if low is None else start if integer else low + (high - low) / (nth + 2)
    if multiple is not None:
        value = _multiple_near(value, multiple, high, high_open)
    if isinstance(value, float) and value.is_integer() and (integer or not fractional):
        return int(value)
    return value


def _bounds(schema: dict[str, Any], integer: bool) -> tuple[float | None, bool, float | None, bool]:
    minimum, maximum = bound(schema.get("minimum")), bound(schema.get("maximum"))
    exclusive_min, exclusive_max = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    low_open, high_open = exclusive_min is True, exclusive_max is True  # 3.0: booleans beside minimum/maximum
    open_min, open_max = bound(exclusive_min), bound(exclusive_max)  # 3.1: numbers of their own
    if open_min is not None and (minimum is None or open_min >= minimum):
        minimum, low_open = open_min, True
    if open_max is not None and (maximum is None or open_max <= maximum):
        maximum, high_open = open_max, True
    name = str(schema.get("format", ""))
    limits: tuple[float, float] | None = INTEGER_RANGES.get(name) if integer else FLOAT_RANGES.get(name)
    if limits is None and integer:
        limits = FLOAT_RANGES.get(name)
    if limits is not None:  # 0 is in every range: only a bound beyond the format's is brought in
        if minimum is not None and minimum < limits[0]:
            minimum, low_open = limits[0], False
        if maximum is not None and maximum > limits[1]:
            maximum, high_open = limits[1], False
    return minimum, low_open, maximum, high_open


def _start(low: float | None, low_open: bool, high: float | None, high_open: bool, step: float,
           fractional: bool) -> float:
    """The lower bound (past it when open), else the upper one when it is below 0, else 0."""
    if low is not None:
        return _above(low, low_open, step, fractional)
    if high is not None and (high < 0 or (high_open and high <= 0)):
        return _below(high, high_open, step, fractional)
    return 0


def _above(low: float, is_open: bool, step: float, fractional: bool) -> float:
    if fractional:
        return low + step if is_open else low
    start = math.ceil(low)
    return start + 1 if is_open and start == low else start


def _below(high: float, is_open: bool, step: float, fractional: bool) -> float:
    if fractional:
        return high - step if is_open else high
    start = math.floor(high)
    return start - 1 if is_open and start == high else start


def _multiple_near(value: float, multiple: float, high: float | None, high_open: bool) -> float:
    """The first multiple of ``multiple`` from ``value`` up that jsonschema counts as one (float division)."""
    try:
        step = Decimal(repr(multiple))
        k = (Decimal(repr(value)) / step).to_integral_value(rounding="ROUND_CEILING")
    except (InvalidOperation, OverflowError):
        return value
    for n in range(16):
        candidate_decimal = (k + n) * step
        candidate: float = int(candidate_decimal) if candidate_decimal == candidate_decimal.to_integral_value() \
            else float(candidate_decimal)
        if high is not None and (candidate > high or (high_open and candidate >= high)):
            break
        if is_multiple(candidate, multiple):
            return candidate
    return value


def is_multiple(value: int | float, multiple: int | float) -> bool:
    """jsonschema's ``multipleOf`` check (float division when either side is a float)."""
    if isinstance(multiple, float) or isinstance(value, float):
        try:
            quotient = value / multiple
            return math.isfinite(quotient) and int(quotient) == quotient
        except OverflowError:
            return False
    return value % multiple == 0
