"""The request journal on Redis (``--state``): one log for every replica of a mock.

:class:`SharedJournal` keeps :class:`~postmock_nb.serving.journal.Journal`'s promises across processes:

* entries go to a capped stream, ``postmock:{prefix}:journal`` (``XADD … MAXLEN ~ log_size``), each as JSON (the
  request, bounded as the in-memory log bounds it, the response, what answered, which replica served it) with its
  ``seq`` beside it; running counts that are never cut in ``…:journal:counts`` (total, misses, refused) and hits per
  example in ``…:journal:hits`` (``HINCRBY``);
* ``seq`` is unique across replicas: blocks of :data:`SEQ_BLOCK` numbers are reserved with ``INCRBY …:journal:seq``
  in the background (one at start, the next when half the current one is used), never a round trip per request;
  a number handed out while Redis is out of reach is provisional (negative) and renumbered before it is written
  (the blocks reserved before it went away are dropped: it may come back empty, its counter with it; and no block
  is reserved below the highest number a replica had). Redis keeps an epoch (``…:journal:epoch``, set by whoever
  writes first): a batch of numbers reserved in another epoch is refused and renumbered, so a replica that did not
  notice Redis restarting never writes numbers another replica was given since;
* the request path never waits for Redis: :meth:`SharedJournal.append` queues the entry; a task on the server's
  loop (:class:`_Pipe`) writes what is queued as one batch (one ``EVAL`` of :data:`WRITE_SCRIPT`: atomic, one
  reply) on a connection of its own and reads the replies in another task (pipelining); a reader's flush writes
  the same batch as one ``MULTI``/``EXEC``. The app awaits :meth:`SharedJournal.handed` before a response goes
  out: the batch holding its entry has been *written* to Redis's socket (not acknowledged: no round trip), so
  whoever got the response finds it in the log of any replica. Readers (:meth:`~SharedJournal.recent`,
  :meth:`~SharedJournal.find`, the counts, the admin API) first write this process's queue themselves and wait
  for the batches in flight;
* a Redis out of reach: entries are kept in a bounded queue (:data:`QUEUE_LIMIT`, the oldest dropped and
  counted: :meth:`SharedJournal.status`), counts are kept whole, and everything is written when Redis is back
  (the writer reconnects by itself); readers raise :class:`~postmock_nb.serving.shared.connection.StateUnavailable`.

Entries read back are :class:`~postmock_nb.serving.requestlog.LogEntry`; this process's own come back as the
objects it logged (with their match, for the near-miss tables); another replica's have ``outcome`` None,
``was_miss`` set and ``replica`` naming it. Listeners (the dashboard) hear this process's entries at once, from a
local :class:`~postmock_nb.serving.requestlog.RequestLog`.

An entry changed after it was written (its sending failed; a burst of refused requests grew; a stream or a WebSocket
connection, logged when it began, ended: :meth:`SharedJournal.completed`) is written again with the same ``seq``:
readers keep the newest copy of each. What such an entry does meanwhile (a connection's messages, a stream's events:
:meth:`SharedJournal.progressed`) stays in this process: the other replicas see it open until it ends. A burst is
written when it starts, when it ends and when a reader asks, so a flood of keyless requests takes a few lines of
the stream, never all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from postmock_nb.serving.requestlog import Counts, Listener, LogEntry, RequestLog
from postmock_nb.serving.shared.connection import (
    COMMAND_TIMEOUT_S,
    CONNECT_TIMEOUT_S,
    SharedState,
    StateUnavailable,
)
from postmock_nb.serving.shared.journalentry import decode_entry, encode_entry, replica_name

if TYPE_CHECKING:
    import redis

STORE = "journal"
SEQ_BLOCK = 1000
"""Sequence numbers reserved at a time (``INCRBY``)."""
QUEUE_LIMIT = 10_000
"""Entries kept for Redis while it is out of reach (then the oldest are dropped, and counted)."""
READ_SLACK = 64
"""Stream entries read beyond ``maxlen``: entries written again (same ``seq``) count once."""
SETTLE_TIMEOUT_S = COMMAND_TIMEOUT_S
"""How long a reader waits for the batches in flight."""
RETRY_CAP_S = 1.0
"""The longest wait between two attempts to reach Redis while entries wait."""


@dataclass
class _Batch:
    """What one write carries: entries (new or written again), the counts to add, and maybe a block of seqs."""

    entries: list[LogEntry]
    counts: Counter[str]
    hits: Counter[str]
    reserve: bool
    encoded: list[bytes] = field(default_factory=list)
    """The entries as the stream keeps them (:func:`encode_entry`), made once the batch is taken."""
    epoch: bytes = b""
    """The epoch of Redis the batch's numbers were reserved in (see :data:`WRITE_SCRIPT`)."""


