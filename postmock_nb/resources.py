"""Resources that remember: a named, in-memory list of records served with CRUD conventions.

A resource ``users`` (seeded from a JSON array) is six examples of the collection, one per
operation, each carrying the marker ``x-mock-resource: name=users; op=<op>; id=<field>``::

    GET    /users        list    200 the records; ?field=value filters, _sort/_page/_per_page, X-Total-Count
    GET    /users/:id    get     200, or 404 with a JSON error
    POST   /users        create  201 with a new id, Location and the stored record
    PUT    /users/:id    replace 200 (the body replaces the record; its id stays)
    PATCH  /users/:id    merge   200 (JSON merge patch, RFC 7396)
    DELETE /users/:id    delete  204

The names follow json-server (v1): ``_sort=field`` (``-field`` for descending), ``_page`` (from 1)
and ``_per_page`` (default 10); the body stays a plain array and the total count of matching
records is in ``X-Total-Count``. The saved response of each example is the current state (what
``%mock save`` exports); the list example's body is the seed a loaded collection restores.

The records are a live list (:class:`Resource` is a mutable sequence of dicts): the notebook may read
and change it, the server takes the resource's lock for every operation.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, MutableSequence
from typing import Any

from .errors import ExampleDefinitionError
from .handlers import Rendered
from .model import Example, Pairs, RequestSpec, ResponseSpec, reason_phrase

RESOURCE_MARKER = "x-mock-resource"
OPERATIONS = ("list", "get", "create", "replace", "merge", "delete")
_ROUTES = {"list": ("GET", ""), "get": ("GET", "/:id"), "create": ("POST", ""), "replace": ("PUT", "/:id"),
           "merge": ("PATCH", "/:id"), "delete": ("DELETE", "/:id")}
_STATUS = {"list": 200, "get": 200, "create": 201, "replace": 200, "merge": 200, "delete": 204}
DEFAULT_PER_PAGE = 10
_JSON = (("content-type", "application/json"),)


def marker_value(name: str, op: str, id_field: str) -> str:
    return f"name={name}; op={op}; id={id_field}"


def parse_marker(value: str) -> dict[str, str]:
    """``name=users; op=get; id=id`` → its fields."""
    fields = {}
    for part in value.split(";"):
        key, _, val = part.strip().partition("=")
        if key:
            fields[key.strip()] = val.strip()
    return fields


def _json_kind(value: Any) -> str:
    """What a JSON body is, in JSON's words: ``the JSON null body``, ``a JSON array``, ``a JSON string``..."""
    if value is None:
        return "the JSON null body"
    kind = {bool: "boolean", list: "array", str: "string", int: "number", float: "number"}.get(type(value), "value")
    return f"a JSON {kind}"


def _error(status: int, message: str) -> Rendered:
    return Rendered(status, _JSON, json.dumps({"error": message}, ensure_ascii=False).encode("utf-8"))


