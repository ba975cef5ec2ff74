"""Why a request did not match: Postman's 404 body plus a WireMock-style near-miss diff."""

from __future__ import annotations

from typing import Any

from .matching import Candidate, Check, MatchResult

POSTMAN_NOT_FOUND = {
    "name": "mockRequestNotFoundError",
    "message": "Double check your method and the request path and try again.",
    "header": "No matching requests",
}
_MARK = "<<<<<"


def _check_json(check: Check) -> dict[str, Any]:
    return {"part": check.part, "name": check.name, "expected": check.expected, "actual": check.actual,
            "points": check.points, "note": check.note}


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    """One near miss as data: the example, its score and every difference."""
    example = candidate.example
    return {"name": example.name, "id": example.id, "method": example.request.method, "path": example.request.path,
            "query": dict(example.request.query), "status": example.response.status, "score": candidate.score,
            "lost": candidate.lost, "differences": [_check_json(c) for c in candidate.differences]}


def diagnosis(result: MatchResult, limit: int = 3) -> dict[str, Any]:
    """The machine-readable explanation of a miss."""
    request = result.request
    return {"request": {"method": request.method, "path": request.path, "query": [list(p) for p in request.query]},
            "reason": result.error, "closest": [candidate_json(c) for c in result.near_misses(limit)],
            "text": near_miss_text(result, limit)}


def not_found_body(result: MatchResult, limit: int = 3) -> dict[str, Any]:
    """Postman's 404 body, with our ``diagnosis`` beside its ``error``."""
    return {"error": dict(POSTMAN_NOT_FOUND), "diagnosis": diagnosis(result, limit)}


def diff_rows(candidate: Candidate, result: MatchResult) -> list[tuple[str, str, str]]:
    """(request side, example side, mark) lines for one candidate."""
    request, example = result.request, candidate.example
    by_part: dict[tuple[str, str], Check] = {(c.part, c.name): c for c in candidate.checks}
    rows = []
    method_check = by_part.get(("method", ""))
    rows.append((request.method, example.request.method,
                 f"{_MARK} method does not match" if method_check and not method_check.ok else ""))
    path_check = next((c for c in candidate.checks if c.part == "path"), None)
    mark = ""
    if path_check is not None and not path_check.ok:
        mark = f"{_MARK} path does not match"
    elif path_check is not None and path_check.points < 0:
        mark = f"(path: {path_check.note}, {path_check.points})"
    rows.append((request.path, example.request.path, mark))
    for check in candidate.checks:
        if check.part in ("query", "header", "body", "selector"):
            label = f"{check.part} {check.name}".strip()
            if not check.ok:
                mark = f"{_MARK} {check.note}"
            elif check.points < 0:
                mark = f"({check.note}, {check.points})"
            else:
                continue
            expected, actual = check.expected, check.actual
            if check.part == "body":
                expected, actual = _short(expected), _short(actual)
            rows.append((f"{label}: {actual}", f"{label}: {expected}", mark))
    return rows


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def near_miss_text(result: MatchResult, limit: int = 3) -> str:
    """A side-by-side text diff of the request and its closest examples."""
    request = result.request
    lines = [f"No example matched {request.method} {request.url}" + (f" ({result.error})" if result.error else "")]
    closest = result.near_misses(limit)
    if not closest:
        lines.append("The collection has no examples yet.")
        return "\n".join(lines)
    for rank, candidate in enumerate(closest, 1):
        example = candidate.example
        rows = diff_rows(candidate, result)
        width = max(24, *(len(r[0]) for r in rows))
        right = max(24, *(len(r[1]) for r in rows))
        lines += ["", f'{rank}. "{example.name}" ({example.describe()})' + (f" — {candidate.lost}" if candidate.lost else ""),
                  f"  {'Request':<{width}} | {'Example':<{right}}", f"  {'-' * width}-+-{'-' * right}"]
        lines += [f"  {left:<{width}} | {right_side:<{right}} {mark}".rstrip() for left, right_side, mark in rows]
    return "\n".join(lines)
