"""Verification: did the front end send what it should? (WireMock's ``verify``, MockServer's ``verify``.)

An :class:`Expectation` (``POST /users`` with a query subset, a header subset and a body, and how many
times: ``times=``, ``at_least=``, ``at_most=``; none given means at least once) is compared with the
requests a mock received (:class:`Received`: what a journal entry keeps, whichever process logged it).
:func:`verify` counts the matches and, when the count is wrong, writes the message WireMock users know:
what was expected, how many matched, and the closest requests received, each with its per-field
differences in the near-miss rows of the explaining 404 (:class:`~postmock_nb.answers.diagnostics.DiffRow`,
rendered by :func:`~postmock_nb.answers.diagnostics.diff_table`).

The comparisons are the mock's own: path patterns with ``:vars`` and ``{{vars}}``
(:class:`~postmock_nb.core.paths.PathPattern`), bodies by
:func:`~postmock_nb.core.bodies.body_differences` (JSON as data, ``{{$any}}`` placeholders, ``contains``:
the ``--match-body-contains`` rule), header values as the matching's header step compares them. Pure: no
I/O; a journal is read by the serving layer (:mod:`postmock_nb.serving.verification`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from rapidfuzz import fuzz

from postmock_nb.answers.diagnostics import DiffRow, diff_table
from postmock_nb.core.bodies import ANY_VALUE, body_differences
from postmock_nb.core.masking import mask_header, mask_query
from postmock_nb.core.model import Pairs, path_with_query
from postmock_nb.core.paths import PathPattern, PathRule, RequestPath, id_blind, wildcard_name
from postmock_nb.core.text import plural
from postmock_nb.core.wire import media_type
from postmock_nb.errors import PostmockError
from postmock_nb.matching import Check, IncomingRequest

ANY_METHOD = "ANY"
"""The method of an expectation that accepts every method (``ANY /users``, or just ``/users``)."""
CLOSEST = 3
"""How many of the closest requests a failure lists."""
LISTED_MATCHES = 5
"""How many of the matching requests a failure lists when there were too many."""


class ExpectationError(PostmockError, ValueError):
    """A verification that cannot be read: no path, a negative count, ``times`` with ``at_least``..."""


@dataclass(frozen=True)
class Received:
    """One request as a journal kept it (matched or not): all verification reads of it."""

    seq: int
    request: IncomingRequest
    status: int | None = None
    example_id: str | None = None
    time: float = 0.0
    body_cut: bool = False
    """The journal kept only the start of the body (a long one): a body comparison says so."""

    @property
    def title(self) -> str:
        """``#12 POST /users?page=2 → 201`` (an ``api_key`` in the query masked, as the log shows it)."""
        status = "—" if self.status is None else str(self.status)
        path, mark, query = self.request.url.partition("?")
        return f"#{self.seq} {self.request.method} {path}{mark}{mask_query(query)} → {status}"


def _count(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ExpectationError(f"{name} must be a whole number, got {value!r}", hint=f"{name}=1")
    if value < 0:
        raise ExpectationError(f"{name} cannot be negative, got {value}", hint=f"{name}=0")
    return value


def _pairs(value: Mapping[str, Any] | Iterable[tuple[str, Any]] | None, what: str) -> Pairs:
    if value is None:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    pairs: list[tuple[str, str]] = []
    for item in items:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str) and item[0]):
            raise ExpectationError(f"{what} must map names to values, got {item!r}", hint=f'{what}={{"name": "value"}}')
        name, wanted = item
        for one in wanted if isinstance(wanted, (list, tuple)) else [wanted]:
            if isinstance(one, (dict, list)):
                raise ExpectationError(f"{what} {name}: a value must be text, got {one!r}")
            pairs.append((name, "" if one is None else str(one).lower() if isinstance(one, bool) else str(one)))
    return tuple(pairs)


def _split_request(request: str) -> tuple[str, str]:
    """``POST /users`` → (``POST``, ``/users``); ``/users`` → (``ANY``, ``/users``)."""
    if not isinstance(request, str):
        raise ExpectationError(f"the request must be text such as 'POST /users', got {request!r}")
    words = request.split()
    if len(words) == 1:
        words = [ANY_METHOD, words[0]]
    if len(words) != 2 or not words[1].startswith("/"):
        raise ExpectationError(f"expected METHOD PATH, got {request!r}", hint="'POST /users', 'GET /users/:id'")
    method = words[0].upper()
    if not method.isalpha():
        raise ExpectationError(f"{words[0]!r} is not an HTTP method", hint="'POST /users', or 'ANY /users'")
    return ("ANY" if method == "*" else method), words[1]


