"""The OpenAPI export's round trip on running mocks: for every example of the repository's fixture collections, a
mock of the exported document (written as YAML, read back as ``postmock serve`` reads it) answers the example's
request with the same status and body as a mock of the original collection (on the default server: the answer is
the engine's, which every server shares; the asking by key runs on every server) — asked as Postman's Send would ask (its rules pick the example), and with
``x-mock-response-name``/``-code`` (one example asked for by name). (The records: unit/formats/test_openapi_export.py;
``postmock serve`` of the exported file: cli/test_openapi_export_cli.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import yaml
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from support.builders import make_collection, make_example
from support.paths import ROOT
from support.roundtrip import answer, served

from postmock_nb.bridges.bridges import Bridges
from postmock_nb.bridges.validation import RequestValidator
from postmock_nb.formats.openapi import collection_from_openapi
from postmock_nb.formats.openapi_export import save_openapi, to_openapi
from postmock_nb.formats.sources import load_any
from postmock_nb.notebook.magics import session_of
from postmock_nb.serving.server import MockServer

FIXTURES = sorted(path for path in [*(ROOT / "tests" / "data").glob("**/*.json"),
                                    *(ROOT / "notebooks" / "data").glob("*.json")] if "openapi" not in path.parts)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_the_exported_document_answers_as_the_collection(path: Path, tmp_path: Path) -> None:
    original = load_any(path).collection
    written, _ = save_openapi(original, tmp_path / "exported.yaml")
    exported = load_any(written).collection
    with MockServer(original, port=0) as before, MockServer(exported, port=0) as after:
        for example in served(original):
            for selected in (False, True):
                expected = answer(before.url, example, original, selected=selected)
                got = answer(after.url, example, original, selected=selected)
                assert got == expected, (example.describe(), "selected" if selected else "as sent")
            twins = [e for e in original.examples if (e.name, e.response.status) == (example.name, example.response.status)]
            if len(twins) == 1:  # asked for by name and code, this very example answers
                asked = answer(after.url, example, original, selected=True)
                assert (asked.status, asked.example_id) == (example.response.status, example.id), example.describe()


def test_prefer_example_asks_for_an_exported_example_by_its_key(server_name: str) -> None:
    json_type = {"Content-Type": "application/json"}
    original = make_collection(make_example("GET /pets/:id", "A cat", body='{"kind": "cat"}', headers=json_type),
                               make_example("GET /pets/:id", "A dog", body='{"kind": "dog"}', headers=json_type))
    document = json.loads(json.dumps(to_openapi(original).document))
    exported, _ = collection_from_openapi(document, "pets exported")
    with MockServer(exported, port=0, server=server_name) as mock:
        assert requests.get(mock.url + "/pets/1", timeout=10).json() == {"kind": "cat"}
        asked = requests.get(mock.url + "/pets/1", headers={"Prefer": "example=A-dog"}, timeout=10)
        assert (asked.status_code, asked.json()) == (200, {"kind": "dog"})


def test_request_headers_and_credentials_served_back_and_validated_as_the_examples_send_them(server_name: str) -> None:
    """Header parameters (one required), a bearer token and an API key exported as security schemes: the exported
    document under ``--validate-requests`` answers each example's own request as the collection does (the header one
    example matches on, ``x-mock-match-request-headers``, included), and refuses a request without the header every
    example sends (422) or without any credential when every example sends one (401)."""
    json_type = {"Content-Type": "application/json"}
    original = make_collection(
        make_example("GET /reports", "Acme", body='{"tenant": "acme"}', headers=json_type,
                     request_headers={"X-Tenant": "acme", "Authorization": "Bearer a.b.c",
                                      "x-mock-match-request-headers": "x-tenant"}),
        make_example("GET /reports", "Globex", body='{"tenant": "globex"}', headers=json_type,
                     request_headers={"X-Tenant": "globex", "X-API-Key": "k-123456789", "X-Trace": "1",
                                      "x-mock-match-request-headers": "x-tenant"}))
    document = json.loads(json.dumps(to_openapi(original).document))
    exported, spec = collection_from_openapi(document, "reports exported")
    bridges = Bridges(request_validator=RequestValidator(spec))
    with MockServer(original, port=0, server=server_name) as before, \
            MockServer(exported, port=0, server=server_name, bridges=bridges) as after:
        for example in original.examples:
            for selected in (False, True):
                expected = answer(before.url, example, original, selected=selected)
                assert expected.example_name == example.name
                assert answer(after.url, example, original, selected=selected) == expected, example.describe()
        no_tenant = requests.get(after.url + "/reports", headers={"Authorization": "Bearer t"}, timeout=10)
        assert no_tenant.status_code == 422
        assert [v["path"] for v in no_tenant.json()["error"]["violations"]] == ["$.header.X-Tenant"]
        assert requests.get(after.url + "/reports", headers={"X-Tenant": "acme"}, timeout=10).status_code == 401


def test_mock_save_openapi_while_the_mock_runs_writes_no_server_of_its_own(shell: InteractiveShell,
                                                                            tmp_path: Path) -> None:
    """The contract is the real API's: the running mock's address is no ``servers`` entry (a Postman save keeps
    it as ``baseUrl``); a ``baseUrl`` the collection sets is."""
    shell.run_cell_magic("example", "GET /users/1", '{"id": 1}')
    with capture_output():
        shell.run_line_magic("mock", "start --port 0 --no-dashboard")
    session = session_of(shell)
    assert session is not None and session.url
    with capture_output():
        shell.run_line_magic("mock", f"save {tmp_path / 'api.yaml'} --openapi")
    document = yaml.safe_load((tmp_path / "api.yaml").read_text())
    assert "servers" not in document and session.url not in (tmp_path / "api.yaml").read_text()
    saved = session.save(tmp_path / "api.postman_collection.json")
    assert session.url in saved.read_text()
