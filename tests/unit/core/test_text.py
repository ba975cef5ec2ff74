"""core/text.py: the one plural helper the command line, the magics and the dashboard share."""

from __future__ import annotations

import pytest

from postmock_nb.core.text import plural


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
