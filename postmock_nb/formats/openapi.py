"""OpenAPI 3.0 / 3.1 documents in: every operation and every response code becomes examples.

How a document becomes a collection:

- each operation (``paths`` × get/put/post/delete/options/head/patch) is a request (item),
  named by its ``summary``, else ``operationId``, else ``METHOD /path``, filed in a folder
  named by its first tag;
- ``{id}`` path templates become ``:id`` path variables; the base path of the first server
  (of the operation, else the path, else the document; server variables at their defaults)
  is put before every path, so ``servers: [{url: https://api.example.com/v1}]`` serves
  ``/v1/pets``;
- each response code is one example (``2XX`` → 200, ``default`` → 500, or 200 when it is the only
  one, as Prism answers; an operation with no ``responses``, valid in 3.1, answers 200 with no body and an
  ``X-Postmock-Note`` saying why), or one per named
  example when the media type has ``examples``; the body is the media type's
  ``examples``/``example``, else a value generated from the schema
  (:mod:`postmock_nb.formats.schemagen`); response headers come along; a JSON media type is
  preferred when a response offers several;
- examples are ordered success first, so a plain request gets the lowest 2xx answer and
  ``x-mock-response-code`` picks the others (a document postmock exported keeps the collection's order: below).
- a document postmock exported (:mod:`postmock_nb.formats.openapi_export`) is read back as it was: a
  response whose examples carry ``x-postmock-example`` gives those examples (their Postman request, id,
  status and headers, the body from the ``value``), ``x-postmock-markers`` back in their request headers,
  and the response's ``x-postmock-examples`` too, in the collection's order (``x-postmock-order``: a plain
  request gets the collection's first example, not the lowest 2xx); ``x-postmock-variables`` are the
  collection's variables.

``$ref`` lookups go through the ``referencing`` library (the one jsonschema uses); every
reference in the document is checked when it is read, so a ``$ref`` to nowhere is one error
naming where it is. References to other files or URLs are refused with a clear error.

Making example values is bounded, each (:data:`~postmock_nb.core.limits.MAX_EXAMPLE_STEPS`) and all
of a document's together (:data:`~postmock_nb.core.limits.MAX_DOCUMENT_EXAMPLE_STEPS`): ``$ref``
keys that fan out are one error naming the schema, not minutes of work.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT4, DRAFT202012

from postmock_nb.core import limits, patterns, wire
from postmock_nb.core.markers import (
    BASE_PATH_MARKER,
    CALLBACK_BODY_MARKER,
    CALLBACK_MARKER,
    CALLBACK_METHODS,
    OPENAPI_MARKER,
    SSE_MARKER,
    OpenApiSource,
    parse_callback,
)
from postmock_nb.core.model import Collection, Example, Item, Pairs, RequestSpec, ResponseSpec, reason_phrase
from postmock_nb.errors import CollectionFormatError, ExampleDefinitionError
from postmock_nb.formats.expressions import Scope, Unmappable, url_template
from postmock_nb.formats.postman import parse_example
from postmock_nb.formats.schemagen import REQUEST, RESPONSE, Budget, ExampleTooBig, Purpose, example_value, followed
from postmock_nb.formats.schemaonly import stripping, without_examples

SPEC_URI = "urn:postmock:openapi"
# what postmock's own export (formats/openapi_export.py) writes beside what OpenAPI says, read back here
POSTMOCK_EXAMPLE = "x-postmock-example"
"""On a named example: the example as a Postman example object (id, name, request, status, headers; the body
when the ``value`` cannot give it back): read back as it was, so the mock matches as the collection did."""
POSTMOCK_MARKERS = "x-postmock-markers"
"""Beside ``x-postmock-example``: the example's ``x-mock-*`` markers (scenario, sequence, delay, fault, SSE…)."""
POSTMOCK_EXAMPLES = "x-postmock-examples"
"""On a response: the examples not under the media type this reader picks (no body, or another media type)."""
POSTMOCK_ORDER = "x-postmock-order"
"""Beside ``x-postmock-example``: the example's place among its operation's examples (the collection's order,
which a plain request's answer depends on: the first example), read back in that order."""
POSTMOCK_VARIABLES = "x-postmock-variables"
"""On the document: the collection's variables, ``[[name, value], …]``."""
POSTMOCK_COMPUTED = "x-postmock-computed"
"""On an operation: ``{handler: key}`` or ``{resource: marker}``: answered by code, its examples are samples."""
OPERATION_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_TEMPLATE = re.compile(r"\{([^{}/]+)\}")

EXAMPLES_AS_WRITTEN, EXAMPLES_GENERATE = "as-written", "generate"
"""``--examples``: serve each response example as the document writes it (the default), or, for an example that
breaks its own schema, a value generated from the schema instead."""
ExampleCheck = Callable[[str, Any], list[str]]
"""How a value breaks the schema at a JSON pointer (``$.path: message`` each; empty: it conforms)."""
CheckFactory = Callable[["Spec"], ExampleCheck]
"""Makes a document's :data:`ExampleCheck` (``bridges.validation.SchemaChecker``: jsonschema, slow to import)."""


class SpecFormatError(CollectionFormatError):
    """An OpenAPI document that cannot be read (wrong version, bad shape, broken ``$ref``)."""


