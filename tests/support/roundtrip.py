"""The round trip of an OpenAPI export: each example's request sent to a mock of the original collection and to
a mock of the exported document, the answers compared (tests/server and tests/cli, benchmarks/openapi_roundtrip.py).

An example's request is what Postman's Send would send: its path with the saved path-variable values and the
collection's variables filled in (a variable left empty: ``1``), its query, its headers (not the ``x-mock-*``
markers), its body. ``selected`` adds ``x-mock-response-name`` and ``x-mock-response-code``: Postman's own way to
ask for one example where its matching rules alone would pick another."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import requests

from postmock_nb.core.markers import RESPONSE_CODE, RESPONSE_NAME, is_mock_name
from postmock_nb.core.model import Collection, Example
from postmock_nb.core.paths import fill_saved_variables, resolve_variables

TIMEOUT = 10
DYNAMIC = re.compile(r"\{\{\$(random|guid|timestamp|isoTimestamp)")
"""A body with one of these is different on every answer: compared by status and JSON keys only."""
_LEFT = re.compile(r"(?<=/):[^/]+|\{\{[^{}]+\}\}")
_UNSENT = {"host", "content-length", "connection", "transfer-encoding"}


@dataclass(frozen=True)
class Answer:
    status: int
    example_name: str
    """The ``x-mock-example-name`` of the answer: which example answered."""
    body: Any
    """The JSON value, else the text; for a dynamic body, the sorted keys of its JSON object (or None)."""
    example_id: str = field(default="", compare=False)
    """Its ``x-mock-example-id`` (the same after an export, but a file without ids gets new ones on each load)."""


def request_of(example: Example, variables: dict[str, str]) -> tuple[str, str, dict[str, str], list[tuple[str, str]],
                                                                        bytes]:
    """(method, path, headers, query, body) of the example's request."""
    request = example.request
    path = resolve_variables(fill_saved_variables(request.path, request.path_variables), variables)
    path = _LEFT.sub("1", path)
    headers = {key: resolve_variables(value, variables) for key, value in request.headers
               if not is_mock_name(key) and key.lower() not in _UNSENT}
    query = [(key, resolve_variables(value, variables)) for key, value in request.query if not is_mock_name(key)]
    return request.method, path, headers, query, resolve_variables(request.body, variables).encode()


def answer(base_url: str, example: Example, collection: Collection, *, selected: bool) -> Answer:
    """The answer of a mock at ``base_url`` to ``example``'s request (a body is dynamic when the example that
    answered, in ``collection``, has a dynamic one)."""
    variables = dict(collection.variables)
    method, path, headers, query, body = request_of(example, variables)
    if selected:
        headers = {**headers, RESPONSE_NAME: example.name, RESPONSE_CODE: str(example.response.status)}
    got = requests.request(method, base_url + path, params=query, headers=headers, data=body or None,
                           timeout=TIMEOUT, allow_redirects=False)
    name = got.headers.get("x-mock-example-name", "")
    dynamic = any(DYNAMIC.search(found.response.body) for found in collection.examples if found.name == name)
    return Answer(got.status_code, name, _body(got.text, dynamic=dynamic), got.headers.get("x-mock-example-id", ""))


def _body(text: str, *, dynamic: bool) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        return None if dynamic else text
    if dynamic:
        return sorted(value) if isinstance(value, dict) else None
    return value


def served(collection: Collection) -> list[Example]:
    """The examples a mock serves (1xx ones are kept in files, never answered)."""
    return [example for example in collection.examples if example.response.status >= 200]
