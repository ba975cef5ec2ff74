"""formats/swagger.py: a Swagger 2.0 document read as the OpenAPI 3.0 document it describes, row by row."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.openapi_documents import DATA

from postmock_nb.formats.openapi import SpecFormatError
from postmock_nb.formats.sources import load_data
from postmock_nb.formats.swagger import is_swagger, to_openapi3

INFO = {"title": "Old", "version": "1"}


def convert(**fields: Any) -> dict[str, Any]:
    document, _ = to_openapi3({"swagger": "2.0", "info": INFO, "paths": {}, **fields}, "old.json")
    return document


def warnings_of(**fields: Any) -> list[str]:
    return to_openapi3({"swagger": "2.0", "info": INFO, "paths": {}, **fields}, "old.json")[1]


def operation(method: str = "get", path: str = "/pets", top: dict[str, Any] | None = None,
              **fields: Any) -> dict[str, Any]:
    """The converted operation of a document with this one operation (its ``fields``; ``top``: the document's)."""
    ok = {"200": {"description": "ok"}}
    document = convert(paths={path: {method: {"responses": ok, **fields}}}, **(top or {}))
    return document["paths"][path][method]  # type: ignore[no-any-return]


def openapi_validator() -> Any:
    return pytest.importorskip("openapi_spec_validator", reason="openapi-spec-validator is a test dependency")


# -- the document ---------------------------------------------------------------------------------


def test_the_version_info_and_top_level_fields_carry_over() -> None:
    document = convert(tags=[{"name": "pets"}], externalDocs={"url": "https://example.com"},
                       security=[{"key": []}], **{"x-logo": "a.png"})
    assert document["openapi"] == "3.0.3"
    assert document["info"] == INFO
    assert document["tags"] == [{"name": "pets"}] and document["security"] == [{"key": []}]
    assert document["externalDocs"] == {"url": "https://example.com"} and document["x-logo"] == "a.png"
    assert "swagger" not in document


@pytest.mark.parametrize("fields, servers", [
    ({"host": "api.example.com", "basePath": "/v1", "schemes": ["http", "https"]},
     [{"url": "http://api.example.com/v1"}, {"url": "https://api.example.com/v1"}]),
    ({"host": "api.example.com", "basePath": "/v1"}, [{"url": "https://api.example.com/v1"}]),
    ({"host": "api.example.com:8080"}, [{"url": "https://api.example.com:8080"}]),
    ({"basePath": "/v2/"}, [{"url": "/v2"}]),
    ({}, [{"url": "/"}]),
])
def test_host_base_path_and_schemes_become_servers(fields: dict[str, Any], servers: list[Any]) -> None:
    assert convert(**fields)["servers"] == servers


@pytest.mark.parametrize("section, name, target", [
    ("definitions", "Pet", {"type": "object"}),
    ("parameters", "limit", {"name": "limit", "in": "query", "schema": {"type": "integer"}}),
    ("responses", "NotFound", {"description": "gone"}),
])
def test_definitions_parameters_and_responses_become_components(section: str, name: str,
                                                                 target: dict[str, Any]) -> None:
    source = {"limit": {"name": "limit", "in": "query", "type": "integer"}, "Pet": {"type": "object"},
              "NotFound": {"description": "gone"}}[name]
    components = convert(**{section: {name: source}})["components"]
    assert components[{"definitions": "schemas"}.get(section, section)] == {name: target}


@pytest.mark.parametrize("definition, scheme", [
    ({"type": "basic"}, {"type": "http", "scheme": "basic"}),
    ({"type": "apiKey", "name": "api_key", "in": "header"}, {"type": "apiKey", "name": "api_key", "in": "header"}),
    ({"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://a/auth", "scopes": {"r": "read"}},
     {"type": "oauth2", "flows": {"implicit": {"authorizationUrl": "https://a/auth", "scopes": {"r": "read"}}}}),
    ({"type": "oauth2", "flow": "password", "tokenUrl": "https://a/token", "scopes": {}},
     {"type": "oauth2", "flows": {"password": {"tokenUrl": "https://a/token", "scopes": {}}}}),
    ({"type": "oauth2", "flow": "application", "tokenUrl": "https://a/token"},
     {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://a/token", "scopes": {}}}}),
    ({"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a/auth", "tokenUrl": "https://a/token",
      "scopes": {}, "description": "d"},
     {"type": "oauth2", "description": "d", "flows": {"authorizationCode": {
         "authorizationUrl": "https://a/auth", "tokenUrl": "https://a/token", "scopes": {}}}}),
])
def test_security_definitions_become_security_schemes(definition: dict[str, Any], scheme: dict[str, Any]) -> None:
    assert convert(securityDefinitions={"it": definition})["components"]["securitySchemes"] == {"it": scheme}


@pytest.mark.parametrize("ref, rewritten", [
    ("#/definitions/Pet", "#/components/schemas/Pet"),
    ("#/definitions/Pet/properties/name", "#/components/schemas/Pet/properties/name"),
    ("#/responses/NotFound", "#/components/responses/NotFound"),
])
def test_every_ref_is_rewritten(ref: str, rewritten: str) -> None:
    document = convert(definitions={"Pet": {"type": "object", "properties": {"name": {"type": "string"}}},
                                    "Pets": {"type": "array", "items": {"$ref": ref}}})
    assert document["components"]["schemas"]["Pets"]["items"] == {"$ref": rewritten}
    response = operation(top={"responses": {"NotFound": {"description": "gone"}}},
                         responses={"404": {"$ref": "#/responses/NotFound"}})
    assert response["responses"]["404"] == {"$ref": "#/components/responses/NotFound"}


def test_a_parameter_ref_is_rewritten_and_its_target_converted() -> None:
    document = convert(parameters={"limit": {"name": "limit", "in": "query", "type": "integer"}},
                       paths={"/pets": {"get": {"parameters": [{"$ref": "#/parameters/limit"}],
                                                "responses": {"200": {"description": "ok"}}}}})
    assert document["paths"]["/pets"]["get"]["parameters"] == [{"$ref": "#/components/parameters/limit"}]
    assert document["components"]["parameters"]["limit"]["schema"] == {"type": "integer"}


# -- parameters -----------------------------------------------------------------------------------


def test_a_parameters_type_format_and_limits_become_its_schema() -> None:
    parameter = {"name": "limit", "in": "query", "description": "how many", "required": False,
                 "type": "integer", "format": "int32", "minimum": 1, "maximum": 100, "default": 20,
                 "x-example": 5, "x-internal": True}
    [converted] = operation(parameters=[parameter])["parameters"]
    assert converted == {"name": "limit", "in": "query", "description": "how many", "required": False,
                         "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 100,
                                    "default": 20}, "example": 5, "x-internal": True}


def test_a_path_parameter_is_required() -> None:
    [converted] = operation(path="/pets/{id}", parameters=[{"name": "id", "in": "path", "type": "string"}])[
        "parameters"]
    assert converted["required"] is True


@pytest.mark.parametrize("where, written, style", [
    ("query", None, ("form", False)),
    ("query", "csv", ("form", False)),
    ("query", "ssv", ("spaceDelimited", False)),
    ("query", "pipes", ("pipeDelimited", False)),
    ("query", "multi", ("form", True)),
    ("header", None, ("simple", False)),
    ("path", "csv", ("simple", False)),
])
def test_collection_format_becomes_style_and_explode(where: str, written: str | None,
                                                     style: tuple[str, bool]) -> None:
    parameter = {"name": "ids", "in": where, "type": "array", "items": {"type": "integer"}}
    if written:
        parameter["collectionFormat"] = written
    [converted] = operation(path="/pets/{ids}", parameters=[parameter])["parameters"]
    assert (converted["style"], converted["explode"]) == style
    assert converted["schema"] == {"type": "array", "items": {"type": "integer"}}


def test_tsv_has_no_style_a_warning_and_read_as_csv() -> None:
    parameter = {"name": "ids", "in": "query", "type": "array", "items": {"type": "string"},
                 "collectionFormat": "tsv"}
    document, warnings = to_openapi3({"swagger": "2.0", "info": INFO, "paths": {"/p": {"get": {
        "parameters": [parameter], "responses": {"200": {"description": "ok"}}}}}}, "old.json")
    [converted] = document["paths"]["/p"]["get"]["parameters"]
    assert (converted["style"], converted["explode"]) == ("form", False)
    assert warnings == ["old.json at #/paths/~1p/get/parameters/0/collectionFormat: collectionFormat 'tsv' has "
                        "no OpenAPI 3 style for a query parameter; read as csv"]


def test_a_scalar_parameter_gets_no_style() -> None:
    [converted] = operation(parameters=[{"name": "q", "in": "query", "type": "string"}])["parameters"]
    assert "style" not in converted and "explode" not in converted


def test_path_level_parameters_stay_on_the_path() -> None:
    document = convert(paths={"/pets/{id}": {"parameters": [{"name": "id", "in": "path", "type": "integer"}],
                                             "get": {"responses": {"200": {"description": "ok"}}}}})
    item = document["paths"]["/pets/{id}"]
    assert item["parameters"] == [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]


# -- bodies ---------------------------------------------------------------------------------------


def test_a_body_parameter_becomes_the_request_body_with_the_operations_consumes() -> None:
    body = {"name": "pet", "in": "body", "required": True, "description": "the pet",
            "schema": {"$ref": "#/definitions/Pet"}, "x-examples": {"application/json": {"name": "Rex"}}}
    converted = operation("post", top={"definitions": {"Pet": {"type": "object"}}, "consumes": ["application/xml"]},
                          parameters=[body], consumes=["application/json", "text/plain"])
    assert "parameters" not in converted
    schema = {"$ref": "#/components/schemas/Pet"}
    assert converted["requestBody"] == {"description": "the pet", "required": True, "content": {
        "application/json": {"schema": schema, "example": {"name": "Rex"}}, "text/plain": {"schema": schema}}}


@pytest.mark.parametrize("consumes, media", [(None, "application/json"), (["application/xml"], "application/xml")])
def test_a_body_takes_the_documents_consumes_else_json(consumes: list[str] | None, media: str) -> None:
    top = {"consumes": consumes} if consumes else {}
    document = convert(**top, paths={"/p": {"post": {"parameters": [{"name": "b", "in": "body",
                                                                       "schema": {"type": "object"}}],
                                                      "responses": {"200": {"description": "ok"}}}}})
    assert list(document["paths"]["/p"]["post"]["requestBody"]["content"]) == [media]


def test_a_body_parameter_referred_to_is_put_in_place() -> None:
    document = convert(parameters={"pet": {"name": "pet", "in": "body", "schema": {"type": "object"}}},
                       paths={"/p": {"post": {"parameters": [{"$ref": "#/parameters/pet"}],
                                              "responses": {"200": {"description": "ok"}}}}})
    post = document["paths"]["/p"]["post"]
    assert post["requestBody"]["content"] == {"application/json": {"schema": {"type": "object"}}}
    assert "parameters" not in post and "components" not in document


def test_form_data_becomes_a_urlencoded_request_body() -> None:
    parameters = [{"name": "name", "in": "formData", "type": "string", "required": True, "description": "its name"},
                  {"name": "tags", "in": "formData", "type": "array", "items": {"type": "string"},
                   "collectionFormat": "multi"}]
    converted = operation("post", top={"consumes": ["application/x-www-form-urlencoded"]}, parameters=parameters)
    assert converted["requestBody"] == {"required": True, "content": {"application/x-www-form-urlencoded": {
        "schema": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "description": "its name"},
            "tags": {"type": "array", "items": {"type": "string"}}}},
        "encoding": {"tags": {"style": "form", "explode": True}}}}}