def pointer(*parts: str | int) -> str:
    """The JSON pointer ``#/paths/~1pets/get`` for these keys."""
    return "#" + "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def is_openapi(data: Any) -> bool:
    """Does this parsed document say it is OpenAPI (or Swagger)?"""
    return isinstance(data, dict) and ("openapi" in data or "swagger" in data)


@dataclass
class Spec:
    """A parsed OpenAPI 3.x document with its ``$ref`` resolver."""

    data: dict[str, Any]
    source: str = "OpenAPI document"
    version: str = field(init=False)
    registry: Registry[Any] = field(init=False, repr=False)
    example_steps: int = field(init=False, repr=False)
    """Steps left for making the document's example values (all of them together)."""
    warnings: list[str] = field(init=False, repr=False)
    """What the document has that is not refused but not used either (a ``pattern`` that is not a regex)."""
    slow_patterns: bool = field(init=False, repr=False)
    """Whether a ``pattern`` needs the ``regex`` engine (lookaround, backreferences: not linear time)."""
    webhooks: dict[str, Webhook] = field(init=False, repr=False)
    """The document's ``webhooks`` (OpenAPI 3.1) by name, as :func:`spec_to_collection` read them."""
    example_check: ExampleCheck | None = field(default=None, init=False, repr=False)
    """With ``--examples generate``: each response example is checked against its schema with this, and one that
    breaks it is served as a value generated from the schema (None: examples are served as written)."""
    replaced: list[str] = field(init=False, repr=False)
    """The examples served as a generated value instead (``GET /pets 200 (example 'bad'): $.x: why``)."""
    kept: list[str] = field(init=False, repr=False)
    """The examples that break their schema but are served as written: no generated value conforms either."""

    def __post_init__(self) -> None:
        self.example_steps = limits.MAX_DOCUMENT_EXAMPLE_STEPS
        self.version = _check_version(self.data, self.source)
        specification = DRAFT202012 if self.version.startswith("3.1") else DRAFT4
        resource: Resource[Any] = specification.create_resource(self.data)
        self.registry = Registry().with_resource(SPEC_URI, resource)
        self._resolver = self.registry.resolver(base_uri=SPEC_URI)
        self._targets: dict[str, Any] = {}  # ref → what it points to: each is looked up once
        self.warnings, self.slow_patterns, self.webhooks = [], False, {}
        self.replaced, self.kept = [], []
        _check_refs(self, self.data, "#")

    @property
    def is_31(self) -> bool:
        return self.version.startswith("3.1")

    @property
    def title(self) -> str:
        info = self.data.get("info")
        title = info.get("title") if isinstance(info, dict) else None
        return str(title) if title else Path(self.source).stem

    def lookup(self, ref: str, where: str = "") -> Any:
        """What the local reference ``ref`` (``#/components/…``) points to."""
        if not ref.startswith("#"):
            raise SpecFormatError(f"$ref {ref!r} points outside the document, which is not supported",
                                  location=f"{self.source} at {where or ref}",
                                  hint="bundle the document into one file first (e.g. `redocly bundle`)")
        if ref in self._targets:
            return self._targets[ref]
        try:
            found = self._targets[ref] = self._resolver.lookup(ref).contents
            return found
        except Unresolvable:
            raise SpecFormatError(f"$ref {ref!r} points to nothing", location=f"{self.source} at {where or ref}",
                                  hint="check the name after #/components/") from None

    def example(self, schema: Any, purpose: Purpose, where: str) -> Any:
        """The example value of ``schema`` (at ``where``), within the document's budget."""
        budget = Budget(min(limits.MAX_EXAMPLE_STEPS, self.example_steps))
        notes: list[str] = []
        try:
            return example_value(schema, self.lookup, purpose, budget=budget, notes=notes)
        except ExampleTooBig as error:
            what = ("this schema's example value" if error.steps == limits.MAX_EXAMPLE_STEPS
                    else "the document's example values, up to this schema,")
            raise SpecFormatError(f"{what} would take {error} to make ($refs that fan out, or a large "
                                  "minItems/minLength)", location=f"{self.source} at {where}",
                                  hint="give that schema an `example`, or nest fewer $refs") from None
        finally:
            self.example_steps -= budget.limit - max(budget.steps, 0)
            for note in notes:  # once per document: a shared schema is made for many operations
                if not any(warning.endswith(note) for warning in self.warnings):
                    self.warnings.append(f"{self.source} at {where}: {note}")

    def example_data(self, value: Any, where: str) -> Any:
        """An example value as written, a ``$ref`` that is the whole value followed (see ``schemagen.followed``)."""
        return followed(value, lambda ref: self.lookup(ref, where))

    def resolve(self, node: Any, where: str) -> tuple[Any, str]:
        """Follow ``node``'s ``$ref`` chain; returns the object and its JSON pointer."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise SpecFormatError(f"$ref {ref!r} refers to itself", location=f"{self.source} at {where}")
            seen.add(ref)
            node, where = self.lookup(ref, where), ref
        return node, where


def _check_version(data: dict[str, Any], source: str) -> str:
    if "swagger" in data and "openapi" not in data:
        raise SpecFormatError(f"this is a Swagger {data.get('swagger')} (OpenAPI 2) document, not OpenAPI 3",
                              location=f"{source} at #/swagger",
                              hint="read it with formats.sources.load_data, which converts Swagger 2.0 "
                                   "(formats.swagger.to_openapi3)")
    version = str(data.get("openapi", ""))
    if not re.match(r"^3\.[01](\.\d+)?(-.+)?$", version):
        raise SpecFormatError(f"unsupported OpenAPI version {version!r}", location=f"{source} at #/openapi",
                              hint="postmock_nb reads OpenAPI 3.0 and 3.1")
    paths = data.get("paths", {})
    if not isinstance(paths, dict):
        raise SpecFormatError(f"'paths' must be an object, not {type(paths).__name__}",
                              location=f"{source} at #/paths")
    return version


def _check_refs(spec: Spec, node: Any, where: str) -> None:
    """Every ``$ref`` in the document must point somewhere (checked once, on reading)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            spec.lookup(ref, where)
        for key, value in node.items():
            data_keys = ("example", "value", "default", "const", "enum")
            if key in data_keys or (key == "examples" and isinstance(value, list)):
                continue  # data, not references: a "$ref" key in there is a value
            here = f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key == "pattern" and isinstance(value, str):
                _check_pattern(spec, value, here)
            elif key == "patternProperties" and isinstance(value, dict):
                for pattern in value:
                    _check_pattern(spec, str(pattern), here)
            _check_refs(spec, value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_refs(spec, value, f"{where}/{index}")


def _check_pattern(spec: Spec, pattern: str, where: str) -> None:
    """A ``pattern`` neither regex engine compiles is a warning: requests are not checked against it."""
    try:
        spec.slow_patterns |= not patterns.is_linear(patterns.compiled(pattern))
    except patterns.UncheckablePattern as error:
        spec.warnings.append(f"{spec.source} at {where}: {error}; requests are not checked against it")


def load_spec(data: dict[str, Any], source: str = "OpenAPI document") -> Spec:
    """Check a parsed document and wrap it (raises :class:`SpecFormatError`)."""
    return Spec(data, source)


# -- operations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One operation of the document, with its parameters resolved."""

    method: str
    template: str
    """The path as written in the document: ``/pets/{petId}``."""
    base_path: str
    data: dict[str, Any]
    where: str
    parameters: tuple[tuple[dict[str, Any], str], ...]
    """Each parameter object and its JSON pointer (path-level ones merged in)."""

    @property
    def full_template(self) -> str:
        return self.base_path + self.template

    @property
    def postman_path(self) -> str:
        """``/v1/pets/:petId``."""
        return _TEMPLATE.sub(lambda m: ":" + m.group(1), self.full_template)

    def label(self) -> str:
        summary = self.data.get("summary") or self.data.get("operationId")
        return str(summary).strip() if summary else f"{self.method.upper()} {self.template}"


def iter_operations(spec: Spec) -> Iterator[Operation]:
    """Every operation, in document order."""
    paths = spec.data.get("paths") or {}
    root_base = _base_path(spec.data.get("servers"))
    for template, raw_item in paths.items():
        here = pointer("paths", template)
        item, item_where = spec.resolve(raw_item, here)
        if not isinstance(item, dict):
            raise SpecFormatError("a path item must be an object", location=f"{spec.source} at {here}")
        item_base = _base_path(item.get("servers"), root_base)
        shared = _parameters(spec, item.get("parameters"), f"{item_where}/parameters")
        for method in OPERATION_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            op_where = f"{item_where}/{method}"
            own = _parameters(spec, operation.get("parameters"), f"{op_where}/parameters")
            merged = {(p.get("in"), p.get("name")): (p, w) for p, w in shared}
            merged.update({(p.get("in"), p.get("name")): (p, w) for p, w in own})
            yield Operation(method, str(template), _base_path(operation.get("servers"), item_base), operation,
                            op_where, tuple(merged.values()))


def _parameters(spec: Spec, raw: Any, where: str) -> list[tuple[dict[str, Any], str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SpecFormatError("'parameters' must be a list", location=f"{spec.source} at {where}")
    found = []
    for index, entry in enumerate(raw):
        parameter, at = spec.resolve(entry, f"{where}/{index}")
        if not isinstance(parameter, dict) or "name" not in parameter or "in" not in parameter:
            raise SpecFormatError("a parameter needs 'name' and 'in'", location=f"{spec.source} at {where}/{index}")
        if not isinstance(parameter["name"], str) or not isinstance(parameter["in"], str):
            raise SpecFormatError("a parameter's 'name' and 'in' must be strings",
                                  location=f"{spec.source} at {where}/{index}")
        found.append((parameter, at))
    return found


def _base_path(servers: Any, fallback: str = "") -> str:
    """The path part of the first server's URL (``/v1``), server variables at their defaults."""
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return fallback
    url = _server_url(servers[0])
    path = urlsplit(url).path if "://" in url or url.startswith("//") else url  # "//host/v1": scheme-relative
    return "/" + path.strip("/") if path.strip("/") else ""


def _server_url(server: dict[str, Any]) -> str:
    """A server's URL with its variables at their defaults."""
    variables = server.get("variables") if isinstance(server.get("variables"), dict) else {}
    assert isinstance(variables, dict)

    def default(match: re.Match[str]) -> str:
        variable = variables.get(match.group(1))
        return str(variable.get("default", "")) if isinstance(variable, dict) else ""

    return _TEMPLATE.sub(default, str(server.get("url", "")))


def server_origin(spec: Spec) -> str:
    """``https://api.example.com`` of the first absolute server URL (empty when none)."""
    servers = spec.data.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        parts = urlsplit(_server_url(servers[0]))
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return ""


# -- responses → examples ---------------------------------------------------------------------


def status_of(code: str) -> int:
    """``"404"`` → 404, ``"2XX"`` → 200, ``"default"`` → 500."""
    text = str(code).strip().upper()
    if text.isdigit():
        return int(text)
    if re.fullmatch(r"[1-5]XX", text):
        return int(text[0]) * 100
    return 500


def _status_order(code: str) -> tuple[int, bool, int]:
    """Success first, explicit codes before ranges (``204`` before ``2XX``), ``default`` last."""
    status = status_of(code)
    return (0 if 200 <= status < 300 and code != "default" else 1, not code.isdigit(),
            status if code != "default" else 999)


def is_json_type(media_type: str) -> bool:
    base = wire.media_type(media_type)
    return base == "application/json" or base.endswith("+json") or base == "*/*"


def pick_media(content: Any) -> tuple[str, dict[str, Any]] | None:
    """The media type whose examples a response is read from: the first JSON one, else the first."""
    return _pick_media(content)


MAX_MEDIA_TYPES = 4
"""Media types of one response made into examples (each answers the requests whose ``Accept`` takes it)."""


def _media_types(content: Any) -> list[tuple[str, dict[str, Any]]]:
    """A response's media types, JSON ones first (the one a request without ``Accept`` gets), then the others in
    the document's order; at most :data:`MAX_MEDIA_TYPES`."""
    if not isinstance(content, dict) or not content:
        return []
    found = [(str(key), value if isinstance(value, dict) else {}) for key, value in content.items()]
    return sorted(found, key=lambda entry: not is_json_type(entry[0]))[:MAX_MEDIA_TYPES]


def _pick_media(content: Any) -> tuple[str, dict[str, Any]] | None:
    """The media type a response answers with when ``Accept`` does not choose: the first JSON one, else the first."""
    found = _media_types(content)
    return found[0] if found else None


def _serialise(value: Any, media_type: str) -> str:
    if isinstance(value, str) and not is_json_type(media_type):
        return value
    if value is None and not is_json_type(media_type):
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)  # default: YAML dates


def _concrete_type(media_type: str, value: Any) -> str:
    if "*" not in media_type:
        return media_type
    return "text/plain" if isinstance(value, str) else "application/json"


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str)
    return "" if value is None else str(value)


def _response_headers(spec: Spec, raw: Any, where: str) -> Pairs:
    if not isinstance(raw, dict):
        return ()
    headers = []
    for name, entry in raw.items():
        if str(name).lower() == "content-type":
            continue  # the spec says: ignored, the media type decides
        header, _ = spec.resolve(entry, f"{where}/{name}")
        if not isinstance(header, dict):
            continue
        value = spec.example_data(header["example"], where) if "example" in header else spec.example(
            header.get("schema", {}), RESPONSE, f"{where}/{name}/schema")
        headers.append((str(name), _header_text(value)))
    return tuple(headers)


def _named_examples(spec: Spec, media: dict[str, Any], where: str) -> list[tuple[str, Any, str]]:
    """(name, value, key) of each named example of a media type, ``$ref``\\ s followed."""
    examples = media.get("examples")
    found: list[tuple[str, Any, str]] = []
    if isinstance(examples, dict):
        for key, entry in examples.items():
            example, _ = spec.resolve(entry, f"{where}/examples/{key}")
            if isinstance(example, dict) and "value" in example:
                found.append((str(example.get("summary") or key), spec.example_data(example["value"], where),
                              str(key)))
    return found


def _bodies(spec: Spec, content: Any, where: str, label: str = "") -> list[tuple[str, str, str, str, str]]:
    """(example name or "", content type, body text, ``x-mock-openapi`` pointer or "", note) for one response
    (``label``: ``GET /pets 200``); the note says why the body is not the document's example (``--examples
    generate``), else it is ""."""
    media_types = _media_types(content)
    if not media_types:
        return [("", "", "", "", "")]
    found = _media_bodies(spec, *media_types[0], where, label)
    for media_type, media in media_types[1:]:  # the others, each one more example: Accept picks it, as in Prism
        found += [(f"{name} ({media_type})" if name else media_type, content_type, body, source, note)
                  for name, content_type, body, source, note in _media_bodies(spec, media_type, media, where, label)]
    return found


def _media_bodies(spec: Spec, media_type: str, media: dict[str, Any], where: str,
                  label: str) -> list[tuple[str, str, str, str, str]]:
    """:func:`_bodies` for one media type."""
    media_where = f"{where}/content/{media_type.replace('/', '~1')}"
    source = f"{where}{pointer('content', media_type)[1:]}"  # the media type object, a JSON pointer
    named = _named_examples(spec, media, media_where)
    if _is_event_stream(media_type):
        return [("", "text/event-stream", _event_stream(named, media, spec, media_where), "", "")]
    if not named:
        named = [("", spec.example_data(media["example"], media_where) if "example" in media else spec.example(
            media.get("schema", {}), RESPONSE, f"{media_where}/schema"), "")]
    found = []
    for name, written, key in named:
        value, note = (written, "") if spec.example_check is None else _conforming(
            spec, media_type, media, written, (where, f"{label} (example {name!r})" if name else f"{label} (example)"))
        found.append((name, _concrete_type(media_type, value), _serialise(value, media_type),
                       OpenApiSource(source, key).pointer if key else source, note))
    return found


REPLACED_NOTE = "--examples generate: the document's example breaks its schema; served a value generated from it"


def _conforming(spec: Spec, media_type: str, media: dict[str, Any], written: Any,
                place: tuple[str, str]) -> tuple[Any, str]:
    """``--examples generate``: ``written`` when it conforms to the media type's schema (or nothing can be
    checked), else a value generated from the schema that does: the schema's own examples first, then its types
    alone. When no generated value conforms either, the author's stays (listed in ``spec.kept``)."""
    check = spec.example_check
    where, label = place
    if check is None or "schema" not in media or not is_json_type(media_type):
        return written, ""
    schema_at = f"{where}/content/{pointer(media_type)[2:]}/schema"
    problems = [_cut(problem) for problem in check(schema_at, written)]
    if not problems:
        return written, ""
    listed = f"{label}: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
    for candidate in _generated(spec, media["schema"], schema_at):
        if not check(schema_at, candidate):
            spec.replaced.append(listed)
            return candidate, f"{REPLACED_NOTE} ({'; '.join(problems[:3])}{'; ...' if len(problems) > 3 else ''})"
    spec.kept.append(listed)
    return written, ""


def _cut(problem: str, width: int = 160) -> str:
    """One problem of an example, bounded (jsonschema's messages quote the whole value)."""
    return problem if len(problem) <= width else problem[:width - 3] + "..."


def _generated(spec: Spec, schema: Any, where: str) -> Iterator[Any]:
    """The values ``--examples generate`` may serve instead, best first: the schema's (its own examples where it
    has them), then the schema's without any example (its types, formats and bounds alone)."""
    with contextlib.suppress(SpecFormatError):
        yield spec.example(schema, RESPONSE, where)
    with contextlib.suppress(ExampleTooBig):
        yield example_value(without_examples(schema), stripping(lambda ref: spec.lookup(ref, where)), RESPONSE,
                            budget=Budget(limits.MAX_EXAMPLE_STEPS))


def _note_header(note: str) -> str:
    """A note as a header value: one line of printable ASCII, bounded."""
    text = note.encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(c if c.isprintable() else " " for c in text)
    return text if len(text) <= 300 else text[:297] + "..."


def _is_event_stream(media_type: str) -> bool:
    return wire.media_type(media_type) == "text/event-stream"


def _event_stream(named: list[tuple[str, Any, str]], media: dict[str, Any], spec: Spec, where: str) -> str:
    """A ``text/event-stream`` response as the SSE text an ``x-mock-sse`` example streams: its named examples
    are the events in order (an SSE text kept as written, anything else one ``data:`` event), a single array
    example one event per item (a JSON array body: see :mod:`postmock_nb.answers.sse`)."""
    if not named:
        value = spec.example_data(media["example"], where) if "example" in media else spec.example(
            media.get("schema", {}), RESPONSE, f"{where}/schema")
        if isinstance(value, list):
            return json.dumps(value, ensure_ascii=False)
        named = [("", value, "")]
    return "\n\n".join(_sse_event(value) for _, value, _ in named)


def _sse_event(value: Any) -> str:
    if isinstance(value, str) and re.match(r"^(data|event|id|retry):", value.lstrip()):
        return value.strip()
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                                                           default=str)
    return "\n".join("data: " + line for line in text.splitlines() or [""])


