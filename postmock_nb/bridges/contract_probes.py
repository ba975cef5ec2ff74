"""The requests ``postmock check`` sends (:mod:`postmock_nb.bridges.contract`): one :class:`Probe` per distinct
request of the sketch, with what the sketch expects of its answer.

A collection's examples give their method, their path with its saved variable values, query, headers minus the
``x-mock-*`` markers, and body (``{{vars}}`` resolved with the collection's variables and the environment's,
``{{$guid}}``-style dynamic variables filled, a body with the ``Content-Type`` Postman's Send adds); examples that
differ by a header are separate requests. An OpenAPI document's operations give the request Postman's Send would
make from the document. Only GET, HEAD and OPTIONS are sent unless ``unsafe``: the others are listed as skipped,
and so are WebSocket examples.

A path parameter is filled the way contract tests fill it from examples (WireMock's, Prism's): a collection example's
saved value; for a resource's ``/orders/:id`` (which saves none) the id of the first record of its seed (the list
example's body); for an OpenAPI operation the parameter's ``example``, ``examples``, or its schema's ``example``,
``examples``, ``enum``, ``const`` or ``default``. A request with a parameter that has no value anywhere is skipped,
saying which (a value made up from a bare schema, ``/pets/string``, would only test the real API's 404). Credentials
are found here too (:func:`secrets_of`), for the report to mask.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from postmock_nb.answers.templating import dynamic_value
from postmock_nb.bridges.contract_report import NOT_SENT, CheckError, Expected, Probe
from postmock_nb.core import limits
from postmock_nb.core.markers import WEBSOCKET_MARKER, code_of, is_mock_name, parse_resource
from postmock_nb.core.masking import is_secret_header, is_secret_parameter
from postmock_nb.core.model import Collection, Example, Pairs, RequestSpec
from postmock_nb.core.paths import fill_saved_variables, resolve_variables
from postmock_nb.core.wire import is_token, media_type
from postmock_nb.formats.inference import infer_schema
from postmock_nb.formats.openapi import (
    Operation,
    Spec,
    is_json_type,
    iter_operations,
    operation_request,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""What is sent without ``--unsafe``: methods that change nothing on the real API."""

_VARIABLE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")

# -- the requests to send ---------------------------------------------------------------------


def parse_headers(given: Iterable[str]) -> Pairs:
    """``--header "Name: value"`` options as pairs (a clear error for one without a colon)."""
    pairs = []
    for text in given:
        name, colon, value = text.partition(":")
        if not colon or not name.strip() or any(c in name for c in " \t\r\n"):
            raise CheckError(f"--header {text.split(':')[0][:40]!r}… is not 'Name: value'",
                             hint='--header "Authorization: Bearer $TOKEN"')
        problem = unsendable_header(name.strip(), value.strip())
        if problem:
            raise CheckError(f"--header {problem}", hint="a header's name and value are ASCII, on one line")
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


_NOT_IN_HEADER = re.compile(r"[^\t\x20-\x7e]")
"""What HTTP/1.1 does not send in a header (httpx encodes names and values as ASCII): a character outside ASCII,
a line break, a control character."""


def unsendable_header(name: str, value: str) -> str:
    """Why a header cannot be sent (``X-User: its value holds 'é' (U+00E9), not ASCII``; a name with a space or a
    colon), or ``""``. The value itself is never shown (it may be a credential)."""
    for part, text in (("name", name), ("value", value)):
        found = _NOT_IN_HEADER.search(text)
        if found:
            char = found.group()
            shown = repr(char) if char.isprintable() else "a line break" if char in "\r\n" else "a control character"
            return f"{limits.shorten(name, 40)!r}: its {part} holds {shown} (U+{ord(char):04X}), not printable ASCII"
    if not is_token(name):
        return f"{limits.shorten(name, 40)!r}: no header name (letters, digits and !#$%&'*+-.^_`|~ only)"
    return ""


_TOKEN_SHAPED = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*|(?=[\w.~+/=-]*\d)(?=[\w.~+/=-]*[A-Za-z])[\w.~+/=-]{24,}")
"""A value that looks like a credential whatever its name: a JWT, or an opaque run of 24+ letters and digits."""


