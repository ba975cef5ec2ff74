"""A collection out as an OpenAPI 3.1 document (``%mock save FILE --openapi``, ``postmock convert``).

The credentials are :mod:`postmock_nb.formats.export_credentials`' business, the resources'
:mod:`postmock_nb.formats.export_resources`', the writing :mod:`postmock_nb.formats.openapi_writing`'s. What each
part of a collection becomes:

- **one path per request**: the examples of every item with the same method and path are one operation;
  ``:id``, ``{{id}}`` and OpenAPI-style ``{id}`` segments become ``{id}`` with a required path parameter (paths
  of one shape, ``/users/{userId}`` and ``/users/{name}``, are one path, named as the first), a string: its
  ``example`` the value the examples saved (else the collection variable's), its ``examples`` when they saved
  several — never an ``enum`` of them: the API takes other values (only a mock, as Postman's, matches the saved
  ones, which ``x-postmock-example`` keeps); the operation's summary is the first item's name, its tag the item's
  first folder;
- **query parameters**: each name any example sends, ``required`` when every example sends it, its schema
  inferred from the values sent (``integer``, ``number``, ``boolean`` when every value says so:
  :func:`postmock_nb.formats.inference.infer_text_schema`), its ``example`` the first value, of that type; a
  credential's (a name :func:`postmock_nb.core.masking.is_secret_parameter` calls secret: ``access_token``,
  ``api_key``) has a plain string schema and its example masked (``ab…``);
- **header parameters**: each request header any example sends (case ignored), but for ``Content-Type`` and
  ``Accept`` (the media types say them), ``Content-Length``, ``Host``, ``Connection``, ``Cookie``, the hop-by-hop
  headers, the ``x-mock-*`` markers and the credentials: ``required`` when every example sends it, its schema
  inferred from the values, its ``example`` the first value;
- **credentials** (no token is written into a schema, example or parameter): a request header
  :func:`postmock_nb.core.masking.is_secret_header` calls secret is a scheme in ``components/securitySchemes``:
  ``Authorization: Bearer …`` → ``bearerAuth`` (``http``, ``bearer``), ``Basic …`` → ``basicAuth``, another
  ``<scheme> …`` → ``<scheme>Auth`` (``http``), an ``Authorization`` with no scheme and ``X-API-Key``,
  ``X-Auth-Token``… → an ``apiKey`` in that header, named as the header; each operation's ``security`` lists
  the sets of schemes its examples send (alternatives), and ``{}`` last when an example sends none (OpenAPI
  ignores an ``Authorization`` header parameter). Postman's ``auth`` objects (collection, folder, request) are
  not read by :mod:`postmock_nb.formats.postman`, so only the credentials the requests' headers carry are
  exported; ``x-postmock-example`` keeps every request header as saved (a mock matches them when asked:
  ``x-mock-match-request-headers``), as the collection's own file does;
- **request bodies**: by the request's ``Content-Type`` (else its body mode), a schema inferred from the JSON
  (or form) bodies, each example's body a named example; ``required`` when every example sends one;
- **responses**: one per status, in the order the examples first give them (each example's place among the
  operation's in ``x-postmock-order``, read back in that order: a plain request gets the collection's first
  example), one media type per ``Content-Type`` the examples answer with, the saved
  examples as named ``examples`` (their ``summary`` the example's name), the response headers (``required``
  when every example of the status sends one), and the schema inferred from the bodies by
  :func:`postmock_nb.formats.inference.infer_schema` (a media type whose bodies are not all JSON gets
  none: a template such as ``{"n": {{$randomInt}}}`` is not JSON until it is served);
- **resources** (``x-mock-resource``): their six operations, the record schema once in
  ``components/schemas`` (inferred from every record the examples hold) and referenced by each;
- **handlers** (``x-mock-handler``): their sample or last response, the operation described as computed
  (``x-postmock-computed``);
- **WebSockets** (``x-mock-websocket``): the ``101`` response (the upgrade), no content, the scripts in its
  ``x-postmock-examples``;
- **credentials in what other tools read**: none (``servers`` without a user and password, a ``Set-Cookie``
  header's ``example`` masked, a credential variable masked in ``x-postmock-variables``); ``x-postmock-example``
  keeps those the mock compares or answers with, and a warning names them;
- what OpenAPI cannot say is kept in extensions, read back by :mod:`postmock_nb.formats.openapi` so that
  ``postmock serve`` of the exported file serves what the collection served: each named example carries
  ``x-postmock-example`` (the example as a Postman example object: its id, name, request with its query,
  headers and body that Postman's matching compares, status and response headers; its body only when the
  example's ``value`` cannot give it back) and ``x-postmock-markers`` (its ``x-mock-*`` markers: scenario,
  sequence, delay, fault, SSE, WebSocket, callback, handler, resource, matching switches); an example the
  reader would not find under the media type it picks (no body, or a second media type for one status) is
  also listed in the response's ``x-postmock-examples``; the collection's variables are
  ``x-postmock-variables``.

The YAML has no anchors or aliases (``&id001``/``*id001``): a value the document holds twice is written twice;
libyaml writes it when PyYAML has it. A lone surrogate (``"\\ud800"``, valid in JSON text, which no UTF-8 text
holds): a JSON body holding one is kept as text (with a warning), a character escaped in JSON, U+FFFD in YAML.

Not exported (returned as warnings): methods OpenAPI has no operation for (``COPY``, ``LINK``…), requests
with no example (a Postman mock does not serve them either), 1xx examples (never served).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from postmock_nb.core import limits, masking, wire
from postmock_nb.core.markers import (
    OPENAPI_MARKER,
    SSE_MARKER,
    WEBSOCKET_MARKER,
    code_of,
    is_mock_name,
    parse_resource,
)
from postmock_nb.core.model import Collection, Example, Item, reason_phrase
from postmock_nb.core.text import free_name
from postmock_nb.formats.export_credentials import (
    NOT_PARAMETERS,
    Schemes,
    exported_variables,
    operation_security,
)
from postmock_nb.formats.export_resources import record_body_schema, record_of, record_schema, resource_schemas
from postmock_nb.formats.inference import infer_schema, infer_text_schema, typed_value
from postmock_nb.formats.openapi import (
    OPERATION_METHODS,
    POSTMOCK_COMPUTED,
    POSTMOCK_EXAMPLE,
    POSTMOCK_EXAMPLES,
    POSTMOCK_MARKERS,
    POSTMOCK_ORDER,
    POSTMOCK_VARIABLES,
    is_json_type,
    pick_media,
)
from postmock_nb.formats.openapi_writing import save_document
from postmock_nb.formats.postman import example_json

OPENAPI_VERSION = "3.1.0"
_SEGMENT_VARIABLE = re.compile(r"^:([A-Za-z0-9_.-]+)$")
_PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}|\{([^{}]+)\}")
"""A ``{{variable}}`` in a path, or an OpenAPI-style ``{name}`` (pasted from a document): each a path parameter."""
_TEMPLATE_NAME = re.compile(r"\{[^{}]*\}")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_UNSENT_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding", "connection", "date"})
_FORM_TYPES = {"urlencoded": "application/x-www-form-urlencoded", "formdata": "multipart/form-data",
               "graphql": "application/json"}


@dataclass
class Exported:
    """The document, and what of the collection it could not hold (one sentence each)."""

    document: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Context:
    """What the operations of one document share."""

    variables: dict[str, str]
    resources: dict[str, tuple[str, dict[str, Any]]]
    used_ids: set[str] = field(default_factory=set)
    schemes: Schemes = field(default_factory=Schemes)


@dataclass
class _Operation:
    method: str
    template: str
    parameters: list[str]
    examples: list[tuple[Item, Example]] = field(default_factory=list)


def openapi_path(path: str) -> tuple[str, list[str]]:
    """``/users/:id/posts/{{postId}}`` → (``/users/{id}/posts/{postId}``, [id, postId]): the template and its
    path parameters (a name given twice is numbered: ``{id}``, ``{id2}``); an OpenAPI-style ``{id}`` segment is
    one too."""
    names: list[str] = []
    segments = []
    for segment in path.split("?")[0].split("/"):
        found = _SEGMENT_VARIABLE.match(segment)
        if found:
            segment = "{{" + found.group(1) + "}}"
        segments.append(_PLACEHOLDER.sub(lambda m: "{" + _parameter_name(m.group(1) or m.group(2), names) + "}",
                                         segment))
    template = "/".join(segments)
    return (template if template.startswith("/") else "/" + template), names


def _parameter_name(raw: str, taken: list[str]) -> str:
    name = free_name(_NOT_NAME.sub("_", raw.strip()).strip("_") or "param", taken)
    taken.append(name)
    return name


def to_openapi(collection: Collection) -> Exported:
    """The collection as an OpenAPI 3.1 document (see the module's docstring)."""
    exported = Exported({})
    operations = _operations(collection, exported.warnings)
    context = _Context(dict(collection.variables), resource_schemas(collection))
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.template, {})[operation.method.lower()] = _operation(operation, context)
    info: dict[str, Any] = {"title": collection.name or "postmock_nb collection", "version": "1.0.0"}
    if collection.description:
        info["description"] = collection.description
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info}
    servers = _servers(context.variables)
    if servers:
        document["servers"] = servers
    document["paths"] = paths
    components: dict[str, Any] = {}
    if context.resources:
        components["schemas"] = dict(sorted(context.resources.values()))
    if context.schemes.found:
        components["securitySchemes"] = context.schemes.found
    if components:
        document["components"] = components
    if collection.variables:
        document[POSTMOCK_VARIABLES] = exported_variables(collection.variables, exported.warnings)
    exported.warnings.extend(_kept_credentials(operations))
    exported.warnings.extend(_surrogate_bodies(operations))
    exported.document = document
    return exported


