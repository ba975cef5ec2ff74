"""The admin API's writes over a real socket: each endpoint, the admin key, the write API off beyond
loopback, and every refusal leaving the mock as it was."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from postmock_nb.behaviours.resources import ResourceStore
from postmock_nb.core.model import Collection
from postmock_nb.formats.postman import to_postman
from postmock_nb.serving.server import MockServer

KEY = "admin-s3cret"
ADMIN = {"x-postmock-admin-key": KEY}
TIMEOUT = 10


@pytest.fixture
def collection(build) -> Collection:
    return build.collection(build.example("GET /users", "List users", body='[{"id": 1}]', id="ex-list"),
                            build.example("GET /health", "Health", body="ok", id="ex-health"), name="team mock")


@pytest.fixture
def mock(collection):
    with MockServer(collection, port=0, admin_key=KEY, private=True, api_key="mock-key") as server:
        yield server


def admin(server: MockServer, method: str, path: str, *, key: str | None = KEY, **kwargs) -> requests.Response:
    headers = {"x-api-key": "mock-key", **kwargs.pop("headers", {})}
    if key is not None:
        headers["x-postmock-admin-key"] = key
    return requests.request(method, f"{server.url}/__postmock{path}", headers=headers, timeout=TIMEOUT, **kwargs)


def served(server: MockServer, path: str) -> requests.Response:
    return requests.get(server.url + path, headers={"x-api-key": "mock-key"}, timeout=TIMEOUT)


def items_of(build, *examples) -> dict:
    return to_postman(build.collection(*examples, name="incoming"))


def example_ids(server: MockServer) -> list[str]:
    return [e.id for e in server.store.collection.examples]


def resource_examples(name: str, records: list[dict]) -> Collection:
    resource = ResourceStore().define(name, records, path=f"/{name}")
    collection = Collection(name="resources")
    for example in resource.examples():
        collection = collection.with_example(example)
    return collection


# -- each endpoint ------------------------------------------------------------------------------------

def test_get_collection_is_postman_v21(mock):
    answer = admin(mock, "GET", "/collection", key=None)  # a read: the mock's key is enough
    assert answer.status_code == 200
    data = answer.json()
    assert data["info"]["schema"].endswith("v2.1.0/collection.json")
    assert data["info"]["name"] == "team mock"
    names = [r["name"] for item in data["item"] for r in item["response"]]
    assert names == ["List users", "Health"]


def test_post_items_merges_and_answers_the_merge_report(mock, build):
    incoming = items_of(build, build.example("GET /orders", "Orders", body="[]", id="ex-orders"))
    answer = admin(mock, "POST", "/items", json=incoming)
    assert answer.status_code == 201
    report = answer.json()
    assert report["report"].startswith("Merged 'incoming' into 'team mock': 1 example added, 0 replaced")
    assert "+ added    GET /orders" in report["report"]
    assert [e["id"] for e in report["added"]] == ["ex-orders"]
    assert served(mock, "/orders").json() == []
    again = admin(mock, "POST", "/items", json=items_of(build, build.example("GET /orders", "Orders", body="[1]",
                                                                             id="ex-orders")))
    assert again.status_code == 200
    assert [e["id"] for e in again.json()["replaced"]] == ["ex-orders"]
    assert served(mock, "/orders").json() == [1]


def test_post_items_takes_a_bare_list_of_items(mock, build):
    items = items_of(build, build.example("GET /things", "Things", body="[2]"))["item"]
    answer = admin(mock, "POST", "/items", json=items)
    assert answer.status_code == 201
    assert served(mock, "/things").json() == [2]


def test_post_items_replace_by_name_keeps_the_id(mock, build):
    answer = admin(mock, "POST", "/items", params={"replace": "name"},
                   json=items_of(build, build.example("GET /users", "List users", body="[]")))
    assert answer.status_code == 200
    assert [e["id"] for e in answer.json()["replaced"]] == ["ex-list"]
    assert served(mock, "/users").json() == []


def test_put_collection_replaces_it(mock, build):
    answer = admin(mock, "PUT", "/collection",
                   json=to_postman(build.collection(build.example("GET /only", "Only", body="1"), name="new one")))
    assert answer.status_code == 200
    assert answer.json() == {"replaced": True, "name": "new one", "kind": "Postman collection", "examples": 1}
    assert served(mock, "/only").text == "1"
    assert served(mock, "/users").status_code == 404


def test_put_collection_takes_an_openapi_document_in_yaml(mock):
    document = """openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              example: [{"name": "Rex"}]
