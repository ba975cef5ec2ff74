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
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from postmock_nb.serving.shared.connection import SharedState

if TYPE_CHECKING:
    import redis.asyncio

POLL_S = 0.2
"""How often a process reads the stream (a broadcast reaches other processes' clients within this)."""
STREAM_LENGTH = 1000
"""About how many broadcasts the stream keeps (``XADD ... MAXLEN ~``)."""
READ_COUNT = STREAM_LENGTH
"""Broadcasts read in one XREAD (as many as the stream keeps: one read catches up whatever came during a pause); a
full one is followed by another at once, without the poll's pause (a flood is read as fast as it comes, before the
cap trims it away: broadcasts are lost only past about STREAM_LENGTH / POLL_S = 5,000 a second, sustained)."""

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

    async def publish(self, route: str, frame: str | bytes) -> None:
        """Add a broadcast for the other processes (raises StateUnavailable when Redis is out of reach)."""
        fields: dict[Any, Any] = {"route": route, "origin": self.origin, "binary": "1" if isinstance(frame, bytes)
                                  else "0", "data": frame}
        await self.shared.call("broadcast", lambda client: client.xadd(
            self.key, fields, maxlen=STREAM_LENGTH, approximate=True))

    async def follow(self, deliver: Deliver) -> None:
        """Until cancelled: every :data:`POLL_S` seconds, ``deliver(route, frame)`` each broadcast another
        process added since the last round."""
        while True:
            try:
                while await self.read_once(self.shared.client(), deliver) == READ_COUNT:
                    pass  # more are waiting: read them now
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001, S110 - Redis out of reach: read again next round
                pass
            await asyncio.sleep(POLL_S)

    async def read_once(self, client: redis.asyncio.Redis, deliver: Deliver) -> int:
        """One read: the broadcasts added since the last (at most :data:`READ_COUNT`), delivered (those of other
        processes); how many were read (this process's own too)."""
        if self._last is None:  # from now on: the stream's end when this process starts reading
            newest: Any = await client.xrevrange(self.key, count=1)  # [(id, fields)]
            self._last = newest[0][0] if newest else b"0-0"
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
                await deliver(fields.get(b"route", b"").decode("utf-8", "replace"), frame)
        return read
