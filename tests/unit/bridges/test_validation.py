"""bridges/validation.py: requests checked against an OpenAPI document (parameters, body), no network."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from support.openapi_documents import DATA

from postmock_nb.bridges.validation import Refusal, RequestValidator, Violation, check_request, refusal_of
from postmock_nb.formats.documents import read_document
from postmock_nb.formats.openapi import load_spec
from postmock_nb.matching import IncomingRequest


def document(version: str = "3.0.3", **extra: Any) -> dict[str, Any]:
    pets_item = {"type": "object", "required": ["name"],
                 "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"},
                                "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}},
                                "age": {"type": "integer", "nullable": True} if version.startswith("3.0")
                                else {"type": ["integer", "null"]}}}
    return {
        "openapi": version, "info": {"title": "Pets", "version": "1"},
        "components": {"schemas": {"Pet": pets_item}},
        "paths": {
            "/pets": {
                "get": {"parameters": [
                    {"name": "limit", "in": "query", "required": True, "schema": {"type": "integer", "maximum": 50}},
                    {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}},
                    {"name": "x-request-id", "in": "header", "required": True, "schema": {"type": "string"}},
                    {"name": "session", "in": "cookie", "required": True, "schema": {"type": "string"}},
                    {"name": "verbose", "in": "query", "schema": {"type": "boolean"}}],
                        "responses": {"200": {"description": "ok"}}},
                "post": {"requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}},
                    "text/*": {"schema": {"type": "string"}}}},
                    "responses": {"201": {"description": "made"}}},
            },
            "/pets/{petId}": {"get": {"parameters": [{"name": "petId", "in": "path", "required": True,
                                                      "schema": {"type": "integer", "minimum": 1}}],
                                      "responses": {"200": {"description": "ok"}}}},
            "/pets/mine": {"get": {"responses": {"200": {"description": "ok"}}}},
        },
        **extra,
    }


@pytest.fixture(params=["3.0.3", "3.1.0"])
def validator(request: pytest.FixtureRequest) -> RequestValidator:
    return RequestValidator(load_spec(document(request.param), "pets.yaml"))


def check(validator: RequestValidator, method: str, url: str, *, headers: dict[str, str] | None = None,
          body: Any = None) -> list[dict[str, str]]:
    request = IncomingRequest.build(method, url, headers)
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    return [v.json() for v in validator.check(request.method, request.path, request.query, request.headers, raw)]


GOOD = {"x-request-id": "r1"}


def test_a_valid_request_has_no_violation(validator: RequestValidator) -> None:
    assert check(validator, "GET", "/pets?limit=7&tags=1,2&verbose=true", headers=GOOD) == []
    assert check(validator, "POST", "/pets", headers={"content-type": "application/json"},
                 body={"name": "rex", "tags": ["a"], "age": None}) == []


def test_find_prefers_the_literal_route_and_reads_path_parameters(validator: RequestValidator) -> None:
    mine = validator.find("GET", "/pets/mine")
    assert mine is not None and mine[0].full_template == "/pets/mine" and mine[1] == {}
    one = validator.find("get", "/pets/42/")
    assert one is not None and one[0].full_template == "/pets/{petId}" and one[1] == {"petId": "42"}
    assert validator.find("DELETE", "/pets/42") is None
    assert validator.find("GET", "/owners") is None


def test_path_parameters_are_decoded_once_and_checked_decoded() -> None:
    """Issue 23: GitHub's ``git/ref/{ref}`` with ``heads%2Ffeature-a`` is one segment, validated as ``heads/feature-a``."""
    data = document("3.1.0")
    data["paths"]["/repos/{owner}/{repo}/git/ref/{ref}"] = {"get": {"parameters": [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": pattern}}
        for name, pattern in (("owner", "^[a-z]+$"), ("repo", "^[a-z]+$"), ("ref", "^heads/[a-z-]+$"))],
        "responses": {"200": {"description": "ok"}}}}
    strict = RequestValidator(load_spec(data, "github.yaml"))
    found = strict.find("GET", IncomingRequest.build("GET", "/repos/octo/hello/git/ref/heads%2Ffeature-a").path)
    assert found is not None and found[1] == {"owner": "octo", "repo": "hello", "ref": "heads/feature-a"}
    assert check(strict, "GET", "/repos/octo/hello/git/ref/heads%2Ffeature-a") == []
    assert check(strict, "GET", "/repos/octo/hello/git/ref/heads%252Ffeature-a") == [  # decoded once: "%2F" left
        {"path": "$.path.ref", "message": "'heads%2Ffeature-a' does not match '^heads/[a-z-]+$'"}]
    assert check(strict, "GET", "/repos/octo/hello/git/ref/heads/feature-a") == []  # no such operation: unchecked