@pytest.mark.parametrize("consumes", [None, ["application/x-www-form-urlencoded"], ["multipart/form-data"]])
def test_a_file_makes_the_form_multipart_and_is_binary(consumes: list[str] | None) -> None:
    parameters = [{"name": "file", "in": "formData", "type": "file"}]
    converted = operation("post", top={"consumes": consumes} if consumes else None, parameters=parameters)
    assert converted["requestBody"] == {"required": False, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}}


def test_path_level_form_data_goes_into_each_operations_body() -> None:
    document = convert(paths={"/p": {"parameters": [{"name": "a", "in": "formData", "type": "string"}],
                                     "post": {"responses": {"200": {"description": "ok"}}}}})
    item = document["paths"]["/p"]
    assert "parameters" not in item
    assert item["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"] == {
        "a": {"type": "string"}}


# -- responses ------------------------------------------------------------------------------------


def test_a_response_schema_goes_under_each_produced_media_type_with_its_examples() -> None:
    response = {"description": "pets", "schema": {"type": "array", "items": {"type": "string"}},
                "examples": {"application/json": ["Rex"]},
                "headers": {"X-Rate": {"type": "integer", "description": "left"}}}
    converted = operation(top={"produces": ["application/json", "application/xml"]},
                          responses={"200": response})["responses"]["200"]
    schema = {"type": "array", "items": {"type": "string"}}
    assert converted == {"description": "pets", "headers": {"X-Rate": {"schema": {"type": "integer"},
                                                                        "description": "left"}},
                         "content": {"application/json": {"schema": schema, "example": ["Rex"]},
                                     "application/xml": {"schema": schema}}}


