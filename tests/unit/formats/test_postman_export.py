"""Export to Postman v2.1: schema-valid, complete, round-trips, and readable by Postman's own SDK.

Also the loading side the issue asks for: v2.0 files load, bad files fail with one error that
names the item path, and a failing load changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support.fixture_collections import FIXTURES_DIR, fixture_names

from postmock_nb.core.model import Collection, Example, Item, RequestSpec, ResponseSpec
from postmock_nb.errors import CollectionFormatError
from postmock_nb.formats.merging import merge
from postmock_nb.formats.postman import (
    load_collection,
    parse_collection,
    request_json,
    save_collection,
    to_postman,
)
from postmock_nb.formats.schema import validate_postman
from postmock_nb.matching.store import LiveCollection

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = FIXTURES_DIR
DATA = Path(__file__).resolve().parents[2] / "data"
FIXTURE_NAMES = fixture_names()
NODE_MODULES = ROOT / "node_modules"
JSON = (("Content-Type", "application/json"),)


def built_collection() -> Collection:
    """A collection made in code with everything an export has to carry."""
    get_user = RequestSpec("GET", "/users/:id", headers=(("Accept", "application/json"),),
                           path_variables=(("id", "1"),), description="Fetch one user")
    items = (
        Item(name="Get user", folder=("Users",), request=get_user, description="The user endpoint", examples=(
            Example("User 1", get_user, ResponseSpec(200, headers=JSON, body='{"id": 1, "name": "Ada"}')),
            Example("No such user", RequestSpec("GET", "/users/:id", headers=(("x-mock-response-code", "404"),),
                                                path_variables=(("id", "99"),)),
                    ResponseSpec(404, reason="Not Found", headers=JSON, body='{"error": "not found"}')),
        ), events=({"listen": "test", "script": {"type": "text/javascript", "exec": ["pm.test('ok', () => {});"]}},)),
        Item(name="Search users", folder=("Users", "Search"),
             request=RequestSpec("GET", "/users", query=(("role", "admin"), ("page", "2"))), examples=(
            Example("Admins page 2", RequestSpec("GET", "/users", query=(("role", "admin"), ("page", "2"))),
                    ResponseSpec(200, headers=JSON, body="[]")),
        )),
        Item(name="Create user", request=RequestSpec("POST", "/users"), examples=(
            Example("Created", RequestSpec("POST", "/users", headers=JSON, body='{"name": "Bob"}', body_language="json"),
                    ResponseSpec(201, headers=JSON + (("Location", "/users/2"),), body='{"id": 2}')),
        )),
        Item(name="Login form", request=RequestSpec("POST", "/login"), examples=(
            Example("Logged in", RequestSpec("POST", "/login", body="user=ada&password=secret", body_mode="urlencoded"),
                    ResponseSpec(204)),
            Example("Upload", RequestSpec("POST", "/login", body="avatar=x", body_mode="formdata"),
                    ResponseSpec(200, headers=(("Content-Type", "text/plain"),), body="stored")),
        )),
        Item(name="GraphQL", request=RequestSpec("POST", "/graphql"), examples=(
            Example("Query", RequestSpec("POST", "/graphql", body=json.dumps({"query": "{ me { id } }", "variables": {}}),
                                         body_mode="graphql", body_language="json"),
                    ResponseSpec(200, headers=JSON, body='{"data": {"me": {"id": 1}}}')),
        )),
        Item(name="Health", request=RequestSpec("GET", "/health", base="http://127.0.0.1:8123"), examples=(
            Example("Up", RequestSpec("GET", "/health", base="http://127.0.0.1:8123"),
                    ResponseSpec(200, headers=(("Content-Type", "text/html; charset=utf-8"),), body="<p>up</p>")),
        )),
    )
    return Collection(name="Built in code", items=items, description="made by test_postman_export",
                      variables=(("baseUrl", "http://127.0.0.1:8000"), ("mockUrl", "http://127.0.0.1:8000")))


def fixture(name: str) -> Collection:
    return load_collection(FIXTURES / name)


def walk_items(items: list[dict], folder: tuple[str, ...] = ()):
    """(folder, item JSON) for every request item of exported JSON."""
    for entry in items:
        if "item" in entry:
            yield from walk_items(entry["item"], folder + (entry["name"],))
        else:
            yield folder, entry


# -- the export is valid against the official schema ---------------------------------------


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_export_of_every_fixture_is_schema_valid(name: str) -> None:
    assert validate_postman(to_postman(fixture(name))) == []


def test_export_of_a_collection_built_in_code_is_schema_valid() -> None:
    assert validate_postman(to_postman(built_collection())) == []


def test_export_is_plain_json() -> None:
    data = to_postman(built_collection())
    assert json.loads(json.dumps(data)) == data


# -- the export carries every field Postman needs ------------------------------------------


def test_info_and_collection_variables() -> None:
    collection = built_collection()
    data = to_postman(collection)
    assert data["info"] == {"_postman_id": collection.id, "name": "Built in code",
                            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
                            "description": "made by test_postman_export"}
    assert data["variable"] == [{"key": "baseUrl", "value": "http://127.0.0.1:8000", "type": "string"},
                                {"key": "mockUrl", "value": "http://127.0.0.1:8000", "type": "string"}]


def test_every_example_has_the_fields_postman_needs() -> None:
    for folder, item in walk_items(to_postman(built_collection())["item"]):
        assert item["response"], f"item {item['name']!r} lost its examples"
        for example in item["response"]:
            missing = {"id", "name", "originalRequest", "code", "status", "header", "body",
                       "_postman_previewlanguage"} - set(example)
            assert not missing, f"example {example.get('name')!r} of {item['name']!r}: missing {sorted(missing)}"
            assert isinstance(example["code"], int)


def test_example_values() -> None:
    items = {item["name"]: item for _, item in walk_items(to_postman(built_collection())["item"])}
    not_found = items["Get user"]["response"][1]
    assert (not_found["name"], not_found["code"], not_found["status"]) == ("No such user", 404, "Not Found")
    assert not_found["header"] == [{"key": "Content-Type", "value": "application/json"}]
    assert not_found["body"] == '{"error": "not found"}'
    assert not_found["_postman_previewlanguage"] == "json"
    assert not_found["originalRequest"]["header"] == [{"key": "x-mock-response-code", "value": "404"}]
    created = items["Create user"]["response"][0]
    assert (created["code"], created["status"]) == (201, "Created")
    assert created["originalRequest"]["body"] == {"mode": "raw", "raw": '{"name": "Bob"}',
                                                  "options": {"raw": {"language": "json"}}}
    assert items["Health"]["response"][0]["_postman_previewlanguage"] == "html"
    assert items["Login form"]["response"][1]["_postman_previewlanguage"] == "text"


def test_path_variables_and_url_parts() -> None:
    items = {item["name"]: item for _, item in walk_items(to_postman(built_collection())["item"])}
    url = items["Get user"]["request"]["url"]
    assert url == {"raw": "{{baseUrl}}/users/:id", "host": ["{{baseUrl}}"], "path": ["users", ":id"],
                   "variable": [{"key": "id", "value": "1"}]}
    assert items["Get user"]["response"][1]["originalRequest"]["url"]["variable"] == [{"key": "id", "value": "99"}]


def test_query_parameters() -> None:
    items = {item["name"]: item for _, item in walk_items(to_postman(built_collection())["item"])}
    url = items["Search users"]["response"][0]["originalRequest"]["url"]
    assert url["raw"] == "{{baseUrl}}/users?role=admin&page=2"
    assert url["query"] == [{"key": "role", "value": "admin"}, {"key": "page", "value": "2"}]


def test_a_port_is_not_part_of_the_host() -> None:
    url = request_json(RequestSpec("GET", "/health", base="http://127.0.0.1:8123"))["url"]
    assert url == {"raw": "http://127.0.0.1:8123/health", "protocol": "http", "host": ["127", "0", "0", "1"],
                   "port": "8123", "path": ["health"]}
    assert request_json(RequestSpec("GET", "/", base="localhost:3000"))["url"]["host"] == ["localhost"]


@pytest.mark.parametrize("mode, body, expected", [
    ("urlencoded", "user=ada&password=secret",
     {"mode": "urlencoded", "urlencoded": [{"key": "user", "value": "ada", "type": "text"},
                                           {"key": "password", "value": "secret", "type": "text"}]}),
    ("formdata", "avatar=x", {"mode": "formdata", "formdata": [{"key": "avatar", "value": "x", "type": "text"}]}),
    ("graphql", '{"query": "{ me }"}', {"mode": "graphql", "graphql": {"query": "{ me }"}}),
    ("raw", "<a/>", {"mode": "raw", "raw": "<a/>"}),
])
def test_bodies_keep_their_mode(mode: str, body: str, expected: dict) -> None:
    assert request_json(RequestSpec("POST", "/x", body=body, body_mode=mode))["body"] == expected


def test_folders_nest_and_scripts_and_descriptions_are_kept() -> None:
    data = to_postman(built_collection())
    names = [entry["name"] for entry in data["item"]]
    assert names == ["Users", "Create user", "Login form", "GraphQL", "Health"]
    users = data["item"][0]
    assert [entry["name"] for entry in users["item"]] == ["Get user", "Search"]
    assert users["item"][1]["item"][0]["name"] == "Search users"
    get_user = users["item"][0]
    assert get_user["event"][0]["listen"] == "test"
    assert get_user["description"] == "The user endpoint"
    assert get_user["request"]["description"] == "Fetch one user"


# -- round trip: import -> export -> import ------------------------------------------------


def example_fields(example: Example) -> dict:
    request, response = example.request, example.response
    return {"name": example.name, "method": request.method, "path": request.path, "query": request.query,
            "headers": request.headers, "body": request.body, "path_variables": request.path_variables,
            "status": response.status, "response_headers": response.headers, "response_body": response.body}


def assert_same_examples(before: Collection, after: Collection, label: str) -> None:
    old = {e.id: (item.folder, item.name, example_fields(e)) for item, e in before.iter_examples()}
    new = {e.id: (item.folder, item.name, example_fields(e)) for item, e in after.iter_examples()}
    assert set(old) == set(new), f"{label}: examples lost {set(old) - set(new)} / gained {set(new) - set(old)}"
    for example_id, (folder, item, fields) in old.items():
        new_folder, new_item, new_fields = new[example_id]
        assert (new_folder, new_item) == (folder, item), f"{label}: example {fields['name']!r} moved"
        for key, value in fields.items():
            assert new_fields[key] == value, (f"{label}: example {fields['name']!r} ({item}), field {key}: "
                                              f"{value!r} became {new_fields[key]!r}")


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_round_trip_keeps_every_example_of_every_fixture(name: str) -> None:
    before = fixture(name)
    after = parse_collection(json.loads(json.dumps(to_postman(before))))
    assert_same_examples(before, after, name)
    assert [e.id for e in after.examples] == [e.id for e in before.examples], f"{name}: example order changed"
    assert after.variables == before.variables
    assert (after.name, after.id) == (before.name, before.id)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_round_trip_keeps_items_and_folders(name: str) -> None:
    before = fixture(name)
    after = parse_collection(to_postman(before))
    assert [(i.id, i.folder, i.name) for i in after.items] == [(i.id, i.folder, i.name) for i in before.items]
    for old, new in zip(before.items, after.items):
        assert (new.request.method, new.request.path, new.request.query) == \
               (old.request.method, old.request.path, old.request.query), f"{name}: request of {old.name!r}"


def test_round_trip_keeps_folders_of_the_folder_fixture_both_ways() -> None:
    raw = json.loads((FIXTURES / "folder-tests.json").read_text(encoding="utf-8"))
    exported = to_postman(load_collection(raw))

    def shape(items: list[dict]) -> list:
        return [(entry["name"], shape(entry["item"])) if "item" in entry else entry["name"] for entry in items]

    assert shape(exported["item"]) == shape(raw["item"])
    folders = {item.folder for item in parse_collection(exported).items}
    assert folders == {item.folder for item in load_collection(raw).items}
    assert any(len(folder) >= 1 for folder in folders)


def test_round_trip_of_a_collection_built_in_code(tmp_path: Path) -> None:
    before = built_collection()
    path = save_collection(before, tmp_path / "built.postman_collection.json")
    after = load_collection(path)
    assert_same_examples(before, after, "built collection")
    assert after.variables == before.variables
    assert [(i.folder, i.name, i.description, i.events) for i in after.items] == \
           [(i.folder, i.name, i.description, i.events) for i in before.items]
    graphql = after.find("Query")[0][1]
    assert graphql.request.body_mode == "graphql"
    health = after.find("Up")[0][1]
    assert health.request.base == "http://127.0.0.1:8123"
    # and once more: an exported file exports to the same JSON again
    assert to_postman(after) == to_postman(load_collection(save_collection(after, tmp_path / "again.json")))


# -- Postman's own SDK reads the export -----------------------------------------------------

NODE_SCRIPT = r"""
const fs = require('fs');
const { Collection } = require('postman-collection');
const collection = new Collection(JSON.parse(fs.readFileSync(process.argv[1], 'utf8')));
const items = [];
collection.forEachItem((item) => {
  const url = item.request.url;
  items.push({
    name: item.name,
    method: item.request.method,
    path: url.getPath(true),
    query: url.query.map((q) => [q.key, q.value]),
    pathVariables: url.variables.map((v) => [v.key, v.value]),
    headers: item.request.headers.count(),
    examples: item.responses.map((r) => ({ name: r.name, code: r.code, body: r.text(),
                                          originalMethod: r.originalRequest ? r.originalRequest.method : null })),
  });
});
let folders = 0;
collection.forEachItemGroup(() => { folders += 1; });
console.log(JSON.stringify({ name: collection.name, id: collection.id, folders, items,
                             variables: collection.variables.map((v) => [v.key, v.value]) }));
