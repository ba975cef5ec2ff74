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

The records are a live list (:class:`Resource` is a ``list`` of dicts): the notebook may read and
change it, the server takes the resource's lock for every operation. An id index makes each
operation on one record cost the same whatever the number of records; ``max_records`` and
``max_bytes`` bound what clients add (507 when full, 413 for one record too large).

What is stored is JSON every parser reads: a body holding ``NaN``, ``Infinity`` or a number that
overflows to infinity answers 400 naming its path, and an id is a string or a whole number within
±:data:`MAX_ID` (checked in bodies and seeds alike, see :func:`check_id`).
"""

from __future__ import annotations

import bisect
import copy
import json
import re
import threading
import time
import uuid
from collections.abc import Container, Iterable, Iterator, Mapping
from typing import Any, Generic, SupportsIndex, TypeVar

from postmock_nb.behaviours.handlers import Rendered
from postmock_nb.behaviours.records import Records
from postmock_nb.core import limits
from postmock_nb.core.markers import RESOURCE_MARKER, is_mock_name, parse_resource
from postmock_nb.core.model import Example, Pairs, RequestSpec, ResponseSpec, reason_phrase
from postmock_nb.core.text import plural
from postmock_nb.errors import ExampleDefinitionError

OPERATIONS = ("list", "get", "create", "replace", "merge", "delete")
_ROUTES = {"list": ("GET", ""), "get": ("GET", "/:id"), "create": ("POST", ""), "replace": ("PUT", "/:id"),
           "merge": ("PATCH", "/:id"), "delete": ("DELETE", "/:id")}
_STATUS = {"list": 200, "get": 200, "create": 201, "replace": 200, "merge": 200, "delete": 204}
DEFAULT_PER_PAGE = 10
DEFAULT_MAX_RECORDS = 10_000
"""How many records clients may make a resource hold (``--max-records``); 507 beyond."""
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""How many bytes (the records as JSON) clients may make a resource hold (``--max-bytes``); 413 / 507 beyond."""
_JSON = (("content-type", "application/json"),)
R = TypeVar("R", bound=Records)
MAX_ID = 2**53 - 1
"""The largest integer id (and ``-MAX_ID`` the smallest): JavaScript's ``Number.MAX_SAFE_INTEGER``.
``JSON.parse`` rounds a larger one, so a browser could not address its record; it also keeps
every id (and the next one made) far from Python's 4300-digit limit on writing integers."""


class BadId(ValueError):
    """An id that is not a string or a whole number within ±:data:`MAX_ID`."""


def check_id(value: Any) -> str | int:
    """An id as stored: a string, or a whole number within ±MAX_ID (``1.0`` is the id ``1``); else :class:`BadId`."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_ID:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) <= MAX_ID:
            return value
        digits = int(value.bit_length() * 0.30103) + 1  # never str(): a huge one raises past 4300 digits
        shown = str(value) if digits < 40 else f"a number of about {digits} digits"
        raise BadId(f"is {shown}: an integer id must be between -{MAX_ID} and {MAX_ID} "
                    f"(JavaScript's safe integers, 2**53-1: JSON.parse rounds larger ones)")
    shown = limits.shorten(json.dumps(value, ensure_ascii=False)) if isinstance(value, (bool, float)) \
        else _json_kind(value)
    raise BadId(f"is {shown}: an id must be a string or a whole number")


def dumps(data: Any, *, indent: int | None = None) -> str:
    """JSON text that every parser reads: a NaN or Infinity the notebook put in a record is written
    ``null``, as JavaScript's ``JSON.stringify`` does, never ``NaN``."""
    try:
        return json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(data), ensure_ascii=False, indent=indent, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return None if limits.non_finite(value) else value