def _language(content_type: str) -> str:
    lowered = content_type.lower()
    for word in ("json", "xml", "html"):
        if word in lowered:
            return word
    return "text" if content_type else ""


def operation_examples(spec: Spec, operation: Operation, request: RequestSpec,
                       callback: OperationCallback | None = None) -> list[Example]:
    """The examples of one operation: one per response code, or per named example (those below 400 carry
    the operation's ``callback``, when it has one)."""
    responses = operation.data.get("responses")
    where = f"{operation.where}/responses"
    by_code = {str(code): entry for code, entry in responses.items()  # YAML reads 200: as a number
               if not str(code).startswith("x-")} if isinstance(responses, dict) else {}
    if not by_code:  # valid in 3.1: the operation answers, the document says nothing of how
        return [Example(name="No responses documented", request=request, response=ResponseSpec(
            200, "OK", ((NOTE_HEADER, NO_RESPONSES_NOTE),), "", ""))]
    only_default = list(by_code) == ["default"]
    examples: list[Example] = []
    exported: list[tuple[int, Example]] = []  # postmock's export: back in the collection's order
    for code in sorted(by_code, key=_status_order):
        response, at = spec.resolve(by_code[code], f"{where}/{code}")
        if not isinstance(response, dict):
            continue
        if _exported(response):
            exported.extend(exported_examples(spec, response, request, at))
            continue
        status = 200 if only_default else status_of(code)  # `default` alone is the answer: 200, as Prism does
        description = str(response.get("description") or reason_phrase(status)).strip().splitlines()
        title = description[0][:80].strip() if description else str(status)
        headers = _response_headers(spec, response.get("headers"), f"{at}/headers")
        if operation.data.get("deprecated") is True:  # as Prism says it
            headers += (("Deprecation", "true"),)
        label = f"{operation.method.upper()} {operation.full_template} {code}"
        for name, content_type, body, source, note in _bodies(spec, response.get("content"), at, label):
            all_headers = ((("Content-Type", content_type),) if content_type else ()) + headers
            marked = _sse_request(request, content_type)
            if source:  # where it comes from: Prefer: example=KEY finds it, --dynamic its schema
                marked = replace(marked, headers=(*marked.headers, (OPENAPI_MARKER, source)))
            if note:  # --examples generate served a value of its own: said in the example and in its answer
                marked = replace(marked, description=note)
                all_headers += ((NOTE_HEADER, _note_header(note)),)
            if callback is not None and status < 400:
                marked = replace(marked, headers=(*marked.headers, *callback.markers(status)))
            examples.append(Example(
                name=f"{title} - {name}" if name else title, request=marked,
                response=ResponseSpec(status, reason_phrase(status), all_headers, body, _language(content_type))))
    return [example for _, example in sorted(exported, key=lambda pair: pair[0])] + examples


