"""The ``%%example`` cell grammar (postmock_nb.formats.cells), in-process: the header line's parts, the request
section, the response headers and body, the line and column of every mistake, and the example a cell becomes.
Through IPython: tests/server/test_magics.py."""

from __future__ import annotations

import pytest

from postmock_nb.errors import ExampleDefinitionError
from postmock_nb.formats.cells import (
    ExampleDefinition,
    build_definition,
    check_json,
    default_name,
    parse_header,
    parse_method,
    parse_status,
    parse_target,
    split_cell,
)

CELL = """> Content-Type: application/json
> X-Trace: abc
>
> {"name": "Alice"}

Location: /users/3
X-Total-Count: 1

{"id": 3, "name": "Alice"}"""


def refusal(call, *args, **kwargs) -> ExampleDefinitionError:
    with pytest.raises(ExampleDefinitionError) as raised:
        call(*args, **kwargs)
    return raised.value


def test_parse_method_upper_cases_a_known_method_and_refuses_others() -> None:
    assert parse_method("post") == "POST"
    refused = refusal(parse_method, "FETCH")
    assert "unknown HTTP method 'FETCH'" in str(refused) and "GET" in str(refused.hint)


def test_parse_target_splits_path_and_query_and_wants_a_path_only() -> None:
    assert parse_target("/users/:id?role=admin&flag=") == ("/users/:id", (("role", "admin"), ("flag", "")))
    assert parse_target("/") == ("/", ())
    assert "not a full URL" in str(refusal(parse_target, "https://api.example.com/users"))
    assert "not a full URL" in str(refusal(parse_target, "{{baseUrl}}/users"))
    assert "must start with '/'" in str(refusal(parse_target, "users"))
    assert "must start with '/'" in str(refusal(parse_target, "/a b"))


@pytest.mark.parametrize(("value", "status"), [(None, 200), ("201", 201), ("599", 599)])
def test_parse_status(value: str | None, status: int) -> None:
    assert parse_status(value) == status


@pytest.mark.parametrize(("value", "says"), [
    ("abc", "a number from 100 to 599"), ("2000", "a number from 100 to 599"), ("99", "a number from 100 to 599"),
    ("６００", "a number from 100 to 599"), ("101", "interim (1xx)"),
])
def test_parse_status_refuses(value: str, says: str) -> None:
    assert says in str(refusal(parse_status, value))


def test_parse_header_reads_name_and_value_and_refuses_control_characters() -> None:
    assert parse_header("  X-Total-Count:  2  ", "cell line 3") == ("X-Total-Count", "2")
    assert parse_header("Empty:", "cell line 3") == ("Empty", "")
    refused = refusal(parse_header, "not a header", "cell line 4")
    assert "not a header" in str(refused) and refused.location == "cell line 4"
    assert "control character" in str(refusal(parse_header, "X-Bad: a\x00b", "--header option"))


def test_check_json_points_at_the_cell_line_and_column() -> None:
    check_json('{"a": 1}', 2, "the response body")
    check_json("plain text", 2, "the response body")  # not JSON-looking, not declared: not checked
    check_json('{"id": {{userId}}}', 2, "the response body")  # JSON once its placeholders are filled
    refused = refusal(check_json, '{\n  "a": 1,\n}', 5, "the response body")
    assert "the response body is not valid JSON" in str(refused) and refused.location == "cell line 7, column 1"
    declared = refusal(check_json, "plain", 3, "the request body", declared=True)
    assert declared.location == "cell line 3, column 1"
    assert "levels deep" in str(refusal(check_json, "[" * 5000 + "]" * 5000, 2, "the response body"))


def test_split_cell_finds_the_request_the_headers_and_the_body_with_their_lines() -> None:
    sections = split_cell(CELL)
    assert sections.request_headers == [("Content-Type", "application/json"), ("X-Trace", "abc")]
    assert sections.request_body == '{"name": "Alice"}' and sections.request_body_line == 5
    assert sections.response_headers == [("Location", "/users/3"), ("X-Total-Count", "1")]
    assert sections.body == '{"id": 3, "name": "Alice"}' and sections.body_line == 10