def marker_value(name: str, op: str, id_field: str, max_records: int = DEFAULT_MAX_RECORDS,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The marker's text; limits other than the defaults are kept in it (a saved collection keeps them)."""
    text = f"name={name}; op={op}; id={id_field}"
    if max_records != DEFAULT_MAX_RECORDS:
        text += f"; max_records={max_records}"
    if max_bytes != DEFAULT_MAX_BYTES:
        text += f"; max_bytes={max_bytes}"
    return text


_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024**2, "MB": 1024**2, "MIB": 1024**2,
          "G": 1024**3, "GB": 1024**3, "GIB": 1024**3}


def size_value(value: Any) -> Any:
    """``--max-bytes``'s value: ``65536``, ``512K``, ``64MB`` (powers of 1024) as a number; anything else as given."""
    if isinstance(value, str):
        text = value.strip().upper().replace(" ", "")
        digits = text.rstrip("KMGIB")
        unit = _UNITS.get(text[len(digits):])
        if digits.isascii() and digits.isdigit() and len(digits) <= 15 and unit is not None:
            return int(digits) * unit
    return value


def check_limits(name: str, max_records: Any, max_bytes: Any) -> tuple[int, int]:
    """The limits of resource ``name`` as whole numbers from 1, or a clear error."""
    max_bytes = size_value(max_bytes)
    for what, value, example in (("max_records", max_records, "--max-records 50000"),
                                 ("max_bytes", max_bytes, "--max-bytes 256MB")):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ExampleDefinitionError(f"{what} of resource {name!r} must be a whole number from 1, got {value!r}",
                                         hint=f"for example {example} (%%resource) or {what}=... (mock.resource)")
    return max_records, max_bytes


def _size(record: Any) -> int:
    """A record's size as the JSON the server sends."""
    return len(json.dumps(record, ensure_ascii=False).encode("utf-8"))


parse_marker = parse_resource
"""``name=users; op=get; id=id`` → its fields (:func:`~postmock_nb.core.markers.parse_resource`)."""


def _json_kind(value: Any) -> str:
    """What a JSON body is, in JSON's words: ``the JSON null body``, ``a JSON array``, ``a JSON string``..."""
    if value is None:
        return "the JSON null body"
    kind = {bool: "boolean", list: "array", str: "string", int: "number", float: "number"}.get(type(value), "value")
    return f"a JSON {kind}"


def _error(status: int, message: str) -> Rendered:
    return Rendered(status, _JSON, dumps({"error": message}).encode("utf-8"))


def _json(status: int, data: Any, headers: tuple[tuple[str, str], ...] = ()) -> Rendered:
    return Rendered(status, _JSON + headers, dumps(data).encode("utf-8"))


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
    checked: list[dict[str, Any]] = copy.deepcopy(records)
    for index, record in enumerate(checked):
        if id_field not in record:
            raise ExampleDefinitionError(f"record {index} of resource {name!r} has no {id_field!r} field",
                                         hint=f"give every record an {id_field!r}, or name the id field with --id")
        try:
            record[id_field] = check_id(record[id_field])
        except BadId as error:
            raise ExampleDefinitionError(f"record {index} of resource {name!r}: its {id_field!r} {error}",
                                         hint=f"use a string id, or a whole number up to {MAX_ID}") from None
        odd = limits.path_of(record, limits.non_finite)
        if odd is not None:
            raise ExampleDefinitionError(
                f"record {index} of resource {name!r}: {odd[0]} is {odd[1]!r}, which JSON cannot carry "
                "(JSON.parse refuses NaN and Infinity)", hint="use null, a finite number or a string")
        key = str(record[id_field])
        if key in seen:
            raise ExampleDefinitionError(f"resource {name!r} has the id {record[id_field]!r} twice")
        seen.add(key)
    return checked


