"""core/markers: the one reader of ``head; key=value``, each marker's value, an example's markers read once."""

from __future__ import annotations

import pytest

from postmock_nb.config import MAX_DELAY_MS
from postmock_nb.core import markers
from postmock_nb.core.markers import (
    NO_MARKERS,
    Flow,
    Markers,
    Step,
    check_markers,
    code_of,
    parse_delay,
    parse_fault,
    parse_resource,
    parse_scenario,
    parse_sequence,
    read_fields,
    read_markers,
    sse_markers,
)
from postmock_nb.errors import ExampleDefinitionError


def test_every_x_mock_name_is_spelled_in_markers() -> None:
    names = {value for name, value in vars(markers).items() if name.isupper() and isinstance(value, str)
             and value.startswith("x-mock-")}
    assert names == {
        "x-mock-", "x-mock-response-code", "x-mock-response-id", "x-mock-response-name",
        "x-mock-match-request-headers", "x-mock-match-request-body", "x-mock-match-request-query",
        "x-mock-response-delay", "x-mock-response-fault", "x-mock-example-id", "x-mock-example-name",
        "x-mock-score", "x-mock-handler", "x-mock-resource", "x-mock-scenario", "x-mock-sequence",
        "x-mock-delay", "x-mock-fault", "x-mock-sse", "x-mock-interval", "x-mock-callback", "x-mock-callback-body",
        "x-mock-websocket", "x-mock-repeat", "x-mock-timeout", "x-mock-base-path", "x-mock-openapi"}
    assert markers.CODE_MARKERS == {"x-mock-handler", "x-mock-resource"}


def test_read_fields_strict_has_a_head_and_lower_case_keys() -> None:
    assert read_fields("jobs; Requires=Started ;; next = done") == ("jobs", {"requires": "Started", "next": "done"})
    assert read_fields("cycle") == ("cycle", {})


@pytest.mark.parametrize("text", ["jobs; requires", "jobs; =x", "jobs; requires= "])
def test_read_fields_strict_refuses_what_is_not_key_value(text: str) -> None:
    with pytest.raises(ExampleDefinitionError, match="expected key=value"):
        read_fields(text)


def test_read_fields_lenient_reads_a_file_as_written() -> None:
    assert read_fields("name=users; Op=get; flag; =x; id=", headed=False, strict=False) == (
        "", {"name": "users", "Op": "get", "flag": "", "id": ""})
    assert parse_resource("name=users; op=get; id=uid; max_records=5") == {
        "name": "users", "op": "get", "id": "uid", "max_records": "5"}


def test_each_marker_value() -> None:
    assert parse_scenario("jobs; requires=Started; next=done") == Step("jobs", "Started", "done")
    assert parse_scenario("jobs") == Step("jobs")
    assert parse_sequence("random; seed=7") == ("random", 7)
    assert parse_sequence("Sequential") == ("cycle", None)
    assert parse_sequence("stick") == ("stick", None)
    assert parse_delay("800") == (800, 800)
    assert parse_delay("200-900") == (200, 900)
    assert parse_fault(" Reset") == "reset"


@pytest.mark.parametrize(("parse", "text", "message"), [
    (parse_scenario, "", "cannot read the scenario"),
    (parse_scenario, "jobs; when=now", "unknown when"),
    (parse_sequence, "shuffle", "cannot read the sequence"),
    (parse_sequence, "random; seed=x", "cannot read the sequence"),
    (parse_delay, "soon", "cannot read the delay"),
    (parse_delay, "900-200", "cannot read the delay"),
    (parse_delay, str(MAX_DELAY_MS + 1), "cannot read the delay"),
])
def test_bad_marker_values_are_clear_errors(parse, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ExampleDefinitionError, match=message) as raised:
        parse(text)
    assert raised.value.hint


