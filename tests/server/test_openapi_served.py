"""OpenAPI documents on a running mock: every example of public documents served over a real socket,
request validation (422) on a socket, under `postmock serve` and after `%mock load` in a shell.
(Reading, converting and validating in-process: test_openapi.py.)"""

from __future__ import annotations

import re

import pytest
import requests
from support.openapi_documents import ALL, DATA

from postmock_nb.bridges.bridges import Bridges
from postmock_nb.formats.sources import load_any
from postmock_nb.serving.server import MockServer


def _concrete(path: str) -> str:
    return re.sub(r":[^/]+", "1", path)


@pytest.mark.parametrize("name", ALL)
def test_a_real_mock_serves_every_example(name):
    collection = load_any(DATA / name).collection
    with MockServer(collection) as mock:
        for item in collection.items:
            names = [e.name for e in item.examples]
            for example in item.examples:
                unique = names.count(example.name) == 1 and example.name.isascii()
                selector = ({"x-mock-response-name": example.name} if unique
                            else {"x-mock-response-code": str(example.response.status)})
                response = requests.request(example.request.method, mock.url + _concrete(example.request.path),
                                            headers=selector, timeout=10)
                assert response.status_code == example.response.status, (example.describe(), response.text)
                if example.request.method == "HEAD":
                    continue
                bodies = [e.response.body for e in item.examples if e.response.status == example.response.status]
                body = example.response.body if unique else response.text
                assert response.text == body and body in bodies
                for key, value in example.response.headers:
                    assert response.headers[key] == value


@pytest.fixture
def validating_mock():
    from postmock_nb.bridges.validation import RequestValidator

    loaded = load_any(DATA / "swagger-petstore-v3.yaml")
    assert loaded.spec is not None
    with MockServer(loaded.collection, bridges=Bridges(request_validator=RequestValidator(loaded.spec))) as mock:
        yield mock


SIGNED_IN = {"Authorization": "Bearer any-token"}
"""The petstore's operations ask for OAuth 2 (``petstore_auth``: a bearer token) or an ``api_key`` header."""


def test_valid_requests_pass_validation(validating_mock):
    url = validating_mock.url + "/api/v3"
    assert requests.get(url + "/pet/7", headers={"api_key": "k"}, timeout=5).status_code == 200
    assert requests.get(url + "/pet/findByStatus?status=sold", headers=SIGNED_IN, timeout=5).status_code == 200
    pet = {"name": "doggie", "photoUrls": ["https://example.com/a.png"], "status": "available"}
    assert requests.post(url + "/pet", json=pet, headers=SIGNED_IN, timeout=5).status_code == 200
    assert requests.get(validating_mock.url + "/not/in/the/spec", timeout=5).status_code == 404  # not checked


def test_invalid_requests_get_422_listing_each_violation(validating_mock):
    url = validating_mock.url + "/api/v3"
    response = requests.get(url + "/pet/abc", headers=SIGNED_IN, timeout=5)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["name"] == "mockRequestInvalid"
    assert error["violations"] == [{"path": "$.path.petId", "message": "'abc' is not of type 'integer'"}]
    response = requests.post(url + "/pet", json={"name": 3, "photoUrls": "x", "tags": [{"id": "q"}]},
                             headers=SIGNED_IN, timeout=5)
    paths = [v["path"] for v in response.json()["error"]["violations"]]
    assert response.status_code == 422 and paths == ["$.body.name", "$.body.photoUrls", "$.body.tags[0].id"]
    response = requests.get(url + "/pet/findByStatus?status=bogus", headers=SIGNED_IN, timeout=5)
    assert response.json()["error"]["violations"][0]["path"] == "$.query.status"
    response = requests.post(url + "/pet", data="a,b", headers={"Content-Type": "text/csv", **SIGNED_IN}, timeout=5)
    assert response.status_code == 415  # Prism's answer to a media type the operation does not accept
    assert response.json()["error"]["violations"][0]["path"] == "$.header.content-type"
    entry = validating_mock.log.recent(1)[0]  # the log (and so the dashboard) says why
    assert entry.status == 415 and "$.header.content-type" in entry.note


