"""core/text.py: the one plural helper the command line, the magics and the dashboard share."""

from __future__ import annotations

import pytest

from postmock_nb.core.text import listed, plural


@pytest.mark.parametrize("count, shown", [(0, "0 examples"), (1, "1 example"), (2, "2 examples"),
                                          (1000, "1000 examples")])
def test_plural_adds_an_s_unless_one(count: int, shown: str) -> None:
    assert plural(count, "example") == shown


@pytest.mark.parametrize("count, shown", [(0, "0 misses"), (1, "1 miss"), (3, "3 misses")])
def test_plural_takes_an_irregular_plural(count: int, shown: str) -> None:
    assert plural(count, "miss", "misses") == shown


def test_the_count_is_shown_as_given() -> None:
    assert plural(1, "request", None) == "1 request"
    assert plural(12_345, "request") == "12345 requests"
    assert plural(-1, "second") == "-1 seconds"  # only exactly one is singular


def test_listed_shows_the_first_lines_and_counts_the_rest() -> None:
    lines = [f"line {n}" for n in range(25)]
    assert listed(lines[:20], " (see all)") == lines[:20]
    assert listed(lines, " (see all)") == [*lines[:20], "… and 5 more (see all)"]
    assert listed(lines, "", limit=2) == ["line 0", "line 1", "… and 23 more"]
