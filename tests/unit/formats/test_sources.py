"""formats/sources.py: one entry point for every file a mock can be made from (load_any, load_data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.openapi_documents import DATA

from postmock_nb.errors import CollectionFormatError
from postmock_nb.formats.openapi import SpecFormatError
from postmock_nb.formats.sources import Loaded, load_any, load_data

POSTMAN = {
    "info": {"name": "Tiny", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
    "item": [{"name": "Ping", "request": {"method": "GET", "url": "{{baseUrl}}/ping"},
              "response": [{"name": "pong", "code": 200, "body": "pong"}]}],
}
OPENAPI = {
    "openapi": "3.0.3", "info": {"title": "Pets", "version": "1"},
    "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok",
                                                      "content": {"application/json": {"example": [1]}}}}}}},
}


def test_a_postman_collection_is_loaded_without_a_spec() -> None:
    loaded = load_data(POSTMAN, "tiny.json")
    assert loaded.spec is None
    assert loaded.kind == "Postman collection"
    assert loaded.collection.name == "Tiny"
    assert [example.name for example in loaded.collection.examples] == ["pong"]


def test_an_openapi_document_is_loaded_with_its_spec() -> None:
    loaded = load_data(OPENAPI, "pets.yaml")
    assert loaded.spec is not None
    assert loaded.kind == "OpenAPI 3.0.3 document"
    assert loaded.collection.name == "Pets"
    [example] = loaded.collection.examples
    assert (example.request.method, example.request.path) == ("GET", "/pets")
    assert json.loads(example.response.body) == [1]


def test_a_swagger_2_document_is_read_as_openapi_3_0() -> None:
    loaded = load_data({"swagger": "2.0", "info": {"title": "Old", "version": "1"}, "basePath": "/v1",
                        "paths": {"/pets": {"get": {"responses": {"200": {
                            "description": "ok", "examples": {"application/json": [1]}}}}}}}, "old.json")
    assert loaded.spec is not None and loaded.spec.version == "3.0.3"
    assert loaded.kind == "Swagger 2.0 document (read as OpenAPI 3.0)"
    [example] = loaded.collection.examples
    assert (example.request.method, example.request.path) == ("GET", "/v1/pets")
    assert json.loads(example.response.body) == [1]


def test_a_swagger_document_of_another_version_is_refused_clearly() -> None:
    with pytest.raises(SpecFormatError) as caught:
        load_data({"swagger": "1.2", "info": {}, "paths": {}}, "old.json")
    assert "unsupported Swagger version '1.2'" in caught.value.message
    assert caught.value.location == "old.json at #/swagger"


def test_the_conversions_warnings_come_first_among_the_documents() -> None:
    loaded = load_data({"swagger": "2.0", "info": {"title": "Old", "version": "1"}, "paths": {}, "webhooks": {}},
                       "old.json")
    assert loaded.spec is not None
    assert loaded.spec.warnings == ["old.json at #/webhooks: 'webhooks' is not a Swagger 2.0 field; not read"]


@pytest.mark.parametrize("data", [{"name": "x"}, [], "text", None, 3])
def test_a_document_that_is_neither_is_one_error_naming_the_source(data: object) -> None:
    with pytest.raises(CollectionFormatError) as caught:
        load_data(data, "what.json")
    assert caught.value.location == "what.json"
    assert "neither a Postman collection" in caught.value.message
    assert "OpenAPI 3.0/3.1" in caught.value.hint


def test_a_postman_api_wrapper_is_told_from_its_key() -> None:
    assert load_data({"collection": POSTMAN}, "wrapped.json").collection.name == "Tiny"


def test_load_any_tells_the_kind_from_the_content_not_the_name(tmp_path: Path) -> None:
    misnamed = tmp_path / "collection.yaml"
    misnamed.write_text(json.dumps(POSTMAN), encoding="utf-8")
    assert load_any(misnamed).kind == "Postman collection"
    yaml_openapi = tmp_path / "api.json"
    yaml_openapi.write_text("openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths: {}\n", encoding="utf-8")
    assert load_any(str(yaml_openapi)).kind == "OpenAPI 3.1.0 document"


def test_load_any_reads_a_public_openapi_document() -> None:
    loaded = load_any(DATA / "oai-v3.0-petstore.yaml")
    assert loaded.spec is not None and loaded.spec.title == "Swagger Petstore"
    assert {example.request.path for example in loaded.collection.examples} >= {"/v1/pets", "/v1/pets/:petId"}


def test_load_any_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CollectionFormatError, match="no such file"):
        load_any(tmp_path / "missing.json")


def test_loaded_is_frozen() -> None:
    loaded = Loaded(load_data(POSTMAN, "x").collection)
    with pytest.raises(AttributeError):
        loaded.spec = None  # type: ignore[misc]