def secrets_of(pairs: Pairs, variables: Mapping[str, str], secret_names: Iterable[str] = ()) -> tuple[str, ...]:
    """The values to mask: those of credential headers and query parameters (``Authorization``, ``X-Api-Key``,
    ``access_token``: :mod:`postmock_nb.core.masking`'s rule, with and without the auth scheme), and of the
    variables named the same way (``apiToken``, ``client_secret``, ``password``), named in ``secret_names`` (an
    environment's values of type ``secret``) or shaped like a token (a JWT, 24+ letters and digits)."""
    secret = set(secret_names)
    found = set()
    for name, value in pairs:
        if _is_secret(name):
            found.add(value)
            scheme, space, rest = value.partition(" ")
            if space and scheme.isalpha():
                found.add(rest.strip())
    found.update(value for name, value in variables.items()
                 if name in secret or _is_secret(name) or _TOKEN_SHAPED.fullmatch(value))
    return tuple(sorted((s for s in found if len(s) >= 4), key=len, reverse=True))


def _is_secret(name: str) -> bool:
    """A header, query parameter or variable name that carries a credential (the log's masking rule)."""
    return is_secret_header(name) or is_secret_parameter(name)


def _sent_headers(saved: Pairs, given: Pairs) -> Pairs:
    """The example's headers without markers, per-connection ones and those without a name (as Postman's Send
    leaves a row with no key out), ``given`` ones replacing them by name."""
    replaced = {name.lower() for name, _ in given}
    kept = tuple((k, v) for k, v in saved
                 if k.strip() and not is_mock_name(k) and k.lower() not in NOT_SENT | replaced)
    return kept + given


_DYNAMIC = re.compile(r"\{\{\s*\$([A-Za-z]\w*)\s*\}\}")


def _dynamic(text: str) -> str:
    """Postman's dynamic variables (``{{$guid}}``, ``{{$randomInt}}``, ``{{$timestamp}}``) filled the way its Send
    fills them: a fresh value each (:func:`postmock_nb.answers.templating.dynamic_value`); an unknown one is kept."""
    if "{{" not in text:
        return text

    def value(match: re.Match[str]) -> str:
        made = dynamic_value(match.group(1))
        if made is None:
            return match.group(0)
        return str(made).lower() if isinstance(made, bool) else str(made)
    return _DYNAMIC.sub(value, text)


def _unresolved(probe: Probe) -> str:
    """Why the probe cannot be sent as it is (a ``{{variable}}`` or ``:name`` left without a value), or ``""``."""
    names = [segment[1:] for segment in probe.path.split("/") if segment.startswith(":") and len(segment) > 1]
    texts = [probe.path, probe.body, *(v for _, v in probe.query), *(t for pair in probe.headers for t in pair)]
    names += [m.group(1) for text in texts for m in _VARIABLE.finditer(text)]
    if not names:
        return ""
    return (f"no value for {', '.join(dict.fromkeys(names))}: save one in the example, or set it in the collection's "
            "variables or an environment (--environment FILE)")


def resolved(probe: Probe, variables: Mapping[str, str], given: Pairs, unsafe: bool) -> Probe:
    """``probe`` with its variables resolved, ``given`` headers laid over its own, and whether it is sent."""
    def fill(text: str) -> str:
        return _dynamic(resolve_variables(text, variables))

    probe = replace(probe, path=fill(probe.path), body=fill(probe.body),
                    query=tuple((fill(k), fill(v)) for k, v in probe.query),
                    headers=_sent_headers(tuple((fill(k), fill(v)) for k, v in probe.headers), given))
    if probe.skipped:
        return probe
    if not unsafe and probe.method not in SAFE_METHODS:
        return replace(probe, skipped=f"{probe.method} is sent only with --unsafe (it may change the real API's data)")
    return replace(probe, skipped=_unresolved(probe))


