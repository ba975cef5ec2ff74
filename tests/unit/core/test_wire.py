"""core/wire.py's header sets: each written once, and what the proxy, the recorder and masking make of them."""

from __future__ import annotations

import pytest

from postmock_nb.bridges.proxy import forwardable
from postmock_nb.bridges.recording import clean_request_headers, clean_response_headers
from postmock_nb.core import masking, wire


@pytest.mark.parametrize(("headers", "expected"), [
    ([], set()),
    ([("Content-Type", "text/plain")], set()),
    ([("Connection", "close")], {"close"}),
    ([("connection", " X-Trace , Keep-Alive ,, "), ("CONNECTION", "upgrade")], {"x-trace", "keep-alive", "upgrade"}),
])
def test_connection_tokens(headers: list[tuple[str, str]], expected: set[str]) -> None:
    assert wire.connection_tokens(headers) == expected


def test_the_sets_are_the_ones_everyone_uses() -> None:
    assert masking.SECRET_HEADERS is wire.SECRET_HEADERS
    assert masking.SECRET_RESPONSE_HEADERS is wire.SECRET_RESPONSE_HEADERS
    assert wire.HOP_BY_HOP <= wire.DROPPED_RESPONSE_HEADERS
    assert {"date", "server", "content-length", "content-encoding", "set-cookie"} <= wire.DROPPED_RESPONSE_HEADERS
    assert not wire.KEPT_REQUEST_HEADERS & wire.SECRET_HEADERS
    for name in (*wire.HOP_BY_HOP, *wire.SECRET_HEADERS, *wire.COMPUTED_HEADERS, *wire.KEPT_REQUEST_HEADERS):
        assert name == name.lower() and wire.is_token(name)


def test_the_proxy_forwards_no_hop_by_hop_header() -> None:
    sent = [(b"Connection", b"close, X-Trace"), (b"X-Trace", b"1"), (b"Keep-Alive", b"timeout=5"),
            (b"TE", b"trailers"), (b"Accept", b"*/*"), (b"X-Api-Key", b"k")]
    assert forwardable(sent) == [(b"Accept", b"*/*"), (b"X-Api-Key", b"k")]
    assert forwardable(sent, drop=frozenset({"x-api-key"})) == [(b"Accept", b"*/*")]


def test_a_recorded_example_keeps_no_connection_header_nor_secret() -> None:
    response = (("Date", "x"), ("Connection", "X-Trace"), ("X-Trace", "1"), ("Transfer-Encoding", "chunked"),
                ("Set-Cookie", "s=1"), ("Content-Type", "application/json"), ("X-Rate", "9"))
    assert clean_response_headers(response) == (("Content-Type", "application/json"), ("X-Rate", "9"))
    request = (("Authorization", "Bearer t"), ("Accept", "*/*"), ("Cookie", "s=1"), ("User-Agent", "u"))
    assert clean_request_headers(request) == (("Accept", "*/*"),)
    assert clean_request_headers(request, keep_secrets=True) == (("Authorization", "Bearer t"), ("Accept", "*/*"),
                                                                 ("Cookie", "s=1"))