def _json(status: int, data: Any, headers: tuple[tuple[str, str], ...] = ()) -> Rendered:
    return Rendered(status, _JSON + headers, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge recursively, ``null`` removes a member."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def check_records(records: Any, name: str, id_field: str) -> list[dict[str, Any]]:
    """The seed as a list of dicts with unique ids, or a clear error."""
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ExampleDefinitionError(f"resource {name!r} needs a JSON array of objects",
                                     hint='for example: [{"id": 1, "name": "Alice"}]')
    seen: set[str] = set()
    for index, record in enumerate(records):
        if id_field not in record:
            raise ExampleDefinitionError(f"record {index} of resource {name!r} has no {id_field!r} field",
                                         hint=f"give every record an {id_field!r}, or name the id field with --id")
        key = str(record[id_field])
        if key in seen:
            raise ExampleDefinitionError(f"resource {name!r} has the id {record[id_field]!r} twice")
        seen.add(key)
    return copy.deepcopy(records)


class Resource(MutableSequence[dict[str, Any]]):
    """The live records of one resource: a list of dicts the server and the notebook share."""

    def __init__(self, name: str, records: list[dict[str, Any]], *, id_field: str = "id", path: str = "") -> None:
        self.name = name
        self.id_field = id_field
        self.path = path or "/" + name
        self.lock = threading.RLock()
        self._seed = check_records(records, name, id_field)
        self._records: list[dict[str, Any]] = copy.deepcopy(self._seed)
        self.last_change: float | None = None
        self.changes = 0

    # -- the sequence (what the notebook reads and changes) -----------------------------------

    def __getitem__(self, index: Any) -> Any:
        return self._records[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        with self.lock:
            self._records[index] = value
            self._touched()

    def __delitem__(self, index: Any) -> None:
        with self.lock:
            del self._records[index]
            self._touched()

    def __len__(self) -> int:
        return len(self._records)

    def insert(self, index: int, value: dict[str, Any]) -> None:
        with self.lock:
            self._records.insert(index, value)
            self._touched()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(list(self._records))

    def __repr__(self) -> str:
        return f"Resource({self.name!r}, {self._records!r})"

    def __eq__(self, other: object) -> bool:
        return list(self._records) == (list(other) if isinstance(other, (list, Resource)) else other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def records(self) -> list[dict[str, Any]]:
        """A deep copy of the current records."""
        with self.lock:
            return copy.deepcopy(self._records)

    def reset(self, seed: list[dict[str, Any]] | None = None) -> None:
        """Back to the seed (or to a new seed), in place: the live object stays the same."""
        with self.lock:
            if seed is not None:
                self._seed = check_records(seed, self.name, self.id_field)
            self._records[:] = copy.deepcopy(self._seed)
            self._touched()

    def _touched(self) -> None:
        self.changes += 1
        self.last_change = time.time()

    # -- the operations (what the server calls) ------------------------------------------------

    def _find(self, record_id: str) -> int | None:
        return next((i for i, r in enumerate(self._records) if str(r.get(self.id_field)) == record_id), None)

    def _new_id(self) -> Any:
        ids = [r.get(self.id_field) for r in self._records]
        if any(isinstance(i, str) for i in ids):
            return str(uuid.uuid4())
        return max((i for i in ids if isinstance(i, int) and not isinstance(i, bool)), default=0) + 1

    def operate(self, op: str, record_id: str | None, query: Pairs, body: bytes) -> tuple[Rendered, Any]:
        """Answer one operation; returns the response and the id of the record it concerned (or None)."""
        if op == "list":
            with self.lock:
                return self._list(query), None
        data: dict[str, Any] = {}
        if op in ("create", "replace", "merge"):
            try:
                parsed = json.loads(body) if body.strip() else None
            except ValueError as error:
                return _error(400, f"the body is not JSON ({error}): send a JSON object"), record_id
            if not isinstance(parsed, dict):
                shown = "an empty body" if not body.strip() else _json_kind(parsed)
                return _error(400, f"the body must be a JSON object, got {shown}"), record_id
            data = parsed
        with self.lock:
            if op == "create":
                return self._create(data)
            index = self._find(record_id or "")
            if index is None:
                return _error(404, f"{self.name} {record_id!r} not found"), record_id
            record = self._records[index]
            if op == "get":
                return _json(200, record), record.get(self.id_field)
            if op == "delete":
                del self._records[index]
                self._touched()
                return Rendered(204, (), b""), record.get(self.id_field)
            kept_id = record.get(self.id_field)
            updated = dict(data) if op == "replace" else merge_patch(record, data)
            updated[self.id_field] = kept_id  # the id in the path is the record's id
            self._records[index] = updated
            self._touched()
            return _json(200, updated), kept_id
        raise ValueError(f"unknown resource operation {op!r}")

    def _list(self, query: Pairs) -> Rendered:
        records = self._records
        filters: dict[str, list[str]] = {}
        sort, page, per_page = "", None, DEFAULT_PER_PAGE
        for key, value in query:
            if key == "_sort":
                sort = value
            elif key == "_page":
                page = value
            elif key == "_per_page":
                if not value.isdigit() or int(value) < 1:
                    return _error(400, f"_per_page must be a whole number from 1, got {value!r}")
                per_page = int(value)
            elif not key.startswith("_") and not key.lower().startswith("x-mock-"):
                filters.setdefault(key, []).append(value)
        if filters:
            records = [r for r in records if all(_shown(r.get(k)) in vs for k, vs in filters.items())]
        for field in reversed([f.strip() for f in sort.split(",") if f.strip()]):
            name, reverse = (field[1:], True) if field.startswith("-") else (field, False)
            records = sorted(records, key=lambda r: _sort_key(r.get(name)), reverse=reverse)
        total = len(records)
        if page is not None:
            if not page.isdigit() or int(page) < 1:
                return _error(400, f"_page must be a whole number from 1, got {page!r}")
            start = (int(page) - 1) * per_page
            records = records[start:start + per_page]
        return _json(200, list(records), (("x-total-count", str(total)),))

    def _create(self, data: dict[str, Any]) -> tuple[Rendered, Any]:
        record = dict(data)
        if self.id_field in record and record[self.id_field] is not None:
            if self._find(str(record[self.id_field])) is not None:
                return _error(409, f"{self.name} {record[self.id_field]!r} already exists"), record[self.id_field]
        else:
            record[self.id_field] = self._new_id()
        self._records.append(record)
        self._touched()
        new_id = record[self.id_field]
        return _json(201, record, (("location", f"{self.path}/{new_id}"),)), new_id

    # -- as examples -----------------------------------------------------------------------------

    def examples(self, ids: Mapping[str, str] | None = None) -> list[Example]:
        """The six examples of this resource, with the current state as their bodies (ids kept from ``ids``)."""
        with self.lock:
            records = copy.deepcopy(self._records)
        first = records[0] if records else {self.id_field: 1}
        sample_id = str(first.get(self.id_field))
        bodies = {"list": records, "get": first, "create": first, "replace": first, "merge": first}
        found: list[Example] = []
        for op in OPERATIONS:
            method, tail = _ROUTES[op]
            status = _STATUS[op]
            body = json.dumps(bodies[op], ensure_ascii=False, indent=2) if op in bodies else ""
            headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),) if body else ()
            request_headers: tuple[tuple[str, str], ...]
            if op == "list":
                headers += (("X-Total-Count", str(len(records))),)
            if op == "create":
                headers += (("Location", f"{self.path}/{sample_id}"),)
            request_headers = ((RESOURCE_MARKER, marker_value(self.name, op, self.id_field)),)
            if op in ("create", "replace", "merge"):
                request_headers = (("Content-Type", "application/json"),) + request_headers
            name = f"{self.name} · {op}"
            kwargs = {"id": ids[op]} if ids and op in ids else {}
            found.append(Example(
                name, RequestSpec(method, self.path + tail, headers=request_headers,
                                  body=body if op in ("create", "replace", "merge") else "",
                                  description=f"Resource {self.name!r} ({op}): served statefully by postmock_nb"),
                ResponseSpec(status, reason_phrase(status), headers, body, "json" if body else ""), **kwargs))
        return found


class ResourceStore:
    """The resources of one session or server, by name; restores those a collection carries markers for."""

    def __init__(self) -> None:
        self._resources: dict[str, Resource] = {}
        self._lock = threading.Lock()

    def define(self, name: str, records: list[dict[str, Any]], *, id_field: str = "id", path: str = "") -> Resource:
        """A new resource, or the existing one re-seeded in place (the same live object)."""
        with self._lock:
            existing = self._resources.get(name)
            if existing is not None and existing.id_field == id_field and existing.path == (path or "/" + name):
                existing.reset(records)
                return existing
            resource = Resource(name, records, id_field=id_field, path=path)
            self._resources = {**self._resources, name: resource}
            return resource

    def get(self, name: str) -> Resource | None:
        return self._resources.get(name)

    def remove(self, name: str) -> Resource | None:
        with self._lock:
            resources = dict(self._resources)
            gone = resources.pop(name, None)
            self._resources = resources
            return gone

    def __iter__(self) -> Iterator[Resource]:
        return iter(list(self._resources.values()))

    def __len__(self) -> int:
        return len(self._resources)

    def __contains__(self, name: object) -> bool:
        return name in self._resources

    def restore(self, examples: Iterable[Example]) -> list[Resource]:
        """Resources for the list examples carrying a marker that are not known yet (seeded from their bodies)."""
        restored = []
        for example in examples:
            marker = next((v for k, v in example.request.headers if k.lower() == RESOURCE_MARKER), None)
            if marker is None:
                continue
            fields = parse_marker(marker)
            name = fields.get("name", "")
            if fields.get("op") != "list" or not name or name in self._resources:
                continue
            try:
                seed = json.loads(example.response.body or "[]")
                resource = Resource(name, seed, id_field=fields.get("id") or "id", path=example.request.path)
            except (ValueError, ExampleDefinitionError):
                continue  # not a seed we can read: the examples stay static
            with self._lock:
                self._resources = {**self._resources, name: resource}
            restored.append(resource)
        return restored


def _shown(value: Any) -> str:
    """A field's value as a query parameter spells it (``true``, ``3``, ``admin``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before strings before the rest; missing values last."""
    if value is None:
        return (3, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    if isinstance(value, str):
        return (1, value.lower())
    return (2, str(value))
