"""Postman Collection v2.0/v2.1 import (postmock_nb.formats.postman): every fixture, every shape, every error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.fixture_collections import FIXTURES_DIR, fixture_names

from postmock_nb.errors import CollectionFormatError
from postmock_nb.formats.postman import (
    load_collection,
    parse_collection,
    save_collection,
    to_postman,
)

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

EXPECTED_EXAMPLES = {  # file → (collection name, items, examples)
    "all-request-types.json": ("All request types", 9, 9),
    "cache-tests.json": ("All request types", 7, 8),
    "document-distance-tests.json": ("Test Document Distance", 2, 3),
    "folder-tests.json": ("Folder Tests", 3, 3),
    "strip-alpha-tests.json": ("Strip Alphanumerics Test", 1, 2),
    "test-collection-2.json": ("Test Collection", 2, 7),
    "test-collection-no-path.json": ("Test Request with No Path", 1, 1),
    "test-collection.json": ("Test Collection", 2, 7),
    "test-scoring-collection.json": ("Scoring Collection", 4, 4),
    "test-with-variables.json": ("CollectionWithVariables", 7, 7),
    "wildcard-variables-test.json": ("Wildcard Variables Test", 1, 1),
}


def fixture_files() -> list[str]:
    return fixture_names()


def count_responses(items: list[dict]) -> int:
    """Saved examples counted straight from the JSON, independently of the importer."""
    total = 0
    for entry in items:
        if "item" in entry:
            total += count_responses(entry["item"])
        else:
            response = entry.get("response") or []
            total += 1 if isinstance(response, dict) else len(response)
    return total


def collection_json(*items: Any, **extra: Any) -> dict:
    return {"info": {"name": "c", "schema": SCHEMA}, "item": list(items), **extra}


def item_json(name: str = "a", request: Any = None, responses: Any = None, **extra: Any) -> dict:
    data: dict[str, Any] = {"name": name, "request": request if request is not None else {"method": "GET", "url": "/x"}}
    if responses is not None:
        data["response"] = responses
    return data | extra


# -- every fixture imports ----------------------------------------------------------------------


def test_the_fixture_directory_is_the_one_described():
    assert fixture_files() == sorted(EXPECTED_EXAMPLES), \
        f"fixture files changed in {FIXTURES_DIR}: update EXPECTED_EXAMPLES"


@pytest.mark.parametrize("name", fixture_files())
def test_every_fixture_imports(fixtures_dir, name):
    path = fixtures_dir / name
    collection = load_collection(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    expected_name, items, examples = EXPECTED_EXAMPLES[name]
    assert (collection.name, len(collection.items), len(collection.examples)) == (expected_name, items, examples), name
    assert len(collection.examples) == count_responses(raw["item"]), name
    assert collection.id == raw["info"]["_postman_id"], name
    for example in collection.examples:
        where = f"{name}: example {example.name!r}"
        assert example.request.method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"), where
        assert example.request.path.startswith("/"), where
        assert 100 <= example.response.status <= 599, where
        assert example.id, where


def test_fixture_fields(load_fixture):
    scoring = load_fixture("test-scoring-collection.json")
    by_name = {e.name: e for e in scoring.examples}
    query = by_name["Match Query Param & Path"]
    assert (query.request.method, query.request.base, query.request.path, query.request.query) == (
        "GET", "https://postman-echo.com", "/get", (("name", "John"),))
    assert (query.response.status, query.response.reason, query.response.preview_language) == (200, "OK", "json")
    assert query.response.header("content-type") == "application/json; charset=utf-8"
    assert by_name["Match Header Name"].request.headers == (("name", ""),)

    strip = load_fixture("strip-alpha-tests.json")
    assert [e.request.path for e in strip.examples] == ["/users/456", "/users/456/"]  # trailing slash kept
    assert strip.variables == (("baseUrl", ""),)
    assert strip.examples[0].request.base == "{{baseUrl}}"

    wildcard = load_fixture("wildcard-variables-test.json")
    assert wildcard.examples[0].request.path == "/users/{{name}}"  # kept as written, resolved when matching
    assert wildcard.items[0].request.path == "/users/carol"

    variables = load_fixture("test-with-variables.json")
    assert variables.variables == (("name", "John"),)
    body = next(e for e in variables.examples if e.name == "Body Variable").request
    assert (body.body_mode, body.body_language, json.loads(body.body)) == ("raw", "json", {"name": "Sonya"})

    cache = load_fixture("cache-tests.json")
    by_id = next(i for i in cache.items if i.name == "Get By Id")
    assert by_id.request.path == "/get/:id" and by_id.request.path_variables == (("id", ""),)
    assert [e.request.path for e in by_id.examples] == ["/get/1", "/get/2"]

    no_path = load_fixture("test-collection-no-path.json")
    assert (no_path.examples[0].request.base, no_path.examples[0].request.path) == ("{{baseUrl}}", "/")


def test_disabled_headers_are_skipped_in_a_fixture(load_fixture):
    """test-collection-2.json saves x-mock-match-request-body and Content-Type switched off."""
    post = next(i for i in load_fixture("test-collection-2.json").items if i.name == "Post Request")
    assert post.examples[0].request.headers == ()


def test_folder_with_request_and_no_url(load_fixture):
    """folder-tests.json: "No Folder" has a request without url; its example has one."""
    item = next(i for i in load_fixture("folder-tests.json").items if i.name == "No Folder")
    assert item.request.path == "/"
    assert (item.examples[0].request.path, item.examples[0].request.query) == ("/get", (("name", "Jordan"),))


# -- shapes Postman writes ---------------------------------------------------------------------


@pytest.mark.parametrize("url, base, path, query", [
    ("https://api.example.com/users/:id?active=true", "https://api.example.com", "/users/:id", (("active", "true"),)),
    ("{{baseUrl}}/users?x=1&y=", "{{baseUrl}}", "/users", (("x", "1"), ("y", ""))),
    ("{{baseUrl}}", "{{baseUrl}}", "/", ()),
    ("http://localhost:3000/", "http://localhost:3000", "/", ()),
    ("/relative/path", "", "/relative/path", ()),
    ("api.example.com/v1/items", "api.example.com", "/v1/items", ()),
    ("https://h.example/a#fragment", "https://h.example", "/a", ()),
    ("  https://h.example/a  ", "https://h.example", "/a", ()),
])
def test_url_as_string(url, base, path, query):
    request = parse_collection(collection_json(item_json(request={"method": "GET", "url": url}))).items[0].request
    assert (request.base, request.path, request.query) == (base, path, query), url


def test_url_as_object_equals_url_as_string():
    as_string = {"method": "GET", "url": "https://api.example.com/users/:id?active=true&page=2"}
    as_object = {"method": "GET", "url": {
        "raw": "https://api.example.com/users/:id?active=true&page=2", "protocol": "https",
        "host": ["api", "example", "com"], "path": ["users", ":id"],
        "query": [{"key": "active", "value": "true"}, {"key": "page", "value": "2"}],
        "variable": [{"key": "id", "value": "7"}]}}
    one, two = (parse_collection(collection_json(item_json(request=r))).items[0].request for r in (as_string, as_object))
    assert (one.base, one.path, one.query) == (two.base, two.path, two.query)
    assert two.path_variables == (("id", "7"),)


@pytest.mark.parametrize("url, path", [
    ({"raw": "{{baseUrl}}/a/b"}, "/a/b"),                                   # no path list: taken from raw
    ({"raw": "", "path": "a/b"}, "/a/b"),                                   # path as a string
    ({"raw": "", "path": ["users", {"value": ":id"}]}, "/users/:id"),       # segment objects
    ({"raw": "", "path": ["items", 42]}, "/items/42"),                      # numbers
    ({"raw": "", "host": ["{{baseUrl}}"], "path": ["users", ""]}, "/users/"),
])
def test_url_object_paths(url, path):
    request = parse_collection(collection_json(item_json(request={"method": "GET", "url": url}))).items[0].request
    assert request.path == path, url


def test_url_object_host_protocol_and_port():
    url = {"raw": "", "protocol": "http", "host": ["localhost"], "port": "8080", "path": ["x"]}
    request = parse_collection(collection_json(item_json(request={"method": "GET", "url": url}))).items[0].request
    assert request.base == "http://localhost:8080"


def test_disabled_query_parameters_headers_and_variables_are_skipped():
    request = {"method": "GET",
               "header": [{"key": "A", "value": "1"}, {"key": "B", "value": "2", "disabled": True}],
               "url": {"raw": "/x?keep=1&drop=2", "path": ["x"],
                       "query": [{"key": "keep", "value": "1"}, {"key": "drop", "value": "2", "disabled": True}]}}
    data = collection_json(item_json(request=request, responses=[{"name": "r", "originalRequest": request}]),
                           variable=[{"key": "on", "value": "1"}, {"key": "off", "value": "2", "disabled": True}])
    collection = parse_collection(data)
    for spec in (collection.items[0].request, collection.examples[0].request):
        assert (spec.headers, spec.query) == ((("A", "1"),), (("keep", "1"),))
    assert collection.variables == (("on", "1"),)


def test_header_values_of_other_types():
    request = {"method": "GET", "url": "/x", "header": [{"key": "n", "value": 5}, {"key": "none", "value": None},
                                                        {"key": "flag", "value": True}]}
    spec = parse_collection(collection_json(item_json(request=request))).items[0].request
    assert spec.headers == (("n", "5"), ("none", ""), ("flag", "true"))


def test_headers_as_a_string():
    request = {"method": "GET", "url": "/x", "header": "Accept: application/json\nX-Token: abc\n"}
    spec = parse_collection(collection_json(item_json(request=request))).items[0].request
    assert spec.headers == (("Accept", "application/json"), ("X-Token", "abc"))


@pytest.mark.parametrize("body, expected, mode, language", [
    ({"mode": "raw", "raw": '{"a": 1}', "options": {"raw": {"language": "json"}}}, '{"a": 1}', "raw", "json"),
    ({"mode": "raw", "raw": "<a/>", "options": {"raw": {"language": "xml"}}}, "<a/>", "raw", "xml"),
    ({"raw": "plain"}, "plain", "raw", ""),                                  # no mode: raw
    ({"mode": "urlencoded", "urlencoded": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"},
                                           {"key": "c", "value": "3", "disabled": True}]}, "a=1&b=2", "urlencoded", ""),
    ({"mode": "formdata", "formdata": [{"key": "a", "value": "1", "type": "text"},
                                       {"key": "f", "src": "/tmp/x", "type": "file"}]}, "a=1", "formdata", ""),
    ({"mode": "graphql", "graphql": {"query": "{ me { id } }"}}, '{"query": "{ me { id } }"}', "graphql", "json"),
    ({"mode": "file", "file": {"src": "/tmp/x"}}, "", "file", ""),
    (None, "", "raw", ""),
])
def test_request_bodies(body, expected, mode, language):
    request = {"method": "POST", "url": "/x"} | ({"body": body} if body is not None else {})
    spec = parse_collection(collection_json(item_json(request=request))).items[0].request
    assert (spec.body, spec.body_mode, spec.body_language) == (expected, mode, language), body


def test_response_given_as_a_single_object():
    data = collection_json(item_json(responses={"name": "only", "code": 201, "body": "made"}))
    collection = parse_collection(data)
    assert [(e.name, e.response.status, e.response.body) for e in collection.examples] == [("only", 201, "made")]


def test_example_defaults():
    """No originalRequest: the item's request; no url: the item's; code as text; no name: made up."""
    item_request = {"method": "PUT", "url": "/things/:id?x=1"}
    responses = [{"code": "202", "body": None},
                 {"name": "no url", "originalRequest": {"method": "PUT", "header": [{"key": "H", "value": "v"}]}}]
    collection = parse_collection(collection_json(item_json(request=item_request, responses=responses)))
    first, second = collection.examples
    assert (first.name, first.response.status, first.response.body) == ("202 response", 202, "")
    assert (first.request.method, first.request.path, first.request.query) == ("PUT", "/things/:id", (("x", "1"),))
    assert (second.request.path, second.request.headers, second.response.status) == ("/things/:id", (("H", "v"),), 200)


def test_request_as_a_url_string():
    collection = parse_collection(collection_json(item_json(request="https://h.example/ping", responses=[{"name": "r"}])))
    assert (collection.examples[0].request.method, collection.examples[0].request.path) == ("GET", "/ping")


@pytest.mark.parametrize("schema", [
    "https://schema.getpostman.com/json/collection/v2.0.0/collection.json",
    SCHEMA,
    "",
])
def test_accepted_schemas(schema):
    data = collection_json(item_json(responses=[{"name": "r"}]))
    data["info"]["schema"] = schema
    assert len(parse_collection(data).examples) == 1


def test_postman_api_wrapper():
    wrapped = {"collection": collection_json(item_json(responses=[{"name": "r"}]))}
    assert parse_collection(wrapped).examples[0].name == "r"


def test_sources(tmp_path):
    data = collection_json(item_json(responses=[{"name": "r"}]))
    text = json.dumps(data)
    file = tmp_path / "c.json"
    file.write_text(text, encoding="utf-8")
    bom = tmp_path / "bom.json"
    bom.write_text("\ufeff" + text, encoding="utf-8")   # as Windows editors save it
    for source in (data, text, text.encode(), "\n  " + text, file, str(file), bom, b"\xef\xbb\xbf" + text.encode()):
        assert [e.name for e in load_collection(source).examples] == ["r"], repr(source)[:60]


def test_round_trip_keeps_what_matters(load_fixture, tmp_path):
    for name in ("test-with-variables.json", "folder-tests.json", "all-request-types.json", "cache-tests.json"):
        original = load_fixture(name)
        saved = save_collection(original, tmp_path / name)
        again = load_collection(saved)
        assert (again.name, again.id, again.variables) == (original.name, original.id, original.variables), name
        assert [(i.name, i.folder) for i in again.items] == [(i.name, i.folder) for i in original.items], name
        for before, after in zip(original.examples, again.examples, strict=True):
            where = f"{name}: example {before.name!r}"
            assert after.id == before.id, where
            assert (after.request.method, after.request.path, after.request.query, after.request.headers,
                    after.request.body) == (before.request.method, before.request.path, before.request.query,
                                            before.request.headers, before.request.body), where
            assert (after.response.status, after.response.headers, after.response.body) == (
                before.response.status, before.response.headers, before.response.body), where
        assert to_postman(again)["info"]["schema"] == SCHEMA


# -- malformed input: the message names the place and the problem -----------------------------


def _nested_missing_url() -> dict:
    return collection_json(item_json("First"), {"name": "Users", "item": [{"name": "Get user", "request": {"method": "GET"}}]})


MALFORMED = [
    # (id, source, location, message)
    ("json syntax", '{"info": {"name": "x"},\n "item": [,]}', "collection, line 2, column 11", "not valid JSON: Expecting value"),
    ("json truncated", '{"info": {', "collection, line 1, column 11", "not valid JSON: Expecting property name enclosed in double quotes"),
    ("top level list", "[]", "", "the top level must be a JSON object, not a list"),
    ("v1 format", {"id": "1", "name": "old", "order": [], "requests": []}, "",
     "this is a Postman Collection v1 file, which is not supported"),
    ("missing info", {"item": []}, "info", "'info' is missing"),
    ("info not an object", {"info": [], "item": []}, "info", "'info' must be an object, not a list"),
    ("v1 schema", {"info": {"name": "x", "schema": "https://schema.getpostman.com/json/collection/v1.0.0/collection.json"},
                   "item": []}, "info.schema",
     "unsupported schema 'https://schema.getpostman.com/json/collection/v1.0.0/collection.json'"),
    ("name not a string", {"info": {"name": 3}, "item": []}, "info.name", "must be a string, not a number"),
    ("missing item", {"info": {"name": "x"}}, "item", "'item' is missing"),
    ("item not a list", {"info": {"name": "x"}, "item": "nope"}, "item", "'item' must be a list, not a string"),
    ("item not an object", collection_json(item_json(), 3), "item[1]", "must be an object, not a number"),
    ("nested url missing", _nested_missing_url(), 'item[1] "Users" > item[0] "Get user"', "url missing"),
    ("neither request nor folder", collection_json({"name": "a"}), 'item[0] "a"',
     "neither a request (no 'request') nor a folder (no 'item')"),
    ("folder item not a list", collection_json({"name": "F", "item": {}}), 'item[0] "F"',
     "a folder's 'item' must be a list, not an object"),
    ("code abc", collection_json(item_json(responses=[{"name": "r", "code": "abc"}])), 'item[0] "a" > response[0] "r"',
     "'code' must be an HTTP status number 100-599, got 'abc'"),
    ("code 700", collection_json(item_json(responses=[{"name": "r", "code": 700}])), 'item[0] "a" > response[0] "r"',
     "'code' must be an HTTP status number 100-599, got 700"),
    ("code true", collection_json(item_json(responses=[{"name": "r", "code": True}])), 'item[0] "a" > response[0] "r"',
     "'code' must be an HTTP status number 100-599, got True"),
    ("response header not a list", collection_json(item_json(responses=[{"name": "r", "header": "x"}])),
     'item[0] "a" > response[0] "r" > header', "must be a list of {key, value} objects, not a string"),
    ("request header an object", collection_json(item_json(request={"url": "/x", "header": {"a": "1"}})),
     'item[0] "a" > header', "must be a list of {key, value} objects, not an object"),
    ("header entry not an object", collection_json(item_json(request={"url": "/x", "header": [{"key": "a"}, "b: 2"]})),
     'item[0] "a" > header[1]', "must be an object with 'key' and 'value', not a string"),
    ("header key a number", collection_json(item_json(request={"url": "/x", "header": [{"key": 5, "value": "v"}]})),
     'item[0] "a" > header[0]', "'key' must be a string, got 5"),
    ("url a number", collection_json(item_json(request={"url": 5})), 'item[0] "a"',
     "url must be a string or an object, not a number"),
    ("url.path a number", collection_json(item_json(request={"url": {"raw": "/x", "path": 5}})), 'item[0] "a"',
     "url.path must be a list, not a number"),
    ("url.query key", collection_json(item_json(request={"url": {"raw": "/x", "query": [{"key": 1}]}})),
     'item[0] "a" > url.query[0]', "'key' must be a string, got 1"),
    ("method a number", collection_json(item_json(request={"url": "/x", "method": 5})), 'item[0] "a"',
     "method must be a string, got 5"),
    ("body not an object", collection_json(item_json(request={"url": "/x", "body": "text"})), 'item[0] "a"',
     "body must be an object, not a string"),
    ("body.raw a number", collection_json(item_json(request={"url": "/x", "body": {"mode": "raw", "raw": 3}})),
     'item[0] "a"', "body.raw must be a string, not a number"),
    ("response a number", collection_json(item_json(responses=5)), 'item[0] "a"', "'response' must be a list, not a number"),
    ("example not an object", collection_json(item_json(responses=[5])), 'item[0] "a" > response[0]',
     "an example must be an object, not a number"),
    ("example body an object", collection_json(item_json(responses=[{"name": "r", "body": {"a": 1}}])),
     'item[0] "a" > response[0] "r"', "'body' must be a string, not an object"),
    ("event not a list", collection_json(item_json(event={"listen": "test"})), 'item[0] "a"',
     "'event' must be a list, not an object"),
    ("variable not a list", collection_json(variable={"key": "a"}), "variable",
     "must be a list of {key, value} objects, not an object"),
    ("deep location", collection_json({"name": "A", "item": [{"name": "B", "item": [
        item_json("C", responses=[{"name": "fine"}, {"name": "bad", "code": "abc"}])]}]}),
     'item[0] "A" > item[0] "B" > item[0] "C" > response[1] "bad"', "'code' must be an HTTP status number 100-599, got 'abc'"),
    ("deep JSON", '{"info": {"name": "x"}, "item": [], "x": ' + "[" * 5000 + "]" * 5000 + "}", "collection",
     "the JSON nests more than 200 levels deep"),
    ("not utf-8", b"\xff\xfe{}", "", "not UTF-8 text: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
]


@pytest.mark.parametrize("source, location, message", [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_malformed_collection(source, location, message):
    with pytest.raises(CollectionFormatError) as caught:
        load_collection(source if not isinstance(source, dict) else json.dumps(source))
    error = caught.value
    assert (error.location, error.message) == (location, message), str(error)
    assert str(error).startswith(f"{location}: {message}" if location else message)


def test_a_1xx_example_is_imported_kept_and_left_out_of_serving():
    """Issue 19: a file's 1xx example does not refuse the collection; it is kept (a save gives it back), listed
    among the changes, and no snapshot indexes it."""
    from postmock_nb.core.wire import collection_changes
    from postmock_nb.matching.snapshot import Snapshot

    source = collection_json(item_json(responses=[{"name": "r", "code": 101}, {"name": "ok", "code": "200"},
                                                   {"name": "early", "code": "100"}]))
    collection = load_collection(json.dumps(source))
    assert [e.response.status for e in collection.examples] == [101, 200, 100]
    assert [e.name for e in (c.example for c in Snapshot(collection).examples)] == ["ok"]
    assert [c.what for c in collection_changes(collection.examples)] == [
        "left out (not served): status 101 is an interim (1xx) status: HTTP cannot send it as the answer to a request",
        "left out (not served): status 100 is an interim (1xx) status: HTTP cannot send it as the answer to a request"]


def test_malformed_file_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "info": {"name": "x"},\n  "item": [}\n', encoding="utf-8")
    with pytest.raises(CollectionFormatError) as caught:
        load_collection(path)
    assert caught.value.location == f"{path}, line 3, column 12", str(caught.value)
    assert caught.value.hint == "a Postman collection is a JSON file exported with Collection v2.1"


def test_missing_file(tmp_path):
    with pytest.raises(CollectionFormatError) as caught:
        load_collection(tmp_path / "nope.json")
    assert str(caught.value) == f"no such file: {tmp_path / 'nope.json'}\nHint: check the path"


def test_nothing_is_half_loaded():
    """An error in the last example leaves nothing behind: parse either returns all or raises."""
    data = collection_json(item_json("ok", responses=[{"name": "fine"}]), item_json("bad", responses=[{"code": "x"}]))
    with pytest.raises(CollectionFormatError, match=r'item\[1\] "bad" > response\[0\]'):
        parse_collection(data)
