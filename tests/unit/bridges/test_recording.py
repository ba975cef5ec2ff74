"""bridges/recording.py: real exchanges turned into cleaned examples, and the recorder's file (in tmp_path)."""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from pathlib import Path

import pytest
import requests
from support.builders import make_collection, make_example

from postmock_nb.bridges.recording import (
    BodyTooLarge,
    Exchange,
    Recorder,
    decoded_body,
    example_from_exchange,
    exchange_of,
    relative_path,
    request_key,
    save_response_example,
)
from postmock_nb.errors import ExampleDefinitionError
from postmock_nb.formats.postman import load_collection, save_collection
from postmock_nb.matching.store import LiveCollection


def exchange(path: str = "/users/1", *, method: str = "GET", query: tuple[tuple[str, str], ...] = (),
             request_headers: tuple[tuple[str, str], ...] = (), request_body: bytes = b"", status: int = 200,
             response_headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),),
             response_body: bytes = b'{"id": 1}') -> Exchange:
    return Exchange(method, path, query, request_headers, request_body, status, response_headers, response_body)


@pytest.fixture
def recorders() -> object:
    made: list[Recorder] = []

    def make(path: Path, **options: object) -> Recorder:
        recorder = Recorder(path, **options)  # type: ignore[arg-type]
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.close()


# -- decoding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("coding", ["", "identity", " Identity "])
def test_decoded_body_without_an_encoding_is_the_body(coding: str) -> None:
    assert decoded_body(b"plain", coding) == b"plain"


def test_decoded_body_undoes_gzip_every_member_and_deflate() -> None:
    assert decoded_body(gzip.compress(b"hello"), "gzip") == b"hello"
    assert decoded_body(gzip.compress(b"one ") + gzip.compress(b"two"), "x-gzip") == b"one two"
    assert decoded_body(zlib.compress(b"zlib-wrapped"), "deflate") == b"zlib-wrapped"
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decoded_body(raw.compress(b"raw deflate") + raw.flush(), "deflate") == b"raw deflate"


@pytest.mark.parametrize(("body", "coding"), [(b"not gzip", "gzip"), (gzip.compress(b"cut short", mtime=0)[:-12], "gzip"),
                                              (b"x", "br"), (b"x", "compress")])
def test_decoded_body_of_a_broken_or_unknown_encoding_is_none(body: bytes, coding: str) -> None:
    assert decoded_body(body, coding) is None


def test_decoded_body_past_the_limit_is_refused_while_decoding() -> None:
    bomb = gzip.compress(b"0" * 1_000_000)
    assert decoded_body(bomb, "gzip", limit=1_000_000) == b"0" * 1_000_000
    with pytest.raises(BodyTooLarge) as caught:
        decoded_body(bomb, "gzip", limit=999_999)
    assert caught.value.limit == 999_999
    assert str(caught.value) == "the upstream's gzip body decodes to over 999999 bytes (the limit on upstream bodies)"


# -- one exchange ---------------------------------------------------------------------------------


def test_example_from_exchange_keeps_what_an_example_needs() -> None:
    example = example_from_exchange(exchange(
        "/users/1", method="post", query=(("a", "1"),), request_body=b'{"n": 1}',
        request_headers=(("Content-Type", "application/json"), ("Accept", "*/*"), ("User-Agent", "x"),
                         ("Authorization", "Bearer s3cret"), ("Cookie", "c=1")),
        status=201, response_headers=(("Content-Type", "application/json; charset=utf-8"), ("Date", "today"),
                                      ("Server", "nginx"), ("Content-Length", "9"), ("Set-Cookie", "s=1"),
                                      ("X-Request-Id", "r1"), ("Connection", "keep-alive, X-Hop"),
                                      ("X-Hop", "named by Connection"))))
    assert example is not None
    assert example.name == "POST /users/1 201"
    assert (example.request.method, example.request.path, example.request.query) == ("POST", "/users/1", (("a", "1"),))
    assert example.request.headers == (("Content-Type", "application/json"), ("Accept", "*/*"))
    assert example.request.body == '{"n": 1}' and example.request.base == "{{baseUrl}}"
    assert example.response.headers == (("Content-Type", "application/json; charset=utf-8"), ("X-Request-Id", "r1"))
    assert (example.response.status, example.response.reason, example.response.body) == (201, "Created", '{"id": 1}')
    assert example.response.preview_language == "json"


def test_secrets_are_kept_only_when_asked() -> None:
    sent = exchange(request_headers=(("Authorization", "Bearer t"), ("x-api-key", "k"), ("X-Other", "o")))
    kept = example_from_exchange(sent, "named", keep_secrets=True)
    assert kept is not None and kept.name == "named"
    assert kept.request.headers == (("Authorization", "Bearer t"), ("x-api-key", "k"))


