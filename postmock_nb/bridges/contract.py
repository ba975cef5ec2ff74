"""Checking the real API against the sketch (``postmock check SOURCE --against URL``, ``%mock check URL``).

Every request of the sketch is sent to the real API, once: a collection's examples (their method, their path with
its saved variable values, query, headers minus the ``x-mock-*`` markers, and body, ``{{vars}}`` resolved with the
collection's variables and the environment's, ``{{$guid}}``-style dynamic variables filled, a body with the
``Content-Type`` Postman's Send adds; examples that differ by a header are separate requests), or an OpenAPI
document's operations (the request Postman's Send would make from the document). Each request has one deadline,
``timeout`` seconds for its whole answer. Only GET, HEAD and OPTIONS are sent unless ``unsafe``: the others are
listed as skipped, and so are WebSocket examples. A Server-Sent Events answer is checked by its status and content
type, its body (which may never end) left unread.

A path parameter is filled the way contract tests fill it from examples (WireMock's, Prism's): a collection example's
saved value; for a resource's ``/orders/:id`` (which saves none) the id of the first record of its seed (the list
example's body); for an OpenAPI operation the parameter's ``example``, ``examples``, or its schema's ``example``,
``examples``, ``enum``, ``const`` or ``default``. A request with a parameter that has no value anywhere is skipped,
saying which (a value made up from a bare schema, ``/pets/string``, would only test the real API's 404).

Each answer is compared with what the sketch says (:class:`Expected`, one per status):

- the status: one of the statuses the examples of that request give, or (an OpenAPI source) any status the
  operation documents (``404``, ``4XX``, ``default``);
- the content type (its media type: ``application/json; charset=utf-8`` is ``application/json``);
- a JSON body against the schema: the document's response schema, or (a collection) one inferred from the
  example bodies of that request and status (:func:`postmock_nb.formats.inference.infer_schema`), by
  :func:`postmock_nb.bridges.drift.differences` (types, required fields, array items, ``enum``, ``format``;
  unexpected fields reported, failed only when ``strict`` or the schema says ``additionalProperties: false``).

The result is a :class:`Report`: one :class:`Outcome` per request (``ok``, ``drift``, ``skipped`` or ``error``),
as text, as rows for the notebook's table, and as JUnit XML. Credentials never reach it: the values of the headers
given with ``--header``, of credential headers, and of environment variables with secret-sounding names are
masked wherever they would appear (a URL, an error message).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx

from postmock_nb.answers.templating import dynamic_value
from postmock_nb.bridges.drift import DRIFT, ERROR, OK, SKIPPED, Difference, differences
from postmock_nb.bridges.proxy import no_cookie_jar
from postmock_nb.config import CHECK_MAX_TIMEOUT_S, CHECK_TIMEOUT_S
from postmock_nb.core import limits
from postmock_nb.core.markers import WEBSOCKET_MARKER, code_of, is_mock_name, parse_resource
from postmock_nb.core.masking import is_secret_header, is_secret_parameter, mask, shown_url
from postmock_nb.core.model import Collection, Example, Pairs, RequestSpec, path_with_query
from postmock_nb.core.paths import fill_saved_variables, resolve_variables
from postmock_nb.core.text import plural
from postmock_nb.core.wire import HOP_BY_HOP, is_token, media_type
from postmock_nb.errors import PostmockError
from postmock_nb.formats import atomicfile
from postmock_nb.formats.inference import infer_schema
from postmock_nb.formats.openapi import (
    Operation,
    Spec,
    is_json_type,
    iter_operations,
    operation_request,
    pointer,
)

EVENT_STREAM = "text/event-stream"
"""An answer of this type (Server-Sent Events) is checked by its status and type; its body, which may never
end, is not read."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""What is sent without ``--unsafe``: methods that change nothing on the real API."""

_VARIABLE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_NOT_SENT = HOP_BY_HOP | {"host", "content-length"}


class CheckError(PostmockError):
    """``postmock check`` cannot start (a bad ``--header``, a bad URL, a bad timeout)."""