def documented_answer(spec: Spec, operation: Operation, codes: tuple[int, ...]) -> tuple[int, Pairs, str] | None:
    """The operation's own answer to a request it refuses, as Prism picks it: the first of ``codes`` it documents
    (exactly, else as ``4XX``) when that response has content (an example, else a value generated from its
    schema): (status, headers, body). ``None``: the document has none (the mock answers itself). Unlike Prism,
    ``default`` is not used: it is the document's "unexpected error", and the mock's answer lists the violations."""
    responses = operation.data.get("responses")
    by_code = {str(code).upper(): entry for code, entry in responses.items()} if isinstance(responses, dict) else {}
    wanted = [(code, str(code)) for code in codes] + [(code, f"{str(code)[0]}XX") for code in codes]
    for status, key in wanted:
        if key not in by_code:
            continue
        response, at = spec.resolve(by_code[key], f"{operation.where}/responses/{key}")
        if not isinstance(response, dict) or not _pick_media(response.get("content")):
            continue
        _, content_type, body, _, _ = _bodies(spec, response.get("content"), at)[0]
        headers = _response_headers(spec, response.get("headers"), f"{at}/headers")
        return status, ((("Content-Type", content_type),) if content_type else ()) + headers, body
    return None


def _exported(response: dict[str, Any]) -> bool:
    """A response written by postmock's export (its examples carry an ``x-postmock-example`` object). One whose
    ``x-postmock-example`` a hand has made something else (a string, a list) is read as any other response, from
    its examples' values, instead of losing them."""
    extra = response.get(POSTMOCK_EXAMPLES)
    if isinstance(extra, list) and any(isinstance(entry, dict) and isinstance(entry.get(POSTMOCK_EXAMPLE), dict)
                                       for entry in extra):
        return True
    picked = _pick_media(response.get("content"))
    examples = picked[1].get("examples") if picked is not None else None
    return isinstance(examples, dict) and any(
        isinstance(entry, dict) and isinstance(entry.get(POSTMOCK_EXAMPLE), dict) for entry in examples.values())


