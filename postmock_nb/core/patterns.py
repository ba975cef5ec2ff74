"""Regular expressions that documents give (OpenAPI ``pattern``, ``patternProperties``, path
templates), run on text a client sends, in bounded time.

Python's ``re`` backtracks: ``^(a+)+$`` against 28 ``a`` and a ``!`` takes seconds, and the
server's one event loop would wait for it. So a pattern runs on RE2 (``google-re2``), whose time
is linear in the text whatever the pattern. RE2 lacks lookaround and backreferences; a pattern
that needs them runs on the ``regex`` module with a timeout, the time left of the request's
budget (:data:`~postmock_nb.core.limits.PATTERN_SECONDS`, see :func:`budget`). A pattern that runs
out of time raises :class:`UncheckablePattern`; one that neither engine can compile raises
:class:`NotARegex` (reported when the document is loaded; requests are not checked against it).
The ``regex`` engine runs with ``concurrent=True`` (it lets go of the GIL while it matches), and
request validation runs on a worker thread (see ``app.py``), so a slow pattern never holds the
server's event loop.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from contextvars import ContextVar
from functools import lru_cache
from re import _constants as sre_constants  # type: ignore[attr-defined]  # Python's own parser: sizes a pattern
from re import _parser as sre_parse
from typing import Any

import re2
import regex

from postmock_nb.core import limits

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every pattern it cannot compile to stderr (the cell, the terminal)

_DEADLINE: ContextVar[float | None] = ContextVar("postmock_pattern_deadline", default=None)


class UncheckablePattern(Exception):
    """A pattern that could not be run on the text: too slow, or not a regular expression."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"the pattern {pattern!r} {reason}")
        self.pattern = pattern


class NotARegex(UncheckablePattern):
    """A pattern neither RE2 nor ``regex`` compiles (``([a-z``)."""


@contextlib.contextmanager
def budget(seconds: float = limits.PATTERN_SECONDS) -> Iterator[None]:
    """Within this block, all patterns RE2 cannot run share ``seconds`` of matching time."""
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


MAX_EXPANSION = 50_000
"""The most pattern items a repeat may unroll to for the ``regex`` engine, which compiles ``x{n}`` as ``n``
copies (``[a-z]{100000000}`` or ``((a{100}){100}){100}`` would take gigabytes): a pattern larger than this
is not compiled (RE2, which refuses such repeats itself, is tried first)."""

_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None))
_COUNT = re.compile(r"\{(\d+)(?:,(\d*))?\}")


def _unrolled(items: Any, limit: int) -> int:
    """How many items ``regex`` makes of a parsed pattern, repeats unrolled (counting stops past ``limit``)."""
    total = 0
    for op, value in items:
        if op in _REPEATS:
            low, high, sub = value
            times = high if high != sre_constants.MAXREPEAT else low + 1
            total += max(times, 1) * _unrolled(sub, limit)
        elif op is sre_constants.SUBPATTERN:
            total += _unrolled(value[-1], limit)
        elif op is sre_constants.BRANCH:
            total += sum(_unrolled(branch, limit) for branch in value[1])
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            total += _unrolled(value[1], limit)
        else:
            total += 1
        if total > limit:
            break
    return total


def _too_large(pattern: str) -> bool:
    """Whether ``regex`` would unroll the pattern's repeats past :data:`MAX_EXPANSION` items (a pattern Python's
    parser cannot read, ECMA's ``\\p{L}``: every count in it multiplied, an upper bound)."""
    if "{" not in pattern:
        return False
    try:
        return _unrolled(sre_parse.parse(pattern), MAX_EXPANSION) > MAX_EXPANSION
    except (re.error, RecursionError, OverflowError, ValueError, TypeError, IndexError):
        product = 1
        for low, high in _COUNT.findall(pattern):
            product *= max(int(high or low), 1)
            if product > MAX_EXPANSION:
                return True
        return False


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> Any:
    """The pattern compiled by RE2 if it can, else by ``regex`` (raises :class:`UncheckablePattern`)."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error:
        pass
    if _too_large(pattern):
        raise NotARegex(pattern, f"is too large to compile (its repeats unroll to more than {MAX_EXPANSION:,} items)")
    try:
        return regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError, ValueError) as error:
        raise NotARegex(pattern, f"is not a regular expression ({error})") from None


def is_linear(found: Any) -> bool:
    """Whether a pattern :func:`compiled` gave runs on RE2 (in time linear in the text)."""
    return not isinstance(found, regex.Pattern)


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches somewhere in ``text`` (JSON Schema's ``pattern`` semantics)."""
    found = compiled(pattern)
    if not isinstance(found, regex.Pattern):
        return found.search(text) is not None
    deadline = _DEADLINE.get()
    seconds = limits.PATTERN_SECONDS if deadline is None else deadline - time.monotonic()
    if seconds <= 0:
        raise UncheckablePattern(pattern, "could not be checked in time")
    try:
        return found.search(text, timeout=seconds, concurrent=True) is not None
    except TimeoutError:
        raise UncheckablePattern(pattern, "could not be checked in time") from None