def test_an_operations_produces_wins_over_the_documents() -> None:
    converted = operation(top={"produces": ["application/xml"]}, produces=["text/plain"],
                          responses={"200": {"description": "ok", "schema": {"type": "string"}}})
    assert list(converted["responses"]["200"]["content"]) == ["text/plain"]


def test_a_response_without_schema_has_no_content_and_a_description() -> None:
    assert operation(responses={"204": {}})["responses"]["204"] == {"description": ""}


# -- schemas --------------------------------------------------------------------------------------


@pytest.mark.parametrize("schema, converted", [
    ({"type": "string", "x-nullable": True}, {"type": "string", "nullable": True}),
    ({"$ref": "#/definitions/Pet", "x-nullable": True},
     {"allOf": [{"$ref": "#/components/schemas/Pet"}], "nullable": True}),
    ({"type": "file"}, {"type": "string", "format": "binary"}),
    ({"type": "object", "discriminator": "kind", "properties": {"kind": {"type": "string"}}},
     {"type": "object", "discriminator": {"propertyName": "kind"}, "properties": {"kind": {"type": "string"}}}),
    ({"allOf": [{"$ref": "#/definitions/Pet"}, {"properties": {"a": {"type": "integer", "x-nullable": True}}}]},
     {"allOf": [{"$ref": "#/components/schemas/Pet"}, {"properties": {"a": {"type": "integer", "nullable": True}}}]}),
    ({"type": "object", "additionalProperties": {"$ref": "#/definitions/Pet"}},
     {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Pet"}}),
    ({"type": "object", "example": {"$ref": "#/definitions/Pet"}},
     {"type": "object", "example": {"$ref": "#/definitions/Pet"}}),
])
def test_schemas_are_rewritten(schema: dict[str, Any], converted: dict[str, Any]) -> None:
    document = convert(definitions={"Pet": {"type": "object"}, "It": schema})
    assert document["components"]["schemas"]["It"] == converted


# -- what is not used, and what is broken ---------------------------------------------------------


def test_what_has_no_openapi_3_form_is_a_warning_not_an_error() -> None:
    warnings = warnings_of(webhooks={}, paths={"/p": {"get": {"schemes": ["ws"], "responses": {
        "200": {"description": "ok"}}}, "trace": {}}})
    assert warnings == [
        "old.json at #/webhooks: 'webhooks' is not a Swagger 2.0 field; not read",
        "old.json at #/paths/~1p/get/schemes: an operation's own 'schemes' are not read (the document's are)",
        "old.json at #/paths/~1p/trace: 'trace' is not a Swagger 2.0 path item field; not read",
    ]


@pytest.mark.parametrize("fields, where, message", [
    ({"paths": []}, "#/paths", "'paths' must be an object, not list"),
    ({"paths": {"/p": {"get": {"parameters": [{"name": "a"}]}}}}, "#/paths/~1p/get/parameters/0",
     "a parameter needs 'name' and 'in'"),
    ({"paths": {"/p": {"get": {"parameters": {}}}}}, "#/paths/~1p/get/parameters", "'parameters' must be a list"),
    ({"paths": {"/p": {"get": {"parameters": [{"$ref": "#/parameters/nope"}]}}}}, "#/paths/~1p/get/parameters/0",
     "$ref '#/parameters/nope' points to nothing"),
    ({"paths": {"/p": {"post": {"parameters": [{"name": "a", "in": "body", "schema": {}},
                                               {"name": "b", "in": "body", "schema": {}}]}}}},
     "#/paths/~1p/post/parameters/1", "an operation has at most one body parameter"),
    ({"paths": {"/p": {"post": {"parameters": [{"name": "a", "in": "body"}]}}}}, "#/paths/~1p/post/parameters/0",
     "a body parameter needs a 'schema'"),
    ({"basePath": "v1"}, "#/basePath", "'basePath' must be a string that starts with '/'"),
    ({"securityDefinitions": {"k": {"type": "oauth2", "flow": "magic"}}}, "#/securityDefinitions/k/flow",
     "unknown OAuth2 flow 'magic'"),
    ({"securityDefinitions": {"k": {"type": "digest"}}}, "#/securityDefinitions/k/type",
     "unknown security definition type 'digest'"),
    ({"swagger": "1.2"}, "#/swagger", "unsupported Swagger version '1.2'"),
])
def test_a_malformed_document_is_one_error_with_its_pointer(fields: dict[str, Any], where: str,
                                                            message: str) -> None:
    with pytest.raises(SpecFormatError) as caught:
        to_openapi3({"swagger": "2.0", "info": INFO, "paths": {}, **fields}, "old.json")
    assert message in caught.value.message
    assert caught.value.location == f"old.json at {where}"


def test_is_swagger() -> None:
    assert is_swagger({"swagger": "2.0"}) and not is_swagger({"openapi": "3.0.0"}) and not is_swagger([])


# -- whole documents ------------------------------------------------------------------------------


def test_the_petstore_converts_to_a_valid_openapi_3_document() -> None:
    validator = openapi_validator()
    document, warnings = to_openapi3(json.loads((DATA / "oai-v2.0-petstore.json").read_text()), "petstore")
    validator.validate(document)
    assert warnings == []
    assert document["servers"] == [{"url": "http://petstore.swagger.io/v1"}]


def test_every_row_together_converts_to_a_valid_openapi_3_document() -> None:
    validator = openapi_validator()
    document, _ = to_openapi3(FULL, "full.json")
    validator.validate(document)
    loaded = load_data(FULL, "full.json")
    assert loaded.kind == "Swagger 2.0 document (read as OpenAPI 3.0)"
    served = {(e.request.method, e.request.path, e.response.status) for e in loaded.collection.examples}
    assert served == {("GET", "/v2/pets", 200), ("POST", "/v2/pets", 201), ("POST", "/v2/pets/:id/photo", 200),
                      ("GET", "/v2/pets/:id", 200), ("GET", "/v2/pets/:id", 404)}
    listed, *others = [e for e in loaded.collection.examples if e.request.path == "/v2/pets" and e.request.method == "GET"]
    assert json.loads(listed.response.body) == [{"id": 1, "name": "Rex", "tag": None}]
    assert [dict(e.response.headers)["Content-Type"] for e in [listed, *others]] == [  # each of `produces`: Accept picks
        "application/json", "application/xml"]


FULL: dict[str, Any] = {
    "swagger": "2.0", "info": INFO, "host": "pets.example.com", "basePath": "/v2", "schemes": ["https"],
    "consumes": ["application/json"], "produces": ["application/json", "application/xml"],
    "securityDefinitions": {"key": {"type": "apiKey", "name": "api_key", "in": "header"},
                            "oauth": {"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://a/auth",
                                      "scopes": {"write:pets": "write"}}},
    "security": [{"key": []}],
    "parameters": {"id": {"name": "id", "in": "path", "required": True, "type": "integer", "format": "int64"},
                   "pet": {"name": "pet", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Pet"}}},
    "responses": {"NotFound": {"description": "no such pet", "schema": {"$ref": "#/definitions/Error"}}},
    "definitions": {
        "Pet": {"type": "object", "required": ["name"], "properties": {
            "id": {"type": "integer", "format": "int64", "readOnly": True}, "name": {"type": "string"},
            "tag": {"type": "string", "x-nullable": True}}},
        "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
    },
    "paths": {
        "/pets": {
            "get": {"parameters": [{"name": "tags", "in": "query", "type": "array", "items": {"type": "string"},
                                    "collectionFormat": "multi"},
                                   {"name": "limit", "in": "query", "type": "integer", "maximum": 100}],
                    "responses": {"200": {"description": "pets", "schema": {"type": "array",
                                                                            "items": {"$ref": "#/definitions/Pet"}},
                                          "examples": {"application/json": [{"id": 1, "name": "Rex", "tag": None}]},
                                          "headers": {"X-Total": {"type": "integer"}}}}},
            "post": {"parameters": [{"$ref": "#/parameters/pet"}],
                     "responses": {"201": {"description": "made", "schema": {"$ref": "#/definitions/Pet"}}},
                     "security": [{"oauth": ["write:pets"]}]},
        },
        "/pets/{id}": {
            "parameters": [{"$ref": "#/parameters/id"}],
            "get": {"responses": {"200": {"description": "a pet", "schema": {"$ref": "#/definitions/Pet"}},
                                  "404": {"$ref": "#/responses/NotFound"}}},
        },
        "/pets/{id}/photo": {
            "post": {"consumes": ["multipart/form-data"], "produces": ["text/plain"],
                     "parameters": [{"$ref": "#/parameters/id"},
                                    {"name": "photo", "in": "formData", "type": "file", "required": True},
                                    {"name": "caption", "in": "formData", "type": "string"}],
                     "responses": {"200": {"description": "stored", "schema": {"type": "string"}}}},
        },
    },
}


def test_the_petstore_serves_as_its_openapi_3_edition_does() -> None:
    """The OAI petstore in Swagger 2.0 and in OpenAPI 3.0 (tests/data/openapi) describe one API: the same examples,
    but where the 3.0 edition fixed a typo ("An paged") and answers one Pet (not Pets) for GET /pets/{petId}."""
    from postmock_nb.formats.sources import load_any

    def shape(name: str) -> list[tuple[Any, ...]]:
        return [(i.name, e.request.method, e.request.path, e.response.status, e.response.headers)
                for i, e in load_any(DATA / name).collection.iter_examples()]

    assert shape("oai-v2.0-petstore.json") == shape("oai-v3.0-petstore.json")


def _nodes(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found += _nodes(value, (*at, key))
    return found


def test_any_node_of_a_document_set_to_a_wrong_type_is_a_clear_error_or_a_document() -> None:
    """Each node of FULL replaced by a value of each wrong shape: converted, or one SpecFormatError, never a crash."""
    errors = 0
    for at in _nodes(FULL):
        for wrong in (None, 1, "x", [], {}, [1], {"$ref": "#/definitions/Nope"}):
            document = json.loads(json.dumps(FULL))
            node = document
            for key in at[:-1]:
                node = node[key]
            node[at[-1]] = wrong
            try:
                to_openapi3(document, "full.json")
            except SpecFormatError as error:
                assert error.location.startswith("full.json at #"), error
                errors += 1
    assert errors > 100  # the wrong shapes that break Swagger 2.0 are told, with their pointer
