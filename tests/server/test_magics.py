"""%%example and %mock through a real IPython InteractiveShell (run_cell_magic / run_cell)."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
import requests
import yaml
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from support.waiting import wait_until

from postmock_nb.notebook.magics import SUBCOMMANDS, start_help
from postmock_nb.notebook.magics import session_of as loaded_session
from postmock_nb.session import Session


def session_of(ip: InteractiveShell) -> Session:
    session = loaded_session(ip)
    assert session is not None, "the extension is not loaded"
    return session


def example(ip: InteractiveShell, line: str, cell: str = "") -> None:
    if cell:
        ip.run_cell_magic("example", line, cell)
    else:
        ip.run_line_magic("example", line)


def mock(ip: InteractiveShell, line: str):
    return ip.run_line_magic("mock", line)


def run_cell(ip: InteractiveShell, source: str, cell_id: str | None = None):
    """Run a whole cell the way the kernel does, so cell ids and %% parsing are real."""
    result = ip.run_cell(source, cell_id=cell_id)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return result.result


# -- defining examples -------------------------------------------------------------------------


def test_defined_example_is_served_over_http(shell: InteractiveShell, capsys: pytest.CaptureFixture) -> None:
    example(shell, "GET /users 200", 'X-Total-Count: 2\n\n[{"id": 1, "name": "Alice Park"}, {"id": 2, "name": "Ben Carter"}]')
    mock(shell, "start --no-dashboard")
    url = shell.user_ns["mockUrl"]
    response = requests.get(url + "/users", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Total-Count"] == "2"
    assert [u["name"] for u in response.json()] == ["Alice Park", "Ben Carter"]
    assert "Mock running at " + url in capsys.readouterr().out


def test_rerunning_a_cell_replaces_its_example_and_serves_it_live(shell: InteractiveShell) -> None:
    mock(shell, "start --no-dashboard")
    url = shell.user_ns["mockUrl"]
    run_cell(shell, '%%example GET /users 200 --name "List users"\n[{"id": 1}]', cell_id="cell-a")
    assert requests.get(url + "/users", timeout=5).json() == [{"id": 1}]
    run_cell(shell, '%%example GET /users 200 --name "List users"\n[{"id": 1}, {"id": 2}]', cell_id="cell-a")
    assert requests.get(url + "/users", timeout=5).json() == [{"id": 1}, {"id": 2}]
    # the cell is edited further: another path and name, still the same cell → still one example
    run_cell(shell, '%%example GET /people 200 --name "List people"\n[]', cell_id="cell-a")
    examples = session_of(shell).store.collection.examples
    assert [(e.name, e.request.path) for e in examples] == [("List people", "/people")]
    assert requests.get(url + "/users", timeout=5).status_code == 404


def test_rerun_without_cell_ids_replaces_by_name(shell: InteractiveShell) -> None:
    for body in ('{"v": 1}', '{"v": 2}', '{"v": 3}'):
        example(shell, "GET /version 200", body)
    examples = session_of(shell).store.collection.examples
    assert len(examples) == 1, [e.name for e in examples]
    assert json.loads(examples[0].response.body) == {"v": 3}


def test_query_path_variables_and_status(shell: InteractiveShell) -> None:
    example(shell, "GET /users?role=admin 200 --name Admins", '[{"id": 1, "role": "admin"}]')
    example(shell, "GET /users?role=editor 200 --name Editors", '[{"id": 2, "role": "editor"}]')
    example(shell, "GET /users/:id 200 --name User", '{"id": "{{id}}"}')
    example(shell, "GET /users/:id 404 --name Missing", '{"error": "User not found"}')
    mock(shell, "start --no-dashboard")
    url = shell.user_ns["mockUrl"]
    assert requests.get(url + "/users?role=editor", timeout=5).json()[0]["role"] == "editor"
    assert requests.get(url + "/users?role=admin", timeout=5).json()[0]["role"] == "admin"
    assert requests.get(url + "/users/7", timeout=5).json() == {"id": "7"}
    missing = requests.get(url + "/users/7", headers={"x-mock-response-code": "404"}, timeout=5)
    assert (missing.status_code, missing.json()) == (404, {"error": "User not found"})
    by_name = requests.get(url + "/users/7?x-mock-response-name=Missing", timeout=5)
    assert by_name.status_code == 404


def test_request_section_requires_headers_and_body(shell: InteractiveShell) -> None:
    example(shell, "POST /users 201 --name Created",
            '> Content-Type: application/json\n>\n> {"name": "Alice"}\nLocation: /users/3\n\n{"id": 3, "name": "Alice"}')
    example(shell, "POST /users 400 --name Invalid", '{"error": "name is required"}')
    mock(shell, "start --no-dashboard")
    url = shell.user_ns["mockUrl"]
    created = requests.post(url + "/users", json={"name": "Alice"}, timeout=5)
    assert created.status_code == 201 and created.headers["Location"] == "/users/3"
    other = requests.post(url + "/users", json={"name": "Bob"}, timeout=5)
    assert other.status_code == 400, "a different body must not match the Created example"


def test_response_header_options_and_folders(shell: InteractiveShell) -> None:
    example(shell, 'GET /health 200 -H "Cache-Control: no-store" -H "X-Env: demo" --folder Ops/Checks', "ok")
    collection = session_of(shell).store.collection
    (item,) = collection.items
    assert item.folder == ("Ops", "Checks")
    assert ("Cache-Control", "no-store") in item.examples[0].response.headers
    mock(shell, "start --no-dashboard")
    response = requests.get(shell.user_ns["mockUrl"] + "/health", timeout=5)
    assert response.text == "ok" and response.headers["X-Env"] == "demo"
    assert response.headers["Content-Type"].startswith("text/plain")


def test_line_form_defines_an_example_without_body(shell: InteractiveShell) -> None:
    example(shell, "DELETE /users/:id 204")
    mock(shell, "start --no-dashboard")
    response = requests.delete(shell.user_ns["mockUrl"] + "/users/3", timeout=5)
    assert (response.status_code, response.content) == (204, b"")


# -- %mock subcommands --------------------------------------------------------------------------


def test_list_delete_clear(shell: InteractiveShell) -> None:
    example(shell, "GET /a 200", "a")
    example(shell, "GET /b 200 --name Bee", "b")
    table = mock(shell, "list")
    assert [row["name"] for row in table.rows] == ["GET /a 200", "Bee"]
    assert "Bee" in repr(table) and "<table>" in table._repr_html_()
    mock(shell, "delete Bee")
    assert [e.name for e in session_of(shell).store.collection.examples] == ["GET /a 200"]
    mock(shell, "clear")
    assert session_of(shell).store.collection.examples == ()


def test_status_key_call_and_log(shell: InteractiveShell, capsys: pytest.CaptureFixture) -> None:
    example(shell, "GET /users 200", '[{"id": 1}]')
    mock(shell, "status")
    assert "stopped" in capsys.readouterr().out
    mock(shell, "start --private --no-dashboard")
    out = capsys.readouterr().out
    key = mock(shell, "key")
    assert key.startswith("PMAK-") and key not in out, "the key is shown masked on start"
    assert key[:9] in out
    url = shell.user_ns["mockUrl"]
    assert requests.get(url + "/users", timeout=5).status_code == 401
    mock(shell, "call GET /users")  # the key is added for us
    out = capsys.readouterr().out
    assert out.startswith("200 OK") and 'example "GET /users 200"' in out and '"id": 1' in out
    mock(shell, "call GET /nowhere")
    assert "no example matched" in capsys.readouterr().out
    mock(shell, "status")
    out = capsys.readouterr().out
    assert "private" in out and "3 requests" in out and "1 miss," in out
    log = mock(shell, "log --unmatched")
    assert [e.url for e in log.entries] == ["/nowhere"]
    assert "No example matched GET /nowhere" in repr(log)


def test_status_counts_the_open_websockets(shell: InteractiveShell, capsys: pytest.CaptureFixture) -> None:
    from websockets.sync.client import connect  # deferred: only this test holds a socket

    shell.run_cell_magic("websocket", "/ws/ticks", "< tick")
    mock(shell, "start --no-dashboard")
    url = shell.user_ns["mockUrl"].replace("http", "ws", 1)
    with connect(url + "/ws/ticks", open_timeout=5) as first, connect(url + "/ws/ticks", open_timeout=5) as second:
        assert first.recv(timeout=5) == second.recv(timeout=5) == "tick"
        capsys.readouterr()
        mock(shell, "status")
        assert "WebSocket connections open: 2 (/ws/ticks: 2)" in capsys.readouterr().out


def test_save_and_load_round_trip(shell: InteractiveShell, tmp_path: Path, capsys) -> None:
    example(shell, "GET /users/:id 404 --name Missing --folder Users", '{"error": "User not found"}')
    target = tmp_path / "users.json"
    mock(shell, f"save {target}")
    saved = json.loads(target.read_text())
    assert saved["info"]["schema"].endswith("v2.1.0/collection.json")
    mock(shell, "clear")
    mock(shell, f"load {target}")
    (loaded,) = session_of(shell).store.collection.examples
    assert (loaded.name, loaded.request.path, loaded.response.status) == ("Missing", "/users/:id", 404)
    assert "Missing" in capsys.readouterr().out


def test_save_openapi_writes_a_document_load_reads_back(shell: InteractiveShell, tmp_path: Path, capsys) -> None:
    example(shell, "GET /users/:id 200 --name Found", '{"id": 7, "email": "ada@example.com"}')
    example(shell, "GET /users/:id 404 --name Missing", '{"error": "User not found"}')
    target = tmp_path / "users.yaml"
    mock(shell, f"save {target} --openapi")
    assert f"Saved 2 examples to {target} (OpenAPI 3.1)." in capsys.readouterr().out
    document = yaml.safe_load(target.read_text())
    assert document["openapi"] == "3.1.0" and list(document["paths"]["/users/{id}"]["get"]["responses"]) == ["200", "404"]
    schema = document["paths"]["/users/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["email"] == {"type": "string", "format": "email"}
    mock(shell, "clear")
    mock(shell, f"load {target}")
    loaded = sorted((e.name, e.request.path, e.response.status) for e in session_of(shell).store.collection.examples)
    assert loaded == [("Found", "/users/:id", 200), ("Missing", "/users/:id", 404)]


def test_help_is_real(shell: InteractiveShell) -> None:
    magics = shell.magics_manager.registry["PostmockMagics"]
    assert "--name" in magics.example.__doc__ and "cell body is the response" in magics.example.__doc__
    assert {sub for sub in SUBCOMMANDS if f"%mock {sub}" not in magics.mock.__doc__} == set()  # %mock? lists them all
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", start_help())) - {"--help"}
    assert {flag for flag in flags if flag not in magics.mock.__doc__} == set()  # %mock? names every start option


def test_config_traitlets(shell: InteractiveShell) -> None:
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    shell.run_line_magic("config", f"PostmockMagics.default_port = {port}")
    try:
        mock(shell, "start --no-dashboard")
        assert shell.user_ns["mockUrl"] == f"http://127.0.0.1:{port}"
    finally:
        shell.run_line_magic("config", "PostmockMagics.default_port = 0")


def test_reload_ext_stops_the_server(shell: InteractiveShell) -> None:
    mock(shell, "start --no-dashboard")
    server = session_of(shell).server
    shell.run_line_magic("reload_ext", "postmock_nb")
    assert not server.running
    assert "mockUrl" not in shell.user_ns


def test_server_thread_errors_reach_the_next_magic(shell: InteractiveShell, capsys, monkeypatch) -> None:
    example(shell, "GET /boom 200", "x")
    mock(shell, "start --no-dashboard")

    def explode(*args, **kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr("postmock_nb.serving.app.build_response", explode)
    response = requests.get(shell.user_ns["mockUrl"] + "/boom", timeout=5)
    assert response.status_code == 500
    capsys.readouterr()
    mock(shell, "status")
    err = capsys.readouterr().err
    assert "the mock server reported 1 new error" in err and "template exploded" in err
    assert "Traceback" not in err, "summarised, not dumped"
    mock(shell, "status")
    assert "template exploded" not in capsys.readouterr().err, "each error is reported once"


# -- mistakes: a clear UsageError and nothing changed ------------------------------------------------

EXAMPLE_MISTAKES = [
    ("FETCH /users", "[]", "unknown HTTP method 'FETCH'"),
    ("GET /users 999", "[]", "the status must be a number from 100 to 599, got '999'"),
    ("GET /users 99", "[]", "got '99'"),
    ("GET /users abc", "[]", "got 'abc'"),
    ("GET users", "[]", "the path must start with '/'"),
    ("GET /us ers", "[]", "got 'ers'"),
    ("GET /users#top", "[]", "the path must start with '/' and have no spaces"),
    ("GET http://api.example.com/users", "[]", "give only the path, not a full URL"),
    ("GET {{baseUrl}}/users", "[]", "give only the path, not a full URL"),
    ("GET /users 200 --bogus", "[]", "unrecognized arguments: --bogus"),
    ("GET /users 200 extra", "[]", "unrecognized arguments: extra"),
    ("GET", "[]", "the following arguments are required: path"),
    ('GET /users 200 --name "unclosed', "[]", "cannot read the line"),
    ("GET /users 200 --name '   '", "[]", "the --name is empty"),
    ("GET /users", '{"a": }', "cell line 2, column 7: the response body is not valid JSON"),
    ("GET /users", 'X-A: 1\n\n[1, 2,, 3]', "cell line 4, column 7: the response body is not valid JSON"),
    ("GET /users", '{"a": 1,}', "the response body is not valid JSON"),
    ("GET /users", "Content-Type: application/json\n\nnot json", "cell line 4, column 1: the response body is not valid JSON"),
    ("GET /users -H NoColon", "[]", "--header option: not a header ('Name: value'): 'NoColon'"),
    ('GET /users -H ": value"', "[]", "not a header"),
    ('GET /users -R "bad header"', "[]", "--request-header option: not a header"),
    ("POST /users", "> not a header line\n>\n> {}\n{}", "cell line 2: not a header ('Name: value')"),
    ("POST /users", '> Content-Type: application/json\n>\n> {bad\n\n{}', "cell line 4, column 2: the request body is not valid JSON"),
    ("DELETE /users/1 204", "gone", "a 204 response has no body"),
    ("GET /users 304", "x", "a 304 response has no body"),
    ("POST /form 205", "x", "a 205 response has no body"),
    ("GET /users 101", "x", "status 101 is an interim (1xx) status"),
    ("GET /users 100", "x", "HTTP cannot send it as the answer to a request"),
    ("GET /users ²", "[]", "the status must be a number from 100 to 599, got '²'"),
    ("GET /users " + "2" * 5000, "[]", "the status must be a number from 100 to 599, got '22222"),
    ("GET /users", "X-A: a\x01b\n\nbody", "the value of header X-A holds a control character"),
    ("GET /users", "[" * 5000 + "]" * 5000, "the response body nests JSON more than 200 levels deep"),
    ("POST /users", "> Content-Type: application/json\n>\n> " + '{"a":' * 3000 + "1" + "}" * 3000 + "\n\nok",
     "the request body nests JSON more than 200 levels deep"),
]


@pytest.mark.parametrize("line,cell,message", EXAMPLE_MISTAKES, ids=[m[0] + " | " + m[1][:12] for m in EXAMPLE_MISTAKES])
def test_example_mistakes(shell: InteractiveShell, line: str, cell: str, message: str) -> None:
    example(shell, "GET /keep 200", '{"kept": true}')
    before = session_of(shell).store.snapshot
    with pytest.raises(UsageError) as raised:
        shell.run_cell_magic("example", line, cell)
    assert message in str(raised.value), f"%%example {line!r}: {raised.value}"
    assert "Hint:" in str(raised.value), f"%%example {line!r} gives no hint: {raised.value}"
    assert session_of(shell).store.snapshot is before, f"%%example {line!r} changed the collection"


def test_name_clash_with_another_cell(shell: InteractiveShell) -> None:
    run_cell(shell, '%%example GET /a 200 --name Same\n"a"', cell_id="one")
    before = session_of(shell).store.snapshot
    with pytest.raises(UsageError) as raised:
        run_cell(shell, '%%example GET /b 200 --name Same\n"b"', cell_id="two")
    assert 'an example named "Same" already exists' in str(raised.value)
    assert "--replace" in str(raised.value)
    assert session_of(shell).store.snapshot is before
    run_cell(shell, '%%example GET /b 200 --name Same --replace\n"b"', cell_id="two")
    assert [(e.name, e.request.path) for e in session_of(shell).store.collection.examples] == [("Same", "/b")]


def test_log_detail_shows_one_row_in_full_a_websocket_s_transcript(shell: InteractiveShell) -> None:
    from websockets.sync.client import connect

    run_cell(shell, "%%websocket /ws/echo\n> hi\n< hello")
    example(shell, "GET /users 200", '[{"id": 1}]')
    mock(shell, "start --no-dashboard")
    url = shell.user_ns["mockUrl"]
    with connect(url.replace("http", "ws", 1) + "/ws/echo", open_timeout=5) as client:
        client.send("hi")
        assert client.recv(timeout=5) == "hello"
        wait_until(lambda: "WebSocket open: 1 sent, 1 received" in repr(mock(shell, "log")), "the counts in %mock log")
        table = repr(mock(shell, "log"))
        assert table.splitlines()[2].split()[1] == "⇄" and table.splitlines()[2].endswith("open")
    assert requests.get(url + "/users", timeout=5, headers={"x-api-key": "not-a-secret-here"}).status_code == 200
    server = session_of(shell).server
    assert server is not None
    wait_until(lambda: not server.log.recent(2)[1].live, "the connection's row to close")
    seq = server.log.recent(2)[1].seq
    detail = mock(shell, f"log --detail {seq}")
    text = repr(detail)
    assert text.startswith(f"#{seq} ⇄ GET /ws/echo → 101 · WS /ws/echo · ") and " ms\n" in text
    assert "\nTranscript (< sent, > received, ! near miss):\n  > hi\n  < hello\n  -- WebSocket: 1 sent, 1 received" in text
    assert "by the client" in text.splitlines()[1]
    newest = repr(mock(shell, "log --detail"))
    assert newest.startswith(f"#{seq + 1} ✓ GET /users → 200 · GET /users 200 · ") and "not-a-secret-here" not in newest
    with pytest.raises(UsageError, match="no request #999 in the log"):
        mock(shell, "log --detail 999")


MOCK_MISTAKES = [
    ("strat", "Did you mean `start`?"),
    ("stpo", "Did you mean `stop`?"),
    ("lsit", "Did you mean `list`?"),
    ("", "%mock needs a subcommand"),
    ("frobnicate", "unknown subcommand 'frobnicate'"),
    ("start --port abc", "argument --port: invalid int value: 'abc'"),
    ("start --port 70000", "--port must be 0-65535, got 70000"),
    ("start --api-key secret", "--api-key only makes sense with --private"),
    ("start --bogus", "unrecognized arguments: --bogus"),
    ("start --match-body contains", "%mock: unrecognized arguments: contains"),  # not "%mock mock:"
    ("delete", "the following arguments are required: name"),
    ("delete Nope", "no example named 'Nope'"),
    ("delete GET /keep 20", "unrecognized arguments"),
    ("call", "the following arguments are required: method, path"),
    ("call GET users", "the path must start with '/'"),
    ("call GET /keep", "the mock is not running"),
    ("key", "the mock is not running"),
    ("log", "the mock has not been started"),
    ("log --detail 3", "the mock has not been started"),
    ("log --detail x", "argument --detail: invalid int value: 'x'"),
    ("load /no/such/file.json", "no such file: /no/such/file.json"),
    ("save", "the following arguments are required: file"),
    ("save /proc/api.yaml --openapi", "cannot write /proc/api.yaml: No such file or directory"),
    ("save /dev/null", "cannot write /dev/null: not a regular file"),  # never replaced by a file (as root it was)
    ('call GET /keep -H "x"', "-H option: not a header ('Name: value'): 'x'"),
    ("call GET /keep -H 'unbalanced", "cannot read the line"),
]


@pytest.mark.parametrize("line,message", MOCK_MISTAKES, ids=[m[0] or "(empty)" for m in MOCK_MISTAKES])
def test_mock_mistakes(shell: InteractiveShell, line: str, message: str) -> None:
    example(shell, "GET /keep 200", '{"kept": true}')
    before = session_of(shell).store.snapshot
    with pytest.raises(UsageError) as raised:
        mock(shell, line)
    assert message in str(raised.value), f"%mock {line!r}: {raised.value}"
    assert "Hint:" in str(raised.value), f"%mock {line!r} gives no hint: {raised.value}"
    assert session_of(shell).store.snapshot is before, f"%mock {line!r} changed the collection"
    assert not session_of(shell).running


def test_delete_suggests_the_nearest_name(shell: InteractiveShell) -> None:
    example(shell, "GET /users 200 --name 'List users'", "[]")
    with pytest.raises(UsageError, match='Did you mean "List users"'):
        mock(shell, "delete 'List user'")


def test_loading_a_broken_collection_changes_nothing(shell: InteractiveShell, tmp_path: Path) -> None:
    example(shell, "GET /keep 200", '{"kept": true}')
    before = session_of(shell).store.snapshot
    broken = tmp_path / "broken.json"
    broken.write_text('{"info": {"name": "x"},\n "item": [\n  {"name": "a", "request": {"url": 5}}\n]}')
    with pytest.raises(UsageError) as raised:
        mock(shell, f"load {broken}")
    assert 'item[0] "a"' in str(raised.value) and "url must be a string or an object" in str(raised.value)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"info": {"name": "x"},\n "item": [,]}')
    with pytest.raises(UsageError, match="line 2, column 11"):
        mock(shell, f"load {bad_json}")
    assert session_of(shell).store.snapshot is before


@pytest.mark.timeout(120)
def test_loading_an_openapi_bomb_is_a_usage_error(shell: InteractiveShell, tmp_path: Path) -> None:
    """YAML alias bombs, $ref fan-outs, minItems/minLength bombs: one UsageError each, nothing changed."""
    from support.bombkit import BOMBS, write_bomb

    example(shell, "GET /keep 200", '{"kept": true}')
    before = session_of(shell).store.snapshot
    for bomb, (_, message, where) in sorted(BOMBS.items()):
        with pytest.raises(UsageError) as raised:
            mock(shell, f"load {write_bomb(tmp_path, bomb)}")
        assert message in str(raised.value) and where in str(raised.value), f"{bomb}: {raised.value}"
        assert "Hint:" in str(raised.value), f"{bomb}: {raised.value}"
    assert session_of(shell).store.snapshot is before


@pytest.mark.timeout(120)
def test_loading_odd_openapi_documents_never_prints_a_traceback(shell: InteractiveShell, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """``minimum: .nan`` printed a 100-line ValueError traceback into the cell, a 100,001-digit number
    another; a ``pattern`` that is not a regex said nothing. Now: loaded, one UsageError line, or a warning."""
    head = "openapi: 3.0.3\ninfo: {title: odd, version: '1'}\npaths:\n  /x:\n    get:\n"
    answer = "      responses: {'200': {description: ok, content: {application/json: {schema: SCHEMA}}}}\n"
    nan = tmp_path / "nan.yaml"
    nan.write_text(head + answer.replace("SCHEMA", "{type: integer, minimum: .nan}"), encoding="utf-8")
    mock(shell, f"load {nan}")
    assert [e.response.body for e in session_of(shell).store.collection.examples] == ["0"]
    long_number = tmp_path / "long.yaml"
    long_number.write_text(head + answer.replace("SCHEMA", "{type: integer, example: " + "9" * 100_001 + "}"),
                           encoding="utf-8")
    with pytest.raises(UsageError, match=r"line 6, column \d+: a number of 100,001 digits \(more than 4,300\)"):
        mock(shell, f"load {long_number}")
    not_a_regex = tmp_path / "regex.yaml"
    not_a_regex.write_text(head + answer.replace("SCHEMA", "{type: string, pattern: '([a-z'}"), encoding="utf-8")
    capsys.readouterr()
    mock(shell, f"load {not_a_regex}")
    out = capsys.readouterr().out
    assert (f"Warning: {not_a_regex} at #/paths/~1x/get/responses/200/content/application~1json/schema/pattern: "
            "the pattern '([a-z' is not a regular expression") in out, out
    assert "Traceback" not in out


def test_server_mistakes_leave_a_running_mock_alone(shell: InteractiveShell) -> None:
    mock(shell, "start --no-dashboard")
    server = session_of(shell).server
    with pytest.raises(UsageError, match="already running"):
        mock(shell, "start --private --no-dashboard")  # other settings: refused, the running mock kept
    assert session_of(shell).server is server and server.running and not server.private
    busy = server.port
    second = start_second_shell_session()
    try:
        with pytest.raises(Exception, match=f"port {busy} on 127.0.0.1 is already in use"):
            second.start(port=busy)
    finally:
        second.close()
    assert requests.get(shell.user_ns["mockUrl"] + "/x", timeout=5).status_code == 404


def test_start_again_with_the_same_settings_keeps_the_running_mock(shell: InteractiveShell) -> None:
    """Run All a second time in one kernel: `%mock start` finds the mock it started and keeps it."""
    mock(shell, "start --no-dashboard --private --api-key team-key")
    server = session_of(shell).server
    with capture_output() as again:
        mock(shell, "start --no-dashboard --private")  # no key given: the running mock's key is kept
    assert session_of(shell).server is server and server.running, "a second server was started"
    assert f"already runs with these settings: kept it ({server.url})" in again.stdout, again.stdout
    assert shell.user_ns["mockUrl"] == server.url
    assert requests.get(server.url + "/x", headers={"x-api-key": "team-key"}, timeout=5).status_code == 404
    with pytest.raises(UsageError, match="already running"):
        mock(shell, "start --no-dashboard --private --api-key other-key")
    assert session_of(shell).server is server and server.api_key == "team-key"


def start_second_shell_session() -> Session:
    return Session()


def test_binder_url_is_shown_under_jupyterhub(shell: InteractiveShell, capsys, monkeypatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice-x1/")
    mock(shell, "start --no-dashboard")
    port = session_of(shell).server.port
    assert f"From your browser: /user/alice-x1/proxy/{port}/" in capsys.readouterr().out
    mock(shell, "stop")
    monkeypatch.setenv("POSTMOCK_PUBLIC_URL", "https://demo.example.org/mock/{port}/")
    mock(shell, "start --no-dashboard")
    port = session_of(shell).server.port
    assert f"From your browser: https://demo.example.org/mock/{port}/" in capsys.readouterr().out


def test_exported_item_request_is_what_postman_sends(shell: InteractiveShell, tmp_path: Path) -> None:
    example(shell, "POST /users 201 --name Created",
            '> Content-Type: application/json\n>\n> {"name": "Alice"}\n{"id": 3}')
    target = tmp_path / "created.json"
    mock(shell, f"save {target}")
    (item,) = json.loads(target.read_text())["item"]
    sent = item["request"]
    assert sent["method"] == "POST" and sent["body"]["raw"] == '{"name": "Alice"}', sent
    assert sent["header"] == [{"key": "Content-Type", "value": "application/json"}], sent["header"]
    markers = [h["key"] for h in item["response"][0]["originalRequest"]["header"]]
    assert "x-mock-match-request-body" in markers, "the example keeps its matching rules"


# -- what goes on the wire, and secrets -----------------------------------------------------------


def test_load_lists_what_the_mock_changes(shell: InteractiveShell, tmp_path, capsys) -> None:
    data = {"info": {"name": "odd", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "item": [{"name": "r", "request": {"method": "GET", "url": "http://x/a"},
                      "response": [{"name": "ok", "code": 200, "body": "",
                                    "header": [{"key": "Bad Name", "value": "v"}]}]}]}
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    mock(shell, f"load {path}")
    out = capsys.readouterr().out
    assert "1 part of these examples cannot go on the wire as saved" in out
    assert "header 'Bad Name' is dropped: its name is not an HTTP token" in out


def test_the_key_is_a_plain_string_shown_masked(shell: InteractiveShell) -> None:
    from IPython.lib.pretty import pretty

    mock(shell, "start --private --api-key abcdefgh12 --no-dashboard")
    key = mock(shell, "key")
    assert key == "abcdefgh12" and isinstance(key, str)
    assert "abcdefgh12" not in repr(key) and "abcdefgh12" not in pretty(key)
    assert "masked" in pretty(key)


def test_load_leaves_1xx_examples_out_and_serves_the_rest(shell: InteractiveShell, tmp_path, capsys) -> None:
    """Issue 19: a file's 1xx example is left out (named in the load summary); a cell's is still refused."""
    codes = [100, 101, 200, 404, 500]
    data = {"info": {"name": "codes", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "item": [{"name": f"{code}", "request": {"method": "GET", "url": f"http://x/status/{code}"},
                      "response": [{"name": f"Status {code}", "code": code, "body": f"code {code}"}]}
                     for code in codes]}
    path = tmp_path / "codes.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    mock(shell, f"load {path}")
    out = capsys.readouterr().out
    assert "2 parts of these examples cannot go on the wire as saved" in out, out
    for code in (100, 101):
        assert f'"Status {code}" (GET /status/{code}): left out (not served): status {code} is an interim' in out
    mock(shell, "start --port 0 --no-dashboard")
    url = shell.user_ns["mockUrl"]
    for code in (200, 404, 500):
        answer = requests.get(f"{url}/status/{code}", timeout=5)
        assert (answer.status_code, answer.text) == (code, f"code {code}")
    picked = requests.get(f"{url}/status/101", headers={"x-mock-response-name": "Status 101"}, timeout=5)
    assert picked.status_code == 404 and "no example with name 'Status 101'" in picked.text, picked.text
    saved = tmp_path / "saved.json"
    mock(shell, f"save {saved}")  # kept in the collection: a save gives Postman the whole file back
    assert sorted(r["code"] for i in json.loads(saved.read_text())["item"] for r in i["response"]) == codes
    with pytest.raises(UsageError, match=r"status 101 is an interim \(1xx\) status"):
        shell.run_cell_magic("example", "GET /switch 101", "x")


# -- secrets in diagnoses ----------------------------------------------------------------------

TEAM_TOKEN = "Bearer eyJhbGciOiJIUzI1NiJ9.team-secret-payload.c2ln"
"""What the example expects in Authorization: neither a client nor the log may read it whole."""
SENT_TOKEN = "Bearer eyJhbGciOiJIUzI1NiJ9.someone-elses-token.c2ln"


def _secret_rule(shell: InteractiveShell, how: str, tmp_path: Path, build) -> str:
    """An example of GET /me that matches on Authorization, made the way ``how`` names; the start options."""
    if how == "-R":
        run_cell(shell, f'%%example GET /me 200 -R "Authorization: {TEAM_TOKEN}"\n{{"me": 1}}')
    elif how == ">":
        run_cell(shell, f'%%example GET /me 200\n> Authorization: {TEAM_TOKEN}\n\n{{"me": 1}}')
    else:  # a saved collection whose request carries the header, matched on with --match-header
        from postmock_nb.formats.postman import save_collection

        path = save_collection(build.collection(build.example(
            "GET /me", "Me", body='{"me": 1}', request_headers={"Authorization": TEAM_TOKEN})), tmp_path / "me.json")
        mock(shell, f"load {path}")
        return " --match-header Authorization"
    return ""


@pytest.mark.parametrize("how", ["-R", ">", "--match-header"])
def test_secret_match_headers_are_masked_in_every_diagnosis(shell: InteractiveShell, tmp_path: Path, build,
                                                            how: str) -> None:
    options = _secret_rule(shell, how, tmp_path, build)
    mock(shell, "start --no-dashboard" + options)
    url = shell.user_ns["mockUrl"]
    assert requests.get(url + "/me", headers={"Authorization": TEAM_TOKEN}, timeout=5).status_code == 200
    missed = requests.get(url + "/me", headers={"Authorization": SENT_TOKEN}, timeout=5)
    assert missed.status_code == 404
    seq = session_of(shell).server.log.recent(1)[0].seq
    detail = json.dumps(requests.get(f"{url}/__postmock/log/{seq}", timeout=5).json(), ensure_ascii=False)
    log = mock(shell, "log")
    shown = {"404 body": json.dumps(missed.json(), ensure_ascii=False), "/__postmock/log/<n>": detail, "%mock log": repr(log),
             "%mock log (html)": log._repr_html_()}
    for where, text in shown.items():
        assert "header authorization" in text and "different value" in text, (where, text)  # the diff is there
        for secret in ("team-secret-payload", "someone-elses-token"):
            assert secret not in text, f"{secret} shown whole in the {where}: {text}"
        assert "Bearer eyJhbGciO…c2ln" in text, (where, text)  # masked as the header list masks it


def test_keyless_requests_show_as_one_counted_line(shell: InteractiveShell, capsys: pytest.CaptureFixture) -> None:
    example(shell, "GET /users 200", '[{"id": 1}]')
    mock(shell, "start --private --no-dashboard")
    for _ in range(3):
        mock(shell, "call GET /users")  # the team's requests (the key is added for us)
    url = shell.user_ns["mockUrl"]
    with requests.Session() as stranger:
        for _ in range(300):
            assert stranger.get(url + "/users", timeout=5).status_code == 401
    capsys.readouterr()
    mock(shell, "status")
    assert "303 requests, 0 misses, 0 errors, 300 refused without the key" in capsys.readouterr().out
    log = mock(shell, "log")
    assert [e.status for e in log.entries] == [401, 200, 200, 200]
    assert "300 requests without the key refused (latest: missing x-api-key header)" in repr(log)


# -- what the magics say (issue 19) -------------------------------------------------------------


def test_messages_say_one_example_one_record_and_count_many(shell: InteractiveShell, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Each message counts with the one plural helper: "1 example", "2 examples", never "1 examples"."""
    example(shell, "GET /users 200", '[{"id": 1}]')
    mock(shell, "status")
    assert "1 example defined" in capsys.readouterr().out
    mock(shell, "start --no-dashboard")
    assert "(1 example)" in capsys.readouterr().out
    mock(shell, "call GET /nowhere")
    capsys.readouterr()
    mock(shell, "status")
    out = capsys.readouterr().out
    assert "1 example, 1 request, 1 miss, 0 errors" in out, out
    mock(shell, f"save {tmp_path / 'one.json'}")
    assert "Saved 1 example to" in capsys.readouterr().out
    run_cell(shell, '%%resource todos\n[{"id": 1, "title": "Write"}]')
    assert "Resource 'todos': 1 record at /todos" in capsys.readouterr().out
    mock(shell, "reset todos")
    assert "Resource 'todos' reset to its 1 seed record." in capsys.readouterr().out
    mock(shell, f"load {tmp_path / 'one.json'}")
    out = capsys.readouterr().out
    assert "Resource 'todos': 1 record at /todos" in out and "records" not in out, out
    mock(shell, "stop")
    mock(shell, "clear")
    capsys.readouterr()
    example(shell, "GET /one 200", "1")
    mock(shell, "clear")
    assert "Deleted 1 example." in capsys.readouterr().out
    example(shell, "GET /one 200", "1")
    example(shell, "GET /two 200", "2")
    mock(shell, "clear")
    assert "Deleted all 2 examples." in capsys.readouterr().out
    mock(shell, "status")
    assert "0 examples defined" in capsys.readouterr().out