class RecordRules:
    """The rules of a resource every backend keeps: what a body may be, what the limits refuse, how a record is
    replaced or merged, how the list is filtered, sorted and paged, and its six examples.

    Pure: no state of its own beyond the resource's settings; :class:`Resource` (in memory) and the Redis
    records (:mod:`postmock_nb.serving.shared.records`) apply them to their records.
    """

    name: str
    id_field: str
    path: str
    max_records: int
    max_bytes: int

    def _too_large(self, size: int) -> Rendered:
        return _error(413, f"this record is {plural(size, 'byte')} as JSON, more than resource {self.name!r} may hold "
                           f"(its limit is {plural(self.max_bytes, 'byte')}); raise it with %%resource {self.name} "
                           f"--max-bytes N, mock.resource({self.name!r}, max_bytes=N) or max_bytes=N in its "
                           f"{RESOURCE_MARKER} marker")

    def _full(self, option: str, detail: str) -> Rendered:
        """507: the resource cannot take more (``option``: records or bytes)."""
        return _error(507, f"resource {self.name!r} is full: {detail}; delete records, or raise the limit with "
                           f"%%resource {self.name} --max-{option} N, mock.resource({self.name!r}, max_{option}=N) "
                           f"or max_{option}=N in its {RESOURCE_MARKER} marker")

    def _too_many(self, count: int) -> Rendered:
        """507: ``count`` records, the limit."""
        return self._full("records", f"it holds {plural(count, 'record')}, its limit")

    def _no_room(self, size: int, held: int, freed: int = 0) -> Rendered | None:
        """The 413/507 refusing a record of ``size`` bytes where the records take ``held`` bytes and the record
        it replaces ``freed`` (0: a new record), or None when it fits."""
        if size > self.max_bytes:
            return self._too_large(size)
        if held - freed + size > self.max_bytes:
            needs = f"this record needs {size}" if not freed else f"this change needs {size - freed}"
            return self._full("bytes", f"its records take {held} of its {self.max_bytes} bytes and {needs} more")
        return None

    def _refused(self, status: int, message: str) -> Rendered:
        return _error(status, message)

    def _not_found(self, record_id: str | None) -> Rendered:
        return _error(404, f"{self.name} {record_id!r} not found")

    def _exists(self, record_id: Any) -> Rendered:
        return _error(409, f"{self.name} {record_id!r} already exists")

    def _updated(self, op: str, record: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """``record`` replaced (``op`` replace) or merge-patched with ``data``; its id stays (the id in the path)."""
        updated: dict[str, Any] = dict(data) if op == "replace" else merge_patch(record, data)
        updated[self.id_field] = record.get(self.id_field)
        return updated

    def _found(self, record: dict[str, Any]) -> Rendered:
        return _json(200, record)

    def _created(self, record: dict[str, Any]) -> Rendered:
        """201 for the stored ``record``, with its Location."""
        return _json(201, record, (("location", f"{self.path}/{record[self.id_field]}"),))

    def _body(self, body: bytes) -> dict[str, Any] | Rendered:
        """The request body as the JSON object to store, or the 400/413 that refuses it."""
        if len(body) > self.max_bytes:
            return self._too_large(len(body))
        if not body.strip():
            return _error(400, "the body is empty: send a JSON object")
        try:
            parsed = limits.loads(body, strict=True)
        except limits.TooDeep as error:
            return _error(400, f"the body is refused: {error} (send a flatter JSON object)")
        except limits.NotStrictJSON as error:
            at_id = error.path == limits.member("$", self.id_field)
            bound = f"; an integer id must be between -{MAX_ID} and {MAX_ID}" if at_id else ""
            return _error(400, f"the body is refused: {error}{bound}")
        except ValueError as error:
            return _error(400, f"the body is not JSON ({error}): send a JSON object")
        if not isinstance(parsed, dict):
            return _error(400, f"the body must be a JSON object, got {_json_kind(parsed)}")
        if parsed.get(self.id_field) is not None:
            try:
                parsed[self.id_field] = check_id(parsed[self.id_field])
            except BadId as error:
                return _error(400, f"the body is refused: {limits.member('$', self.id_field)} {error}")
        return parsed

    def _listed(self, records: list[dict[str, Any]], query: Pairs) -> Rendered:
        """The list operation over ``records`` (in order): filtered, sorted and paged as ``query`` asks."""
        asked = _list_query(query)
        if isinstance(asked, Rendered):
            return asked
        filters, sort, page, per_page = asked
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
        return _json(200, records, (("x-total-count", str(total)),))

    def _examples_of(self, records: list[dict[str, Any]], ids: Mapping[str, str] | None) -> list[Example]:
        """The six examples of this resource with ``records`` (a copy of the current ones) as their bodies."""
        first = records[0] if records else {self.id_field: 1}
        sample_id = str(first.get(self.id_field))
        bodies = {"list": records, "get": first, "create": first, "replace": first, "merge": first}
        found: list[Example] = []
        for op in OPERATIONS:
            method, tail = _ROUTES[op]
            status = _STATUS[op]
            body = dumps(bodies[op], indent=2) if op in bodies else ""
            headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),) if body else ()
            request_headers: tuple[tuple[str, str], ...]
            if op == "list":
                headers += (("X-Total-Count", str(len(records))),)
            if op == "create":
                headers += (("Location", f"{self.path}/{sample_id}"),)
            request_headers = ((RESOURCE_MARKER, marker_value(self.name, op, self.id_field, self.max_records,
                                                              self.max_bytes)),)
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