def exported_examples(spec: Spec, response: dict[str, Any], request: RequestSpec,
                      where: str) -> list[tuple[int, Example]]:
    """The examples of a response postmock exported, as they were: each named example's ``x-postmock-example``
    (its body from the ``value`` when the Postman object has none), its ``x-postmock-markers`` back in its
    request headers, and each named example marked ``x-mock-openapi`` with where it is in this document (so
    ``Prefer: example=KEY`` and ``--dynamic`` find it); then the response's ``x-postmock-examples``. Each with
    its ``x-postmock-order`` (its place in the collection; without one, after those that have one)."""
    found: list[tuple[int, Example]] = []
    picked = _pick_media(response.get("content"))
    if picked is not None:
        media_type, media = picked
        entries = media.get("examples")
        source = f"{where}{pointer('content', media_type)[1:]}"
        for key, entry in entries.items() if isinstance(entries, dict) else ():
            if isinstance(entry, dict) and isinstance(entry.get(POSTMOCK_EXAMPLE), dict):
                body = _serialise(spec.example_data(entry.get("value"), where), media_type)
                found.append((_order(entry), _exported_example(entry, request, f"{where}/content/examples/{key}",
                                                               body, OpenApiSource(source, str(key)).pointer)))
    extra = response.get(POSTMOCK_EXAMPLES)
    for index, entry in enumerate(extra if isinstance(extra, list) else []):
        if isinstance(entry, dict) and isinstance(entry.get(POSTMOCK_EXAMPLE), dict):
            found.append((_order(entry), _exported_example(entry, request, f"{where}/{POSTMOCK_EXAMPLES}/{index}",
                                                           "", "")))
    return found


