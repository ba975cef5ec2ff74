"""Checking requests against an OpenAPI document (Prism's validation), for ``--validate-requests``.

A request whose method and path fit one of the document's operations is checked for its
path, query and header parameters (required ones present, values of the declared schema
once read from text: ``"7"`` is an integer) and its body (required, a declared media type,
valid against the schema when JSON). Each violation names its place as a JSON path:
``$.query.limit``, ``$.path.petId``, ``$.header.x-request-id``, ``$.body.tags[0]``.

Schemas are checked by jsonschema: Draft 2020-12 for OpenAPI 3.1, Draft 4 plus OpenAPI's
``nullable`` for 3.0. ``$ref`` inside them is resolved through the document's registry.
Requests no operation describes are not checked (the mock answers them as usual).

Every regular expression the document gives (``pattern``, ``patternProperties`` and the path
templates themselves) runs through :mod:`postmock_nb.core.patterns`, in time linear in the request:
a pattern that cannot be checked in time is a violation naming it, never a stalled server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from jsonschema import Draft4Validator, Draft202012Validator
from jsonschema.exceptions import UnknownType, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from postmock_nb.bridges.styles import Read, read_parameter
from postmock_nb.core import limits, patterns
from postmock_nb.core.model import Pairs
from postmock_nb.core.paths import decode_segment
from postmock_nb.formats.openapi import SPEC_URI, Operation, Spec, is_json_type, iter_operations
from postmock_nb.matching import IncomingRequest

_TEMPLATE = re.compile(r"\{([^{}/]+)\}")


def _nullable_type(validator: Any, types: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    """OpenAPI 3.0's ``nullable: true``: ``null`` is allowed besides the declared type."""
    if instance is None and schema.get("nullable") is True:
        return
    yield from Draft4Validator.VALIDATORS["type"](validator, types, instance, schema)


_UNCHECKED: ContextVar[list[str] | None] = ContextVar("postmock_unchecked_patterns", default=None)
"""The patterns that were not regular expressions, met while checking the current request."""


def _search(pattern: str, text: str) -> bool | None:
    """Whether ``pattern`` matches in ``text``; ``None`` when it is not a regular expression (not checked:
    the document's load listed it as a warning, the request's log note names it)."""
    try:
        return patterns.search(pattern, text)
    except patterns.NotARegex:
        unchecked = _UNCHECKED.get()
        if unchecked is not None and pattern not in unchecked:
            unchecked.append(pattern)
        return None


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """``pattern``, run by :func:`patterns.search` (linear time) instead of Python's backtracking ``re``."""
    if validator.is_type(instance, "string") and _search(pattern, instance) is False:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, properties: dict[str, Any], instance: Any,
                        schema: dict[str, Any]) -> Iterator[ValidationError]:
    """``patternProperties``, the same way (a client chooses the keys it sends)."""
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, allowed: Any, instance: Any,
                           schema: dict[str, Any]) -> Iterator[ValidationError]:
    """``additionalProperties`` beside ``patternProperties`` (jsonschema would search the keys with ``re``)."""
    by_pattern = schema.get("patternProperties")
    if not isinstance(by_pattern, dict) or not by_pattern or not validator.is_type(instance, "object"):
        yield from Draft4Validator.VALIDATORS["additionalProperties"](validator, allowed, instance, schema)
        return
    named = schema.get("properties") or {}
    extras = [key for key in instance
              if key not in named and not any(_search(pattern, key) for pattern in by_pattern)]
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif allowed is False and extras:
        listed = ", ".join(repr(extra) for extra in sorted(extras))
        yield ValidationError(f"{listed} {'does' if len(extras) == 1 else 'do'} not match any of the regexes: "
                              f"{', '.join(repr(pattern) for pattern in sorted(by_pattern))}")


_SAFE_PATTERNS = {"pattern": _pattern, "patternProperties": _pattern_properties,
                  "additionalProperties": _additional_properties}