@dataclass(frozen=True)
class _Epoch:
    """Redis answered a batch with another epoch than its own (it restarted empty): nothing written."""

    epoch: bytes


def _token() -> bytes:
    """A new epoch, should this batch be the first of a Redis that restarted empty."""
    return os.urandom(8).hex().encode("ascii")


WRITE_SCRIPT = """
local epoch = redis.call('GET', KEYS[5])
if not epoch then
  epoch = ARGV[#ARGV]
  redis.call('SET', KEYS[5], epoch)
end
if epoch ~= ARGV[#ARGV - 1] then
  return {epoch}
end
local at = 3
for _ = 1, tonumber(ARGV[2]) do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'seq', ARGV[at], 'replica', ARGV[at + 1],
             'entry', ARGV[at + 2])
  at = at + 3
end
for key = 2, 3 do
  local fields = tonumber(ARGV[at])
  at = at + 1
  for _ = 1, fields do
    redis.call('HINCRBY', KEYS[key], ARGV[at], ARGV[at + 1])
    at = at + 2
  end
end
local block, floor = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
if block > 0 then
  local last = redis.call('INCRBY', KEYS[4], block)
  if last < floor + block then
    last = floor + block
    redis.call('SET', KEYS[4], last)
  end
  return last
end
return 0
"""
"""One batch, written by the server's writer in one command (one reply to read). First the epoch: a Redis that
restarted empty has none (the first batch sets one); a batch of another epoch than the one Redis has is refused
(``{epoch}`` answered: its numbers may be another replica's now; they are renumbered). Then the entries (``XADD`` to the
capped stream), the counts and the hits (``HINCRBY``), and a block of seqs when one is wanted (``INCRBY``,
answered; never below ``floor``, the highest seq this replica handed out: a Redis that restarted empty does not
hand the same numbers out again). A script runs whole, nothing between its commands: a batch is never half
written."""


