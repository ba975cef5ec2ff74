"""What may go on the wire (postmock_nb.core.wire): header names and values, labels, statuses, framing, and the
list of changes an example gets before it is sent; the header sets, each written once, and what the proxy, the
recorder and masking make of them. Pure: bytes in, bytes out."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from postmock_nb.bridges.proxy import forwardable
from postmock_nb.bridges.recording import clean_request_headers, clean_response_headers
from postmock_nb.core import masking, wire
from postmock_nb.core.model import Example, RequestSpec, ResponseSpec


def example(name: str = "Get user", *, status: int = 200, headers: tuple[tuple[str, str], ...] = (),
            body: str = "", id: str = "e1") -> Example:
    return Example(name=name, request=RequestSpec(method="GET", path="/users/1"),
                   response=ResponseSpec(status=status, headers=headers, body=body), id=id)


def test_request_headers_are_text_by_lower_case_name_and_repeats_are_joined() -> None:
    assert wire.request_headers([(b"Accept", b"a/b"), (b"X-Id", b"7")]) == {"accept": "a/b", "x-id": "7"}
    joined = wire.request_headers([(b"Accept", b"a/b"), (b"accept", b"c/d"), (b"X-Id", b"\xe9")])
    assert joined == {"accept": "a/b, c/d", "x-id": "é"}  # Latin-1, as ASGI servers pass bytes


@pytest.mark.parametrize(("name", "token"), [
    ("Content-Type", True), ("x-mock-response-name", True), ("a!#$%&'*+-.^_`|~9", True),
    ("", False), ("with space", False), ("colon:", False), ("naïve", False), ("tab\t", False),
])
def test_is_token(name: str, token: bool) -> None:
    assert wire.is_token(name) is token


@pytest.mark.parametrize(("value", "control"), [
    ("plain", False), ("tab\tis fine", False), ("cr\r", True), ("lf\n", True), ("nul\x00", True), ("del\x7f", True),
])
def test_has_control_spares_the_tab_only(value: str, control: bool) -> None:
    assert wire.has_control(value) is control


def test_header_value_keeps_latin1_and_percent_encodes_the_rest() -> None:
    assert wire.header_value("  café \t") == "café".encode("latin-1")  # stripped of spaces and tabs
    encoded = wire.header_value("emoji 🙂")
    assert encoded.isascii() and unquote(encoded.decode("ascii")) == "emoji 🙂"


def test_label_is_sent_as_it_is_when_it_can_be_else_percent_encoded() -> None:
    assert wire.label("Admin user") == b"Admin user"
    for value in ("a\r\nb", " padded ", "x\x00y"):
        sent = wire.label(value)
        assert sent.isascii() and not wire.has_control(sent.decode("ascii"))
        assert unquote(sent.decode("ascii")) == value  # a client gets it back with unquote


def test_shorten_cuts_a_long_repr_with_an_ellipsis() -> None:
    assert wire.shorten("abc") == "'abc'"
    cut = wire.shorten("x" * 100, width=20)
    assert len(cut) == 20 and cut.endswith("…") and cut.startswith("'xxx")


def test_header_problem_names_a_bad_name_or_a_control_character() -> None:
    assert wire.header_problem("X-Ok", "fine") == ""
    assert "its name is not an HTTP token" in wire.header_problem("Bad Name", "v")
    assert "holds a control character" in wire.header_problem("X-Bad", "a\nb")


def test_saved_headers_skip_computed_and_content_type_and_drop_unsendable_ones() -> None:
    pairs = [("Content-Length", "3"), ("Date", "then"), ("Content-Type", "text/plain"), ("Bad Name", "v"),
             ("X-Split", "a\r\nb"), ("X-Kept", " yes "), ("Location", "/users/1")]
    assert wire.saved_headers(pairs) == [(b"x-kept", b"yes"), (b"location", b"/users/1")]


def test_echoed_headers_refuse_a_control_character_the_request_brought() -> None:
    templates = (("Location", "/users/{{id}}"), ("X-Bad", "saved\nbroken"))
    sent = wire.echoed_headers([("Location", "/users/7"), ("X-Bad", "saved\nbroken")], templates)
    assert sent == [(b"location", b"/users/7")]  # the template's own control character: dropped as saved
    with pytest.raises(wire.UnsafeEcho) as raised:
        wire.echoed_headers([("Location", "/users/7\r\nSet-Cookie: x"), ("X-Bad", "saved\nbroken")], templates)
    assert raised.value.header == "Location" and "control character" in str(raised.value)


def test_content_type_with_a_control_character_falls_back_to_text_plain() -> None:
    assert wire.content_type_value("application/json") == b"application/json"
    assert wire.content_type_value("text/html\r\nX: y") == b"text/plain; charset=utf-8"


@pytest.mark.parametrize(("status", "problem"), [
    (200, ""), (599, ""), (101, "interim (1xx)"), (199, "interim (1xx)"), (600, "not an HTTP status"),
    (99, "not an HTTP status"),
])
def test_status_problem(status: int, problem: str) -> None:
    found = wire.status_problem(status)
    assert (problem in found and found != "") if problem else found == ""


def test_a_1xx_example_is_left_out() -> None:
    assert wire.left_out(example(status=101)) and not wire.left_out(example(status=200))


def test_frame_sets_content_length_and_follows_the_no_body_statuses() -> None:
    headers = [(b"x-a", b"1")]
    assert wire.frame(200, headers, b"hello", "GET") == ([(b"x-a", b"1"), (b"content-length", b"5")], b"hello")
    assert wire.frame(200, headers, b"hello", "HEAD") == ([(b"x-a", b"1"), (b"content-length", b"5")], b"")
    assert wire.frame(204, [(b"content-length", b"5"), (b"x-a", b"1")], b"body", "GET") == ([(b"x-a", b"1")], b"")
    assert wire.frame(304, headers, b"body", "GET") == (headers, b"")
    assert wire.frame(205, headers, b"body", "GET") == ([(b"x-a", b"1"), (b"content-length", b"0")], b"")


def test_example_changes_list_what_is_changed_and_describe_it() -> None:
    assert wire.example_changes(example(headers=(("X-Ok", "1"),), body="{}")) == []
    changed = example("line\nbreak", status=204, body="dropped",
                      headers=(("Content-Type", "a\rb"), ("Bad Name", "v")))
    whats = [change.what for change in wire.example_changes(changed)]
    assert whats == ["its name is sent percent-encoded in x-mock-example-name",
                     "its Content-Type holds a control character: sent as text/plain",
                     "header 'Bad Name' is dropped: its name is not an HTTP token",
                     "its body is not sent: a 204 response has none"]
    assert wire.example_changes(changed)[0].describe().startswith('"line\\nbreak" (GET /users/1): its name')
    interim = wire.example_changes(example(status=103))
    assert [c.what.split(":")[0] for c in interim] == ["left out (not served)"]


def test_collection_changes_are_every_examples_changes_in_order() -> None:
    first, second = example("a\nb", id="1"), example(status=101, id="2")
    assert wire.collection_changes([first, example(id="3"), second]) == \
        wire.example_changes(first) + wire.example_changes(second)



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
