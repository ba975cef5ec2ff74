"""Comparing request bodies: JSON as JSON, forms as forms, XML as canonical XML, text as text."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from json.encoder import encode_basestring as _quoted
from urllib.parse import parse_qsl
from xml.etree.ElementTree import ParseError, canonicalize

from postmock_nb.core import limits
from postmock_nb.core.wire import media_type

_MISSING = object()
_PATH_DOT = re.compile(r"(?<!\\)\.")


def body_kind(content_type: str, body: str) -> str:
    """``json``, ``form``, ``xml`` or ``text`` from a Content-Type (and a peek at the body)."""
    media = media_type(content_type)
    if media.endswith("json") or media.endswith("+json"):
        return "json"
    if media == "application/x-www-form-urlencoded":
        return "form"
    if media.endswith("xml") or media.endswith("+xml"):
        return "xml"
    if not media and looks_like_json(body):
        return "json"
    if not media and body.lstrip().startswith("<"):
        return "xml"
    return "text"


def looks_like_json(text: str) -> bool:
    """Whether ``text`` starts like a JSON object or array (the one sniff every module uses)."""
    return text.lstrip()[:1] in ("{", "[")


def is_json(text: str) -> bool:
    """Whether ``text`` parses as JSON (nested deeper than :data:`~postmock_nb.core.limits.MAX_JSON_DEPTH`: no)."""
    try:
        limits.loads(text)
    except ValueError:
        return False
    return True


_CACHED_BODY_CHARS = 16 * 1024
"""Bodies up to this size are parsed once and kept (a few hundred): a request body is compared with every
candidate's, and an example's body with every request's."""


def _normalise(kind: str, body: str) -> object:
    """The body as compared: parsed once for small bodies (the result is shared: never change it)."""
    return _parsed(kind, body) if len(body) <= _CACHED_BODY_CHARS else _parse(kind, body)


@lru_cache(maxsize=256)
def _parsed(kind: str, body: str) -> object:
    return _parse(kind, body)


