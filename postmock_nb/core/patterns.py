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
import time
from collections.abc import Iterator
from contextvars import ContextVar
from functools import lru_cache
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


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> Any:
    """The pattern compiled by RE2 if it can, else by ``regex`` (raises :class:`UncheckablePattern`)."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error:
        pass
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
