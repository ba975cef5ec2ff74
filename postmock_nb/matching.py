"""The matching engine: which example answers a request, and why every other one did not.

Pure: a plain :class:`IncomingRequest` and a :class:`~postmock_nb.snapshot.Snapshot` in, a
:class:`MatchResult` out. No web framework, IPython or widget code is imported here.

The algorithm follows Postman's (see the README, "How matching works"):

1. method filter (``HEAD`` falls back to ``GET`` examples when no ``HEAD`` example fits the path);
2. path score: every example starts at 100 and the first path rule that fits costs its
   penalty (:class:`~postmock_nb.paths.PathRule`); edit distance is tried only when no
   stricter rule found any example;
3. selectors, among examples of this method and path only: ``x-mock-response-code`` keeps
   that status, ``x-mock-response-id`` / ``x-mock-response-name`` pick one example (when
   several share a name, the one whose path fits best, then the first defined);
4. query parameters: +10 equal, +5 equal ignoring case or any-value, −5 same name with
   another value, −10 missing from the request or unknown to the example;
5. headers and body, when switched on per request, per mock, or per example (Postman's
   ``x-mock-match-request-headers`` / ``x-mock-match-request-body`` saved in the example's
   own request headers): a listed header or the body must match (+10, +5 for an
   any-value header) or the example drops out;
6. highest score wins; a tie goes to the example defined first.

Each selector and switch can also be sent as a query parameter of the same name
(``?x-mock-response-code=404``) because browsers cannot always set custom headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping, Sequence
from weakref import WeakKeyDictionary
from urllib.parse import parse_qsl, unquote

from rapidfuzz import fuzz, process

from .bodies import bodies_equal
from .config import MockConfig
from .model import Example, Pairs
from .paths import PathRule, is_id_segment, lookup_keys, split_segments, without_trailing_slash
from .snapshot import CompiledExample, MethodIndex, Snapshot, is_wildcard_value

BASE_SCORE = 100
SELECTOR_NAMES = ("x-mock-response-code", "x-mock-response-id", "x-mock-response-name",
                  "x-mock-match-request-headers", "x-mock-match-request-body",
                  "x-mock-response-delay")


@dataclass(frozen=True)
class IncomingRequest:
    """A request as the engine sees it: header names lower-cased, query decoded."""

    method: str
    path: str
    query: Pairs = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""

    @classmethod
    def build(cls, method: str, url: str, headers: Mapping[str, str] | None = None,
              body: str = "") -> "IncomingRequest":
        """Convenience: ``IncomingRequest.build("GET", "/users?role=admin")``."""
        path, _, query = url.partition("?")  # decoded as an ASGI server decodes them
        return cls(method.upper(), unquote(path) or "/", tuple(parse_qsl(query, keep_blank_values=True)),
                   {k.lower(): v for k, v in (headers or {}).items()}, body)

    @property
    def url(self) -> str:
        if not self.query:
            return self.path
        return self.path + "?" + "&".join(f"{k}={v}" for k, v in self.query)


MatchSettings = MockConfig
"""The engine reads the ``match_headers``/``match_body`` fields of the mock's one settings record (old name)."""
_DEFAULT_CONFIG = MockConfig()


@dataclass(frozen=True)
class Check:
    """One comparison between the request and an example: the unit of every diagnosis."""

    part: str          # method, path, query, header, body, selector
    name: str          # the query/header name, the path rule...
    ok: bool
    points: int
    expected: str
    actual: str
    note: str

    def describe(self) -> str:
        return f"{self.part} {self.name}: {self.note}".replace("  ", " ") if self.name else f"{self.part}: {self.note}"


@dataclass
class Candidate:
    """An example considered for a request, its score (None once dropped) and why."""

    example: Example
    order: int
    score: int | None
    checks: list[Check]
    path_rule: PathRule | None = None
    captured: dict[str, str] = field(default_factory=dict)
    lost: str = ""

    @property
    def dropped(self) -> bool:
        return self.score is None

    @property
    def differences(self) -> list[Check]:
        """The checks that failed or cost points: what to show a person."""
        return [c for c in self.checks if not c.ok or c.points < 0]