def test_a_bad_fault_is_a_fault_error_and_check_markers_names_the_fix() -> None:
    with pytest.raises(markers.FaultError, match="unknown fault 'boom'"):
        parse_fault("boom")
    with pytest.raises(ExampleDefinitionError, match="unknown fault") as raised:
        check_markers([("X-Mock-Fault", "boom")])
    assert "--fault reset" in (raised.value.hint or "")


def test_check_markers_checks_every_flow_marker_and_passes_good_ones() -> None:
    check_markers([("x-mock-scenario", "jobs; next=done"), ("x-mock-sequence", "cycle"), ("x-mock-delay", "5"),
                   ("x-mock-fault", "reset"), ("x-mock-resource", "anything"), ("Accept", "x")])
    for name in ("x-mock-scenario", "X-Mock-Sequence", "x-mock-delay"):
        with pytest.raises(ExampleDefinitionError):
            check_markers([(name, "")])


def test_read_markers_reads_every_marker() -> None:
    found = read_markers([
        ("Accept", "json"), ("X-Mock-Match-Request-Headers", "X-Role, accept"),
        ("x-mock-match-request-body", "contains"), ("x-mock-match-request-query", "Contains"),
        ("x-mock-resource", "name=users; op=get; id=id"), ("x-mock-handler", "later"),
        ("x-mock-scenario", "jobs; requires=Started; next=done"), ("x-mock-sequence", "random; seed=3"),
        ("x-mock-delay", "10-20"), ("x-mock-fault", "slow")])
    assert found == Markers(
        code=("resource", "name=users; op=get; id=id"), resource={"name": "users", "op": "get", "id": "id"},
        flow=Flow(Step("jobs", "Started", "done"), "random", 3, (10, 20), "slow"),
        required_headers=("x-role", "accept"), require_body=True, body_contains=True, query_contains=True,
        runs_code=True)
    assert found.handler is None
    handler = read_markers([("x-mock-handler", "greet")])
    assert handler.handler == "greet" and handler.runs_code and handler.resource is None and handler.flow is None
    both = [("X-Mock-Handler", "greet"), ("x-mock-resource", "name=users; op=get")]
    assert code_of(both) == read_markers(both).code == ("handler", "greet")
    assert code_of([("Accept", "json")]) is None


def test_read_markers_leaves_out_what_it_cannot_read_and_keeps_the_last_readable() -> None:
    found = read_markers([("x-mock-delay", "5"), ("x-mock-delay", "never"), ("x-mock-scenario", ""),
                          ("x-mock-fault", "boom"), ("x-mock-match-request-body", "true"),
                          ("x-mock-match-request-body", "false")])
    assert found.flow == Flow(delay=(5, 5))
    assert not found.require_body  # the last switch counts
    assert read_markers([("x-mock-delay", "never")]).flow is None
    assert read_markers([("Accept", "json")]) is NO_MARKERS


def test_an_sse_example_has_its_interval_and_only_true_turns_it_on() -> None:
    assert read_markers([("X-Mock-SSE", "true"), ("x-mock-interval", "250")]).sse == 250
    assert read_markers([("x-mock-sse", "TRUE")]).sse == 0
    assert read_markers([("x-mock-sse", "true"), ("x-mock-interval", "soon")]).sse == 0  # a file is served as saved
    assert read_markers([("x-mock-sse", "false"), ("x-mock-interval", "250")]).sse is None


def test_sse_markers_of_the_cell_options_are_checked() -> None:
    assert sse_markers(sse=False) == []
    assert sse_markers(sse=True) == ["x-mock-sse: true"]
    assert sse_markers(sse=True, interval=" 40") == ["x-mock-sse: true", "x-mock-interval: 40"]
    with pytest.raises(ExampleDefinitionError, match="--interval needs --sse"):
        sse_markers(sse=False, interval="40")
    for bad in ("-1", "1.5", str(MAX_DELAY_MS + 1)):
        with pytest.raises(ExampleDefinitionError, match="interval"):
            sse_markers(sse=True, interval=bad)
    with pytest.raises(ExampleDefinitionError, match="interval"):
        check_markers([("x-mock-interval", "x")])


