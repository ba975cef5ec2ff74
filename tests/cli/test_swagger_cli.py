"""``postmock serve`` and ``postmock validate`` of a Swagger 2.0 document (the OAI petstore): read as the OpenAPI 3.0
document it describes, served under its basePath and at the root as ``prism mock`` serves it, its bodies valid against
the converted schema, and ``--validate-requests`` refusing a bad query with 422."""

from __future__ import annotations

import json

import jsonschema
import requests
from support.cli import SERVING, START_TIMEOUT, TIMEOUT, postmock
from support.openapi_documents import DATA

from postmock_nb.formats.swagger import to_openapi3

PETSTORE = DATA / "oai-v2.0-petstore.json"


def converted_schema(name: str) -> dict[str, object]:
    """``#/components/schemas/NAME`` of the converted petstore, with the components its ``$ref``s point into."""
    document, _ = to_openapi3(json.loads(PETSTORE.read_text(encoding="utf-8")), "petstore")
    return {"$ref": f"#/components/schemas/{name}", "components": document["components"]}


def test_serve_answers_a_swagger_2_document_under_its_base_path_and_at_the_root() -> None:
    with postmock("serve", str(PETSTORE), "--port", "0", "--validate-requests") as cli:
        url = cli.wait_for(SERVING).group(3)
        listed = requests.get(url + "/v1/pets", timeout=TIMEOUT)
        assert listed.status_code == 200 and listed.headers["content-type"].startswith("application/json")
        jsonschema.validate(listed.json(), converted_schema("Pets"))
        assert listed.json() == [{"id": 0, "name": "string", "tag": "string"}]
        assert listed.headers["x-next"] == "string"
        at_root = requests.get(url + "/pets", timeout=TIMEOUT)
        assert at_root.status_code == 200 and at_root.json() == listed.json()
        assert requests.get(url + "/v1/pets?limit=10", timeout=TIMEOUT).status_code == 200
        refused = requests.get(url + "/v1/pets?limit=lots", timeout=TIMEOUT)
        assert refused.status_code == 422
        assert refused.json()["error"]["violations"] == [{"path": "$.query.limit",
                                                          "message": "'lots' is not of type 'integer'"}]
        failed = requests.get(url + "/v1/pets", headers={"x-mock-response-code": "500"}, timeout=TIMEOUT)
        assert failed.status_code == 500
        jsonschema.validate(failed.json(), converted_schema("Error"))
        assert requests.post(url + "/v1/pets", timeout=TIMEOUT).status_code == 201
        assert cli.interrupt() == 0
    assert "warning" not in cli.output()


def test_validate_says_the_document_is_read_as_openapi_3() -> None:
    with postmock("validate", str(PETSTORE)) as cli:
        assert cli.process.wait(START_TIMEOUT) == 0
        out = cli.output()
    assert "Swagger 2.0 document (read as OpenAPI 3.0) 'Swagger Petstore' can be served: 6 examples" in out
    assert "GET     /v1/pets/:petId  200  Expected response to a valid request" in out
