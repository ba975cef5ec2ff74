"""core/bodies.py: the kind of a body, comparing bodies whole, object paths, and the field-by-field differences
(the end-to-end cases of JSON and form differences are in tests/unit/matching/test_body_matching.py)."""

from __future__ import annotations

import pytest

from postmock_nb.core import limits
from postmock_nb.core.bodies import (
    ANY_VALUE,
    BodyDifference,
    bodies_equal,
    body_differences,
    body_kind,
    is_json,
    json_path,
    looks_like_json,
    split_object_path,
)


@pytest.mark.parametrize("content_type, body, kind", [
    ("application/json", "", "json"),
    ("application/vnd.api+json; charset=utf-8", "x", "json"),
    ("APPLICATION/JSON", "", "json"),
    ("application/x-www-form-urlencoded", "a=1", "form"),
    ("text/xml", "", "xml"),
    ("application/soap+xml", "", "xml"),
    ("text/plain", '{"a": 1}', "text"),  # a Content-Type wins over a peek at the body
    ("", '  {"a": 1}', "json"),
    ("", "[1, 2]", "json"),
    ("", "\n<root/>", "xml"),
    ("", "a=1&b=2", "text"),  # a form is never guessed from the body
    ("", "", "text"),
])
def test_body_kind(content_type: str, body: str, kind: str) -> None:
    assert body_kind(content_type, body) == kind


def test_looks_like_json_peeks_while_is_json_parses() -> None:
    assert looks_like_json(' \n{"a"') and looks_like_json("[") and not looks_like_json('"text"')
    assert not is_json('{"a"') and is_json('"text"') and is_json("12") and not is_json("")
    deep = "[" * (limits.MAX_JSON_DEPTH + 1) + "]" * (limits.MAX_JSON_DEPTH + 1)
    assert looks_like_json(deep) and not is_json(deep)


@pytest.mark.parametrize("expected, actual, content_type", [
    ('{"a": 1, "b": [1, 2]}', '{"b":[1,2],"a":1}', "application/json"),
    ('{"a": 1}', '{"a":1}', ""),  # JSON taken from the example's body
    ("", "   ", "application/json"),  # both empty
    ("b=2&a=1", "a=1&b=2", "application/x-www-form-urlencoded"),
    ("a=&b=1", "b=1&a=", "application/x-www-form-urlencoded"),  # blank values are kept
    ("<a>\n  <b>1</b>\n</a>", "<a><b>1</b></a>", "application/xml"),
    ('<a x="1" y="2"/>', '<a y="2" x="1"></a>', "text/xml"),
    ("  hello \n", "hello", "text/plain"),
    ("{not json", "  {not json ", "application/json"),  # not JSON: compared as stripped text
    ("<a", "<a", "application/xml"),  # not XML: compared as stripped text
])
def test_bodies_equal(expected: str, actual: str, content_type: str) -> None:
    assert bodies_equal(expected, actual, content_type)


@pytest.mark.parametrize("expected, actual, content_type", [
    ('{"a": 1}', '{"a": 1.5}', "application/json"),
    ('{"a": [1, 2]}', '{"a": [2, 1]}', "application/json"),  # arrays keep their order
    ("a=1&a=2", "a=1", "application/x-www-form-urlencoded"),
    ("<a><b>1</b></a>", "<a><b>2</b></a>", "application/xml"),
    ("Hello", "hello", "text/plain"),
    ('{"a": 1}', "", "application/json"),
])
def test_bodies_differ(expected: str, actual: str, content_type: str) -> None:
    assert not bodies_equal(expected, actual, content_type)


def test_a_large_body_compares_as_a_small_one() -> None:
    big = '{"items": [' + ",".join(str(n) for n in range(20_000)) + "]}"
    spaced = big.replace(",", ", ")
    assert len(big) > 16 * 1024
    assert bodies_equal(big, spaced, "application/json")
    assert not bodies_equal(big, spaced.replace("19999", "0"), "application/json")


@pytest.mark.parametrize("path, parts", [
    ("", []),
    ("a", ["a"]),
    ("a.b.0", ["a", "b", "0"]),
    ("a.b\\.c.0", ["a", "b.c", "0"]),
    ("\\.hidden", [".hidden"]),
    ("a..b", ["a", "", "b"]),
])
def test_split_object_path(path: str, parts: list[str]) -> None:
    assert split_object_path(path) == parts


def test_json_path_walks_objects_and_arrays() -> None:
    body = '{"user": {"name": "Ada", "tags": ["x", {"id": 7}]}, "a.b": 1, "a": {"b": 2}, "c.d": {"e": 3}}'
    assert json_path(body, "user.name") == "Ada"
    assert json_path(body, "user.tags.1.id") == 7
    assert json_path(body, "user") == {"name": "Ada", "tags": ["x", {"id": 7}]}
    assert json_path(body, "a.b") == 1  # a key holding the dots wins over the path
    assert json_path(body, "c\\.d.e") == 3  # an escaped dot is part of the key
    assert json_path('[10, 20]', "1") == 20


