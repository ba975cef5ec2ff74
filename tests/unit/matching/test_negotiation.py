"""matching/negotiation.py: the media variant of an OpenAPI example that a request's ``Accept`` takes (Prism's
content negotiation), else NotAcceptable; Postman examples never negotiated."""

from __future__ import annotations

from typing import Any

import pytest
from support.builders import make_collection, make_example

from postmock_nb.formats.openapi import collection_from_openapi
from postmock_nb.matching.negotiation import NotAcceptable, content_type_of, media_ranges, negotiate, quality
from postmock_nb.matching.search import match
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.matching.types import IncomingRequest, MatchResult

PET = {"type": "object", "properties": {"id": {"type": "integer"}}}
DOCUMENT: dict[str, Any] = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/pets/{id}": {"get": {
    "responses": {"200": {"description": "a pet", "content": {
        "application/json": {"examples": {"cat": {"value": {"id": 1}}, "dog": {"value": {"id": 2}}}},
        "application/xml": {"examples": {"cat": {"value": "<pet>1</pet>"}, "dog": {"value": "<pet>2</pet>"}}},
        "text/plain": {"schema": {"type": "string"}}}},
        "404": {"description": "none", "content": {"application/json": {"schema": PET}}}}}}}}


def _result(url: str = "/pets/1", headers: dict[str, str] | None = None) -> MatchResult:
    collection, _ = collection_from_openapi(DOCUMENT)
    return match(Snapshot(collection), IncomingRequest.build("GET", url, headers))


@pytest.mark.parametrize(("accept", "ranges"), [
    ("application/xml;q=0.9, */*;q=0.1", [("application/xml", 0.9), ("*/*", 0.1)]),
    ("TEXT/Plain", [("text/plain", 1.0)]),
    ("a/b;q=x, ,c/d;level=1;q=0", [("a/b", 1.0), ("c/d", 0.0)]),
])
def test_media_ranges_read_q_values(accept: str, ranges: list[tuple[str, float]]) -> None:
    assert media_ranges(accept) == ranges


def test_the_most_specific_range_decides() -> None:
    ranges = media_ranges("text/*;q=0.3, text/html;q=0, */*;q=0.5")
    assert (quality("text/html; charset=utf-8", ranges), quality("text/plain", ranges),
            quality("image/png", ranges)) == (0.0, 0.3, 0.5)


def test_every_media_type_of_a_response_is_an_example_json_first() -> None:
    result = _result()
    item_types = [content_type_of(e) for e in result.snapshot.collection.items[0].examples if e.response.status == 200]
    assert item_types == ["application/json"] * 2 + ["application/xml"] * 2 + ["text/plain"]
    assert content_type_of(result.winner) == "application/json"  # no Accept: the JSON one, as before


@pytest.mark.parametrize("accept", ["*/*", "application/json", "text/html,application/xhtml+xml,*/*;q=0.8",
                                    "application/*"])
def test_an_acceptable_winner_stays(accept: str) -> None:
    result = _result()
    assert negotiate(result, accept) is result


def test_the_variant_accept_takes_answers_with_the_same_key_first() -> None:
    dog = _result(headers={"x-mock-response-name": "a pet - dog"})
    assert dog.winner is not None and dog.winner.response.body == '{\n  "id": 2\n}'
    chosen = negotiate(dog, "application/xml")
    assert chosen.winner is not None and chosen.winner.response.body == "<pet>2</pet>"
    assert chosen.candidates[0].example is chosen.winner and "takes application/xml" in chosen.candidates[1].lost
    plain = negotiate(_result(), "text/plain, application/xml;q=0.5")
    assert plain.winner is not None and content_type_of(plain.winner) == "text/plain"


def test_no_acceptable_variant_is_not_acceptable_naming_those_there_are() -> None:
    with pytest.raises(NotAcceptable) as refused:
        negotiate(_result(), "image/png")
    assert refused.value.offered == ["application/json", "application/xml", "text/plain"]
    with pytest.raises(NotAcceptable):  # the 404 has JSON only
        negotiate(_result(headers={"x-mock-response-code": "404"}), "application/xml")


def test_a_postman_example_is_never_negotiated() -> None:
    example = make_example("GET /pets", headers={"Content-Type": "application/json"}, body="[]")
    result = match(Snapshot(make_collection(example)), IncomingRequest.build("GET", "/pets"))
    assert negotiate(result, "application/xml") is result
