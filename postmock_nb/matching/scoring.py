"""Scoring one example against one request: the query, header and body steps, and their checks.

Steps 3-5 of the algorithm (see :mod:`postmock_nb.matching`): the ``x-mock-response-code``
selector, query parameters (+10 equal, +5 equal ignoring case or any-value, −5 another
value, −10 missing or unknown), and the headers and body when switched on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from postmock_nb.config import MockConfig
from postmock_nb.core.bodies import bodies_equal, body_differences
from postmock_nb.core.paths import PathRule
from postmock_nb.core.selectors import (
    MATCH_BODY,
    MATCH_HEADERS,
    MATCH_QUERY,
    QUERY_SELECTORS,
    RESPONSE_CODE,
    header_names,
    is_contains,
    is_on,
    mock_values,
)
from postmock_nb.core.wire import media_type
from postmock_nb.matching.snapshot import CompiledExample, is_wildcard_value
from postmock_nb.matching.types import BASE_SCORE, Candidate, Check, IncomingRequest


@dataclass(slots=True)
class RequestContext:
    """What scoring needs from a request, worked out once: its query without selectors, and the switches.

    Internal to one search (not frozen: it is built on every request, and frozen records cost more to build).
    """

    request: IncomingRequest
    query: dict[str, list[str]]
    selectors: dict[str, str]
    match_headers: tuple[str, ...]
    match_body: bool
    content_type: str
    mock_headers: frozenset[str] = frozenset()
    """Header names only the mock's settings ask for: absent on both sides, they rule nothing out."""
    body_contains: bool = False
    """The request asked for ``x-mock-match-request-body: contains``."""
    query_contains: bool = False
    """The request asked for ``x-mock-match-request-query: contains``."""

    @property
    def max_bonus(self) -> int:
        return 10 * (len(self.query) + len(self.match_headers) + self.match_body)


def request_context(request: IncomingRequest, settings: MockConfig) -> RequestContext:
    """Split the request's ``x-mock-*`` selectors (header or query) from its query, and apply its switches."""
    query: dict[str, list[str]] = {}
    for key, value in request.query:
        if key.lower() not in QUERY_SELECTORS:
            query.setdefault(key, []).append(value)
    selectors = mock_values(request.headers, request.query)
    if not selectors:  # the usual case: the mock's own settings apply
        return RequestContext(request, query, selectors, settings.match_headers, settings.match_body,
                              request.headers.get("content-type", ""), frozenset(settings.match_headers),
                              settings.match_body_contains)
    asked = header_names(selectors.get(MATCH_HEADERS, ""))
    match_headers = tuple(dict.fromkeys([*settings.match_headers, *asked]))
    body_switch = selectors.get(MATCH_BODY, "")
    match_body = settings.match_body if body_switch.strip() == "" else is_on(body_switch)
    return RequestContext(request, query, selectors, match_headers, match_body,
                          request.headers.get("content-type", ""), frozenset(settings.match_headers) - set(asked),
                          is_contains(body_switch) if body_switch.strip() else settings.match_body_contains,
                          is_contains(selectors.get(MATCH_QUERY, "")))


def score_query(compiled: CompiledExample, ctx: RequestContext, checks: list[Check]) -> int:
    """Step 4: the query parameters' points, one check each."""
    if not compiled.query and not ctx.query:
        return 0  # the usual case: nothing to compare
    points = 0
    wanted: dict[str, list[str]] = {}
    for key, value in compiled.query:
        wanted.setdefault(key, []).append(value)
    for key in dict.fromkeys([*wanted, *ctx.query]):
        expected, actual = wanted.get(key), ctx.query.get(key)
        shown_expected = ",".join(expected) if expected is not None else "(absent)"
        shown_actual = ",".join(actual) if actual is not None else "(absent)"
        if expected is None and (compiled.query_contains or ctx.query_contains):
            check = Check("query", key, True, 0, shown_expected, shown_actual, "not in the example (contains)")
        elif expected is None:
            check = Check("query", key, True, -10, shown_expected, shown_actual, "not in the example")
        elif actual is None:
            check = Check("query", key, False, -10, shown_expected, shown_actual, "missing from the request")
        elif sorted(expected) == sorted(actual):
            check = Check("query", key, True, 10, shown_expected, shown_actual, "equal")
        elif all(is_wildcard_value(v) for v in expected):
            check = Check("query", key, True, 5, shown_expected, shown_actual, "any value accepted")
        elif sorted(v.lower() for v in expected) == sorted(v.lower() for v in actual):
            check = Check("query", key, True, 5, shown_expected, shown_actual, "equal ignoring case")
        else:
            check = Check("query", key, False, -5, shown_expected, shown_actual, "different value")
        checks.append(check)
        points += check.points
    return points


def _check_headers(compiled: CompiledExample, names: tuple[str, ...], ctx: RequestContext,
                   checks: list[Check]) -> int | None:
    points = 0
    for name in names:
        expected = compiled.headers.get(name)
        actual = ctx.request.headers.get(name)
        shown_actual = actual if actual is not None else "(absent)"
        if expected is None and actual is None and name in ctx.mock_headers and name not in compiled.required_headers:
            checks.append(Check("header", name, True, 0, "(absent)", "(absent)", "absent on both sides"))
            continue
        if expected is None:
            checks.append(Check("header", name, False, 0, "(absent)", shown_actual, "the example does not set it"))
            return None
        if actual is None:
            checks.append(Check("header", name, False, 0, expected, shown_actual, "missing from the request"))
            return None
        if is_wildcard_value(expected):
            checks.append(Check("header", name, True, 5, expected or "(any)", actual, "any value accepted"))
            points += 5
        elif expected == actual or (name == "content-type" and media_type(expected) == media_type(actual)):
            checks.append(Check("header", name, True, 10, expected, actual, "equal"))
            points += 10
        elif expected.casefold() == actual.casefold():  # Postman: header matching "isn't case-sensitive"
            checks.append(Check("header", name, True, 5, expected, actual, "equal ignoring case"))
            points += 5
        else:
            checks.append(Check("header", name, False, 0, expected, actual, "different value"))
            return None
    return points


