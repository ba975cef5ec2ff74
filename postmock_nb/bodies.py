"""Comparing request bodies: JSON as JSON, forms as forms, XML as canonical XML, text as text."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl
from xml.etree.ElementTree import ParseError, canonicalize

from . import limits

_MISSING = object()
_PATH_DOT = re.compile(r"(?<!\\)\.")


def body_kind(content_type: str, body: str) -> str:
    """``json``, ``form``, ``xml`` or ``text`` from a Content-Type (and a peek at the body)."""
    media = content_type.split(";", 1)[0].strip().lower()
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
    """Whether ``text`` parses as JSON (nested deeper than :data:`~postmock_nb.limits.MAX_JSON_DEPTH`: no)."""
    try:
        limits.loads(text)
    except ValueError:
        return False
    return True


def _normalise(kind: str, body: str) -> object:
    if kind == "json":
        try:
            return limits.loads(body) if body.strip() else None  # too deep: compared as text
        except ValueError:
            return body.strip()
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
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return "" if default is _MISSING else default
    return value
