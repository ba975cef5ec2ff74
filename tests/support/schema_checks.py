"""A generated value checked against its OpenAPI schema by jsonschema (the validator classes request validation
uses, formats checked), with OpenAPI's rule for ``required``: a ``readOnly`` property is required only in
responses, a ``writeOnly`` one only in requests (tests/unit/formats/test_schemagen.py,
tests/server/test_openapi_generated.py)."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft4Validator
from jsonschema.validators import extend

from postmock_nb.bridges.validation import OpenApi30Validator, OpenApi31Validator
from postmock_nb.formats.openapi import SPEC_URI, Spec


def problems(spec: Spec, where: str, value: Any, skip: str) -> list[str]:
    """What jsonschema finds wrong with ``value`` for the schema at ``where`` (``skip``: ``readOnly`` for a
    request, ``writeOnly`` for a response), one line each."""
    validator_class = OpenApi31Validator if spec.is_31 else OpenApi30Validator
    checking = extend(validator_class, {"required": _required_without(skip, spec)})
    validator = checking({"$ref": SPEC_URI + where}, registry=spec.registry,
                         format_checker=validator_class.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(value)]


def _required_without(skip: str, spec: Spec) -> Any:
    def required(validator: Any, names: Any, instance: Any, schema: dict[str, Any]) -> Any:
        properties = schema.get("properties") or {}
        kept = [n for n in names if not _flagged(properties.get(n), skip, spec, 0)]
        yield from Draft4Validator.VALIDATORS["required"](validator, kept, instance, schema)
    return required


def _flagged(schema: Any, flag: str, spec: Spec, hops: int) -> bool:
    if not isinstance(schema, dict) or hops > 8:
        return False
    ref = schema.get("$ref")
    return (schema.get(flag) is True or (isinstance(ref, str) and _flagged(spec.lookup(ref), flag, spec, hops + 1))
            or any(_flagged(part, flag, spec, hops + 1) for part in schema.get("allOf") or ()))
