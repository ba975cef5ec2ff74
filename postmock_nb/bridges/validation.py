"""Checking requests against an OpenAPI document (Prism's validation), for ``--validate-requests``.

A request whose method and path fit one of the document's operations is checked for its
path, query and header parameters (required ones present, values of the declared schema
once read from text: ``"7"`` is an integer) and its body (required, a declared media type,
valid against the schema when JSON). Each violation names its place as a JSON path:
``$.query.limit``, ``$.path.petId``, ``$.header.x-request-id``, ``$.body.tags[0]``.

Schemas are checked by jsonschema: Draft 2020-12 for OpenAPI 3.1, Draft 4 plus OpenAPI's
``nullable`` for 3.0, ``format`` by jsonschema's format checker (:data:`FORMATS`). ``$ref`` inside them is
resolved through the document's registry. Requests no operation describes are not checked (the mock
answers them as usual), except a method the document does not give a path it knows (405, with ``Allow``).

As Prism does, each violation says the answer it calls for (:attr:`Violation.status`): the credentials
the operation's ``security`` asks for missing → 401 with Prism's ``WWW-Authenticate`` challenge, a body
of a media type the ``requestBody`` does not list → 415, anything else → 422; :func:`check_request`
makes them one :class:`Refusal`, with the operation's own response for that status when it documents one.

Every regular expression the document gives (``pattern``, ``patternProperties`` and the path
templates themselves) runs through :mod:`postmock_nb.core.patterns`, in time linear in the request:
a pattern that cannot be checked in time is a violation naming it, never a stalled server.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from jsonschema.exceptions import UnknownType, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from postmock_nb.bridges.styles import Read, read_parameter
from postmock_nb.core import limits, patterns, wire
from postmock_nb.core.model import Pairs
from postmock_nb.core.paths import decode_segment
from postmock_nb.errors import PostmockError
from postmock_nb.formats.openapi import (
    OPERATION_METHODS,
    SPEC_URI,
    Operation,
    Spec,
    documented_answer,
    is_json_type,
    iter_operations,
)
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


FORMATS = ("date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname", "ipv4",
           "ipv6", "uri", "uri-reference", "iri", "iri-reference", "uuid", "json-pointer")
"""The ``format`` values checked (those jsonschema can check here: ``date-time`` and ``uri`` need
``rfc3339-validator`` and ``rfc3986-validator``, jsonschema's ``format-nongpl`` extra). ``regex`` is not
(a client's text compiled as a regular expression), nor OpenAPI's own (``int32``, ``byte``, ``password``…)."""
_FORMAT_CHECKER = FormatChecker(formats=[name for name in FORMATS if name in FormatChecker.checkers])

def _required_but(skipped: str) -> Any:
    """``required``, except the properties flagged ``skipped`` (``readOnly`` in a request, ``writeOnly`` in a
    response: OpenAPI's rule, "the required will take effect on the response/request only")."""
    def required(validator: Any, names: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
        if not validator.is_type(instance, "object") or not isinstance(names, list):
            return
        found = schema.get("properties")
        properties: dict[str, Any] = found if isinstance(found, dict) else {}
        for name in names:
            if name not in instance and not _flagged(validator, properties.get(name), skipped):
                yield ValidationError(f"{name!r} is a required property")
    return required


def _flagged(validator: Any, schema: Any, flag: str) -> bool:
    """Whether a property's schema (through one ``$ref``) says ``flag: true``."""
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        try:
            schema = validator._resolver.lookup(schema["$ref"]).contents  # noqa: SLF001 - jsonschema's registry
        except Exception:  # noqa: BLE001 - a reference it cannot follow: not flagged
            return False
    return isinstance(schema, dict) and schema.get(flag) is True


_SAFE_PATTERNS = {"pattern": _pattern, "patternProperties": _pattern_properties,
                  "additionalProperties": _additional_properties}
OpenApi30Validator = extend(  # type: ignore[no-untyped-call]
    Draft4Validator, {"type": _nullable_type, **_SAFE_PATTERNS})
OpenApi31Validator = extend(Draft202012Validator, _SAFE_PATTERNS)  # type: ignore[no-untyped-call]
_BY_PURPOSE = {
    (is_31, skipped): extend(base, {"required": _required_but(skipped)})  # type: ignore[no-untyped-call]
    for is_31, base in ((False, OpenApi30Validator), (True, OpenApi31Validator))
    for skipped in ("readOnly", "writeOnly")}
"""The validator classes for a request (``readOnly`` properties not required) and a response (``writeOnly``)."""


@dataclass(frozen=True)
class Violation:
    """One way a request breaks the document."""

    path: str
    message: str
    status: int = 422
    """The answer it calls for, as Prism's: 401 (credentials), 405 (method), 415 (media type), else 422."""
    header: tuple[str, str] | None = None
    """The header that answer carries: ``("WWW-Authenticate", "Basic realm=\"*\"")``, ``("Allow", "GET, POST")``."""

    def json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass(frozen=True)
class Refusal:
    """How a request that breaks the document is answered: the status its violations call for (a 405 first,
    then 401, then 415, else 422), those violations, the headers they carry, and the operation's own response
    for that status when the document has one (status, headers, body), else ``None`` (the mock's JSON error)."""

    status: int
    violations: tuple[Violation, ...]
    headers: tuple[tuple[str, str], ...]
    documented: tuple[int, Pairs, str] | None = None


_PRIORITY = (405, 401, 415, 422)
_LOOKED_FOR = {401: (401,), 415: (415, 422, 400), 422: (422, 400)}
"""The document's responses Prism answers a refusal with, in order (then ``default``)."""


def refusal_of(violations: list[Violation], operation: Operation | None = None,
               documented: Mapping[int, tuple[int, Pairs, str] | None] | None = None) -> Refusal | None:
    """The :class:`Refusal` for these violations (``None``: none); ``documented``: the operation's own answers."""
    if not violations:
        return None
    status = next(code for code in _PRIORITY if code == 422 or any(v.status == code for v in violations))
    chosen = tuple(v for v in violations if v.status == status)
    values: dict[str, list[str]] = {}
    for violation in chosen:
        if violation.header is not None and violation.header[1] not in values.setdefault(violation.header[0], []):
            values[violation.header[0]].append(violation.header[1])
    answer = documented.get(status) if documented is not None and operation is not None else None
    return Refusal(status, chosen, tuple((name, ", ".join(listed)) for name, listed in values.items()), answer)


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


class SchemaChecker:
    """The schemas of one document, ready to check values against (a validator per schema, made once).
    ``formats``: ``format`` is asserted too (jsonschema's :class:`FormatChecker`: ``date``, ``email``, ``ipv4`` …
    always; ``date-time``, ``uri`` … when the packages jsonschema uses for them are installed), as Prism and
    Schemathesis check a response."""

    def __init__(self, spec: Spec, *, formats: bool = False) -> None:
        self.spec = spec
        self._validators: dict[str, Validator] = {}
        self._format_checker = _FORMAT_CHECKER if formats else None

    def _validator(self, schema_pointer: str) -> Validator:
        """A validator for the schema at this JSON pointer (``#/paths/…/schema``), made once: a response's
        (under ``/responses/``) does not require ``writeOnly`` properties, a request's ``readOnly`` ones."""
        found = self._validators.get(schema_pointer)
        if found is None:
            schema = {"$ref": SPEC_URI + schema_pointer}
            kind = _BY_PURPOSE[(self.spec.is_31, "writeOnly" if "/responses/" in schema_pointer else "readOnly")]
            found = kind(schema, registry=self.spec.registry, format_checker=self._format_checker)
            self._validators[schema_pointer] = found
        return found

    def problems(self, schema_pointer: str, value: Any) -> list[str]:
        """How ``value`` breaks the schema at ``schema_pointer``, one ``$.path: message`` each (empty: it conforms).
        The :data:`~postmock_nb.formats.openapi.ExampleCheck` of ``--examples generate``."""
        return [f"{v.path}: {v.message}" for v in self._schema_violations(schema_pointer, value, "$")]

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


class RequestValidator(SchemaChecker):
    """The operations of one document, ready to check requests against."""

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec, formats=True)  # `format` checked in requests, as Prism checks it
        self._routes = sorted((_route(op) for op in iter_operations(spec)), key=lambda r: r.literal_weight)
        self._answers: dict[tuple[str, int], tuple[int, Pairs, str] | None] = {}
        """(operation, status) → the document's own error answer for it (None: it has none), made once."""

    @property
    def off_loop(self) -> bool:
        """Whether checks should run on :data:`SLOW_CHECKS`: a pattern on the ``regex`` engine may take
        up to :data:`~postmock_nb.core.limits.PATTERN_SECONDS` (RE2's are linear: on the loop they cost less)."""
        return self.spec.slow_patterns

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
        if lowered == "head":  # HEAD is GET's when the document gives the path no HEAD (as the mock answers it)
            return self.find("GET", path)
        return None

    def answering(self, media: str, captured: Mapping[str, str]) -> tuple[Operation, dict[str, str]] | None:
        """The operation an example comes from (its ``x-mock-openapi`` media type pointer) and the path values
        the match captured: what a request the mock answers on a path no template fits exactly (``/Pets``,
        ``//pets``, a near path) is checked against, so that no spelling of a path escapes the checks."""
        for route in self._routes:
            if media.startswith(route.operation.where + "/"):
                return route.operation, dict(captured)
        return None

    def allowed(self, path: str) -> list[str]:
        """The methods the document gives this path (upper case, in the spec's order), or ``[]``: a path it
        does not know."""
        found = {route.operation.method for route in self._routes if route.pattern.match(path) is not None}
        return [method.upper() for method in OPERATION_METHODS if method in found]

    def answers(self, operation: Operation) -> dict[int, tuple[int, Pairs, str] | None]:
        """The operation's own answers to refusals (401, 415, 422: see :data:`_LOOKED_FOR`), each made once."""
        made: dict[int, tuple[int, Pairs, str] | None] = {}
        for status, codes in _LOOKED_FOR.items():
            key = (operation.where, status)
            if key not in self._answers:
                try:
                    self._answers[key] = documented_answer(self.spec, operation, codes)
                except PostmockError:  # an example too big to make: the mock's own error instead
                    self._answers[key] = None
            made[status] = self._answers[key]
        return made

    def check(self, method: str, path: str, query: Pairs, headers: Mapping[str, str], body: bytes) -> list[Violation]:
        """Every violation of the request (empty when it is valid or no operation describes it)."""
        return self.check_noting(method, path, query, headers, body)[0]

    def check_noting(self, method: str, path: str, query: Pairs, headers: Mapping[str, str], body: bytes,
                     answering: tuple[Operation, dict[str, str]] | None = None) -> tuple[list[Violation], list[str]]:
        """:meth:`check`, and the patterns met that are not regular expressions (not checked). ``answering``: the
        operation (and path values) of the example that answers, for a path no template fits (:meth:`answering`)."""
        found = self.find(method, path) or answering
        if found is None:
            return self._unknown_method(method, path), []
        operation, path_values = found
        violations: list[Violation] = self._check_security(operation, query, headers)
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

    def _unknown_method(self, method: str, path: str) -> list[Violation]:
        """A 405 for a method the document does not give a path it knows (HEAD is GET's when it has GET)."""
        allowed = self.allowed(path)
        if not allowed or (method.upper() == "HEAD" and "GET" in allowed):
            return []
        return [Violation("$.method", f"{method.upper()} is not one of the methods the document gives this path: "
                                      f"{', '.join(allowed)}", 405, ("Allow", ", ".join(allowed)))]

    # -- security -----------------------------------------------------------------------------

    def _check_security(self, operation: Operation, query: Pairs, headers: Mapping[str, str]) -> list[Violation]:
        """401s when none of the operation's security requirements (else the document's) is met: the
        requirements are alternatives, the schemes of one all needed; ``security: []`` or ``{}`` asks nothing."""
        requirements = operation.data["security"] if "security" in operation.data else self.spec.data.get("security")
        if not isinstance(requirements, list) or not requirements:
            return []
        failed: list[Violation] = []
        for requirement in requirements:
            if not isinstance(requirement, dict):
                continue
            missing = [v for v in (self._scheme_violation(str(name), query, headers) for name in requirement)
                       if v is not None]
            if not missing:
                return []
            failed += [v for v in missing if v not in failed]
        return failed

    def _scheme_violation(self, name: str, query: Pairs, headers: Mapping[str, str]) -> Violation | None:
        """Why the request does not meet one security scheme (as Prism checks it), or ``None``: it does, or the
        scheme is not one Prism checks (not checked)."""
        components = self.spec.data.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, dict) else None
        raw = schemes.get(name) if isinstance(schemes, dict) else None
        scheme, _ = self.spec.resolve(raw, f"#/components/securitySchemes/{name}") if raw is not None else (None, "")
        if not isinstance(scheme, dict):
            return None
        kind = str(scheme.get("type"))
        if kind == "apiKey":
            return _api_key(name, scheme, query, headers)
        if kind == "http":
            word = scheme.get("scheme")  # required: without one (or not a word) the scheme is not checked
            if not isinstance(word, str) or len(word.split()) != 1:
                return None
            return _http_auth(name, word.strip().lower(), headers.get("authorization", ""))
        if kind in _BEARER_LIKE:
            return _bearer(name, headers.get("authorization", ""), _BEARER_LIKE[kind])
        return None

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
        sent_type = wire.media_type(headers.get("content-type", ""))
        media_key = _media_for(sent_type, content)
        if media_key is None:
            return [Violation("$.header.content-type", f"content type {sent_type or '(none)'!r} is not one of "
                                                       f"{', '.join(content) or '(none declared)'}", 415)]
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


_BEARER_LIKE = {"oauth2": "OAuth2", "openIdConnect": "OpenID"}
"""Schemes Prism checks as a bearer token, and the challenge it sends for each."""
_CHALLENGES = {"basic": 'Basic realm="*"', "bearer": "Bearer", "digest": 'Digest realm="*", nonce="abc123"'}
"""Prism's ``WWW-Authenticate`` challenge for each HTTP scheme (another scheme: its name)."""


def _api_key(name: str, scheme: dict[str, Any], query: Pairs, headers: Mapping[str, str]) -> Violation | None:
    """An API key present where the scheme says (Prism sends no challenge for it)."""
    place, key = str(scheme.get("in")), scheme.get("name")
    if not isinstance(key, str) or not key:  # a scheme without its parameter's name: not checked
        return None
    if place == "header":
        present = bool(headers.get(key.lower()))
    elif place == "query":
        present = any(k == key and v for k, v in query)
    elif place == "cookie":
        present = any(part.split("=", 1)[0].strip() == key and part.split("=", 1)[1:] != [""]
                      for part in headers.get("cookie", "").split(";") if "=" in part)
    else:
        return None
    return None if present else Violation(
        f"$.{place}.{key}", f"security scheme {name!r} needs an API key in the {place} {key!r}", 401)


def _http_auth(name: str, scheme: str, authorization: str) -> Violation | None:
    """``Authorization: <scheme> <credentials>``; for basic, credentials that read as ``user:password``."""
    challenge = _CHALLENGES.get(scheme, scheme.capitalize())
    word, _, credentials = authorization.strip().partition(" ")
    if scheme == "bearer":
        return _bearer(name, authorization, challenge)
    given = word.lower() == scheme and bool(credentials.strip())
    if given and scheme == "basic":
        try:
            given = base64.b64decode(credentials.strip(), validate=True).decode("utf-8", "replace").count(":") == 1
        except (binascii.Error, ValueError):
            given = False
    return None if given else Violation(
        "$.header.authorization", f"security scheme {name!r} needs 'Authorization: {challenge.split()[0]} …'"
        + (" with base64 user:password" if scheme == "basic" else ""), 401, ("WWW-Authenticate", challenge))


def _bearer(name: str, authorization: str, challenge: str) -> Violation | None:
    """``Authorization: Bearer <token>`` (OAuth 2 and OpenID Connect too, as Prism checks them)."""
    if re.fullmatch(r"Bearer\s+\S.*", authorization.strip(), flags=re.IGNORECASE):
        return None
    return Violation("$.header.authorization", f"security scheme {name!r} needs 'Authorization: Bearer <token>'",
                     401, ("WWW-Authenticate", challenge))


def _media_for(sent_type: str, content: Mapping[str, Any]) -> str | None:
    if not content:
        return None
    for key in content:
        declared = wire.media_type(key)
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


def check_request(validator: RequestValidator, request: IncomingRequest, body: bytes,
                  answering: tuple[Operation, dict[str, str]] | None = None) -> tuple[Refusal | None, list[str]]:
    """How the request is refused (``None``: it is valid, or no operation describes it; a plain record, the HTTP
    layer makes the answer) and the patterns met that are not regular expressions (not checked). A plain
    function, to run on :data:`SLOW_CHECKS`. ``answering``: see :meth:`RequestValidator.check_noting`."""
    violations, unchecked = validator.check_noting(request.method, request.path, request.query, request.headers,
                                                   body, answering)
    if not violations:
        return None, unchecked
    found = validator.find(request.method, request.path) or answering
    operation = found[0] if found is not None else None
    return refusal_of(violations, operation, validator.answers(operation) if operation is not None else None), unchecked
