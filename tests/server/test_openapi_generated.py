"""Answers made from schemas (no example in the document) satisfy them, over a real socket: each response body
checked by jsonschema against its schema, and each request body the items send (made from the request schema,
readOnly fields left out) against the request's schema (issue 23)."""

from __future__ import annotations

import json

import pytest
import requests
from support.openapi_documents import DATA
from support.schema_checks import problems

from postmock_nb.formats.openapi import Spec, iter_operations, pointer
from postmock_nb.formats.sources import load_any
from postmock_nb.serving.server import MockServer

DOCUMENTS = ["local-3.0-constraints.yaml", "local-3.1-constraints.yaml"]
JSON = "application~1json"


def _schemas(spec: Spec) -> dict[tuple[str, str, int], tuple[str, str]]:
    """(METHOD, path with :names, status) → the JSON pointers of its request and response JSON schemas."""
    found = {}
    for operation in iter_operations(spec):
        sent = f"{operation.where}/requestBody/content/{JSON}/schema" if "requestBody" in operation.data else ""
        for code in operation.data.get("responses", {}):
            answered = f"{operation.where}/responses/{pointer(code)[2:]}/content/{JSON}/schema"
            found[(operation.method.upper(), operation.postman_path, int(code))] = (sent, answered)
    return found


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_generated_answer_and_request_satisfies_its_schema(document: str, server_name: str) -> None:
    loaded = load_any(DATA / document)
    spec = loaded.spec
    assert spec is not None and spec.warnings == []
    schemas = _schemas(spec)
    checked = 0
    with MockServer(loaded.collection, server=server_name) as mock:
        for item in loaded.collection.items:
            sent = item.request
            path = sent.path
            for name, given in sent.path_variables:
                path = path.replace(f":{name}", given)
            response = requests.request(sent.method, mock.url + path, data=sent.body.encode() or None,
                                        headers=dict(sent.headers), timeout=10)
            request_schema, response_schema = schemas[(sent.method, sent.path, response.status_code)]
            assert problems(spec, response_schema, response.json(), "writeOnly") == [], (path, response.text)
            if request_schema:
                assert problems(spec, request_schema, json.loads(sent.body), "readOnly") == [], (path, sent.body)
            checked += 1
    assert checked == len(loaded.collection.items) >= 2
