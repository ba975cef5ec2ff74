"""answers/diagnostics.py: the rows of a near-miss diff, and the three ways they are rendered (text, JSON)."""

from __future__ import annotations

import pytest
from support.builders import make_collection, make_example

from postmock_nb.answers.diagnostics import (
    FAIL_MARK,
    POSTMAN_NOT_FOUND,
    DiffRow,
    candidate_json,
    diagnosis,
    diff_rows,
    near_miss_text,
    not_found_body,
)
from postmock_nb.config import MockConfig
from postmock_nb.core.bodies import MAX_BODY_DIFFERENCES
from postmock_nb.core.model import Example
from postmock_nb.matching import Check, MatchResult, near_misses
from postmock_nb.matching.search import match
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.matching.types import IncomingRequest

KEY_EXPECTED = "PMAK-0123456789abcdef0123456789abcdef01"
KEY_SENT = "PMAK-ffffffffffffffffffffffffffffffffff"
ADMIN = make_example("GET /users/:id?role=admin", "admin", request_headers={"x-api-key": KEY_EXPECTED})
CREATE = make_example("POST /users", "create")


def result_of(examples: list[Example], request: str, headers: dict[str, str] | None = None, body: str = "",
              settings: MockConfig = MockConfig()) -> MatchResult:
    method, _, url = request.partition(" ")
    return match(Snapshot(make_collection(*examples)), IncomingRequest.build(method, url, headers, body), settings)


def keyed_miss() -> MatchResult:
    """A miss on a secret header, after a wildcard path and a query value that differs."""
    return result_of([ADMIN, CREATE], "GET /users/7/?role=dev", {"x-api-key": KEY_SENT},
                     settings=MockConfig(match_headers=("x-api-key",)))


# -- DiffRow -------------------------------------------------------------------------------------


def test_a_row_of_a_secret_header_is_masked_on_both_sides_unless_revealed() -> None:
    check = Check("header", "X-Api-Key", False, 0, KEY_EXPECTED, KEY_SENT, "different value")
    masked = DiffRow.of(check)
    assert (masked.expected, masked.actual) == ("PMAK-0123…ef01", "PMAK-ffff…ffff")
    revealed = DiffRow.of(check, reveal=True)
    assert (revealed.expected, revealed.actual) == (KEY_EXPECTED, KEY_SENT)


def test_a_masked_row_keeps_the_placeholders_for_no_value() -> None:
    row = DiffRow.of(Check("header", "authorization", False, 0, "Bearer abcdefgh12345678", "(absent)", "missing"))
    assert row.actual == "(absent)"
    assert row.expected.startswith("Bearer ") and "12345678" not in row.expected


def test_a_row_of_another_header_or_part_is_copied_as_it_is() -> None:
    check = Check("query", "x-trace", False, -5, KEY_EXPECTED, KEY_SENT, "different value", more=2)
    assert DiffRow.of(check) == DiffRow("query", "x-trace", KEY_EXPECTED, KEY_SENT, False, "different value", -5, 2)


@pytest.mark.parametrize("row, mark", [
    (DiffRow("path", "", "/a", "/b", False, "path does not match"), "path does not match"),
    (DiffRow("path", "trailing_slash", "/a", "/a/", True, "trailing slash ignored", -5),
     "(path: trailing slash ignored, -5)"),
    (DiffRow("query", "x", "", "1", True, "not in the example", -10), "(not in the example, -10)"),
    (DiffRow("query", "x", "1", "1", True, "equal", 10), ""),
])
def test_the_mark_of_a_row(row: DiffRow, mark: str) -> None:
    assert row.mark == mark
    assert row.costs == (row.ok and row.points < 0)


def test_method_and_path_rows_are_not_labelled_the_others_are() -> None:
    assert DiffRow("method", "", "POST", "GET", False).sides() == ("GET", "POST")
    assert DiffRow("header", "accept", "a", "b", False).sides() == ("header accept: b", "header accept: a")
    assert DiffRow("body", "", "{}", "[]", False).sides() == ("body: []", "body: {}")


def test_body_sides_are_flattened_and_shortened() -> None:
    actual, expected = DiffRow("body", "$.a", "x\n  y", "z" * 80, False).sides()
    assert expected == "body $.a: x y"
    assert actual == "body $.a: " + "z" * 59 + "…"


def test_as_json_says_how_many_more_only_when_there_are() -> None:
    row = DiffRow("body", "$.a", "1", "2", False, "expected 1, got 2")
    assert row.as_json() == {"part": "body", "name": "$.a", "expected": "1", "actual": "2", "points": 0,
                             "note": "expected 1, got 2"}
    assert DiffRow("body", "$.a", "1", "2", False, more=4).as_json()["more_not_listed"] == 4


# -- diff_rows, candidate_json ---------------------------------------------------------------------


