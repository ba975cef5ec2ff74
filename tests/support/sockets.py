"""WebSocket addresses of a running mock, the way the socket tests open them."""

from __future__ import annotations

from typing import Protocol


class Served(Protocol):
    @property
    def url(self) -> str: ...


def ws_url(mock: Served, path: str) -> str:
    """``ws://127.0.0.1:PORT/path`` of a running Session or MockServer."""
    return mock.url.replace("http://", "ws://", 1) + path