def _check_body(compiled: CompiledExample, ctx: RequestContext, checks: list[Check]) -> int | None:
    """The body step: equal (or, asked for, containing the example's fields), else one check per difference."""
    contains = compiled.body_contains or ctx.body_contains
    if not contains and "{{$any" not in compiled.body and bodies_equal(compiled.body, ctx.request.body,
                                                                       ctx.content_type):
        checks.append(Check("body", "", True, 10, compiled.body, ctx.request.body, "equal"))
        return 10  # the usual case: Postman's exact comparison, no field walk
    differences = body_differences(compiled.body, ctx.request.body, ctx.content_type, contains=contains)
    if not differences:
        note = "contains the example's fields" if contains else "equal"
        checks.append(Check("body", "", True, 10, compiled.body, ctx.request.body, note))
        return 10
    checks += [Check("body", d.path, False, 0, d.expected, d.actual, d.note, d.more) for d in differences]
    return None


_RULE_FACTS = {rule: (rule.name.lower(), rule.penalty, rule.label) for rule in PathRule}
"""Each rule's name, penalty and label, read once (Enum properties are slow on the hot path)."""


@lru_cache(maxsize=4096)
def _exact_path_check(path: str) -> Check:
    """The path check of an exact match. Checks are frozen: one serves every request for ``path``."""
    rule_name, penalty, label = _RULE_FACTS[PathRule.EXACT]
    return Check("path", rule_name, True, -penalty, path, path, label)


def path_check(compiled: CompiledExample, rule: PathRule | None, request_path: str) -> Check:
    """The check saying which path rule fitted (or that none did)."""
    if rule is None:
        return Check("path", "", False, 0, compiled.path.text, request_path, "does not match")
    if rule is PathRule.EXACT and compiled.path.text == request_path:
        return _exact_path_check(request_path)
    rule_name, penalty, label = _RULE_FACTS[rule]
    return Check("path", rule_name, True, -penalty, compiled.path.text, request_path, label)


def score(compiled: CompiledExample, rule: PathRule, captured: dict[str, str], ctx: RequestContext) -> Candidate:
    """Score an example whose path fitted by ``rule``: the selector, query, header and body steps."""
    example = compiled.example
    if rule is PathRule.DISTANCE and compiled.runs_code:
        return Candidate(example, compiled.order, None, (_not_its_route(compiled, ctx.request.path),), rule, captured)
    checks = [path_check(compiled, rule, ctx.request.path)]
    code = ctx.selectors.get(RESPONSE_CODE)
    if code is not None and str(example.response.status) != code.strip().lstrip("0"):
        checks.append(Check("selector", RESPONSE_CODE, False, 0, str(example.response.status),
                            code, "another status was asked for"))
        return Candidate(example, compiled.order, None, tuple(checks), rule, captured)
    points = BASE_SCORE - _RULE_FACTS[rule][1] + score_query(compiled, ctx, checks)
    names = ctx.match_headers
    if compiled.required_headers:
        names = tuple(dict.fromkeys(names + compiled.required_headers))
    if names:
        header_points = _check_headers(compiled, names, ctx, checks)
        if header_points is None:
            return Candidate(example, compiled.order, None, tuple(checks), rule, captured)
        points += header_points
    if ctx.match_body or compiled.require_body:
        body_points = _check_body(compiled, ctx, checks)
        if body_points is None:
            return Candidate(example, compiled.order, None, tuple(checks), rule, captured)
        points += body_points
    return Candidate(example, compiled.order, points, tuple(checks), rule, captured)


NOT_ITS_ROUTE = ("nearly the same path, but a handler or resource answers only a path that fits its route "
                 "(case and a trailing slash may differ)")


def _not_its_route(compiled: CompiledExample, request_path: str) -> Check:
    """Why a handler or resource does not answer a path only nearly its route (edit distance): its code
    would get a path that is not its route, and its variables (the record's id, the name) from the wrong place."""
    return Check("path", _RULE_FACTS[PathRule.DISTANCE][0], False, 0, compiled.path.text, request_path, NOT_ITS_ROUTE)


def failed_path(candidate: Candidate) -> bool:
    """Ruled out by its path (a handler's or resource's route only nearly fitting): no selector picks it."""
    return any(c.part == "path" and not c.ok for c in candidate.checks)


def failed_code(candidate: Candidate) -> bool:
    """Dropped by the ``x-mock-response-code`` selector."""
    return any(c.part == "selector" and not c.ok for c in candidate.checks)


def drop_reason(candidate: Candidate) -> str:
    """Why a candidate was ruled out: its last failed check is the one that dropped it."""
    failed = [c for c in candidate.checks if not c.ok]
    if not failed:
        return "ruled out"
    if failed[-1].part != "body":
        return failed[-1].describe()
    body = [c for c in failed if c.part == "body"]  # one check per field that differs: the first, and how many more
    others = len(body) - 1 + sum(c.more for c in body)  # those past the listed ones count too
    return body[0].describe() + (f" (and {others} more)" if others else "")
