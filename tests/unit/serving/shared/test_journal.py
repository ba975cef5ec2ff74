"""The request journal on Redis (postmock_nb.serving.shared.journal), on fakeredis: the Journal contract, the
entry's round trip through JSON, seqs unique across replicas, bursts and entries written again, and a Redis out
of reach (a bounded queue, counts kept whole, written when it is back)."""

from __future__ import annotations

import itertools
from typing import Any

import fakeredis
import pytest
from support.journal_contract import JournalContract, _entry

from postmock_nb.core.model import Collection
from postmock_nb.matching import IncomingRequest, match
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.serving.journal import Batched, Journal
from postmock_nb.serving.requestlog import Counts, LogEntry
from postmock_nb.serving.shared.connection import SharedState, StateUnavailable
from postmock_nb.serving.shared.journal import SEQ_BLOCK, SharedJournal
from postmock_nb.serving.shared.journalentry import decode_entry, encode_entry

_names = itertools.count()


class _Redis:
    """One fake Redis server; ``down`` makes every call fail as a Redis out of reach would."""

    def __init__(self) -> None:
        self.server = fakeredis.FakeServer()
        self.server.connected = True

    @property
    def down(self) -> bool:
        return not self.server.connected

    @down.setter
    def down(self, value: bool) -> None:
        self.server.connected = not value

    def shared(self, prefix: str = "mock") -> SharedState:
        shared = SharedState("redis://:secret@127.0.0.1:1/0", prefix)
        client = fakeredis.FakeRedis(server=self.server)
        shared.sync_client = lambda: client  # type: ignore[method-assign]
        return shared

    def journal(self, maxlen: int = 1000, *, replica: str = "host:1", **options: Any) -> SharedJournal:
        return SharedJournal(self.shared(), maxlen, replica=replica, **options)


@pytest.fixture
def fake() -> _Redis:
    return _Redis()


class TestSharedJournal(JournalContract):
    def make(self, maxlen: int = 1000) -> Journal:
        return _Redis().journal(maxlen)


def test_it_is_batched_and_reads_off_the_loop(fake):
    assert isinstance(fake.journal(), Batched)


def test_an_entry_comes_back_from_json_as_it_went_in():
    miss = match(Snapshot(Collection()), IncomingRequest.build("POST", "/users"))
    entry = LogEntry(seq=7, time=12.5, method="POST", path="/users", query_string=b"a=1&b=%C3%A9",
                     raw_headers=[(b"content-type", b"application/json"), (b"x-api-key", b"k\xe9y")],
                     raw_body=b"\x00\xff" + b"x" * 5000, status=404, example_id=None, example_name=None, score=None,
                     latency_ms=1.25, outcome=miss, response_headers=[(b"set-cookie", b"s=1")],
                     response_body=b'{"error": 1}', note="no match", fault="", delay_ms=30, upstream_ms=None,
                     traceback="", replica="pod-a:12")
    back = decode_entry(encode_entry(entry))
    assert back.outcome is None and back.result is None and back.is_miss and back.mark == "✗"
    assert back.shared_diagnosis is not None and "No example matched POST /users" in back.shared_diagnosis["text"]
    assert (back.seq, back.time, back.method, back.url, back.status) == (7, 12.5, "POST", "/users?a=1&b=%C3%A9", 404)
    assert back.raw_headers == entry.raw_headers and back.raw_body == entry.raw_body
    assert back.body_size == 5002 and back.response_body == b'{"error": 1}' and back.delay_ms == 30
    assert back.summary() == entry.summary() and back.summary()["replica"] == "pod-a:12"
    assert back.headers == entry.headers  # the key masked in both


def test_replicas_share_entries_counts_and_hits_and_their_seqs_never_clash(fake):
    a, b = fake.journal(replica="a:1"), fake.journal(replica="b:2")
    for journal, example_id in [(a, "ex-1"), (b, "ex-1"), (a, None), (b, "ex-2")]:
        journal.append(_entry(journal, f"/{journal.replica}", example_id=example_id))
    b.flush()  # as b's writer would (a reader writes its own replica's queue, not another's)
    for journal in (a, b):
        seen = journal.recent()
        assert len(seen) == 4 and len({e.seq for e in seen}) == 4
        assert {e.replica for e in seen} == {"a:1", "b:2"}
        assert journal.counts() == Counts(total=4, misses=1, refused=0)
        assert journal.hit_counts() == {"ex-1": 2, "ex-2": 1}
        assert [e.replica for e in journal.recent(unmatched=True)] == ["a:1"]
    theirs = next(e for e in a.recent() if e.replica == "b:2")
    assert a.find(theirs.seq) is not None and a.find(theirs.seq).outcome is None  # type: ignore[union-attr]
    assert abs(a.recent()[0].seq - b.recent()[0].seq) < 2 * SEQ_BLOCK + 4


def test_clear_is_for_every_replica(fake):
    a, b = fake.journal(replica="a:1"), fake.journal(replica="b:2")
    a.append(_entry(a))
    a.flush()
    b.append(_entry(b))
    b.clear()
    assert a.recent() == [] and a.counts() == Counts(0, 0, 0)


def test_an_entry_whose_sending_failed_is_written_again_and_read_once(fake):
    journal = fake.journal()
    entry = _entry(journal)
    journal.append(entry)
    journal.flush()  # written
    journal.sending_failed(entry, ConnectionResetError("gone"), head_sent=False)
    journal.flush()
    other = fake.journal(replica="other:2")
    [seen] = other.recent()
    assert seen.seq == entry.seq and seen.status == 500 and "sending failed" in seen.note


