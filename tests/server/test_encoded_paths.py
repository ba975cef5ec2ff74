"""Issue 23, defect 2: a percent-encoded slash in a path parameter, on each server over a real socket.

Every HTTP server hands the app its path decoded (``/files/a%2Fb`` → ``/files/a/b``, two segments); the mock
matches the segments as sent (``raw_path``) and decodes each captured value once, for Postman collections and
OpenAPI documents alike. Requests go out through http.client, which sends the target exactly as written.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.raw_http import send_as_written

from postmock_nb.behaviours.handlers import Reply, Request
from postmock_nb.bridges.bridges import Bridges
from postmock_nb.bridges.validation import RequestValidator
from postmock_nb.core.model import Collection
from postmock_nb.formats.openapi import collection_from_openapi, load_spec
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.serving.server import MockServer
from postmock_nb.session import Session

TIMEOUT = 5


def get(server: MockServer, target: str) -> tuple[int, str]:
    """``GET target`` sent as written (no client re-encoding), its status and body."""
    assert server.port is not None
    return send_as_written(server.port, "GET", target, timeout=TIMEOUT)


@pytest.fixture
def files(build) -> Collection:
    return build.collection(
        build.example("GET /files/:name", "one file", body='{"name": "{{name}}"}'),
        build.example("GET /files/a%2Fb/raw", "literal", body="an encoded slash in the example's own path"),
        build.example("GET /café", "accented", body="café"))


def test_a_postman_path_variable_captures_an_encoded_slash(server_name: str, files: Collection) -> None:
    with MockServer(files, server=server_name) as server:
        answers = {target: get(server, target) for target in (
            "/files/a%2Fb", "/files/a%2fb", "/files/a%252Fb", "/files/a/b", "/files/a%2Fb/raw", "/caf%C3%A9")}
        logged = [(entry.path, entry.status) for entry in server.log.entries]
    assert answers["/files/a%2Fb"] == (200, '{"name": "a/b"}')
    assert answers["/files/a%2fb"] == (200, '{"name": "a/b"}')
    assert answers["/files/a%252Fb"] == (200, '{"name": "a%2Fb"}')  # double-encoded: decoded once
    assert answers["/files/a/b"][0] == 404  # a real slash: two segments, no example
    assert answers["/files/a%2Fb/raw"] == (200, "an encoded slash in the example's own path")
    assert answers["/caf%C3%A9"] == (200, "café")  # literal segments compare decoded
    # the log shows the path with its encoded slash (not a path of another shape)
    assert logged == [("/files/a%2Fb", 200), ("/files/a%2Fb", 200), ("/files/a%252Fb", 200), ("/files/a/b", 404),
                      ("/files/a%2Fb/raw", 200), ("/café", 200)]
    assert server.errors == []


def _operation(*names: str, pattern: str = "") -> dict[str, Any]:
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names]
    if pattern:
        parameters[-1]["schema"]["pattern"] = pattern
    return {"get": {"parameters": parameters, "responses": {"200": {"description": "ok", "content": {
        "application/json": {"example": {"found": True}}}}}}}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3", "info": {"title": "encoded slashes", "version": "1"},
    "paths": {
        # GitHub's REST description: a ref is "heads/feature-a", sent as heads%2Ffeature-a
        "/repos/{owner}/{repo}/git/ref/{ref}": _operation("owner", "repo", "ref", pattern="^(heads|tags)/"),
        # Azure Container Registry: a repository name holds slashes
        "/v2/{name}/blobs/{digest}": _operation("name", "digest"),
    },
}


def test_openapi_operations_with_encoded_slashes_are_served_and_validated_decoded(server_name: str) -> None:
    collection, spec = collection_from_openapi(DOCUMENT)
    validator = RequestValidator(load_spec(DOCUMENT))
    with MockServer(collection, server=server_name, bridges=Bridges(request_validator=validator)) as server:
        github = get(server, "/repos/octo/hello/git/ref/heads%2Ffeature-a")
        azure = get(server, "/v2/test%2Fbash/blobs/sha256:abc")
        wrong = get(server, "/repos/octo/hello/git/ref/main")  # a 422 shows the value validation saw
        double = get(server, "/repos/octo/hello/git/ref/heads%252Ffeature-a")
    assert github[0] == 200 and json.loads(github[1]) == {"found": True}, github
    assert azure[0] == 200 and json.loads(azure[1]) == {"found": True}, azure
    assert wrong[0] == 422 and json.loads(wrong[1])["error"]["violations"] == [
        {"path": "$.path.ref", "message": "'main' does not match '^(heads|tags)/'"}]
    assert double[0] == 422 and "'heads%2Ffeature-a' does not match" in double[1]  # decoded once, no more


def test_a_handler_sees_the_decoded_value_and_the_path_as_sent(server_name: str) -> None:
    session = Session()
    try:
        proto = Prototype(session)

        @proto.handler("GET /refs/:ref")
        def ref(request: Request) -> Reply:
            return Reply({"ref": request.path_vars["ref"], "path": request.path})

        server = session.start(port=0, server=server_name)
        assert server.port is not None
        status, body = get(server, "/refs/heads%2Ffeature-a")
    finally:
        session.close()
    assert status == 200 and json.loads(body) == {"ref": "heads/feature-a", "path": "/refs/heads%2Ffeature-a"}
