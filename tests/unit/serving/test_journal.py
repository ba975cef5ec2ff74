"""The request journal (postmock_nb.serving.journal): a contract every implementation keeps.

:class:`JournalContract` is written against the :class:`Journal` protocol only; a journal of another
backend reuses it by subclassing with its own ``make(maxlen)`` (a fresh, empty journal).
"""

from __future__ import annotations

from support.journal_contract import JournalContract

from postmock_nb.serving.journal import Journal
from postmock_nb.serving.requestlog import RequestLog


class TestRequestLog(JournalContract):
    def make(self, maxlen: int = 1000) -> Journal:
        return RequestLog(maxlen)


def test_a_server_keeps_the_journal_it_is_given():
    from postmock_nb.serving.server import MockServer

    journal = RequestLog(7)
    server = MockServer(log=journal)  # built, never started
    assert server.log is journal and server.app.log is journal
    assert MockServer(log_size=9).log.maxlen == 9  # else its own, of log_size entries