def test_an_entry_completed_after_it_was_written_is_written_again_and_read_once(fake):
    """A stream or a WebSocket connection is logged when it begins and completed when it ends: another replica
    reads the completed row."""
    journal = fake.journal()
    entry = _entry(journal)
    entry.note = "WebSocket open"
    journal.append(entry)
    journal.flush()  # written as it began
    entry.note, entry.response_body = "WebSocket: 2 sent, 1 received, closed 1000 by the client", b"< a\n> b\n< c"
    journal.completed(entry)
    journal.flush()
    other = fake.journal(replica="other:2")
    [seen] = other.recent()
    assert (seen.seq, seen.note) == (entry.seq, "WebSocket: 2 sent, 1 received, closed 1000 by the client")
    assert seen.response_body == b"< a\n> b\n< c"


def test_a_connection_s_progress_is_not_written_only_its_close(fake):
    journal = fake.journal()
    entry = _entry(journal)
    entry.status, entry.channel, entry.live, entry.note = 101, "websocket", True, "WebSocket open: 0 sent, 0 received"
    journal.append(entry)
    journal.flush()  # written as it opened (the app hands the batch out before it plays the script)
    other = fake.journal(replica="other:2")
    [seen] = other.recent()
    assert (seen.live, seen.mark, seen.latency_text(), seen.note) == (True, "⇄", "open", entry.note)
    written = journal.written
    for sent in range(1, 4):  # messages: heard here at once, not written
        entry.note = f"WebSocket open: {sent} sent, 0 received"
        entry.extend_response(b"< tick\n")
        journal.progressed(entry)
    journal.flush()
    assert journal.written == written and other.recent()[0].note == "WebSocket open: 0 sent, 0 received"
    entry.live, entry.note = False, "WebSocket: 3 sent, 0 received, closed 1000 by the client"
    journal.completed(entry)
    journal.flush()
    [seen] = other.recent()
    assert seen.seq == entry.seq and not seen.live and seen.note == entry.note
    assert seen.response_body == b"< tick\n" * 3 and seen.summary() == entry.summary() | {"replica": "host:1"}


def test_a_burst_is_a_few_lines_of_the_stream_whatever_its_size(fake):
    journal = fake.journal()
    for number in range(200):
        journal.append_refused(_entry(journal, refused=True), "no key")
        if number == 0:
            journal.flush()
    journal.append(_entry(journal))
    journal.flush()
    client = journal.shared.sync_client()
    assert client.xlen(journal.stream_key) == 3  # the burst's start, its end, the entry after it
    [after, burst] = fake.journal(replica="other:2").recent()
    assert burst.refused == 200 and after.seq > burst.seq
    assert journal.counts() == Counts(total=201, misses=0, refused=200)


def test_redis_out_of_reach_keeps_a_bounded_queue_and_whole_counts(fake):
    fake.down = True
    journal = fake.journal(queue_limit=5)  # no block of seqs yet: provisional numbers
    entries = [_entry(journal, f"/{n}") for n in range(8)]
    for entry in entries:
        journal.append(entry)
    assert all(e.seq < 0 for e in entries)
    with pytest.raises(StateUnavailable, match="journal"):
        journal.recent()
    assert journal.status()["dropped"] == 3 and journal.status()["queued"] == 5
    fake.down = False
    kept = journal.recent()
    assert [e.path for e in kept] == ["/7", "/6", "/5", "/4", "/3"]
    assert all(e.seq > 0 for e in kept) and len({e.seq for e in kept}) == 5
    assert journal.counts().total == 8 and journal.hit_counts() == {"ex-1": 8}


def test_the_stream_is_capped_near_maxlen(fake):
    journal = fake.journal(maxlen=10)
    for number in range(300):
        journal.append(_entry(journal, f"/{number}"))
        if number % 50 == 0:
            journal.flush()
    journal.flush()
    assert journal.shared.sync_client().xlen(journal.stream_key) < 300
    assert [e.path for e in journal.recent(3)] == ["/299", "/298", "/297"] and len(journal.recent()) == 10


def test_each_mock_has_its_own_keys(fake):
    one = SharedJournal(fake.shared("one"), replica="a:1")
    two = SharedJournal(fake.shared("two"), replica="a:1")
    one.append(_entry(one))
    assert two.recent() == [] and one.stream_key == "postmock:one:journal"


def test_blocks_of_seqs_are_reserved_ahead_so_numbers_never_run_out_or_clash(fake):
    a, b = fake.journal(replica="a:1"), fake.journal(replica="b:2")
    seqs = []
    for number in range(2 * SEQ_BLOCK + 10):
        for journal in (a, b):
            entry = _entry(journal)
            journal.append(entry)
            seqs.append(entry.seq)
        if number % 100 == 0:  # as the writers would, now and then
            a.flush()
            b.flush()
    assert min(seqs) > 0 and len(set(seqs)) == len(seqs)
    assert int(a.shared.sync_client().get(a.seq_key)) <= 7 * SEQ_BLOCK  # ahead, not one block per batch


def test_after_redis_came_back_empty_numbers_are_given_again_never_twice(fake):
    a = fake.journal(replica="a:1")
    a.append(_entry(a))
    a.flush()
    a.shared.sync_client().flushall()  # Redis restarted without persistence: its counter starts again
    c = fake.journal(replica="c:3")  # a replica started since: its first block is the numbers a has
    for _ in range(3):
        for journal in (a, c):
            journal.append(_entry(journal))
    a.flush()
    c.flush()
    seqs = [e.seq for e in c.recent()]
    assert len(seqs) == 6 and len(set(seqs)) == 6 and min(seqs) > 0
    assert c.counts().total == 6