@pytest.mark.parametrize("body, path", [
    ('{"a": {"b": 1}}', "a.c"),
    ('{"a": [1, 2]}', "a.2"),  # past the end
    ('{"a": [1, 2]}', "a.-1"),  # no negative index
    ('{"a": "text"}', "a.0"),  # a string is not walked into
    ("not json", "a"),
    ("", "a"),
])
def test_json_path_misses_give_the_default(body: str, path: str) -> None:
    assert json_path(body, path) == ""
    assert json_path(body, path, None) is None


def test_xml_and_text_differences_are_one_whole_difference() -> None:
    assert body_differences("<a> <b>1</b> </a>", "<a><b>1</b></a>", "application/xml") == []
    assert body_differences("<a><b>1</b></a>", "<a><b>2</b></a>", "application/xml") == [
        BodyDifference("", "<a><b>1</b></a>", "<a><b>2</b></a>", "different body")]
    assert body_differences("pong", "ping", "text/plain") == [BodyDifference("", "pong", "ping", "different body")]


def test_json_that_does_not_parse_on_one_side_compares_whole() -> None:
    assert body_differences('{"a": 1}', "{oops", "application/json") == [
        BodyDifference("", '{"a": 1}', "{oops", "different body")]
    assert body_differences('{"a": 1}', "", "application/json") == [
        BodyDifference("", '{"a": 1}', "", "different body")]
    assert body_differences("{oops", " {oops ", "application/json") == []


def test_json_difference_paths() -> None:
    differences = body_differences('{"1st": 1, "café": 1, "grid": [[0, 1]], "o\\"k": 1}',
                                   '{"1st": 2, "café": 2, "grid": [[0, 2]], "o\\"k": 2}', "application/json")
    assert [d.path for d in differences] == ['$["1st"]', "$.café", "$.grid[0][1]", '$["o\\"k"]']
    assert [d.path for d in body_differences("[1]", "[2]", "application/json")] == ["$[0]"]


def test_scalar_json_bodies_compare_whole() -> None:
    assert body_differences("1", "2", "application/json") == [
        BodyDifference("$", "1", "2", "expected 1, got 2")]
    assert body_differences('"a"', '"b"', "application/json") == [
        BodyDifference("", '"a"', '"b"', "different body")]
    assert body_differences("true", " true ", "application/json") == []


def test_repeated_form_fields_compare_as_a_set_of_values() -> None:
    form = "application/x-www-form-urlencoded"
    assert body_differences("a=1&a=2", "a=2&a=1", form) == []
    assert [(d.path, d.expected, d.actual) for d in body_differences("a=1&a=2", "a=1", form)] == [("a", "1,2", "1")]
    # one {{$any}} per value: two placeholders want two values
    assert [(d.expected, d.actual) for d in body_differences("a={{$any}}&a={{$any}}", "a=x", form)] == [
        ("{{$any}},{{$any}}", "x")]
    assert body_differences("a={{$any}}", "a=", form) == []  # any value, the empty one too
    assert [d.note for d in body_differences("a=", "", form)] == ["missing from the request"]


def test_any_value_placeholders() -> None:
    assert body_differences('{"a": "{{$anyNumber}}", "b": "{{$anyString}}", "c": "{{$any}}"}',
                            '{"a": 2.5, "b": "", "c": null}', "application/json") == []
    assert [d.note for d in body_differences('{"a": "{{$anyString}}"}', '{"a": 1}', "application/json")] == [
        "expected any string, got 1"]
    assert set(ANY_VALUE) == {"{{$any}}", "{{$anyString}}", "{{$anyNumber}}"}


def test_a_type_change_is_one_difference_at_that_path() -> None:
    differences = body_differences('{"a": {"b": 1}}', '{"a": [1]}', "application/json")
    assert [(d.path, d.expected, d.actual) for d in differences] == [("$.a", '{"b": 1}', "[1]")]


def test_the_limit_keeps_the_first_and_counts_the_rest() -> None:
    differences = body_differences('{"a": 1, "b": 2, "c": 3}', '{"a": 0, "b": 0, "c": 0}', "application/json",
                                   limit=2)
    assert [(d.path, d.more) for d in differences] == [("$.a", 0), ("$.b", 1)]


def test_json_path_a_unicode_digit_is_a_miss_not_an_error() -> None:
    assert json_path('{"a": [1, 2]}', "a.²", "none") == "none"


def test_a_json_string_body_is_not_the_same_bare_text() -> None:
    assert not bodies_equal('"hello"', "hello", "application/json")


def test_an_empty_body_is_not_a_json_null() -> None:
    assert not bodies_equal("null", "", "application/json")
