"""Sending the callbacks (webhooks) handlers ask for, on the server's loop, each a row of the request log.

A callback is sent after the response that asked for it went out (:meth:`CallbackSender.schedule`, called by
the app once the body is sent), after its delay, in a task of its own: the response never waits for it.
Each becomes one log entry with ``direction="out"``: the method and URL called (a password in the URL
masked; secret headers are masked where the log is shown), the receiver's status and latency, or the
error, or why it was refused: only loopback and the hosts named with ``--callback-allow`` are called
(:func:`postmock_nb.behaviours.callbacks.allowed`), and redirects are not followed, so a shared mock is
no request forwarder. What the receiver answers is kept up to :data:`MAX_RESPONSE_BYTES`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from postmock_nb.answers.templating import RenderContext, render
from postmock_nb.behaviours.callbacks import RETRY_BASE_S, Callback, CallbackError, build, refusal
from postmock_nb.config import MockConfig
from postmock_nb.core.bodies import looks_like_json
from postmock_nb.core.markers import CallbackMarker
from postmock_nb.matching import MatchResult
from postmock_nb.serving.errorlog import ErrorLog
from postmock_nb.serving.journal import Journal
from postmock_nb.serving.requestlog import LogEntry

if TYPE_CHECKING:
    import httpx

TIMEOUT_S = 10.0
"""How long one try of a callback may take, all of it (connect, send, the answer), and each read within it."""
MAX_PENDING = 1000
"""Callbacks one mock keeps waiting at once (delayed, retrying, or at a receiver): a flood of requests that each
ask for some must not grow the mock without bound; past it a callback is not sent, and its row says so."""
MAX_RESPONSE_BYTES = 64 * 1024
"""What of a receiver's answer is read (the rest is not waited for)."""