"""
    answer = admin(mock, "PUT", "/collection", data=document.encode(), headers={"content-type": "application/yaml"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["kind"].startswith("OpenAPI 3.0")
    assert served(mock, "/pets").json() == [{"name": "Rex"}]


def test_put_collection_takes_a_swagger_2_document(mock):
    document = {"swagger": "2.0", "info": {"title": "Old pets", "version": "1"}, "basePath": "/v2",
                "paths": {"/pets": {"get": {"responses": {"200": {
                    "description": "ok", "examples": {"application/json": [{"name": "Rex"}]}}}}}}}
    answer = admin(mock, "PUT", "/collection", json=document)
    assert answer.status_code == 200, answer.text
    assert answer.json()["kind"] == "Swagger 2.0 document (read as OpenAPI 3.0)"
    assert served(mock, "/v2/pets").json() == [{"name": "Rex"}]
    assert served(mock, "/pets").json() == [{"name": "Rex"}]


def test_delete_an_example(mock):
    answer = admin(mock, "DELETE", "/examples/ex-health")
    assert answer.status_code == 200
    assert [e["id"] for e in answer.json()["deleted"]] == ["ex-health"]
    assert example_ids(mock) == ["ex-list"]
    missing = admin(mock, "DELETE", "/examples/ex-health")
    assert missing.status_code == 404
    assert missing.json()["error"]["name"] == "exampleNotFound"
    assert "'ex-health'" in missing.json()["error"]["message"]


def test_resources_posted_are_served_and_reset_to_their_seed(mock):
    posted = admin(mock, "POST", "/items", json=to_postman(resource_examples("notes", [{"id": 1, "text": "a"}])))
    assert posted.status_code == 201, posted.text
    created = requests.post(f"{mock.url}/notes", json={"text": "b"}, headers={"x-api-key": "mock-key"},
                            timeout=TIMEOUT)
    assert created.status_code == 201
    assert len(served(mock, "/notes").json()) == 2
    assert admin(mock, "DELETE", "/resources/notes").status_code == 204
    assert served(mock, "/notes").json() == [{"id": 1, "text": "a"}]
    requests.post(f"{mock.url}/notes", json={"text": "c"}, headers={"x-api-key": "mock-key"}, timeout=TIMEOUT)
    assert admin(mock, "DELETE", "/resources").status_code == 204
    assert served(mock, "/notes").json() == [{"id": 1, "text": "a"}]
    unknown = admin(mock, "DELETE", "/resources/nope")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "no resource named 'nope' (this mock's resources: notes)"


# -- refusals: each leaves the mock as it was ---------------------------------------------------------

@pytest.mark.parametrize(("key", "name"), [(None, "adminKeyRequired"), ("wrong", "adminKeyWrong"),
                                           ("mock-key", "adminKeyWrong")])
def test_writes_need_the_admin_key(mock, build, key, name):
    before = admin(mock, "GET", "/collection").json()
    for method, path, body in (("POST", "/items", items_of(build, build.example("GET /x", "X"))),
                               ("PUT", "/collection", items_of(build, build.example("GET /x", "X"))),
                               ("DELETE", "/examples/ex-list", None), ("DELETE", "/resources", None)):
        answer = admin(mock, method, path, key=key, json=body)
        assert answer.status_code == 401, (method, path)
        error = answer.json()["error"]
        assert error["name"] == name
        assert "x-postmock-admin-key" in error["message"]
    assert admin(mock, "GET", "/collection").json() == before


def test_the_mock_key_alone_cannot_write(mock, build):
    answer = requests.post(f"{mock.url}/__postmock/items", json=items_of(build, build.example("GET /x", "X")),
                           headers={"x-api-key": "mock-key"}, timeout=TIMEOUT)
    assert answer.status_code == 401
    assert "the mock's x-api-key does not do" in answer.json()["error"]["message"]
    assert example_ids(mock) == ["ex-list", "ex-health"]


def test_beyond_loopback_with_no_admin_key_the_writes_are_off(collection, build):
    with MockServer(collection, host="0.0.0.0", port=0) as server:
        base = f"http://127.0.0.1:{server.port}/__postmock"
        answer = requests.post(f"{base}/items", json=items_of(build, build.example("GET /x", "X")), timeout=TIMEOUT)
        assert answer.status_code == 403
        error = answer.json()["error"]
        assert error["name"] == "adminWritesOff"
        assert "--admin-key KEY" in error["message"] and "POSTMOCK_ADMIN_KEY" in error["message"]
        assert requests.delete(f"{base}/examples/ex-list", timeout=TIMEOUT).status_code == 403
        assert requests.get(f"{base}/collection", timeout=TIMEOUT).status_code == 200  # reads keep their rules
        assert [e.id for e in server.store.collection.examples] == ["ex-list", "ex-health"]


def test_on_loopback_with_no_admin_key_writes_are_on(collection, build):
    with MockServer(collection, port=0) as server:
        answer = requests.post(f"{server.url}/__postmock/items",
                               json=items_of(build, build.example("GET /x", "X", body="x")), timeout=TIMEOUT)
        assert answer.status_code == 201
        assert requests.get(f"{server.url}/x", timeout=TIMEOUT).text == "x"


def test_on_loopback_with_no_admin_key_a_web_page_of_another_site_cannot_write(collection, build):
    """A page open in the developer's browser may POST text/plain to 127.0.0.1 without a preflight (a "simple"
    request), or reach it through a DNS name rebound to 127.0.0.1: with no admin key, neither may write."""
    incoming = json.dumps(items_of(build, build.example("GET /pwned", "Pwned", body="pwned")))
    with MockServer(collection, port=0) as server:
        posts = {"cross-site form": {"content-type": "text/plain", "origin": "http://evil.example"},
                 "sandboxed page": {"content-type": "text/plain", "origin": "null"},
                 "rebound DNS name": {"content-type": "text/plain", "host": f"evil.example:{server.port}",
                                      "origin": f"http://evil.example:{server.port}"}}
        for what, headers in posts.items():
            answer = requests.post(f"{server.url}/__postmock/items", data=incoming, headers=headers, timeout=TIMEOUT)
            assert answer.status_code == 403, what
            error = answer.json()["error"]
            assert error["name"] == "adminWritesCrossSite" and "--admin-key KEY" in error["message"], what
        deleted = requests.delete(f"{server.url}/__postmock/examples/ex-list", headers={"origin": "http://evil.example"},
                                  timeout=TIMEOUT)
        assert deleted.status_code == 403
        assert requests.get(f"{server.url}/pwned", timeout=TIMEOUT).status_code == 404
        assert [e.id for e in server.store.collection.examples] == ["ex-list", "ex-health"]
        own_page = requests.post(f"{server.url}/__postmock/items", data=incoming, timeout=TIMEOUT,
                                 headers={"content-type": "application/json", "origin": server.url})
        assert own_page.status_code == 201  # a page the mock itself serves is its own origin
    with MockServer(collection, port=0, admin_key=KEY) as keyed:  # the key is the proof: any origin may write
        answer = requests.post(f"{keyed.url}/__postmock/items", data=incoming, timeout=TIMEOUT,
                               headers={"content-type": "application/json", "origin": "http://app.example", **ADMIN})
        assert answer.status_code == 201


def test_a_python_handler_is_refused(mock, build):
    before = example_ids(mock)
    incoming = items_of(build, build.example("GET /fine", "Fine"),
                        build.example("GET /code", "Code", request_headers={"x-mock-handler": "cell-1"}))
    answer = admin(mock, "POST", "/items", json=incoming)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["name"] == "handlerRefused"
    assert "Python handlers are never accepted remotely" in error["message"]
    assert error["location"] == "GET /code > Code"
    assert admin(mock, "PUT", "/collection", json=incoming).status_code == 400
    assert example_ids(mock) == before  # not even the example beside it


def test_broken_json_is_a_400_with_its_position(mock):
    answer = admin(mock, "POST", "/items", data=b'{"item": [\n  {"name": "x",}\n]}',
                   headers={"content-type": "application/json"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["name"] == "invalidJson"
    assert (error["line"], error["column"]) == (2, 16)
    assert "line 2, column 16" in error["message"]
    assert example_ids(mock) == ["ex-list", "ex-health"]


def test_a_wrong_shape_names_where(mock):
    answer = admin(mock, "PUT", "/collection", json={"info": {"name": "x"}, "item": [{"name": "a", "item": 5}]})
    assert answer.status_code == 400
    assert answer.json()["error"]["name"] == "invalidCollection"
    assert admin(mock, "POST", "/items", json={"neither": 1}).status_code == 400
    assert example_ids(mock) == ["ex-list", "ex-health"]


def test_a_body_over_the_limit_is_a_413(collection, build):
    with MockServer(collection, port=0, max_body_bytes=2000) as server:
        big = items_of(build, build.example("GET /big", "Big", body="x" * 5000))
        answer = requests.post(f"{server.url}/__postmock/items", data=json.dumps(big).encode(), timeout=TIMEOUT)
        assert answer.status_code == 413
        assert answer.json()["error"]["name"] == "mockRequestTooLarge"
        assert [e.id for e in server.store.collection.examples] == ["ex-list", "ex-health"]


def test_status_says_whether_writes_are_on(collection):
    with MockServer(collection, port=0, admin_key=KEY) as server:
        from postmock_nb.serving.adminwrites import writes_state

        shown = writes_state(server.config)
        assert shown.startswith("on (send x-postmock-admin-key: ")
        assert KEY not in shown


def test_the_admin_key_alone_writes_to_a_private_mock(mock, build):
    answer = requests.post(f"{mock.url}/__postmock/items", json=items_of(build, build.example("GET /k", "K")),
                           headers=ADMIN, timeout=TIMEOUT)  # no x-api-key: the admin key is the stronger one
    assert answer.status_code == 201
    assert requests.get(f"{mock.url}/__postmock/collection", headers=ADMIN, timeout=TIMEOUT).status_code == 401


def test_mock_status_says_whether_writes_are_on(shell, capsys):
    shell.run_line_magic("example", "GET /users 200")
    shell.run_line_magic("mock", "start --no-dashboard --admin-key notebook-admin-key")
    try:
        capsys.readouterr()
        shell.run_line_magic("mock", "status")
        out = capsys.readouterr().out
        assert "Admin API writes: on (send x-postmock-admin-key: " in out
        assert "notebook-admin-key" not in out
        url = shell.user_ns["mockUrl"]
        refused = requests.delete(f"{url}/__postmock/resources", timeout=TIMEOUT)
        assert refused.status_code == 401
        assert requests.delete(f"{url}/__postmock/resources", headers={"x-postmock-admin-key": "notebook-admin-key"},
                               timeout=TIMEOUT).status_code == 204
    finally:
        shell.run_line_magic("mock", "stop")


def test_several_workers_without_shared_state_refuse_writes(collection, build):
    with MockServer(collection, port=0, workers=2) as server:  # one of the workers (the others are not forked here)
        answer = requests.post(f"{server.url}/__postmock/items", json=items_of(build, build.example("GET /w", "W")),
                               timeout=TIMEOUT)
        assert answer.status_code == 409
        assert answer.json()["error"]["hint"] == "share them with --state redis://HOST:PORT/DB, or serve with --workers 1"
        assert requests.delete(f"{server.url}/__postmock/log", timeout=TIMEOUT).status_code == 204  # per worker, as before
        assert [e.id for e in server.store.collection.examples] == ["ex-list", "ex-health"]


def test_the_admin_key_sent_to_the_mock_is_masked_in_the_journal(mock):
    """A harness that sends its admin key on every request (a session's default headers) never sees it shown."""
    assert served(mock, "/users").status_code == 200  # a read of the mock: the mock's key does
    requests.get(mock.url + "/users", headers={"x-api-key": "mock-key", **ADMIN}, timeout=TIMEOUT)
    listed = admin(mock, "GET", "/requests", key=None, params={"header": "x-postmock-admin-key"})
    assert listed.status_code == 200 and len(listed.json()) == 1
    assert dict(listed.json()[0]["headers"])["x-postmock-admin-key"] == "ad…" and KEY not in listed.text
    seq = listed.json()[0]["seq"]
    explained = admin(mock, "GET", f"/log/{seq}", key=None)
    assert explained.status_code == 200 and KEY not in explained.text
    failed = admin(mock, "POST", "/verify", key=None, json={"request": "GET /users", "times": 5,
                                                           "headers": {"x-postmock-admin-key": KEY}})
    assert failed.json()["verified"] is False and KEY not in failed.text


def test_a_posted_document_is_read_off_the_servers_loop(collection, build, monkeypatch):
    """Reading a large posted document takes seconds (YAML most): the mock answers its requests meanwhile."""
    from postmock_nb.serving import adminwrites

    reading, release = threading.Event(), threading.Event()
    parse = adminwrites.parse_body

    def slow_parse(body: bytes, content_type: str):
        reading.set()
        assert release.wait(TIMEOUT)  # held until the mock has answered below
        return parse(body, content_type)

    monkeypatch.setattr(adminwrites, "parse_body", slow_parse)
    with MockServer(collection, port=0) as server:
        answers: list[int] = []
        put = threading.Thread(target=lambda: answers.append(requests.put(
            f"{server.url}/__postmock/collection", json=items_of(build, build.example("GET /x", "X")),
            timeout=TIMEOUT).status_code))
        put.start()
        try:
            assert reading.wait(TIMEOUT)
            assert requests.get(f"{server.url}/users", timeout=TIMEOUT).status_code == 200  # while it reads
        finally:
            release.set()
            put.join(TIMEOUT)
        assert answers == [200]


def test_a_route_or_method_the_admin_api_has_not_is_its_json_error(mock):
    wrong = admin(mock, "PATCH", "/collection")
    assert wrong.status_code == 405 and wrong.headers["content-type"] == "application/json"
    assert set(wrong.headers["allow"].split(", ")) >= {"GET", "PUT"}
    error = wrong.json()["error"]
    assert error["name"] == "adminMethodNotAllowed" and error["message"].startswith(
        "PATCH /__postmock/collection: this route takes ")
    assert "PUT /__postmock/collection" in error["hint"]
    missing = admin(mock, "GET", "/nope")
    assert missing.status_code == 404 and missing.json()["error"] == {
        "name": "adminRouteNotFound", "header": "Not Found",
        "message": "GET /__postmock/nope: no such route in the admin API", "hint": missing.json()["error"]["hint"]}
    assert missing.json()["error"]["hint"].startswith("GET /__postmock/health")


def test_a_resource_of_a_file_is_reset_before_any_request_restored_it():
    """A process (a `postmock serve --workers` worker) restores a file's resources on its first request; a reset that
    comes first restores them too, instead of a 404 for a resource the mock serves."""
    with MockServer(resource_examples("tasks", [{"id": 1, "title": "seed"}]), port=0, admin_key=KEY,
                    private=True, api_key="mock-key") as server:
        assert admin(server, "DELETE", "/resources/tasks").status_code == 204
        assert served(server, "/tasks").json() == [{"id": 1, "title": "seed"}]
