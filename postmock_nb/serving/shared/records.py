"""Resource records on Redis (``--state redis://``): every replica serves the same records.

:class:`SharedRecords` is one resource (the :class:`~postmock_nb.behaviours.records.Records` interface),
:class:`SharedRecordStore` the resources of a mock (:class:`~postmock_nb.behaviours.records.RecordStore`). The
rules (bodies, limits, merge patch, list filters and pages, the six examples) are those of the in-memory resource,
:class:`~postmock_nb.behaviours.resources.RecordRules`; only where the records live differs.

Keys (``shared.key``): ``res:{name}:records`` a hash, the id (as text) → the record as JSON;
``res:{name}:order`` a sorted set, the id → its place (the order records were made in: a list is stable);
``res:{name}:meta`` a hash: ``seq`` (the last place given), ``next_id`` (the last integer id given or seen),
``string_ids`` (how many ids are strings: new ids are UUIDs then, as in memory), ``bytes`` (the records' size as
JSON, what ``max_bytes`` bounds), ``last_change``. The meta hash is there as long as the resource is: a Redis that
lost it (restarted without persistence, flushed) is re-seeded from the seed this process knows (its definition,
or the body of the collection's list example) by the first operation that finds it missing, once across
replicas (:data:`SEED` checks and writes in one script).

Atomic: each write is one Lua script (:data:`WRITE`), so Redis runs it whole, with no other command between its
check and its change. A create without an id takes the next one (``next_id`` + 1, or a UUID once ids are strings)
and stores the record in the same script, only if the record count and bytes stay within the limits: ids are
unique across replicas and none is made and then lost; a create with the client's id stores it only if the id is
free (409 otherwise). A replace, merge or delete reads the record, computes the new one in Python (the same
merge patch as in memory) and writes it with :data:`WRITE` only if the stored record is still the one it read
(compare-and-set on the JSON text); otherwise it reads again and retries, so a concurrent change of another
field is merged, never lost. Reads are one script too (:data:`LOAD`: the records in order, as one snapshot).

Each operation is written once, as a generator of Redis steps (:class:`Step`) with no I/O of its own; the server
runs it with the asyncio client on its loop (:meth:`SharedRecords.operate_async`), the kernel's thread and the
command line with the blocking client (:meth:`SharedRecords.operate`, :meth:`~SharedRecords.reset`, ...).
Redis out of reach: :class:`~postmock_nb.serving.shared.connection.StateUnavailable` naming the ``resources``
store (503 ``stateUnavailable``); a write either happened whole or not at all.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import time
import uuid
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

from postmock_nb.behaviours.handlers import Rendered
from postmock_nb.behaviours.records import Records, RecordStore
from postmock_nb.behaviours.resources import (
    MAX_ID,
    RecordRules,
    Resource,
    ResourceStore,
    ResourceTable,
    check_limits,
    check_records,
)
from postmock_nb.core.model import Example, Pairs
from postmock_nb.serving.shared.connection import SharedState, StateUnavailable, redis_module

STORE = "resources"
"""The store's name in a 503 ``stateUnavailable``."""
MAX_TRIES = 100
"""How many times a write is tried again after another replica changed its record in between."""


@dataclass(frozen=True)
class Script:
    """A Lua script, run by its SHA1 (EVALSHA) and sent whole once when Redis does not know it yet."""

    text: str

    @property
    def sha(self) -> str:
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()


LOAD = Script("""
-- KEYS: records, order, meta. ARGV[1]: one id (as text), or '' for every record in order.
-- {0}: the resource is not in Redis; {1, record or false}; {1, bytes, '[record,record,...]'} (one JSON array:
-- one reply to read, one json.loads).
if redis.call('EXISTS', KEYS[3]) == 0 then return {0} end
if ARGV[1] ~= '' then return {1, redis.call('HGET', KEYS[1], ARGV[1])} end
local ids, out = redis.call('ZRANGE', KEYS[2], 0, -1), {}
for first = 1, #ids, 1000 do  -- HMGET a thousand at a time (unpack's limit)
  for _, record in ipairs(redis.call('HMGET', KEYS[1], unpack(ids, first, math.min(first + 999, #ids)))) do
    if record then out[#out + 1] = record end
  end
end
return {1, tonumber(redis.call('HGET', KEYS[3], 'bytes') or '0'), '[' .. table.concat(out, ',') .. ']'}
""")

