"""core/masking.py: how much of a secret the views show, and which headers are masked (the log views' use of it
is in tests/unit/serving/test_requestlog.py)."""

from __future__ import annotations

import pytest

from postmock_nb.core.masking import (
    NO_VALUE,
    mask,
    mask_compared,
    mask_header,
    mask_parameter,
    mask_query,
    mask_response_header,
)

KEY = "PMAK-0123456789abcdef0123456789abcdef"  # a Postman API key's length: 37


@pytest.mark.parametrize("secret, shown", [
    (KEY, "PMAK-0123…cdef"),
    ("a" * 31 + "Z", "aaaaaaaaa…aaaZ"),  # 32: the first 9 and the last 4
    ("abcdefghijklmnopqrstuvwxyz01234", "abcd…"),  # 31: the first 4
    ("abcdefghijklmnop", "abcd…"),  # 16
    ("abcdefghijklmno", "ab…"),  # 15: the first 2
    ("abcdefgh", "ab…"),  # 8
    ("abcdefg", "…"),  # 7: nothing
    ("", "…"),
])
def test_mask_shows_less_the_shorter_the_secret(secret: str, shown: str) -> None:
    assert mask(secret) == shown


@pytest.mark.parametrize("length", [8, 16, 32, 37, 64, 500])
def test_mask_always_hides_most_of_the_secret(length: int) -> None:
    secret = "".join(chr(ord("a") + n % 26) for n in range(length))
    visible = len(mask(secret)) - 1  # the ellipsis is one character
    assert visible * 2 < length
    assert secret not in mask(secret)


@pytest.mark.parametrize("name, value, shown", [
    ("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9", "Bearer eyJh…"),
    ("authorization", "Basic dXNlcjpwYXNz", "Basic dX…"),  # 12 characters: the first 2
    ("Proxy-Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9", "Bearer eyJh…"),
    ("Authorization", "eyJhbGciOiJIUzI1NiJ9", "eyJh…"),  # no scheme: the whole value is masked
    ("Authorization", "Bearer2 eyJhbGciOiJIUzI1NiJ9", "Bear…"),  # not a scheme: masked whole
    ("X-Api-Key", KEY, "PMAK-0123…cdef"),
    ("X-API-KEY", "my key with spaces", "my k…"),  # only authorization headers keep a scheme
    ("Cookie", "session=0123456789abcdef", "sess…"),
    ("X-Postmock-Admin-Key", "team-admin-secret-0123", "team…"),  # the admin key, sent to a mocked route
])
def test_mask_header_masks_credentials(name: str, value: str, shown: str) -> None:
    assert mask_header(name, value) == shown


@pytest.mark.parametrize("name", ["Content-Type", "Accept", "X-Api-Key-Hint", "Set-Cookie"])
def test_mask_header_leaves_other_headers_alone(name: str) -> None:
    assert mask_header(name, "Bearer eyJhbGciOiJIUzI1NiJ9") == "Bearer eyJhbGciOiJIUzI1NiJ9"


def test_mask_compared_keeps_the_placeholders_of_no_value() -> None:
    assert NO_VALUE == {"(absent)", "(any)", ""}
    for placeholder in NO_VALUE:
        assert mask_compared("Authorization", placeholder) == placeholder
    assert mask_compared("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9") == "Bearer eyJh…"
    assert mask_compared("Accept", "(any)") == "(any)"
    assert mask_compared("Accept", "text/html") == "text/html"
    assert mask("") == "…" != mask_compared("x-api-key", "")


@pytest.mark.parametrize("value, shown", [
    ("session=0123456789abcdef; Path=/; HttpOnly", "session=0123…; Path=/; HttpOnly"),
    ("id=abc", "id=…"),
    ("token= 0123456789abcdef0123456789abcdef ;Secure", "token=012345678…cdef;Secure"),
    ("0123456789abcdef", "0123…"),  # no name: masked whole
])
def test_mask_response_header_keeps_a_cookies_name_and_attributes(value: str, shown: str) -> None:
    assert mask_response_header("Set-Cookie", value) == shown
    assert mask_response_header("set-cookie", value) == shown


def test_mask_response_header_leaves_other_response_headers_alone() -> None:
    assert mask_response_header("Content-Type", "application/json") == "application/json"
    assert mask_response_header("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9") == "Bearer eyJhbGciOiJIUzI1NiJ9"


KEY = "sock-key-0123456789abcdef"  # 25 characters: shown as "sock…"


@pytest.mark.parametrize(("value", "shown"), [
    (f"postmock-key.{KEY}", "postmock-key.sock…"),
    (f"chat.v2, postmock-key.{KEY}", "chat.v2, postmock-key.sock…"),
    ("chat.v2,graphql-ws", "chat.v2,graphql-ws"),
])
def test_the_key_a_websocket_offers_as_a_subprotocol_is_masked(value: str, shown: str) -> None:
    # browsers cannot set headers on a WebSocket: the key comes as a subprotocol, and must not show in the log
    assert mask_header("Sec-WebSocket-Protocol", value) == shown


@pytest.mark.parametrize(("query", "shown"), [
    (f"api_key={KEY}", "api_key=sock…"),
    (f"room=7&API_KEY={KEY}&x", "room=7&API_KEY=sock…&x"),
    ("room=a%20b&api_keys=1&key=2", "room=a%20b&api_keys=1&key=2"),
    ("", ""),
])
def test_the_key_a_websocket_upgrade_carries_in_its_query_is_masked(query: str, shown: str) -> None:
    assert mask_query(query) == shown


def test_a_query_parameter_is_masked_only_when_it_is_the_key() -> None:
    assert (mask_parameter("api_key", KEY), mask_parameter("room", KEY)) == ("sock…", KEY)


@pytest.mark.parametrize("name", ["X-Auth-Token", "X-Access-Token", "Api-Key", "X-ApiKey", "X-Client-Secret",
                                  "X-Session", "X-Auth", "X-Password"])
def test_a_header_whose_name_says_it_carries_a_credential_is_masked(name: str) -> None:
    """An OpenAPI document's apiKey scheme may name its header anything (issue 23's hostile test): the names that say
    what they carry are masked like Authorization."""
    assert mask_header(name, KEY) != KEY


@pytest.mark.parametrize(("query", "shown"), [
    (f"access_token={KEY}&page=2", "access_token=sock…&page=2"),
    (f"client_secret={KEY}", "client_secret=sock…"),
    (f"apikey={KEY}&token_type=x", "apikey=sock…&token_type=…"),
    ("q=token&page=2", "q=token&page=2"),  # a value that says token: nothing to hide
    (f"api%5Fkey={KEY}", "api%5Fkey=sock…"),  # the name as a key check reads it: decoded
    (f"Api-Key={KEY}", "Api-Key=sock…"),
    (f"auth={KEY}&page=1", "auth=sock…&page=1"),  # names anchored at their end are read one by one
])
def test_a_query_parameter_whose_name_says_it_carries_a_credential_is_masked(query: str, shown: str) -> None:
    assert mask_query(query) == shown