def collection_probes(collection: Collection, *, specs: Iterable[Spec] = (),
                      infer: Callable[[list[Any]], dict[str, Any]] = infer_schema) -> list[Probe]:
    """One probe per distinct request of the collection's examples (in collection order; headers count: an
    example with ``Authorization`` and one without are two requests), expecting each status and content type the
    examples of that request give, each with the schema inferred from that item's examples of that status and
    type. Two requests of the same method and URL are told apart by their first example's name.

    ``specs``: the OpenAPI documents the collection's examples were loaded from (``%mock load``), whose path
    parameters' values an example (which saves none) is sent with."""
    probes: dict[tuple[str, str, Pairs, Pairs, str], Probe] = {}
    seeds = _seed_ids(collection.examples)
    documented = {(request.method, request.path): _path_values(spec, operation, request)
                  for spec in specs for operation in iter_operations(spec)
                  for request in [operation_request(spec, operation)]}
    for item in collection.items:
        expected = _inferred(item.examples, infer)
        for example, answer in zip(item.examples, expected, strict=True):
            request = example.request
            path, no_id = _example_path(example, seeds, documented)
            headers, body = _as_sent(request)
            body = _created_without_id(example, body)
            probe = Probe(method=request.method, path=path, query=request.query, headers=headers, body=body,
                          expected=(answer,), names=(example.name,),
                          skipped=WEBSOCKET_SKIPPED if _is_websocket(example) else no_id)
            known = probes.get(probe.key())
            probes[probe.key()] = probe if known is None else replace(
                known, expected=_merged(known.expected, answer), names=(*known.names, example.name))
    return _told_apart(list(probes.values()))


def _merged(expected: tuple[Expected, ...], answer: Expected) -> tuple[Expected, ...]:
    """``expected`` with one more example's answer: a new status, or a new content type of a known one."""
    if all(e.code != answer.code for e in expected):
        return (*expected, answer)
    return tuple(replace(e, media=(*e.media, *(m for m in answer.media if m[0] not in dict(e.media))))
                 if e.code == answer.code else e for e in expected)


def _told_apart(probes: list[Probe]) -> list[Probe]:
    """Probes of one method and URL (they differ by headers or body) named by their first example."""
    labels = Counter(p.label for p in probes)
    return [replace(p, variant=p.names[0]) if labels[p.label] > 1 and p.names else p for p in probes]


WEBSOCKET_SKIPPED = "a WebSocket example: not checked (only HTTP answers are)"

_RAW_TYPES = {"json": "application/json", "xml": "application/xml", "html": "text/html",
              "javascript": "application/javascript", "text": "text/plain"}
"""The Content-Type Postman's Send gives a raw body, by the body's language."""

_MODE_TYPES = {"urlencoded": "application/x-www-form-urlencoded", "graphql": "application/json"}


def _as_sent(request: RequestSpec) -> tuple[Pairs, str]:
    """An example's request headers and body as Postman's Send makes them: a body without a ``Content-Type`` gets
    the one Send adds (a raw body's by its language, or ``application/json`` for JSON text; urlencoded; GraphQL as
    JSON), and form data goes as ``multipart/form-data`` (its text fields; the file fields a collection keeps
    no content of)."""
    if not request.body or any(k.lower() == "content-type" for k, _ in request.headers):
        return request.headers, request.body
    if request.body_mode == "formdata":
        boundary = "postmock-" + hashlib.sha256(request.body.encode()).hexdigest()[:24]
        return (*request.headers, ("Content-Type", f"multipart/form-data; boundary={boundary}")), _multipart(
            urllib.parse.parse_qsl(request.body, keep_blank_values=True), boundary)
    kind = _MODE_TYPES.get(request.body_mode) or _RAW_TYPES.get(request.body_language.lower())
    if kind is None:
        kind = "application/json" if parsed_json(request.body) is not NOT_JSON else "text/plain"
    return (*request.headers, ("Content-Type", kind)), request.body


def _multipart(fields: Iterable[tuple[str, str]], boundary: str) -> str:
    """Text fields as a ``multipart/form-data`` body (a name's ``"`` as ``%22``, as browsers write it)."""
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name.replace(chr(34), "%22")}"\r\n\r\n'
             f"{value}\r\n" for name, value in fields]
    return "".join(parts) + f"--{boundary}--\r\n"


