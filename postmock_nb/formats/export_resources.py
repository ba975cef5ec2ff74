"""Resources in an exported OpenAPI document (:mod:`postmock_nb.formats.openapi_export`): a resource's six CRUD
operations share one record schema in ``components/schemas``, inferred from every record its examples hold; each
operation's body and answers refer to it (a list, one record, any part of one for a merge)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from postmock_nb.core import limits
from postmock_nb.core.markers import code_of, parse_resource
from postmock_nb.core.model import Collection, Example
from postmock_nb.formats.inference import infer_schema


def _resource_fields(example: Example) -> dict[str, str] | None:
    code = code_of(example.request.headers)
    return parse_resource(code[1]) if code is not None and code[0] == "resource" else None


def _schema_name(resource: str) -> str:
    words = [word for word in re.split(r"[^A-Za-z0-9]+", resource) if word]
    return "".join(word[:1].upper() + word[1:] for word in words) or "Record"


def _json_value(text: str) -> tuple[bool, Any]:
    try:
        return True, limits.loads(text)
    except ValueError:
        return False, None


def _records(examples: Iterable[Example]) -> list[Any]:
    records: list[Any] = []
    for example in examples:
        ok, value = _json_value(example.response.body)
        if not ok or example.response.status >= 300:
            continue
        records.extend(value if isinstance(value, list) else [value])
    unique = {json.dumps(record, sort_keys=True): record for record in records if isinstance(record, dict)}
    return list(unique.values())  # each record once: the first is every one-record example's body


def resource_schemas(collection: Collection) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each resource's name → (its schema's name in ``components/schemas``, the record schema)."""
    examples: dict[str, list[Example]] = {}
    for example in collection.examples:
        fields = _resource_fields(example)
        if fields and fields.get("name"):
            examples.setdefault(fields["name"], []).append(example)
    schemas: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, found in examples.items():
        records = _records(found)
        schema = infer_schema(records) if records else {"type": "object"}
        schemas[name] = (_schema_name(name), schema)
    return schemas


def record_of(code: tuple[str, str] | None, resources: dict[str, tuple[str, dict[str, Any]]]
               ) -> tuple[str, dict[str, Any]] | None:
    if code is None or code[0] != "resource":
        return None
    return resources.get(parse_resource(code[1]).get("name", ""))


def _ref(record: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{record[0]}"}


def record_schema(record: tuple[str, dict[str, Any]] | None, code: tuple[str, str] | None,
                   status: int) -> dict[str, Any] | None:
    """A resource operation's response schema: its records (list), one record, or none (delete, errors)."""
    if record is None or code is None or status >= 300:
        return None
    op = parse_resource(code[1]).get("op", "")
    if op == "list":
        return {"type": "array", "items": _ref(record)}
    return _ref(record) if op in ("get", "create", "replace", "merge") else None


def record_body_schema(record: tuple[str, dict[str, Any]], code: tuple[str, str] | None) -> dict[str, Any]:
    """A resource's request body: the record (create, replace), any part of it (merge: nothing required)."""
    op = parse_resource(code[1]).get("op", "") if code is not None else ""
    if op == "merge":
        return {key: value for key, value in record[1].items() if key != "required"}
    return _ref(record)