def _servers(variables: dict[str, str]) -> list[dict[str, str]]:
    """The collection's ``baseUrl`` when it is an absolute URL with no path (a path would move every route),
    without its user and password (``https://user:pass@host`` → ``https://host``)."""
    base = variables.get("baseUrl", "")
    try:
        parts = urlsplit(base)
    except ValueError:  # a malformed address (``http://[::1``) is no server
        return []
    if parts.scheme in ("http", "https") and parts.netloc and parts.path.strip("/") == "":
        return [{"url": f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"}]
    return []


def _kept_credentials(operations: Sequence[_Operation]) -> list[str]:
    """A warning naming the credentials ``x-postmock-example`` keeps as saved (request headers and query
    parameters the mock compares, ``Set-Cookie`` it answers with): none of them is in the parts other tools read,
    but the file holds them."""
    kept: dict[str, list[str]] = {}
    for operation in operations:
        for _, example in operation.examples:
            names = [key for key, value in example.request.headers
                     if value.strip() and not is_mock_name(key) and masking.is_secret_header(key)]
            names += [f"?{key}" for key, value in example.request.query if value and masking.is_secret_parameter(key)]
            names += [key for key, value in example.response.headers
                      if value.strip() and key.lower() in wire.SECRET_RESPONSE_HEADERS]
            for name in dict.fromkeys(names):
                kept.setdefault(name, []).append(repr(example.name))
    if not kept:
        return []
    found = "; ".join(f"{name} in {_some(examples)}" for name, examples in kept.items())
    return [f"x-postmock-example keeps the credentials the mock compares or answers with, as saved: {found} "
            "(mask or remove them before handing the file over)"]


def _some(names: list[str]) -> str:
    """``'a'``, ``'a', 'b'``, or ``12 examples ('a', 'b', 'c' …)``: each name once."""
    distinct = list(dict.fromkeys(names))
    shown = ", ".join(distinct[:3]) + (" …" if len(distinct) > 3 else "")
    return shown if len(names) == len(distinct) <= 3 else f"{len(names)} examples ({shown})"


def _surrogate_bodies(operations: Sequence[_Operation]) -> list[str]:
    """A warning naming the examples whose JSON body holds a lone surrogate (``"\\ud800"``): valid JSON text,
    but no UTF-8 or YAML text can hold its value, so it is kept as text (no schema inferred from it)."""
    named = [example.describe() for operation in operations for _, example in operation.examples
             if _json_with_lone_surrogate(example.response.body) or _json_with_lone_surrogate(example.request.body)]
    return [f"{example}: its body holds a lone surrogate (\\ud800…), which UTF-8 cannot hold: kept as text, "
            "no schema inferred from it" for example in named]


def _operations(collection: Collection, warnings: list[str]) -> list[_Operation]:
    """The operations, each example in the collection's order; paths of one shape (``/users/{userId}``,
    ``/users/{name}``: OpenAPI forbids both) are one path, named as the first seen (each example keeps its own
    names in ``x-postmock-example``)."""
    found: dict[tuple[str, str], _Operation] = {}
    shapes: dict[str, tuple[str, list[str]]] = {}
    for item in collection.items:
        if not item.examples:
            warnings.append(f"{item.name!r} has no example: not exported (a mock does not serve it)")
            continue
        for example in item.examples:
            method = example.request.method.lower()
            if method not in OPERATION_METHODS:
                warnings.append(f"{example.describe()}: OpenAPI has no {example.request.method} operation: "
                                "not exported")
                continue
            if wire.left_out(example):
                warnings.append(f"{example.describe()}: a 1xx example is never served: not exported")
                continue
            template, names = openapi_path(example.request.path)
            template, names = shapes.setdefault(_TEMPLATE_NAME.sub("{}", template), (template, names))
            key = (template, method)
            if key not in found:
                found[key] = _Operation(method, template, names)
            found[key].examples.append((item, example))
    return list(found.values())


def _operation(operation: _Operation, context: _Context) -> dict[str, Any]:
    first_item, first = operation.examples[0]
    data: dict[str, Any] = {"summary": first_item.name or f"{first.request.method} {first.request.path}",
                            "operationId": _operation_id(operation, context.used_ids)}
    if first_item.folder:
        data["tags"] = [first_item.folder[0]]
    code = code_of(first.request.headers)
    description = first_item.description or first.request.description
    if code is not None:
        data[POSTMOCK_COMPUTED] = {code[0]: code[1]}
        description = _computed(code) + (f"\n\n{description}" if description else "")
    if any(_is_websocket(example) for _, example in operation.examples):
        description = _WEBSOCKET + (f"\n\n{description}" if description else "")
    if description:
        data["description"] = description
    examples = [example for _, example in operation.examples]
    parameters = (_path_parameters(operation, context.variables)
                  + _parameters("query", [_sent_query(example) for example in examples])
                  + _parameters("header", [_sent_headers(example) for example in examples]))
    if parameters:
        data["parameters"] = parameters
    security = operation_security(examples, context.schemes)
    if security:
        data["security"] = security
    record = record_of(code, context.resources)
    body = _request_body(examples, record, code)
    if body:
        data["requestBody"] = body
    data["responses"] = _responses(examples, record, code)
    return data


def _computed(code: tuple[str, str]) -> str:
    kind, value = code
    if kind == "handler":
        return (f"Computed: answered by the Python handler `{value}`; the examples are its sample "
                "or last response.")
    fields = parse_resource(value)
    return (f"Computed: the `{fields.get('op', '?')}` operation of the resource `{fields.get('name', '?')}` "
            "(records remembered between requests); the examples are its state when exported.")


def _operation_id(operation: _Operation, used: set[str]) -> str:
    words = [word for word in re.split(r"[^A-Za-z0-9]+", operation.template) if word]
    name = free_name(operation.method + "".join(word[:1].upper() + word[1:] for word in words), used)
    used.add(name)
    return name


def _path_parameters(operation: _Operation, variables: dict[str, str]) -> list[dict[str, Any]]:
    """Each path parameter: a string, its ``example`` the value the examples saved (else the collection variable's),
    ``examples`` when they saved several; never an ``enum`` of them (the API takes other values; only the mock, as
    Postman's, matches the saved ones, and ``x-postmock-example`` keeps them for it)."""
    parameters = []
    own_names = [openapi_path(example.request.path)[1] for _, example in operation.examples]
    for index, name in enumerate(operation.parameters):
        saved: dict[str, str] = {}  # each value saved, in order → the first example that saved it
        for (_, example), own in zip(operation.examples, own_names, strict=True):
            saved.setdefault(_saved_value(example, own[index] if index < len(own) else name), example.name)
        saved.pop("", None)
        parameter: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        if len(saved) > 1:
            named: dict[str, Any] = {}
            for value, example_name in saved.items():
                named[_example_key(value, named)] = {"summary": example_name, "value": value}
            parameter["examples"] = named
        else:
            value = next(iter(saved), variables.get(name, ""))
            if value and "{{" not in value:
                parameter["example"] = value
        parameters.append(parameter)
    return parameters


def _saved_value(example: Example, name: str) -> str:
    """The value ``example`` saved for its path variable ``name`` (what Postman matches), or ""."""
    for key, value in example.request.path_variables:
        if key == name and value and "{{" not in value and not (value.startswith("<") and value.endswith(">")):
            return value
    return ""


def _sent_query(example: Example) -> list[tuple[str, str]]:
    return [(key, value) for key, value in example.request.query if key and not is_mock_name(key)]


def _sent_headers(example: Example) -> list[tuple[str, str]]:
    """The request headers of ``example`` that are header parameters: a header's name (an HTTP token: not empty, no
    space, colon, ``{{variable}}`` or non-ASCII letter, which no client sends as a header), not in
    :data:`NOT_PARAMETERS`, not a marker, not a credential (those are security schemes; one sent empty is left out)."""
    return [(key, value) for key, value in example.request.headers
            if wire.is_token(key) and key.lower() not in NOT_PARAMETERS and not is_mock_name(key)
            and not masking.is_secret_header(key)]


def _parameters(place: str, sent: list[list[tuple[str, str]]]) -> list[dict[str, Any]]:
    """The ``in: place`` parameters of an operation from what each of its examples sends (``sent``: one list of
    (name, value) per example; header names compared ignoring case): ``required`` when every example sends it, a
    schema inferred from the values (:func:`postmock_nb.formats.inference.infer_text_schema`: ``integer`` when
    every value is one…), an ``example`` (the first value, of that type; masked when the name is a credential's,
    whose schema is then a plain string: no value of it is written)."""
    fold = place == "header"
    values: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for pairs in sent:
        for key, value in pairs:
            names.setdefault(key.lower() if fold else key, key)
            values.setdefault(key.lower() if fold else key, []).append(value)
        counts.update({key.lower() if fold else key for key, _ in pairs})
    parameters = []
    for identity, found in values.items():
        name = names[identity]
        secret = masking.is_secret_header(name) if fold else masking.is_secret_parameter(name)
        schema = {"type": "string"} if secret else infer_text_schema(found)
        parameter: dict[str, Any] = {"name": name, "in": place, "required": counts[identity] == len(sent),
                                     "schema": schema}
        if "{{" not in found[0]:
            parameter["example"] = masking.mask(found[0]) if secret else typed_value(schema, found[0])
        parameters.append(parameter)
    return parameters


# -- bodies ---------------------------------------------------------------------------------------


_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"  # a high half not followed by a low one
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # a low half after no high one
    r"|[\ud800-\udfff]")  # or the character itself


def _lone_surrogate(text: str) -> bool:
    """Whether a body holds a lone surrogate, escaped (``\\ud800``) or as the character."""
    return ("\\u" in text or not text.isascii()) and _LONE_SURROGATE.search(text) is not None


def _json_with_lone_surrogate(text: str) -> bool:
    if not _lone_surrogate(text):
        return False
    try:
        limits.loads(text)
    except ValueError:
        return False
    return True


def _json_value(text: str) -> tuple[bool, Any]:
    """(True, the JSON value) of a body, or (False, its text): a value holding a lone surrogate is kept as text
    (no UTF-8 file can hold it)."""
    try:
        value = limits.loads(text)
    except ValueError:
        return False, text
    return (False, text) if _lone_surrogate(text) else (True, value)


def _request_type(example: Example) -> str:
    request = example.request
    for key, value in request.headers:
        if key.lower() == "content-type" and value.strip():
            return wire.media_type(value)
    if request.body_mode in _FORM_TYPES:
        return _FORM_TYPES[request.body_mode]
    if request.body_language in ("json", "xml", "html"):
        return {"json": "application/json", "xml": "application/xml", "html": "text/html"}[request.body_language]
    return "application/json" if _json_value(request.body)[0] else "text/plain"


def _request_value(example: Example, media_type: str) -> tuple[bool, Any]:
    """(whether it is structured data, the value) of an example's request body under ``media_type``."""
    if media_type == "application/x-www-form-urlencoded" or example.request.body_mode == "formdata":
        return True, dict(parse_qsl(example.request.body, keep_blank_values=True))
    if is_json_type(media_type) and media_type != "*/*":
        return _json_value(example.request.body)
    return False, example.request.body


def _request_body(examples: Sequence[Example], record: tuple[str, dict[str, Any]] | None,
                  code: tuple[str, str] | None) -> dict[str, Any]:
    with_body = [example for example in examples if example.request.body]
    if not with_body:
        return {}
    content: dict[str, dict[str, Any]] = {}
    grouped: dict[str, list[Example]] = {}
    for example in with_body:
        grouped.setdefault(_request_type(example), []).append(example)
    for media_type, group in grouped.items():
        values = [_request_value(example, media_type) for example in group]
        media: dict[str, Any] = {}
        if record is not None and is_json_type(media_type):
            media["schema"] = record_body_schema(record, code)
        elif all(structured for structured, _ in values):
            media["schema"] = infer_schema([value for _, value in values])
        else:
            media["schema"] = {"type": "string"}
        media["examples"] = _named([(example.name, value) for example, (_, value) in zip(group, values, strict=True)])
        content[media_type] = media
    return {"required": len(with_body) == len(examples), "content": content}


def _named(values: list[tuple[str, Any]]) -> dict[str, Any]:
    named: dict[str, Any] = {}
    for name, value in values:
        named[_example_key(name, named)] = {"summary": name, "value": value}
    return named


def _example_key(name: str, taken: Mapping[str, Any]) -> str:
    """The example's key among ``taken`` (``Prefer: example=KEY`` asks for it): its name with ``-`` for what is
    not a letter, digit, ``_``, ``.`` or ``-`` (``Order found`` → ``Order-found``), numbered when taken."""
    return free_name(re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:60] or "example", taken, separator="-")