def _resource_fields(example: Example) -> dict[str, str]:
    """The fields of a resource's example's marker (``name``, ``op``, ``id``), or ``{}`` for another example."""
    code = code_of(example.request.headers)
    return parse_resource(code[1]) if code is not None and code[0] == "resource" else {}


def _created_without_id(example: Example, body: str) -> str:
    """The body a resource's create example is sent with: its record without the id field (the resource, like most
    APIs, gives a new record its id; the record's own id is its seed's, taken, and answered 409)."""
    fields = _resource_fields(example)
    record = parsed_json(body) if fields.get("op") == "create" else None
    id_field = fields.get("id") or "id"
    if not isinstance(record, dict) or id_field not in record:
        return body
    return json.dumps({key: value for key, value in record.items() if key != id_field}, ensure_ascii=False)


def _record_id(record: Any, id_field: str) -> str | None:
    value = record.get(id_field) if isinstance(record, dict) else None
    return None if isinstance(value, bool) or not isinstance(value, str | int) or value == "" else str(value)


def _seed_ids(examples: Iterable[Example]) -> dict[str, str | None]:
    """Each resource's id to check ``/orders/:id`` with, by name: the id of the first record of its seed (the
    body of its list example); None when that seed holds no record."""
    ids: dict[str, str | None] = {}
    for example in examples:
        fields = _resource_fields(example)
        if fields.get("op") == "list":
            records = parsed_json(example.response.body or "[]")
            first = records[0] if isinstance(records, list) and records else None
            ids[fields.get("name", "")] = _record_id(first, fields.get("id") or "id")
    return ids


def _example_path(example: Example, seeds: Mapping[str, str | None],
                  documented: Mapping[tuple[str, str], dict[str, str | None]]) -> tuple[str, str]:
    """The path an example's request is sent to, and why it cannot be sent (``""``: it can).

    The saved path variables first; a resource's ``:id`` (which it saves none for) then takes its seed's first
    record's id, or, when the collection has no list example of that resource, the id of the record the example
    answers with; an example loaded from an OpenAPI document takes the document's values (``documented``).
    """
    request = example.request
    path = fill_saved_variables(request.path, request.path_variables)
    fields = _resource_fields(example)
    if not fields:
        values = documented.get((request.method, request.path))
        if values is None or ":" not in path:
            return path, ""
        path = fill_saved_variables(path, [(k, v) for k, v in values.items() if v is not None])
        return path, _no_value([k for k, v in values.items() if v is None and f":{k}" in path.split("/")])
    if ":id" not in path.split("/"):
        return path, ""
    name = fields.get("name", "")
    sample = seeds[name] if name in seeds else _record_id(parsed_json(example.response.body), fields.get("id") or "id")
    if sample is None:
        return path, (f"no value for id: resource {name!r} has no record to take one from (seed it, or save a "
                      "value for :id in the example)")
    return "/".join(urllib.parse.quote(sample, safe="") if s == ":id" else s for s in path.split("/")), ""


def _is_websocket(example: Example) -> bool:
    return any(name.lower() == WEBSOCKET_MARKER for name, _ in example.request.headers)


def _inferred(examples: Sequence[Example], infer: Callable[[list[Any]], dict[str, Any]]) -> list[Expected]:
    """Each example's answer: its status, its content type, and the schema inferred from the JSON bodies of the
    examples (of these) of that status and content type."""
    by_status: dict[int, list[Example]] = {}
    for example in examples:
        by_status.setdefault(example.response.status, []).append(example)
    kinds = [_response_type(e, by_status[e.response.status]) for e in examples]
    grouped: dict[tuple[int, str], list[Example]] = {}
    for example, kind in zip(examples, kinds, strict=True):
        grouped.setdefault((example.response.status, kind), []).append(example)
    schemas = {}
    for (status, kind), same in grouped.items():
        bodies = [parsed_json(e.response.body) for e in same if e.response.body.strip()]
        usable = bodies and is_json_type(kind) and all(b is not NOT_JSON and b is not TOO_DEEP for b in bodies)
        schemas[status, kind] = infer(bodies) if usable else None
    return [Expected(str(e.response.status), ((kind, schemas[e.response.status, kind]),) if kind else ())
            for e, kind in zip(examples, kinds, strict=True)]


