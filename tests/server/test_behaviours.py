"""Python handlers and CRUD resources over real sockets (Session API, as the magics use it)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from support.saved_collections import deep_seed_collection
from support.shells import loaded_shell
from support.waiting import wait_until

from postmock_nb.behaviours.handlers import Reply, Request
from postmock_nb.formats.postman import load_collection
from postmock_nb.notebook.magics import session_of
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.serving.server import MockServer
from postmock_nb.session import Session

SEED = [{"id": 1, "name": "Alice", "role": "admin"}, {"id": 2, "name": "Ben", "role": "user"}]


@pytest.fixture
def proto():
    session = Session()
    yield Prototype(session)
    session.close()


def test_crud_session_tracks_the_expected_state(proto: Prototype) -> None:
    users = proto.resource("users", SEED)
    proto.session.define("GET /users 500", '{"error": "down"}', name="List users – error")
    url = proto.session.start(port=0).url + "/users"
    expected = [dict(r) for r in SEED]

    def state() -> list[dict]:
        listed = requests.get(url, timeout=5)
        assert listed.status_code == 200 and listed.headers["x-total-count"] == str(len(expected))
        return listed.json()

    assert state() == expected                                             # 1
    created = requests.post(url, json={"name": "Chloe", "role": "user"}, timeout=5)   # 2
    assert created.status_code == 201 and created.headers["location"] == "/users/3"
    expected.append({"name": "Chloe", "role": "user", "id": 3})
    assert created.json() == expected[-1] and state() == expected          # 3
    assert requests.get(url + "/3", timeout=5).json() == expected[-1]      # 4
    put = requests.put(url + "/3", json={"name": "Chloé"}, timeout=5)      # 5
    expected[-1] = {"name": "Chloé", "id": 3}
    assert put.status_code == 200 and put.json() == expected[-1] and state() == expected   # 6
    patch = requests.patch(url + "/1", json={"role": None, "team": {"a": 1}}, timeout=5)   # 7
    expected[0] = {"id": 1, "name": "Alice", "team": {"a": 1}}
    assert patch.json() == expected[0] and state() == expected             # 8
    assert requests.delete(url + "/2", timeout=5).status_code == 204       # 9
    del expected[1]
    missing = requests.get(url + "/2", timeout=5)                           # 10
    assert missing.status_code == 404 and "not found" in missing.json()["error"]
    assert state() == expected                                             # 11
    bad = requests.post(url, data="[1, 2]", headers={"content-type": "application/json"}, timeout=5)  # 12
    assert bad.status_code == 400 and "JSON object" in bad.json()["error"] and state() == expected   # 13
    assert requests.get(url, params={"name": "Chloé"}, timeout=5).json() == [expected[1]]
    assert requests.get(url, params={"role": "user"}, timeout=5).json() == []  # PUT replaced Chloé's role away
    page = requests.get(url, params={"_sort": "-name", "_page": "1", "_per_page": "1"}, timeout=5)    # 14
    assert page.json() == [max(expected, key=lambda r: r["name"])] and page.headers["x-total-count"] == "2"
    error = requests.get(url, headers={"x-mock-response-code": "500"}, timeout=5)   # 15: a selected example wins
    assert error.status_code == 500 and error.json() == {"error": "down"}
    users[0]["name"] = "Alicia"                                            # the notebook changes the live list
    expected[0]["name"] = "Alicia"
    assert requests.get(url + "/1", timeout=5).json() == expected[0]       # 16
    proto.reset("users")
    expected = [dict(r) for r in SEED]
    assert state() == expected                                             # 17
    notes = [e.note for e in proto.session.server.log.recent()]
    assert "resource users delete id=2" in notes and "resource users create → 400" in notes


def test_handler_reads_state_and_reports_errors_without_raising(proto: Prototype) -> None:
    names = ["Alice"]

    @proto.handler("GET /hello/:who")
    def hello(request: Request):
        return {"who": request.path_vars["who"], "names": list(names), "q": request.query,
                "accept": request.headers["Accept"]}

    @proto.handler("POST /echo")
    def echo(request: Request):
        return Reply({"got": request.json}, 202, {"X-Handler": "echo"})

    @proto.handler("GET /boom")
    def boom(request: Request):
        raise KeyError("nope")

    @proto.handler("GET /slow", timeout=0.2)
    async def slow(request: Request):
        import asyncio
        await asyncio.sleep(2)

    @proto.handler("GET /wrong")
    def wrong(request: Request):
        return {1, 2}

    assert hello(Request("GET", "/hello/x", {"who": "x"}, (), {"accept": "*/*"}, b""))["who"] == "x"  # a plain function
    url = proto.session.start(port=0).url
    first = requests.get(url + "/hello/bob?tag=a&tag=b", headers={"Accept": "text/x"}, timeout=5).json()
    assert first == {"who": "bob", "names": ["Alice"], "q": {"tag": ["a", "b"]}, "accept": "text/x"}
    names.append("Ben")
    assert requests.get(url + "/hello/bob", timeout=5).json()["names"] == ["Alice", "Ben"]
    echoed = requests.post(url + "/echo", json={"a": 1}, timeout=5)
    assert echoed.status_code == 202 and echoed.json() == {"got": {"a": 1}} and echoed.headers["x-handler"] == "echo"
    raised = requests.get(url + "/boom", timeout=5)
    assert raised.status_code == 500 and raised.json()["error"]["exception"] == "KeyError"
    assert "boom" in raised.json()["error"]["message"]
    timed = requests.get(url + "/slow", timeout=5)
    assert timed.status_code == 504 and "slow" in timed.json()["error"]["message"]
    typed = requests.get(url + "/wrong", timeout=5)
    assert typed.status_code == 500 and "'wrong' returned set" in typed.json()["error"]["message"]
    entry = next(e for e in proto.session.server.log.recent() if e.path == "/boom")
    assert "KeyError" in entry.traceback and "raise KeyError" in entry.traceback
    detail = requests.get(f"{url}/__postmock/log/{entry.seq}", timeout=5).json()
    assert "raise KeyError" in detail["traceback"] and detail["note"].startswith("handler boom")
    assert proto.session.new_errors() == []  # nothing for the cell: the handler's error is the caller's answer


def test_redefining_a_handler_replaces_it_and_explicit_examples_win_when_selected(proto: Prototype) -> None:
    @proto.handler("GET /users/:id")
    def get_user(request: Request):
        return {"v": 1}

    @proto.handler("GET /users/:id")  # the same cell run again (no cell id: the same name)
    def get_user(request: Request):  # noqa: F811
        return {"v": 2}

    proto.session.define("GET /users/:id 404", '{"error": "gone"}', name="User not found")
    proto.session.define("GET /users/me 200", '{"me": true}', name="Me")
    assert len([e for e in proto.session.store.collection.examples if e.name == "get_user"]) == 1
    url = proto.session.start(port=0).url
    assert requests.get(url + "/users/7", timeout=5).json() == {"v": 2}            # a tie: the handler
    assert requests.get(url + "/users/me", timeout=5).json() == {"me": True}        # a stricter path wins
    picked = requests.get(url + "/users/7", headers={"x-mock-response-name": "User not found"}, timeout=5)
    assert picked.status_code == 404
    assert requests.get(url + "/users/7", headers={"x-mock-response-name": "get_user"}, timeout=5).json() == {"v": 2}
    entry = proto.session.server.log.recent()[-1]
    assert any("is defined earlier" in c.lost for c in entry.result.candidates[1:])


def test_concurrent_creates_get_distinct_ids(proto: Prototype) -> None:
    proto.resource("items", [])
    url = proto.session.start(port=0).url + "/items"

    def create(n: int) -> int:
        with requests.Session() as http:
            return [http.post(url, json={"n": n, "k": k}, timeout=10).json()["id"] for k in range(10)]

    with ThreadPoolExecutor(8) as pool:
        ids = [i for batch in pool.map(create, range(8)) for i in batch]
    assert sorted(ids) == list(range(1, 81))
    assert len(requests.get(url, params={"_per_page": "100", "_page": "1"}, timeout=5).json()) == 80


def test_export_then_serve_restores_the_resource(proto: Prototype, tmp_path) -> None:
    proto.resource("users", SEED)

    @proto.handler("GET /stats")
    def stats(request: Request):
        return {"count": len(proto.resources["users"])}

    url = proto.session.start(port=0).url
    requests.post(url + "/users", json={"name": "Chloe"}, timeout=5)
    assert requests.get(url + "/stats", timeout=5).json() == {"count": 3}
    path = proto.session.save(tmp_path / "proto.postman_collection.json")
    assert any("stats" in w and "most recent response" in w for w in proto.session.save_warnings)
    saved = json.loads(path.read_text())
    assert "Computed by the Python handler" in json.dumps(saved)
    collection = load_collection(path)
    with MockServer(collection) as other:  # what `postmock serve FILE` runs
        listed = requests.get(other.url + "/users", timeout=5).json()
        assert [u["name"] for u in listed] == ["Alice", "Ben", "Chloe"]
        assert requests.post(other.url + "/users", json={"name": "Dan"}, timeout=5).json()["id"] == 4
        assert requests.get(other.url + "/users/4", timeout=5).json()["name"] == "Dan"
        assert requests.get(other.url + "/stats", timeout=5).json() == {"count": 3}  # the static recording


def test_lists_and_the_dashboard_say_what_answers(proto: Prototype) -> None:
    from postmock_nb.notebook.tables import ExampleTable
    from postmock_nb.notebook.widgets import entry_html

    proto.resource("users", SEED)

    @proto.handler("GET /boom")
    def boom(request: Request):
        raise RuntimeError("no luck")

    url = proto.session.start(port=0).url
    requests.post(url + "/users", json={"name": "C"}, timeout=5)
    requests.get(url + "/boom", timeout=5)
    server = proto.session.server
    rows = {r["name"]: r for r in ExampleTable.of(proto.session.store.collection, server.log.hits,
                                                  proto.session.behaviours).rows}
    assert rows["users · create"]["hits"] == 1 and "3 records" in rows["users · create"]["answers"]
    assert rows["boom"]["answers"].startswith("handler boom (1 call,") and "RuntimeError" in rows["boom"]["answers"]
    boom_entry = next(e for e in server.log.recent() if e.path == "/boom")
    page = entry_html(boom_entry)
    assert "Handler traceback" in page and "RuntimeError: no luck" in page
    assert "resource users create id=3" in entry_html(next(e for e in server.log.recent() if e.method == "POST"))


def test_sync_handlers_run_one_at_a_time_unless_concurrent(proto: Prototype) -> None:
    import threading

    active, peak, lock = [0], {"serial": 0}, threading.Lock()

    def body(kind: str) -> dict:
        with lock:
            active[0] += 1
            peak[kind] = max(peak[kind], active[0])
        time.sleep(0.05)  # long enough for the other requests to be waiting; the assertion does not depend on it
        with lock:
            active[0] -= 1
        return {"ok": kind}

    proto.handler("GET /serial")(lambda request: body("serial"))
    meeting = threading.Barrier(3, timeout=5)  # passes only if three calls run at the same time

    @proto.handler("GET /concurrent", concurrent=True)
    def together(request: Request) -> dict:
        meeting.wait()
        return {"met": True}

    url = proto.session.start(port=0).url
    with ThreadPoolExecutor(6) as pool:
        assert all(r == 200 for r in pool.map(lambda _: requests.get(url + "/serial", timeout=10).status_code, range(6)))
        assert peak["serial"] == 1
        met = list(pool.map(lambda _: requests.get(url + "/concurrent", timeout=10).status_code, range(3)))
    assert met == [200, 200, 200]


def test_resource_magic_mistakes_are_usage_errors(tmp_path) -> None:
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "postmock_nb")
    try:
        for line, cell, words in [("users", "[{\"id\": 1,}]", "not valid JSON"),
                                  ("users", "{\"id\": 1}", "JSON array of objects"),
                                  ("users --id key", "[{\"id\": 1}]", "has no 'key' field"),
                                  ("users", "[{\"id\": 1}, {\"id\": 1}]", "the id 1 twice"),
                                  ("users --max-records 0", "[]", "max_records of resource 'users' must be a whole"),
                                  ("users --max-bytes 3X", "[]", "max_bytes of resource 'users' must be a whole"),
                                  ("users", "[" * 300 + "]" * 300, "nests JSON more than 200 levels deep")]:
            with pytest.raises(UsageError, match=words):
                ip.run_cell_magic("resource", line, cell)
        assert "users" not in ip.user_ns and len(session_of(ip).store.collection.examples) == 0
        ip.run_cell_magic("resource", "users", '[{"id": 1, "name": "A"}]')
        assert list(ip.user_ns["users"]) == [{"id": 1, "name": "A"}]
        with pytest.raises(UsageError, match="no resource named 'nope'"):
            ip.run_line_magic("mock", "reset nope")
        assert ip.user_ns["mock"].resources["users"] is ip.user_ns["users"]
    finally:
        ip.run_line_magic("unload_ext", "postmock_nb")


def test_rerunning_a_handler_cell_replaces_its_handler() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "postmock_nb")
    try:
        session = session_of(ip)
        cell = "@mock.handler('GET /v')\ndef {name}(request):\n    return {{'v': {v}}}"
        assert ip.run_cell(cell.format(name="version", v=1), cell_id="cell-a").success
        assert ip.run_cell(cell.format(name="renamed", v=2), cell_id="cell-a").success  # edited and re-run
        handlers = [e for e in session.store.collection.examples if e.request.path == "/v"]
        assert [e.name for e in handlers] == ["renamed"]
        clash = ip.run_cell(cell.format(name="renamed", v=3), cell_id="cell-b")  # another cell, the same name
        assert not clash.success and "already exists" in str(clash.error_in_exec)
        url = session.start(port=0).url
        assert requests.get(url + "/v", timeout=5).json() == {"v": 2}
    finally:
        ip.run_line_magic("unload_ext", "postmock_nb")


def test_loose_path_rules_keep_path_variables_and_distance_never_feeds_code(proto: Prototype) -> None:
    """Issue 19: a route picked by the case or trailing-slash rule captures its variables as the strict one does;
    a route only nearly the same (edit distance) never answers through a handler or resource (404 + diagnosis)."""
    proto.resource("todos", [{"id": 3, "title": "Write"}])

    @proto.handler("GET /greet/:name")
    def greet(request: Request):
        return {"text": f"Hello, {request.path_vars['name']}"}

    proto.session.define("GET /users/:id", '{"id": "{{id}}"}', name="One user")
    proto.session.define("GET /orders/{{orderId}}/lines", '{"order": "{{orderId}}"}', name="Order lines")
    url = proto.session.start(port=0).url
    assert requests.get(url + "/TODOS/3", timeout=5).json() == {"id": 3, "title": "Write"}   # resource, case
    assert requests.get(url + "/Todos/3/", timeout=5).json() == {"id": 3, "title": "Write"}  # case and slash
    assert requests.get(url + "/todos/3/", timeout=5).json() == {"id": 3, "title": "Write"}  # slash
    assert requests.get(url + "/GREET/Ann", timeout=5).json() == {"text": "Hello, Ann"}      # handler, case
    assert requests.get(url + "/greet/Ann/", timeout=5).json() == {"text": "Hello, Ann"}
    assert requests.get(url + "/USERS/7", timeout=5).json() == {"id": "7"}                   # templated example
    assert requests.get(url + "/Orders/A1/LINES/", timeout=5).json() == {"order": "A1"}
    case = requests.get(url + "/USERS/7", timeout=5)
    assert case.headers["x-mock-score"] == str(100 - 26)
    # edit distance: a static example answers with its variables filled; code and state never answer a typo
    assert requests.get(url + "/user/7", timeout=5).json() == {"id": "7"}
    for typo in ("/todoz/3", "/gret/Ann"):
        missed = requests.get(url + typo, timeout=5)
        assert missed.status_code == 404, typo
        error = missed.json()["error"]
        assert error["name"] == "mockRequestNotFoundError"
        assert "only a path that fits its route" in json.dumps(missed.json()), missed.json()
    assert requests.delete(url + "/todoz/3", timeout=5).status_code == 404
    assert requests.get(url + "/todos/3", timeout=5).json() == {"id": 3, "title": "Write"}  # nothing deleted
    notes = [e.note for e in proto.session.server.log.recent()]
    assert not any("None" in note for note in notes), notes


# -- resources: limits, deep JSON, the live list, loaded resources (issue 19) ----------------------


def _listed(url: str) -> list:
    return requests.get(url, params={"_per_page": "1000", "_page": "1"}, timeout=5).json()


def test_resource_limits_answer_413_and_507_naming_the_limit(capsys) -> None:
    with loaded_shell() as ip:
        ip.run_cell_magic("resource", "notes --max-records 3 --max-bytes 120", '[{"id": 1, "text": "a"}]')
        assert "at most 3 records, 120 bytes" in capsys.readouterr().out
        ip.run_line_magic("mock", "start --no-dashboard")
        url = session_of(ip).url + "/notes"
        too_big = requests.post(url, json={"text": "x" * 200}, timeout=5)  # one record larger than the whole limit
        assert too_big.status_code == 413, too_big.text
        message = too_big.json()["error"]
        assert "120 bytes" in message and "--max-bytes" in message and "max_bytes=" in message
        assert [requests.post(url, json={"text": "b"}, timeout=5).status_code for _ in range(2)] == [201, 201]
        full = requests.post(url, json={"text": "c"}, timeout=5)  # the fourth record
        assert full.status_code == 507, full.text
        message = full.json()["error"]
        assert "3 records" in message and "--max-records" in message and "max_records=" in message
        assert [r["text"] for r in _listed(url)] == ["a", "b", "b"]  # nothing changed
        grown = requests.put(url + "/1", json={"text": "y" * 80}, timeout=5)  # fits alone, not with the others
        assert grown.status_code == 507 and "120 bytes" in grown.json()["error"]
        assert requests.get(url + "/1", timeout=5).json() == {"id": 1, "text": "a"}
        assert requests.delete(url + "/2", timeout=5).status_code == 204  # room again
        assert requests.post(url, json={"text": "d"}, timeout=5).status_code == 201
        notes = [e.note for e in session_of(ip).server.log.recent()]
        assert "resource notes create → 413" in notes and "resource notes create → 507" in notes


def test_resource_limits_default_to_10000_records() -> None:
    with loaded_shell() as ip:
        proto = ip.user_ns["mock"]
        seed = [{"id": i} for i in range(1, 10_001)]
        big = proto.resource("big", seed)
        assert len(big) == 10_000
        ip.run_line_magic("mock", "start --no-dashboard")
        full = requests.post(session_of(ip).url + "/big", json={"n": 1}, timeout=5)
        assert full.status_code == 507 and "10000 records" in full.json()["error"]
        assert len(big) == 10_000
        with pytest.raises(Exception, match="max_records of resource 'bad' must be a whole number from 1, got 0"):
            proto.resource("bad", [], max_records=0)


@pytest.mark.parametrize("method,tail", [("POST", ""), ("PUT", "/1"), ("PATCH", "/1")])
def test_deep_json_into_a_resource_answers_400(proto: Prototype, method: str, tail: str) -> None:
    proto.resource("users", SEED)
    url = proto.session.start(port=0).url + "/users"
    deep = "[" * 100_000 + "]" * 100_000
    answer = requests.request(method, url + tail, data=deep, headers={"content-type": "application/json"}, timeout=10)
    assert answer.status_code == 400, answer.text
    assert "nested more than 200 levels deep" in answer.json()["error"]
    assert _listed(url) == SEED and proto.session.new_errors() == []


@pytest.mark.parametrize("concurrent", [False, True], ids=["def", "async def"])
def test_a_handler_reading_a_bad_json_body_answers_400(proto: Prototype, concurrent: bool) -> None:
    """`request.json` of a body the caller broke (not JSON, nested too deep) is the caller's mistake:
    400 naming it, never a 500; a handler that catches the ValueError answers what it likes."""
    if concurrent:
        @proto.handler("POST /orders")
        async def create(request):
            return {"got": request.json}, 201
    else:
        @proto.handler("POST /orders")
        def create(request):
            return {"got": request.json}, 201

    @proto.handler("POST /lenient")
    def lenient(request):
        try:
            return {"got": request.json}
        except ValueError:
            return {"error": "send JSON"}, 422

    url = proto.session.start(port=0).url
    for body, said in (("[" * 100_000 + "]" * 100_000, "nested more than 200 levels deep"), ("{not json", "not JSON")):
        answer = requests.post(url + "/orders", data=body, headers={"content-type": "application/json"}, timeout=10)
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["name"] == "mockBadRequestBody" and said in error["message"] and "create" in error["message"]
    assert requests.post(url + "/lenient", data="{not json", timeout=10).status_code == 422
    assert requests.post(url + "/orders", json={"a": 1}, timeout=10).json() == {"got": {"a": 1}}
    assert proto.session.new_errors() == []


def test_the_live_records_are_a_list_json_can_dump() -> None:
    with loaded_shell() as ip:
        ip.run_cell_magic("resource", "todos", '[{"id": 1, "title": "write"}]')
        ip.run_line_magic("mock", "start --no-dashboard")
        url = session_of(ip).url + "/todos"
        assert requests.post(url, json={"title": "test"}, timeout=5).status_code == 201
        assert ip.run_cell("import json, copy\n"
                           "dumped = json.dumps(todos)\n"
                           "kind = isinstance(todos, list)\n"
                           "todos.append({'id': 9, 'title': 'from the notebook'})\n"
                           "todos += [{'id': 10, 'title': 'added'}]\n"
                           "copied = copy.deepcopy(todos)\n").success
        ns = ip.user_ns
        assert ns["kind"] is True
        assert json.loads(ns["dumped"]) == [{"id": 1, "title": "write"}, {"title": "test", "id": 2}]
        assert type(ns["copied"]) is list and ns["copied"] == ns["todos"]
        assert requests.get(url + "/10", timeout=5).json() == {"id": 10, "title": "added"}  # the index follows
        assert [r["id"] for r in _listed(url)] == [1, 2, 9, 10]
        assert requests.post(url, json={"title": "next"}, timeout=5).json()["id"] == 11
        assert ip.run_cell("todos[0]['id'] = 99").success  # a record's id changed in place
        assert requests.get(url + "/99", timeout=5).json() == {"id": 99, "title": "write"}
        assert requests.get(url + "/1", timeout=5).status_code == 404


def test_the_id_index_agrees_with_a_scan_through_any_mix_of_changes() -> None:
    import random

    from postmock_nb.behaviours.resources import Resource

    rng = random.Random(19)
    live = Resource("things", [{"id": i, "n": i} for i in range(1, 40)])
    model = [dict(r) for r in live]

    def scan(key: str) -> int | None:
        return next((i for i, r in enumerate(model) if str(r["id"]) == key), None)

    for step in range(3000):
        key = str(rng.randint(0, 60))
        op = rng.choice(["get", "replace", "merge", "delete", "create", "create_id", "append", "del", "insert"])
        if op in ("append", "del", "insert"):  # the notebook changes the list
            if op == "append":
                record = {"id": 1000 + step, "n": step}
                live.append(record), model.append(dict(record))
            elif op == "del" and model:
                at = rng.randrange(len(model))
                del live[at], model[at]
            elif op == "insert":
                record = {"id": 2000 + step, "n": step}
                live.insert(0, record), model.insert(0, dict(record))
            continue
        body = json.dumps({"n": step} if op != "create_id" else {"id": 3000 + step, "n": step}).encode()
        rendered, _ = live.operate("create" if op == "create_id" else op, key, (), body)
        found = scan(key)
        if op == "get":
            assert rendered.status == (200 if found is not None else 404), (step, op, key)
        elif op in ("replace", "merge"):
            assert rendered.status == (200 if found is not None else 404), (step, op, key)
            if found is not None:
                model[found] = {"id": model[found]["id"], "n": step} if op == "replace" else {**model[found], "n": step}
        elif op == "delete":
            assert rendered.status == (204 if found is not None else 404), (step, op, key)
            if found is not None:
                del model[found]
        else:
            assert rendered.status == 201, (step, op, rendered.body)
            model.append(json.loads(rendered.body))
        assert list.__eq__(live, model), step
    live.operate("get", "-1", (), b"")  # an operation brings the index up to date
    assert live._bytes == sum(len(json.dumps(r).encode()) for r in model)


def test_a_loaded_resource_is_the_live_one_and_never_wiped(tmp_path) -> None:
    with loaded_shell() as ip:
        ip.run_cell_magic("resource", "todos", '[{"id": 1, "title": "write"}, {"id": 2, "title": "test"}]')
        path = tmp_path / "todos.json"
        ip.run_line_magic("mock", f"save {path}")
    with loaded_shell() as ip:  # a fresh session, as in a fresh kernel
        ip.run_line_magic("mock", f"load {path}")
        assert ip.run_cell("todos = mock.resource('todos')\nsame = mock.resources['todos'] is todos").success
        todos = ip.user_ns["todos"]
        assert ip.user_ns["same"] is True and [r["title"] for r in todos] == ["write", "test"]  # not wiped
        ip.run_line_magic("mock", "start --no-dashboard")
        url = session_of(ip).url + "/todos"
        assert requests.post(url, json={"title": "ship"}, timeout=5).status_code == 201
        assert len(todos) == 3 and todos[-1] == {"title": "ship", "id": 3}  # the variable is the served list
        ip.run_cell("mock.resource('todos')")
        assert [r["id"] for r in _listed(url)] == [1, 2, 3]


def test_a_too_deep_resource_seed_fails_load_in_one_line(tmp_path) -> None:
    from IPython.core.error import UsageError

    path = deep_seed_collection(tmp_path)
    with loaded_shell() as ip:
        with pytest.raises(UsageError) as raised:
            ip.run_line_magic("mock", f"load {path}")
        lines = str(raised.value).splitlines()
        assert len(lines) == 2 and "resource 'todos'" in lines[0] and "200 levels" in lines[0], lines
        assert lines[1].startswith("Hint:")
        assert len(session_of(ip).store.collection.examples) == 0  # nothing loaded


# -- handlers that misbehave: hang, block the loop, raise BaseException (issue 19) -------------------------


HANGING_SCRIPT = """
import threading, requests
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.session import Session

