"""core/selectors.py: the ``x-mock-*`` selectors a request sends, read from its headers and query (what the app
refuses of them is in tests/unit/serving/test_reading.py)."""

from __future__ import annotations

import pytest

from postmock_nb.core import markers, selectors
from postmock_nb.core.selectors import (
    MATCH_BODY,
    MOCK_SELECTORS,
    RESPONSE_CODE,
    RESPONSE_DELAY,
    RESPONSE_NAME,
    mock_values,
    query_value,
    utf8_header,
)


def test_every_re_exported_name_is_the_markers_one() -> None:
    for name in selectors.__all__:
        if hasattr(markers, name):
            assert getattr(selectors, name) is getattr(markers, name), name
    assert {"mock_values", "query_value", "utf8_header"} <= set(selectors.__all__)
    assert all(hasattr(selectors, name) for name in selectors.__all__)


def test_mock_values_reads_headers() -> None:
    headers = {RESPONSE_CODE: "404", MATCH_BODY: "true", "accept": "*/*"}
    assert mock_values(headers, ()) == {RESPONSE_CODE: "404", MATCH_BODY: "true"}


def test_mock_values_reads_the_query_in_any_case_and_the_first_counts() -> None:
    query = [("X-Mock-Response-Code", "201"), ("x-mock-response-code", "500"), ("page", "2")]
    assert mock_values({}, query) == {RESPONSE_CODE: "201"}


def test_a_header_wins_over_a_query_parameter() -> None:
    values = mock_values({RESPONSE_CODE: "404"}, [(RESPONSE_CODE, "201"), (RESPONSE_DELAY, "10")])
    assert values == {RESPONSE_CODE: "404", RESPONSE_DELAY: "10"}


def test_only_selectors_are_read() -> None:
    sent = {name: "1" for name in ("x-mock-response-fault", "x-mock-example-id", "x-mock-other", "x-role")}
    assert mock_values(sent, list(sent.items())) == {}
    every = {name: "v" for name in MOCK_SELECTORS}
    assert mock_values(every, ()) == every


def test_the_response_name_header_is_read_as_utf8() -> None:
    as_latin1 = "Café crème".encode().decode("latin-1")  # how an ASGI server hands a UTF-8 header over
    values = mock_values({RESPONSE_NAME: as_latin1, MATCH_BODY: as_latin1}, [(RESPONSE_NAME, "ignored")])
    assert values[RESPONSE_NAME] == "Café crème"
    assert values[MATCH_BODY] == as_latin1  # other selectors are compared as sent
    assert mock_values({}, [(RESPONSE_NAME, "Café")]) == {RESPONSE_NAME: "Café"}  # a query is decoded already


@pytest.mark.parametrize("value, read", [
    ("plain", "plain"),
    ("", ""),
    ("CafÃ©", "Café"),  # UTF-8 bytes decoded as latin-1
    ("Caf\xe9", "Caf\xe9"),  # a lone latin-1 byte is not UTF-8: kept as decoded
    ("€uro", "€uro"),  # not latin-1 at all: kept
])
def test_utf8_header(value: str, read: str) -> None:
    assert utf8_header(value) == read


def test_query_value_finds_the_first_in_any_case() -> None:
    query = [("Page", "2"), ("page", "3"), ("flag", "")]
    assert query_value(query, "page") == "2"
    assert query_value(query, "flag") == ""
    assert query_value(query, "missing") is None
    assert query_value([], "page") is None


# -- Prism's conventions: Prefer and the __ query parameters -----------------------------------------

@pytest.mark.parametrize(("header", "expected"), [
    ("code=404", {"x-mock-response-code": "404"}),
    ("example=cat", {"example": "cat"}),
    ("dynamic=true", {"dynamic": "true"}),
    ("code=200, example=cat", {"x-mock-response-code": "200", "example": "cat"}),
    ("Code=200,Example=\"my cat\"", {"x-mock-response-code": "200", "example": "my cat"}),
    ("dynamic=true; strict, seed=7", {"dynamic": "true", "seed": "7"}),
    ("example=cat, example=dog", {"example": "cat"}),
    ("return=minimal, respond-async", {}),
])
def test_prefer_values_reads_prisms_preferences(header: str, expected: dict[str, str]) -> None:
    assert markers.prefer_values(header) == expected


def test_prefer_and_the_query_forms_are_selectors() -> None:
    assert mock_values({"prefer": "code=404, example=cat"}, ()) == {"x-mock-response-code": "404", "example": "cat"}
    assert mock_values({}, (("__code", "404"), ("__EXAMPLE", "cat"), ("__dynamic", "true"), ("__seed", "7"))) == {
        "x-mock-response-code": "404", "example": "cat", "dynamic": "true", "seed": "7"}


def test_a_prefer_header_hides_the_query_forms_as_in_prism() -> None:
    assert mock_values({"prefer": "example=dog"}, (("__code", "404"), ("__example", "cat"))) == {"example": "dog"}


def test_postmans_selector_wins_over_prisms() -> None:
    sent = mock_values({"x-mock-response-code": "201", "prefer": "code=404"}, (("__code", "500"),))
    assert sent == {"x-mock-response-code": "201"}


def test_the_query_forms_are_never_matched_as_parameters() -> None:
    assert {"__code", "__example", "__dynamic", "__seed", "x-mock-response-code"} <= selectors.QUERY_SELECTORS