def test_diff_rows_start_with_method_and_path_then_what_failed_or_cost() -> None:
    result = keyed_miss()
    admin = next(c for c in near_misses(result) if c.example is ADMIN)
    rows = diff_rows(admin, result)
    assert [(r.part, r.name, r.ok, r.mark) for r in rows] == [
        ("method", "", True, ""),
        ("path", "wildcard", True, "(path: path variables / wildcards, -20)"),
        ("query", "role", False, "different value"),
        ("header", "x-api-key", False, "different value"),
    ]
    assert rows[-1].actual == "PMAK-ffff…ffff"
    assert diff_rows(admin, result, reveal=True)[-1].actual == KEY_SENT


def test_diff_rows_of_another_method_and_path() -> None:
    result = keyed_miss()
    create = next(c for c in near_misses(result) if c.example is CREATE)
    assert [(r.part, r.expected, r.actual, r.ok, r.note) for r in diff_rows(create, result)] == [
        ("method", "POST", "GET", False, "method does not match"),
        ("path", "/users", "/users/7/", False, "path does not match"),
    ]


def test_candidate_json_describes_the_example_and_its_differences() -> None:
    result = keyed_miss()
    admin = next(c for c in near_misses(result) if c.example is ADMIN)
    data = candidate_json(admin)
    assert {k: data[k] for k in ("name", "id", "method", "path", "query", "status", "score", "lost")} == {
        "name": "admin", "id": ADMIN.id, "method": "GET", "path": "/users/:id", "query": {"role": "admin"},
        "status": 200, "score": None, "lost": "header x-api-key: different value"}
    assert [(d["part"], d["name"]) for d in data["differences"]] == [
        ("path", "wildcard"), ("query", "role"), ("header", "x-api-key")]
    assert data["differences"][-1]["expected"] == "PMAK-0123…ef01"
    assert candidate_json(admin, reveal=True)["differences"][-1]["expected"] == KEY_EXPECTED


# -- diagnosis, not_found_body, near_miss_text ------------------------------------------------------


def test_diagnosis_gives_the_request_the_reason_the_closest_and_the_text() -> None:
    result = keyed_miss()
    data = diagnosis(result, limit=1)
    assert data["request"] == {"method": "GET", "path": "/users/7/", "query": [["role", "dev"]]}
    assert data["reason"] == "every example for this path was ruled out"
    assert [c["name"] for c in data["closest"]] == ["admin"]
    assert data["text"] == near_miss_text(result, 1)
    assert KEY_SENT not in data["text"] and KEY_SENT in diagnosis(result, reveal=True)["text"]


def test_not_found_body_is_postman_s_error_beside_the_diagnosis() -> None:
    result = keyed_miss()
    body = not_found_body(result, limit=2)
    assert body["error"] == POSTMAN_NOT_FOUND and body["error"] is not POSTMAN_NOT_FOUND
    assert body["diagnosis"] == diagnosis(result, 2)
    assert KEY_EXPECTED not in str(body)


def test_the_text_of_a_miss_lays_out_request_and_example_side_by_side() -> None:
    lines = near_miss_text(keyed_miss()).splitlines()
    assert lines[0] == "No example matched GET /users/7/?role=dev (every example for this path was ruled out)"
    assert lines[2] == ('1. "admin" (GET /users/:id?role=admin → 200 "admin") — header x-api-key: different value')
    assert lines[3].split() == ["Request", "|", "Example"]
    assert set(lines[4].strip()) == {"-", "+"}
    header = next(line for line in lines if line.lstrip().startswith("header x-api-key"))
    assert header.split(" | ")[0].strip() == "header x-api-key: PMAK-ffff…ffff"
    assert header.endswith(f"{FAIL_MARK} different value")
    assert lines.index(header) < lines.index(next(line for line in lines if line.startswith("2. ")))
    assert len({line.index("|") for line in lines[3:8] if "|" in line}) == 1  # the columns line up


def test_the_text_given_the_closest_does_not_look_again() -> None:
    result = keyed_miss()
    only_create = [c for c in near_misses(result) if c.example is CREATE]
    text = near_miss_text(result, closest=only_create)
    assert '1. "create"' in text and '"admin"' not in text


def test_the_text_of_an_empty_collection() -> None:
    assert near_miss_text(result_of([], "GET /x")) == ("No example matched GET /x (no example for method GET)\n"
                                                       "The collection has no examples yet.")


def test_the_text_counts_body_differences_not_listed() -> None:
    fields = ", ".join(f'"f{i}": {i}' for i in range(MAX_BODY_DIFFERENCES + 3))
    example = make_example("POST /b", "b", request_body="{" + fields + "}")
    result = result_of([example], "POST /b", {"content-type": "application/json"}, "{}", MockConfig(match_body=True))
    rows = diff_rows(near_misses(result)[0], result)
    body = [r for r in rows if r.part == "body"]
    assert len(body) == MAX_BODY_DIFFERENCES and body[-1].more == 3
    text = near_miss_text(result)
    assert text.endswith("  … and 3 more body differences not listed")
    assert text.count(FAIL_MARK) == MAX_BODY_DIFFERENCES
