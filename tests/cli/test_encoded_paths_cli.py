"""Issue 23, defect 2, through ``postmock serve`` on an OpenAPI document: GitHub's and Azure's path parameters
sent with a percent-encoded slash are served, and ``--validate-requests`` checks their decoded values."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import SERVING, TIMEOUT, postmock
from support.raw_http import send_as_written

DOCUMENT = """\
openapi: 3.0.3
info: {title: encoded slashes, version: '1'}
paths:
  /repos/{owner}/{repo}/git/ref/{ref}:
    get:
      parameters:
        - {name: owner, in: path, required: true, schema: {type: string}}
        - {name: repo, in: path, required: true, schema: {type: string}}
        - {name: ref, in: path, required: true, schema: {type: string, pattern: '^(heads|tags)/'}}
      responses:
        '200':
          description: a git reference
          content: {application/json: {example: {ref: refs/heads/feature-a}}}
  /v2/{name}/blobs/{digest}:
    get:
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
        - {name: digest, in: path, required: true, schema: {type: string}}
      responses:
        '200':
          description: a blob
          content: {application/json: {example: {size: 3}}}
"""


def get(port: int, target: str) -> tuple[int, str]:
    """``GET target`` sent exactly as written."""
    return send_as_written(port, "GET", target, timeout=TIMEOUT)


def test_serve_an_openapi_document_with_encoded_slashes_in_path_parameters(tmp_path: Path) -> None:
    spec = tmp_path / "slashes.yaml"
    spec.write_text(DOCUMENT, encoding="utf-8")
    with postmock("serve", str(spec), "--port", "0", "--validate-requests") as cli:
        port = int(cli.wait_for(SERVING).group(4))
        github = get(port, "/repos/octo/hello/git/ref/heads%2Ffeature-a")
        azure = get(port, "/v2/test%2Fbash/blobs/sha256:abc")
        unencoded = get(port, "/v2/test/bash/blobs/sha256:abc")  # a real slash: not this operation's path
        refused = get(port, "/repos/octo/hello/git/ref/main")
        assert cli.interrupt() == 0
    assert github[0] == 200 and json.loads(github[1]) == {"ref": "refs/heads/feature-a"}, github
    assert azure[0] == 200 and json.loads(azure[1]) == {"size": 3}, azure
    assert unencoded[0] == 404
    assert refused[0] == 422 and json.loads(refused[1])["error"]["violations"] == [
        {"path": "$.path.ref", "message": "'main' does not match '^(heads|tags)/'"}]
