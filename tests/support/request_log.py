"""Reading a running session's request log the way the server tests do."""

from __future__ import annotations

from postmock_nb.session import Session


def last_note(session: Session) -> str:
    """The note of the newest entry of the session's running mock ("" while the log is empty)."""
    assert session.server is not None
    entries = session.server.log.recent(1)
    return entries[0].note if entries else ""