def _order(entry: dict[str, Any]) -> int:
    order = entry.get(POSTMOCK_ORDER)
    return order if isinstance(order, int) and not isinstance(order, bool) else sys.maxsize


def _exported_example(entry: dict[str, Any], request: RequestSpec, where: str, body: str, source: str) -> Example:
    saved = dict(entry[POSTMOCK_EXAMPLE])
    saved.setdefault("body", body)
    example = parse_example(saved, request, where)
    markers = entry.get(POSTMOCK_MARKERS)
    added = tuple((str(key), str(value)) for key, value in (markers.items() if isinstance(markers, dict) else ())
                  if str(key).lower() != OPENAPI_MARKER)  # a pointer into the document it came from, not this one
    if source:
        added += ((OPENAPI_MARKER, source),)
    if added:
        example = replace(example, request=replace(example.request, headers=(*example.request.headers, *added)))
    return example


NOTE_HEADER = "X-Postmock-Note"
NO_RESPONSES_NOTE = "the document gives this operation no responses: 200 with no body"


def _sse_request(request: RequestSpec, content_type: str) -> RequestSpec:
    """The request of a ``text/event-stream`` response's example marked ``x-mock-sse: true`` (streamed)."""
    if content_type != "text/event-stream":
        return request
    return replace(request, headers=(*request.headers, (SSE_MARKER, "true")))