@dataclass(frozen=True)
class Expected:
    """What the sketch says one status answers: ``code`` (``200``, ``4XX``, ``default``) and, per content type,
    the body's schema (None: no schema to compare with). No content types: no body is promised."""

    code: str
    media: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Probe:
    """One request to send, and what its answer may be."""

    method: str
    path: str
    query: Pairs = ()
    headers: Pairs = ()
    body: str = ""
    expected: tuple[Expected, ...] = ()
    skipped: str = ""
    """Why the request is not sent (empty: it is)."""
    names: tuple[str, ...] = ()
    """The examples (or the operation) this request stands for."""
    variant: str = ""
    """What tells this request from another of the same method and URL (its first example's name), or ``""``."""

    @property
    def label(self) -> str:
        shown = f"{self.method} {path_with_query(self.path, self.query)}"
        return f"{shown} [{self.variant}]" if self.variant else shown

    def key(self) -> tuple[str, str, Pairs, Pairs, str]:
        """What makes two examples one request: the method, path, query, the headers sent (the markers aside: an
        example with ``Authorization`` and one without, or two that ``Accept`` other types, are two requests, each
        expecting its own statuses) and the body."""
        headers = sorted((k.lower(), v) for k, v in self.headers if not is_mock_name(k) and k.lower() not in _NOT_SENT)
        return self.method, self.path, self.query, tuple(headers), self.body


@dataclass(frozen=True)
class Outcome:
    """What one request gave: its verdict, what came back, and each difference."""

    probe: Probe
    verdict: str
    differences: tuple[Difference, ...] = ()
    status: int | None = None
    content_type: str = ""
    elapsed_ms: float = 0.0
    reason: str = ""
    """Why skipped, or what went wrong (error)."""

    def summary(self) -> str:
        if self.verdict in (SKIPPED, ERROR):
            return self.reason
        answer = f"{self.status} {self.content_type}".strip()
        return f"{answer}, {self.elapsed_ms:.0f} ms"


@dataclass(frozen=True)
class Report:
    """Every request's outcome, in the sketch's order, with the secrets to mask in whatever is shown."""

    outcomes: tuple[Outcome, ...]
    against: str
    source: str = ""
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def count(self, verdict: str) -> int:
        return sum(o.verdict == verdict for o in self.outcomes)

    @property
    def checked(self) -> int:
        """How many requests were sent (and answered, or not)."""
        return sum(o.verdict != SKIPPED for o in self.outcomes)

    @property
    def failed(self) -> bool:
        """Drift, errors, or nothing sent at all (a CI job that checked nothing must not pass): exit 1."""
        return any(o.verdict in (DRIFT, ERROR) for o in self.outcomes) or not self.checked

    def masked(self, text: str) -> str:
        """``text`` with every secret masked."""
        for secret in self.secrets:
            text = text.replace(secret, mask(secret))
        return text

    def summary(self) -> str:
        notes = sum(not d.fails for o in self.outcomes for d in o.differences)
        counts = ", ".join(f"{self.count(v)} {v}" for v in (OK, DRIFT, ERROR, SKIPPED) if self.count(v))
        noted = f"; {plural(notes, 'difference')} reported, not failed" if notes else ""
        if not self.checked:
            why = f"every request was skipped ({counts})" if self.outcomes else "the sketch has no requests"
            return self.masked(f"nothing was checked against {self.against}: {why}")
        return self.masked(f"{plural(len(self.outcomes), 'request')} checked against {self.against}: "
                           f"{counts}{noted}")

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The table's rows: (request, result, where, what); a request's first row, then one per difference."""
        rows = []
        for outcome in self.outcomes:
            rows.append((outcome.probe.label, outcome.verdict, "", outcome.summary()))
            rows.extend(("", "" if d.fails else "note", d.where, d.what) for d in outcome.differences)
        return [(self.masked(a), b, self.masked(c), self.masked(d)) for a, b, c, d in rows]

    def text(self) -> str:
        """The report as a terminal shows it: a line per request, a line per difference, the summary."""
        lines = []
        for request, result, where, what in self.rows():
            if request:
                lines.append(f"{result:<8} {request}  ({what})")
            else:
                lines.append(f"         {'note: ' if result else ''}{where}: {what}")
        return "\n".join([*lines, self.summary()])

    def junit(self) -> str:
        """JUnit XML for CI: a test case per request (a failure per drift, an error, or skipped); a character XML
        cannot hold (a control character in a label) written as ``\\x00``."""
        suite = ElementTree.Element("testsuite", {
            "name": _xml(self.masked(f"postmock check {self.source} against {self.against}".replace("  ", " "))),
            "tests": str(len(self.outcomes)), "failures": str(self.count(DRIFT)), "errors": str(self.count(ERROR)),
            "skipped": str(self.count(SKIPPED)),
            "time": f"{sum(o.elapsed_ms for o in self.outcomes) / 1000:.3f}"})
        for outcome in self.outcomes:
            case = ElementTree.SubElement(suite, "testcase", {
                "classname": "postmock.check", "name": _xml(self.masked(outcome.probe.label)),
                "time": f"{outcome.elapsed_ms / 1000:.3f}"})
            details = _xml(self.masked("\n".join(d.describe() + ("" if d.fails else " (reported, not failed)")
                                            for d in outcome.differences)))
            if outcome.verdict == DRIFT:
                failing = [d for d in outcome.differences if d.fails]
                message = _xml(self.masked(failing[0].describe())) if len(failing) == 1 else plural(len(failing),
                                                                                             "difference")
                ElementTree.SubElement(case, "failure", {"type": "drift", "message": message}).text = details
            elif outcome.verdict == ERROR:
                ElementTree.SubElement(case, "error", {"message": _xml(self.masked(outcome.reason))})
            elif outcome.verdict == SKIPPED:
                ElementTree.SubElement(case, "skipped", {"message": _xml(self.masked(outcome.reason))})
            elif details:
                ElementTree.SubElement(case, "system-out").text = details
        root = ElementTree.Element("testsuites")
        root.append(suite)
        ElementTree.indent(root)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """``text`` with what XML 1.0 cannot hold (control characters, lone surrogates) written as ``\\x00``."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        text)


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
                 if k.strip() and not is_mock_name(k) and k.lower() not in _NOT_SENT | replaced)
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