@dataclass
class MatchResult:
    """Winner (or None), its score, and every candidate considered with the reason it lost."""

    request: IncomingRequest
    snapshot: Snapshot
    settings: MockConfig
    winner: Example | None = None
    score: int | None = None
    candidates: list[Candidate] = field(default_factory=list)
    selector: str = ""
    error: str = ""
    pruned: int = 0
    method: str = ""
    """The method whose examples were searched: the request's, or GET for a HEAD request no HEAD example fits."""
    _near: dict[int, list[Candidate]] = field(default_factory=dict, repr=False)

    @property
    def matched(self) -> bool:
        return self.winner is not None

    @property
    def captured(self) -> dict[str, str]:
        """Path variables the winner captured (``{"id": "7"}``), for echoing."""
        return self.candidates[0].captured if self.winner is not None else {}

    @property
    def winner_candidate(self) -> Candidate | None:
        return self.candidates[0] if self.winner is not None else None

    def explain(self) -> list[Candidate]:
        """Every example of the collection, scored without shortcuts, best first.

        Not kept: a result may live on in the request log, and the full list is as long
        as the collection. :meth:`near_misses` keeps just the few it returns.
        """
        return _explain(self)

    def near_misses(self, limit: int = 3) -> list[Candidate]:
        """The closest examples that did not win, with their differences (kept once worked out)."""
        if limit not in self._near:
            self._near[limit] = _near_misses(self, limit)
        return self._near[limit]


# -- request context -----------------------------------------------------------------------


@dataclass
class _Context:
    request: IncomingRequest
    query: dict[str, list[str]]
    selectors: dict[str, str]
    match_headers: tuple[str, ...]
    match_body: bool
    content_type: str

    @property
    def max_bonus(self) -> int:
        return 10 * (len(self.query) + len(self.match_headers) + self.match_body)


def _context(request: IncomingRequest, settings: MockConfig) -> _Context:
    selectors: dict[str, str] = {}
    query: dict[str, list[str]] = {}
    for key, value in request.query:
        if key.lower() in SELECTOR_NAMES:
            selectors.setdefault(key.lower(), value)
        else:
            query.setdefault(key, []).append(value)
    for name in SELECTOR_NAMES:
        value = request.headers.get(name)
        if value is not None:
            selectors[name] = value
    if not selectors:  # the usual case: the mock's own settings apply
        return _Context(request, query, selectors, settings.match_headers, settings.match_body,
                        request.headers.get("content-type", ""))
    listed = [h.strip().lower() for h in selectors.get("x-mock-match-request-headers", "").split(",")]
    match_headers = tuple(dict.fromkeys([*settings.match_headers, *(h for h in listed if h)]))
    body_switch = selectors.get("x-mock-match-request-body", "").strip().lower()
    match_body = settings.match_body if body_switch == "" else body_switch == "true"
    return _Context(request, query, selectors, match_headers, match_body,
                    request.headers.get("content-type", ""))


# -- scoring one example ---------------------------------------------------------------------


def _score_query(compiled: CompiledExample, ctx: _Context, checks: list[Check]) -> int:
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
        if expected is None:
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


def _check_headers(compiled: CompiledExample, names: tuple[str, ...], ctx: _Context,
                   checks: list[Check]) -> int | None:
    points = 0
    for name in names:
        expected = compiled.headers.get(name)
        actual = ctx.request.headers.get(name)
        shown_actual = actual if actual is not None else "(absent)"
        if expected is None:
            checks.append(Check("header", name, False, 0, "(absent)", shown_actual, "the example does not set it"))
            return None
        if actual is None:
            checks.append(Check("header", name, False, 0, expected, shown_actual, "missing from the request"))
            return None
        if is_wildcard_value(expected):
            checks.append(Check("header", name, True, 5, expected or "(any)", actual, "any value accepted"))
            points += 5
        elif expected == actual or (name == "content-type" and _media_type(expected) == _media_type(actual)):
            checks.append(Check("header", name, True, 10, expected, actual, "equal"))
            points += 10
        else:
            checks.append(Check("header", name, False, 0, expected, actual, "different value"))
            return None
    return points


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _check_body(compiled: CompiledExample, ctx: _Context, checks: list[Check]) -> int | None:
    if bodies_equal(compiled.body, ctx.request.body, ctx.content_type):
        checks.append(Check("body", "", True, 10, compiled.body, ctx.request.body, "equal"))
        return 10
    checks.append(Check("body", "", False, 0, compiled.body, ctx.request.body, "different body"))
    return None