session = Session()
proto = Prototype(session)
proto.handler("GET /hang", timeout=0.2)(lambda request: threading.Event().wait())
url = session.start(port=0).url
print(requests.get(url + "/hang", timeout=10).status_code, flush=True)
session.close()
"""


def test_a_handler_that_never_returns_does_not_keep_python_from_exiting() -> None:
    import subprocess
    import sys

    try:  # subprocess.run kills the process it started if it outlives the timeout
        done = subprocess.run([sys.executable, "-c", HANGING_SCRIPT], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"the process did not exit by itself (stdout: {expired.stdout!r})")
    assert done.stdout.strip() == "504" and done.returncode == 0, (done.stdout, done.stderr)


@pytest.mark.parametrize("concurrent", [False, True], ids=["serial", "concurrent"])
def test_hung_handlers_are_replaced_and_the_others_keep_answering(proto: Prototype, concurrent: bool) -> None:
    release = threading.Event()
    proto.handler("GET /hang", name="hang", timeout=0.2, concurrent=concurrent)(lambda request: release.wait(30) and {"late": 1})
    proto.handler("GET /ok", name="ok", concurrent=concurrent)(lambda request: {"ok": True})
    url = proto.session.start(port=0).url
    try:
        hung = [requests.get(url + "/hang", timeout=10) for _ in range(10)]  # more than any pool's size
        assert {r.status_code for r in hung} <= {503, 504} and hung[0].status_code == 504
        assert all(r.json()["error"]["handler"] == "hang" for r in hung)
        assert requests.get(url + "/ok", timeout=10).json() == {"ok": True}
        refused = [r.json()["error"] for r in hung if r.status_code == 503]
        assert refused and "still running" in refused[0]["message"]  # the stuck calls are bounded, and said so
        assert "still running past its timeout" in " ".join(proto.session.status()["handler_warnings"])
    finally:
        release.set()
    # the stuck calls end; their workers leave, and the handler answers again
    wait_until(lambda: requests.get(url + "/hang", timeout=10).status_code == 200, "the released handler to answer")
    assert requests.get(url + "/ok", timeout=10).status_code == 200


def test_an_async_handler_that_blocks_the_loop_is_named_in_the_log_and_status(proto: Prototype) -> None:
    @proto.handler("GET /blocking")
    async def blocking(request: Request):
        time.sleep(0.5)  # the mistake under test: a blocking call in an async def
        return {"done": True}

    @proto.handler("GET /polite")
    async def polite(request: Request):
        import asyncio
        await asyncio.sleep(0.2)
        return {"done": True}

    release = threading.Event()

    @proto.handler("GET /stuck")
    async def stuck(request: Request):
        release.wait(10)  # blocks the loop until the test has seen it named
        return {"done": True}

    url = proto.session.start(port=0).url
    assert requests.get(url + "/polite", timeout=10).status_code == 200
    assert proto.session.status().get("handler_warnings", []) == []  # awaiting is not blocking
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(requests.get, url + "/stuck", timeout=20)
        try:  # while the loop is blocked, %mock status (the kernel's thread) names the handler
            wait_until(lambda: any("'stuck' is blocking the server's loop right now" in w
                                   for w in proto.session.status().get("handler_warnings", [])), "the live warning")
        finally:
            release.set()
        assert pending.result().status_code == 200
    assert requests.get(url + "/blocking", timeout=10).json() == {"done": True}
    entry = next(e for e in proto.session.server.log.recent() if e.path == "/blocking")
    assert "blocked the server's loop for" in entry.note and entry.note.startswith("handler blocking ran")
    detail = requests.get(f"{url}/__postmock/log/{entry.seq}", timeout=5).json()
    assert "blocked the server's loop" in detail["note"]
    warnings = proto.session.status()["handler_warnings"]
    named = {w.split(" blocked")[0]: w for w in warnings}
    assert set(named) == {"async handler 'stuck'", "async handler 'blocking'"}
    assert "(1 call, longest" in named["async handler 'blocking'"] and "make it a plain def" in warnings[1]


def test_a_handler_entry_logs_its_queue_wait_and_its_run_time(proto: Prototype) -> None:
    started, queued = threading.Event(), threading.Event()

    @proto.handler("GET /work/:n")
    def work(request: Request):
        if request.path_vars["n"] == "1":
            started.set()
            queued.wait(10)  # until the second call waits behind this one
            time.sleep(0.3)  # the second call waits at least this long
        return {"n": request.path_vars["n"]}

    url = proto.session.start(port=0).url
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(requests.get, url + "/work/1", timeout=10)
        assert started.wait(10)
        second = pool.submit(requests.get, url + "/work/2", timeout=10)
        wait_until(lambda: proto.session.behaviours.handlers.waiting == 1, "the second call to queue")
        queued.set()
        assert first.result().status_code == 200 and second.result().status_code == 200
    entries = {e.path: e for e in proto.session.server.log.recent()}
    one, two = entries["/work/1"], entries["/work/2"]
    assert one.handler_run_ms is not None and one.handler_run_ms >= 300
    assert two.handler_wait_ms is not None and two.handler_wait_ms >= 300
    assert two.latency_ms >= two.handler_wait_ms + two.handler_run_ms
    assert f"waited {two.handler_wait_ms:.1f} ms in the queue" in two.note and f"ran {two.handler_run_ms:.1f} ms" in two.note
    detail = requests.get(f"{url}/__postmock/log/{two.seq}", timeout=5).json()
    assert detail["handler"] == {"wait_ms": round(two.handler_wait_ms, 3), "run_ms": round(two.handler_run_ms, 3)}
    listed = requests.get(f"{url}/__postmock/log", timeout=5).json()
    assert {"wait_ms", "run_ms"} <= set(next(e for e in listed if e["url"] == "/work/2")["handler"])


@pytest.mark.parametrize("kind", ["def", "async def"])
@pytest.mark.parametrize("exception", ["SystemExit", "KeyboardInterrupt"])
def test_system_exit_and_keyboard_interrupt_in_a_handler_answer_500_and_the_mock_serves_on(
        proto: Prototype, kind: str, exception: str) -> None:
    namespace: dict = {}
    exec(f"{kind} quit(request):\n    raise {exception}('bye')", namespace)
    proto.handler("GET /quit")(namespace["quit"])
    proto.handler("GET /ok", name="ok")(lambda request: {"ok": True})
    server = proto.session.start(port=0)
    for _ in range(2):
        answer = requests.get(server.url + "/quit", timeout=10)
        assert answer.status_code == 500 and answer.json()["error"]["exception"] == exception
        assert f"raised {exception}" in answer.json()["error"]["message"]
        assert requests.get(server.url + "/ok", timeout=10).json() == {"ok": True}
    port = server.port
    proto.session.stop()
    import socket
    with pytest.raises(ConnectionRefusedError):  # nothing listens on the port any more
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert proto.session.new_errors() == []


# -- what one client sends cannot spoil a resource for everyone (issue 19, re-check) -------------------------


def _strict_json(text: str):
    """``text`` parsed as a browser's JSON.parse would: NaN and Infinity refused."""
    def refuse(constant: str):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("method,tail", [("POST", ""), ("PUT", "/1"), ("PATCH", "/1")])
