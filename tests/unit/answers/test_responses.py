"""answers/responses.py: the one shape of the mock's own JSON errors."""

from __future__ import annotations

import json

from postmock_nb.answers.responses import error_response
from postmock_nb.behaviours.handlers import _error
from postmock_nb.bridges.proxy import _error_body


def test_the_error_shape_is_name_header_message_then_more_fields() -> None:
    response = error_response(503, "mockChaos", "Service Unavailable", "chaos", fields={"count": 2},
                              extra=((b"x-a", b"1"),))
    assert response.status == 503
    assert response.headers == [(b"content-type", b"application/json"), (b"x-a", b"1")]
    assert response.body == (b'{\n  "error": {\n    "name": "mockChaos",\n    "header": "Service Unavailable",\n'
                             b'    "message": "chaos",\n    "count": 2\n  }\n}')


def test_the_error_body_keeps_non_ascii_text() -> None:
    assert "é".encode() in error_response(400, "n", "h", "café").body


def test_the_app_a_handler_and_the_proxy_make_errors_of_one_shape() -> None:
    """`{"error": {"name", "header", "message", ...}}`, indented UTF-8 JSON, whoever in the mock makes the error."""
    bodies = {
        "app": error_response(413, "mockRequestTooLarge", "Payload Too Large", "too big é").body,
        "handler": _error(504, "mockHandlerTimeout", "too slow é", handler="h").body,
        "proxy": _error_body(502, "mockUpstreamError", "http://127.0.0.1:9", "refused é"),
    }
    for who, body in bodies.items():
        error = json.loads(body)["error"]
        assert list(error)[:3] == ["name", "header", "message"], who
        assert body.startswith(b'{\n  "error": {\n    "name": '), who
        assert "é".encode() in body, who  # not \u00e9
    assert json.loads(bodies["handler"])["error"]["header"] == "Gateway Timeout"
    assert json.loads(bodies["proxy"])["error"] == {"name": "mockUpstreamError", "header": "Upstream failed",
                                                    "message": "refused é", "upstream": "http://127.0.0.1:9"}