SEED = Script("""
-- KEYS: records, order, meta. ARGV: mode ('force' or 'absent'), next_id, string_ids, bytes, last_change,
-- then id, record, id, record... 'absent' writes nothing when the resource is in Redis already (returns 0).
if ARGV[1] == 'absent' and redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
local n = 0
for i = 6, #ARGV, 2 do
  n = n + 1
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], n, ARGV[i])
end
redis.call('HSET', KEYS[3], 'seq', n, 'next_id', ARGV[2], 'string_ids', ARGV[3], 'bytes', ARGV[4],
           'last_change', ARGV[5])
return 1
""")

WRITE = Script("""
-- KEYS: records, order, meta. ARGV: mode, id, expected (the record as read), new record, max_records, max_bytes,
-- string_ids change, integer id ('' if none), now, tail, uuid. Modes: create (the client's id), make (a new id:
-- the record is ARGV[4] .. id .. ARGV[10], the id the next integer, or the UUID ARGV[11] once ids are strings),
-- update (only if the stored record is still ARGV[3]), delete (likewise).
-- {'ok', bytes, id} | {'absent'} | {'exists'} | {'missing'} | {'changed'} | {'records', count}
-- | {'bytes', bytes held, record size} | {'overflow'} (no integer id left: the caller picks one)
if redis.call('EXISTS', KEYS[3]) == 0 then return {'absent'} end
local mode, id, new, strings = ARGV[1], ARGV[2], ARGV[4], tonumber(ARGV[7])
local next_id = tonumber(redis.call('HGET', KEYS[3], 'next_id') or '0')
if mode == 'create' or mode == 'make' then
  local count = redis.call('HLEN', KEYS[1])
  if count >= tonumber(ARGV[5]) then return {'records', count} end
end
if mode == 'make' then
  if tonumber(redis.call('HGET', KEYS[3], 'string_ids') or '0') > 0 then
    id, strings = ARGV[11], 1
    new = new .. '"' .. id .. '"' .. ARGV[10]
  else
    if next_id >= 9007199254740991 then return {'overflow'} end
    next_id = next_id + 1
    id = string.format('%d', next_id)
    new = new .. id .. ARGV[10]
    if redis.call('HEXISTS', KEYS[1], id) == 1 then
      redis.call('HSET', KEYS[3], 'next_id', id)
      return {'changed'}
    end
    redis.call('HSET', KEYS[3], 'next_id', id)
  end
  mode = 'create'
end
local old = redis.call('HGET', KEYS[1], id)
if mode == 'create' then
  if old then return {'exists'} end
else
  if not old then return {'missing'} end
  if old ~= ARGV[3] then return {'changed'} end
end
local held = tonumber(redis.call('HGET', KEYS[3], 'bytes') or '0')
local bytes = held - (old and string.len(old) or 0)
if mode == 'delete' then
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
else
  local size = string.len(new)
  if bytes + size > tonumber(ARGV[6]) then return {'bytes', held, size} end
  bytes = bytes + size
  redis.call('HSET', KEYS[1], id, new)
end
if mode == 'create' then
  redis.call('ZADD', KEYS[2], redis.call('HINCRBY', KEYS[3], 'seq', 1), id)
  if ARGV[8] ~= '' and tonumber(ARGV[8]) > next_id then redis.call('HSET', KEYS[3], 'next_id', ARGV[8]) end
end
if strings ~= 0 then redis.call('HINCRBY', KEYS[3], 'string_ids', strings) end
redis.call('HSET', KEYS[3], 'bytes', bytes, 'last_change', ARGV[9])
return {'ok', bytes, id}
""")


@dataclass(frozen=True)
class Step:
    """One thing asked of Redis: a script with its keys and arguments, or (``script`` None) a command."""

    script: Script | None
    keys: tuple[str, ...] = ()
    args: tuple[Any, ...] = ()
    command: str = ""


Steps = Generator[Step, Any, Any]
"""An operation: it yields each :class:`Step`, is sent Redis's reply, and returns its result."""


def _text(record: Mapping[str, Any]) -> str:
    """A record as stored: the JSON the server sends (its UTF-8 length is the record's size)."""
    return json.dumps(record, ensure_ascii=False)


def _record(text: bytes) -> dict[str, Any]:
    """A stored record (trusted: written by this module, from a body :func:`~postmock_nb.core.limits.loads` read
    or a checked seed)."""
    record: dict[str, Any] = json.loads(text)  # noqa: TID251 (trusted, see above)
    return record