def _response_type(example: Example, group: list[Example]) -> str:
    """An example's content type: its own header's; without one, its status's other examples' (the first that
    says one), else ``application/json`` when every body of the status is JSON; ``""``: none promised."""
    own = media_type(example.response.header("Content-Type") or "")
    if own:
        return own
    said = next((t for e in group if (t := media_type(e.response.header("Content-Type") or ""))), "")
    if said or not any(e.response.body.strip() for e in group):
        return said
    return "application/json" if all(parsed_json(e.response.body) is not NOT_JSON for e in group) else ""


NOT_JSON, TOO_DEEP = object(), object()


def parsed_json(text: str) -> Any:
    """The JSON value of ``text``, or ``NOT_JSON``, or ``TOO_DEEP`` (JSON, but deeper than the limit)."""
    try:
        return limits.loads(text)
    except limits.TooDeep:
        return TOO_DEEP
    except (ValueError, RecursionError):
        return NOT_JSON


def openapi_probes(spec: Spec) -> list[Probe]:
    """One probe per operation of the document (the request Postman's Send would make from it), expecting any
    status the operation documents, with the document's response schemas."""
    probes = []
    for operation in iter_operations(spec):
        request = operation_request(spec, operation)
        values = _path_values(spec, operation, request)
        path = fill_saved_variables(request.path, [(k, v) for k, v in values.items() if v is not None])
        probes.append(Probe(method=request.method, path=path,
                            query=request.query, headers=request.headers, body=request.body,
                            expected=tuple(_documented(spec, operation)), names=(operation.label(),),
                            skipped=_no_value([k for k, v in values.items() if v is None])))
    return probes


def _path_values(spec: Spec, operation: Operation, request: RequestSpec) -> dict[str, str | None]:
    """An operation's path parameters and the value the document gives each (None: it gives none); ``request``
    is the operation's (:func:`operation_request`), which holds the values."""
    made = dict(request.path_variables)
    return {str(p.get("name")): made.get(str(p.get("name"))) if _has_value(spec, p, where) else None
            for p, where in operation.parameters if p.get("in") == "path"}


_VALUE_KEYWORDS = ("example", "examples", "enum", "const", "default")
"""The keywords of a parameter's schema that give it a value a real API knows (a made-up one would not)."""


def _has_value(spec: Spec, parameter: dict[str, Any], where: str) -> bool:
    """Whether the document gives a path parameter a value: its ``example`` or ``examples``, or its schema's
    ``example``, ``examples``, ``enum``, ``const`` or ``default`` (what :func:`operation_request` fills it with)."""
    if "example" in parameter or parameter.get("examples"):
        return True
    schema, _ = spec.resolve(parameter.get("schema"), f"{where}/schema")
    return isinstance(schema, dict) and any(k in schema and schema[k] not in ([], {}) for k in _VALUE_KEYWORDS)


def _no_value(names: list[str]) -> str:
    if not names:
        return ""
    return (f"no value for path parameter {', '.join(names)}: give it an example in the document (the parameter's "
            "example or examples, or its schema's example, enum or default)")


def _documented(spec: Spec, operation: Operation) -> Iterator[Expected]:
    responses = operation.data.get("responses")
    if not isinstance(responses, dict) or not any(not str(c).startswith("x-") for c in responses):
        yield Expected("200")  # valid in 3.1: no responses documented, served as 200 (formats.openapi)
        return
    for code, raw in responses.items():
        if str(code).startswith("x-"):
            continue
        response, _ = spec.resolve(raw, f"{operation.where}/responses/{code}")
        content = response.get("content") if isinstance(response, dict) else None
        media = tuple((media_type(str(name)), entry.get("schema") if isinstance(entry, dict) else None)
                      for name, entry in content.items()) if isinstance(content, dict) else ()
        yield Expected(str(code), media)