_RULE_FACTS = {rule: (rule.name.lower(), rule.penalty, rule.label) for rule in PathRule}
"""Each rule's name, penalty and label, read once (Enum properties are slow on the hot path)."""


@lru_cache(maxsize=4096)
def _exact_path_check(path: str) -> Check:
    """The path check of an exact match. Checks are frozen: one serves every request for ``path``."""
    rule_name, penalty, label = _RULE_FACTS[PathRule.EXACT]
    return Check("path", rule_name, True, -penalty, path, path, label)


def _score(compiled: CompiledExample, rule: PathRule, captured: dict[str, str], ctx: _Context) -> Candidate:
    """Score an example whose path fitted by ``rule``: the query, header and body steps."""
    rule_name, penalty, label = _RULE_FACTS[rule]
    expected, actual = compiled.path.text, ctx.request.path
    if rule is PathRule.EXACT and expected == actual:
        checks = [_exact_path_check(actual)]
    else:
        checks = [Check("path", rule_name, True, -penalty, expected, actual, label)]
    candidate = Candidate(compiled.example, compiled.order, None, checks, rule, captured)
    code = ctx.selectors.get("x-mock-response-code")
    if code is not None and str(compiled.example.response.status) != code.strip().lstrip("0"):
        checks.append(Check("selector", "x-mock-response-code", False, 0, str(compiled.example.response.status),
                            code, "another status was asked for"))
        return candidate
    score = BASE_SCORE - penalty + _score_query(compiled, ctx, checks)
    header_names = ctx.match_headers
    if compiled.required_headers:
        header_names = tuple(dict.fromkeys(header_names + compiled.required_headers))
    if header_names:
        header_points = _check_headers(compiled, header_names, ctx, checks)
        if header_points is None:
            return candidate
        score += header_points
    if ctx.match_body or compiled.require_body:
        body_points = _check_body(compiled, ctx, checks)
        if body_points is None:
            return candidate
        score += body_points
    candidate.score = score
    return candidate


# -- finding candidates ---------------------------------------------------------------------


def _method_index(snapshot: Snapshot, method: str) -> MethodIndex | None:
    index = snapshot.by_method.get(method)
    if index is None and method == "HEAD":
        index = snapshot.by_method.get("GET")
    return index


_STEP_RULES = tuple((rule, rule.penalty) for rule in PathRule if rule is not PathRule.DISTANCE)
"""The rules decided by lookup, in order, with their penalties (distance: a last resort, handled by the caller)."""


def _found(index: MethodIndex, rule: PathRule, path: str, keys: dict[PathRule, str],
           segments: tuple[str, ...]) -> Sequence[CompiledExample]:
    """The examples of ``index`` whose path fits by ``rule``, in definition order.

    Asked only for the rules the caller does not prune; the lookup keys are worked out on
    first need (most requests are settled by the exact path, whose key is the path itself).
    The index's own list is returned, not a copy: thousands of examples may share a key.
    """
    if rule is PathRule.WILDCARD:
        return sorted(index.wildcards.find(segments), key=lambda c: c.order)
    if rule is PathRule.EXACT:
        key = path  # lookup_keys(path)[PathRule.EXACT]
    else:
        if not keys:
            keys.update(lookup_keys(path))
        key = keys[rule]
    return index.lookups[rule].get(key, ())


