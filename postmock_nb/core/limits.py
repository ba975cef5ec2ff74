"""Explicit limits on what a request (or a file) can make the mock do.

``MAX_JSON_DEPTH``: JSON nested deeper than this is not parsed as JSON. A request body that
deep is compared as text when bodies are matched, and ``{{$body 'a.b'}}`` finds nothing in
it; an example body that deep is served as text/plain; a collection file or a ``%%example``
cell that deep is refused with a clear error. Python's JSON parser would otherwise recurse
until it raises ``RecursionError``.

``MAX_MOCK_VALUE``: the longest ``x-mock-response-code`` / ``-delay`` value read as a
number; longer ones are refused (400) before any conversion.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Callable
from itertools import accumulate
from typing import Any

MAX_JSON_DEPTH = 200
MAX_MOCK_VALUE = 12

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
"""Opening brackets to +1, closing ones to -1 (as signed bytes)."""


class TooDeep(ValueError):
    """JSON nested deeper than :data:`MAX_JSON_DEPTH`."""

    def __init__(self, depth_limit: int = MAX_JSON_DEPTH) -> None:
        super().__init__(f"JSON nested more than {depth_limit} levels deep")


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` nests brackets more than ``limit`` deep (outside JSON strings).

    At C speed, whatever the shape: strings and everything but brackets are dropped, each
    opening bracket counts +1 and each closing one -1, and the running sum's maximum is the depth.
    """
    if text.count("[") + text.count("{") <= limit:
        return False  # the usual case, settled at once
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text)).encode("ascii").translate(_STEPS)
    steps = array("b")
    steps.frombytes(brackets)
    return max(accumulate(steps), default=0) > limit


class NotStrictJSON(ValueError):
    """JSON that only Python reads: ``NaN``, ``Infinity``, or a number that overflows to infinity
    (``1e400``, or an integer of more than 308 digits).

    ``JSON.parse`` (a browser, most clients) refuses the first two, and a number like ``1e400``
    can only be written back as ``Infinity``: stored and served again, it would make the whole
    answer unreadable. ``path`` is where it is, as a JSON path (``$.title``, ``$.tags[2]``).
    """

    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, text
        what = ("not JSON (JSON.parse refuses it)" if text in ("NaN", "Infinity", "-Infinity")
                else "a number too large for JSON (it overflows to Infinity)")
        super().__init__(f"{path} is {shorten(text)}, {what}: send a finite number, a string or null")


class _Odd:
    """What a strict parse puts where JSON has a value only Python reads (found again for its path)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:limit // 2]}…{text[-8:]} ({len(text)} characters)"


def member(path: str, key: Any) -> str:
    """The JSON path of member ``key`` of the object at ``path``: ``$.title``, ``$["a b"]``."""
    return f"{path}.{key}" if isinstance(key, str) and key.isidentifier() else f"{path}[{json.dumps(key)}]"


def path_of(value: Any, found: Callable[[Any], bool]) -> tuple[str, Any] | None:
    """The JSON path (``$.a[0].b``) of the first value inside ``value`` for which ``found`` holds, and that value."""
    stack: list[tuple[str, Any]] = [("$", value)]
    while stack:
        path, item = stack.pop()
        if found(item):
            return path, item
        if isinstance(item, dict):
            stack.extend((member(path, k), v) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(item))))
    return None


def non_finite(value: Any) -> bool:
    """A float JSON cannot carry (NaN, Infinity)."""
    return isinstance(value, float) and not math.isfinite(value)


def loads(text: str | bytes, limit: int = MAX_JSON_DEPTH, *, strict: bool = False) -> Any:
    """``json.loads`` that raises :class:`TooDeep` (a ValueError) instead of recursing without bound.

    ``strict``: also refuse what only Python reads (``NaN``, ``Infinity``, ``1e400``) with
    :class:`NotStrictJSON` naming its path: for JSON a client sends that the mock stores and serves
    again (resource bodies, ``request.json``). Matching and files read leniently.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if json_too_deep(text, limit):
        raise TooDeep(limit)
    odd: list[_Odd] = []

    def constant(name: str) -> _Odd:
        odd.append(_Odd(name))
        return odd[-1]

    def number(digits: str) -> Any:
        value = float(digits)
        if math.isinf(value):
            odd.append(_Odd(digits))
            return odd[-1]
        return value

    def whole(digits: str) -> Any:
        if len(digits) > 300 and math.isinf(float(digits)):  # past a double (JSON.parse makes it Infinity),
            odd.append(_Odd(digits))  # and past 4300 digits Python cannot even write it back
            return odd[-1]
        return int(digits)

    try:
        if not strict:
            return json.loads(text)  # noqa: TID251 - the one call the ban points to: its depth is checked above
        value = json.loads(text, parse_constant=constant, parse_float=number, parse_int=whole)  # noqa: TID251
    except RecursionError:  # belt and braces: a deep stack already in use
        raise TooDeep(limit) from None
    if odd:
        where = path_of(value, lambda v: isinstance(v, _Odd))
        path, item = where if where is not None else ("$", odd[0])
        raise NotStrictJSON(path, item.text)
    return value

PATTERN_SECONDS = 0.05
"""The longest a request's checks may spend on regular expressions RE2 cannot run (lookaround,
backreferences: they run on the ``regex`` module with a timeout); past it the pattern is
reported as not checkable in time (422 naming it), never a stalled server. Patterns RE2 runs
need no limit: its time is linear in the text."""

MAX_YAML_ALIAS_NODES = 100_000
"""How many nodes YAML aliases (``*name``) may add to a document when expanded. A "billion
laughs" document of 500 bytes expands to hundreds of millions; refused with the line."""

MAX_EXAMPLE_STEPS = 100_000
"""Steps (schemas visited, array items and hundreds of characters written) one example value
made from an OpenAPI schema may take: ``$ref`` keys that fan out, or a ``minItems`` of a
billion, are refused naming the schema instead of running for minutes or filling the memory."""

MAX_DOCUMENT_EXAMPLE_STEPS = 1_000_000
"""The same for all the example values of one OpenAPI document together."""

MAX_UPSTREAM_BYTES = 10 * 1024 * 1024
"""The largest body an upstream may send the proxy (502 past it), and the largest a recorded
compressed body may decode to (a gzip bomb is refused, not recorded)."""
