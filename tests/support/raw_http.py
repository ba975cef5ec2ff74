"""A request sent exactly as written: no client normalises its target (``//pets``, ``%2F``, ``%252F`` stay)."""

from __future__ import annotations

import http.client


def send_as_written(port: int, method: str, target: str, headers: dict[str, str] | None = None,
                    timeout: float = 5) -> tuple[int, str]:
    """``METHOD target`` to 127.0.0.1:``port`` as written; the answer's status and body (text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()