@pytest.mark.parametrize(("content_type", "language"), [("text/html", "html"), ("application/xml", "xml"),
                                                        ("text/plain", "text"), ("", "text")])
def test_the_preview_language_follows_the_content_type(content_type: str, language: str) -> None:
    headers = (("Content-Type", content_type),) if content_type else ()
    example = example_from_exchange(exchange(response_headers=headers, response_body=b"x"))
    assert example is not None and example.response.preview_language == language


def test_a_compressed_answer_is_stored_decoded() -> None:
    example = example_from_exchange(exchange(response_headers=(("Content-Encoding", "gzip"),),
                                             response_body=gzip.compress("é".encode())))
    assert example is not None and example.response.body == "é" and example.response.headers == ()


@pytest.mark.parametrize(("request_body", "response_body", "coding"), [
    (b"", b"\x89PNG\r\n\x1a\n\xff", ""), (b"\xff\xfe", b"{}", ""), (b"", b"not gzip", "gzip")])
def test_an_exchange_whose_bodies_are_not_text_gives_no_example(request_body: bytes, response_body: bytes,
                                                               coding: str) -> None:
    headers = (("Content-Encoding", coding),) if coding else ()
    assert example_from_exchange(exchange(request_body=request_body, response_body=response_body,
                                          response_headers=headers)) is None


def test_request_key_ignores_query_order_and_headers_but_not_the_body() -> None:
    one = request_key("get", "/a", (("x", "1"), ("y", "2")), b"")
    assert one == request_key("GET", "/a", (("y", "2"), ("x", "1")), b"")
    assert one != request_key("GET", "/a", (("x", "1"),), b"")
    assert request_key("POST", "/a", (), b"1") != request_key("POST", "/a", (), b"2")
    assert json.loads(request_key("POST", "/a", (), b"1")) == ["POST", "/a", [], hashlib.sha256(b"1").hexdigest()]


def test_exchange_of_decodes_raw_asgi_values() -> None:
    made = exchange_of("GET", "/s", b"a=1&b=&c=%20", [(b"Accept", b"*/*")], b"", 200,
                       [(b"Content-Type", b"text/plain; charset=\xe9")], b"ok")
    assert made.query == (("a", "1"), ("b", ""), ("c", " "))
    assert made.request_headers == (("Accept", "*/*"),)
    assert made.response_headers == (("Content-Type", "text/plain; charset=é"),)
    assert exchange_of("GET", "/s", b"", [], b"", 204, [], b"").query == ()


@pytest.mark.parametrize(("url", "base", "path"), [
    ("https://api.example.com/v1/users?x=1", "https://api.example.com/v1", "/users"),
    ("https://api.example.com/v1", "https://api.example.com/v1/", "/"),
    ("https://api.example.com/v10/users", "https://api.example.com/v1", "/v10/users"),
    ("https://other.example.com/v1/users", "https://api.example.com/v1", "/v1/users"),
    ("https://api.example.com/v1/users", "/v1", "/users"),
    ("https://api.example.com", "", "/"),
])
def test_relative_path(url: str, base: str, path: str) -> None:
    assert relative_path(url, base) == path