def _parameter_value(spec: Spec, parameter: dict[str, Any], where: str) -> str:
    if "example" in parameter:
        return _header_text(spec.example_data(parameter["example"], where))
    examples = parameter.get("examples")
    if isinstance(examples, dict) and examples:
        first, _ = spec.resolve(next(iter(examples.values())), "")
        if isinstance(first, dict) and "value" in first:
            return _header_text(spec.example_data(first["value"], where))
    value = spec.example(parameter.get("schema", {}), REQUEST, f"{where}/schema")
    if isinstance(value, list):
        return ",".join(_header_text(v) for v in value)
    return _header_text(value)


def _request_value(spec: Spec, data: dict[str, Any], where: str) -> tuple[Any, str] | None:
    """The value of an operation's request body (its first named example, its example, else one made from its
    schema) and its media type; None without a body."""
    raw = data.get("requestBody")
    if raw is None:
        return None
    body, _ = spec.resolve(raw, f"{where}/requestBody")
    picked = _pick_media(body.get("content") if isinstance(body, dict) else None)
    if picked is None:
        return None
    media_type, media = picked
    named = _named_examples(spec, media, "")
    if named:
        return named[0][1], media_type
    value = spec.example_data(media["example"], where) if "example" in media else spec.example(
        media.get("schema", {}), REQUEST, f"{where}/requestBody/content/{pointer(media_type)[2:]}/schema")
    return value, media_type


def _request_body(spec: Spec, operation: Operation) -> tuple[str, Pairs]:
    found = _request_value(spec, operation.data, operation.where)
    if found is None:
        return "", ()
    value, media_type = found
    return _serialise(value, media_type), (("Content-Type", _concrete_type(media_type, value)),)


def operation_request(spec: Spec, operation: Operation) -> RequestSpec:
    """The request an operation's examples are filed under (what Postman's Send would send)."""
    by_place: dict[str, list[tuple[str, str]]] = {"path": [], "query": [], "header": []}
    for parameter, where in operation.parameters:
        place = str(parameter.get("in"))
        if place in by_place:
            by_place[place].append((str(parameter["name"]), _parameter_value(spec, parameter, where)))
    body, body_headers = _request_body(spec, operation)
    description = str(operation.data.get("description") or operation.data.get("summary") or "")
    return RequestSpec(method=operation.method.upper(), path=operation.postman_path,
                       query=tuple(by_place["query"]), headers=tuple(by_place["header"]) + body_headers,
                       body=body, body_language="json" if body_headers and "json" in body_headers[0][1] else "",
                       path_variables=tuple(by_place["path"]), description=description)


# -- callbacks and webhooks -------------------------------------------------------------------


@dataclass(frozen=True)
class OperationCallback:
    """The callback an operation's examples send (``x-mock-callback``): the first one of its ``callbacks``
    whose URL our placeholders can fill, its payload made from the callback operation's request body."""

    name: str
    key: str
    """The URL as the document writes it: ``{$request.body#/callbackUrl}``."""
    method: str
    body: str
    """The payload, one line (JSON as JSON)."""
    scope: Scope

    def markers(self, status: int) -> Pairs:
        """The marker headers of an example with this ``status`` (``$statusCode`` is the example's)."""
        url = url_template(self.key, replace(self.scope, status=status))
        body = ((CALLBACK_BODY_MARKER, self.body),) if self.body else ()
        return ((CALLBACK_MARKER, f"{self.method} {url}"), *body)


@dataclass(frozen=True)
class Webhook:
    """A webhook of the document (OpenAPI 3.1 ``webhooks``): sent by name to a URL the user gives."""

    name: str
    method: str
    body: str
    """The payload: the request body's example, else one made from its schema (JSON as JSON)."""
    headers: Pairs
    """Its ``Content-Type`` and the example values of its header parameters."""
    summary: str = ""


def _payload(value: Any, media_type: str) -> str:
    """A callback's or webhook's body as one line: JSON for a JSON media type (and for what is not text)."""
    if isinstance(value, str) and not is_json_type(media_type):
        return value
    if value is None and not is_json_type(media_type):
        return ""
    return json.dumps(value, ensure_ascii=False, default=str)


def _first_operation(spec: Spec, raw_item: Any, where: str) -> tuple[str, dict[str, Any], str] | None:
    """The first operation of a callback's or webhook's path item, as written: method, object, pointer."""
    item, item_where = spec.resolve(raw_item, where)
    if not isinstance(item, dict):
        return None
    for method, operation in item.items():
        if str(method).lower() in (*OPERATION_METHODS, "trace") and isinstance(operation, dict):
            return str(method).upper(), operation, f"{item_where}/{method}"
    return None