@pytest.mark.parametrize("body,path,said", [
    ('{"title": NaN}', "$.title", "NaN"),
    ('{"title": "x", "n": -Infinity}', "$.n", "-Infinity"),
    ('{"id": 1e400}', "$.id", "1e400"),
    ('{"tags": ["a", {"score": Infinity}]}', "$.tags[1].score", "Infinity"),
], ids=["NaN", "-Infinity", "1e400", "nested"])
def test_non_standard_json_into_a_resource_answers_400_naming_where(proto: Prototype, method: str, tail: str,
                                                                     body: str, path: str, said: str) -> None:
    proto.resource("users", SEED)
    url = proto.session.start(port=0).url + "/users"
    answer = requests.request(method, url + tail, data=body, headers={"content-type": "application/json"}, timeout=5)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert f"{path} is {said}" in error, error
    listed = requests.get(url, timeout=5)
    assert _strict_json(listed.text) == SEED  # nothing changed, and the list stays JSON every parser reads
    assert proto.session.new_errors() == []


def test_a_nan_the_notebook_puts_in_a_record_is_served_as_null_and_refused_in_a_seed(proto: Prototype) -> None:
    from postmock_nb.errors import ExampleDefinitionError

    users = proto.resource("users", SEED)
    url = proto.session.start(port=0).url + "/users"
    users.append({"id": 3, "name": "Cy", "score": float("nan"), "max": float("inf")})
    listed = requests.get(url, timeout=5)
    assert listed.status_code == 200 and _strict_json(listed.text)[-1] == {"id": 3, "name": "Cy", "score": None,
                                                                           "max": None}
    assert _strict_json(requests.get(url + "/3", timeout=5).text)["score"] is None
    with pytest.raises(ExampleDefinitionError, match=r"record 0 of resource 'bad': \$\.v\.w is nan"):
        proto.resource("bad", [{"id": 1, "v": {"w": float("nan")}}])