class Resource(RecordRules, list[dict[str, Any]]):  # a real list, so json.dumps and isinstance(.., list) work
    """The live records of one resource: a ``list`` of dicts the server and the notebook share.

    It is a real ``list`` (``json.dumps(todos)`` and ``isinstance(todos, list)`` work; copies and
    slices are plain lists). Every change made through it takes :attr:`lock`, which the server
    takes for every operation. An index (id → position, record sizes) makes each operation on one
    record independent of the number of records; a change from the notebook marks it for rebuilding
    at the server's next operation, and a record the notebook handed out (and may have changed in
    place) is looked up again once on a miss.

    ``max_records`` and ``max_bytes`` (the records' size as JSON) bound what clients add: a record
    larger than ``max_bytes`` is refused with 413, one that does not fit any more with 507. The
    notebook itself is not limited.
    """

    def __init__(self, name: str, records: list[dict[str, Any]], *, id_field: str = "id", path: str = "",
                 max_records: int = DEFAULT_MAX_RECORDS, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__()
        self.name = name
        self.id_field = id_field
        self.path = path or "/" + name
        self.max_records, self.max_bytes = check_limits(name, max_records, max_bytes)
        self.lock = threading.RLock()
        self._seed = check_records(records, name, id_field)
        list.extend(self, copy.deepcopy(self._seed))
        self.last_change: float | None = None
        self.changes = 0
        self._seq_of: dict[str, int] = {}  # a record's id (as text) → its sequence number
        self._seqs: list[int] = []  # the sequence numbers in list order (ascending): bisect gives a position
        self._sizes: list[int] = []  # each record's size as JSON, in list order
        self._bytes = 0
        self._next_seq = 0
        self._max_int = 0  # the highest integer id given out or seen (new ids count on from it)
        self._string_ids = 0
        self._stale = True  # changed by the notebook: rebuild the index before the next operation
        self._lent = False  # records handed to the notebook (their ids may change in place)

    # -- the list (what the notebook reads and changes) ----------------------------------------

    def __getitem__(self, index: Any) -> Any:
        self._lent = True
        return list.__getitem__(self, index)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self._lent = True
        return iter(list.copy(self))  # a snapshot: the server may change the list meanwhile

    def __setitem__(self, index: Any, value: Any) -> None:
        with self.lock:
            list.__setitem__(self, index, value)
            self._changed()

    def __delitem__(self, index: Any) -> None:
        with self.lock:
            list.__delitem__(self, index)
            self._changed()

    def __iadd__(self, values: Iterable[dict[str, Any]]) -> Resource:  # type: ignore[override,misc]
        self.extend(values)
        return self

    def __imul__(self, times: SupportsIndex) -> Resource:
        with self.lock:
            list.__imul__(self, times)
            self._changed()
        return self

    def append(self, value: dict[str, Any]) -> None:
        with self.lock:
            list.append(self, value)
            self._changed()

    def extend(self, values: Iterable[dict[str, Any]]) -> None:
        values = list(values)
        with self.lock:
            list.extend(self, values)
            self._changed()

    def insert(self, index: SupportsIndex, value: dict[str, Any]) -> None:
        with self.lock:
            list.insert(self, index, value)
            self._changed()

    def pop(self, index: SupportsIndex = -1) -> dict[str, Any]:
        with self.lock:
            value = list.pop(self, index)
            self._changed()
            return value

    def remove(self, value: dict[str, Any]) -> None:
        with self.lock:
            list.remove(self, value)
            self._changed()

    def clear(self) -> None:
        with self.lock:
            list.clear(self)
            self._changed()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        with self.lock:
            list.sort(self, *args, **kwargs)
            self._changed()

    def reverse(self) -> None:
        with self.lock:
            list.reverse(self)
            self._changed()

    def __copy__(self) -> list[dict[str, Any]]:
        return list.copy(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[dict[str, Any]]:
        return copy.deepcopy(list.copy(self), memo)

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list.copy(self),))  # pickled (or sent to a worker) as the plain list it holds

    def __repr__(self) -> str:
        return f"Resource({self.name!r}, {list.__repr__(self)})"

    @property
    def records(self) -> list[dict[str, Any]]:
        """A deep copy of the current records."""
        with self.lock:
            return copy.deepcopy(list.copy(self))

    @property
    def seed(self) -> list[dict[str, Any]]:
        """A copy of the seed (what :meth:`reset` goes back to)."""
        return copy.deepcopy(self._seed)

    def tally(self) -> tuple[int, float | None]:
        return len(self), self.last_change

    def reset(self, seed: list[dict[str, Any]] | None = None) -> None:
        """Back to the seed (or to a new seed), in place: the live object stays the same."""
        with self.lock:
            if seed is not None:
                self._seed = check_records(seed, self.name, self.id_field)
            list.__setitem__(self, slice(None), copy.deepcopy(self._seed))
            self._max_int = 0  # ids count on from the seed's again
            self._changed()

    def _changed(self) -> None:
        self._stale = True
        self._touched()

    def _touched(self) -> None:
        self.changes += 1
        self.last_change = time.time()

    # -- the index ---------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        """The index from the list as it is (the first record of an id wins, as a scan would find it)."""
        seq_of: dict[str, int] = {}
        string_ids, max_int = 0, self._max_int
        for position, record in enumerate(list.__iter__(self)):
            if not isinstance(record, dict) or self.id_field not in record:
                continue
            value = record[self.id_field]
            seq_of.setdefault(str(value), position)
            if isinstance(value, str):
                string_ids += 1
            elif isinstance(value, int) and not isinstance(value, bool) and value <= MAX_ID:
                max_int = max(max_int, value)
        self._seq_of, self._string_ids, self._max_int = seq_of, string_ids, max_int
        self._seqs = list(range(len(self)))
        self._next_seq = len(self)
        self._sizes = [_size(record) for record in list.__iter__(self)]
        self._bytes = sum(self._sizes)
        self._stale = self._lent = False

    def _position(self, key: str) -> int | None:
        """Where the record with this id (as text) is, or None; the lock is held."""
        if self._stale:
            self._rebuild()
        for _ in range(2):
            seq = self._seq_of.get(key)
            if seq is not None:
                position = bisect.bisect_left(self._seqs, seq)
                record = list.__getitem__(self, position) if position < len(self) else None
                if (position < len(self._seqs) and self._seqs[position] == seq and isinstance(record, dict)
                        and (not self._lent or str(record.get(self.id_field)) == key)):
                    return position
            elif not self._lent:
                return None
            self._rebuild()  # the notebook may have changed a record's id in place: look once more
        return None

    def _new_id(self) -> Any:
        if self._string_ids:
            return str(uuid.uuid4())
        if self._max_int < MAX_ID:
            return self._max_int + 1
        return next(n for n in range(1, MAX_ID) if str(n) not in self._seq_of)  # all the way up: the first free one

    def _add_to_index(self, record: dict[str, Any], size: int) -> None:
        value = record[self.id_field]
        self._seq_of[str(value)] = self._next_seq
        self._seqs.append(self._next_seq)
        self._next_seq += 1
        self._sizes.append(size)
        self._bytes += size
        if isinstance(value, str):
            self._string_ids += 1
        elif isinstance(value, int) and not isinstance(value, bool) and value <= MAX_ID:
            self._max_int = max(self._max_int, value)

    # -- the operations (what the server calls) ------------------------------------------------

    def operate(self, op: str, record_id: str | None, query: Pairs, body: bytes) -> tuple[Rendered, Any]:
        """Answer one operation; returns the response and the id of the record it concerned (or None)."""
        if op == "list":
            with self.lock:
                return self._listed(list.copy(self), query), None
        if op == "create" and len(self) >= self.max_records:
            return self._too_many(len(self)), None
        data = self._body(body) if op in ("create", "replace", "merge") else {}
        if isinstance(data, Rendered):
            return data, record_id
        with self.lock:
            if op == "create":
                return self._create(data)
            index = self._position(record_id or "")
            if index is None:
                return self._not_found(record_id), record_id
            record = list.__getitem__(self, index)
            if op == "get":
                return self._found(record), record.get(self.id_field)
            if op == "delete":
                return self._delete(index, record, record_id or "")
            return self._update(op, index, record, data)

    async def operate_async(self, op: str, record_id: str | None, query: Pairs, body: bytes) -> tuple[Rendered, Any]:
        """:meth:`operate` (in memory nothing waits: the server calls :meth:`operate` itself)."""
        return self.operate(op, record_id, query, body)

    def _delete(self, index: int, record: dict[str, Any], key: str) -> tuple[Rendered, Any]:
        """Delete the record at ``index`` (its id as text: ``key``); the lock is held."""
        kept_id = record.get(self.id_field)
        list.__delitem__(self, index)
        del self._seqs[index]
        self._bytes -= self._sizes.pop(index)
        self._seq_of.pop(key, None)
        if isinstance(kept_id, str):
            self._string_ids -= 1
        self._touched()
        return Rendered(204, (), b""), kept_id

    def _update(self, op: str, index: int, record: dict[str, Any], data: dict[str, Any]) -> tuple[Rendered, Any]:
        """Replace (``op`` replace) or merge-patch the record at ``index`` with ``data``; the lock is held."""
        updated = self._updated(op, record, data)
        size = _size(updated)
        refused = self._no_room(size, self._bytes, self._sizes[index])
        if refused is not None:
            return refused, updated[self.id_field]
        list.__setitem__(self, index, updated)
        self._bytes += size - self._sizes[index]
        self._sizes[index] = size
        self._touched()
        return self._found(updated), updated[self.id_field]

    def _create(self, data: dict[str, Any]) -> tuple[Rendered, Any]:
        if len(self) >= self.max_records:  # again, under the lock: concurrent creates
            return self._too_many(len(self)), None
        record = dict(data)
        if self.id_field in record and record[self.id_field] is not None:
            if self._position(str(record[self.id_field])) is not None:
                return self._exists(record[self.id_field]), record[self.id_field]
        else:
            if self._stale:
                self._rebuild()
            record[self.id_field] = self._new_id()
        size = _size(record)
        refused = self._no_room(size, self._bytes)
        if refused is not None:
            return refused, None
        list.append(self, record)
        self._add_to_index(record, size)
        self._touched()
        return self._created(record), record[self.id_field]

    # -- as examples -----------------------------------------------------------------------------

    def examples(self, ids: Mapping[str, str] | None = None) -> list[Example]:
        """The six examples of this resource, with the current state as their bodies (ids kept from ``ids``)."""
        with self.lock:
            records = copy.deepcopy(list.copy(self))
        return self._examples_of(records, ids)