def match(snapshot: Snapshot, request: IncomingRequest, settings: MockConfig = _DEFAULT_CONFIG) -> MatchResult:
    """Find the example that answers ``request``."""
    ctx = _context(request, settings)
    result = MatchResult(request, snapshot, settings)
    index = _method_index(snapshot, request.method)
    if index is None:
        result.error = f"no example for method {request.method}"
        return result
    candidates = _candidates(index, request.path, ctx)
    get_index = snapshot.by_method.get("GET")
    if not candidates and request.method == "HEAD" and get_index is not None and index is not get_index:
        index = get_index  # no HEAD example fits this path: answer as GET would
        candidates = _candidates(index, request.path, ctx)
    result.method = "GET" if index is get_index else request.method
    result.pruned = len(index.examples) - len(candidates)
    _decide(result, candidates, ctx)
    return result


ALWAYS_SCORED = 50
"""Up to this many candidates are scored even when they cannot win, so that small collections
show every tie and loser; beyond it, examples that cannot win are skipped unscored."""


def _upper_bound(compiled: CompiledExample, path_score: int, ctx: _Context) -> int:
    """The most ``compiled`` could score, from its query names and requirements alone."""
    wanted, sent = compiled.query_keys, ctx.query.keys()
    shared = len(wanted & sent)
    query = 10 * shared - 10 * (len(sent) - shared) - 10 * (len(wanted) - shared)
    headers = 10 * (len(ctx.match_headers) + len(compiled.required_headers))
    body = 10 if ctx.match_body or compiled.require_body else 0
    return path_score + query + headers + body


def _candidates(index: MethodIndex, path: str, ctx: _Context) -> list[Candidate]:
    """The examples of ``index`` whose path fits, scored; rules that cannot beat the best are skipped."""
    picking = "x-mock-response-id" in ctx.selectors or "x-mock-response-name" in ctx.selectors
    seen: set[str] = set()
    candidates: list[Candidate] = []
    best: int | None = None
    best_order = -1
    max_bonus = ctx.max_bonus + index.max_example_bonus
    keys: dict[PathRule, str] = {}
    segments: tuple[str, ...] = ()  # worked out once, only when a rule needs them
    for rule, penalty in _STEP_RULES:
        ceiling = BASE_SCORE - penalty + max_bonus
        if not picking and best is not None and best > ceiling:
            break  # nothing from this rule on can win: skip it (cost stays flat)
        if rule is PathRule.WILDCARD:
            segments = split_segments(without_trailing_slash(path))
        for compiled in _found(index, rule, path, keys, segments):
            if not picking and best is not None and len(candidates) >= ALWAYS_SCORED:
                if best == ceiling and best_order < compiled.order:
                    break  # the rest of this rule (in definition order) can at best tie, and a tie goes to the earlier
                bound = _upper_bound(compiled, BASE_SCORE - penalty, ctx)
                if bound < best or (bound == best and best_order < compiled.order):
                    continue  # cannot win: not scored (many examples colliding under one rule stay cheap)
            example_id = compiled.id
            if example_id in seen:
                continue
            seen.add(example_id)
            captured = compiled.path.capture(segments) if rule is PathRule.WILDCARD else None
            candidate = _score(compiled, rule, captured or {}, ctx)
            candidates.append(candidate)
            score = candidate.score
            if score is not None and (best is None or score > best or (score == best and compiled.order < best_order)):
                best, best_order = score, compiled.order
    if not candidates:
        segments = segments or split_segments(without_trailing_slash(path))
        for compiled in index.by_length.get(len(segments), ()):
            if compiled.path.nearly_matches(segments):
                candidates.append(_score(compiled, PathRule.DISTANCE, {}, ctx))
    return candidates


