"""Finding the winner: the candidate search down the path-rule ladder, with pruning, and the decision.

The search climbs :class:`~postmock_nb.core.paths.PathRule` in order, finding the examples of each
rule through the snapshot's index (the lookup rules and the wildcard trie are that index's
answer to :meth:`~postmock_nb.core.paths.RequestPath.fits`); edit distance is tried only when no
stricter rule found any example. Rules and examples that cannot beat the best score so far are
skipped unscored, so the cost stays flat however many examples collide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from postmock_nb.config import MockConfig
from postmock_nb.core.markers import OpenApiSource
from postmock_nb.core.paths import PathRule, RequestPath
from postmock_nb.core.selectors import PREFER_EXAMPLE, RESPONSE_CODE, RESPONSE_ID, RESPONSE_NAME
from postmock_nb.matching.scoring import RequestContext, drop_reason, failed_code, failed_path, request_context, score
from postmock_nb.matching.snapshot import CompiledExample, MethodIndex, Snapshot
from postmock_nb.matching.types import BASE_SCORE, Candidate, IncomingRequest, MatchResult

_DEFAULT_CONFIG = MockConfig()

ALWAYS_SCORED = 50
"""Up to this many candidates are scored even when they cannot win, so that small collections
show every tie and loser; beyond it, examples that cannot win are skipped unscored."""

_STEP_RULES = tuple((rule, rule.penalty) for rule in PathRule if rule is not PathRule.DISTANCE)
"""The rules decided by the index, in ladder order, with their penalties (distance: a last resort)."""
_CAPTURING = (PathRule.WILDCARD, PathRule.WILDCARD_AND_CASE)


def _method_index(snapshot: Snapshot, method: str) -> MethodIndex | None:
    index = snapshot.by_method.get(method)
    if index is None and method == "HEAD":
        index = snapshot.by_method.get("GET")
    return index


def _found(index: MethodIndex, rule: PathRule, path: RequestPath) -> Sequence[CompiledExample]:
    """The examples of ``index`` whose path fits by ``rule``, in definition order.

    The index's own list is returned, not a copy: thousands of examples may share a key.
    """
    if rule is PathRule.WILDCARD:
        return sorted(index.wildcards.find(path.segments), key=lambda c: c.order)
    if rule is PathRule.WILDCARD_AND_CASE:
        folded = tuple(s.lower() for s in path.segments)
        return sorted(index.folded_wildcards.find(folded), key=lambda c: c.order)
    return index.lookups[rule].get(path.key(rule), ())


def match(snapshot: Snapshot, request: IncomingRequest, settings: MockConfig = _DEFAULT_CONFIG) -> MatchResult:
    """Find the example that answers ``request``."""
    ctx = request_context(request, settings)
    index = _method_index(snapshot, request.method)
    if index is None:
        return MatchResult(request, snapshot, settings, error=f"no example for method {request.method}")
    candidates, ctx = _fitting(snapshot, index, ctx, settings)
    get_index = snapshot.by_method.get("GET")
    if not candidates and request.method == "HEAD" and get_index is not None and index is not get_index:
        index = get_index  # no HEAD example fits this path: answer as GET would
        candidates, ctx = _fitting(snapshot, index, ctx, settings)
    winner, ranked, selector, error = _decide(candidates, ctx, snapshot)
    return MatchResult(request, snapshot, settings, winner.example if winner else None,
                       winner.score if winner else None, ranked, selector, error,
                       len(index.examples) - len(candidates), "GET" if index is get_index else request.method)


def _fitting(snapshot: Snapshot, index: MethodIndex, ctx: RequestContext,
             settings: MockConfig) -> tuple[list[Candidate], RequestContext]:
    """The candidates for the request's path; when no rule but edit distance finds one, and examples of the
    snapshot carry a base path (``x-mock-base-path``) the request left out, those examples under it (the
    request's context then holds the path they were matched on: ``/v1/pets`` for ``/pets``; the result keeps the
    request as sent)."""
    path = RequestPath(ctx.request.path)
    candidates = _candidates(index, path, ctx)
    if candidates:
        return candidates, ctx
    for base, ids in snapshot.mounts.items():
        if path.text == base or path.text.startswith(base + "/"):
            continue  # asked under this base path already
        mounted = RequestPath(base + path.text if path.text != "/" else base)
        under = request_context(replace(ctx.request, path=mounted.text), settings)
        found = [c for c in _candidates(index, mounted, under) if c.example.id in ids]
        if found:
            return found, under
    return _by_distance(index, path, ctx), ctx  # the last resort: edit distance


def _upper_bound(compiled: CompiledExample, path_score: int, ctx: RequestContext) -> int:
    """The most ``compiled`` could score, from its query names and requirements alone."""
    wanted, sent = compiled.query_keys, ctx.query.keys()
    shared = len(wanted & sent)
    extra = 0 if compiled.query_contains or ctx.query_contains else len(sent) - shared  # contains: extras are free
    query = 10 * shared - 10 * extra - 10 * (len(wanted) - shared)
    headers = 10 * (len(ctx.match_headers) + len(compiled.required_headers))
    body = 10 if ctx.match_body or compiled.require_body else 0
    return path_score + query + headers + body


def _candidates(index: MethodIndex, path: RequestPath, ctx: RequestContext) -> list[Candidate]:
    """The examples of ``index`` whose path fits by a rule of the ladder (not edit distance), scored; rules that
    cannot beat the best are skipped."""
    picking = RESPONSE_ID in ctx.selectors or RESPONSE_NAME in ctx.selectors
    seen: set[str] = set()
    candidates: list[Candidate] = []
    best: int | None = None
    best_order = -1
    max_bonus = ctx.max_bonus + index.max_example_bonus
    for rule, penalty in _STEP_RULES:
        ceiling = BASE_SCORE - penalty + max_bonus
        if not picking and best is not None and best > ceiling:
            break  # nothing from this rule on can win: skip it (cost stays flat)
        for compiled in _found(index, rule, path):
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
            captured = (compiled.path.capture(path.segments, fold=rule is PathRule.WILDCARD_AND_CASE)
                        if rule in _CAPTURING else None)
            candidate = score(compiled, rule, captured or {}, ctx)
            candidates.append(candidate)
            if _beats(candidate.score, compiled.order, best, best_order):
                best, best_order = candidate.score, compiled.order
    return candidates


def _beats(points: int | None, order: int, best: int | None, best_order: int) -> bool:
    """Whether a candidate's score beats the best so far (a tie: the one defined earlier)."""
    return points is not None and (best is None or points > best or (points == best and order < best_order))