def test_a_request_no_operation_describes_is_not_checked(validator: RequestValidator) -> None:
    assert check(validator, "GET", "/owners?limit=nope") == []



def test_head_is_checked_as_its_get(validator: RequestValidator) -> None:
    """HEAD is GET's when the document gives the path no HEAD: not a 405, and checked as that GET (HEAD went
    unchecked: a request without the GET's required values or credentials was answered)."""
    assert check(validator, "HEAD", "/pets") == check(validator, "GET", "/pets") != []
    assert check(validator, "HEAD", "/pets?limit=5") == check(validator, "GET", "/pets?limit=5")


def test_a_method_the_path_does_not_document_calls_for_405_with_allow(validator: RequestValidator) -> None:
    assert validator.allowed("/pets") == ["GET", "POST"] and validator.allowed("/owners") == []
    [violation] = validator.check("PATCH", "/pets", (), {}, b"")
    assert (violation.status, violation.header) == (405, ("Allow", "GET, POST"))
    assert violation.message == "PATCH is not one of the methods the document gives this path: GET, POST"
    refusal = check_request(validator, IncomingRequest.build("DELETE", "/pets/7"), b"")[0]
    assert refusal is not None and (refusal.status, refusal.headers) == (405, (("Allow", "GET"),))


def test_missing_required_parameters_are_named(validator: RequestValidator) -> None:
    assert check(validator, "GET", "/pets") == [
        {"path": "$.query.limit", "message": "required query parameter 'limit' is missing"},
        {"path": "$.header.x-request-id", "message": "required header parameter 'x-request-id' is missing"}]


def test_parameter_values_are_read_as_their_schema_type(validator: RequestValidator) -> None:
    assert check(validator, "GET", "/pets?limit=51", headers=GOOD) == [
        {"path": "$.query.limit", "message": "51 is greater than the maximum of 50"}]
    assert check(validator, "GET", "/pets?limit=many", headers=GOOD) == [
        {"path": "$.query.limit", "message": "'many' is not of type 'integer'"}]
    assert check(validator, "GET", "/pets/0") == [{"path": "$.path.petId",
                                                   "message": "0 is less than the minimum of 1"}]


def test_array_items_are_checked_one_by_one(validator: RequestValidator) -> None:
    assert check(validator, "GET", "/pets?limit=1&tags=1&tags=x", headers=GOOD) == [
        {"path": "$.query.tags[1]", "message": "'x' is not of type 'integer'"}]
    assert check(validator, "GET", "/pets?limit=1&tags=1,2,y", headers=GOOD) == [
        {"path": "$.query.tags[2]", "message": "'y' is not of type 'integer'"}]


def test_a_boolean_that_is_not_true_or_false(validator: RequestValidator) -> None:
    assert check(validator, "GET", "/pets?limit=1&verbose=yes", headers=GOOD) == [
        {"path": "$.query.verbose", "message": "'yes' is not of type 'boolean'"}]


def test_the_body_is_required_and_checked_against_its_schema(validator: RequestValidator) -> None:
    json_type = {"content-type": "application/json; charset=utf-8"}
    assert check(validator, "POST", "/pets", headers=json_type) == [
        {"path": "$.body", "message": "the request body is required"}]
    assert check(validator, "POST", "/pets", headers=json_type, body={"name": "Rex!", "tags": ["long", "ok"]}) == [
        {"path": "$.body.name", "message": "'Rex!' does not match '^[a-z]+$'"},
        {"path": "$.body.tags[0]", "message": "'long' is too long"}]
    assert check(validator, "POST", "/pets", headers=json_type, body={}) == [
        {"path": "$.body", "message": "'name' is a required property"}]


def test_a_body_that_is_not_json(validator: RequestValidator) -> None:
    [violation] = check(validator, "POST", "/pets", headers={"content-type": "application/json"}, body=b"{nope")
    assert violation["path"] == "$.body" and violation["message"].startswith("not valid JSON: ")