class SharedJournal:
    """The request journal on Redis (see the module's docstring). Thread-safe as :class:`RequestLog` is."""

    def __init__(self, shared: SharedState, maxlen: int = 1000, *, replica: str | None = None,
                 queue_limit: int = QUEUE_LIMIT) -> None:
        self.shared = shared
        self._maxlen = maxlen
        self.replica = replica or replica_name()
        self.local = RequestLog(maxlen)
        """This process's entries, as logged (with their match): listeners hear them from here."""
        self.stream_key = shared.key(STORE)
        self.counts_key = shared.key(STORE, "counts")
        self.hits_key = shared.key(STORE, "hits")
        self.seq_key = shared.key(STORE, "seq")
        self.epoch_key = shared.key(STORE, "epoch")
        self._epoch = b""
        """The epoch of the Redis this journal's blocks of seqs come from ("" : none yet)."""
        self._lock = threading.Lock()
        self._queue: deque[LogEntry] = deque()
        self._again: dict[int, LogEntry] = {}
        """Entries to write again (changed after they were written), by ``id``."""
        self._counts: Counter[str] = Counter()
        self._hits: Counter[str] = Counter()
        self._queue_limit = queue_limit
        self._next = self._end = 0
        """The block of seqs being handed out: ``_next`` up to ``_end`` (excluded)."""
        self._reserving = False
        self._provisional = 0
        self.dropped = 0
        """Entries dropped while Redis was out of reach (the queue was full); their counts were kept."""
        self.written = 0
        """Entries (and copies) Redis acknowledged."""
        self.batches = 0
        """Batches Redis acknowledged."""
        self.rejected = 0
        """Batches Redis refused (an error reply): not retried."""
        self._pipe: _Pipe | None = None
        with contextlib.suppress(StateUnavailable):  # Redis down at start: blocks come when it is back
            self._epoch, end = self.shared.call_sync(STORE, self._first_block)
            self._got_block(end)

    @property
    def maxlen(self) -> int:
        return self._maxlen

    def _first_block(self, client: redis.Redis) -> tuple[bytes, int]:
        """Redis's epoch (set now if it has none) and a first block of seqs."""
        pipeline = client.pipeline(transaction=True)
        pipeline.set(self.epoch_key, _token(), nx=True)
        pipeline.get(self.epoch_key)
        pipeline.incrby(self.seq_key, SEQ_BLOCK)
        _, epoch, end = pipeline.execute()
        return epoch, end

    # -- the request path (the server's loop) ------------------------------------------------------------------

    def next_seq(self) -> int:
        with self._lock:
            return self._seq_locked()

    def append(self, entry: LogEntry) -> None:
        entry.replica = self.replica
        self.local.append(entry)
        with self._lock:
            self._enqueue(entry)
            self._counts["total"] += 1
            if entry.example_id is not None:
                self._hits[entry.example_id] += 1
            elif entry.is_miss:
                self._counts["misses"] += 1
            self._write_again_burst()
        self._wake()

    def add(self, entry: LogEntry, *, number: bool = True) -> None:
        if number:
            entry.seq = self.next_seq()
        self.append(entry)

    def append_refused(self, entry: LogEntry, reason: str) -> LogEntry:
        entry.replica = self.replica
        burst = self.local.append_refused(entry, reason)
        with self._lock:
            self._counts["total"] += 1
            self._counts["refused"] += 1
            if burst is entry:  # a new burst: its number is ours, not the local log's
                self._write_again_burst()
                burst.seq = self._seq_locked()
                self._enqueue(burst)
                self._burst = burst
        self._wake()
        return burst

    _burst: LogEntry | None = None
    """The burst of refused requests going on (written when it starts, ends, or a reader asks)."""

    def _write_again_burst(self) -> None:
        """A burst ended (under the lock): its last state is written."""
        burst, self._burst = self._burst, None
        if burst is not None:
            self._write_again(burst)

    def _seq_locked(self) -> int:
        """The next number of the block (under the lock); the spare block once it is used up; else a provisional
        number (negative), renumbered before it is written."""
        if self._next >= self._end and self._spare is not None:
            self._next, self._end, self._spare = self._spare - SEQ_BLOCK + 1, self._spare + 1, None
        if self._next < self._end:
            self._next += 1
            return self._next - 1
        self._provisional -= 1
        return self._provisional

    def sending_failed(self, entry: LogEntry, error: BaseException, *, head_sent: bool) -> None:
        self.local.sending_failed(entry, error, head_sent=head_sent)
        with self._lock:
            self._write_again(entry)
        self._wake()

    def progressed(self, entry: LogEntry) -> None:
        """This process's listeners hear ``entry`` at once; nothing is written (an open connection costs no write
        per message): Redis gets it again once it is :meth:`completed`."""
        self.local.progressed(entry)

    def completed(self, entry: LogEntry) -> None:
        self.local.completed(entry)
        with self._lock:
            self._write_again(entry)
        self._wake()

    def _write_again(self, entry: LogEntry) -> None:
        """Under the lock: ``entry`` changed; written again unless it still waits in the queue."""
        if not any(queued is entry for queued in self._queue):
            self._again[id(entry)] = entry

    def _enqueue(self, entry: LogEntry) -> None:
        """Under the lock: queue ``entry``, the oldest dropped (and counted) when the queue is full."""
        if len(self._queue) >= self._queue_limit:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(entry)

    def _wake(self) -> None:
        pipe = self._pipe
        if pipe is None:
            pipe = self._start_pipe()
        if pipe is not None:
            pipe.wake()

    def _start_pipe(self) -> _Pipe | None:
        """The batch writer, on the running loop (the server's); None when called outside a loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None  # appended from a thread without a loop: readers write the queue (flush)
        with self._lock:
            if self._pipe is None:
                self._pipe = _Pipe(self, loop)
            return self._pipe

    async def handed(self) -> None:
        """See :meth:`postmock_nb.serving.journal.Batched.handed`."""
        pipe = self._pipe
        if pipe is not None and pipe.connected and (self._queue or self._again or self._counts):
            await pipe.next_write()

    async def astart(self) -> None:
        """See :meth:`postmock_nb.serving.journal.Batched.astart`."""
        pipe = self._start_pipe()
        if pipe is not None:
            await pipe.started()

    async def aclose(self) -> None:
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            await pipe.aclose()

    # -- batches -------------------------------------------------------------------------------------------------

    def _take(self, *, bursts: bool = False) -> _Batch | None:
        """What is queued, as one batch (None: nothing), with its commands; ``bursts``: with the burst going on."""
        with self._lock:
            if bursts and self._burst is not None:
                self._write_again(self._burst)
            if not (self._queue or self._again or self._counts or self._hits):
                return None
            if any(e.seq < 0 for e in self._queue) and not self._renumber():  # a block first, then them
                self._reserving = True
                return _Batch([], Counter(), Counter(), reserve=True, epoch=self._epoch)
            reserve = not self._reserving and self._spare is None and (self._end - self._next) < SEQ_BLOCK // 2
            self._reserving = self._reserving or reserve
            batch = _Batch([*self._queue, *self._again.values()], self._counts, self._hits, reserve, epoch=self._epoch)
            self._queue, self._again, self._counts, self._hits = deque(), {}, Counter(), Counter()
        batch.encoded = [encode_entry(entry) for entry in batch.entries]
        return batch

    def _renumber(self) -> bool:
        """Under the lock: give the provisional entries queued numbers of a block; False: none is left."""
        for entry in self._queue:
            if entry.seq < 0:
                seq = self._seq_locked()
                if seq < 0:
                    return False
                entry.seq = seq
        return True

    def _transaction(self, batch: _Batch) -> list[tuple[Any, ...]]:
        """``batch`` as the commands of one ``MULTI``/``EXEC`` (a reader's flush): ``INCRBY`` first when reserving."""
        commands: list[tuple[Any, ...]] = [("INCRBY", self.seq_key, SEQ_BLOCK)] if batch.reserve else []
        commands += [("XADD", self.stream_key, "MAXLEN", "~", self._maxlen, "*", "seq", entry.seq,
                      "replica", self.replica, "entry", encoded)
                     for entry, encoded in zip(batch.entries, batch.encoded, strict=True)]
        commands += [("HINCRBY", self.counts_key, name, n) for name, n in batch.counts.items()]
        commands += [("HINCRBY", self.hits_key, example_id, n) for example_id, n in batch.hits.items()]
        return commands

    def _script(self, batch: _Batch) -> tuple[Any, ...]:
        """``batch`` as one ``EVAL`` of :data:`WRITE_SCRIPT` (the server's writer)."""
        args: list[Any] = [self._maxlen, len(batch.entries)]
        for entry, encoded in zip(batch.entries, batch.encoded, strict=True):
            args += (entry.seq, self.replica, encoded)
        for counter in (batch.counts, batch.hits):
            args.append(len(counter))
            for name, n in counter.items():
                args += (name, n)
        args += (SEQ_BLOCK if batch.reserve else 0, self._floor())
        args += (batch.epoch, _token())
        return ("EVAL", WRITE_SCRIPT, 5, self.stream_key, self.counts_key, self.hits_key, self.seq_key,
                self.epoch_key, *args)

    def _put_back(self, batches: list[_Batch]) -> None:
        """Batches not written (Redis out of reach): queued again, first, with their counts."""
        with self._lock:
            for batch in reversed(batches):
                if batch.reserve:
                    self._reserving = False
                for entry in reversed(batch.entries):
                    if not any(entry is queued for queued in self._queue):
                        self._queue.appendleft(entry)
                self._counts.update(batch.counts)
                self._hits.update(batch.hits)
            while len(self._queue) > self._queue_limit:
                self._queue.popleft()
                self.dropped += 1

    def _acknowledged(self, batch: _Batch, block: Any) -> None:
        """Redis wrote ``batch``: ``block`` is the end of the block of seqs it reserved (``INCRBY``'s answer), or
        the error Redis answered (the batch refused: not retried), or another epoch (nothing written: Redis
        restarted empty; the batch goes back to the queue, its numbers to be given again)."""
        if isinstance(block, _Epoch):
            self._new_epoch(batch, block.epoch)
            return
        if not isinstance(block, int):
            self.rejected += 1
            with self._lock:
                self._reserving = self._reserving and not batch.reserve
            return
        if batch.reserve:
            self._got_block(block)
        self.written += len(batch.entries)
        self.batches += 1

    def _floor(self) -> int:
        """The highest seq reserved here."""
        return self._high

    _high = 0

    def _new_epoch(self, batch: _Batch, epoch: bytes) -> None:
        """Redis is of another epoch than ``batch``: its entries (and those queued) get numbers of the new one."""
        with self._lock:
            renumbered = list(batch.entries)
            if self._epoch == batch.epoch:  # the first news of it: the blocks and the queue are of the old one
                self._epoch = epoch
                self._next = self._end = 0
                self._spare = None
                renumbered += self._queue
            for entry in renumbered:
                if entry.seq > 0:
                    self._provisional -= 1
                    entry.seq = self._provisional
            self._reserving = False
        self._put_back([batch])

    def _forget_blocks(self) -> None:
        """Redis went away (it may come back empty, its counter with it): the numbers reserved are not used any
        more; until a block is reserved from the Redis that answers, numbers are provisional."""
        with self._lock:
            self._next = self._end = 0
            self._spare = None
            self._reserving = False

    def _got_block(self, end: int) -> None:
        """``INCRBY`` answered ``end``: the numbers up to it are ours, once the current block is used up (unless
        they are numbers this replica had already: Redis restarted empty; then the next batch reserves again)."""
        with self._lock:
            self._reserving = False
            if end - SEQ_BLOCK >= self._high:
                self._spare, self._high = end, end

    _spare: int | None = None
    """The end of a block reserved ahead (used once the current one is)."""

    def flush(self) -> None:
        """Write this process's queue now and wait for its batches in flight (a reader's first step, any thread
        but the server's loop). :class:`StateUnavailable` when Redis is out of reach."""
        batch = self._take(bursts=True)
        for _ in range(4):  # a batch; or a new epoch, then a block, then the batch
            if batch is None:
                break
            taken = batch
            try:
                result = self.shared.call_sync(STORE, functools.partial(self._write_sync, batch=taken))
            except StateUnavailable:
                self._put_back([taken])
                raise
            self._acknowledged(taken, result)
            batch = self._take() if isinstance(result, _Epoch) or (taken.reserve and not taken.entries) else None
        pipe = self._pipe
        if pipe is not None:
            pipe.settle(SETTLE_TIMEOUT_S)

    def _write_sync(self, client: redis.Redis, batch: _Batch) -> Any:
        """``batch`` as one transaction (redis-py's pipeline adds ``MULTI``/``EXEC``), as :data:`WRITE_SCRIPT`
        does it: the end of the block reserved (0: none), another :class:`_Epoch`, or Redis's error."""
        from redis.exceptions import ResponseError  # deferred: redis is the `team` extra's

        client.set(self.epoch_key, _token(), nx=True)
        epoch: Any = client.get(self.epoch_key)
        if epoch != batch.epoch:
            return _Epoch(epoch or b"")
        pipeline = client.pipeline(transaction=True)
        for command in self._transaction(batch):
            pipeline.execute_command(*command)  # type: ignore[no-untyped-call]
        try:
            results = pipeline.execute(raise_on_error=False)
        except ResponseError as error:  # EXECABORT: Redis refused the batch (not retried)
            return error
        return results[0] if batch.reserve else 0  # INCRBY's answer comes first


    # -- reads (any thread but the server's loop: see postmock_nb.serving.journal.read) --------------------------

    def _stream(self) -> list[tuple[int, bytes, bytes]]:
        """The stream's newest entries, newest first, one per replica and seq (an entry written again counts once;
        numbers two replicas had after Redis restarted empty, twice): ``(seq, replica, json)``."""
        self.flush()
        found = self.shared.call_sync(STORE, self._read_stream)
        seen: set[tuple[int, bytes]] = set()
        kept: list[tuple[int, bytes, bytes]] = []
        for _id, fields in found:
            key = (int(fields[b"seq"]), fields[b"replica"])
            if key not in seen:
                seen.add(key)
                kept.append((*key, fields[b"entry"]))
        return kept

    def _read_stream(self, client: redis.Redis) -> list[tuple[bytes, dict[bytes, bytes]]]:
        return client.xrevrange(self.stream_key, count=self._maxlen + READ_SLACK)  # type: ignore[return-value]

    def _read_hits(self, client: redis.Redis) -> dict[bytes, bytes]:
        return client.hgetall(self.hits_key)  # type: ignore[return-value]

    def _entries(self, stream: list[tuple[int, bytes, bytes]]) -> list[LogEntry]:
        mine = {e.seq: e for e in self.local.snapshot()}
        me = self.replica.encode("utf-8")
        entries = [(mine.get(seq) if replica == me else None) or decode_entry(raw) for seq, replica, raw in stream]
        entries.sort(key=lambda e: (e.time, e.seq), reverse=True)
        return entries[:self._maxlen]

    def recent(self, limit: int | None = None, *, unmatched: bool = False) -> list[LogEntry]:
        """Every replica's entries, newest first (only misses with ``unmatched``), at most ``limit``."""
        entries = [e for e in self._entries(self._stream()) if not unmatched or e.is_miss]
        return entries[:limit] if limit is not None else entries

    def find(self, seq: int) -> LogEntry | None:
        """The entry ``seq`` of any replica (this process's own as logged, with its match)."""
        found = next((e for e in reversed(self.local.snapshot()) if e.seq == seq), None)
        if found is not None:
            return found
        return next((decode_entry(raw) for kept, _replica, raw in self._stream() if kept == seq), None)

    def counts(self) -> Counts:
        self.flush()
        total, misses, refused = self.shared.call_sync(
            STORE, lambda r: r.hmget(self.counts_key, ["total", "misses", "refused"]))
        return Counts(int(total or 0), int(misses or 0), int(refused or 0))

    def hit_counts(self) -> dict[str, int]:
        self.flush()
        found = self.shared.call_sync(STORE, self._read_hits)
        return {key.decode("utf-8"): int(value) for key, value in found.items()}

    def clear(self) -> None:
        """Forget every replica's entries and counts (seqs go on); this process's queue too."""
        with contextlib.suppress(StateUnavailable):
            self.flush()  # what is in flight lands before it is deleted
        with self._lock:
            self._queue.clear()
            self._again.clear()
            self._counts.clear()
            self._hits.clear()
            self._burst = None
        self.local.clear()
        self.shared.call_sync(STORE, lambda r: r.delete(self.stream_key, self.counts_key, self.hits_key))

    def subscribe(self, listener: Listener) -> Any:
        """Call ``listener(entry)`` for each entry of this process (at once, on the server thread)."""
        return self.local.subscribe(listener)

    def status(self) -> dict[str, Any]:
        """What ``%mock status`` and ``/__postmock/health`` say of the journal's writer."""
        pipe = self._pipe
        writer = "idle" if pipe is None else "connected" if pipe.connected else "waiting for Redis"
        return {"replica": self.replica, "queued": len(self._queue), "dropped": self.dropped,
                "written": self.written, "batches": self.batches, "writer": writer} | (
                    {"rejected": self.rejected} if self.rejected else {}) | (
                    {"error": pipe.error} if pipe is not None and pipe.error else {})


class _Pipe:
    """The batch writer on the server's loop: one connection of its own, written by one task (a batch at a time,
    never waiting for replies) and read by another (the replies, batch by batch, in order)."""

    def __init__(self, journal: SharedJournal, loop: asyncio.AbstractEventLoop) -> None:
        self.journal = journal
        self.loop = loop
        self.thread = threading.get_ident()
        self.connected = False
        self.error = ""
        self.generation = 0
        self.in_flight: deque[_Batch] = deque()
        """Batches written (or being written) and not acknowledged, oldest first."""
        self.settled = threading.Condition()
        self._connection: Any = None
        self._pool: Any = None
        self._next: asyncio.Future[None] | None = None
        self._wake = asyncio.Event()
        self._replies = asyncio.Event()
        self._closed = False
        self._first_attempt = asyncio.Event()
        self._tasks = [loop.create_task(self._write_loop()), loop.create_task(self._read_loop())]
        self._wake.set()

    async def started(self) -> None:
        """Once the first attempt to connect is over (connected or not)."""
        await self._first_attempt.wait()

    def wake(self) -> None:
        if threading.get_ident() == self.thread:
            self._wake.set()
        else:
            self.loop.call_soon_threadsafe(self._wake.set)

    async def next_write(self) -> None:
        """Until the next batch is written (or cannot be)."""
        future = self._next
        if future is None:
            future = self._next = self.loop.create_future()
            self._wake.set()
        await asyncio.shield(future)

    def _release(self, future: asyncio.Future[None] | None) -> None:
        if future is not None and not future.done():
            future.set_result(None)

    def settle(self, timeout: float) -> None:
        """Wait (another thread) until the batches in flight are acknowledged, or Redis is found out of reach."""
        if threading.get_ident() == self.thread:
            return  # the loop's own thread cannot wait for its tasks
        with self.settled:
            self.settled.wait_for(lambda: not self.in_flight or not self.connected, timeout)

    def _notify(self) -> None:
        with self.settled:
            self.settled.notify_all()

    async def _connect(self) -> bool:
        from redis.asyncio import ConnectionPool  # deferred: redis is the `team` extra's (SharedState checked it)
        from redis.asyncio.retry import Retry  # deferred: as above
        from redis.backoff import NoBackoff  # deferred: as above

        if self._connection is not None:
            with contextlib.suppress(Exception):  # the old one's reader stops at once
                await self._connection.disconnect(nowait=True)
        if self._pool is None:
            self._pool = ConnectionPool.from_url(self.journal.shared.url, socket_connect_timeout=CONNECT_TIMEOUT_S,
                                                 socket_timeout=COMMAND_TIMEOUT_S, retry=Retry(NoBackoff(), 0))
        connection = self._pool.make_connection()
        try:
            await connection.connect()
        except Exception as error:  # noqa: BLE001 (any failure to connect: try again later)
            self.error = f"Redis at {self.journal.shared.shown_url} does not answer ({type(error).__name__})"
            return False
        self._connection, self.connected, self.error = connection, True, ""
        self.generation += 1
        return True

    async def _write_loop(self) -> None:
        pause = 0.01
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            if not self.connected:
                self._release(self._next)  # requests do not wait while Redis is out of reach
                self._next = None
                connected = await self._connect()
                self._first_attempt.set()
                if not connected:
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, RETRY_CAP_S)
                    self._wake.set()
                    continue
                pause = 0.01
            try:
                await self._write_one()
            except Exception as error:  # noqa: BLE001 (a bug of ours: the batch is lost, said; the writer goes on)
                self.error = f"the journal's writer failed: {error!r}"[:300]
                self.journal.rejected += 1

    async def _write_one(self) -> None:
        """Write what is queued as one batch; the requests waiting for it go on once it is written (or not)."""
        future, self._next = self._next, None
        try:
            batch = self.journal._take()
            if batch is None:
                return
            connection, generation = self._connection, self.generation
            packed = connection.pack_command(*self.journal._script(batch))
            self.in_flight.append(batch)
            self._replies.set()
            try:
                await connection.send_packed_command(packed, check_health=False)
            except Exception as error:  # noqa: BLE001 (the connection broke: the batch goes back to the queue)
                self._broken(generation, error)
            if batch.reserve and not batch.entries:  # the block the queued entries needed: their batch comes next
                self._wake.set()
        finally:
            self._release(future)

    async def _read_loop(self) -> None:
        while not self._closed:
            if not self.in_flight:
                self._replies.clear()
                await self._replies.wait()
                continue
            batch, connection, generation = self.in_flight[0], self._connection, self.generation
            try:
                reply = await self._reply(connection)
            except Exception as error:  # noqa: BLE001 (the connection broke: in flight goes back to the queue)
                self._broken(generation, error)
                continue
            if self.in_flight and self.in_flight[0] is batch:
                self.in_flight.popleft()
                answer = _Epoch(reply[0]) if isinstance(reply, list) else reply
                self.journal._acknowledged(batch, answer)
                self._notify()
                if isinstance(answer, _Epoch) or (batch.reserve and not batch.entries):
                    self._wake.set()  # refused for its epoch: back in the queue, written again now

    @staticmethod
    async def _reply(connection: Any) -> Any:
        from redis.exceptions import ResponseError  # deferred: redis is the `team` extra's

        try:
            return await connection.read_response()
        except ResponseError as error:  # an error reply: the batch is refused, the connection is fine
            return error

    def _broken(self, generation: int, error: BaseException) -> None:
        if generation != self.generation or not self.connected:
            return
        self.connected = False
        self.journal._forget_blocks()
        self.error = f"Redis at {self.journal.shared.shown_url} does not answer ({type(error).__name__}: {error})"
        batches = list(self.in_flight)
        self.in_flight.clear()
        self.journal._put_back(batches)
        self._release(self._next)
        self._next = None
        self._notify()
        self._wake.set()

    async def aclose(self) -> None:
        """Write what is queued (for a moment, if Redis answers), then stop and close the connection."""
        deadline = self.loop.time() + COMMAND_TIMEOUT_S
        while self.connected and self.loop.time() < deadline and (self.in_flight or self.journal._queue):
            await self.next_write() if self.journal._queue else await asyncio.sleep(0.005)
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.connected = False
        self._notify()
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.disconnect(nowait=True)
