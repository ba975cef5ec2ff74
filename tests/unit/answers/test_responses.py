"""answers/responses.py: the one shape of the mock's own JSON errors."""

from __future__ import annotations

from postmock_nb.answers.responses import error_response


def test_the_error_shape_is_name_header_message_then_more_fields() -> None:
    response = error_response(503, "mockChaos", "Service Unavailable", "chaos", fields={"count": 2},
                              extra=((b"x-a", b"1"),))
    assert response.status == 503
    assert response.headers == [(b"content-type", b"application/json"), (b"x-a", b"1")]
    assert response.body == (b'{\n  "error": {\n    "name": "mockChaos",\n    "header": "Service Unavailable",\n'
                             b'    "message": "chaos",\n    "count": 2\n  }\n}')


def test_the_error_body_keeps_non_ascii_text() -> None:
    assert "é".encode() in error_response(400, "n", "h", "café").body