def test_the_content_type_must_be_one_declared(validator: RequestValidator) -> None:
    assert check(validator, "POST", "/pets", headers={"content-type": "application/xml"}, body=b"<pet/>") == [
        {"path": "$.header.content-type",
         "message": "content type 'application/xml' is not one of application/json, text/*"}]
    [violation] = validator.check("POST", "/pets", (), {"content-type": "application/xml"}, b"<pet/>")
    assert violation.status == 415  # Prism's answer: 415 Unsupported Media Type
    assert check(validator, "POST", "/pets", headers={"content-type": "text/plain"}, body=b"anything") == []


def test_without_a_content_type_the_first_declared_one_is_assumed(validator: RequestValidator) -> None:
    assert check(validator, "POST", "/pets", body={"name": 5}) == [
        {"path": "$.body.name", "message": "5 is not of type 'string'"}]


def test_nullable_is_openapi_30_only() -> None:
    data = document("3.0.3")
    data["components"]["schemas"]["Pet"]["properties"]["age"] = {"type": "integer"}
    strict = RequestValidator(load_spec(data, "pets.yaml"))
    assert check(strict, "POST", "/pets", body={"name": "a", "age": None}) == [
        {"path": "$.body.age", "message": "None is not of type 'integer'"}]


def test_a_keyword_the_document_got_wrong_is_not_checked() -> None:
    data = document("3.0.3")
    data["paths"]["/pets"]["get"]["parameters"][0]["schema"] = {"type": "integer", "multipleOf": 0}
    wrong = RequestValidator(load_spec(data, "pets.yaml"))
    assert check(wrong, "GET", "/pets?limit=3", headers=GOOD) == []


def test_pattern_properties_and_additional_properties_use_the_safe_patterns() -> None:
    data = document("3.1.0")
    data["paths"]["/pets"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
        "type": "object", "patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}
    strict = RequestValidator(load_spec(data, "pets.yaml"))
    assert check(strict, "POST", "/pets", body={"x-a": "ok"}) == []
    assert check(strict, "POST", "/pets", body={"x-a": 1, "b": 2, "c": 3}) == [
        {"path": "$.body", "message": "'b', 'c' do not match any of the regexes: '^x-'"},
        {"path": "$.body.x-a", "message": "1 is not of type 'string'"}]


def test_check_request_also_gives_the_patterns_it_could_not_check() -> None:
    data = document("3.1.0")
    data["components"]["schemas"]["Pet"]["properties"]["name"]["pattern"] = "(unclosed"
    spec = load_spec(data, "pets.yaml")
    found = RequestValidator(spec)
    refusal, unchecked = check_request(found, IncomingRequest.build("POST", "/pets"), b'{"name": "Rex!"}')
    assert (refusal, unchecked) == (None, ["(unclosed"])
    assert found.off_loop is spec.slow_patterns


def test_a_public_document_checks_its_own_operations() -> None:
    spec = load_spec(read_document(DATA / "oai-v3.0-petstore.yaml"), "petstore")
    found = RequestValidator(spec)
    assert check(found, "GET", "/v1/pets?limit=5") == []
    assert check(found, "GET", "/v1/pets?limit=all") == [
        {"path": "$.query.limit", "message": "'all' is not of type 'integer'"}]
    assert check(found, "GET", "/v1/pets/12") == []


def test_a_violation_as_json() -> None:
    assert Violation("$.query.a", "bad").json() == {"path": "$.query.a", "message": "bad"}


def test_examples_that_break_their_own_schema_are_listed_with_the_path_they_break(tmp_path, capsys):
    """Served as written (the author wrote them), but `postmock validate` says which and where: a missing required
    field, a value outside its enum, a number where a string is declared, an object written as a string."""
    from postmock_nb.bridges.validation import RequestValidator
    from postmock_nb.cli import main
    from postmock_nb.formats.openapi import load_spec

    pet = {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "status": {"type": "string", "enum": ["available", "sold"]},
        "owner": {"type": "object"}}}
    document = {"openapi": "3.0.3", "info": {"title": "pets", "version": "1"}, "paths": {"/pets/{id}": {"get": {
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": pet, "examples": {
            "good": {"value": {"name": "Rex", "status": "sold", "owner": {}}},
            "bad": {"value": {"status": "lost", "owner": '{"id": 1}'}}}}}},
            "404": {"description": "no", "content": {"application/json": {"schema": pet,
                                                                           "example": {"name": 5}}}}}}}}}
    problems = RequestValidator(load_spec(document)).example_problems()
    assert problems == [
        "GET /pets/{id} 200 (example 'bad'): $: 'name' is a required property",
        "GET /pets/{id} 200 (example 'bad'): $.owner: '{\"id\": 1}' is not of type 'object'",
        "GET /pets/{id} 200 (example 'bad'): $.status: 'lost' is not one of ['available', 'sold']",
        "GET /pets/{id} 404 (example): $.name: 5 is not of type 'string'"]
    path = tmp_path / "pets.json"
    path.write_text(json.dumps(document))
    assert main(["validate", str(path)]) == 0  # served: a warning, not an error
    out = capsys.readouterr().out
    assert "examples that break their own schema (served as written, 4):" in out
    assert "  GET /pets/{id} 404 (example): $.name: 5 is not of type 'string'" in out


