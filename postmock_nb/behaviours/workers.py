"""Worker threads for plain ``def`` handlers: they never hold up Python's exit, and a lost one is replaced.

A :class:`Lane` is a queue of calls and up to ``size`` worker threads taking them in turn (one for
handlers that run one at a time, more for ``concurrent=True``). Unlike a
:class:`~concurrent.futures.ThreadPoolExecutor`:

* the workers are daemon threads, which the interpreter does not join at exit, so a handler that
  never returns cannot keep the kernel, a script or a pytest run from ending;
* a call that outlives its timeout is *abandoned*: its worker is retired (it leaves once the call
  ends, if ever) and a new worker takes the queue, so the other handlers keep answering. The
  calls still running past their timeout are counted per handler (:meth:`Lane.stuck`);
* whatever the function raises, ``SystemExit`` and ``KeyboardInterrupt`` included, comes back to
  the event loop as an ordinary exception (:class:`HandlerAborted` for the non-``Exception`` ones),
  so it can never stop the server's loop, and nothing is printed from the thread.

The result is handed to the event loop with ``call_soon_threadsafe``: one hop there, one back.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

QUEUED, RUNNING, DONE, CANCELLED = "queued", "running", "done", "cancelled"


class HandlerAborted(Exception):
    """A handler raised a ``BaseException`` that is not an ``Exception`` (``SystemExit``, ``KeyboardInterrupt``).

    Carried as an ordinary exception so that it never reaches (and stops) the server's event loop.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


class Job:
    """One call in a lane: what to run, the future the loop awaits, and when it was queued and started."""

    __slots__ = ("function", "argument", "label", "loop", "future", "queued_at", "started_at", "ended_at",
                 "state", "worker")

    def __init__(self, function: Callable[[Any], Any], argument: Any, label: str,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.function = function
        self.argument = argument
        self.label = label
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()
        self.queued_at = time.perf_counter()
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.state = QUEUED
        self.worker: _Worker | None = None

    def times_ms(self, now: float | None = None) -> tuple[float, float]:
        """(ms waiting in the queue, ms running) so far, or in all once the call ended."""
        now = time.perf_counter() if now is None else now
        if self.started_at is None:
            return (now - self.queued_at) * 1000, 0.0
        end = self.ended_at if self.ended_at is not None else now
        return (self.started_at - self.queued_at) * 1000, (end - self.started_at) * 1000


class _Worker:
    __slots__ = ("retired",)

    def __init__(self) -> None:
        self.retired = False


def _settle(future: asyncio.Future[Any], value: Any, error: Exception | None) -> None:
    if future.done():  # abandoned (timed out) or cancelled meanwhile: nobody waits for it
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class Lane:
    """A queue of handler calls and up to ``size`` daemon worker threads (see the module's docstring)."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._live = 0
        """Workers taking calls (retired ones not counted)."""
        self._idle = 0
        """Live workers waiting for a call."""
        self._waiting = 0
        """Calls queued and not taken yet (abandoned ones not counted)."""
        self._stuck: dict[str, int] = {}
        """Label → calls still running past their timeout."""
        self._count = 0

    @property
    def waiting(self) -> int:
        """How many calls wait in the queue for a worker."""
        return self._waiting

    def stuck(self, label: str) -> int:
        """How many calls of ``label`` still run after they were abandoned."""
        return self._stuck.get(label, 0)

    def submit(self, function: Callable[[Any], Any], argument: Any, label: str) -> Job:
        """Queue ``function(argument)``; await ``job.future`` on the running loop for its value."""
        job = Job(function, argument, label, asyncio.get_running_loop())
        with self._lock:
            self._waiting += 1
            if self._waiting > self._idle and self._live < self.size:
                self._start_worker()
        self._queue.put(job)
        return job

    def abandon(self, job: Job) -> None:
        """Give up on ``job`` (its timeout passed): drop it if queued, else retire its worker and replace it."""
        with self._lock:
            if job.state == QUEUED:
                job.state = CANCELLED
                self._waiting -= 1
            elif job.state == RUNNING and job.worker is not None and not job.worker.retired:
                job.worker.retired = True
                self._live = max(0, self._live - 1)
                self._stuck[job.label] = self._stuck.get(job.label, 0) + 1
                if self._waiting > self._idle and self._live < self.size:
                    self._start_worker()

    def close(self) -> None:
        """Let the live workers leave once the calls queued before are done (they are daemon threads anyway)."""
        with self._lock:
            leaving, self._live = self._live, 0
        for _ in range(leaving):
            self._queue.put(None)

    def _start_worker(self) -> None:  # with self._lock held
        self._live += 1
        self._count += 1
        worker = _Worker()
        threading.Thread(target=self._work, args=(worker,), name=f"{self.name}-{self._count}", daemon=True).start()

    def _work(self, worker: _Worker) -> None:
        while True:
            with self._lock:
                self._idle += 1
            job = self._queue.get()
            with self._lock:
                self._idle -= 1
                if job is None:
                    return
                if job.state == CANCELLED:
                    continue
                self._waiting -= 1
                job.state, job.worker, job.started_at = RUNNING, worker, time.perf_counter()
            value: Any = None
            error: Exception | None = None
            try:
                value = job.function(job.argument)
            except Exception as raised:
                error = raised
            except BaseException as raised:  # SystemExit, KeyboardInterrupt, GeneratorExit: never out of here
                error = HandlerAborted(raised)
            ended = time.perf_counter()
            with self._lock:
                job.state, job.ended_at = DONE, ended
                retired = worker.retired
                if retired:
                    left = self._stuck.get(job.label, 1) - 1
                    if left > 0:
                        self._stuck[job.label] = left
                    else:
                        self._stuck.pop(job.label, None)
            if retired:
                return  # a new worker took this one's place when its call was abandoned
            with contextlib.suppress(RuntimeError):  # the loop closed (the server stopped) meanwhile
                job.loop.call_soon_threadsafe(_settle, job.future, value, error)
            del value, error, job
