"""Path rules of Postman's matching algorithm, as small pure functions.

A request path is compared with an example's path by a ladder of rules, each weaker
than the one before and costing more points (:class:`PathRule`, in the order they are tried).
:meth:`RequestPath.fits` is the one definition of "this rule fits": the candidate search
(which finds the examples of the lookup rules through the snapshot's index, built from the
same :func:`lookup_keys`) and the explanation of a miss (:meth:`RequestPath.first_fit`,
example by example) both climb this ladder.

Paths are compared segment by segment, each segment decoded once: an HTTP server hands an app its
path already percent-decoded (``/files/a%2Fb`` → ``/files/a/b``, two segments), so the path matching
reads is made from the path as sent (:func:`path_as_matched`): each segment decoded, and a ``/`` (or
``%``, ``?``, ``#``) inside a segment written encoded again. A path variable captures the decoded value
(``a/b``); a literal segment compares decoded (``/caf%C3%A9`` is the example ``/café``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote

from rapidfuzz.distance import Levenshtein

_VARIABLE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_HEX_ID = re.compile(r"^(?=.*\d)[0-9a-f]{16,}$", re.IGNORECASE)
ID_PLACEHOLDER = "\x00id"
_IN_SEGMENT = str.maketrans({"%": "%25", "/": "%2F", "?": "%3F", "#": "%23"})
"""What a decoded segment writes encoded in a path's text: ``%`` (so that decoding is exact) and what would
split it (``/``) or end the path (``?``, ``#``)."""
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
    WILDCARD_AND_CASE = (26, "path variables, case ignored")
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


def fill_saved_variables(path: str, saved: Iterable[tuple[str, str]]) -> str:
    """``/products/:productId`` with ``productId`` saved as ``sku-1`` → ``/products/sku-1``.

    Postman uses a path variable's saved value (the url's ``variable`` list) when matching; a
    variable without a value, or with a type placeholder such as ``<long>`` (what Postman's
    OpenAPI import saves), still matches any one segment.
    """
    values = {k: v for k, v in saved if v and not (v.startswith("<") and v.endswith(">"))}
    if not values or ":" not in path:
        return path
    return "/".join(values.get(s[1:], s) if s.startswith(":") else s for s in path.split("/"))


def without_trailing_slash(path: str) -> str:
    return path.rstrip("/") or "/"


def is_id_segment(segment: str) -> bool:
    """Numbers, UUIDs, long hex ids (Mongo ObjectIds...) and very long segments."""
    return bool(segment) and (segment.isdigit() or len(segment) >= 256
                              or _UUID.match(segment) is not None or _HEX_ID.match(segment) is not None)


def strip_ids(path: str) -> str:
    """The path with every ID-looking segment replaced by one placeholder."""
    return "/".join(ID_PLACEHOLDER if is_id_segment(s) else s for s in path.split("/"))


def encode_segment(segment: str) -> str:
    """A decoded segment as a path's text writes it: ``a/b`` → ``a%2Fb``; most segments are unchanged."""
    return segment.translate(_IN_SEGMENT)


def decode_segment(segment: str) -> str:
    """A segment of a path's text, decoded (once): ``a%2Fb`` → ``a/b``, ``a%252Fb`` → ``a%2Fb``."""
    return unquote(segment) if "%" in segment else segment


def path_as_matched(sent: str) -> str:
    """The path as sent (percent-encoded) → the path matching reads: each segment decoded once, with
    :func:`encode_segment` (``/files/a%2Fb`` stays, ``/caf%C3%A9`` → ``/café``, ``/x%252Fy`` stays).

    Without a ``%`` the path is returned as it is: it reads the same decoded.
    """
    if "%" not in sent:
        return sent
    return "/".join(encode_segment(unquote(s)) if "%" in s else s for s in sent.split("/"))


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
    def parse(cls, path: str, variables: Mapping[str, str]) -> PathPattern:
        resolved = resolve_variables(path, variables)
        if not resolved.startswith("/"):
            resolved = "/" + resolved
        segments = tuple(unquote(s) if wildcard_name(s) is None else s for s in split_segments(resolved))
        # the text is the segments as a request path's text writes them (path_as_matched): the keys compare
        text = "/" + "/".join(map(encode_segment, segments)) + ("/" if resolved.endswith("/") and segments else "")
        return cls(text, segments, tuple(wildcard_name(s) for s in segments))

    @property
    def has_wildcards(self) -> bool:
        return any(w is not None for w in self.wildcards)

    def lookup_keys(self) -> dict[PathRule, str]:
        """The key this pattern is filed under for each rule found by lookup."""
        return lookup_keys(self.text)

    def capture(self, request_segments: tuple[str, ...], *, fold: bool = False) -> dict[str, str] | None:
        """Wildcard values when the request fits this pattern segment by segment, else None.

        ``fold``: literal segments compare ignoring case (the values captured keep theirs).
        """
        if len(request_segments) != len(self.segments):
            return None
        captured: dict[str, str] = {}
        for wanted, name, got in zip(self.segments, self.wildcards, request_segments, strict=False):
            if name is not None:
                captured[name] = got
            elif wanted != got and not (fold and wanted.lower() == got.lower()):
                return None
        return captured

    def near_capture(self, request_segments: tuple[str, ...]) -> dict[str, str] | None:
        """Wildcard values when every other segment is equal or within the edit-distance threshold, else None.

        A variable segment captures the request's segment in its place, as under the strict rules, so an
        example picked by distance fills its ``{{variable}}`` placeholders with the request's values.
        """
        if len(request_segments) != len(self.segments) or not self.segments:
            return None
        captured: dict[str, str] = {}
        for wanted, name, got in zip(self.segments, self.wildcards, request_segments, strict=False):
            if name is not None:
                captured[name] = got
                continue
            if wanted.lower() == got.lower():
                continue
            if not got or (len(got) - Levenshtein.distance(got, wanted)) / len(got) < DISTANCE_SIMILARITY:
                return None
        return captured


LOOKUP_RULES = tuple(rule for rule in PathRule
                     if rule not in (PathRule.WILDCARD, PathRule.WILDCARD_AND_CASE, PathRule.DISTANCE))
"""The rules decided by comparing one normalised key (a dictionary lookup in the snapshot's index)."""


class RequestPath:
    """A request's path, with the forms the ladder compares worked out on first need.

    Most requests are settled by the exact path, whose key is the path itself: the other keys
    and the segments cost nothing until a weaker rule asks for them. ``text`` is the path as matched
    (:func:`path_as_matched`): its segments are decoded here, once.
    """

    __slots__ = ("_keys", "_segments", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._keys: dict[PathRule, str] | None = None
        self._segments: tuple[str, ...] | None = None

    def key(self, rule: PathRule) -> str:
        """This path's key for a lookup rule (see :func:`lookup_keys`)."""
        if rule is PathRule.EXACT:
            return self.text
        if self._keys is None:
            self._keys = lookup_keys(self.text)
        return self._keys[rule]

    @property
    def segments(self) -> tuple[str, ...]:
        if self._segments is None:
            segments = split_segments(without_trailing_slash(self.text))
            self._segments = tuple(map(decode_segment, segments)) if "%" in self.text else segments
        return self._segments

    def fits(self, pattern: PathPattern, rule: PathRule,
             pattern_keys: Mapping[PathRule, str] | None = None) -> dict[str, str] | None:
        """The wildcard values captured when ``rule`` fits ``pattern`` ({} when it captures none), else None.

        ``pattern_keys``: ``pattern.lookup_keys()``, when the caller has them already.
        """
        if rule is PathRule.WILDCARD or rule is PathRule.WILDCARD_AND_CASE:
            fold = rule is PathRule.WILDCARD_AND_CASE
            return pattern.capture(self.segments, fold=fold) if pattern.has_wildcards else None
        if rule is PathRule.DISTANCE:
            return pattern.near_capture(self.segments)
        keys = pattern_keys if pattern_keys is not None else pattern.lookup_keys()
        return {} if keys[rule] == self.key(rule) else None

    def first_fit(self, pattern: PathPattern) -> tuple[PathRule | None, dict[str, str]]:
        """The strictest rule that fits ``pattern``, climbing the whole ladder (None: no rule fits)."""
        keys = pattern.lookup_keys()
        for rule in PathRule:
            captured = self.fits(pattern, rule, keys)
            if captured is not None:
                return rule, captured
        return None, {}


def id_blind(path: str) -> str:
    """The path lower-cased, with ID segments and ``:variables`` as ``0``: what "looks alike" compares."""
    return "/".join("0" if is_id_segment(s) or s.startswith(":") else s for s in path.lower().split("/"))


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
