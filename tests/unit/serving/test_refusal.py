"""serving/refusal.py: what is answered before the body is read (a CORS preflight, a private mock's 401)."""

from __future__ import annotations

import json

from postmock_nb.config import MockConfig
from postmock_nb.serving.refusal import CORS_HEADERS, key_ok, key_refused, refusal

PRIVATE = MockConfig(private=True, api_key="s3cret", cors=False)


def test_a_public_mock_refuses_nothing() -> None:
    assert refusal(MockConfig(cors=False), "GET", {}, []) == (None, "")
    assert key_refused(MockConfig(), {}, []) == ""


def test_a_preflight_is_answered_with_what_it_asks_and_control_characters_are_not_echoed() -> None:
    headers = {"access-control-request-method": "PUT", "origin": "http://app.test",
               "access-control-request-headers": "x-a\x01"}
    response, refused = refusal(MockConfig(cors=True), "OPTIONS", headers, [])
    assert response is not None and refused == ""
    assert response.status == 204
    assert (b"access-control-allow-origin", b"http://app.test") in response.headers
    assert (b"access-control-allow-headers", b"*") in response.headers


def test_an_options_request_without_cors_is_not_a_preflight() -> None:
    assert refusal(MockConfig(cors=False), "OPTIONS", {"access-control-request-method": "PUT"}, []) == (None, "")


def test_a_private_mock_says_why_it_refused() -> None:
    assert key_refused(PRIVATE, {}, []) == "missing x-api-key header"
    assert key_refused(PRIVATE, {"x-api-key": "nope"}, [(b"x-api-key", b"nope")]) == "wrong x-api-key"
    assert key_refused(PRIVATE, {"x-api-key": "s3cret"}, [(b"X-Api-Key", b" s3cret\t")]) == ""


def test_the_401_carries_the_reason_and_cors_headers_when_asked() -> None:
    settings = MockConfig(private=True, api_key="s3cret", cors=True)
    response, refused = refusal(settings, "GET", {}, [])
    assert response is not None and refused == "missing x-api-key header"
    assert response.status == 401
    assert json.loads(response.body)["error"] == {
        "name": "AuthenticationError", "header": "Unauthorized",
        "message": "This mock is private: send its key in the x-api-key header. (missing x-api-key header)"}
    assert response.headers[1:] == list(CORS_HEADERS)


def test_the_key_is_compared_as_bytes() -> None:
    assert key_ok(PRIVATE, b"s3cret")
    assert not key_ok(PRIVATE, None)
    assert not key_ok(PRIVATE, "s3crét".encode())
