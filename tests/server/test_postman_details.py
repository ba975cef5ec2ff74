"""Postman details checked against a real mock on a real 127.0.0.1 socket (issue 13, section 4).

Each test sends what a Postman user sends and checks the answer Postman's docs describe.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests
from IPython.core.interactiveshell import InteractiveShell

from postmock_nb.core.model import Collection
from postmock_nb.serving.server import MockServer

TIMEOUT = 5


def serve(collection: Collection, **options) -> MockServer:
    return MockServer(collection, **options)


def picked(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.headers.get("x-mock-example-name", "(no example)")


def test_response_id_in_postmans_uid_form_and_bare(build) -> None:
    collection = build.collection(
        build.example("GET /users", "list", body="[]", id="1f0c-list"),
        build.example("GET /users", "empty", body="[]", id="9a2b-empty"))
    with serve(collection) as mock:
        for wanted in ("9a2b-empty", "12345678-9a2b-empty"):
            response = requests.get(mock.url + "/users", headers={"x-mock-response-id": wanted}, timeout=TIMEOUT)
            assert picked(response) == (200, "empty"), wanted
        # a prefix that is not a user id is not stripped: no example has that id
        response = requests.get(mock.url + "/users", headers={"x-mock-response-id": "abc-9a2b-empty"}, timeout=TIMEOUT)
        assert response.status_code == 404, response.text


def test_body_helper_reads_an_escaped_dot_as_part_of_a_key(build) -> None:
    collection = build.collection(build.example(
        "POST /echo", "echo", body="""{"dotted": "{{$body 'a\\.a.b'}}", "nested": "{{$body 'a.c'}}"}""",
        headers={"Content-Type": "application/json"}))
    with serve(collection) as mock:
        response = requests.post(mock.url + "/echo", json={"a.a": {"b": "key with a dot"}, "a": {"c": "nested"}},
                                 timeout=TIMEOUT)
    assert response.json() == {"dotted": "key with a dot", "nested": "nested"}, response.text


def test_header_values_compare_ignoring_case_and_the_exact_one_wins(build) -> None:
    collection = build.collection(
        build.example("GET /env", "lower", body="lower", request_headers={"X-Env": "staging"}),
        build.example("GET /env", "upper", body="upper", request_headers={"X-Env": "STAGING"}))
    with serve(collection, match_headers=("x-env",)) as mock:
        exact = requests.get(mock.url + "/env", headers={"X-Env": "STAGING"}, timeout=TIMEOUT)
        other = requests.get(mock.url + "/env", headers={"X-Env": "Staging"}, timeout=TIMEOUT)
    assert picked(exact) == (200, "upper")
    assert picked(other) == (200, "lower")  # both equal ignoring case (+5): the first defined
    assert exact.headers["x-mock-score"] == "110" and other.headers["x-mock-score"] == "105"


def test_saved_path_variable_value_is_matched_and_an_unsaved_one_matches_any_segment(build) -> None:
    saved = build.example("GET /products/:productId", "saved", body="sku-1")
    saved = replace(saved, request=replace(saved.request, path_variables=(("productId", "sku-1"),)))
    loose = build.example("GET /items/:itemId", "loose", body="any")
    loose = replace(loose, request=replace(loose.request, path_variables=(("itemId", ""),)))
    typed = build.example("GET /orders/:orderId", "typed", body="typed")  # Postman's OpenAPI import saves <long>
    typed = replace(typed, request=replace(typed.request, path_variables=(("orderId", "<long>"),)))
    with serve(build.collection(saved, loose, typed)) as mock:
        assert picked(requests.get(mock.url + "/orders/31", timeout=TIMEOUT)) == (200, "typed")
        exact = requests.get(mock.url + "/products/sku-1", timeout=TIMEOUT)
        assert (*picked(exact), exact.headers["x-mock-score"]) == (200, "saved", "100")  # the exact path
        # another segment is not the saved value (sku-2 would still fit by edit distance, as any near path)
        assert requests.get(mock.url + "/products/blue-mug", timeout=TIMEOUT).status_code == 404
        assert picked(requests.get(mock.url + "/items/anything", timeout=TIMEOUT)) == (200, "loose")


def test_match_header_absent_on_both_sides_does_not_rule_an_example_out(build) -> None:
    collection = build.collection(
        build.example("GET /config", "staging", body="staging", request_headers={"X-Env": "staging"}),
        build.example("GET /config", "default", body="default"))
    with serve(collection, match_headers=("x-env",)) as mock:
        plain = requests.get(mock.url + "/config", timeout=TIMEOUT)
        staging = requests.get(mock.url + "/config", headers={"X-Env": "staging"}, timeout=TIMEOUT)
        other = requests.get(mock.url + "/config", headers={"X-Env": "prod"}, timeout=TIMEOUT)
    assert picked(plain) == (200, "default")
    assert picked(staging) == (200, "staging")
    assert other.status_code == 404, other.text  # one side has it: still compared


def test_utf8_response_name_sent_as_a_header_is_matched(build) -> None:
    collection = build.collection(build.example("GET /menu", "Plat du jour", body="plain"),
                                  build.example("GET /menu", "Café crème", body="café"))
    with serve(collection) as mock:
        response = requests.get(mock.url + "/menu", headers={"x-mock-response-name": "Café crème".encode()},
                                timeout=TIMEOUT)
        assert (response.status_code, response.text) == (200, "café")
        by_query = requests.get(mock.url + "/menu", params={"x-mock-response-name": "Café crème"}, timeout=TIMEOUT)
        assert by_query.text == "café"



def test_example_body_with_unquoted_placeholders_is_accepted_and_served_as_json(shell: InteractiveShell) -> None:
    shell.run_cell_magic("example", "GET /users/:userId 200", '{"id": {{userId}}, "name": "{{$body \'n\' \'Ann\'}}"}')
    shell.run_line_magic("mock", "start --no-dashboard")
    response = requests.get(shell.user_ns["mockUrl"] + "/users/7", timeout=TIMEOUT)
    assert response.json() == {"id": 7, "name": "Ann"}, response.text


def test_example_body_still_invalid_once_filled_is_refused(shell: InteractiveShell) -> None:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="not valid JSON"):
        shell.run_cell_magic("example", "GET /users/:userId 200", '{"id": {{userId}},}')


def test_example_request_section_asks_for_a_body_that_contains_its_fields(shell: InteractiveShell) -> None:
    shell.run_cell_magic("example", "POST /orders 201 --name Order", "\n".join([
        "> Content-Type: application/json",
        "> x-mock-match-request-body: contains",
        ">",
        '> {"customer": "{{$anyString}}", "items": [{"sku": "a"}]}',
        '{"created": true}']))
    shell.run_line_magic("mock", "start --no-dashboard")
    url = shell.user_ns["mockUrl"] + "/orders"
    hit = requests.post(url, json={"customer": "ann", "items": [{"sku": "a", "qty": 2}, {"sku": "b"}], "note": "x"},
                        timeout=TIMEOUT)
    assert (hit.status_code, hit.json()) == (201, {"created": True}), hit.text
    miss = requests.post(url, json={"customer": "ann", "items": [{"sku": "b"}]}, timeout=TIMEOUT)
    assert miss.status_code == 404, miss.text
    rows = [d for c in miss.json()["diagnosis"]["closest"] for d in c["differences"] if d["part"] == "body"]
    assert rows == [{"part": "body", "name": "$.items[0].sku", "expected": '"a"', "actual": '"b"', "points": 0,
                     "note": 'expected "a", got "b"'}], miss.text


def test_mock_start_match_body_contains_applies_to_every_example(shell: InteractiveShell) -> None:
    shell.run_cell_magic("example", "POST /login 200 --name ok", '> Content-Type: application/json\n>\n> {"user": "ann"}\nok')
    shell.run_line_magic("mock", "start --no-dashboard --match-body-contains")
    url = shell.user_ns["mockUrl"] + "/login"
    assert requests.post(url, json={"user": "ann", "remember": True}, timeout=TIMEOUT).text == "ok"
    assert requests.post(url, json={"user": "bob"}, timeout=TIMEOUT).status_code == 404