def _by_distance(index: MethodIndex, path: RequestPath, ctx: RequestContext) -> list[Candidate]:
    """The candidates by edit distance: tried only when no stricter rule found any example."""
    candidates = []
    segments = path.segments
    for compiled in index.by_length.get(len(segments), ()):
        # what path.fits(compiled.path, PathRule.DISTANCE) decides, without a call per example (thousands)
        near = compiled.path.near_capture(segments)
        if near is not None:
            candidates.append(score(compiled, PathRule.DISTANCE, near, ctx))
    return candidates


def _lost(candidate: Candidate, why: str) -> Candidate:
    return candidate if candidate.lost == why else Candidate(
        candidate.example, candidate.order, candidate.score, candidate.checks, candidate.path_rule,
        candidate.captured, why)


def _selected(value: str, wanted: str, attribute: str) -> bool:
    """Whether an example's id or name is the one a selector asked for.

    An id is also accepted in Postman's UID form ``<user_id>-<example_id>`` (what Postman shows and
    exports); a name compares as sent.
    """
    if value == wanted:
        return True
    if attribute != "id":
        return False
    owner, dash, rest = wanted.partition("-")
    return bool(dash) and owner.isdigit() and rest == value


_Ruling = tuple["Candidate | None", list[Candidate], str, str]
"""The winner (or None), every candidate ranked with why it lost, the selector that decided, the error."""


def _decide(candidates: list[Candidate], ctx: RequestContext, snapshot: Snapshot) -> _Ruling:
    """The winner among scored candidates, and why each other one lost."""
    if len(candidates) == 1 and candidates[0].score is not None and not ctx.selectors:
        return candidates[0], candidates, "", ""  # the usual case, settled at once: what the steps below would decide
    candidates.sort(key=lambda c: (c.score is None, -(c.score or 0), c.order))
    picked = _picked(candidates, ctx, snapshot.openapi_plan if PREFER_EXAMPLE in ctx.selectors else {})
    if picked is not None and picked[0] is None:
        return picked  # a selector named an example that is not here
    winner, selector = (picked[0], picked[2]) if picked is not None else (None, "")
    if winner is None:
        scored = [c for c in candidates if c.score is not None]
        if scored:
            winner = scored[0]
            if RESPONSE_CODE in ctx.selectors:
                selector = f"{RESPONSE_CODE}: {ctx.selectors[RESPONSE_CODE]}"
    if winner is None:
        return None, [_lost(c, c.lost or drop_reason(c)) for c in candidates], selector, _no_winner(candidates, ctx)
    return winner, _ranked(winner, candidates, selector), selector, ""


