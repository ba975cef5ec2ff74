"""Small wording helpers shared by the command line, the magics and the dashboard."""

from __future__ import annotations

from collections.abc import Container


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 example``, ``2 examples``, ``3 misses`` (with ``many="misses"``)."""
    return f"{count} {word if count == 1 else many or word + 's'}"


LISTED_AT_START = 20
"""Lines a start-up list shows (``--examples generate``'s replaced examples): past them, one line says how many
more, so that a document with thousands does not flood the terminal or the cell."""


def listed(lines: list[str], more: str, limit: int = LISTED_AT_START) -> list[str]:
    """The first ``limit`` of ``lines``, and (when some are left out) ``… and N more`` + ``more``."""
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"… and {len(lines) - limit:,} more{more}"]


def free_name(base: str, taken: Container[str], *, separator: str = "") -> str:
    """``base``, or ``base`` numbered from 2 (``id2``, ``Order-found-2`` with ``separator="-"``) until not ``taken``."""
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}{separator}{number}"
    return name