def _decide(result: MatchResult, candidates: list[Candidate], ctx: _Context) -> None:
    """Pick the winner among scored candidates and write down why the others lost."""
    if len(candidates) == 1 and candidates[0].score is not None and not ctx.selectors:
        winner = candidates[0]  # the usual case, settled at once: what the steps below would decide
        result.winner, result.score, result.candidates = winner.example, winner.score, candidates
        return
    candidates.sort(key=lambda c: (c.score is None, -(c.score or 0), c.order))
    winner: Candidate | None = None
    for key in ("x-mock-response-id", "x-mock-response-name"):
        wanted = ctx.selectors.get(key)
        if wanted is None:
            continue
        result.selector = f"{key}: {wanted}"
        attribute = "id" if key.endswith("id") else "name"
        # several share the name: the one whose path fits best (/users/me before /users/:id), then the first defined
        chosen = sorted((c for c in candidates if getattr(c.example, attribute) == wanted
                         and not _failed_code(c)), key=lambda c: (c.path_rule.penalty if c.path_rule else 0, c.order))
        if not chosen:
            here = ", ".join(sorted({repr(c.example.name) for c in candidates})) or "none"
            result.error = (f"no example with {attribute} {wanted!r} for {ctx.request.method} "
                            f"{ctx.request.path} (examples for this path: {here})")
            for c in candidates:
                c.lost = c.lost or f"{attribute} is {getattr(c.example, attribute)!r}, not {wanted!r}"
            result.candidates = candidates
            return
        winner = chosen[0]
        if winner.score is None:
            winner.score = BASE_SCORE - (winner.path_rule.penalty if winner.path_rule else 0)
        break
    if winner is None:
        scored = [c for c in candidates if c.score is not None]
        if scored:
            winner = scored[0]
            if "x-mock-response-code" in ctx.selectors:
                result.selector = f"x-mock-response-code: {ctx.selectors['x-mock-response-code']}"
    if winner is None:
        result.error = ("no example for this method and path" if not candidates
                        else "every example for this path was ruled out")
        for c in candidates:
            c.lost = c.lost or _drop_reason(c)
        result.candidates = candidates
        return
    candidates.remove(winner)
    candidates.insert(0, winner)
    for c in candidates[1:]:
        if c.score is None:
            c.lost = _drop_reason(c)
        elif result.selector and not result.selector.startswith("x-mock-response-code"):
            c.lost = f"{result.selector} picked {winner.example.name!r}"
        elif c.score == winner.score:
            c.lost = f"tie at {c.score}: {winner.example.name!r} is defined earlier"
        else:
            c.lost = f"score {c.score} < {winner.score}"
    result.winner, result.score, result.candidates = winner.example, winner.score, candidates


def _failed_code(candidate: Candidate) -> bool:
    return any(c.part == "selector" and not c.ok for c in candidate.checks)


def _drop_reason(candidate: Candidate) -> str:
    failed = [c for c in candidate.checks if not c.ok]
    return failed[-1].describe() if failed else "ruled out"  # the last failed check is the one that dropped it


# -- full explanation (for 404 diagnostics and the widgets) -----------------------------------


NEAR_MISS_POOL = 30
"""How many of the most alike paths (per method, and overall) are scored in full for a near miss."""
_blind_paths: "WeakKeyDictionary[Snapshot, dict[str, tuple[list[str], list[CompiledExample]]]]" = WeakKeyDictionary()


def _alike_paths(snapshot: Snapshot, method: str, path: str) -> set[str]:
    """Ids of the examples whose paths look most like ``path`` (IDs and variables blinded).

    One C-speed fuzzy pass over the snapshot's paths, so a miss costs milliseconds however
    large the collection, instead of scoring every example in Python.
    """
    tables = _blind_paths.get(snapshot)
    if tables is None:
        tables = {}
        for compiled in snapshot.examples:
            for key in (compiled.method, "*"):
                keys, examples = tables.setdefault(key, ([], []))
                keys.append(_id_blind(compiled.path.text))
                examples.append(compiled)
        _blind_paths[snapshot] = tables
    target = _id_blind(path)
    ids: set[str] = set()
    for key in (method, "GET" if method == "HEAD" else method, "*"):
        keys, examples = tables.get(key, ([], []))
        for _, _, index in process.extract(target, keys, scorer=fuzz.ratio, limit=NEAR_MISS_POOL):
            ids.add(examples[index].id)
    return ids