OpenApi30Validator = extend(  # type: ignore[no-untyped-call]
    Draft4Validator, {"type": _nullable_type, **_SAFE_PATTERNS})
OpenApi31Validator = extend(Draft202012Validator, _SAFE_PATTERNS)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Violation:
    """One way a request breaks the document."""

    path: str
    message: str

    def json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass(frozen=True)
class _Route:
    operation: Operation
    pattern: Any
    """The path template as an RE2 regular expression (``/{a}{b}{c}`` would backtrack in ``re``)."""
    names: tuple[str, ...]

    @property
    def literal_weight(self) -> tuple[int, int]:
        """Routes with fewer templated segments are tried first (``/pets/mine`` before ``/pets/{id}``)."""
        return (len(self.names), -len(self.operation.full_template))


def _route(operation: Operation) -> _Route:
    """The operation's path, under its base path or at the root (as ``prism mock`` serves it)."""
    names = tuple(_TEMPLATE.findall(operation.template))
    regex = "".join(re.escape(part) if index % 2 == 0 else "([^/]+)"
                    for index, part in enumerate(_TEMPLATE.split(operation.template)))
    base = f"(?:{re.escape(operation.base_path)})?" if operation.base_path else ""
    return _Route(operation, patterns.compiled("^" + base + (regex.rstrip("/") or "") + "/?$"), names)