# -- responses ------------------------------------------------------------------------------------


def _response_type(example: Example) -> str:
    if any(key.lower() == SSE_MARKER for key, _ in example.request.headers):
        return "text/event-stream"
    declared = example.response.header("content-type")
    if declared and declared.strip():
        return wire.media_type(declared)
    if not example.response.body:
        return ""
    return "application/json" if _json_value(example.response.body)[0] else "text/plain"


_SWITCHING_PROTOCOLS = 101
_WEBSOCKET = ("A WebSocket: the client opens it with this GET (`Upgrade: websocket`, answered `101 Switching "
              "Protocols`); the messages are exchanged over the socket, not described here.")


def _is_websocket(example: Example) -> bool:
    return any(key.lower() == WEBSOCKET_MARKER and value.strip() for key, value in example.request.headers)


def _responses(examples: Sequence[Example], record: tuple[str, dict[str, Any]] | None,
               code: tuple[str, str] | None) -> dict[str, Any]:
    """One response per status, in the order the examples first give it (the collection's: a plain request gets
    the first example, whatever its status), each example's place among the operation's in ``x-postmock-order``;
    a WebSocket's examples (its scripts, its handler) are its ``101`` (the upgrade)."""
    order: dict[int, int] = {}
    for index, example in enumerate(examples):
        order.setdefault(id(example), index)
    by_status: dict[int, list[Example]] = {}
    for example in examples:
        by_status.setdefault(_SWITCHING_PROTOCOLS if _is_websocket(example) else example.response.status,
                             []).append(example)
    return {str(status): _websocket_response(group, order) if status == _SWITCHING_PROTOCOLS
            else _response(status, group, record, code, order) for status, group in by_status.items()}


