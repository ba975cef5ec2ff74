"""The contract every Journal keeps (postmock_nb.serving.journal): :class:`JournalContract` is written against the
protocol only; a journal of another backend reuses it by subclassing with its own ``make``:
tests/unit/serving/test_journal.py (in memory), tests/unit/serving/shared/test_journal.py (on Redis)."""

from __future__ import annotations

import threading

from postmock_nb.core.model import Collection
from postmock_nb.matching import IncomingRequest, match
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.serving.journal import Counts, Journal
from postmock_nb.serving.requestlog import LogEntry

_EMPTY = Snapshot(Collection())


def _entry(journal: Journal, path: str = "/x", *, example_id: str | None = "ex-1", refused: bool = False) -> LogEntry:
    outcome = None if example_id is not None or refused else match(_EMPTY, IncomingRequest.build("GET", path))
    return LogEntry(seq=0 if refused else journal.next_seq(), time=0.0, method="GET", path=path, query_string=b"",
                    raw_headers=[], raw_body=b"", status=401 if refused else 200 if example_id else 404,
                    example_id=example_id, example_name=example_id, score=None, latency_ms=0.1, outcome=outcome)


class JournalContract:
    """The tests every Journal passes. Subclass it (``Test…``) and define ``make``."""

    def make(self, maxlen: int = 1000) -> Journal:
        raise NotImplementedError

    def test_entries_come_back_newest_first_and_are_found_by_seq(self) -> None:
        journal = self.make()
        first, second = _entry(journal, "/a"), _entry(journal, "/b", example_id=None)
        journal.append(first)
        journal.append(second)
        assert [e.path for e in journal.recent()] == ["/b", "/a"]
        assert [e.path for e in journal.recent(1)] == ["/b"]
        assert [e.path for e in journal.recent(unmatched=True)] == ["/b"]
        assert journal.find(first.seq) is first and journal.find(999) is None

    def test_counts_and_hits(self) -> None:
        journal = self.make()
        for example_id in ("ex-1", "ex-1", "ex-2", None):
            journal.append(_entry(journal, example_id=example_id))
        assert journal.counts() == Counts(total=4, misses=1, refused=0)
        assert journal.hit_counts() == {"ex-1": 2, "ex-2": 1}

    def test_add_numbers_counts_and_keeps_an_entry_as_next_seq_then_append_do(self) -> None:
        journal = self.make()
        before = _entry(journal, "/before")
        journal.append(before)
        added = LogEntry(seq=0, time=0.0, method="GET", path="/added", query_string=b"", raw_headers=[], raw_body=b"",
                         status=200, example_id="ex-2", example_name="ex-2", score=None, latency_ms=0.1)
        journal.add(added)
        assert added.seq > before.seq and journal.find(added.seq) is added
        assert journal.counts() == Counts(total=2, misses=0, refused=0) and journal.hit_counts() == {"ex-1": 1,
                                                                                                      "ex-2": 1}
        assert journal.next_seq() > added.seq

    def test_it_keeps_maxlen_entries_but_counts_every_request(self) -> None:
        journal = self.make(maxlen=3)
        for number in range(5):
            journal.append(_entry(journal, f"/{number}"))
        assert journal.maxlen == 3 and [e.path for e in journal.recent()] == ["/4", "/3", "/2"]
        assert journal.counts().total == 5 and journal.hit_counts() == {"ex-1": 5}

    def test_a_burst_of_refusals_is_one_entry_and_counted_one_by_one(self) -> None:
        journal = self.make()
        for _ in range(3):
            kept = journal.append_refused(_entry(journal, refused=True), "no key")
        assert len(journal.recent()) == 1 and kept.refused == 3
        assert journal.counts() == Counts(total=3, misses=0, refused=3)

    def test_sending_failed_is_noted_on_the_entry(self) -> None:
        journal = self.make()
        entry = _entry(journal)
        journal.append(entry)
        journal.sending_failed(entry, ConnectionResetError("gone"), head_sent=False)
        found = journal.find(entry.seq)
        assert found is not None and found.status == 500 and "sending failed" in found.note

    def test_an_entry_completed_after_it_was_appended_is_found_completed(self) -> None:
        journal = self.make()
        entry = _entry(journal)
        entry.note = "WebSocket open"
        journal.append(entry)
        entry.note, entry.response_body = "WebSocket: 1 sent, 0 received, closed 1000 by the client", b"< hi"
        journal.completed(entry)
        found = journal.find(entry.seq)
        assert found is not None and found.note.startswith("WebSocket: 1 sent") and found.response_body == b"< hi"

    def test_clear_forgets_entries_and_counts_but_not_the_sequence(self) -> None:
        journal = self.make()
        before = _entry(journal)
        journal.append(before)
        journal.clear()
        assert journal.recent() == [] and journal.counts() == Counts(0, 0, 0) and journal.hit_counts() == {}
        assert journal.next_seq() > before.seq

    def test_listeners_hear_each_entry_until_they_unsubscribe(self) -> None:
        journal = self.make()
        heard: list[str] = []
        unsubscribe = journal.subscribe(lambda entry: heard.append(entry.path))
        journal.append(_entry(journal, "/a"))
        unsubscribe()
        journal.append(_entry(journal, "/b"))
        assert heard == ["/a"]

    def test_progress_and_completion_are_heard_again_read_back_changed_counted_once(self) -> None:
        journal = self.make()
        heard: list[str] = []
        journal.subscribe(lambda entry: heard.append(entry.note))
        entry = _entry(journal)
        entry.note, entry.channel, entry.live = "open", "websocket", True
        journal.append(entry)
        entry.note = "open: 1 sent"
        journal.progressed(entry)
        entry.note, entry.live = "closed", False
        journal.completed(entry)
        assert heard == ["open", "open: 1 sent", "closed"]
        found = journal.find(entry.seq)
        assert found is not None and (found.note, found.live) == ("closed", False)
        assert journal.counts().total == 1 and len(journal.recent()) == 1

    def test_reads_from_another_thread_while_the_server_appends(self) -> None:
        journal = self.make(maxlen=50)
        done = threading.Event()

        def serve() -> None:
            for _ in range(2000):
                journal.append(_entry(journal))
            done.set()

        server = threading.Thread(target=serve)
        server.start()
        while not done.is_set():  # the kernel: the dashboard reads meanwhile
            recent = journal.recent()
            assert len(recent) <= 50 and all(a.seq > b.seq for a, b in zip(recent, recent[1:]))
            assert sum(journal.hit_counts().values()) <= journal.counts().total
        server.join()
        assert journal.counts().total == 2000 and journal.hit_counts() == {"ex-1": 2000}