def test_a_handler_reading_nan_answers_400_and_one_returning_nan_is_told(proto: Prototype) -> None:
    @proto.handler("POST /orders")
    def create(request):
        return {"got": request.json}, 201

    @proto.handler("GET /score")
    def score(request):
        return {"score": float("nan")}

    url = proto.session.start(port=0).url
    returned = requests.get(url + "/score", timeout=5)  # never NaN on the wire: the handler's author is told
    assert returned.status_code == 500 and _strict_json(returned.text)["error"]["name"] == "mockHandlerReturn"
    assert "handler 'score' returned a dict that is not JSON" in returned.json()["error"]["message"]
    answer = requests.post(url + "/orders", data='{"a": [1, NaN]}', headers={"content-type": "application/json"},
                           timeout=5)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["name"] == "mockBadRequestBody" and "$.a[1] is NaN" in answer.text
    assert proto.session.new_errors() == []


def test_an_id_is_a_string_or_a_whole_number(proto: Prototype) -> None:
    proto.resource("users", SEED)
    url = proto.session.start(port=0).url + "/users"
    for body in ('{"id": 1.0, "name": "float one"}', '{"id": 2}'):  # 1.0 is the id 1: taken
        taken = requests.post(url, data=body, headers={"content-type": "application/json"}, timeout=5)
        assert taken.status_code == 409, taken.text
    for body, said in (('{"id": true}', "is true"), ('{"id": 1.5}', "is 1.5"), ('{"id": [1]}', "is a JSON array"),
                       ('{"id": {"a": 1}}', "is a JSON value")):
        refused = requests.post(url, data=body, headers={"content-type": "application/json"}, timeout=5)
        assert refused.status_code == 400, (body, refused.text)
        assert f"$.id {said}: an id must be a string or a whole number" in refused.json()["error"]
    assert _listed(url) == SEED
    made = requests.post(url, json={"id": 7.0, "name": "seven"}, timeout=5)
    assert made.status_code == 201 and made.json()["id"] == 7 and made.headers["location"].endswith("/users/7")
    assert requests.get(url + "/7", timeout=5).json() == {"id": 7, "name": "seven"}