@dataclass(frozen=True)
class Expectation:
    """What a request should look like, and how many times it should have come.

    Build it with :meth:`of` (what ``verify(...)`` takes) or :meth:`filter` (the requests list's filters).
    ``path`` None accepts every path; ``body`` None any body.
    """

    method: str
    path: PathPattern | None
    query: Pairs = ()
    headers: Pairs = ()
    body: str | None = None
    json_body: bool = False
    """``body`` is the JSON of ``json=``: compared as JSON whatever the request's Content-Type."""
    contains: bool = False
    """The body need only hold the expected fields (``--match-body-contains``'s rule)."""
    times: int | None = None
    at_least: int | None = None
    at_most: int | None = None

    @classmethod
    def of(cls, request: str, *, times: int | None = None, at_least: int | None = None,
           at_most: int | None = None, json: Any = None, body: str | None = None,
           headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
           query: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
           contains: bool = False) -> Expectation:
        """``Expectation.of("POST /users", times=1, json={"name": "Ann"})``: none of ``times``, ``at_least``,
        ``at_most`` given means at least once; ``json`` None means no JSON body is expected (a ``body`` may be)."""
        method, url = _split_request(request)
        path, _, query_text = url.partition("?")
        counts = (_count(times, "times"), _count(at_least, "at_least"), _count(at_most, "at_most"))
        if counts[0] is not None and (counts[1] is not None or counts[2] is not None):
            raise ExpectationError("give times, or at_least and/or at_most, not both",
                                   hint="times=2, or at_least=1, at_most=3")
        if counts[1] is not None and counts[2] is not None and counts[1] > counts[2]:
            raise ExpectationError(f"at_least ({counts[1]}) is more than at_most ({counts[2]})")
        if counts == (None, None, None):
            counts = (None, 1, None)
        if json is not None and body is not None:
            raise ExpectationError("give json or body, not both", hint='json={"name": "Ann"}, or body="name=Ann"')
        if body is not None and not isinstance(body, str):
            raise ExpectationError(f"body must be text, got {type(body).__name__}", hint="for data, use json=")
        text = body
        if json is not None:
            try:
                text = _dumps(json)
            except (TypeError, ValueError) as error:
                raise ExpectationError(f"json cannot be written as JSON: {error}") from None
        wanted_query = tuple(parse_qsl(query_text, keep_blank_values=True)) + _pairs(query, "query")
        return cls(method, PathPattern.parse(path, {}), wanted_query, _header_pairs(headers), text,
                   json is not None, bool(contains), *counts)

    @classmethod
    def filter(cls, *, method: str | None = None, path: str | None = None,
               query: Iterable[tuple[str, str]] = (), headers: Iterable[tuple[str, str]] = ()) -> Expectation:
        """The requests list's filters: a method, a path pattern, a query subset and a header subset
        (a name with no value: present, with any value)."""
        if path is not None and not path.startswith("/"):
            raise ExpectationError(f"path must start with '/', got {path!r}", hint="path=/users/:id")
        if method is not None and not method.isalpha():
            raise ExpectationError(f"{method!r} is not an HTTP method", hint="method=POST")
        return cls((method or ANY_METHOD).upper(), PathPattern.parse(path, {}) if path is not None else None,
                   tuple(query), _header_pairs(headers))

    # -- what it says ---------------------------------------------------------------------

    @property
    def request_line(self) -> str:
        """``POST /users?page=2`` (``ANY`` for any method; ``*`` for any path)."""
        return f"{self.method} {path_with_query(self.path.text if self.path else '*', self.query)}"

    def described(self) -> list[str]:
        """The expected request, a line per part (secret header values masked)."""
        lines = [self.request_line]
        lines += [f"header {name}: {mask_header(name, value)}" for name, value in self.headers]
        if self.body is not None:
            kind = "JSON" if self.json_body else "text"
            lines.append(f"body ({kind}{', contains' if self.contains else ''}): {_short(self.body)}")
        return lines

    @property
    def wanted(self) -> str:
        """``exactly 1 time``, ``at least 2 times``, ``between 1 and 3 times``, ``never``."""
        if self.times is not None:
            return "never" if self.times == 0 else f"exactly {plural(self.times, 'time')}"
        if self.at_least is not None and self.at_most is not None:
            if self.at_least == self.at_most:
                return f"exactly {plural(self.at_most, 'time')}"
            return f"between {self.at_least} and {self.at_most} times"
        if self.at_most is not None:
            return "never" if self.at_most == 0 else f"at most {plural(self.at_most, 'time')}"
        return f"at least {plural(self.at_least or 0, 'time')}"

    def accepts(self, count: int) -> bool:
        """Whether ``count`` matching requests is what was expected."""
        if self.times is not None:
            return count == self.times
        return (self.at_least is None or count >= self.at_least) and (self.at_most is None or count <= self.at_most)

    # -- comparing ------------------------------------------------------------------------

    def compare(self, received: Received) -> list[Check]:
        """Every comparison of ``received`` with this expectation, one :class:`Check` each (method, path,
        then the query parameters, headers and body it names)."""
        request = received.request
        checks = [self._method_check(request.method), self._path_check(request.path)]
        checks += _query_checks(self.query, request.query)
        checks += _header_checks(self.headers, request.headers)
        if self.body is not None:
            checks += self._body_checks(request, cut=received.body_cut)
        return checks

    def matches(self, received: Received) -> bool:
        return all(check.ok for check in self.compare(received))

    def _method_check(self, method: str) -> Check:
        if self.method in (ANY_METHOD, method):
            return Check("method", "", True, 0, self.method, method, "equal")
        return Check("method", "", False, 0, self.method, method, "method does not match")

    def _path_check(self, path: str) -> Check:
        pattern = self.path
        if pattern is None:
            return Check("path", "", True, 0, "*", path, "any path")
        if path == pattern.text or (  # the exact rule's key is the path itself
                pattern.has_wildcards and RequestPath(path).fits(pattern, PathRule.WILDCARD) is not None):
            return Check("path", "", True, 0, pattern.text, path, "")
        return Check("path", "", False, 0, pattern.text, path, "path does not match")

    def _body_checks(self, request: IncomingRequest, *, cut: bool) -> list[Check]:
        expected = self.body or ""
        content_type = "application/json" if self.json_body else request.headers.get("content-type", "")
        differences = body_differences(expected, request.body, content_type, contains=self.contains)
        if not differences:
            return [Check("body", "", True, 10, expected, request.body,
                          "contains the expected fields" if self.contains else "equal")]
        suffix = " (the journal kept only the start of this body)" if cut else ""
        return [Check("body", d.path, False, 0, d.expected, d.actual, _NOTES.get(d.note, d.note) + suffix, d.more)
                for d in differences]


