"""Parameters read back by their style: one test per row of the OpenAPI Specification's "Style Examples" table
(``color`` = ``"blue"``, ``["blue", "black", "brown"]``, ``{"R": 100, "G": 200, "B": 150}``), then the schema
check of ``--validate-requests`` on the values a client sends that way (they were refused with "is not of type
'object'")."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest

from postmock_nb.bridges.styles import read_parameter, style_of
from postmock_nb.bridges.validation import RequestValidator
from postmock_nb.formats.openapi import load_spec

ARRAY = ["blue", "black", "brown"]
OBJECT = {"R": "100", "G": "200", "B": "150"}
PROPERTIES = ["R", "G", "B"]


def _read(place: str, style: str, explode: bool, shape: str, sent: str) -> Any:
    """``sent``: the path segment, header value or query string the spec's table shows."""
    parameter = {"name": "color", "in": place, "style": style, "explode": explode}
    if place == "query":
        query = parse_qsl(sent, keep_blank_values=True)
        raw = [v for k, v in query if k == "color"]
        return read_parameter(parameter, shape, raw=raw, query=query, properties=PROPERTIES)
    return read_parameter(parameter, shape, raw=[sent], query=[], properties=PROPERTIES)


TABLE = [  # (in, style, explode, string, array, object): the specification's table, row by row
    ("path", "matrix", False, ";color=blue", ";color=blue,black,brown", ";color=R,100,G,200,B,150"),
    ("path", "matrix", True, ";color=blue", ";color=blue;color=black;color=brown", ";R=100;G=200;B=150"),
    ("path", "label", False, ".blue", ".blue,black,brown", ".R,100,G,200,B,150"),  # 3.1's table
    ("path", "label", False, ".blue", ".blue.black.brown", ".R.100.G.200.B.150"),  # 3.0.3's table
    ("path", "label", True, ".blue", ".blue.black.brown", ".R=100.G=200.B=150"),
    ("header", "simple", False, "blue", "blue,black,brown", "R,100,G,200,B,150"),
    ("header", "simple", True, "blue", "blue,black,brown", "R=100,G=200,B=150"),
    ("query", "form", False, "color=blue", "color=blue,black,brown", "color=R,100,G,200,B,150"),
    ("query", "form", True, "color=blue", "color=blue&color=black&color=brown", "R=100&G=200&B=150"),
]


@pytest.mark.parametrize(("place", "style", "explode", "string", "array", "object"), TABLE,
                         ids=[f"{row[1]}-{'explode' if row[2] else 'no-explode'}-{row[4][:6]}" for row in TABLE])
def test_each_row_of_the_specifications_table(place: str, style: str, explode: bool, string: str, array: str,
                                               object: str) -> None:  # noqa: A002 - the table's column
    assert _read(place, style, explode, "primitive", string) == "blue"
    assert _read(place, style, explode, "array", array) == ARRAY
    assert _read(place, style, explode, "object", object) == OBJECT


@pytest.mark.parametrize(("style", "array", "object"), [
    ("spaceDelimited", "color=blue%20black%20brown", "color=R%20100%20G%20200%20B%20150"),
    ("pipeDelimited", "color=blue|black|brown", "color=R|100|G|200|B|150"),
])
def test_space_and_pipe_delimited(style: str, array: str, object: str) -> None:  # noqa: A002
    assert _read("query", style, False, "array", array) == ARRAY
    assert _read("query", style, False, "object", object) == OBJECT


def test_deep_object():
    assert _read("query", "deepObject", True, "object", "color[R]=100&color[G]=200&color[B]=150") == OBJECT
    assert _read("query", "deepObject", True, "object", "other=1") is None  # not sent


def test_the_defaults_by_place():
    assert style_of({"in": "query"}) == ("form", True)
    assert style_of({"in": "header"}) == ("simple", False)
    assert style_of({"in": "path"}) == ("simple", False)
    assert style_of({"in": "query", "style": "form", "explode": False}) == ("form", False)


def _validator(parameters: list[dict[str, Any]]) -> RequestValidator:
    color = {"type": "object", "properties": {"R": {"type": "integer"}, "G": {"type": "integer"},
                                              "B": {"type": "integer"}}}
    for parameter in parameters:
        parameter.setdefault("schema", color)
    return RequestValidator(load_spec({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
        "/pets/{color}": {"get": {"parameters": parameters, "responses": {"200": {"description": "ok"}}}}}}))


def test_validation_reads_objects_by_their_style():
    """Prism accepts these; they were 422 "is not of type 'object'"."""
    validator = _validator([
        {"name": "color", "in": "path", "required": True, "style": "label", "explode": True},
        {"name": "x-color", "in": "header", "required": True},  # simple, not exploded
        {"name": "pick", "in": "query", "style": "deepObject", "explode": True, "required": True},
    ])
    ok = validator.check("GET", "/pets/.R=100.G=200.B=150", [("pick[R]", "1"), ("pick[G]", "2"), ("pick[B]", "3")],
                         {"x-color": "R,100,G,200,B,150"}, b"")
    assert ok == []
    wrong = validator.check("GET", "/pets/.R=red.G=200.B=150", [("pick[R]", "1")], {"x-color": "R,1,G,x"}, b"")
    assert [(v.path, v.message) for v in wrong] == [
        ("$.path.color.R", "'red' is not of type 'integer'"), ("$.header.x-color.G", "'x' is not of type 'integer'")]


def test_a_form_object_is_found_by_its_properties_and_missing_when_none_is_sent():
    validator = _validator([{"name": "color", "in": "path", "required": True, "schema": {"type": "string"}},
                            {"name": "rgb", "in": "query", "required": True}])  # form, exploded: R=1&G=2&B=3
    assert validator.check("GET", "/pets/x", [("R", "1"), ("G", "2"), ("B", "3")], {}, b"") == []
    missing = validator.check("GET", "/pets/x", [("other", "1")], {}, b"")
    assert [(v.path, v.message) for v in missing] == [("$.query.rgb", "required query parameter 'rgb' is missing")]
