"""Prism's conventions on a real socket: ``Prefer: code=…, example=…, dynamic=…, seed=…`` and the ``__code``,
``__example``, ``__dynamic``, ``__seed`` query parameters, beside Postman's ``x-mock-response-*``; ``--dynamic``
(a fresh body from the schema for each request, repeatable with ``--seed``), each body valid against its schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from jsonschema import FormatChecker
from support.openapi_documents import DATA

from postmock_nb.bridges.bridges import Bridges
from postmock_nb.bridges.validation import OpenApi30Validator
from postmock_nb.config import MockConfig
from postmock_nb.formats.openapi import SPEC_URI
from postmock_nb.formats.sources import Loaded, load_any
from postmock_nb.serving.server import MockServer

PET = "/paths/~1pets~1{petId}/get/responses/200/content/application~1json/schema"
CAT = {"id": 2, "name": "Fluffy"}
DOG = {"id": 1, "name": "Spot"}


@pytest.fixture(scope="module")
def loaded() -> Loaded:
    return load_any(DATA / "local-prism-conventions.yaml")


def _serve(loaded: Loaded, server_name: str, **options: Any) -> MockServer:
    config = MockConfig(port=0, server=server_name, **options)
    return MockServer(loaded.collection, config, bridges=Bridges.build(config, spec=loaded.spec))


@pytest.fixture
def mock(loaded: Loaded, server_name: str) -> Iterator[MockServer]:
    with _serve(loaded, server_name) as running:
        yield running


def _get(mock: MockServer, query: str = "", **headers: str) -> requests.Response:
    return requests.get(f"{mock.url}/pets/1{query}", headers=headers, timeout=10)


def _pet(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return {"id": body["id"], "name": body["name"]}


def _valid(loaded: Loaded, pointer: str, value: Any) -> list[str]:
    assert loaded.spec is not None
    validator = OpenApi30Validator({"$ref": SPEC_URI + "#" + pointer}, registry=loaded.spec.registry,
                                   format_checker=FormatChecker())
    return [error.message for error in validator.iter_errors(value)]


def test_a_plain_request_gets_the_first_example(mock: MockServer) -> None:
    assert _pet(_get(mock)) == CAT


@pytest.mark.parametrize(("query", "headers"), [
    ("", {"Prefer": "example=dog"}),
    ("?__example=dog", {}),
    ("", {"Prefer": "code=200, example=dog"}),
    ("?__code=200&__example=dog", {}),
    ("", {"Prefer": 'example="dog"; strict'}),
    ("?__example=cat", {"Prefer": "example=dog"}),  # the header wins: Prism reads the query only without one
    ("", {"x-mock-response-name": "A pet - An example of a dog"}),  # Postman's, as before
])
def test_an_example_is_picked_by_its_openapi_key(mock: MockServer, query: str, headers: dict[str, str]) -> None:
    assert _pet(_get(mock, query, **headers)) == DOG


@pytest.mark.parametrize(("query", "headers"), [
    ("", {"Prefer": "code=404"}), ("?__code=404", {}), ("", {"x-mock-response-code": "404"}),
])
def test_a_status_is_picked_by_its_code(mock: MockServer, query: str, headers: dict[str, str]) -> None:
    response = _get(mock, query, **headers)
    assert (response.status_code, response.json()) == (404, {"code": 404, "message": "no such pet"})


def test_the_query_forms_are_not_matched_as_parameters(mock: MockServer) -> None:
    plain = _get(mock)
    response = _get(mock, "?__code=200&__dynamic=false&__seed=3")
    assert response.status_code == 200 and response.headers["x-mock-score"] == plain.headers["x-mock-score"]


def test_an_unknown_example_key_is_a_404_naming_the_keys_there_are(mock: MockServer) -> None:
    response = _get(mock, Prefer="example=fish")
    assert response.status_code == 404
    reason = response.json()["diagnosis"]["reason"]
    assert reason.startswith("no example with key 'fish' for GET /pets/1")
    assert "(example=cat)" in reason and "(example=dog)" in reason


def test_an_unknown_code_is_a_404_naming_the_statuses_there_are(mock: MockServer) -> None:
    response = _get(mock, "?__code=418")
    assert response.status_code == 404
    assert response.json()["diagnosis"]["reason"] == (
        "no example with status 418 for GET /pets/1 (statuses for this path: 200, 404)")


@pytest.mark.parametrize(("headers", "message"), [
    ({"Prefer": "code=abc"}, "Prefer code must be an HTTP status 100-599, got 'abc'"),
    ({"Prefer": "dynamic=yes"}, "Prefer dynamic must be true or false, got 'yes'"),
])
def test_a_preference_that_cannot_be_used_is_a_400(mock: MockServer, headers: dict[str, str], message: str) -> None:
    response = _get(mock, **headers)
    assert (response.status_code, response.json()["error"]["message"]) == (400, message)


def test_prefer_dynamic_makes_a_fresh_valid_body_for_each_request(mock: MockServer, loaded: Loaded) -> None:
    bodies = [_get(mock, Prefer="dynamic=true").json(), _get(mock, "?__dynamic=true").json()]
    assert bodies[0] != bodies[1]
    for body in bodies:
        assert _valid(loaded, PET, body) == [], body
    assert _pet(_get(mock)) == CAT  # the next plain request: the saved example again


def test_dynamic_with_a_code_fills_that_status_schema(mock: MockServer, loaded: Loaded) -> None:
    response = _get(mock, Prefer="code=404, dynamic=true")
    assert response.status_code == 404
    assert _valid(loaded, PET.replace("/200/", "/404/"), response.json()) == []


def test_a_request_seed_gives_the_same_body(mock: MockServer) -> None:
    first = _get(mock, Prefer="dynamic=true, seed=7").json()
    assert _get(mock, "?__dynamic=true&__seed=7").json() == first
    assert _get(mock, Prefer="dynamic=true, seed=8").json() != first


def test_the_log_says_where_a_fresh_body_comes_from(mock: MockServer) -> None:
    _get(mock, Prefer="dynamic=true")
    assert mock.log.entries[-1].note == f"dynamic: a fresh body from #{PET}"


def _sequence(loaded: Loaded, server_name: str, seed: int) -> list[Any]:
    with _serve(loaded, server_name, dynamic=True, seed=seed) as running:
        return [_get(running).json() for _ in range(3)]


def test_the_dynamic_mode_answers_fresh_bodies_repeatable_by_seed(loaded: Loaded, server_name: str) -> None:
    first = _sequence(loaded, server_name, 3)
    assert len({repr(body) for body in first}) == 3
    for body in first:
        assert _valid(loaded, PET, body) == [], body
    assert _sequence(loaded, server_name, 3) == first
    assert _sequence(loaded, server_name, 4) != first


def test_the_dynamic_mode_gives_way_to_a_picked_example_and_to_dynamic_false(loaded: Loaded,
                                                                           server_name: str) -> None:
    with _serve(loaded, server_name, dynamic=True, seed=1) as running:
        assert _pet(_get(running, Prefer="dynamic=false")) == CAT
        assert _pet(_get(running, "?__dynamic=false&__example=dog")) == DOG
        assert _pet(_get(running, Prefer="example=dog, dynamic=true")) == DOG  # the key wins, as in Prism
        assert _pet(_get(running, **{"x-mock-response-name": "A pet - An example of a cat"})) == CAT
