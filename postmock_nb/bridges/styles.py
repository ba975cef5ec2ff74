"""OpenAPI parameter serialization read back: a parameter's text as the array or object its ``style`` and
``explode`` say it is, before ``--validate-requests`` checks it against its schema.

The rules are the OpenAPI Specification's "Style Values" and "Style Examples" tables (3.0.3 §4.7.12.4, 3.1 §4.8.12.4):
for a parameter ``color`` holding ``"blue"``, ``["blue", "black", "brown"]`` or ``{"R": 100, "G": 200, "B": 150}``:

========================  =================================  ====================================
style, explode            array                              object
========================  =================================  ====================================
simple (path, header)     ``blue,black,brown``               ``R,100,G,200,B,150`` / ``R=100,G=200,B=150``
label (path)              ``.blue.black.brown``              ``.R.100.G.200.B.150`` / ``.R=100.G=200.B=150``
matrix (path)             ``;color=blue,black,brown`` /      ``;color=R,100,G,200,B,150`` /
                          ``;color=blue;color=black;…``      ``;R=100;G=200;B=150``
form (query), explode     ``color=blue&color=black&…``       ``R=100&G=200&B=150``
form, no explode          ``color=blue,black,brown``         ``color=R,100,G,200,B,150``
spaceDelimited            ``color=blue%20black%20brown``     ``color=R%20100%20G%20200%20B%20150``
pipeDelimited             ``color=blue|black|brown``         ``color=R|100|G|200|B|150``
deepObject (query)        —                                  ``color[R]=100&color[G]=200&color[B]=150``
========================  =================================  ====================================

Defaults: ``form`` for query and cookie parameters, ``simple`` for path and header ones; ``explode`` is true for
``form`` and false otherwise. What comes out is text (``"100"``): the caller makes each value its schema's type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Read = str | list[str] | dict[str, str]
"""A parameter read back: its text, the texts of an array, or an object's property texts."""

DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}
DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|"}


def style_of(parameter: dict[str, Any]) -> tuple[str, bool]:
    """The parameter's ``style`` and ``explode`` (the defaults filled in)."""
    place = str(parameter.get("in"))
    style = str(parameter.get("style") or DEFAULT_STYLE.get(place, "simple"))
    explode = parameter.get("explode")
    return style, bool(explode) if isinstance(explode, bool) else style == "form"


def read_parameter(parameter: dict[str, Any], shape: str, *, raw: Sequence[str], query: Sequence[tuple[str, str]],
                   properties: Sequence[str] = ()) -> Read | None:
    """The value of ``parameter`` (``shape``: ``"array"``, ``"object"`` or anything else for a primitive) from
    ``raw`` (the values sent under its name: path segment, header, query values) and the whole ``query`` (an
    exploded form object sends its properties by their own names, a deepObject as ``name[key]``); None when the
    request does not carry it. ``properties``: the object schema's property names."""
    style, explode = style_of(parameter)
    name = str(parameter.get("name"))
    if shape == "object" and str(parameter.get("in")) == "query" and (style == "deepObject" or (
            style == "form" and explode)):
        return _query_object(name, style, query, properties)
    if not raw:
        return None
    text = raw[0]
    if style == "matrix":
        return _matrix(name, text, shape, explode)
    if style == "label":
        text = text[1:] if text.startswith(".") else text
        if shape not in ("array", "object"):
            return text
        parts = text.split("." if explode else "," if "," in text else ".") if text else []
        return _shaped(parts, shape, explode)
    if style == "form" and shape == "array" and len(raw) > 1:  # form, exploded: color=blue&color=black
        return list(raw)
    delimiter = DELIMITERS.get(style, ",")
    if shape in ("array", "object"):
        return _shaped(text.split(delimiter) if text else [], shape, explode and style != "form")
    return text


def _shaped(parts: list[str], shape: str, explode: bool) -> Read:
    """``parts`` as an array, or an object from ``k=v`` parts (exploded) or alternating keys and values."""
    if shape == "array":
        return parts
    if shape != "object":
        return ",".join(parts)
    if explode:
        return dict(part.partition("=")[::2] for part in parts)
    return {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2)}


def _matrix(name: str, text: str, shape: str, explode: bool) -> Read:
    """``;color=blue`` / ``;color=blue,black`` / ``;color=blue;color=black`` / ``;R=100;G=200``."""
    pieces = [p for p in text.split(";") if p]
    if shape == "object" and explode:
        return dict(piece.partition("=")[::2] for piece in pieces)
    values = [piece.partition("=")[2] for piece in pieces if piece.partition("=")[0] == name]
    if shape == "array" and explode:
        return values
    joined = values[0] if values else ""
    return _shaped(joined.split(",") if joined else [], shape, False) if shape in ("array", "object") else joined


def _query_object(name: str, style: str, query: Sequence[tuple[str, str]], properties: Sequence[str]) -> Read | None:
    """An object sent as ``name[key]=value`` pairs (deepObject), or as its properties' own pairs (form, exploded:
    only the schema's properties can be told apart from the other parameters)."""
    if style == "deepObject":
        prefix = name + "["
        found = {key[len(prefix):-1]: value for key, value in query if key.startswith(prefix) and key.endswith("]")}
    else:
        wanted = set(properties)
        found = {key: value for key, value in query if key in wanted}
    return found or None