def _integer(value: Any) -> str:
    """An integer id as text (what counts for ``next_id``), or '' for any other id."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else ""


class SharedRecords(RecordRules):
    """One resource whose records are in Redis (see the module's docstring); what the notebook holds with --state."""

    def __init__(self, shared: SharedState, name: str, seed: list[dict[str, Any]], *, id_field: str = "id",
                 path: str = "", max_records: int, max_bytes: int) -> None:
        self.shared = shared
        self.name = name
        self.id_field = id_field
        self.path = path or "/" + name
        self.max_records, self.max_bytes = check_limits(name, max_records, max_bytes)
        self._seed = check_records(seed, name, id_field)
        self._keys = (shared.key("res", name, "records"), shared.key("res", name, "order"),
                      shared.key("res", name, "meta"))

    def __repr__(self) -> str:
        return f"SharedRecords({self.name!r} on {self.shared.shown_url}, prefix {self.shared.prefix!r})"

    # -- running the steps ---------------------------------------------------------------------------------------

    def _run(self, steps: Steps) -> Any:
        """Run ``steps`` with the blocking client (the kernel's thread, the command line)."""
        redis = redis_module()

        def run(client: Any) -> Any:
            reply: Any = None
            try:
                while True:
                    step = steps.send(reply)
                    if step.script is None:
                        reply = client.execute_command(step.command, *step.keys, *step.args)
                        continue
                    try:
                        reply = client.evalsha(step.script.sha, len(step.keys), *step.keys, *step.args)
                    except redis.exceptions.NoScriptError:
                        reply = client.eval(step.script.text, len(step.keys), *step.keys, *step.args)
            except StopIteration as done:
                return done.value

        return self.shared.call_sync(STORE, run)

    async def _arun(self, steps: Steps) -> Any:
        """Run ``steps`` with the asyncio client on the running loop (the server's)."""
        redis = redis_module()

        async def run(client: Any) -> Any:
            reply: Any = None
            try:
                while True:
                    step = steps.send(reply)
                    if step.script is None:
                        reply = await client.execute_command(step.command, *step.keys, *step.args)
                        continue
                    try:
                        reply = await client.evalsha(step.script.sha, len(step.keys), *step.keys, *step.args)
                    except redis.exceptions.NoScriptError:
                        reply = await client.eval(step.script.text, len(step.keys), *step.keys, *step.args)
            except StopIteration as done:
                return done.value

        return await self.shared.call(STORE, run)

    # -- the interface -------------------------------------------------------------------------------------------

    def operate(self, op: str, record_id: str | None, query: Pairs, body: bytes) -> tuple[Rendered, Any]:
        result: tuple[Rendered, Any] = self._run(self._operation(op, record_id, query, body))
        return result

    async def operate_async(self, op: str, record_id: str | None, query: Pairs, body: bytes
                            ) -> tuple[Rendered, Any]:
        result: tuple[Rendered, Any] = await self._arun(self._operation(op, record_id, query, body))
        return result

    @property
    def records(self) -> list[dict[str, Any]]:
        """The current records in Redis, in order (a copy: change them through the mock's URL, or :meth:`reset`)."""
        found: list[dict[str, Any]] = self._run(self._load())[0]
        return found

    def __len__(self) -> int:
        count: int = self._run(self._count())
        return count

    @property
    def last_change(self) -> float | None:
        """When a record last changed on any replica (``time.time()``), or None."""
        changed: float | None = self._run(self._tally())[1]
        return changed

    def tally(self) -> tuple[int, float | None] | None:
        try:
            found: tuple[int, float | None] = self._run(self._tally())
        except StateUnavailable:
            return None
        return found

    def reset(self, seed: list[dict[str, Any]] | None = None) -> None:
        """Back to the seed (or to a new seed) for every replica: the records other replicas made are gone."""
        self._run(self._reset(seed))

    async def reset_async(self, seed: list[dict[str, Any]] | None = None) -> None:
        """:meth:`reset` on the server's loop (the admin API)."""
        await self._arun(self._reset(seed))

    def seed_if_absent(self, records: list[dict[str, Any]] | None = None) -> bool:
        """Write ``records`` (default the seed) into Redis unless the resource is there; whether they were."""
        return bool(self._run(self._seed_step("absent", self._seed if records is None else records)))

    def examples(self, ids: Mapping[str, str] | None = None) -> list[Example]:
        return self._examples_of(self.records, ids)

    @property
    def seed(self) -> list[dict[str, Any]]:
        """A copy of the seed this process knows (what a reset, or a Redis that lost the resource, goes back to)."""
        return copy.deepcopy(self._seed)

    # -- the steps -----------------------------------------------------------------------------------------------

    def _seed_step(self, mode: str, records: list[dict[str, Any]]) -> Steps:
        string_ids, next_id, size, pairs = 0, 0, 0, []
        for record in records:
            value = record[self.id_field]
            text = _text(record)
            size += len(text.encode("utf-8"))
            pairs += [str(value), text]
            if isinstance(value, str):
                string_ids += 1
            elif isinstance(value, int) and value <= MAX_ID:
                next_id = max(next_id, value)
        now = str(time.time()) if mode == "force" else ""
        done = yield Step(SEED, self._keys, (mode, next_id, string_ids, size, now, *pairs))
        return done

    def _reset(self, seed: list[dict[str, Any]] | None) -> Steps:
        if seed is not None:
            self._seed = check_records(seed, self.name, self.id_field)
        yield from self._seed_step("force", self._seed)

    def _load(self) -> Steps:
        """Every record in order, and their size (bytes); the resource seeded first when Redis lost it."""
        reply = yield Step(LOAD, self._keys, ("",))
        if reply[0] == 0:
            yield from self._seed_step("absent", self._seed)
            reply = yield Step(LOAD, self._keys, ("",))
        records: list[dict[str, Any]] = json.loads(reply[2])  # noqa: TID251 (trusted: see _record)
        return records, int(reply[1] or 0)

    def _load_one(self, key: str) -> Steps:
        """The record with this id (as text) as stored, or None."""
        reply = yield Step(LOAD, self._keys, (key,))
        if reply[0] == 0:
            yield from self._seed_step("absent", self._seed)
            reply = yield Step(LOAD, self._keys, (key,))
        return reply[1] if len(reply) > 1 else None

    def _count(self) -> Steps:
        count = yield Step(None, (self._keys[0],), command="HLEN")
        return count

    def _tally(self) -> Steps:
        count = yield Step(None, (self._keys[0],), command="HLEN")
        changed = yield Step(None, (self._keys[2],), ("last_change",), command="HGET")
        return count, float(changed) if changed else None

    def _write(self, mode: str, key: str, expected: bytes | str, new: str, strings: int = 0, integer: str = "",
               tail: str = "", placeholder: str = "") -> Steps:
        """:data:`WRITE` (seeding first when Redis lost the resource); its reply, the outcome as text first."""
        args = (mode, key, expected, new, self.max_records, self.max_bytes, strings, integer, time.time(), tail,
                placeholder)
        reply = yield Step(WRITE, self._keys, args)
        if reply[0] == b"absent":
            yield from self._seed_step("absent", self._seed)
            reply = yield Step(WRITE, self._keys, args)
        return [reply[0].decode(), *reply[1:]]

    def _operation(self, op: str, record_id: str | None, query: Pairs, body: bytes) -> Steps:
        """One operation (see :meth:`Resource.operate <postmock_nb.behaviours.resources.Resource.operate>`)."""
        if op == "list":
            records, _ = yield from self._load()
            return self._listed(records, query), None
        data = self._body(body) if op in ("create", "replace", "merge") else {}
        if isinstance(data, Rendered):
            return data, record_id
        if op == "create":
            return (yield from self._create(data))
        key = record_id or ""
        for _ in range(MAX_TRIES):
            stored = yield from self._load_one(key)
            if stored is None:
                return self._not_found(record_id), record_id
            record = _record(stored)
            kept_id = record.get(self.id_field)
            if op == "get":
                return self._found(record), kept_id
            if op == "delete":
                reply = yield from self._write("delete", key, stored, "", -1 if isinstance(kept_id, str) else 0)
            else:
                record = self._updated(op, record, data)
                reply = yield from self._write("update", key, stored, _text(record))
                if reply[0] == "bytes":
                    return self._too_big(reply, len(stored)), kept_id
            if reply[0] == "missing":
                return self._not_found(record_id), record_id
            if reply[0] == "ok":
                return (Rendered(204, (), b"") if op == "delete" else self._found(record)), kept_id
        return self._busy(), record_id

    def _create(self, data: dict[str, Any]) -> Steps:
        """Store a new record: with the client's id if it gave one (409 when taken), else with a new id made by
        the script itself (the next integer, or a UUID once ids are strings), so no id is made and then lost."""
        record = dict(data)
        given = record.get(self.id_field)
        placeholder = str(uuid.uuid4())
        if given is None:
            record[self.id_field] = placeholder  # the record's text around its id: the script puts the id in
            head, tail = _text(record).split(json.dumps(placeholder), 1)
            args: tuple[Any, ...] = ("make", "", "", head, 0, "", tail, placeholder)
        for _ in range(MAX_TRIES):
            if given is not None:
                args = ("create", str(given), "", _text(record), 1 if isinstance(given, str) else 0, _integer(given))
            reply = yield from self._write(*args)
            if reply[0] == "ok":
                made = bytes(reply[2]).decode()
                new_id = given if given is not None else made if made == placeholder else int(made)
                record[self.id_field] = new_id
                return self._created(record), new_id
            if reply[0] == "records":
                return self._too_many(int(reply[1])), None
            if reply[0] == "bytes":
                return self._too_big(reply), None
            if reply[0] == "exists":
                return self._exists(given), given
            if reply[0] == "overflow":  # every integer id up to MAX_ID was given out: the first free one
                taken = yield Step(None, (self._keys[0],), command="HKEYS")
                used = {bytes(k).decode() for k in taken}
                given = record[self.id_field] = next(n for n in range(1, MAX_ID) if str(n) not in used)
        return self._busy(), None

    def _too_big(self, reply: list[Any], freed: int = 0) -> Rendered:
        """The 413 or 507 of a ``bytes`` reply (``held``, ``size``) for a record replacing ``freed`` bytes."""
        size = int(reply[2])
        return self._no_room(size, int(reply[1]), freed) or self._too_large(size)

    def _busy(self) -> Rendered:
        return self._refused(409, f"resource {self.name!r}: the record kept changing under this request "
                                  f"({MAX_TRIES} tries); send it again")


class SharedRecordStore(ResourceTable[SharedRecords]):
    """The resources of one mock with their records in Redis (a :class:`RecordStore`).

    Which resources there are is this process's (its definitions, the collection's markers); their records are
    Redis's. ``define`` with records re-seeds the resource for every replica (as in memory); without records,
    and ``restore``, only seed a resource Redis does not hold yet (lazily, by its first operation: no Redis call
    here), so a replica that starts, or a notebook that asks for a resource by name, never wipes the records other
    replicas made. :meth:`remove` forgets a resource here; its records stay in Redis (other replicas serve it).
    """

    def __init__(self, shared: SharedState) -> None:
        super().__init__()
        self.shared = shared

    def _make(self, name: str, seed: list[dict[str, Any]], *, reseed: bool, id_field: str, path: str,
              max_records: int, max_bytes: int) -> SharedRecords:
        resource = SharedRecords(self.shared, name, seed, id_field=id_field, path=path, max_records=max_records,
                                 max_bytes=max_bytes)
        if reseed:  # records given (or the id field changed: the records are keyed anew)
            resource.reset()
        return resource

    def adopt(self, resource: Records, records: list[dict[str, Any]]) -> SharedRecords:
        """Share a resource defined before the state was (``%mock start --state`` after ``mock.resource``): its
        seed stays its seed, and ``records`` (its current ones) go to Redis unless Redis holds it already."""
        seed = getattr(resource, "seed", records)
        shared = self._make(resource.name, seed, reseed=False, id_field=resource.id_field, path=resource.path,
                            max_records=resource.max_records, max_bytes=resource.max_bytes)
        with contextlib.suppress(StateUnavailable):  # else seeded by the first operation once Redis answers
            shared.seed_if_absent(records)
        return self._add(shared)


def records_for(shared: SharedState | None, current: RecordStore) -> RecordStore:
    """The record store a mock serves: ``current`` when it is already the right kind; else the same resources in
    Redis (``--state``: their current records go there unless Redis holds them) or back in memory (from their
    seeds: Redis is the shared mock's, not this process's)."""
    if shared is not None:
        if isinstance(current, SharedRecordStore) and current.shared.url == shared.url \
                and current.shared.prefix == shared.prefix:
            return current
        store = SharedRecordStore(shared)
        for resource in current:
            records = list.copy(resource) if isinstance(resource, Resource) else resource.seed
            store.adopt(resource, copy.deepcopy(records))
        return store
    if not isinstance(current, SharedRecordStore):
        return current
    memory = ResourceStore()
    for resource in current:
        memory.define(resource.name, resource.seed, id_field=resource.id_field, path=resource.path,
                      max_records=resource.max_records, max_bytes=resource.max_bytes)
    return memory