def _near_misses(result: MatchResult, limit: int) -> list[Candidate]:
    pool = {c.example.id for c in result.candidates} | _alike_paths(result.snapshot, result.request.method,
                                                                      result.request.path)
    winner_id = result.winner.id if result.winner else None
    return [c for c in _explain(result, pool) if c.example.id != winner_id][:limit]


def _explain(result: MatchResult, only: set[str] | None = None) -> list[Candidate]:
    """Score every example in the snapshot (or those with an id in ``only``), with no shortcut."""
    ctx = _context(result.request, result.settings)
    request_path = result.request.path
    keys = lookup_keys(request_path)
    segments = split_segments(without_trailing_slash(request_path))
    scored: dict[str, Candidate] = {c.example.id: c for c in result.candidates}
    method = result.request.method
    everything: list[Candidate] = []
    for compiled in result.snapshot.examples:
        if only is not None and compiled.id not in only:
            continue
        if compiled.id in scored:
            everything.append(scored[compiled.id])
            continue
        wanted_method = compiled.method
        if wanted_method != method and not (method == "HEAD" and wanted_method == "GET" and result.method == "GET"):
            checks = [Check("method", "", False, 0, wanted_method, method, f"{wanted_method} expected")]
            rule, captured = _path_rule(compiled, keys, segments)
            checks.append(_path_check(compiled, rule, request_path))
            everything.append(Candidate(compiled.example, compiled.order, None, checks, rule, captured,
                                        lost=checks[0].describe()))
            continue
        rule, captured = _path_rule(compiled, keys, segments)
        if rule is None:
            checks = [_path_check(compiled, None, request_path)]
            candidate = Candidate(compiled.example, compiled.order, None, checks, None, {})
            _score_query(compiled, ctx, checks)
            candidate.lost = checks[0].describe()
        else:
            candidate = _score(compiled, rule, captured, ctx)
            if candidate.score is None:
                candidate.lost = _drop_reason(candidate)
            elif rule is PathRule.DISTANCE and result.candidates:
                candidate.lost = "not considered: edit distance is tried only when no stricter path rule fits"
            elif result.winner is not None:
                candidate.lost = f"score {candidate.score} < {result.score} (skipped: could not win)"
            else:
                candidate.lost = "not considered: a stricter path rule found other examples"
        everything.append(candidate)
    winner_id = result.winner.id if result.winner else None
    everything.sort(key=lambda c: (c.example.id != winner_id, *_closeness(c, method, request_path)))
    return everything


def _path_rule(compiled: CompiledExample, keys: dict[PathRule, str],
               segments: tuple[str, ...]) -> tuple[PathRule | None, dict[str, str]]:
    mine = compiled.path.lookup_keys()
    for rule in PathRule:
        if rule is PathRule.WILDCARD:
            captured = compiled.path.capture(segments) if compiled.path.has_wildcards else None
            if captured is not None:
                return rule, captured
        elif rule is PathRule.DISTANCE:
            if compiled.path.nearly_matches(segments):
                return rule, {}
        elif mine[rule] == keys[rule]:
            return rule, {}
    return None, {}


def _path_check(compiled: CompiledExample, rule: PathRule | None, request_path: str) -> Check:
    if rule is None:
        return Check("path", "", False, 0, compiled.path.text, request_path, "does not match")
    return Check("path", rule.name.lower(), True, -rule.penalty, compiled.path.text, request_path, rule.label)


def _closeness(candidate: Candidate, method: str, path: str) -> tuple:
    """Sort key: scored first (best first), then by how alike method and path are."""
    example = candidate.example
    similarity = fuzz.ratio(_id_blind(example.request.path), _id_blind(path))
    return (candidate.score is None, -(candidate.score or 0), candidate.path_rule is None,
            example.request.method != method, -similarity, candidate.order)


def _id_blind(path: str) -> str:
    return "/".join("0" if is_id_segment(s) or s.startswith(":") else s for s in path.lower().split("/"))