def test_split_cell_without_a_blank_line_is_all_body() -> None:
    sections = split_cell("Name: not a header here\n{\"a\": 1}")
    assert sections.response_headers == [] and sections.body == 'Name: not a header here\n{"a": 1}'
    assert sections.body_line == 2
    leading = split_cell("\n\n[1, 2]\n\n")
    assert leading.body == "[1, 2]" and leading.body_line == 4


def test_build_definition_of_a_whole_cell() -> None:
    definition = build_definition("post", "/users?source=web", "201", CELL, name=" Create user ",
                                  headers=["X-From-Option: yes"], folder="Users / Admin")
    assert definition == ExampleDefinition(
        method="POST", path="/users", status=201, query=(("source", "web"),), name="Create user",
        response_headers=(("X-From-Option", "yes"), ("Location", "/users/3"), ("X-Total-Count", "1"),
                          ("Content-Type", "application/json")),
        body='{"id": 3, "name": "Alice"}', request_headers=(("Content-Type", "application/json"), ("X-Trace", "abc")),
        request_body='{"name": "Alice"}', folder=("Users", "Admin"), language="json")


def test_build_definition_refuses_what_a_cell_cannot_say() -> None:
    assert "a 204 response has no body" in str(refusal(build_definition, "DELETE", "/users/1", "204", "gone"))
    assert "the --name is empty" in str(refusal(build_definition, "GET", "/a", None, "", name="   "))
    assert "cannot read the delay" in str(refusal(build_definition, "GET", "/a", None, "",
                                                  request_headers=["x-mock-delay: soon"]))
    bad_json = refusal(build_definition, "GET", "/a", None, 'X-A: 1\n\n{"a": }')
    assert bad_json.location == "cell line 4, column 7"


def test_a_text_body_gets_no_json_type_and_no_language() -> None:
    definition = build_definition("GET", "/hello", None, "Hello, world")
    assert definition.response_headers == () and definition.language == "" and definition.status == 200


def test_default_name_and_display_name() -> None:
    assert default_name("GET", "/users", (("role", "admin"),), 200) == "GET /users?role=admin 200"
    assert ExampleDefinition(method="GET", path="/users").display_name == "GET /users 200"
    assert ExampleDefinition(method="GET", path="/users", name="List").display_name == "List"


def test_to_example_marks_the_request_parts_that_must_match() -> None:
    example = build_definition("POST", "/users", "201", CELL, name="Create").to_example("fixed-id")
    assert example.id == "fixed-id" and example.name == "Create"
    assert example.request.headers == (("Content-Type", "application/json"), ("X-Trace", "abc"),
                                       ("x-mock-match-request-headers", "Content-Type,X-Trace"),
                                       ("x-mock-match-request-body", "true"))
    assert example.request.body_language == "json" and example.response.reason == "Created"
    assert example.response.preview_language == "json"
    own = build_definition("POST", "/users", None, "> x-mock-match-request-body: contains\n>\n> {\"a\": 1}\n\nok")
    assert own.to_example().request.headers == (("x-mock-match-request-body", "contains"),)  # its own marker kept
    assert build_definition("GET", "/a", None, "").to_example().id != build_definition("GET", "/a", None, "").to_example().id


def test_an_sse_cell_is_its_body_alone() -> None:
    """``data: hi`` looks like a header line: in a stream's cell (``x-mock-sse: true``) it is an event's."""
    cell = "event: token\ndata: hi\n\ndata: bye"
    streamed = build_definition("GET", "/chat", None, cell, request_headers=["x-mock-sse: true"])
    assert streamed.body == cell and streamed.response_headers == ()
    assert build_definition("GET", "/chat", None, cell).response_headers == (("event", "token"), ("data", "hi"))


def test_a_websocket_script_cell_is_its_body_whole() -> None:
    from postmock_nb.formats.cells import build_definition

    cell = '> {"subscribe": "ACME"}\n< {"price": 1}'
    definition = build_definition("GET", "/ws/prices", "200", cell, request_headers=["x-mock-websocket: true"])
    assert definition.body == cell and definition.request_headers == (("x-mock-websocket", "true"),)  # the ">" line is the script's, not a request's
