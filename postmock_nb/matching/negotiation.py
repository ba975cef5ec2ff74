"""Content negotiation, as ``prism mock`` does it, for the examples an OpenAPI document gave.

A response may offer several media types (``application/json`` and ``application/xml``); the OpenAPI import
makes one example of each (JSON first), all in the operation's item with the same status. After the match,
:func:`negotiate` looks at the request's ``Accept``: when the winner's ``Content-Type`` is acceptable it stays
(most requests: no ``Accept``, ``*/*``, or a browser's list ending in ``*/*``); else the first media variant
``Accept`` prefers answers instead (the same named example's, when it has one); when none is acceptable,
:class:`NotAcceptable` says which types there are (the app answers 406). Postman collections are never
negotiated (Postman's mock does not): only examples with an ``x-mock-openapi`` marker are.

Pure, like the rest of the engine: a result and a header in, a result out.
"""

from __future__ import annotations

from dataclasses import replace

from postmock_nb.core.model import Example
from postmock_nb.core.wire import media_type
from postmock_nb.matching.types import MatchResult

MAX_RANGES = 32
"""Media ranges of one ``Accept`` read (a longer list: the rest ignored)."""


class NotAcceptable(Exception):
    """No media type of the winner's response is acceptable: ``offered`` lists those there are."""

    def __init__(self, accept: str, offered: list[str]) -> None:
        super().__init__(f"none of the media types of this response ({', '.join(offered)}) is acceptable to "
                         f"Accept: {accept[:200]}")
        self.offered = offered


def media_ranges(accept: str) -> list[tuple[str, float]]:
    """``"application/xml;q=0.9, */*;q=0.1"`` → ``[("application/xml", 0.9), ("*/*", 0.1)]`` (lower case, q
    defaulting to 1; an unreadable q counts as 1, as most servers read it)."""
    ranges = []
    for part in accept.split(",")[:MAX_RANGES]:
        media, _, params = part.partition(";")
        media = media.strip().lower()
        if not media:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    quality = 1.0
        ranges.append((media, quality))
    return ranges


def quality(content_type: str, ranges: list[tuple[str, float]]) -> float:
    """How much ``ranges`` accept ``content_type`` (0: not at all); the most specific range that covers it counts."""
    media = media_type(content_type)
    kind = media.split("/")[0] + "/*"
    best: tuple[int, float] | None = None
    for candidate, q in ranges:
        rank = 3 if candidate == media else 2 if candidate == kind else 1 if candidate == "*/*" else 0
        if rank and (best is None or rank > best[0]):
            best = (rank, q)
    return best[1] if best is not None else 0.0


def content_type_of(example: Example) -> str:
    """The ``Content-Type`` an example answers with ("" when it has none)."""
    return next((value for key, value in example.response.headers if key.lower() == "content-type"), "")


def negotiate(result: MatchResult, accept: str) -> MatchResult:
    """``result`` with the media variant of its winner ``accept`` takes (``result`` itself when the winner's is
    acceptable, or when the winner is not an OpenAPI example). Raises :class:`NotAcceptable`."""
    winner = result.winner
    plan = result.snapshot.openapi_plan
    if winner is None or winner.id not in plan:
        return result
    ranges = media_ranges(accept)
    own = content_type_of(winner)
    if not ranges or not own or quality(own, ranges) > 0:
        return result
    variants = _variants(result, winner)
    scored = [(quality(content_type_of(example), ranges), -index, example) for index, example in enumerate(variants)]
    best = max(scored, key=lambda entry: entry[:2], default=None)
    if best is None or best[0] <= 0:
        raise NotAcceptable(accept, list(dict.fromkeys(content_type_of(example) for example in [winner, *variants])))
    chosen = best[2]
    first = result.candidates[0]  # the winner's: its checks and captures hold for a variant of the same request
    lost = replace(first, lost=f"Accept: {accept[:80]} takes {content_type_of(chosen)}, not {own}")
    candidates = [replace(first, example=chosen, order=result.snapshot.by_id[chosen.id].order), lost,
                  *(c for c in result.candidates[1:] if c.example.id != chosen.id)]
    return replace(result, winner=chosen, candidates=candidates)


def _variants(result: MatchResult, winner: Example) -> list[Example]:
    """The winner's media variants: the examples of its item with its status and another content type (those
    with its example's key first)."""
    snapshot = result.snapshot
    compiled = snapshot.by_id.get(winner.id)
    if compiled is None:
        return []
    plan = snapshot.openapi_plan
    key = plan[winner.id].key
    own = content_type_of(winner)
    found = [example for example in compiled.item.examples if example.id != winner.id and example.id in plan
             and example.response.status == winner.response.status and content_type_of(example) != own]
    return sorted(found, key=lambda example: plan[example.id].key != key)  # stable: the same key first