def test_integer_ids_are_bounded_and_the_next_made_id_never_fails(proto: Prototype) -> None:
    MAX_ID = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER, the documented bound

    proto.resource("users", SEED)
    url = proto.session.start(port=0).url + "/users"
    for method, tail in (("POST", ""), ("PUT", "/1"), ("PATCH", "/1")):
        for big in ("9" * 5000, "9" * 4300, "-" + "9" * 400, str(MAX_ID + 1), str(-MAX_ID - 1)):
            answer = requests.request(method, url + tail, data='{"id": ' + big + "}",
                                      headers={"content-type": "application/json"}, timeout=5)
            assert answer.status_code == 400, (method, big[:20], answer.text[:200])
            error = answer.json()["error"]
            assert str(MAX_ID) in error and "$.id" in error and "set_int_max_str_digits" not in error, error
    assert _listed(url) == SEED
    assert requests.post(url, json={"title": "next"}, timeout=5).json()["id"] == 3
    edge = requests.post(url, json={"id": MAX_ID, "title": "edge"}, timeout=5)
    assert edge.status_code == 201, edge.text
    after = requests.post(url, json={"title": "after the edge"}, timeout=5)  # no id left above: the first free one
    assert after.status_code == 201 and after.json()["id"] == 4, after.text
    assert [r["id"] for r in _listed(url)] == [1, 2, 3, MAX_ID, 4]
    assert proto.session.new_errors() == []