def _callback_operations(spec: Spec, operation: Operation) -> Iterator[tuple[str, str, str, dict[str, Any], str]]:
    """(callback name, URL key, method, callback operation, its pointer) of every callback, in document order."""
    raw = operation.data.get("callbacks")
    if not isinstance(raw, dict):
        return
    for name, entry in raw.items():
        callback, at = spec.resolve(entry, f"{operation.where}/callbacks/{pointer(str(name))[2:]}")
        if not isinstance(callback, dict):
            continue
        for key, raw_item in callback.items():
            if str(key).startswith("x-"):
                continue
            found = _first_operation(spec, raw_item, f"{at}/{pointer(str(key))[2:]}")
            if found is not None:
                yield str(name), str(key), *found


def operation_callback(spec: Spec, operation: Operation) -> OperationCallback | None:
    """The callback the operation's examples carry: the first one that can be sent; a warning in
    ``spec.warnings`` for each one that cannot, and one naming those left out (one callback an example)."""
    scope = Scope(operation.method, tuple(_TEMPLATE.findall(operation.full_template)))
    chosen: OperationCallback | None = None
    left_out: list[str] = []
    where_of = f"{operation.method.upper()} {operation.template}"
    for name, key, method, data, where in _callback_operations(spec, operation):
        if chosen is not None:
            left_out.append(repr(name))
            continue
        try:
            if method not in CALLBACK_METHODS:
                raise Unmappable(key, f"the method {method} cannot be a callback's ({', '.join(CALLBACK_METHODS)})")
            url = url_template(key, scope)
            value = _request_value(spec, data, where)
            body = _payload(*value) if value is not None else ""
            parse_callback(f"{method} {url}", body)
        except Unmappable as error:
            spec.warnings.append(f"{spec.source} at {where}: the callback {name!r} of {where_of} is not sent: "
                                 f"{error.expression}: {error}")
            continue
        except ExampleDefinitionError as error:
            spec.warnings.append(f"{spec.source} at {where}: the callback {name!r} of {where_of} is not sent: "
                                 f"{key}: {error.message}")
            continue
        chosen = OperationCallback(name, key, method, body, scope)
    if chosen is not None and left_out:
        spec.warnings.append(f"{spec.source} at {operation.where}/callbacks: {where_of} sends one callback, "
                             f"{chosen.name!r}; not sent: {', '.join(dict.fromkeys(left_out))}")
    return chosen


def read_webhooks(spec: Spec) -> dict[str, Webhook]:
    """The document's ``webhooks`` by name (each its first operation; a warning for one that has none)."""
    raw = spec.data.get("webhooks")
    found: dict[str, Webhook] = {}
    if not isinstance(raw, dict):
        return found
    for name, raw_item in raw.items():
        here = pointer("webhooks", str(name))
        first = _first_operation(spec, raw_item, here)
        if first is None or first[0] not in CALLBACK_METHODS:
            spec.warnings.append(f"{spec.source} at {here}: the webhook {name!r} cannot be sent: it needs one "
                                 f"operation ({', '.join(CALLBACK_METHODS)})")
            continue
        method, data, where = first
        value = _request_value(spec, data, where)
        body = _payload(*value) if value is not None else ""
        parameters = _parameters(spec, data.get("parameters"), f"{where}/parameters")
        headers = [(str(p["name"]), _parameter_value(spec, p, at)) for p, at in parameters if p.get("in") == "header"]
        if value is not None and body:
            headers.insert(0, ("Content-Type", _concrete_type(value[1], value[0])))
        summary = str(data.get("summary") or data.get("operationId") or "").strip()
        found[str(name)] = Webhook(str(name), method, body, tuple(headers), summary)
    return found


def spec_to_collection(spec: Spec) -> Collection:
    """The collection a mock of this document serves."""
    items = []
    for operation in iter_operations(spec):
        request = operation_request(spec, operation)
        # what incoming requests are matched against: path variables without the sample values Send would use,
        # so that they match any segment (a saved value would be the only one matched, as in Postman)
        # the servers' base path is marked: a request may leave it out, as `prism mock` serves the paths at the root
        matched = RequestSpec(method=request.method, path=request.path,
                              path_variables=tuple((name, "") for name, _ in request.path_variables), base=request.base,
                              headers=((BASE_PATH_MARKER, operation.base_path),) if operation.base_path else ())
        examples = tuple(operation_examples(spec, operation, matched, operation_callback(spec, operation)))
        tags = operation.data.get("tags")
        folder = (str(tags[0]),) if isinstance(tags, list) and tags else ()
        items.append(Item(name=operation.label(), request=request, examples=examples, folder=folder,
                          description=request.description))
    spec.webhooks = read_webhooks(spec)
    origin = server_origin(spec)
    info = spec.data.get("info")
    info = info if isinstance(info, dict) else {}
    variables = dict([("baseUrl", origin)] if origin else [])
    saved = spec.data.get(POSTMOCK_VARIABLES)
    variables.update((str(pair[0]), str(pair[1])) for pair in (saved if isinstance(saved, list) else [])
                     if isinstance(pair, list) and len(pair) == 2)
    return Collection(name=spec.title, items=tuple(items), variables=tuple(variables.items()),
                      description=str(info.get("description") or ""))


def collection_from_openapi(data: dict[str, Any], source: str = "OpenAPI document", *,
                            check: CheckFactory | None = None) -> tuple[Collection, Spec]:
    """Check the document and convert it; returns the collection and the checked spec. With ``check``
    (``--examples generate``), a response example that breaks its schema is served as a generated value instead
    (``spec.replaced`` lists them)."""
    spec = load_spec(data, source)
    if check is not None:
        spec.example_check = check(spec)
    return spec_to_collection(spec), spec