class ResourceTable(Generic[R]):
    """The resources of one mock by name, of one kind ``R`` (:class:`Resource`, or a shared backend's): what
    every :class:`~postmock_nb.behaviours.records.RecordStore` does but make a resource (:meth:`_make`).

    Any thread may call it: the table of resources is replaced whole on each change (under a lock), so the
    server thread's :meth:`get` takes no lock.
    """

    def __init__(self) -> None:
        self._resources: dict[str, R] = {}
        self._lock = threading.Lock()

    def _make(self, name: str, seed: list[dict[str, Any]], *, reseed: bool, id_field: str, path: str,
              max_records: int, max_bytes: int) -> R:
        """A resource of this kind; ``reseed``: its records are to be ``seed`` now (defined with records, or
        remade), else a resource a collection carries (its records, where shared, are kept)."""
        raise NotImplementedError

    def define(self, name: str, records: list[dict[str, Any]] | None = None, *, id_field: str | None = None,
               path: str = "", max_records: int | None = None, max_bytes: int | None = None) -> R:
        """A new resource, or the existing one (the same live object): re-seeded in place when ``records``
        are given, left as it is when not (so asking for a loaded resource by name never wipes it).

        ``id_field``/``path``/limits left out keep the existing resource's (else the defaults).
        """
        with self._lock:
            existing = self._resources.get(name)
            id_field, path, limits_given = define_settings(name, existing, id_field, path, max_records, max_bytes)
            if existing is not None and existing.id_field == id_field and existing.path == path:
                if records is not None:
                    existing.reset(records)
                existing.max_records, existing.max_bytes = limits_given
                return existing
            seed = records if records is not None else (existing.records if existing is not None else [])
            resource = self._make(name, seed, reseed=records is not None or existing is not None, id_field=id_field,
                                  path=path, max_records=limits_given[0], max_bytes=limits_given[1])
            self._resources = {**self._resources, name: resource}
            return resource

    def _add(self, resource: R) -> R:
        with self._lock:
            self._resources = {**self._resources, resource.name: resource}
        return resource

    def get(self, name: str) -> R | None:
        return self._resources.get(name)

    def remove(self, name: str) -> R | None:
        with self._lock:
            resources = dict(self._resources)
            gone = resources.pop(name, None)
            self._resources = resources
            return gone

    def reset(self, name: str | None = None) -> list[R]:
        """Every resource (or the one called ``name``) back to its seed; returns those reset."""
        found = [r for r in self if name is None or r.name == name]
        for resource in found:
            resource.reset()
        return found

    def __iter__(self) -> Iterator[R]:
        return iter(list(self._resources.values()))

    def __len__(self) -> int:
        return len(self._resources)

    def __contains__(self, name: object) -> bool:
        return name in self._resources

    def restore(self, examples: Iterable[Example]) -> list[R]:
        """Resources for the list examples carrying a marker that are not known yet (seeded from their bodies)."""
        return [self._add(self._make(name, seed, reseed=False, **settings))
                for name, seed, settings in restorable(examples, self)]