_NOTES = {"not in the example": "not expected (contains=True allows it)"}
"""The body matchers' notes, in the words of a verification (it has no example)."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _header_pairs(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> Pairs:
    return tuple((name.lower(), value) for name, value in _pairs(headers, "headers"))


def _is_any(value: str) -> bool:
    """A value that accepts anything: ``{{$any}}`` (and its kin), or a whole undefined ``{{variable}}``."""
    return value in ANY_VALUE or (value.startswith("{{") and wildcard_name(value) is not None)


def _query_checks(wanted: Pairs, sent: Pairs) -> list[Check]:
    """The query subset: each expected parameter sent, with each expected value among those sent."""
    expected: dict[str, list[str]] = {}
    for name, value in wanted:
        expected.setdefault(name, []).append(value)
    actual: dict[str, list[str]] = {}
    for name, value in sent:
        actual.setdefault(name, []).append(value)
    checks = []
    for name, values in expected.items():
        shown = ",".join(values)
        got = actual.get(name)
        if got is None:
            checks.append(Check("query", name, False, 0, shown, "(absent)", "missing from the request"))
        elif all(_is_any(v) or v in got for v in values):
            checks.append(Check("query", name, True, 0, shown, ",".join(got), "equal"))
        else:
            checks.append(Check("query", name, False, 0, shown, ",".join(got), "different value"))
    return checks


def _header_checks(wanted: Pairs, sent: Mapping[str, str]) -> list[Check]:
    """The header subset, compared as the matching's header step does (Postman: values ignore case;
    a Content-Type by its media type)."""
    checks = []
    for name, value in wanted:
        got = sent.get(name)
        if got is None:
            checks.append(Check("header", name, False, 0, value or "(any)", "(absent)", "missing from the request"))
        elif value == "" or _is_any(value) or value.casefold() == got.casefold() or (
                name == "content-type" and media_type(value) == media_type(got)):
            checks.append(Check("header", name, True, 0, value or "(any)", got, "equal"))
        else:
            checks.append(Check("header", name, False, 0, value, got, "different value"))
    return checks


def _short(text: str, width: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# -- the verdict ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalView:
    """What verification says about the journal it read: how many it keeps, and how many came in all."""

    kept: int
    """The journal's size (``maxlen``): older requests are gone."""
    total: int | None = None
    """Requests received since the journal was last cleared (None: not known)."""
    refused: int = 0
    """Requests refused for want of the key: not verified (the journal keeps one line per burst)."""
    scope: str = ""
    """When the journal is not the whole mock's (one worker of several): what it covers, said in a failure."""


