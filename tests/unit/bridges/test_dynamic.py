"""Fresh bodies made from a response's schema (``--dynamic``, ``Prefer: dynamic=true``): every value valid against
its schema (formats checked), repeatable from a seed, different from one draw to the next."""

from __future__ import annotations

from typing import Any

import pytest
from support.openapi_documents import ALL, DATA

from postmock_nb.bridges.dynamic import FreshBodies, Unavailable
from postmock_nb.bridges.validation import OpenApi30Validator, OpenApi31Validator
from postmock_nb.core.markers import OpenApiSource, read_markers
from postmock_nb.formats.openapi import SPEC_URI, Spec, load_spec
from postmock_nb.formats.sources import load_any

LOCAL = "local-prism-conventions.yaml"


def _sources(name: str) -> tuple[Spec, list[OpenApiSource]]:
    """The document and where each of its response examples with a schema comes from."""
    loaded = load_any(DATA / name)
    assert loaded.spec is not None
    found = []
    for example in loaded.collection.examples:
        source = read_markers(example.request.headers).openapi
        if source is not None and isinstance(loaded.spec.data, dict):
            try:
                loaded.spec.lookup(source.schema)
            except Exception:  # noqa: BLE001 - a response without a schema: nothing to make
                continue
            found.append(source)
    return loaded.spec, found


def _violations(spec: Spec, source: OpenApiSource, value: Any) -> list[str]:
    kind = OpenApi31Validator if spec.is_31 else OpenApi30Validator
    # each draft's own formats (3.0 reads as draft 4: no `time`; 3.1 as 2020-12: RFC 3339's `12:00:00Z`)
    validator = kind({"$ref": SPEC_URI + source.schema}, registry=spec.registry, format_checker=kind.FORMAT_CHECKER)
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(value)]


@pytest.mark.parametrize("name", [*ALL, LOCAL])
def test_every_fresh_value_is_valid_against_its_schema(name: str) -> None:
    spec, sources = _sources(name)
    fresh = FreshBodies(spec, seed=1)
    for source in sources:
        for _ in range(10):
            value = fresh.value(source)
            assert _violations(spec, source, value) == [], (source.schema, value)


def test_the_local_document_has_schemas_to_fill() -> None:
    assert len(_sources(LOCAL)[1]) == 3


def test_the_same_seed_gives_the_same_sequence_and_draws_differ() -> None:
    spec, sources = _sources(LOCAL)
    first = [FreshBodies(spec, seed=3).value(sources[0]) for _ in range(1)]
    one, two = FreshBodies(spec, seed=3), FreshBodies(spec, seed=3)
    sequence = [one.value(sources[0]) for _ in range(4)]
    assert sequence == [two.value(sources[0]) for _ in range(4)]
    assert sequence[0] == first[0]
    assert len({repr(value) for value in sequence}) == 4


def test_a_request_seed_gives_its_own_value_whatever_came_before() -> None:
    spec, sources = _sources(LOCAL)
    fresh = FreshBodies(spec, seed=None)
    seeded = fresh.value(sources[0], "7")
    fresh.value(sources[0])
    assert fresh.value(sources[0], "7") == seeded
    assert FreshBodies(spec, seed=99).value(sources[0], "7") == seeded


def test_formats_and_names_ask_faker_for_realistic_values() -> None:
    spec, sources = _sources(LOCAL)
    pet = FreshBodies(spec, seed=5).value(sources[0])
    assert "@" in pet["email"] and len(pet["uid"]) == 36 and pet["born"][4] == "-"
    assert " " in pet["name"]  # a person's name, not a word
    assert "secret" not in pet  # writeOnly: never in a response


@pytest.mark.parametrize("schema", [
    {"type": "integer", "minimum": 10, "maximum": 12},
    {"type": "integer", "minimum": 10, "exclusiveMinimum": True, "maximum": 12, "exclusiveMaximum": True},
    {"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 30},
    {"type": "number", "minimum": 0.5, "maximum": 0.75},
    {"type": "number", "maximum": -3},
    {"type": "string", "minLength": 30, "maxLength": 31},
    {"type": "string", "maxLength": 2},
    {"type": "array", "items": {"type": "boolean"}, "minItems": 2, "maxItems": 2, "uniqueItems": True},
    {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 3}, "minItems": 3, "uniqueItems": True},
    {"oneOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
               {"type": "object", "properties": {"b": {"const": "x"}}, "required": ["b"]}]},
    {"type": "object", "additionalProperties": {"type": "string", "format": "date"}, "minProperties": 1},
    {"type": "string", "format": "byte"},
    {"type": "string", "enum": ["a", "b"]},
])
def test_each_keyword_is_kept(schema: dict[str, Any]) -> None:
    data = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"responses": {"R": {"description": "r", "content": {"application/json": {
                "schema": schema}}}}}}
    spec = load_spec(data)
    source = OpenApiSource("#/components/responses/R/content/application~1json")
    fresh = FreshBodies(spec, seed=11)
    for _ in range(25):
        value = fresh.value(source)
        assert _violations(spec, source, value) == [], value


def test_a_schema_that_refers_to_itself_ends() -> None:
    data = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {"Node": {"type": "object", "properties": {
                "name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}},
                "responses": {"R": {"description": "r", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Node"}}}}}}}
    spec = load_spec(data)
    source = OpenApiSource("#/components/responses/R/content/application~1json")
    assert _violations(spec, source, FreshBodies(spec, seed=2).value(source)) == []


def test_no_schema_is_unavailable_with_the_reason() -> None:
    spec, _ = _sources(LOCAL)
    with pytest.raises(Unavailable, match="no schema at #/nowhere/schema"):
        FreshBodies(spec).value(OpenApiSource("#/nowhere"))


def test_a_string_body_is_sent_as_text_for_another_media_type() -> None:
    data = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"responses": {"R": {"description": "r", "content": {"text/plain": {
                "schema": {"type": "string", "enum": ["hello"]}}}}}}}
    source = OpenApiSource("#/components/responses/R/content/text~1plain")
    assert FreshBodies(load_spec(data)).body(source, "text/plain") == b"hello"
    assert FreshBodies(load_spec(data)).body(source, "application/json") == b'"hello"'


@pytest.mark.parametrize("schema, expected", [
    ({"type": "string", "pattern": "([unclosed"}, "string"),  # not a regex: PatternNotFollowed escaped (a 500)
    ({"type": "string", "pattern": "^[a-z]{100000000}$"}, "string"),  # too big to follow: the same
    ({"type": "number", "multipleOf": 1e-300, "minimum": 1e300, "maximum": 1e308}, 1e300),  # OverflowError (a 500)
])
def test_a_schema_the_draw_cannot_follow_gives_the_static_value(schema: dict[str, Any], expected: Any) -> None:
    """What the load warned about (a pattern not followed) or the draw cannot count (multiples past a float) is
    answered with the static value, as without --dynamic (each answered 500 under --dynamic)."""
    data = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"responses": {"R": {"description": "r", "content": {"application/json": {
                "schema": schema}}}}}}
    source = OpenApiSource("#/components/responses/R/content/application~1json")
    assert FreshBodies(load_spec(data), seed=3).value(source) == expected
