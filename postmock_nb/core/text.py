"""Small wording helpers shared by the command line, the magics and the dashboard."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 example``, ``2 examples``, ``3 misses`` (with ``many="misses"``)."""
    return f"{count} {word if count == 1 else many or word + 's'}"