def _response(url: str, *, method: str = "GET", body: bytes = b'{"ok": true}', status: int = 200,
              headers: dict[str, str] | None = None, sent_body: bytes | str | None = None) -> requests.Response:
    prepared = requests.Request(method, url, headers={"Authorization": "Bearer t", "Accept": "application/json"},
                                data=sent_body).prepare()
    response = requests.Response()
    response.status_code, response.request, response._content = status, prepared, body
    response.headers.update(headers or {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    return response


def test_save_response_example_from_a_requests_response() -> None:
    example = save_response_example(_response("https://api.example.com/v1/users/7?full=1", method="PUT",
                                               sent_body="name=x"),
                                    "Saved", base="https://api.example.com/v1/")
    assert (example.name, example.request.method, example.request.path) == ("Saved", "PUT", "/users/7")
    assert example.request.query == (("full", "1"),) and example.request.body == "name=x"
    assert example.request.base == "https://api.example.com/v1"
    assert example.request.headers == (("Accept", "application/json"),)
    assert example.response.headers == (("Content-Type", "application/json"),)  # requests decoded the body
    assert example.response.body == '{"ok": true}'


def test_save_response_example_as_a_path_and_with_secrets() -> None:
    example = save_response_example(_response("https://h/users/7"), "as", as_path="/users/:id", keep_secrets=True)
    assert example.request.path == "/users/:id" and example.request.base == "{{baseUrl}}"
    assert ("Authorization", "Bearer t") in example.request.headers


def test_save_response_example_refuses_a_bad_as_path_and_a_binary_body() -> None:
    with pytest.raises(ExampleDefinitionError, match="--as must be a path starting with '/', got 'users'"):
        save_response_example(_response("https://h/u"), "x", as_path="users")
    with pytest.raises(ExampleDefinitionError, match="not UTF-8 text"):
        save_response_example(_response("https://h/img", body=b"\xff\xd8\xff"), "x")


# -- the recorder ---------------------------------------------------------------------------------


def test_the_recorder_keeps_one_example_per_distinct_request_and_writes_the_file(tmp_path: Path,
                                                                                 recorders: object) -> None:
    path = tmp_path / "rec.json"
    recorder = recorders(path, name="Recorded API")  # type: ignore[operator]
    first = recorder.record(exchange("/a", query=(("x", "1"), ("y", "2"))))
    assert first is not None
    assert recorder.record(exchange("/a", query=(("y", "2"), ("x", "1")), response_body=b"later")) is None
    assert recorder.record(exchange("/b")) is not None
    assert recorder.flush() == path
    saved = load_collection(path)
    assert saved.name == "Recorded API"
    assert [(e.request.path, e.response.body) for e in saved.examples] == [("/a", '{"id": 1}'), ("/b", '{"id": 1}')]
    assert recorder.writes >= 1 and recorder.write_error == ""
    assert [e.name for e in recorder.collection.examples] == ["GET /a 200", "GET /b 200"]


def test_the_recorder_adds_to_an_existing_file_whose_requests_count_as_recorded(tmp_path: Path,
                                                                               recorders: object) -> None:
    path = tmp_path / "rec.json"
    save_collection(make_collection(make_example("GET /old", "old", body="kept")), path)
    leftover = tmp_path / ".rec.json.deadbeef.postmock-tmp"
    leftover.write_text("half", encoding="utf-8")
    recorder = recorders(path)  # type: ignore[operator]
    assert not leftover.exists()
    assert recorder.record(exchange("/old")) is None
    assert recorder.record(exchange("/new")) is not None
    recorder.close()
    assert [e.name for e in load_collection(path).examples] == ["old", "GET /new 200"]


def test_the_recorder_notes_what_it_cannot_record(tmp_path: Path, recorders: object) -> None:
    recorder = recorders(tmp_path / "rec.json")  # type: ignore[operator]
    assert recorder.record(exchange("/img", response_body=b"\xff\xd8")) is None
    with pytest.raises(BodyTooLarge):
        recorder.record(exchange("/zip", response_headers=(("Content-Encoding", "gzip"),),
                                 response_body=gzip.compress(b"1" * 5000)), limit=100)
    assert recorder.skipped == ["GET /img: the body is not UTF-8 text",
                                "GET /zip: the upstream's gzip body decodes to over 100 bytes "
                                "(the limit on upstream bodies)"]
    assert recorder.collection.examples == ()
    assert not (tmp_path / "rec.json").exists()


def test_the_recorder_feeds_the_live_collection_and_its_listeners(tmp_path: Path, recorders: object) -> None:
    store = LiveCollection(make_collection(make_example("GET /existing")))
    heard: list[str] = []
    recorder = recorders(tmp_path / "rec.json", store=store)  # type: ignore[operator]
    recorder.listeners.append(lambda example: heard.append(example.name))
    recorder.record(exchange("/new"))
    assert [e.request.path for e in store.collection.examples] == ["/existing", "/new"]
    assert heard == ["GET /new 200"]


def test_a_failed_write_is_said_and_retried(tmp_path: Path, recorders: object) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "rec.json"
    recorder = recorders(path)  # type: ignore[operator]
    recorder.close()
    path.mkdir()  # the file's name is taken by a folder: writing fails
    (path / "x").write_text("", encoding="utf-8")
    recorder.record(exchange("/a"))
    recorder.close()
    assert recorder.write_error.startswith(f"{path}: ")
    (path / "x").unlink()
    path.rmdir()
    recorder.flush()  # the examples that failed are written with the next write
    assert recorder.write_error == ""
    assert [e.request.path for e in load_collection(path).examples] == ["/a"]


def test_save_rewrites_the_file_whole(tmp_path: Path, recorders: object) -> None:
    path = tmp_path / "rec.json"
    recorder = recorders(path)  # type: ignore[operator]
    recorder.record(exchange("/a"))
    recorder.close()
    path.write_text("{}", encoding="utf-8")  # spoiled by hand
    assert recorder.save() == path
    assert [e.request.path for e in load_collection(path).examples] == ["/a"]