@dataclass(frozen=True)
class Verification:
    """The verdict: ``verified``, the ``count`` of matching requests, and on failure the ``message``."""

    expectation: Expectation
    verified: bool
    count: int
    message: str
    """The AssertionError's text ("" when verified)."""
    matched: tuple[Received, ...] = ()
    checked: int = 0
    """How many requests were compared."""

    @property
    def summary(self) -> str:
        """One line saying what was verified (or that it failed)."""
        if not self.verified:
            return self.message.splitlines()[0]
        return (f"Verified: {self.expectation.request_line} was received {plural(self.count, 'time')} "
                f"(expected {self.expectation.wanted}; {plural(self.checked, 'request')} checked).")

    def as_json(self) -> dict[str, Any]:
        """The body ``POST /__postmock/verify`` answers."""
        return {"verified": self.verified, "count": self.count, "message": self.message}

    def check(self) -> Verification:
        """Raise the :class:`AssertionError` when not verified; else return self."""
        if not self.verified:
            raise AssertionError(self.message)
        return self


def verify(expectation: Expectation, received: Sequence[Received], journal: JournalView,
           *, closest: int = CLOSEST) -> Verification:
    """Count the requests in ``received`` (newest first) that match ``expectation``, and judge the count."""
    compared = [(one, expectation.compare(one)) for one in received]
    matched = tuple(one for one, checks in compared if all(c.ok for c in checks))
    count = len(matched)
    if expectation.accepts(count):
        return Verification(expectation, True, count, "", matched, len(received))
    wanted = expectation.wanted
    said = "never to be received" if wanted == "never" else f"to be received {wanted}"
    lines = [f"Expected {expectation.request_line} {said}, but it was received {plural(count, 'time')}.",
             "", "Expected request:", *(f"  {line}" for line in expectation.described()),
             "", _journal_line(len(received), count, journal)]
    most = expectation.times if expectation.times is not None else expectation.at_most
    if most is not None and count > most:  # too many: which ones, not the near misses
        lines += _matched_lines(matched)
    else:
        missed = [(one, checks) for one, checks in compared if not all(c.ok for c in checks)]
        lines += _closest_lines(_closest(missed, expectation, closest))
    return Verification(expectation, False, count, "\n".join(lines), matched, len(received))


def _matched_lines(matched: Sequence[Received]) -> list[str]:
    """The requests that matched, when too many did: the newest few, and how many more."""
    lines = ["", "The matching requests (newest first):", *(f"  {one.title}" for one in matched[:LISTED_MATCHES])]
    if len(matched) > LISTED_MATCHES:
        lines.append(f"  … and {len(matched) - LISTED_MATCHES} more")
    return lines


def _closest_lines(near: list[tuple[Received, list[Check]]]) -> list[str]:
    """The closest requests, each with its near-miss rows."""
    if not near:
        return []
    lines = ["", f"The closest {'request' if len(near) == 1 else 'requests'} received that did not match:"]
    for rank, (one, checks) in enumerate(near, 1):
        failed = sum(1 for c in checks if not c.ok)
        lines += ["", f"{rank}. {one.title} — {plural(failed, 'difference')}", *diff_table(_rows(checks), "Expected")]
    return lines


def _journal_line(checked: int, count: int, journal: JournalView) -> str:
    """What was checked: none at all, or how many the journal holds and keeps (older ones are gone)."""
    refused = (f" ({plural(journal.refused, 'request')} refused for want of the key are not verified)"
               if journal.refused else "")
    if checked == 0:
        return (f"No requests were received at all (the journal keeps the last {journal.kept}).{refused}"
                + (f"\nNote: {journal.scope}." if journal.scope else ""))
    line = f"Checked the {plural(checked, 'request')} the journal holds (it keeps the last {journal.kept})"
    if journal.total is not None and journal.total > checked:
        gone = journal.total - checked
        line += f"; {journal.total} were received, so the oldest {plural(gone, 'is', 'are')} gone"
    return line + f"; {count} matched.{refused}" + (f"\nNote: {journal.scope}." if journal.scope else "")


def _rows(checks: list[Check]) -> list[DiffRow]:
    """The near-miss rows: method and path always, then every query, header and body check that failed."""
    return [DiffRow.of(c) for c in checks if c.part in ("method", "path") or not c.ok]


def _closest(missed: list[tuple[Received, list[Check]]], expectation: Expectation,
             limit: int) -> list[tuple[Received, list[Check]]]:
    """The requests nearest the expectation: those with its method and path first (the right call, sent
    wrong), then the fewest differences, then the most alike path, then the newest."""
    wanted_path = id_blind(expectation.path.text) if expectation.path else ""

    def key(item: tuple[Received, list[Check]]) -> tuple[bool, int, bool, float, int]:
        one, checks = item
        method_ok, path_ok = checks[0].ok, checks[1].ok
        failed = sum(1 + c.more for c in checks if not c.ok)
        likeness = fuzz.ratio(wanted_path, id_blind(one.request.path)) if wanted_path else 0.0
        return (not (method_ok and path_ok), failed, not path_ok, -likeness, -one.seq)

    return sorted(missed, key=key)[:limit]
