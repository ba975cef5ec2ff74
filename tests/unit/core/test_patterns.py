"""core/patterns.py: document patterns run in bounded time, RE2 first, ``regex`` with a deadline for the rest."""

from __future__ import annotations

import pytest

from postmock_nb.core.patterns import NotARegex, UncheckablePattern, budget, compiled, is_linear, search

LOOKAHEAD = r"^(?=.*\d)[a-z\d]+$"  # RE2 has no lookaround: this one runs on ``regex``


@pytest.mark.parametrize("pattern, text, found", [
    (r"\d{3}", "abc123def", True),  # JSON Schema's pattern: found anywhere, not a full match
    (r"^\d{3}$", "abc123def", False),
    (r"^[A-Z]{2}-\d+$", "FR-75001", True),
    (r"^café$", "café", True),
    ("", "anything", True),
    (LOOKAHEAD, "abc1", True),
    (LOOKAHEAD, "abcd", False),
    (r"^(\w)\1$", "aa", True),  # a backreference: on ``regex`` too
    (r"^(\w)\1$", "ab", False),
])
def test_search(pattern: str, text: str, found: bool) -> None:
    assert search(pattern, text) is found


def test_compiled_prefers_re2_and_falls_back_to_regex() -> None:
    assert is_linear(compiled(r"^[a-z]+$"))
    assert not is_linear(compiled(LOOKAHEAD))
    assert not is_linear(compiled(r"(\w)\1"))
    assert compiled(r"^[a-z]+$") is compiled(r"^[a-z]+$")  # compiled once


def test_a_catastrophic_pattern_runs_on_re2_and_answers() -> None:
    assert is_linear(compiled(r"^(a+)+$"))
    assert search(r"^(a+)+$", "a" * 5000 + "!") is False
    assert search(r"^(a+)+$", "a" * 5000) is True


@pytest.mark.parametrize("pattern", ["([a-z", "*a", "a{2,1}", "abc\\"])
def test_not_a_regex_names_the_pattern(pattern: str) -> None:
    with pytest.raises(NotARegex, match="is not a regular expression") as caught:
        compiled(pattern)
    assert caught.value.pattern == pattern
    assert repr(pattern) in str(caught.value)
    assert isinstance(caught.value, UncheckablePattern)
    with pytest.raises(NotARegex):
        search(pattern, "text")


def test_a_spent_budget_refuses_a_regex_pattern_but_not_an_re2_one() -> None:
    with budget(0):
        with pytest.raises(UncheckablePattern, match="could not be checked in time") as caught:
            search(LOOKAHEAD, "abc1")
        assert caught.value.pattern == LOOKAHEAD
        assert not isinstance(caught.value, NotARegex)
        assert search(r"^[a-z]+\d$", "abc1") is True  # RE2 needs no budget
    assert search(LOOKAHEAD, "abc1") is True  # the budget ends with its block


def test_budgets_nest_and_restore() -> None:
    with budget(60):
        with budget(0), pytest.raises(UncheckablePattern):
            search(LOOKAHEAD, "abc1")
        assert search(LOOKAHEAD, "abc1") is True  # the outer budget is back


def test_a_slow_regex_pattern_runs_out_of_time() -> None:
    slow = r"^(?=a)(a|aa)+(?!x)b$"  # lookaround keeps it off RE2; the alternation backtracks exponentially
    assert not is_linear(compiled(slow))
    with budget(0.05), pytest.raises(UncheckablePattern, match="could not be checked in time"):
        search(slow, "a" * 60 + "c")


@pytest.mark.parametrize("pattern", [
    r"^[a-z]{100000000}$",  # regex unrolled it: a MemoryError loading the document (gigabytes first)
    r"^((((a{100}){100}){100}){100})$",  # each repeat within RE2's 1000, their product not
    r"^\p{L}{1000}(?:x{1000})$",  # Python's parser cannot read \p{L}: the counts multiplied
])
def test_a_pattern_whose_repeats_unroll_past_the_bound_is_not_compiled(pattern: str) -> None:
    with pytest.raises(NotARegex, match="too large to compile"):
        compiled(pattern)


def test_a_repeat_re2_refuses_but_regex_can_hold_still_compiles() -> None:
    assert search(r"^\d{1,1500}$", "1" * 1500) and not is_linear(compiled(r"^\d{1,1500}$"))
    assert search(r"^(?=.*\d)[a-z\d]{2000}$", "a1" * 1000)
