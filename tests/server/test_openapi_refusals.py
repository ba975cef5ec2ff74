"""``--validate-requests`` refuses as Prism does, on a real socket (every server): 405 with ``Allow``, 401 with
``WWW-Authenticate``, 415, ``format`` (422), and the document's own 400/401/422 response when it has one; each
refusal logged with a note that says why, and the examples never reached. (The checks in-process:
tests/unit/bridges/test_validation.py.)"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import requests
from support.openapi_documents import DATA
from support.raw_http import send_as_written

from postmock_nb.bridges.bridges import Bridges
from postmock_nb.core.markers import EXAMPLE_ID_HEADER
from postmock_nb.formats.sources import load_any
from postmock_nb.serving.server import MockServer

BASIC = {"Authorization": "Basic " + base64.b64encode(b"ann:secret").decode()}
BEARER = {"Authorization": "Bearer a-token"}
PET_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.fixture(scope="module")
def mock(server_name: str) -> Iterator[MockServer]:
    from postmock_nb.bridges.validation import RequestValidator

    loaded = load_any(DATA / "local-refusals.yaml")
    assert loaded.spec is not None
    bridges = Bridges(request_validator=RequestValidator(loaded.spec))
    with MockServer(loaded.collection, port=0, server=server_name, bridges=bridges) as running:
        yield running


def last_note(mock: MockServer) -> tuple[int, str]:
    entry = mock.log.recent(1)[0]
    return entry.status, entry.note


def test_a_method_the_path_does_not_document_is_405_with_allow(mock: MockServer) -> None:
    response = requests.patch(mock.url + "/pets", json={}, headers=BEARER, timeout=5)
    assert (response.status_code, response.headers["Allow"]) == (405, "GET, POST")
    error = response.json()["error"]
    assert error["name"] == "mockMethodNotAllowed"
    assert error["violations"] == [{"path": "$.method",
                                    "message": "PATCH is not one of the methods the document gives this path: "
                                               "GET, POST"}]
    assert last_note(mock) == (405, error["message"])
    assert requests.head(mock.url + f"/pets/{PET_ID}", timeout=5).status_code == 200  # HEAD is GET's
    assert requests.get(mock.url + "/not/documented", timeout=5).status_code == 404  # not checked


def test_missing_credentials_are_401_with_prisms_challenge(mock: MockServer) -> None:
    response = requests.get(mock.url + "/pets", timeout=5)  # an API key: no challenge, as Prism
    assert response.status_code == 401 and "WWW-Authenticate" not in response.headers
    error = response.json()["error"]
    assert error["name"] == "mockUnauthorized"
    assert error["violations"] == [{"path": "$.header.X-API-Key",
                                    "message": "security scheme 'apiKeyHeader' needs an API key in the header "
                                               "'X-API-Key'"}]
    status, note = last_note(mock)
    assert status == 401 and note.startswith("the request lacks the credentials the OpenAPI document requires: ")
    assert requests.get(mock.url + "/pets", headers={"X-API-Key": "k"}, timeout=5).json() == [{"name": "Rex"}]
    response = requests.delete(mock.url + "/pets/7", headers={"Authorization": "Token t"}, timeout=5)
    assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, "OAuth2")
    assert requests.delete(mock.url + "/pets/7", headers=BEARER, timeout=5).status_code == 204
    response = requests.put(mock.url + "/owners", data="Ann", headers={"Content-Type": "text/plain"}, timeout=5)
    assert response.text == "saved"  # `{}` among its requirements: credentials optional


def test_the_document_s_own_401_answers_with_the_challenge_it_documents(mock: MockServer) -> None:
    response = requests.post(mock.url + "/pets", json={"name": "Rex"}, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="pets"'
    assert response.json() == {"code": 401, "message": "sign in first"}  # made from its schema
    status, note = last_note(mock)
    assert status == 401 and note.endswith("(answered with the document's 401 response)")
    assert requests.post(mock.url + "/pets?api_key=k", json={"name": "Rex"}, headers=BASIC,
                         timeout=5).status_code == 201


def test_a_media_type_the_operation_does_not_accept_is_415(mock: MockServer) -> None:
    response = requests.put(mock.url + "/owners", json={"name": "Ann"}, timeout=5)
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["name"] == "mockUnsupportedMediaType"
    assert error["violations"] == [{"path": "$.header.content-type", "message": "content type 'application/json' "
                                    "is not one of application/xml, text/plain"}]
    assert last_note(mock)[0] == 415
    response = requests.post(mock.url + "/pets", data="a,b", headers={"Content-Type": "text/csv", **BEARER},
                             timeout=5)  # no 415 documented: its 422, as Prism
    assert (response.status_code, response.json()) == (422, {"code": 422, "message": "that is not a pet"})


def test_formats_are_checked_and_the_document_s_400_answers(mock: MockServer) -> None:
    response = requests.get(mock.url + "/pets?since=yesterday", headers={"X-API-Key": "k"}, timeout=5)
    assert response.status_code == 422
    assert response.json()["error"]["violations"] == [{"path": "$.query.since",
                                                       "message": "'yesterday' is not a 'date-time'"}]
    response = requests.get(mock.url + "/pets/seven", timeout=5)
    assert (response.status_code, response.json()) == (400, {"code": 400, "message": "petId is a uuid"})
    assert "'seven' is not a 'uuid'" in last_note(mock)[1]
    assert requests.get(mock.url + f"/pets/{PET_ID}", timeout=5).json() == {"name": "Rex"}
    response = requests.post(mock.url + "/pets", json={"name": "Rex", "email": "rex"}, headers=BEARER, timeout=5)
    assert (response.status_code, response.json()["message"]) == (422, "that is not a pet")
    assert "$.body.email: 'rex' is not a 'email'" in last_note(mock)[1]


def test_no_refusal_reaches_the_examples_or_the_error_log(mock: MockServer) -> None:
    for method, url, headers in [("GET", "/pets", {}), ("PATCH", "/pets", {}), ("PUT", "/owners", {
            "Content-Type": "application/json"}), ("GET", "/pets/seven", {}), ("POST", "/pets", {})]:
        answer = requests.request(method, mock.url + url, headers=headers, data=b"{}", timeout=5)
        entry = mock.log.recent(1)[0]
        assert answer.status_code in (400, 401, 405, 415, 422) and entry.note, (method, url)
        assert entry.example_id is None and EXAMPLE_ID_HEADER not in answer.headers, (method, url)
    assert mock.errors == []


def raw_status(mock: MockServer, method: str, path: str, headers: dict[str, str] | None = None) -> int:
    """The status for ``path`` sent exactly as written (``//pets``, ``%2F``: no client normalises it)."""
    assert mock.port is not None
    return send_as_written(mock.port, method, path, headers)[0]


@pytest.mark.parametrize("path", ["/Pets", "/PETS/", "//pets", "/%2Fpets", "/pets%2F", "/petz"])
def test_no_spelling_of_a_path_the_mock_answers_escapes_the_checks(mock: MockServer, path: str) -> None:
    """The mock's matching answers a path the document's templates do not fit as written (case, slashes, a near
    path): the request is checked against the operation of the example that answers (they answered 200 without
    the API key the document requires)."""
    assert raw_status(mock, "GET", path) == 401, path
    status, note = last_note(mock)
    assert status == 401 and "X-API-Key" in note
    assert raw_status(mock, "GET", path, {"X-API-Key": "k"}) == 200, path
    assert raw_status(mock, "GET", f"/PETS/{PET_ID}") == 200  # its path parameter as the match captured it
    assert raw_status(mock, "GET", "/PETS/seven") == 400  # and checked


def test_head_is_checked_as_the_get_it_answers_as(mock: MockServer) -> None:
    """HEAD on a path whose GET needs credentials: 401 without them (HEAD was never checked: 200)."""
    assert raw_status(mock, "HEAD", "/pets") == 401
    assert raw_status(mock, "HEAD", "/pets", {"X-API-Key": "k"}) == 200
    assert raw_status(mock, "HEAD", "/pets/seven") == 400
    assert raw_status(mock, "HEAD", "/owners") == 405  # PUT only


def test_the_documents_own_api_key_is_masked_in_the_log_and_the_admin_api():
    """An apiKey scheme names its header and query parameter anything (X-Auth-Token, access_token): the log and
    the admin API mask them as they mask Authorization (issue 23's hostile test found them shown in clear)."""
    from postmock_nb.bridges.validation import RequestValidator
    from postmock_nb.formats.sources import load_data

    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                "components": {"securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
                                                   "query": {"type": "apiKey", "in": "query", "name": "access_token"}}},
                "security": [{"token": []}, {"query": []}],
                "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok"}}}}}}
    loaded = load_data(document, "keys.yaml")
    secret = "tok-0123456789abcdef0123456789abcdef"
    with MockServer(loaded.collection, bridges=Bridges(request_validator=RequestValidator(loaded.spec))) as mock:
        assert requests.get(mock.url + "/pets", headers={"X-Auth-Token": secret}, timeout=5).status_code == 200
        assert requests.get(mock.url + f"/pets?access_token={secret}", timeout=5).status_code == 200
        shown = requests.get(mock.url + "/__postmock/log", timeout=5).text
        entries = mock.log.recent(2)
    assert secret not in shown
    assert all(secret not in entry.url and secret not in str(entry.headers) for entry in entries)
