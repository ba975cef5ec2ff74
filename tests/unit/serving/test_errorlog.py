"""serving/errorlog.py: the server's bounded log of its own errors."""

from __future__ import annotations

import threading

import pytest

from postmock_nb.serving.errorlog import ErrorLog


def test_a_new_log_is_empty() -> None:
    log = ErrorLog()
    assert (log.recent(), log.total, len(log), log.since(0)) == ([], 0, 0, [])


def test_report_keeps_errors_oldest_first_and_counts_them() -> None:
    log = ErrorLog()
    for text in ("first", "second", "third"):
        log.report(text)
    assert log.recent() == ["first", "second", "third"]
    assert (log.total, len(log)) == (3, 3)


def test_the_log_keeps_only_the_newest_maxlen_but_counts_every_one() -> None:
    log = ErrorLog(maxlen=3)
    for number in range(7):
        log.report(f"error {number}")
    assert log.recent() == ["error 4", "error 5", "error 6"]
    assert (log.total, len(log)) == (7, 3)


def test_recent_is_a_copy() -> None:
    log = ErrorLog()
    log.report("kept")
    log.recent().append("not kept")
    assert log.recent() == ["kept"]


@pytest.mark.parametrize(("seen", "expected"), [(0, ["a", "b", "c"]), (1, ["b", "c"]), (3, []), (10, [])])
def test_since_gives_the_errors_after_the_first_seen(seen: int, expected: list[str]) -> None:
    log = ErrorLog()
    for text in "abc":
        log.report(text)
    assert log.since(seen) == expected


def test_since_after_the_log_was_cut_gives_only_those_still_kept() -> None:
    log = ErrorLog(maxlen=2)
    for text in "abcde":  # a, b and c were cut: d and e are kept
        log.report(text)
    assert log.since(0) == ["d", "e"]
    assert log.since(3) == ["d", "e"]
    assert log.since(4) == ["e"]
    assert log.since(5) == []


def test_reports_from_many_threads_are_all_counted() -> None:
    log = ErrorLog(maxlen=50)
    barrier = threading.Barrier(4)

    def report_many(name: str) -> None:
        barrier.wait()
        for number in range(500):
            log.report(f"{name}-{number}")

    threads = [threading.Thread(target=report_many, args=(f"t{index}",)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.total == 2000
    assert len(log.recent()) == 50
    assert log.since(1990) == log.recent()[-10:]