class ResourceStore(ResourceTable[Resource]):
    """The resources of one session or server, by name, in memory; restores those a collection carries markers
    for. The in-memory :class:`~postmock_nb.behaviours.records.RecordStore`; each :class:`Resource` takes its own
    lock for every operation.
    """

    def _make(self, name: str, seed: list[dict[str, Any]], *, reseed: bool, id_field: str, path: str,
              max_records: int, max_bytes: int) -> Resource:
        return Resource(name, seed, id_field=id_field, path=path, max_records=max_records, max_bytes=max_bytes)


def define_settings(name: str, existing: Any, id_field: str | None, path: str, max_records: int | None,
                    max_bytes: int | None) -> tuple[str, str, tuple[int, int]]:
    """What :meth:`RecordStore.define` gives a resource: ``id_field``, ``path`` and the limits left out keep the
    ``existing`` resource's (else the defaults); the limits checked."""
    id_field = id_field or (existing.id_field if existing is not None else "id")
    path = path or (existing.path if existing is not None else "/" + name)
    if existing is not None:
        max_records = existing.max_records if max_records is None else max_records
        max_bytes = existing.max_bytes if max_bytes is None else max_bytes
    return id_field, path, check_limits(name, DEFAULT_MAX_RECORDS if max_records is None else max_records,
                                        DEFAULT_MAX_BYTES if max_bytes is None else max_bytes)


