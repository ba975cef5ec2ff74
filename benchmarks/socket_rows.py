"""What a WebSocket connection's live log row costs per message: ``MockApp`` called with ASGI messages, no server.

    .venv/bin/python benchmarks/socket_rows.py [--messages 20000] [--rounds 15]

One ``%%websocket`` script (``< hello``) is played to a connection whose client then sends ``--messages`` text
messages (each a ``> …`` line of the transcript) and leaves. Measured twice per round, in turn: as the app runs
it (the row follows the connection: each line goes into the row's body and counts, and the journal's listeners
hear it: here a listener that does what the dashboard's ``request_refresh`` does while a refresh is pending,
take a lock and look at a flag), and with the row following switched off (``MockApp._follow_connection`` a
no-op, as before the live rows). Prints the median µs per message of
each and their difference: the cost of the live row.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from postmock_nb.config import MockConfig  # noqa: E402
from postmock_nb.core.model import Collection, Example, Item, RequestSpec, ResponseSpec  # noqa: E402
from postmock_nb.matching.store import LiveCollection  # noqa: E402
from postmock_nb.serving.app import MockApp  # noqa: E402
from postmock_nb.serving.build import assemble  # noqa: E402
from postmock_nb.serving.requestlog import LogEntry  # noqa: E402


def _collection() -> Collection:
    example = Example(name="room", request=RequestSpec(method="GET", path="/ws/room",
                                                      headers=(("x-mock-websocket", "true"),)),
                      response=ResponseSpec(status=200, body="< hello"))
    return Collection(name="socket rows", items=(Item(name="room", request=example.request, examples=(example,)),))


class _PendingRefresh:
    """The dashboard's listener while a refresh is already pending: a lock and a flag, nothing more."""

    def __init__(self) -> None:
        self.lock, self.pending, self.heard = threading.Lock(), True, 0

    def __call__(self, _entry: LogEntry) -> None:
        with self.lock:
            self.heard += 1
            if self.pending:
                return


async def _connection_s(app: Any, messages: int) -> float:
    """Seconds for one connection: upgrade, the script, ``messages`` from the client, the client leaving."""
    inbox: list[dict[str, Any]] = [{"type": "websocket.connect"}]
    inbox += [{"type": "websocket.receive", "text": f"message {n}"} for n in range(messages)]
    inbox.append({"type": "websocket.disconnect", "code": 1000})
    feed = iter(inbox)
    idle = asyncio.Event()

    async def receive() -> dict[str, Any]:
        message = next(feed, None)
        if message is None:
            await idle.wait()  # never set: the connection's reader is cancelled when it ends
            return {"type": "websocket.disconnect", "code": 1000}
        await asyncio.sleep(0)  # a message arrives on its own turn of the loop, as from a socket
        return message

    async def send(_message: dict[str, Any]) -> None:
        return None

    scope = {"type": "websocket", "path": "/ws/room", "query_string": b"", "headers": [(b"host", b"bench")],
             "subprotocols": []}
    started = time.perf_counter()
    await app(scope, receive, send)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the per-message cost of a WebSocket connection's live log row")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    mock = assemble(store=LiveCollection(_collection()), config=MockConfig())
    app, log = mock.app, mock.log
    listener = _PendingRefresh()
    log.subscribe(listener)
    follow = MockApp._follow_connection
    loop = asyncio.new_event_loop()
    live: list[float] = []
    off: list[float] = []
    try:
        loop.run_until_complete(_connection_s(app, 500))  # warm
        for round_ in range(args.rounds):
            for following in ((True, False) if round_ % 2 else (False, True)):
                MockApp._follow_connection = follow if following else (lambda self, entry, transcript: None)  # type: ignore[method-assign]
                seconds = loop.run_until_complete(_connection_s(app, args.messages))
                (live if following else off).append(seconds * 1e6 / args.messages)
    finally:
        MockApp._follow_connection = follow  # type: ignore[method-assign]
        loop.close()
    row = log.recent(1)[0]
    assert row.note.startswith(f"WebSocket: 1 sent, {args.messages} received"), row.note
    on_us, off_us = statistics.median(live), statistics.median(off)
    print(f"{args.messages} messages a connection, {args.rounds} rounds, median µs per message (client → mock):")
    print(f"  row follows the connection (live)  {on_us:7.2f}")
    print(f"  row completed at the close only    {off_us:7.2f}")
    print(f"  the live row's cost                {on_us - off_us:7.2f} µs a message ({(on_us / off_us - 1):+.1%}); "
          f"the listener heard {listener.heard} updates")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