class RequestValidator:
    """The operations of one document, ready to check requests against."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._routes = sorted((_route(op) for op in iter_operations(spec)), key=lambda r: r.literal_weight)
        self._validators: dict[str, Validator] = {}

    @property
    def off_loop(self) -> bool:
        """Whether checks should run on :data:`SLOW_CHECKS`: a pattern on the ``regex`` engine may take
        up to :data:`~postmock_nb.core.limits.PATTERN_SECONDS` (RE2's are linear: on the loop they cost less)."""
        return self.spec.slow_patterns

    @cached_property
    def _validator_class(self) -> Any:
        return OpenApi31Validator if self.spec.is_31 else OpenApi30Validator

    def _validator(self, schema_pointer: str) -> Validator:
        """A validator for the schema at this JSON pointer (``#/paths/…/schema``), made once."""
        found = self._validators.get(schema_pointer)
        if found is None:
            schema = {"$ref": SPEC_URI + schema_pointer}
            found = self._validator_class(schema, registry=self.spec.registry)
            self._validators[schema_pointer] = found
        return found

    def example_problems(self) -> list[str]:
        """Each response example of the document that breaks its own schema (served as written: the author wrote
        it), one line each: ``GET /pets 200 (example): $.tag: 5 is not of type 'string'``."""
        found: list[str] = []
        for operation in iter_operations(self.spec):
            responses = operation.data.get("responses")
            for code, raw in responses.items() if isinstance(responses, dict) else ():
                if str(code).startswith("x-"):
                    continue
                response, at = self.spec.resolve(raw, f"{operation.where}/responses/{code}")
                content = response.get("content") if isinstance(response, dict) else None
                for media_type, media in content.items() if isinstance(content, dict) else ():
                    if not is_json_type(str(media_type)) or not isinstance(media, dict) or "schema" not in media:
                        continue
                    pointer = f"{at}/content/{str(media_type).replace('~', '~0').replace('/', '~1')}/schema"
                    for name, value in _examples_of(self.spec, media, pointer):
                        found += [f"{operation.method.upper()} {operation.full_template} {code} ({name}): "
                                  f"{v.path}: {v.message}" for v in self._schema_violations(pointer, value, "$")]
        return found

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation this request is for, and its path parameters (decoded: ``path`` is the path as matched,
        :func:`~postmock_nb.core.paths.path_as_matched`, where ``heads%2Fmain`` is one segment)."""
        lowered = method.lower()
        for route in self._routes:
            if route.operation.method != lowered:
                continue
            found = route.pattern.match(path)
            if found is not None:
                return route.operation, {name: decode_segment(value)
                                         for name, value in zip(route.names, found.groups(), strict=False)}
        return None

    def check(self, method: str, path: str, query: Pairs, headers: Mapping[str, str], body: bytes) -> list[Violation]:
        """Every violation of the request (empty when it is valid or no operation describes it)."""
        return self.check_noting(method, path, query, headers, body)[0]

    def check_noting(self, method: str, path: str, query: Pairs, headers: Mapping[str, str],
                     body: bytes) -> tuple[list[Violation], list[str]]:
        """:meth:`check`, and the patterns met that are not regular expressions (not checked)."""
        found = self.find(method, path)
        if found is None:
            return [], []
        operation, path_values = found
        violations: list[Violation] = []
        unchecked: list[str] = []
        token = _UNCHECKED.set(unchecked)
        try:
            with patterns.budget():  # one budget for the request's patterns RE2 cannot run
                for parameter, where in operation.parameters:
                    violations.extend(self._check_parameter(parameter, where, path_values, query, headers))
                violations.extend(self._check_body(operation, headers, body))
        finally:
            _UNCHECKED.reset(token)
        return violations, unchecked

    # -- parameters ---------------------------------------------------------------------------

    def _check_parameter(self, parameter: dict[str, Any], where: str, path_values: Mapping[str, str],
                         query: Pairs, headers: Mapping[str, str]) -> list[Violation]:
        place, name = str(parameter.get("in")), str(parameter.get("name"))
        if place == "path":
            raw: list[str] = [path_values[name]] if name in path_values else []
        elif place == "query":
            raw = [v for k, v in query if k == name]
        elif place == "header":
            value = headers.get(name.lower())
            raw = [value] if value is not None else []
        else:
            return []  # cookies are not checked
        label = f"$.{place}.{name}"
        schema = parameter.get("schema")
        resolved = self.spec.resolve(schema, "")[0] if isinstance(schema, dict) else None
        shape = _shape(resolved, self.spec)
        read = read_parameter(parameter, shape, raw=raw, query=query, properties=list(
            resolved.get("properties") or ()) if isinstance(resolved, dict) and shape == "object" else ())
        if read is None:
            required = parameter.get("required") is True or place == "path"
            return [Violation(label, f"required {place} parameter {name!r} is missing")] if required else []
        if not isinstance(resolved, dict):
            return []
        return list(self._schema_violations(f"{where}/schema", _typed(read, resolved, self.spec), label))

    def _schema_violations(self, schema_pointer: str, value: Any, label: str) -> Iterable[Violation]:
        validator = self._validator(schema_pointer)
        try:
            errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        except patterns.UncheckablePattern as uncheckable:
            yield Violation(label, f"{uncheckable}; the value is not checked against it")
            return
        except (TypeError, ValueError, ArithmeticError, AttributeError, LookupError, UnknownType):
            return  # a keyword the document got wrong (`minimum: x`, `multipleOf: 0`, `type: 5`): not checked
        for error in errors:
            yield Violation(label + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path),
                            error.message)

    # -- body ---------------------------------------------------------------------------------

    def _check_body(self, operation: Operation, headers: Mapping[str, str], body: bytes) -> list[Violation]:
        raw = operation.data.get("requestBody")
        if raw is None:
            return []
        request_body, where = self.spec.resolve(raw, f"{operation.where}/requestBody")
        if not isinstance(request_body, dict):
            return []
        if not body:
            required = request_body.get("required") is True
            return [Violation("$.body", "the request body is required")] if required else []
        declared = request_body.get("content")
        content: dict[str, Any] = declared if isinstance(declared, dict) else {}
        sent_type = headers.get("content-type", "").split(";")[0].strip().lower()
        media_key = _media_for(sent_type, content)
        if media_key is None:
            return [Violation("$.header.content-type", f"content type {sent_type or '(none)'!r} is not one of "
                                                       f"{', '.join(content) or '(none declared)'}")]
        media = content[media_key]
        if not is_json_type(media_key) or not isinstance(media, dict) or "schema" not in media:
            return []
        try:
            value = limits.loads(body)  # a body nested too deep is a violation, never a crash
        except ValueError as error:
            return [Violation("$.body", f"not valid JSON: {error}")]
        escaped = media_key.replace("~", "~0").replace("/", "~1")
        schema_where = f"{where}/content/{escaped}/schema"
        return list(self._schema_violations(schema_where, value, "$.body"))


def _examples_of(spec: Spec, media: dict[str, Any], where: str) -> list[tuple[str, Any]]:
    """A media type's examples by name (``example`` for the single one), ``$ref``\\ s followed."""
    found: list[tuple[str, Any]] = []
    if "example" in media:
        found.append(("example", spec.example_data(media["example"], where)))
    examples = media.get("examples")
    for key, entry in examples.items() if isinstance(examples, dict) else ():
        example, _ = spec.resolve(entry, where)
        if isinstance(example, dict) and "value" in example:
            found.append((f"example {key!r}", spec.example_data(example["value"], where)))
    return found


def _media_for(sent_type: str, content: Mapping[str, Any]) -> str | None:
    if not content:
        return None
    for key in content:
        declared = key.split(";")[0].strip().lower()
        if declared == sent_type or declared == "*/*" or (
                declared.endswith("/*") and sent_type.startswith(declared[:-1])):
            return key
    if not sent_type:  # no Content-Type: the first declared type is assumed
        return next(iter(content))
    return None


def _types(schema: dict[str, Any], spec: Spec) -> list[str]:
    resolved, _ = spec.resolve(schema, "")
    declared = resolved.get("type") if isinstance(resolved, dict) else None
    if isinstance(declared, list):
        return [str(t) for t in declared]
    return [str(declared)] if declared else []


def _shape(schema: Any, spec: Spec) -> str:
    """``"array"``, ``"object"`` or ``"primitive"``: what a parameter's schema holds (its first such type)."""
    types = _types(schema, spec) if isinstance(schema, dict) else []
    return next((t for t in types if t in ("array", "object")), "primitive")


def _typed(read: Read, schema: dict[str, Any], spec: Spec) -> Any:
    """A parameter read back (text, texts, property texts) as its schema's types, so ``"7"`` checks as 7."""
    if isinstance(read, list):
        items = schema.get("items", {})
        return [_scalar(v, _types(items, spec) if isinstance(items, dict) else []) for v in read]
    if isinstance(read, dict):
        properties = schema.get("properties")
        known = properties if isinstance(properties, dict) else {}
        return {key: _scalar(value, _types(known[key], spec) if isinstance(known.get(key), dict) else [])
                for key, value in read.items()}
    return _scalar(read, _types(schema, spec))


def _scalar(text: str, types: list[str]) -> Any:
    if "integer" in types and re.fullmatch(r"-?\d+", text):
        return int(text)
    if "number" in types:
        try:
            return float(text) if not re.fullmatch(r"-?\d+", text) else int(text)
        except ValueError:
            pass
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    if "null" in types and text in ("", "null"):
        return None
    return text


SLOW_CHECKS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postmock-slow-patterns")
"""Where requests whose document has patterns RE2 cannot run are checked: one thread, so that a
flood of them uses at most one core (``regex`` lets go of the GIL) and the event loop, answering
everything else, keeps the other; they wait their turn there, each within its own budget."""


def check_request(validator: RequestValidator, request: IncomingRequest,
                  body: bytes) -> tuple[list[Violation], list[str]]:
    """The request's violations (plain records; the HTTP layer decides what answers them) and the patterns
    met that are not regular expressions (not checked). A plain function, to run on :data:`SLOW_CHECKS`."""
    return validator.check_noting(request.method, request.path, request.query, request.headers, body)
