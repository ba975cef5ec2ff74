"""Servers' error-level log records into the mock's error log, never onto stderr or into a cell."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from postmock_nb.serving.servers import Report


class ErrorCollector(logging.Handler):
    """Hands error-level records to ``report``."""

    def __init__(self, report: Report) -> None:
        super().__init__(logging.ERROR)
        self.report = report

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
            return  # a request the server cancelled when it stopped: the request log says what went out
        self.report(self.format(record))


def unreadable_handshake(error: BaseException | None) -> bool:
    """Whether ``error`` is a client's WebSocket handshake the server could not read, not an error of the mock:
    hypercorn and uvicorn read ``Sec-WebSocket-Protocol``/``-Extensions`` with wsproto, which raises a
    UnicodeDecodeError on a byte above 127 (then the server drops the connection, before the app sees it)."""
    found = getattr(error, "exceptions", None) or ([error] if error is not None else [])
    return bool(found) and all(
        isinstance(one, UnicodeDecodeError)
        and any("/wsproto/" in frame.filename.replace("\\", "/") for frame in traceback.extract_tb(one.__traceback__))
        for one in found)


@contextmanager
def errors_to(report: Report, *names: str) -> Iterator[None]:
    """While serving: records of the loggers ``names`` reach ``report`` (errors) and nothing else.

    These loggers are the server library's own, shared by every mock of the process; each
    mock adds its collector for as long as it serves, and the loggers stop propagating so
    that nothing is printed (in a kernel, output from the server thread would land in a cell).
    """
    handler = ErrorCollector(report)
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