def test_a_schema_checker_lists_how_a_value_breaks_the_schema_at_a_pointer() -> None:
    """What ``--examples generate`` checks each response example with (RequestValidator is one, with routes)."""
    from postmock_nb.bridges.validation import RequestValidator, SchemaChecker
    from postmock_nb.formats.openapi import load_spec

    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}, "components": {"schemas": {
        "Pet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "nullable": True},
                                                                        "age": {"type": "integer"}}},
        "Address": {"type": "string", "format": "ipv4"}}}}
    checker = SchemaChecker(load_spec(document))
    assert checker.problems("#/components/schemas/Pet", {"name": None, "age": 2}) == []  # 3.0's nullable
    assert checker.problems("#/components/schemas/Pet", {"age": "2"}) == [
        "$: 'name' is a required property", "$.age: '2' is not of type 'integer'"]
    assert isinstance(RequestValidator(checker.spec), SchemaChecker)
    assert checker.problems("#/components/schemas/Address", "localhost") == []  # format: an annotation by default
    assert SchemaChecker(checker.spec, formats=True).problems("#/components/schemas/Address", "localhost") == [
        "$: 'localhost' is not a 'ipv4'"]


# -- Prism's refusals: security (401), formats, the document's own error responses ---------------------------------

REFUSALS = DATA / "local-refusals.yaml"
BASIC = "Basic " + base64.b64encode(b"ann:secret").decode()


@pytest.fixture(scope="module")
def refusals() -> RequestValidator:
    return RequestValidator(load_spec(read_document(REFUSALS), "local-refusals.yaml"))


def refusal(validator: RequestValidator, method: str, url: str, *, headers: dict[str, str] | None = None,
            body: Any = None) -> Refusal | None:
    raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    return check_request(validator, IncomingRequest.build(method, url, headers), raw)[0]


@pytest.mark.parametrize(("method", "url", "headers"), [
    ("GET", "/pets", {"x-api-key": "k"}),  # the document's security
    ("POST", "/pets?api_key=k", {"authorization": BASIC}),  # basic AND a query key
    ("POST", "/pets", {"authorization": "Bearer abc.def"}),  # or a bearer token
    ("POST", "/pets", {"authorization": "bearer abc"}),  # the scheme word in any case
    ("GET", "/pets/3fa85f64-5717-4562-b3fc-2c963f66afa6", {}),  # security: [] opts out
    ("DELETE", "/pets/7", {"authorization": "Bearer t"}),  # oauth2: a bearer token
    ("PUT", "/owners", {"cookie": "theme=dark; session=abc"}),  # a cookie key
    ("PUT", "/owners", {}),  # {} among the alternatives: nothing asked
])
def test_credentials_the_security_requires_pass(refusals: RequestValidator, method: str, url: str,
                                                headers: dict[str, str]) -> None:
    body = {"name": "Rex"} if method == "POST" else None
    assert refusal(refusals, method, url, headers={**headers, "content-type": "application/json"} if body else
                   headers, body=body) is None