"""


def node_reads(path: Path) -> dict:
    if shutil.which("node") is None:
        pytest.skip("node is not installed (scripts/install-system-deps.sh installs the Node tools)")
    if not (NODE_MODULES / "postman-collection").is_dir():
        pytest.skip(f"{NODE_MODULES}/postman-collection is missing: run `npm install` in {ROOT} "
                    "(scripts/install-system-deps.sh does)")
    env = dict(os.environ, NODE_PATH=str(NODE_MODULES))
    done = subprocess.run(["node", "-e", NODE_SCRIPT, str(path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, f"postman-collection could not load {path}:\n{done.stderr}"
    return json.loads(done.stdout)


def test_postman_collection_sdk_reads_the_built_export(tmp_path: Path) -> None:
    collection = built_collection()
    seen = node_reads(save_collection(collection, tmp_path / "built.json"))
    assert (seen["name"], seen["id"]) == (collection.name, collection.id)
    assert seen["folders"] == 2
    assert len(seen["items"]) == len(collection.items) == 6
    assert sum(len(i["examples"]) for i in seen["items"]) == len(collection.examples) == 8
    assert seen["variables"] == [["baseUrl", "http://127.0.0.1:8000"], ["mockUrl", "http://127.0.0.1:8000"]]
    by_name = {item["name"]: item for item in seen["items"]}
    get_user = by_name["Get user"]
    assert (get_user["method"], get_user["path"], get_user["pathVariables"]) == ("GET", "/users/:id", [["id", "1"]])
    assert [(e["name"], e["code"]) for e in get_user["examples"]] == [("User 1", 200), ("No such user", 404)]
    assert get_user["examples"][0]["body"] == '{"id": 1, "name": "Ada"}'
    assert by_name["Search users"]["query"] == [["role", "admin"], ["page", "2"]]
    assert by_name["Create user"]["examples"][0]["originalMethod"] == "POST"


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_postman_collection_sdk_reads_every_fixture_export(name: str, tmp_path: Path) -> None:
    collection = fixture(name)
    seen = node_reads(save_collection(collection, tmp_path / name))
    assert len(seen["items"]) == len(collection.items), f"{name}: item count"
    assert [[e["name"] for e in i["examples"]] for i in seen["items"]] == \
           [[e.name for e in i.examples] for i in collection.items], f"{name}: examples"
    assert [i["method"] for i in seen["items"]] == [i.request.method for i in collection.items]


# -- loading v2.0, and refusing bad files whole ---------------------------------------------


def test_a_v2_0_collection_loads() -> None:
    collection = load_collection(DATA / "v2.0-collection.json")
    assert collection.name == "Pets (v2.0)"
    assert [(i.folder, i.name) for i in collection.items] == [(("Pets",), "List pets"), (("Pets",), "Get pet"),
                                                              ((), "Health")]
    assert [e.describe() for e in collection.examples] == [
        'GET /pets?limit=2 → 200 "Two pets"',
        'GET /pets/:petId → 200 "Pet 7"',
        'GET /pets/:petId → 404 "No such pet"',
        'GET /health → 200 "Up"',
    ]
    pet = collection.find("Pet 7")[0][1]
    assert pet.request.path_variables == (("petId", "7"),)
    assert pet.response.header("content-type") == "application/json"
    assert collection.variables == (("baseUrl", "http://localhost:3000"),)
    assert collection.find("Up")[0][1].request.base == "http://localhost:3000"


def test_a_v2_0_collection_exports_as_valid_v2_1() -> None:
    collection = load_collection(DATA / "v2.0-collection.json")
    data = to_postman(collection)
    assert data["info"]["schema"].endswith("/v2.1.0/collection.json")
    assert validate_postman(data) == []
    assert_same_examples(collection, parse_collection(data), "v2.0 fixture")


def good() -> dict:
    return {
        "info": {"name": "Good", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [{"name": "Users", "item": [
            {"name": "List users", "request": {"method": "GET", "url": "{{baseUrl}}/users"},
             "response": [{"name": "OK", "code": 200, "body": "[]"}]},
            {"name": "Get user", "request": {"method": "GET", "url": "{{baseUrl}}/users/:id"},
             "response": [{"name": "Found", "code": 200, "body": "{}"}]},
        ]}],
    }


def broken(path: tuple, key: str, value) -> dict:
    data = good()
    node = data
    for step in path:
        node = node[step]
    node[key] = value
    return data


@pytest.mark.parametrize("data, where, what", [
    (broken(("item", 0, "item", 1, "response", 0), "code", "abc"),
     'item[0] "Users" > item[1] "Get user" > response[0] "Found"', "'code'"),
    (broken(("item", 0, "item", 1), "request", 5), 'item[0] "Users" > item[1] "Get user"', "'request'"),
    (broken(("item", 0, "item", 0, "request"), "header", [{"key": 1, "value": "x"}]),
     'item[0] "Users" > item[0] "List users" > header[0]', "'key'"),
    (broken(("item", 0, "item", 0, "response", 0), "body", {"json": True}),
     'item[0] "Users" > item[0] "List users" > response[0] "OK"', "'body'"),
    (broken(("item", 0), "item", "nope"), 'item[0] "Users"', "must be a list"),
    (broken(("item", 0, "item", 0, "request"), "url", {"raw": "/x", "path": 3}),
     'item[0] "Users" > item[0] "List users"', "url.path"),
    (broken((), "item", {}), "item", "'item' must be a list"),
    (broken(("info",), "name", 3), "info.name", "must be a string"),
])
def test_wrong_types_give_one_error_naming_the_item_path(data: dict, where: str, what: str) -> None:
    with pytest.raises(CollectionFormatError) as caught:
        load_collection(data)
    error = caught.value
    assert error.location.startswith(where), f"location {error.location!r} should start with {where!r}"
    assert what in error.message, f"message {error.message!r} should mention {what!r}"
    assert str(error).splitlines()[0].startswith(where)


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not valid JSON"),
    ('{"info": {"name": "x"}, "item": [', "not valid JSON"),
    (json.dumps({"id": "1", "name": "Old", "order": [], "requests": [{"id": "r", "url": "http://x"}]}),
     "Collection v1"),
    (json.dumps({"item": []}), "'info' is missing"),
    (json.dumps({"info": "Pets", "item": []}), "'info' must be an object"),
    (json.dumps({"info": {"name": "x", "schema": "https://schema.getpostman.com/json/collection/v1.0.0/"},
                 "item": []}), "unsupported schema"),
    (json.dumps([1, 2]), "must be a JSON object"),
])
def test_bad_files_are_refused_with_one_error(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.postman_collection.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CollectionFormatError) as caught:
        load_collection(path)
    assert expected in str(caught.value)


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CollectionFormatError, match="no such file"):
        load_collection(tmp_path / "nope.json")


def test_a_failing_load_leaves_the_live_collection_unchanged() -> None:
    store = LiveCollection(load_collection(good()))
    before = store.snapshot
    seen = []
    store.subscribe(seen.append)
    # the first item is fine, the last is broken: nothing of the file may get in
    bad = good()
    bad["item"].append({"name": "Broken", "request": {"method": "GET", "url": "/b"}, "response": [{"code": 9000}]})
    with pytest.raises(CollectionFormatError, match="Broken"):
        store.update(lambda current: merge(current, load_collection(bad))[0])
    assert store.snapshot is before
    assert seen == [], "listeners were told about a change that did not happen"
    assert [e.name for e in store.collection.examples] == ["OK", "Found"]


def test_a_response_object_instead_of_a_list_is_tolerated() -> None:
    collection = fixture("all-request-types.json")
    assert len(collection.examples) == 9
    assert validate_postman(to_postman(collection)) == []