def _resolved(probe: Probe, variables: Mapping[str, str], given: Pairs, unsafe: bool) -> Probe:
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
        kind = "application/json" if _json(request.body) is not _NOT_JSON else "text/plain"
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
    record = _json(body) if fields.get("op") == "create" else None
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
            records = _json(example.response.body or "[]")
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
    sample = seeds[name] if name in seeds else _record_id(_json(example.response.body), fields.get("id") or "id")
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
        bodies = [_json(e.response.body) for e in same if e.response.body.strip()]
        usable = bodies and is_json_type(kind) and all(b is not _NOT_JSON and b is not _TOO_DEEP for b in bodies)
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
    return "application/json" if all(_json(e.response.body) is not _NOT_JSON for e in group) else ""


_NOT_JSON, _TOO_DEEP = object(), object()


def _json(text: str) -> Any:
    """The JSON value of ``text``, or ``_NOT_JSON``, or ``_TOO_DEEP`` (JSON, but deeper than the limit)."""
    try:
        return limits.loads(text)
    except limits.TooDeep:
        return _TOO_DEEP
    except (ValueError, RecursionError):
        return _NOT_JSON


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


# -- sending and comparing ---------------------------------------------------------------------


@dataclass
class Checker:
    """Sends probes to ``against`` (an http(s) URL: the requests' paths follow its own path) and compares answers."""

    against: str
    timeout: float = CHECK_TIMEOUT_S
    strict: bool = False
    lookup: Callable[[str], Any] | None = None
    """What a ``$ref`` in a document's schema points to (``Spec.lookup``)."""
    max_bytes: int = limits.MAX_UPSTREAM_BYTES
    verify: bool = True
    option: str = "--against"
    """How the user gave the URL, for messages (``%mock check`` takes it as its argument)."""

    def __post_init__(self) -> None:
        shown = f"{self.option} {shown_url(self.against)!r}"
        try:
            url = httpx.URL(self.against)
        except (httpx.InvalidURL, ValueError) as error:
            raise CheckError(f"{shown} is not a URL ({error})", hint=f"{self.option} https://api.example.com") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise CheckError(f"{shown} is not an http(s) URL", hint=f"{self.option} https://api.example.com")
        if url.query or url.fragment or "?" in self.against or "#" in self.against:
            raise CheckError(f"{shown} has a query or a fragment: give the base URL the requests' paths follow",
                             hint=f"{self.option} https://api.example.com/v1")
        if not 0 < self.timeout <= CHECK_MAX_TIMEOUT_S:
            raise CheckError(f"--timeout must be more than 0 and at most {CHECK_MAX_TIMEOUT_S:g} seconds, "
                             f"not {self.timeout:g}", hint="--timeout 10")
        self.against = self.against.rstrip("/")

    def run(self, probes: Iterable[Probe]) -> list[Outcome]:
        """Every probe's outcome, in the probes' order; the DELETEs are sent after the others (with ``--unsafe``,
        a record deleted first would answer the PATCH or GET of it that follows 404: drift the check made)."""
        probes = list(probes)
        with httpx.Client(timeout=httpx.Timeout(self.timeout), follow_redirects=False, trust_env=False,
                          verify=self.verify, cookies=no_cookie_jar()) as client:
            sent = {index: self.check(client, probes[index])
                    for index in sorted(range(len(probes)), key=lambda index: probes[index].method == "DELETE")}
        return [sent[index] for index in range(len(probes))]

    def check(self, client: httpx.Client, probe: Probe) -> Outcome:
        if probe.skipped:
            return Outcome(probe, SKIPPED, reason=probe.skipped)
        problem = next((p for name, value in probe.headers if (p := unsendable_header(name, value))), "")
        if problem:
            return Outcome(probe, ERROR, reason=f"cannot send the header {problem}")
        started = time.perf_counter()
        try:
            status, headers, body = self._send(client, probe, started + self.timeout)
        except httpx.TimeoutException as error:
            return Outcome(probe, ERROR, elapsed_ms=_since(started),
                           reason=f"no answer within {self.timeout:g} s ({type(error).__name__})")
        except _Unread as error:
            return Outcome(probe, ERROR, elapsed_ms=_since(started), reason=str(error))
        except httpx.HTTPError as error:
            return Outcome(probe, ERROR, elapsed_ms=_since(started), reason=f"{type(error).__name__}: {error}")
        answered_ms = _since(started)  # the answer's time, not the comparison's
        content_type = media_type(headers.get("content-type", ""))
        found = self.compare(probe, status, content_type, body)
        verdict = DRIFT if any(d.fails for d in found) else OK
        return Outcome(probe, verdict, tuple(found), status, content_type, answered_ms)

    def _send(self, client: httpx.Client, probe: Probe, deadline: float) -> tuple[int, httpx.Headers, bytes]:
        """Send the probe; its answer's status, headers and body (at most ``max_bytes``, read by ``deadline``:
        each read waits at most ``timeout`` too, so an answer that trickles in is cut at the deadline)."""
        try:
            request = client.build_request(probe.method, self.against + probe.path,
                                           params=list(probe.query) or None, headers=list(probe.headers),
                                           content=probe.body.encode("utf-8", "surrogatepass") or None)
        except (httpx.InvalidURL, ValueError) as error:  # UnicodeError too
            raise _Unread(f"cannot be sent: {error}") from None
        response = client.send(request, stream=True)
        try:
            chunks, size = [], 0
            if media_type(response.headers.get("content-type", "")) == EVENT_STREAM:
                return response.status_code, response.headers, b""  # a stream may never end: not read
            for chunk in response.iter_bytes():  # decoded: a compressed bomb is cut at the limit too
                size += len(chunk)
                if size > self.max_bytes:
                    raise _Unread(f"the answer's body is over {self.max_bytes} bytes (not read further)")
                if time.perf_counter() > deadline:
                    raise _Unread(f"no whole answer within {self.timeout:g} s ({size} bytes of the body came)")
                chunks.append(chunk)
        finally:
            response.close()
        return response.status_code, response.headers, b"".join(chunks)

    def compare(self, probe: Probe, status: int, content_type: str, body: bytes) -> list[Difference]:
        """How the answer differs from what the probe expects (status, content type, body)."""
        expected = _for_status(probe.expected, status)
        if expected is None:
            codes = " or ".join(e.code for e in probe.expected) or "(none)"
            return [Difference("status", f"expected {codes}, got {status}")]
        if not expected.media:
            return []
        chosen = next((m for m in expected.media if _media_fits(m[0], content_type)), None)
        if chosen is None:
            wanted = " or ".join(m[0] for m in expected.media)
            return [Difference("content-type", f"expected {wanted}, got {content_type or '(none)'}")]
        schema = chosen[1]
        if schema is None or probe.method == "HEAD" or not is_json_type(content_type):
            return []
        text = body.decode("utf-8", "replace")
        value = _json(text)
        if value is _TOO_DEEP:
            return [Difference("body", f"JSON nested too deep to compare (over {limits.MAX_JSON_DEPTH} levels)")]
        if value is _NOT_JSON:
            return [Difference("body", f"expected JSON, got {limits.shorten(text[:60])!r}")]
        return differences(value, schema, lookup=self.lookup or _nothing, strict=self.strict)