class _Text(str):
    """A body that is not JSON (or is empty), kept as its stripped text: equal only to the same text that
    was not JSON either, never to a parsed JSON string (``hello`` is not ``"hello"``) or ``null``."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Text) and str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__


def _parse(kind: str, body: str) -> object:
    if kind == "json":
        if not body.strip():
            return _Text("")  # empty: not JSON's null
        try:
            return limits.loads(body)
        except ValueError:  # not JSON, or too deep: compared as text
            return _Text(body.strip())
    if kind == "form":
        return sorted(parse_qsl(body, keep_blank_values=True))
    if kind == "xml":
        try:
            return canonicalize(body, strip_text=True) if body.strip() else ""
        except ParseError:
            return body.strip()
    return body.strip()


def bodies_equal(expected: str, actual: str, content_type: str = "") -> bool:
    """Whether a request body ``actual`` matches an example's ``expected`` body.

    The kind (JSON, form, XML, text) is taken from the request's Content-Type, else from
    the example's body. JSON compares as data (key order and spacing do not count), forms
    as sorted pairs, XML in canonical form with insignificant white space stripped.
    """
    kind = body_kind(content_type, expected or actual)
    return _normalise(kind, expected) == _normalise(kind, actual)


def split_object_path(path: str) -> list[str]:
    """``a.b\\.c.0`` → ``["a", "b.c", "0"]``: dots split the path, a backslash escapes one."""
    if not path:
        return []
    return [part.replace("\\.", ".") for part in _PATH_DOT.split(path)]


def json_path(body: str, path: str, default: object = _MISSING) -> object:
    """``a.b.0.c`` looked up in a JSON body (Postman's ``{{$body 'a.b'}}``).

    Object-path syntax, as Postman's: ``a\\.b`` is the key ``a.b``, not ``b`` inside ``a``.
    """
    try:
        value: object = limits.loads(body)
    except ValueError:
        return "" if default is _MISSING else default
    if isinstance(value, dict) and path in value:
        return value[path]  # a key that itself holds dots ({"user.name": ...}) wins over the path
    for part in split_object_path(path):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdecimal() and part.isascii() and int(part) < len(value):
            value = value[int(part)]
        else:
            return "" if default is _MISSING else default
    return value


MAX_BODY_DIFFERENCES = 10
"""How many field differences a body comparison reports (the first ones, in the example's order)."""
ANY_VALUE = {"{{$any}}": "any value", "{{$anyString}}": "any string", "{{$anyNumber}}": "any number"}
"""Placeholders an example's expected JSON (or form value) may hold in place of a value."""


@dataclass(frozen=True)
class BodyDifference:
    """One way a request body differs from an example's: where (``$.items[1].qty``), both sides, a note."""

    path: str
    expected: str
    actual: str
    note: str
    more: int = 0
    """On the last difference listed: how many more there are, past the limit (not listed)."""


class _Found:
    """The differences found so far: the first ``limit`` kept, every one counted."""

    def __init__(self, limit: int) -> None:
        self.kept: list[BodyDifference] = []
        self.total = 0
        self.limit = limit

    def add(self, difference: BodyDifference) -> None:
        self.total += 1
        if len(self.kept) < self.limit:
            self.kept.append(difference)

    def listed(self) -> list[BodyDifference]:
        """The differences kept, the last one saying how many more there are."""
        if self.total > len(self.kept) and self.kept:
            self.kept[-1] = replace(self.kept[-1], more=self.total - len(self.kept))
        return self.kept


def body_differences(expected: str, actual: str, content_type: str = "", *, contains: bool = False,
                     limit: int = MAX_BODY_DIFFERENCES) -> list[BodyDifference]:
    """How request body ``actual`` differs from an example's ``expected`` one: ``[]`` when it matches.

    JSON compares field by field: ``"{{$any}}"`` (``{{$anyString}}``, ``{{$anyNumber}}``) accepts any
    value (of that type); with ``contains`` the request may have fields the example does not, and
    arrays compare by position with extra trailing items allowed. Forms compare field by field the
    same way (a ``{{$any}}`` value accepts any value). XML and text compare whole, as one difference.
    """
    kind = body_kind(content_type, expected or actual)
    if kind == "json":
        wanted, got = _normalise(kind, expected), _normalise(kind, actual)
        if isinstance(wanted, str) or isinstance(got, str) or wanted is None or got is None:
            pass  # not JSON on one side (or empty): compared whole below
        else:
            found = _Found(limit)
            _compare_json(wanted, got, "$", contains, found)
            return found.listed()
    elif kind == "form":
        return _compare_form(expected, actual, contains, limit)
    if _normalise(kind, expected) == _normalise(kind, actual):
        return []
    return [BodyDifference("", expected, actual, "different body")]


def _shown(value: object) -> str:
    """A value as JSON text, without json.dumps's set-up for the common scalars (on the matching path)."""
    if isinstance(value, str):
        return _quoted(value)
    if value is None or isinstance(value, bool):
        return "null" if value is None else "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _accepts_any(wanted: str, got: object) -> bool:
    kind = ANY_VALUE[wanted]
    if kind == "any string":
        return isinstance(got, str)
    if kind == "any number":
        return isinstance(got, (int, float)) and not isinstance(got, bool)
    return True


def _compare_json(wanted: object, got: object, path: str, contains: bool, found: _Found) -> None:
    if isinstance(wanted, str) and wanted in ANY_VALUE:
        if not _accepts_any(wanted, got):
            shown = _shown(got)
            found.add(BodyDifference(path, wanted, shown, f"expected {ANY_VALUE[wanted]}, got {shown}"))
        return
    if (isinstance(wanted, dict) and isinstance(got, dict)) or (isinstance(wanted, list) and isinstance(got, list)):
        # an array compares by position: its items as a mapping of index to item, like an object's fields
        wanted_children = wanted if isinstance(wanted, dict) else dict(enumerate(wanted))
        got_children = got if isinstance(got, dict) else dict(enumerate(got))
        for key, value in wanted_children.items():
            if key not in got_children:
                found.add(BodyDifference(_child(path, key), _shown(value), "(absent)", "missing from the request"))
            else:
                _compare_json(value, got_children[key], _child(path, key), contains, found)
        if not contains:
            for key, value in got_children.items():
                if key not in wanted_children:
                    found.add(BodyDifference(_child(path, key), "(absent)", _shown(value), "not in the example"))
        return
    if wanted != got or isinstance(wanted, bool) != isinstance(got, bool):
        expected, actual = _shown(wanted), _shown(got)
        found.add(BodyDifference(path, expected, actual, f"expected {expected}, got {actual}"))


def _compare_form(expected: str, actual: str, contains: bool, limit: int) -> list[BodyDifference]:
    wanted: dict[str, list[str]] = {}
    got: dict[str, list[str]] = {}
    for key, value in parse_qsl(expected, keep_blank_values=True):
        wanted.setdefault(key, []).append(value)
    for key, value in parse_qsl(actual, keep_blank_values=True):
        got.setdefault(key, []).append(value)
    found = _Found(limit)
    for key, values in wanted.items():
        sent = got.get(key)
        shown = ",".join(values)
        if sent is None:
            found.add(BodyDifference(key, shown, "(absent)", "missing from the request"))
        elif all(v in ANY_VALUE for v in values) and len(sent) >= len(values):
            continue
        elif sorted(values) != sorted(sent):
            found.add(BodyDifference(key, shown, ",".join(sent), f"expected {shown}, got {','.join(sent)}"))
    if not contains:
        for key, sent in got.items():
            if key not in wanted:
                found.add(BodyDifference(key, "(absent)", ",".join(sent), "not in the example"))
    return found.listed()