class CallbackSender:
    """The callbacks of one app: pending tasks, one HTTP client on the server's loop, the log rows."""

    def __init__(self, log: Journal, settings: MockConfig, errors: ErrorLog) -> None:
        self.log = log
        self.settings = settings
        self.errors = errors
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[LogEntry | None]] = set()

    @property
    def pending(self) -> int:
        """Callbacks scheduled and not sent yet."""
        return len(self._tasks)

    def schedule(self, callbacks: Iterable[Callback], seq: int, source: str) -> None:
        """Send ``callbacks`` (asked for while answering request ``seq``, by ``source``) in tasks of their own."""
        for callback in callbacks:
            origin = f"callback of #{seq} ({source})"
            if self._over_bound(callback, origin) is None:
                self._start(callback, origin)

    def _over_bound(self, callback: Callback, origin: str) -> LogEntry | None:
        """The row of ``callback`` not sent because :data:`MAX_PENDING` wait already (None: there is room)."""
        if len(self._tasks) < MAX_PENDING:
            return None
        return self._log(callback, None, 0.0, f"{origin}: not sent: {MAX_PENDING} callbacks are waiting already "
                                              "(their delays, retries or receivers that do not answer)")

    async def send(self, callback: Callback, origin: str) -> LogEntry | None:
        """Send ``callback`` now (a webhook the notebook sends) and return its last row (None: the mock stopped
        before it went out); ``origin`` is the row's note."""
        refused = self._over_bound(callback, origin)
        if refused is not None:
            return refused
        task = self._start(callback, origin)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():  # the mock stopped: its row says "not sent"
                return None
            raise

    def schedule_example(self, marker: CallbackMarker, result: MatchResult, variables: Mapping[str, str],
                         body: bytes, seq: int) -> None:
        """Send the winning example's callback, its URL and body filled from the request ``seq`` that won it."""
        winner = result.winner
        origin = f"callback of #{seq} (example {winner.name if winner is not None else '?'})"
        try:
            callback = fill(marker, result, variables, body)
        except CallbackError as error:  # the URL filled is no URL (the request lacked what it names)
            self._log(Callback(marker.method, marker.url), None, 0.0, f"{origin}: not sent: {error}")
            return
        if self._over_bound(callback, origin) is None:
            self._start(callback, origin)

    def _start(self, callback: Callback, origin: str) -> asyncio.Task[LogEntry | None]:
        task = asyncio.ensure_future(self._run(callback, origin))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, callback: Callback, origin: str) -> LogEntry | None:
        """Send ``callback`` (after its delay, with its retries); returns its last row."""
        refused = refusal(callback, self.settings.callback_allow)
        if refused:
            return self._log(callback, None, 0.0, f"{origin}: {refused}")
        try:
            if callback.delay_s:
                await asyncio.sleep(callback.delay_s)
            tries, row = callback.retries + 1, None
            for attempt in range(tries):
                if attempt:  # backoff: 0.5 s, 1 s, 2 s…
                    await asyncio.sleep(RETRY_BASE_S * 2 ** (attempt - 1))
                started = time.perf_counter()
                status, headers, body, error = await self._send(callback)
                counted = f" (try {attempt + 1} of {tries})" if tries > 1 else ""
                row = self._log(callback, status, (time.perf_counter() - started) * 1000,
                                origin + counted + (f": failed: {error}" if error else ""), headers, body)
                if status is not None and status < 500:
                    break
            return row
        except asyncio.CancelledError:  # the mock stopped before it was sent
            self._log(callback, None, 0.0, f"{origin}: not sent: the mock stopped")
            raise
        except Exception as error:  # a bug of ours: in the server's errors, and in the row
            self.errors.report(f"callback {callback.method} {callback.shown_url}: {error!r}")
            return self._log(callback, None, 0.0, f"{origin}: failed: {error!r}"[:300])

    async def _send(self, callback: Callback) -> tuple[int | None, list[tuple[bytes, bytes]], bytes, str]:
        """One try: its status, headers, what of the answer was kept, and the error ("" when none). The try as a
        whole times out after :data:`TIMEOUT_S` (the HTTP client's timeouts are per read: a receiver sending a
        byte now and then would hold it for ever)."""
        try:
            return await asyncio.wait_for(self._exchange(callback), TIMEOUT_S)
        except asyncio.TimeoutError:
            return None, [], b"", f"timed out after {TIMEOUT_S:g} s"

    async def _exchange(self, callback: Callback) -> tuple[int | None, list[tuple[bytes, bytes]], bytes, str]:
        import httpx  # deferred: httpx is slow to import, and only a mock whose handlers call back needs it

        client = self._get_client()
        try:
            request = client.build_request(callback.method, callback.url, headers=list(callback.headers),
                                           content=callback.body)
            response = await client.send(request, stream=True)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return None, [], b"", f"{type(error).__name__}: {error}"[:300]
        try:
            kept = bytearray()
            async for chunk in response.aiter_raw():
                kept += chunk
                if len(kept) >= MAX_RESPONSE_BYTES:
                    break
        except httpx.HTTPError as error:
            return response.status_code, list(response.headers.raw), bytes(kept), f"reading the answer: {error}"
        finally:
            await response.aclose()
        return response.status_code, list(response.headers.raw), bytes(kept[:MAX_RESPONSE_BYTES]), ""

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx  # deferred: httpx is slow to import

            self._client = httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False)
        return self._client

    def _log(self, callback: Callback, status: int | None, latency_ms: float, note: str,
             response_headers: list[tuple[bytes, bytes]] | None = None, response_body: bytes = b"") -> LogEntry:
        headers = [(k.encode("latin-1", "replace"), v.encode("latin-1", "replace")) for k, v in callback.headers]
        entry = LogEntry(
            seq=0, time=time.time(), method=callback.method, path=callback.shown_url,
            query_string=b"", raw_headers=headers, raw_body=callback.body, status=status, example_id=None,
            example_name=None, score=None, latency_ms=latency_ms, response_headers=response_headers or [],
            response_body=response_body, note=note, delay_ms=round(callback.delay_s * 1000), direction="out")
        self.log.add(entry)  # numbered there
        return entry

    async def aclose(self) -> None:
        """At the server's shutdown: the callbacks not sent yet are logged as not sent, the client closed."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()


def fill(marker: CallbackMarker, result: MatchResult, variables: Mapping[str, str], body: bytes) -> Callback:
    """An example's callback with its placeholders filled from the request that won it (``{{$body 'id'}}``,
    path variables, ``{{$headers 'x'}}``, collection variables): a JSON body is sent as JSON."""
    request = result.request
    ctx = RenderContext(path=request.path, query=request.query, headers=request.headers,
                        body=body.decode("utf-8", "replace"), captured=dict(result.captured), variables=variables)
    is_json = looks_like_json(marker.body)
    text = render(marker.body, ctx, json_body=is_json)
    return build(marker.method, render(marker.url, ctx).strip(), data=text,
                 headers={"Content-Type": "application/json"} if is_json else None, delay=marker.delay_ms / 1000,
                 retries=marker.retries)