def test_paths_answer_at_the_root_too_as_prism_serves_them(validating_mock):
    root, base = validating_mock.url, validating_mock.url + "/api/v3"
    for url in (root, base):
        assert requests.get(url + "/pet/7", headers=SIGNED_IN, timeout=5).status_code == 200
        response = requests.get(url + "/pet/abc", headers=SIGNED_IN, timeout=5)  # validated at the root too
        assert response.status_code == 422 and response.json()["error"]["violations"][0]["path"] == "$.path.petId"
        assert requests.get(url + "/pet/7", timeout=5).status_code == 401  # and its security checked there too
    assert requests.get(root + "/pet/7", headers=SIGNED_IN, timeout=5).text == requests.get(
        base + "/pet/7", headers=SIGNED_IN, timeout=5).text
    entry = validating_mock.log.recent(1)[0]
    assert entry.path == "/api/v3/pet/7" and entry.example_name  # the log shows the path as sent
    assert validating_mock.log.recent(2)[1].path == "/pet/7"


def test_cli_serves_yaml_with_request_validation():
    from support.cli import SERVING, postmock

    with postmock("serve", str(DATA / "oai-v3.0-petstore.yaml"), "--port", "0", "--validate-requests") as cli:
        url = cli.wait_for(SERVING).group(3)
        assert requests.get(url + "/v1/pets", timeout=5).json()[0] == {"id": 0, "name": "string", "tag": "string"}
        assert requests.get(url + "/pets", timeout=5).json() == requests.get(url + "/v1/pets", timeout=5).json()
        response = requests.get(url + "/v1/pets?limit=lots", timeout=5)
        assert response.status_code == 422
        assert response.json()["error"]["violations"][0]["path"] == "$.query.limit"
        assert cli.interrupt() == 0


def test_notebook_validation_needs_a_loaded_document_and_then_checks(tmp_path):
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "postmock_nb")
    try:
        with pytest.raises(UsageError, match="--validate-requests needs an OpenAPI document"):
            ip.run_line_magic("mock", "start --no-dashboard --validate-requests")
        ip.run_line_magic("mock", f"load {DATA / 'oai-v3.0-petstore-expanded.yaml'}")
        ip.run_line_magic("mock", "start --no-dashboard --validate-requests")
        url = ip.user_ns["mockUrl"]
        assert requests.get(url + "/api/pets/3", timeout=5).json() == {"name": "string", "tag": "string", "id": 0}
        response = requests.post(url + "/api/pets", json={"tag": "x"}, timeout=5)
        assert response.status_code == 422
        assert response.json()["error"]["violations"] == [{"path": "$.body",
                                                           "message": "'name' is a required property"}]
    finally:
        ip.run_line_magic("unload_ext", "postmock_nb")


# -- regular expressions from the document run in bounded time (postmock_nb.core.patterns) ---------------------


def test_parameters_sent_in_their_style_pass_validation_on_a_socket():
    """The issue's example: an object header ``name=Fluffy,description=cat`` (simple, exploded), a form query
    object and a path label object were refused 422 "is not of type 'object'"."""
    from postmock_nb.bridges.validation import RequestValidator
    from postmock_nb.formats.openapi import collection_from_openapi, load_spec

    pet = {"type": "object", "properties": {"name": {"type": "string"}, "description": {"type": "string"}}}
    document = {"openapi": "3.0.3", "info": {"title": "styles", "version": "1"}, "paths": {"/pets/{pet}": {"get": {
        "parameters": [{"name": "pet", "in": "path", "required": True, "style": "label", "explode": True,
                        "schema": pet},
                       {"name": "x-pet", "in": "header", "required": True, "explode": True, "schema": pet},
                       {"name": "filter", "in": "query", "schema": {
                           "type": "object", "properties": {"size": {"type": "integer"}}}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"example": {"ok": True}}}}}}}}}
    collection, spec = collection_from_openapi(document)
    with MockServer(collection, bridges=Bridges(request_validator=RequestValidator(load_spec(document)))) as mock:
        url = mock.url + "/pets/.name=Fluffy.description=cat?size=3"
        answer = requests.get(url, headers={"x-pet": "name=Fluffy,description=cat"}, timeout=5)
        assert answer.status_code == 200, answer.text
        wrong = requests.get(mock.url + "/pets/.name=Fluffy?size=big", headers={"x-pet": "name=x"}, timeout=5)
        assert wrong.status_code == 422
        assert wrong.json()["error"]["violations"] == [{"path": "$.query.filter.size",
                                                        "message": "'big' is not of type 'integer'"}]