def test_reset_says_what_it_reset_with_only_sequences(shell: InteractiveShell,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    example(shell, "GET /coin --name heads --sequence cycle", '{"side": "heads"}')
    example(shell, "GET /coin --name tails --sequence cycle", '{"side": "tails"}')
    mock(shell, "start --no-dashboard")
    url = shell.user_ns["mockUrl"]
    assert requests.get(url + "/coin", timeout=5).json() == {"side": "heads"}
    capsys.readouterr()
    mock(shell, "reset")
    out = capsys.readouterr().out
    assert "No resources to reset" not in out and "Nothing to reset" not in out, out
    assert "Sequences back to their first turn: GET /coin." in out, out
    assert requests.get(url + "/coin", timeout=5).json() == {"side": "heads"}, "the sequence was not reset"
    mock(shell, "delete heads")
    mock(shell, "delete tails")
    capsys.readouterr()
    mock(shell, "reset")
    assert capsys.readouterr().out.strip() == "Nothing to reset: no resources, scenarios or sequences."


def test_call_on_a_miss_shows_the_diagnosis_as_text_counting_every_difference(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    """``%mock call`` on a miss reads like ``%mock log``: no escaped JSON; "(and N more)" counts all 12 fields."""
    expected = {f"field{i}": i for i in range(12)}
    example(shell, "POST /orders 201", "> Content-Type: application/json\n>\n> " + json.dumps(expected)
            + '\n\n{"ok": true}')
    mock(shell, "start --no-dashboard --match-body")
    capsys.readouterr()
    sent = json.dumps({f"field{i}": i + 100 for i in range(12)})
    mock(shell, f"call POST /orders -H 'Content-Type: application/json' -d '{sent}'")
    out = capsys.readouterr().out
    assert out.startswith("404 Not Found  (no example matched)"), out
    assert "No matching requests: Double check your method and the request path" in out, out
    assert "No example matched POST /orders" in out and '"differences"' not in out and "\\n" not in out, out
    assert "body $.field0: expected 0, got 100 (and 11 more)" in out, out
    listed = [line for line in out.splitlines() if "<<<<<" in line]
    assert len(listed) == 10, out
    assert "… and 2 more body differences not listed" in out, out
    log = repr(mock(shell, "log --unmatched"))
    assert "(and 11 more)" in log and "… and 2 more body differences not listed" in log, log


def test_a_resource_names_a_json_null_body_and_an_empty_one(shell: InteractiveShell,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    run_cell(shell, '%%resource todos\n[{"id": 1, "title": "Write"}]')
    mock(shell, "start --no-dashboard")
    url = shell.user_ns["mockUrl"]
    null = requests.post(url + "/todos", data="null", headers={"Content-Type": "application/json"}, timeout=5)
    assert null.status_code == 400 and "got the JSON null body" in null.text, null.text
    empty = requests.post(url + "/todos", data="", headers={"Content-Type": "application/json"}, timeout=5)
    assert empty.status_code == 400 and "the body is empty" in empty.text, empty.text
    array = requests.post(url + "/todos", json=[1], timeout=5)
    assert array.status_code == 400 and "got a JSON array" in array.text, array.text


def test_save_warns_once_naming_every_handler(shell: InteractiveShell, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    run_cell(shell, "@mock.handler('GET /a')\ndef first(request):\n    return {'a': 1}\n\n"
                    "@mock.handler('GET /b')\ndef second(request):\n    return {'b': 2}\n\n"
                    "@mock.handler('GET /c')\ndef third(request):\n    return {'c': 3}")
    capsys.readouterr()
    mock(shell, f"save {tmp_path / 'handlers.json'}")
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1, captured.err
    assert "3 handlers cannot run in Postman: 'first', 'second', 'third' saved as static examples of their samples" \
        in warnings[0], warnings


def test_save_warning_says_how_each_handler_was_kept(shell: InteractiveShell, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A socket handler is saved as its 426 placeholder, not as "a static example": the one line says which."""
    run_cell(shell, "@mock.handler('GET /a')\ndef answered(request):\n    return {'a': 1}\n\n"
                    "@mock.handler('GET /b')\ndef idle(request):\n    return {'b': 2}\n\n"
                    "@mock.websocket('/ws/chat')\nasync def chat(socket):\n    await socket.send('hi')")
    mock(shell, "start --port 0 --no-dashboard")
    assert requests.get(shell.user_ns["mockUrl"] + "/a", timeout=5).json() == {"a": 1}
    capsys.readouterr()
    mock(shell, f"save {tmp_path / 'handlers.json'}")
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Warning:")]
    assert warnings == ["Warning: 3 handlers cannot run in Postman: 'answered' saved as a static example of its "
                        "most recent response; 'idle' saved as a static example of its sample; 'chat' saved as a "
                        "described placeholder (426 over HTTP)"], warnings


# -- where the browser is: environments imitated --------------------------------------------------

BROWSER_CASES = {
    # name: (variables set, the address printed for port {port}, a word of the note)
    "codespaces": ({"CODESPACES": "true", "CODESPACE_NAME": "octo-space-x1",
                    "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN": "app.github.dev"},
                   "https://octo-space-x1-{port}.app.github.dev/", "Codespaces forwards port {port}"),
    "vscode-ssh": ({"VSCODE_IPC_HOOK_CLI": "/run/user/1000/vscode-ipc-1.sock", "SSH_CONNECTION": "10.0.0.2 5 10.0.0.3 22",
                    "VSCODE_AGENT_FOLDER": "/home/me/.vscode-server"},
                   "http://localhost:{port}/", "VS Code forwards port {port}"),
    "vscode-container": ({"TERM_PROGRAM": "vscode", "REMOTE_CONTAINERS": "true"},
                         "http://localhost:{port}/", "VS Code forwards port {port}"),
    "override-wins": ({"POSTMOCK_PUBLIC_URL": "https://mock.example.org/{port}/", "CODESPACES": "true",
                       "CODESPACE_NAME": "x", "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN": "app.github.dev"},
                      "https://mock.example.org/{port}/", ""),
}


@pytest.mark.parametrize("case", sorted(BROWSER_CASES))
def test_start_prints_the_address_a_remote_browser_reaches(shell: InteractiveShell, browser_environment,
                                                           capsys: pytest.CaptureFixture[str], case: str) -> None:
    """Codespaces, VS Code remote (SSH, dev container), and POSTMOCK_PUBLIC_URL over them, by their variables."""
    variables, address, note = BROWSER_CASES[case]
    for name, value in variables.items():
        browser_environment.setenv(name, value)
    mock(shell, "start --no-dashboard")
    port = session_of(shell).server.port
    out = capsys.readouterr().out
    assert f"From your browser: {address.format(port=port)}" in out, out
    assert note.format(port=port) in out, out
    mock(shell, "status")
    assert f"(browser: {address.format(port=port)})" in capsys.readouterr().out


def test_local_vscode_and_plain_jupyter_print_no_other_address(shell: InteractiveShell, browser_environment,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    browser_environment.setenv("VSCODE_PID", "4242")  # VS Code on this machine: 127.0.0.1 is reachable
    mock(shell, "start --no-dashboard")
    assert "From your browser" not in capsys.readouterr().out


def test_on_colab_start_prints_colabs_proxy_address(shell: InteractiveShell, browser_environment, colab_standin,
                                                    capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A stand-in ``google.colab`` on sys.path: the kernel asks the page's ``google.colab.kernel.proxyPort``."""
    import sys

    from postmock_nb.serving import browser_address

    browser_environment.setattr(browser_address, "_colab_urls", {})
    browser_environment.syspath_prepend(str(colab_standin))
    try:
        mock(shell, "start --no-dashboard")
        port = session_of(shell).server.port
        out = capsys.readouterr().out
        url = f"https://{port}-m-s-standin.prod.colab.dev/"
        assert f"From your browser: {url}  (Colab's proxy for port {port})" in out, out
        mock(shell, "status")
        assert f"(browser: {url})" in capsys.readouterr().out
        mock(shell, f"save --environment {tmp_path / 'env.json'}")
        values = {v["key"]: v["value"] for v in json.loads((tmp_path / "env.json").read_text())["values"]}
        assert values["mockUrl"] == url.rstrip("/")
        from google.colab import output  # the stand-in

        assert output.ASKED == [(port, "MainThread")], "asked once, from the main thread, then remembered"
    finally:
        for name in [n for n in sys.modules if n == "google" or n.startswith("google.")]:
            del sys.modules[name]


def test_websocket_takes_request_headers_and_a_timeout(shell: InteractiveShell) -> None:
    shell.run_cell_magic("websocket", '/ws/team -R "X-Team: a" --timeout 2.5 --name team', "> ready\n< go")
    example = session_of(shell).store.collection.find("team")[0][1]
    assert [(k.lower(), v) for k, v in example.request.headers] == [
        ("x-team", "a"), ("x-mock-websocket", "true"), ("x-mock-timeout", "2.5"),
        ("x-mock-match-request-headers", "X-Team")]
    for bad in ("0", "soon", "3601"):
        with pytest.raises(UsageError, match=f"cannot read the timeout '{bad}'"):
            shell.run_cell_magic("websocket", f"/ws/x --timeout {bad}", "< hi")