def _websocket_response(examples: list[Example], order: dict[int, int]) -> dict[str, Any]:
    """A WebSocket's answer: the upgrade (``101``), no content (what is sent over the socket is no HTTP body); its
    scripts kept in ``x-postmock-examples`` for the mock."""
    return {"description": "Switching Protocols: a WebSocket (the client sends `Upgrade: websocket`); the mock "
                           "plays its script, or its handler answers, over the socket",
            POSTMOCK_EXAMPLES: [_extensions(example, None, order) for example in examples]}


def _response(status: int, examples: list[Example], record: tuple[str, dict[str, Any]] | None,
              code: tuple[str, str] | None, order: dict[int, int]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": reason_phrase(status) or f"Status {status}"}
    headers = _response_headers(examples)
    if headers:
        response["headers"] = headers
    grouped: dict[str, list[Example]] = {}
    for example in examples:
        grouped.setdefault(_response_type(example), []).append(example)
    content: dict[str, Any] = {}
    for media_type, group in grouped.items():
        if media_type:
            content[media_type] = _media(media_type, group, record_schema(record, code, status), order)
    if content:
        response["content"] = content
    picked = pick_media(content)
    unread = [example for media_type, group in grouped.items() for example in group
              if picked is None or media_type != picked[0]]
    if unread:
        response[POSTMOCK_EXAMPLES] = [_extensions(example, None, order) for example in unread]
    return response


def _media(media_type: str, examples: list[Example], record_schema: dict[str, Any] | None,
           order: dict[int, int]) -> dict[str, Any]:
    parsed = [_json_value(example.response.body) if is_json_type(media_type) and media_type != "*/*"
              else (False, example.response.body) for example in examples]
    media: dict[str, Any] = {}
    if record_schema is not None:
        media["schema"] = record_schema
    elif all(ok for ok, _ in parsed) and is_json_type(media_type):
        media["schema"] = infer_schema([value for _, value in parsed])
    elif not is_json_type(media_type):
        media["schema"] = {"type": "string"}
    named: dict[str, Any] = {}
    for example, (ok, value) in zip(examples, parsed, strict=True):
        entry: dict[str, Any] = {"summary": example.name, "value": value}
        entry.update(_extensions(example, value if ok or not is_json_type(media_type) else None, order))
        named[_example_key(example.name, named)] = entry
    media["examples"] = named
    return media


def _extensions(example: Example, value: Any, order: dict[int, int]) -> dict[str, Any]:
    """``x-postmock-example``, ``x-postmock-markers`` and ``x-postmock-order`` of one example; its body left out
    when ``value`` (the example's ``value``, None when it cannot give the body back) gives it."""
    saved = example_json(example)
    request = dict(saved["originalRequest"])
    markers = {key: found for key, found in example.request.headers  # x-mock-openapi: a pointer into another document
               if is_mock_name(key) and key.lower() != OPENAPI_MARKER}
    request["header"] = [entry for entry in request["header"] if not is_mock_name(entry["key"])]
    saved["originalRequest"] = request
    if value is not None and _gives_back(value, example.response.body):
        del saved["body"]
    extensions: dict[str, Any] = {POSTMOCK_EXAMPLE: saved}
    if markers:
        extensions[POSTMOCK_MARKERS] = markers
    extensions[POSTMOCK_ORDER] = order[id(example)]
    return extensions


def _gives_back(value: Any, body: str) -> bool:
    """Whether the reader, writing ``value`` out, gives back ``body`` (the same text, or the same JSON)."""
    if isinstance(value, str):
        return value == body
    ok, parsed = _json_value(body)
    return ok and parsed == value and json.dumps(parsed, sort_keys=True) == json.dumps(value, sort_keys=True)


def _response_headers(examples: list[Example]) -> dict[str, Any]:
    values: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    for example in examples:
        for key, value in example.response.headers:
            lowered = key.lower()
            if lowered in _UNSENT_HEADERS or is_mock_name(key):
                continue
            shown.setdefault(lowered, key)
            values.setdefault(lowered, []).append(value)
    headers: dict[str, Any] = {}
    for lowered, sent in values.items():
        every = all(example.response.header(lowered) is not None for example in examples)
        shown_value = masking.mask_response_header(lowered, masking.mask_header(lowered, sent[0]))
        header: dict[str, Any] = {"schema": {"type": "string"}, "example": shown_value}
        if every:
            header["required"] = True
        headers[shown[lowered]] = header
    return headers


def save_openapi(collection: Collection, path: str | Path) -> tuple[Path, list[str]]:
    """Write the collection as an OpenAPI 3.1 document (YAML or JSON by the name; whole or not at all);
    returns the path and the warnings of :func:`to_openapi` (and :func:`save_document`'s)."""
    exported = to_openapi(collection)
    saved, warnings = save_document(exported.document, path)
    return saved, exported.warnings + warnings