class _Unread(Exception):
    """The answer cannot be had: too large, too slow, or the request cannot be made; the message says which."""


def _nothing(ref: str) -> Any:
    return {}


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _for_status(expected: tuple[Expected, ...], status: int) -> Expected | None:
    """The expectation for this status: its own code, else its range (``4XX``), else ``default``."""
    by_code = {e.code.upper(): e for e in expected}
    return by_code.get(str(status)) or by_code.get(f"{status // 100}XX") or by_code.get("DEFAULT")


def _media_fits(documented: str, received: str) -> bool:
    if documented in ("", "*/*") or documented == received:
        return True
    head, _, tail = documented.partition("/")
    return tail == "*" and received.startswith(head + "/")


def junit_target(path: str, *, sources: Iterable[str | None] = ()) -> Path:
    """Where ``--junit`` writes, refused before anything is sent when it cannot be written there: a directory, a
    device or a pipe, or one of the ``sources`` (the sketch, the environment file), which it would overwrite."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise CheckError(f"--junit {path}: is a directory, not a file", hint="--junit results/check.xml")
    if target.exists() and not target.is_file():  # /dev/stdout, a pipe: never replaced by a file
        raise CheckError(f"--junit {path}: is not a regular file (a device, a pipe): the XML is written to a file",
                         hint="--junit results/check.xml")
    for source in sources:
        if source and target.resolve() == Path(source).expanduser().resolve():
            raise CheckError(f"--junit {path}: the output is the source ({source}): it would be overwritten",
                             hint="--junit results/check.xml")
    return target


def write_junit(path: Path, report: Report) -> Path:
    """Write the report's JUnit XML to ``path`` whole (or not at all), saying why it cannot."""
    try:
        return atomicfile.replace_text(path, report.junit())
    except OSError as error:
        raise CheckError(f"cannot write the JUnit XML to {path}: {error.strerror or error}",
                         hint="--junit a file in a directory you can write to") from None


