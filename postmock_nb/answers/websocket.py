"""``%%websocket`` scripts: what the mock sends on a WebSocket, and what it waits for.

A script is the body of an example marked ``x-mock-websocket: true``, one step a line:

- ``< MESSAGE``: the mock sends MESSAGE (a text frame; placeholders filled when it is sent), then waits
  ``x-mock-interval`` ms before the next step;
- ``> MESSAGE``: the mock waits for the client to send a matching message. JSON is compared as JSON,
  ``{{$any}}`` (``{{$anyString}}``, ``{{$anyNumber}}``) accepting any value, like a request body
  (:func:`postmock_nb.core.bodies.body_differences`); other text is compared whole.

Blank lines and lines starting with ``#`` are skipped. A script without ``>`` lines is a stream; with
them a conversation. ``x-mock-repeat: true`` plays the steps again and again until the client leaves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from postmock_nb.core.bodies import body_differences, looks_like_json
from postmock_nb.errors import ExampleDefinitionError

SEND = "<"
EXPECT = ">"
MISMATCH_CLOSE = 1008
"""The close code when a client's message does not match in time (policy violation)."""
EXPECT_TIMEOUT_S = 10.0
"""How long a ``>`` step waits for a matching message before closing with 1008."""


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a script: ``<`` (the mock sends ``text``) or ``>`` (the client must send it)."""

    kind: str
    text: str


@functools.lru_cache(maxsize=128)
def steps_of(body: str) -> tuple[Step, ...]:
    """:func:`parse_script`, kept for the scripts played lately: a long script is read once, not at every
    connection on the server's loop."""
    return tuple(parse_script(body))


def parse_script(body: str) -> list[Step]:
    """The steps of a ``%%websocket`` script (raises for a line that is neither ``<`` nor ``>``)."""
    steps: list[Step] = []
    for number, line in enumerate(body.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        kind = stripped[0]
        if kind not in (SEND, EXPECT):
            raise ExampleDefinitionError(
                f"line {number} of the script is neither '< MESSAGE' nor '> MESSAGE': {stripped[:60]!r}",
                hint='< {"price": 101}   (the mock sends)   or   > {"subscribe": "{{$any}}"}   (the client must send)',
            )
        steps.append(Step(kind, stripped[1:].strip()))
    return steps


def mismatch(expected: str, got: str) -> str:
    """Why the client's message ``got`` does not match a ``>`` step (``""``: it matches)."""
    content_type = "application/json" if looks_like_json(expected) else "text/plain"
    found = body_differences(expected, got, content_type, limit=3)
    if not found:
        return ""
    return "; ".join(f"{d.path or 'message'}: {d.note}" for d in found)
