"""Checking Postman JSON against the official Collection v2.1 JSON Schema (draft-07).

The schema ships with the package (``schemas/collection-v2.1.json``; where it came from is
in ``schemas/README.md``). :func:`validate_postman` returns one readable line per problem,
each starting with the JSON path of the offending value, e.g.
``$.item[0].response: must be an array, not an object``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

SCHEMA_FILE = "collection-v2.1.json"
_MAX_MESSAGE = 200
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
               float: "a number", type(None): "null"}


@lru_cache(maxsize=1)
def collection_schema() -> dict[str, Any]:
    """The official Postman Collection v2.1 schema (draft-07), as parsed JSON."""
    text = resources.files("postmock_nb.formats").joinpath("schemas").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)  # noqa: TID251 - the schema file shipped in the package
    return schema


@lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    return Draft7Validator(collection_schema())


def validate_postman(data: Any) -> list[str]:
    """Problems the official v2.1 schema finds in ``data`` (parsed JSON); empty when valid.

    Each problem is ``"<JSON path>: <what is wrong>"``, in document order.
    """
    errors = sorted(_validator().iter_errors(data), key=lambda e: [(isinstance(p, str), p) for p in e.absolute_path])
    return [_describe(_most_specific(error)) for error in errors]


def _most_specific(error: ValidationError) -> ValidationError:
    """For ``oneOf``/``anyOf`` failures, the sub-error deepest in the document.

    The schema says "an item is a request or a folder"; when an item is a broken request,
    the useful complaint is the one about the request (``$.item[0].response``), not that it
    also fails to be a folder.
    """
    while error.context:
        error = max(error.context, key=lambda e: (len(e.absolute_path), -len(e.context or ())))
    return error


def _describe(error: ValidationError) -> str:
    if error.validator == "type":
        expected: Any = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        found = _JSON_TYPES.get(type(error.instance), type(error.instance).__name__)
        message = f"must be {' or '.join(_article(n) for n in names)}, not {found}"
    else:
        message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE - 1] + "…"
    return f"{error.json_path}: {message}"


def _article(json_type: str) -> str:
    return {"object": "an object", "array": "an array", "integer": "an integer", "null": "null"}.get(
        json_type, f"a {json_type}")
