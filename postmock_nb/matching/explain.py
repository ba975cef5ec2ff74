"""Explaining a result: every example scored without shortcuts, and the near misses of a miss.

A service over a finished :class:`~postmock_nb.matching.types.MatchResult`: it reads the
result and its snapshot and returns new candidates; nothing is kept in the result. Examples are
placed on the same path-rule ladder as the search (:meth:`~postmock_nb.core.paths.RequestPath.first_fit`),
example by example instead of through the index.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from postmock_nb.core.paths import PathRule, RequestPath, id_blind
from postmock_nb.matching.scoring import drop_reason, path_check, request_context, score, score_query
from postmock_nb.matching.types import Candidate, Check, MatchResult


def near_misses(result: MatchResult, limit: int = 3) -> list[Candidate]:
    """The closest examples that did not win, with their differences, best first.

    Scores in full only the candidates of the search and the examples whose paths look most like
    the request's (the snapshot's :class:`~postmock_nb.matching.snapshot.NearMissIndex`); a result
    detached from its snapshot gives those it kept.
    """
    if result.kept is not None:
        return list(result.kept[1][:limit])
    pool = {c.example.id for c in result.candidates}
    pool |= result.snapshot.near_misses.alike(result.request.method, result.request.path)
    winner_id = result.winner.id if result.winner else None
    return [c for c in explain(result, pool) if c.example.id != winner_id][:limit]


def explain(result: MatchResult, only: set[str] | None = None) -> list[Candidate]:
    """Every example in the snapshot (or those with an id in ``only``) scored with no shortcut, best first
    (a result detached from its snapshot: the candidates it kept)."""
    if result.kept is not None:
        return list(result.kept[0])
    ctx = request_context(result.request, result.settings)
    request_path = result.request.path
    path = RequestPath(request_path)
    scored: dict[str, Candidate] = {c.example.id: c for c in result.candidates}
    method = result.request.method
    everything: list[Candidate] = []
    for compiled in result.snapshot.examples:
        if only is not None and compiled.id not in only:
            continue
        if compiled.id in scored:
            everything.append(scored[compiled.id])
            continue
        rule, captured = path.first_fit(compiled.path)
        wanted_method = compiled.method
        if wanted_method != method and not (method == "HEAD" and wanted_method == "GET" and result.method == "GET"):
            checks = (Check("method", "", False, 0, wanted_method, method, f"{wanted_method} expected"),
                      path_check(compiled, rule, request_path))
            everything.append(Candidate(compiled.example, compiled.order, None, checks, rule, captured,
                                        lost=checks[0].describe()))
            continue
        if rule is None:
            found = [path_check(compiled, None, request_path)]
            score_query(compiled, ctx, found)
            everything.append(Candidate(compiled.example, compiled.order, None, tuple(found), None, {},
                                        lost=found[0].describe()))
            continue
        candidate = score(compiled, rule, captured, ctx)
        if candidate.score is None:
            why = drop_reason(candidate)
        elif rule is PathRule.DISTANCE and result.candidates:
            why = "not considered: edit distance is tried only when no stricter path rule fits"
        elif result.winner is not None:
            why = f"score {candidate.score} < {result.score} (skipped: could not win)"
        else:
            why = "not considered: a stricter path rule found other examples"
        everything.append(Candidate(candidate.example, candidate.order, candidate.score, candidate.checks,
                                    candidate.path_rule, candidate.captured, why))
    winner_id = result.winner.id if result.winner else None
    everything.sort(key=lambda c: (c.example.id != winner_id, *_closeness(c, method, request_path)))
    return everything


def _closeness(candidate: Candidate, method: str, path: str) -> tuple[bool, int, bool, bool, float, int]:
    """Sort key: scored first (best first), then by how alike method and path are."""
    example = candidate.example
    similarity = fuzz.ratio(id_blind(example.request.path), id_blind(path))
    return (candidate.score is None, -(candidate.score or 0), candidate.path_rule is None,
            example.request.method != method, -similarity, candidate.order)