def check(probes: list[Probe], *, against: str, source: str = "", headers: Pairs = (),
          variables: Mapping[str, str] | None = None, unsafe: bool = False, strict: bool = False,
          timeout: float = CHECK_TIMEOUT_S, spec: Spec | None = None, option: str = "--against",
          secret_names: Iterable[str] = ()) -> Report:
    """Send every probe (variables resolved, ``headers`` laid over) to ``against`` and report how they differ.
    A password in ``against`` is shown as ``***``; it, the credentials and the variables :func:`secrets_of` finds
    (``secret_names``: an environment's values of type ``secret``) are masked wherever they would appear."""
    variables = dict(variables or {})
    checker = Checker(against, timeout=timeout, strict=strict, option=option,
                      lookup=(lambda ref: spec.lookup(ref, pointer())) if spec is not None else None)
    sent = [_resolved(probe, variables, headers, unsafe) for probe in probes]
    sent_pairs = tuple(pair for probe in sent for pair in (*probe.headers, *probe.query))
    password = urllib.parse.urlsplit(checker.against).password
    secrets = secrets_of(headers + sent_pairs, variables, secret_names)
    secrets += (password,) if password and len(password) >= 4 else ()
    return Report(tuple(checker.run(sent)), shown_url(checker.against), source, secrets)