@pytest.mark.parametrize(("method", "url", "headers", "challenge", "paths"), [
    ("GET", "/pets", {}, None, ["$.header.X-API-Key"]),  # an API key: Prism sends no challenge
    ("GET", "/pets", {"x-api-key": ""}, None, ["$.header.X-API-Key"]),
    ("POST", "/pets", {"authorization": BASIC}, "Bearer",
     ["$.query.api_key", "$.header.authorization"]),  # basic without the query key, and no bearer either
    ("POST", "/pets?api_key=k", {"authorization": "Basic bm9jb2xvbg=="}, 'Basic realm="*", Bearer',
     ["$.header.authorization", "$.header.authorization"]),  # base64 of "nocolon": not user:password
    ("POST", "/pets?api_key=k", {}, 'Basic realm="*", Bearer', ["$.header.authorization"] * 2),
    ("DELETE", "/pets/7", {"authorization": "Token t"}, "OAuth2", ["$.header.authorization"]),
    ("DELETE", "/pets/7", {"authorization": "Bearer "}, "OAuth2", ["$.header.authorization"]),
])
def test_missing_credentials_call_for_401_with_prisms_challenge(
        refusals: RequestValidator, method: str, url: str, headers: dict[str, str], challenge: str | None,
        paths: list[str]) -> None:
    found = refusal(refusals, method, url, headers=headers, body={"name": "Rex"} if method == "POST" else None)
    assert found is not None and found.status == 401
    assert found.headers == ((("WWW-Authenticate", challenge),) if challenge else ())
    assert [v.path for v in found.violations] == paths


@pytest.mark.parametrize("scheme", [
    {"type": "http"},  # no scheme: an IndexError (a 500) making its challenge
    {"type": "http", "scheme": "  "},
    {"type": "http", "scheme": ["basic"]},
    {"type": "apiKey", "in": "header"},  # no name: a 401 nothing could meet
    {"type": "apiKey", "in": "query", "name": 5},
    "apiKey", {"type": "mutualTLS"}, {"type": "apiKey", "in": "body", "name": "k"},
])
def test_a_security_scheme_the_document_got_wrong_is_not_checked(scheme: Any) -> None:
    """A malformed scheme asks nothing of the request (as one Prism does not check), alone or beside a good one."""
    data = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/p": {"get": {
        "security": [{"bad": []}], "responses": {"200": {"description": "ok"}}}}, "/q": {"get": {
        "security": [{"bad": [], "key": []}], "responses": {"200": {"description": "ok"}}}}},
        "components": {"securitySchemes": {"bad": scheme, "key": {"type": "apiKey", "in": "header", "name": "k"}}}}
    validator = RequestValidator(load_spec(data, "bad.yaml"))
    assert refusal(validator, "GET", "/p") is None
    assert refusal(validator, "GET", "/q", headers={"k": "1"}) is None
    found = refusal(validator, "GET", "/q")
    assert found is not None and [v.path for v in found.violations] == ["$.header.k"]


def test_401_comes_before_every_other_violation(refusals: RequestValidator) -> None:
    found = refusal(refusals, "POST", "/pets", headers={"content-type": "text/csv"}, body=b"a,b")
    assert found is not None and found.status == 401 and {v.status for v in found.violations} == {401}


@pytest.mark.parametrize(("url", "body", "path", "message"), [
    ("/pets?since=yesterday", None, "$.query.since", "'yesterday' is not a 'date-time'"),
    ("/pets", {"name": "Rex", "email": "rex"}, "$.body.email", "'rex' is not a 'email'"),
    ("/pets", {"name": "Rex", "born": "2024-13-01"}, "$.body.born", "'2024-13-01' is not a 'date'"),
    ("/pets/seven", None, "$.path.petId", "'seven' is not a 'uuid'"),
])
def test_formats_are_checked_in_parameters_and_bodies(refusals: RequestValidator, url: str, body: Any, path: str,
                                                      message: str) -> None:
    method = "POST" if body else "GET"
    headers = {"x-api-key": "k", "authorization": "Bearer t", "content-type": "application/json"}
    found = refusal(refusals, method, url, headers=headers, body=body)
    assert found is not None and found.status == 422
    assert [(v.path, v.message) for v in found.violations] == [(path, message)]
    fine = {"name": "Rex", "email": "rex@example.com", "born": "2024-02-29"}
    assert refusal(refusals, "POST", "/pets", headers=headers, body=fine) is None
    assert refusal(refusals, "GET", "/pets?since=2024-02-29T10:00:00Z", headers=headers) is None


