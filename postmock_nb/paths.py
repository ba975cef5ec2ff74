"""Path rules of Postman's matching algorithm, as small pure functions.

A request path is compared with an example's path by a ladder of rules, each weaker
than the one before and costing more points (see :data:`PATH_RULES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Mapping
from urllib.parse import unquote

from rapidfuzz.distance import Levenshtein

_VARIABLE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_HEX_ID = re.compile(r"^(?=.*\d)[0-9a-f]{16,}$", re.IGNORECASE)
ID_PLACEHOLDER = "\x00id"
DISTANCE_SIMILARITY = 0.75
"""A segment "nearly matches" when at least 75 % of it survives the edit distance."""


class PathRule(Enum):
    """The rules in the order they are tried, with the points each one costs."""

    EXACT = (0, "exact path")
    TRAILING_SLASH = (5, "trailing slash ignored")
    CASE = (10, "case ignored")
    TRAILING_SLASH_AND_CASE = (15, "trailing slash and case ignored")
    WILDCARD = (20, "path variables / wildcards")
    IDS = (21, "ID segments ignored")
    TRAILING_SLASH_AND_IDS = (25, "trailing slash and ID segments ignored")
    DISTANCE = (30, "nearly the same path (edit distance)")

    @property
    def penalty(self) -> int:
        return self.value[0]

    @property
    def label(self) -> str:
        return self.value[1]


def resolve_variables(text: str, variables: Mapping[str, str]) -> str:
    """Replace ``{{name}}`` with defined variables; undefined ones stay (they are wildcards)."""
    if "{{" not in text:
        return text
    return _VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), text)


def without_trailing_slash(path: str) -> str:
    return path.rstrip("/") or "/"


def is_id_segment(segment: str) -> bool:
    """Numbers, UUIDs, long hex ids (Mongo ObjectIds...) and very long segments."""
    return bool(segment) and (segment.isdigit() or len(segment) >= 256
                              or _UUID.match(segment) is not None or _HEX_ID.match(segment) is not None)


def strip_ids(path: str) -> str:
    """The path with every ID-looking segment replaced by one placeholder."""
    return "/".join(ID_PLACEHOLDER if is_id_segment(s) else s for s in path.split("/"))


def split_segments(path: str) -> tuple[str, ...]:
    """``/a/b/`` → ``("a", "b")``; the root is ``()``."""
    return tuple(s for s in path.split("/") if s != "")


def wildcard_name(segment: str) -> str | None:
    """``:id`` → ``id``; ``{{userId}}`` (a whole undefined variable) → ``userId``; else None."""
    if segment.startswith(":") and len(segment) > 1:
        return segment[1:]
    match = _VARIABLE.fullmatch(segment)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class PathPattern:
    """An example's path, resolved and ready to be looked up."""

    text: str
    segments: tuple[str, ...]
    wildcards: tuple[str | None, ...]

    @classmethod
    def parse(cls, path: str, variables: Mapping[str, str]) -> "PathPattern":
        resolved = resolve_variables(path, variables)
        if not resolved.startswith("/"):
            resolved = "/" + resolved
        segments = tuple(unquote(s) if wildcard_name(s) is None else s for s in split_segments(resolved))
        text = "/" + "/".join(segments) + ("/" if resolved.endswith("/") and segments else "")
        return cls(text, segments, tuple(wildcard_name(s) for s in segments))

    @property
    def has_wildcards(self) -> bool:
        return any(w is not None for w in self.wildcards)

    def lookup_keys(self) -> dict[PathRule, str]:
        """The key this pattern is filed under for each rule found by lookup."""
        return lookup_keys(self.text)

    def capture(self, request_segments: tuple[str, ...]) -> dict[str, str] | None:
        """Wildcard values when the request fits this pattern segment by segment, else None."""
        if len(request_segments) != len(self.segments):
            return None
        captured: dict[str, str] = {}
        for wanted, name, got in zip(self.segments, self.wildcards, request_segments):
            if name is not None:
                captured[name] = got
            elif wanted != got:
                return None
        return captured

    def nearly_matches(self, request_segments: tuple[str, ...]) -> bool:
        """Every segment equal, a wildcard, or within the edit-distance threshold."""
        if len(request_segments) != len(self.segments) or not self.segments:
            return False
        for wanted, name, got in zip(self.segments, self.wildcards, request_segments):
            if name is not None or wanted.lower() == got.lower():
                continue
            if not got or (len(got) - Levenshtein.distance(got, wanted)) / len(got) < DISTANCE_SIMILARITY:
                return False
        return True


def lookup_keys(path: str) -> dict[PathRule, str]:
    """The normalised forms of ``path`` for the rules a dictionary lookup can decide."""
    bare = without_trailing_slash(path)
    lower = path.lower()
    return {
        PathRule.EXACT: path,
        PathRule.TRAILING_SLASH: bare,
        PathRule.CASE: lower,
        PathRule.TRAILING_SLASH_AND_CASE: bare.lower(),
        PathRule.IDS: strip_ids(lower),
        PathRule.TRAILING_SLASH_AND_IDS: strip_ids(bare.lower()),
    }
