"""A request's headers read lazily (postmock_nb.core.headers.RequestHeaders): a read-only mapping that reads as the
dict it replaced, decoding nothing until asked."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from postmock_nb.core import wire
from postmock_nb.core.headers import RequestHeaders, listed, raw_names_any_of

RAW = [(b"Host", b"127.0.0.1"), (b"Accept", b"a/b"), (b"x-id", b"\xe9t\xe9"), (b"accept", b"c/d")]


def test_it_reads_as_the_dict_it_replaced() -> None:
    headers = RequestHeaders(RAW)
    expected = wire.request_headers(RAW)  # {"host": ..., "accept": "a/b, c/d", "x-id": "été"}
    assert isinstance(headers, Mapping)
    assert headers == expected and expected == dict(headers) and headers == RequestHeaders(list(RAW))
    assert headers["accept"] == "a/b, c/d" and headers.get("x-id") == "été" and headers.get("nope", "-") == "-"
    assert "host" in headers and "Host" not in headers and 7 not in headers  # by lower-case name, as before
    assert list(headers) == list(expected) and len(headers) == 3 and dict(headers.items()) == expected
    assert json.dumps(dict(headers)) == json.dumps(expected)
    assert headers != {"host": "other"} and headers != [("host", "127.0.0.1")]
    with pytest.raises(KeyError):
        headers["nope"]


def test_it_is_read_only_and_never_changes_the_raw_pairs() -> None:
    raw = list(RAW)
    headers = RequestHeaders(raw)
    with pytest.raises(TypeError):
        headers["x"] = "y"  # type: ignore[index]
    with pytest.raises(AttributeError):
        headers.update({"x": "y"})  # type: ignore[attr-defined]
    assert headers["host"] and raw == RAW
    with pytest.raises(TypeError):
        hash(headers)


def test_nothing_is_decoded_until_a_header_is_read() -> None:
    headers = RequestHeaders(RAW)
    assert headers.names_any_of(frozenset({b"accept"})) and headers._text is None  # answered on the bytes
    assert repr(headers).startswith("RequestHeaders({'host'") and headers._text is not None


@pytest.mark.parametrize("name", [b"x-mock-response-code", b"X-Mock-Response-Code", b"X-MOCK-RESPONSE-CODE"])
def test_names_are_found_in_any_case_before_and_after_decoding(name: bytes) -> None:
    wanted = frozenset({b"x-mock-response-code", b"prefer"})
    fresh, decoded = RequestHeaders([(b"host", b"h"), (name, b"201")]), RequestHeaders([(name, b"201")])
    assert decoded["x-mock-response-code"] == "201"
    assert fresh.names_any_of(wanted) and decoded.names_any_of(wanted)
    assert not RequestHeaders([(b"host", b"h"), (b"x-mock-other", b"1")]).names_any_of(wanted)
    assert not RequestHeaders([]).names_any_of(wanted)


def test_names_given_as_bytearrays_are_read_as_bytes_are() -> None:
    raw = [(bytearray(b"X-Mock-Response-Code"), bytearray(b"404"))]  # ASGI says bytes; any bytes-like was read before
    assert raw_names_any_of(raw, frozenset({b"x-mock-response-code"}))  # type: ignore[arg-type]
    assert RequestHeaders(raw) == {"x-mock-response-code": "404"}  # type: ignore[arg-type]


def test_a_scope_s_headers_are_listed_once_unless_they_are_a_list() -> None:
    raw = [(b"accept", b"*/*")]
    assert listed(raw) is raw
    assert listed(pair for pair in raw) == raw and listed(tuple(raw)) == raw  # a generator is read only once
