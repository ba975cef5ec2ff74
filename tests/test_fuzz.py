"""Fuzzing a real mock over raw sockets: every answer is complete HTTP, the log says what the wire said.

The cases (tests/fuzzkit.py): malformed request lines and headers, bad ``x-mock-*`` values,
deep and huge bodies, CR/LF and control characters through every echo path, examples whose
saved parts HTTP cannot send as they are, and a WebSocket upgrade. For each: a complete
final response, no 5xx unless the example itself asks for one, the log's status equal to
the wire's, and the server still answering afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import fuzzkit
import pytest

from postmock_nb.server import MockServer


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[MockServer, list[fuzzkit.Outcome]]]:
    server = MockServer(fuzzkit.fuzz_collection(), log_size=5000)
    server.start()
    try:
        yield server, fuzzkit.run(server)
    finally:
        server.stop()


def _failures(outcomes: list[fuzzkit.Outcome], bad) -> list[str]:
    return [f"{o.case.label}: wire={o.status} log={o.logged_status} {o.problem}" for o in outcomes if bad(o)]


def test_the_suite_is_big_enough() -> None:
    assert len(fuzzkit.unsendable_examples()) >= 50
    assert len(fuzzkit.cases()) >= 200


def test_every_case_gets_a_complete_response(fuzzed) -> None:
    _, outcomes = fuzzed
    assert _failures(outcomes, lambda o: not o.complete) == []


def test_no_server_error_unless_the_example_asks(fuzzed) -> None:
    _, outcomes = fuzzed
    assert _failures(outcomes, lambda o: o.status is not None and o.status >= 500 and not o.case.allow_5xx) == []


def test_the_log_records_the_status_that_was_sent(fuzzed) -> None:
    _, outcomes = fuzzed
    logged = [o for o in outcomes if o.logged_status is not None]
    assert len(logged) > 150  # every case the app saw is in the log
    assert _failures(logged, lambda o: o.logged_status != o.status) == []


def test_no_response_carries_an_injected_header(fuzzed) -> None:
    _, outcomes = fuzzed
    for outcome in outcomes:
        names = [k.lower() for k, _ in outcome.headers]
        assert b"set-cookie" not in names and b"x-injected" not in names, outcome.case.label
        for name, value in outcome.headers:
            assert not any(byte < 0x20 and byte != 0x09 or byte == 0x7F for byte in value), (outcome.case.label, name)


def test_bad_mock_values_name_the_header_and_value(fuzzed) -> None:
    _, outcomes = fuzzed
    bad = [o for o in outcomes if o.case.label.startswith(("x-mock-response-code '9", "query x-mock-response-delay=9"))]
    assert bad and all(o.status == 400 for o in bad)
    for outcome in bad:
        assert b"x-mock-response-" in outcome.body and b"9999" in outcome.body and len(outcome.body) < 2000


def test_unsendable_parts_are_made_safe_not_dropped(fuzzed) -> None:
    _, outcomes = fuzzed
    by_label = {o.case.label: o for o in outcomes}
    named = by_label["unsendable: example name 'a\\r\\nSet-Cookie: x=1'"]
    assert named.status == 200 and named.header(b"x-mock-example-name") == b"a%0D%0ASet-Cookie: x=1"
    assert by_label["unsendable: status 204 with a body"].header(b"content-length") is None
    assert by_label["unsendable: status 205 with a body"].body == b""
    assert by_label["unsendable: status 101"].status == 500
    assert b"101" in by_label["unsendable: status 101"].body
    assert by_label["unsendable: deep JSON response, no declared type"].header(b"content-type").startswith(b"text/plain")
    assert by_label["declared 20 MB body, never sent"].status == 413


def test_the_server_keeps_answering_and_reports_no_error(fuzzed) -> None:
    server, _ = fuzzed
    assert fuzzkit.still_answers(server)
    assert list(server.errors) == []