def test_the_document_s_own_error_response_answers_when_it_has_one(refusals: RequestValidator) -> None:
    bearer = {"authorization": "Bearer t", "content-type": "application/json"}
    invalid = refusal(refusals, "POST", "/pets", headers=bearer, body={"email": "rex"})
    assert invalid is not None and invalid.documented is not None
    status, headers, body = invalid.documented
    assert (status, headers, json.loads(body)) == (422, (("Content-Type", "application/json"),),
                                                   {"code": 422, "message": "that is not a pet"})
    unauthorized = refusal(refusals, "POST", "/pets", body={"name": "Rex"})
    assert unauthorized is not None and unauthorized.documented is not None
    status, headers, body = unauthorized.documented  # no example: a value made from its schema
    assert (status, json.loads(body)) == (401, {"code": 401, "message": "sign in first"})
    assert ("WWW-Authenticate", 'Bearer realm="pets"') in headers
    media = refusal(refusals, "POST", "/pets", headers={**bearer, "content-type": "text/csv"}, body=b"a,b")
    assert media is not None and media.status == 415  # Prism looks for a 415, then a 422, then a 400
    assert media.documented is not None and media.documented[0] == 422
    bad_id = refusal(refusals, "GET", "/pets/seven")
    assert bad_id is not None and bad_id.documented is not None and bad_id.documented[0] == 400
    no_own = refusal(refusals, "DELETE", "/pets/7")
    assert no_own is not None and no_own.documented is None  # a 401 the document does not describe: ours
    xml = refusal(refusals, "PUT", "/owners", headers={"content-type": "application/json"}, body=b"{}")
    assert xml is not None and (xml.status, xml.documented) == (415, None)


def test_refusal_of_orders_the_statuses_as_prism() -> None:
    assert refusal_of([]) is None
    found = refusal_of([Violation("$.a", "a"), Violation("$.b", "b", 415)])
    assert found is not None and (found.status, [v.path for v in found.violations]) == (415, ["$.b"])
    found = refusal_of([Violation("$.a", "a"), Violation("$.b", "b")])
    assert found is not None and (found.status, len(found.violations), found.headers) == (422, 2, ())


def test_405_under_the_base_path_and_at_the_root_alike() -> None:
    found = RequestValidator(load_spec(read_document(DATA / "swagger-petstore-v3.yaml"), "petstore"))
    for path in ("/api/v3/pet/7", "/pet/7"):
        [violation] = found.check("PUT", path, (), {}, b"")
        assert (violation.status, violation.header) == (405, ("Allow", "GET, POST, DELETE"))
    assert found.check("PUT", "/api/v3/nowhere", (), {}, b"") == []


def test_a_required_read_only_property_is_not_required_in_a_request_nor_a_write_only_one_in_a_response() -> None:
    """OpenAPI: "if the property is marked as readOnly being true and is in the required list, the required will
    take effect on the response only" (and writeOnly: on the request only)."""
    from postmock_nb.bridges.validation import RequestValidator
    from postmock_nb.formats.openapi import load_spec

    pet = {"type": "object", "required": ["id", "name", "password"], "properties": {
        "id": {"$ref": "#/components/schemas/Id"}, "name": {"type": "string"},
        "password": {"type": "string", "writeOnly": True}}}
    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "components": {"schemas": {
        "Id": {"type": "integer", "readOnly": True}, "Pet": pet}}, "paths": {"/pets": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
            "responses": {"201": {"description": "made", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Pet"}}}}}}}}}
    validator = RequestValidator(load_spec(document))
    sent = IncomingRequest.build("POST", "/pets", {"content-type": "application/json"})
    assert check_request(validator, sent, json.dumps({"name": "Rex", "password": "s"}).encode())[0] is None
    found = check_request(validator, sent, json.dumps({"id": 1}).encode())[0]
    assert found is not None and [v.message for v in found.violations] == [
        "'name' is a required property", "'password' is a required property"]
    response = "#/paths/~1pets/post/responses/201/content/application~1json/schema"
    assert validator.problems(response, {"id": 1, "name": "Rex"}) == []
    assert validator.problems(response, {"name": "Rex"}) == ["$: 'id' is a required property"]