_PICKS = ((RESPONSE_ID, ("id",)), (RESPONSE_NAME, ("name",)), (PREFER_EXAMPLE, ("key", "name")))
"""The selectors that pick an example, and what of it each compares, in turn: ``Prefer: example=cat`` an OpenAPI
example's key (``examples: {cat: …}``), else an example's name (a collection's examples have no key)."""


def _attribute(candidate: Candidate, attribute: str, sources: Mapping[str, OpenApiSource]) -> str:
    """A candidate's id, name or OpenAPI example key ("" when it has none)."""
    if attribute == "key":
        source = sources.get(candidate.example.id)
        return source.key if source is not None else ""
    value: str = getattr(candidate.example, attribute)
    return value


def _no_winner(candidates: list[Candidate], ctx: RequestContext) -> str:
    """Why no candidate won: none fits, the status asked for (``x-mock-response-code``, ``Prefer: code=``) is not
    one of theirs (naming those there are), or each was ruled out."""
    if not candidates:
        return "no example for this method and path"
    if RESPONSE_CODE in ctx.selectors and all(failed_code(c) for c in candidates):
        codes = ", ".join(sorted({str(c.example.response.status) for c in candidates}))
        return (f"no example with status {ctx.selectors[RESPONSE_CODE].strip()} for {ctx.request.method} "
                f"{ctx.request.path} (statuses for this path: {codes})")
    return "every example for this path was ruled out"


def _picked(candidates: list[Candidate], ctx: RequestContext, sources: Mapping[str, OpenApiSource]) -> _Ruling | None:
    """What ``x-mock-response-id``, ``-name`` or ``Prefer: example=`` (the first sent) decides: the example it picks
    (given a score if it had none, in place in ``candidates``), or no winner with the error; None when none was sent."""
    for key, attributes in _PICKS:
        wanted = ctx.selectors.get(key)
        if wanted is None:
            continue
        selector = f"Prefer: example={wanted}" if key == PREFER_EXAMPLE else f"{key}: {wanted}"
        chosen: list[Candidate] = []
        for attribute in attributes:
            # several share the name: the one whose path fits best (/users/me before /users/:id), then the first
            chosen = sorted((c for c in candidates if _selected(_attribute(c, attribute, sources), wanted, attribute)
                             and not failed_code(c) and not failed_path(c)),
                            key=lambda c: (c.path_rule.penalty if c.path_rule else 0, c.order))
            if chosen:
                break
        if not chosen:
            return _not_picked(candidates, ctx, attributes[0], wanted, selector, sources)
        winner = chosen[0]
        if winner.score is None:
            points = BASE_SCORE - (winner.path_rule.penalty if winner.path_rule else 0)
            picked = Candidate(winner.example, winner.order, points, winner.checks, winner.path_rule,
                               winner.captured, winner.lost)
            candidates[candidates.index(winner)] = picked
            winner = picked
        return winner, candidates, selector, ""
    return None


def _not_picked(candidates: list[Candidate], ctx: RequestContext, attribute: str, wanted: str, selector: str,
                sources: Mapping[str, OpenApiSource]) -> _Ruling:
    """No winner: the error names the examples there are for the path (and their keys), each candidate why it lost."""
    def shown(c: Candidate) -> str:
        key = _attribute(c, "key", sources) if sources else ""
        return repr(c.example.name) + (f" (example={key})" if key else "")

    here = ", ".join(sorted({shown(c) for c in candidates})) or "none"
    error = f"no example with {attribute} {wanted!r} for {ctx.request.method} {ctx.request.path} " \
            f"(examples for this path: {here})"
    ranked = [_lost(c, c.lost or (drop_reason(c) if failed_path(c) else
                                  f"{attribute} is {_attribute(c, attribute, sources)!r}, not {wanted!r}"))
              for c in candidates]
    return None, ranked, selector, error


def _ranked(winner: Candidate, candidates: list[Candidate], selector: str) -> list[Candidate]:
    """The winner first, then every other candidate with why it lost."""
    ranked = [winner]
    for c in candidates:
        if c is winner:
            continue
        if c.score is None:
            why = drop_reason(c)
        elif selector and not selector.startswith(RESPONSE_CODE):
            why = f"{selector} picked {winner.example.name!r}"
        elif c.score == winner.score:
            why = f"tie at {c.score}: {winner.example.name!r} is defined earlier"
        else:
            why = f"score {c.score} < {winner.score}"
        ranked.append(_lost(c, why))
    return ranked