def test_a_seed_with_an_id_out_of_range_is_refused_in_one_line(tmp_path) -> None:
    from IPython.core.error import UsageError

    from postmock_nb.errors import ExampleDefinitionError

    big = "9" * 4300
    with loaded_shell() as ip:
        with pytest.raises(UsageError) as raised:
            ip.run_cell_magic("resource", "todos", '[{"id": ' + big + "}]")
        lines = str(raised.value).splitlines()
        assert len(lines) == 2 and "record 0 of resource 'todos'" in lines[0] and "9007199254740991" in lines[0]
        assert lines[1].startswith("Hint:") and "todos" not in session_of(ip).behaviours.resources
        with pytest.raises(ExampleDefinitionError, match="'id' is true: an id must be a string or a whole number"):
            ip.user_ns["mock"].resource("flags", [{"id": True}])
    for seed, said in (("[{\"id\": " + big + "}]", "9007199254740991"), ('[{"id": 1, "v": NaN}]', "$[0].v is NaN")):
        path = _seeded_collection(tmp_path, seed)
        with loaded_shell() as ip:
            with pytest.raises(UsageError) as raised:
                ip.run_line_magic("mock", f"load {path}")
            lines = str(raised.value).splitlines()
            assert len(lines) == 2 and "resource 'todos'" in lines[0] and said in lines[0], lines
            assert lines[1].startswith("Hint:") and len(session_of(ip).store.collection.examples) == 0