def test_a_swagger_2_document_is_served_and_validated_as_its_openapi_3_form():
    """Swagger 2.0 read as OpenAPI 3.0 (formats/swagger.py): a ``multi`` query array, a body parameter with an
    ``x-nullable`` field and a pipes-delimited header, checked on a socket as the 3.0 document would be."""
    from postmock_nb.bridges.validation import RequestValidator
    from postmock_nb.formats.sources import load_data

    pet = {"type": "object", "required": ["name"],
           "properties": {"name": {"type": "string"}, "tag": {"type": "string", "x-nullable": True}}}
    document = {"swagger": "2.0", "info": {"title": "old", "version": "1"}, "basePath": "/v2",
                "definitions": {"Pet": pet}, "paths": {"/pets": {
                    "get": {"parameters": [{"name": "tags", "in": "query", "type": "array", "collectionFormat": "multi",
                                            "items": {"type": "integer"}},
                                           {"name": "X-Ids", "in": "header", "type": "array", "items": {
                                               "type": "integer"}}],
                            "responses": {"200": {"description": "ok", "schema": {
                                "type": "array", "items": {"$ref": "#/definitions/Pet"}}}}},
                    "post": {"parameters": [{"name": "pet", "in": "body", "required": True,
                                             "schema": {"$ref": "#/definitions/Pet"}}],
                             "responses": {"201": {"description": "made", "examples": {
                                 "application/json": {"name": "Rex", "tag": None}}}}}}}}
    loaded = load_data(document, "old.json")
    assert loaded.spec is not None
    with MockServer(loaded.collection, bridges=Bridges(request_validator=RequestValidator(loaded.spec))) as mock:
        for url in (mock.url + "/v2/pets", mock.url + "/pets"):
            answer = requests.get(url + "?tags=1&tags=2", headers={"X-Ids": "3,4"}, timeout=5)
            assert answer.status_code == 200 and answer.json() == [{"name": "string", "tag": "string"}]
            wrong = requests.get(url + "?tags=1&tags=x", timeout=5)
            assert wrong.status_code == 422
            assert wrong.json()["error"]["violations"] == [{"path": "$.query.tags[1]",
                                                            "message": "'x' is not of type 'integer'"}]
        made = requests.post(mock.url + "/v2/pets", json={"name": "Rex", "tag": None}, timeout=5)
        assert made.status_code == 201 and made.json() == {"name": "Rex", "tag": None}
        refused = requests.post(mock.url + "/v2/pets", json={"tag": "x"}, timeout=5)
        assert refused.status_code == 422
        assert refused.json()["error"]["violations"] == [{"path": "$.body",
                                                          "message": "'name' is a required property"}]


def test_mock_load_takes_a_swagger_2_document_and_validates_by_it():
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "postmock_nb")
    try:
        ip.run_line_magic("mock", f"load {DATA / 'oai-v2.0-petstore.json'}")
        ip.run_line_magic("mock", "start --no-dashboard --validate-requests")
        url = ip.user_ns["mockUrl"]
        assert requests.get(url + "/v1/pets/3", timeout=5).status_code == 200
        assert requests.get(url + "/pets?limit=2", timeout=5).json() == [{"id": 0, "name": "string", "tag": "string"}]
        response = requests.get(url + "/v1/pets?limit=many", timeout=5)
        assert response.status_code == 422
        assert response.json()["error"]["violations"][0]["path"] == "$.query.limit"
    finally:
        ip.run_line_magic("unload_ext", "postmock_nb")


def test_accept_picks_the_media_type_and_none_acceptable_is_406_as_prism_does():
    from postmock_nb.formats.sources import load_data

    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/pets": {"get": {
        "responses": {"200": {"description": "pets", "content": {
            "application/json": {"example": [{"id": 1}]}, "application/xml": {"example": "<pets><id>1</id></pets>"}}}}}}}}
    with MockServer(load_data(document, "pets.yaml").collection) as mock:
        plain = requests.get(mock.url + "/pets", timeout=5)
        xml = requests.get(mock.url + "/pets", headers={"Accept": "application/xml"}, timeout=5)
        browser = requests.get(mock.url + "/pets", headers={"Accept": "text/html,*/*;q=0.8"}, timeout=5)
        refused = requests.get(mock.url + "/pets", headers={"Accept": "image/png"}, timeout=5)
    assert (plain.headers["content-type"], plain.json()) == ("application/json", [{"id": 1}])
    assert (xml.headers["content-type"], xml.text) == ("application/xml", "<pets><id>1</id></pets>")
    assert browser.headers["content-type"] == "application/json"
    assert refused.status_code == 406
    error = refused.json()["error"]
    assert error["name"] == "mockNotAcceptable" and error["available"] == ["application/json", "application/xml"]
    assert "image/png" in error["message"]