def test_a_callback_marker_is_read_with_its_body_and_delay() -> None:
    found = read_markers([("x-mock-callback", "post {{$body 'callback_url'}}; delay=2000"),
                          ("x-mock-callback-body", '{"status": "settled"}')])
    assert found.callback == markers.CallbackMarker("POST", "{{$body 'callback_url'}}", '{"status": "settled"}', 2000)
    assert markers.parse_callback("PUT http://127.0.0.1:9/x") == markers.CallbackMarker("PUT", "http://127.0.0.1:9/x")
    assert read_markers([("x-mock-callback", "POST nowhere")]).callback is None  # left out, served as saved
    assert read_markers([("x-mock-callback-body", "{}")]).callback is None
    for bad in ["POST", "BREW http://localhost/", "POST http://localhost/; delay=soon", "POST /relative",
                "POST http://localhost/; delay=600001", "POST http://localhost/; every=2"]:
        with pytest.raises(ExampleDefinitionError):
            check_markers([("X-Mock-Callback", bad)])
    check_markers([("x-mock-callback", "POST http://localhost/hook; delay=10")])
    assert markers.parse_callback("POST http://localhost/x; retries=3; delay=5").retries == 3
    for bad in ["POST http://localhost/; retries=6", "POST http://localhost/; retries=-1"]:
        with pytest.raises(ExampleDefinitionError):
            check_markers([("x-mock-callback", bad)])


def test_websocket_markers_are_written_and_read_back() -> None:
    from postmock_nb.core.markers import read_markers, websocket_markers

    lines = websocket_markers(interval="250", repeat=True)
    assert lines == ["x-mock-websocket: true", "x-mock-interval: 250", "x-mock-repeat: true"]
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines]
    assert read_markers(headers).websocket == (250, True, None)  # type: ignore[arg-type]
    assert read_markers([("x-mock-websocket", "true")]).websocket == (0, False, None)
    assert read_markers([("x-mock-sse", "true")]).websocket is None


def test_a_websocket_scripts_timeout_is_written_checked_and_read_back() -> None:
    from postmock_nb.core.markers import parse_timeout, read_markers, websocket_markers

    assert websocket_markers(timeout="2.5") == ["x-mock-websocket: true", "x-mock-timeout: 2.5"]
    assert read_markers([("x-mock-websocket", "true"), ("X-Mock-Timeout", "0.5")]).websocket == (0, False, 0.5)
    assert read_markers([("x-mock-websocket", "true"), ("x-mock-timeout", "soon")]).websocket == (0, False, None)
    assert parse_timeout(" 3600 ") == 3600.0
    for bad in ["0", "-1", "soon", "nan", "inf", "3601", ""]:
        with pytest.raises(ExampleDefinitionError, match="cannot read the timeout"):
            websocket_markers(timeout=bad or " ")
        with pytest.raises(ExampleDefinitionError):
            check_markers([("x-mock-timeout", bad)])


@pytest.mark.parametrize(("text", "base"), [("/v1", "/v1"), ("v1/", "/v1"), (" /api/v3 ", "/api/v3"), ("/", ""),
                                            ("", "")])
def test_the_base_path_marker_reads_one_leading_slash_and_no_trailing_one(text: str, base: str) -> None:
    assert read_markers([("X-Mock-Base-Path", text)]).base_path == base


def test_the_openapi_marker_gives_the_media_type_and_the_example_key() -> None:
    media = "#/paths/~1pets~1{petId}/get/responses/200/content/application~1json"
    named = markers.read_markers([("x-mock-openapi", media + "/examples/a~1b")]).openapi
    assert named == markers.OpenApiSource(media, "a/b")
    assert named.schema == media + "/schema" and named.pointer == media + "/examples/a~1b"
    plain = markers.read_markers([("X-Mock-OpenAPI", media)]).openapi
    assert plain == markers.OpenApiSource(media) and plain.key == ""
    assert markers.read_markers([("x-mock-openapi", "not a pointer")]).openapi is None