def _seeded_collection(tmp_path, seed: str):
    """A saved resource ``todos`` whose list example (its seed) is ``seed``."""
    session = Session()
    Prototype(session).resource("todos", [{"id": 1}])
    path = session.save(tmp_path / "seeded.postman_collection.json")
    session.close()
    saved = json.loads(path.read_text())
    for item in saved["item"][0]["item"]:
        for response in item["response"]:
            if any("op=list" in h["value"] for h in response["originalRequest"]["header"]):
                response["body"] = seed
    path.write_text(json.dumps(saved))
    return path


def test_lists_and_limits_say_1_record_and_1_call(capsys) -> None:
    with loaded_shell() as ip:
        ip.run_cell_magic("resource", "single --max-records 1", '[{"id": 1}]')
        ip.run_cell('@mock.handler("GET /h1")\ndef h1(r):\n    return {"h": 1}')
        ip.run_line_magic("mock", "start --no-dashboard")
        url = session_of(ip).url
        assert requests.get(url + "/h1", timeout=5).status_code == 200
        full = requests.post(url + "/single", json={"n": 2}, timeout=5)
        assert full.status_code == 507 and "it holds 1 record, its limit" in full.json()["error"]
        ip.run_cell_magic("resource", "tiny --max-bytes 1", "[]")
        too_big = requests.post(url + "/tiny", json={}, timeout=5)
        assert too_big.status_code == 413 and "(its limit is 1 byte)" in too_big.json()["error"], too_big.text
        listed = repr(ip.run_cell("%mock list").result)
        assert "(1 record, changed never)" in listed and "handler h1 (1 call, last" in listed, listed
        assert "1 records" not in listed and "1 calls" not in listed
        capsys.readouterr()
        ip.run_line_magic("mock", "clear")
        ip.run_cell_magic("example", "GET /one 200", '{"a": 1}')
        assert repr(session_of(ip).server).endswith(", 1 example>")


def test_clear_removes_the_resources_it_stops_serving(capsys) -> None:
    with loaded_shell() as ip:
        ip.run_cell_magic("resource", "single --id id", '[{"id": 1}]')
        ip.run_line_magic("mock", "start --no-dashboard")
        url = session_of(ip).url
        capsys.readouterr()
        ip.run_line_magic("mock", "clear")
        assert capsys.readouterr().out.strip() == "Deleted all 6 examples, and with them 1 resource (single)."
        assert requests.get(url + "/single", timeout=5).status_code == 404
        ip.run_line_magic("mock", "reset")
        assert capsys.readouterr().out.strip() == "Nothing to reset: no resources, scenarios or sequences."
        assert ip.run_cell("names = list(mock.resources)").success and ip.user_ns["names"] == []
        ip.run_cell_magic("resource", "single --id id", '[{"id": 5}]')  # defined again: served afresh
        assert requests.get(url + "/single", timeout=5).json() == [{"id": 5}]