def restorable(examples: Iterable[Example], known: Container[str]
               ) -> Iterator[tuple[str, list[dict[str, Any]], dict[str, Any]]]:
    """The resources a collection's marked list examples stand for that are not ``known``: each as its name, its
    seed (the example's body, checked) and its settings (``id_field``, ``path``, the limits); a seed that cannot be
    read is passed over (those examples stay static)."""
    for example in examples:
        marker = next((v for k, v in example.request.headers if k.lower() == RESOURCE_MARKER), None)
        if marker is None:
            continue
        fields = parse_marker(marker)
        name = fields.get("name", "")
        if fields.get("op") != "list" or not name or name in known:
            continue
        id_field = fields.get("id") or "id"
        try:
            seed = check_records(limits.loads(example.response.body or "[]", strict=True), name, id_field)
            max_records, max_bytes = check_limits(name, _whole(fields.get("max_records"), DEFAULT_MAX_RECORDS),
                                                  _whole(fields.get("max_bytes"), DEFAULT_MAX_BYTES))
        except (ValueError, ExampleDefinitionError):
            continue
        yield name, seed, {"id_field": id_field, "path": example.request.path, "max_records": max_records,
                           "max_bytes": max_bytes}


def check_seeds(examples: Iterable[Example]) -> None:
    """Refuse a collection whose resource seed (a marked list example's body) nests JSON too deep to read,
    holds what only Python reads (NaN, Infinity) or an id :func:`check_id` refuses."""
    for example in examples:
        marker = next((v for k, v in example.request.headers if k.lower() == RESOURCE_MARKER), None)
        if marker is None:
            continue
        fields = parse_marker(marker)
        if fields.get("op") != "list":
            continue
        name = fields.get("name", "")
        where = f"the seed of resource {name!r} (the body of its list example {example.name!r})"
        keep = f"remove its {RESOURCE_MARKER} header to serve the examples as saved"
        if limits.json_too_deep(example.response.body or ""):
            raise ExampleDefinitionError(f"{where} nests JSON more than {limits.MAX_JSON_DEPTH} levels deep",
                                         hint=f"flatten its records, or {keep}")
        try:
            seed = limits.loads(example.response.body or "[]", strict=True)
        except limits.NotStrictJSON as error:
            at_id = re.fullmatch(r"\$\[\d+\]" + re.escape(limits.member("", fields.get("id") or "id")), error.path)
            bound = f"; an integer id must be between -{MAX_ID} and {MAX_ID}" if at_id else ""
            raise ExampleDefinitionError(f"{where}: {error}{bound}", hint=f"edit the file, or {keep}") from None
        except ValueError:
            continue  # not JSON at all: served as saved, as before
        if isinstance(seed, list) and all(isinstance(r, dict) for r in seed):
            try:
                check_records(seed, name, fields.get("id") or "id")
            except ExampleDefinitionError as error:
                raise ExampleDefinitionError(f"{where}: {error.message}",
                                             hint=f"{error.hint}; or {keep}" if error.hint else keep) from None


def _list_query(query: Pairs) -> tuple[dict[str, list[str]], str, str | None, int] | Rendered:
    """A list request's query: its filters, ``_sort``, ``_page`` and ``_per_page`` (or the 400 for a bad one)."""
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
        elif not key.startswith("_") and not is_mock_name(key):
            filters.setdefault(key, []).append(value)
    return filters, sort, page, per_page


def _whole(text: str | None, default: int) -> int:
    """A marker's number, or ``default`` when it is missing or not a whole number from 1."""
    return int(text) if text is not None and text.isascii() and text.isdigit() and int(text) > 0 else default


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
