"""``mock.broadcast`` across every process of a team's mock (``--state``): a capped Redis stream.

A WebSocket client holds its connection to one process (a worker of ``postmock serve --workers N``, a replica
behind a load balancer, the notebook's kernel), so a broadcast must reach every process's own connections. The
process that broadcasts delivers to its connections at once and adds the message to the stream
``postmock:{prefix}:broadcast`` (capped near :data:`STREAM_LENGTH` entries), tagged with its own id; every
process reads the stream every :data:`POLL_S` seconds (an ``XREAD``, another at once while one comes back
full; never blocking: a poll is cancelled in its sleep, as the collection follower's is) and delivers what
others added. A message reaches the other
processes' clients within that poll. Redis out of reach: publishing is :class:`StateUnavailable` (the caller
hears it), reading is tried again each round; what was added meanwhile is read when Redis is back (the stream
keeps it), unless the process started while Redis was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from postmock_nb.serving.shared.connection import SharedState

if TYPE_CHECKING:
    import redis.asyncio

POLL_S = 0.2
"""How often a process reads the stream (a broadcast reaches other processes' clients within this)."""
STREAM_LENGTH = 10_000
"""About how many broadcasts the stream keeps (``XADD ... MAXLEN ~``): a process that falls behind by more (a
stalled loop during a flood) misses the oldest of them."""
READ_COUNT = 1000
"""Broadcasts read in one XREAD; a full one is followed by another at once, without the poll's pause (a flood is
read as fast as it comes, before the cap trims it away)."""

PENDING = 10_000
"""Broadcasts read and waiting to be sent to this process's clients, at most (the oldest dropped past that)."""

Deliver = Callable[[str, str | bytes], Awaitable[int]]


class SharedBroadcasts:
    """The broadcast stream of one process of a shared mock."""

    def __init__(self, shared: SharedState) -> None:
        self.shared = shared
        self.key = shared.key("broadcast")
        self.origin = uuid.uuid4().hex
        """This process's id in the stream (what it added, it delivered already)."""
        self._last: bytes | None = None
        """The id of the last entry read (None: not known yet — the stream's end is asked first)."""
        self.dropped = 0
        """Broadcasts read but dropped undelivered (more than :data:`PENDING` waiting for slow clients)."""

    async def start(self) -> None:
        """Mark where this process starts reading: the stream's end now, before it serves (a client that connects
        once it serves gets every broadcast sent after). Redis out of reach: the first read marks it."""
        with contextlib.suppress(Exception):
            await self._mark_end(self.shared.client())

    async def _mark_end(self, client: redis.asyncio.Redis) -> None:
        newest: Any = await client.xrevrange(self.key, count=1)  # [(id, fields)]
        self._last = newest[0][0] if newest else b"0-0"

    async def publish(self, route: str, frame: str | bytes) -> None:
        """Add a broadcast for the other processes (raises StateUnavailable when Redis is out of reach)."""
        fields: dict[Any, Any] = {"route": route, "origin": self.origin, "binary": "1" if isinstance(frame, bytes)
                                  else "0", "data": frame}
        await self.shared.call("broadcast", lambda client: client.xadd(
            self.key, fields, maxlen=STREAM_LENGTH, approximate=True))

    async def follow(self, deliver: Deliver) -> None:
        """Until cancelled: every :data:`POLL_S` seconds, read what other processes broadcast since the last
        round, and ``deliver(route, frame)`` each from a task of its own, so that sending to slow clients never
        holds the reading back (the stream's cap would trim unread broadcasts away)."""
        waiting: asyncio.Queue[tuple[str, str | bytes]] = asyncio.Queue()
        sender = asyncio.ensure_future(self._deliver(waiting, deliver))
        try:
            while True:
                try:
                    while await self.read_once(self.shared.client(), lambda *got: self._keep(waiting, got)) \
                            == READ_COUNT:
                        pass  # more are waiting: read them now
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001, S110 - Redis out of reach: read again next round
                    pass
                await asyncio.sleep(POLL_S)
        finally:  # cancelled with the server; closed unawaited when its loop already closed (nothing to cancel then)
            with contextlib.suppress(RuntimeError):
                sender.cancel()

    def _keep(self, waiting: asyncio.Queue[tuple[str, str | bytes]], got: tuple[str, str | bytes]) -> None:
        """A broadcast read, to deliver (past :data:`PENDING`, the oldest not delivered yet is dropped)."""
        if waiting.qsize() >= PENDING:
            waiting.get_nowait()
            self.dropped += 1
        waiting.put_nowait(got)

    @staticmethod
    async def _deliver(waiting: asyncio.Queue[tuple[str, str | bytes]], deliver: Deliver) -> None:
        while True:
            route, frame = await waiting.get()
            await deliver(route, frame)

    async def read_once(self, client: redis.asyncio.Redis, take: Callable[[str, str | bytes], None]) -> int:
        """One read: the broadcasts added since the last (at most :data:`READ_COUNT`), each of other processes
        given to ``take(route, frame)``; how many were read (this process's own too)."""
        if self._last is None:  # Redis was away at the start: from now on
            await self._mark_end(client)
            return 0
        found: Any = await client.xread({self.key: self._last}, count=READ_COUNT)  # [(stream, [(id, fields)])]
        read = 0
        for _stream, entries in found or ():
            for entry_id, fields in entries:
                self._last = entry_id
                read += 1
                if fields.get(b"origin", b"").decode("latin-1") == self.origin:
                    continue
                data = fields.get(b"data", b"")
                frame: str | bytes = data if fields.get(b"binary") == b"1" else data.decode("utf-8", "replace")
                take(fields.get(b"route", b"").decode("utf-8", "replace"), frame)
        return read
