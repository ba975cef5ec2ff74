"""The pure parts of the admin API's writes: who may write, reading a posted body, and the edits on a store."""

from __future__ import annotations

import json

import pytest

from postmock_nb.behaviours.dispatch import Behaviours
from postmock_nb.config import MockConfig
from postmock_nb.formats.postman import to_postman
from postmock_nb.matching.store import LiveCollection
from postmock_nb.serving.adminwrites import (
    BadBody,
    Writes,
    adopt_names,
    from_a_web_page,
    is_loopback,
    parse_body,
    posted_collection,
    report_json,
    split_brain,
    write_refusal,
    writes_state,
)


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("[::1]", True),
                                                ("localhost", True), ("127.0.1.1", True), ("0.0.0.0", False),
                                                ("::", False), ("192.168.1.4", False), ("", False), (None, False),
                                                ("::ffff:127.0.0.1", True), ("::ffff:127.0.0.9", True),
                                                ("127.0.0.1.nip.io", False), ("127.attacker.example", False),
                                                ("::ffff:10.0.0.1", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(("origin", "host", "said"), [
    (None, None, None), (None, "127.0.0.1:8000", None), (None, "[::1]:8000", None), (None, "localhost", None),
    ("http://127.0.0.1:8000", "127.0.0.1:8000", None), ("https://[::1]:8443", "[::1]:8443", None),
    ("http://evil.example", "127.0.0.1:8000", "a request from the web page origin 'http://evil.example'"),
    ("null", "127.0.0.1:8000", "a request from the web page origin 'null'"),
    ("http://127.0.0.1:3000", "127.0.0.1:8000", "a request from the web page origin 'http://127.0.0.1:3000'"),
    (None, "mock", None),  # no Origin: not a browser (an in-process ASGI client, curl, a reverse proxy's own call)
    ("http://evil.example:8000", "evil.example:8000", "a request from the web page origin 'http://evil.example:8000'"),
])
def test_a_write_from_a_web_page_of_another_site(origin, host, said):
    assert from_a_web_page(origin, host) == said


def test_with_an_admin_key_only_that_key_writes():
    settings = MockConfig(admin_key="k-123", host="0.0.0.0")
    assert write_refusal(settings, b"k-123", "10.0.0.9") is None  # from anywhere, with the key
    assert write_refusal(settings, b" k-123\t", "127.0.0.1") is None  # header whitespace, as for x-api-key
    missing = write_refusal(settings, None, "127.0.0.1")
    wrong = write_refusal(settings, b"k-124", "127.0.0.1")
    assert missing is not None and (missing.status, missing.name) == (401, "adminKeyRequired")
    assert wrong is not None and (wrong.status, wrong.name) == (401, "adminKeyWrong")
    body = json.loads(missing.body())["error"]
    assert body["hint"].startswith("x-postmock-admin-key: the key given with --admin-key")
    assert "k-123" not in missing.message + wrong.message


def test_without_a_key_writes_are_off_beyond_loopback():
    exposed = write_refusal(MockConfig(host="0.0.0.0"), None, "127.0.0.1")
    assert exposed is not None and (exposed.status, exposed.name) == (403, "adminWritesOff")
    assert "bound to 0.0.0.0" in exposed.message and "--admin-key KEY" in exposed.message
    remote = write_refusal(MockConfig(), None, "10.1.2.3")  # e.g. the ASGI app behind a Service
    assert remote is not None and remote.status == 403 and "(10.1.2.3)" in remote.message
    assert write_refusal(MockConfig(), None, "127.0.0.1") is None
    assert write_refusal(MockConfig(), None, None) is None  # no peer address (a test client, a socket file)


def test_writes_state_masks_the_key():
    assert writes_state(MockConfig(admin_key="very-secret-key")).startswith("on (send x-postmock-admin-key: ")
    assert "very-secret-key" not in writes_state(MockConfig(admin_key="very-secret-key"))
    assert writes_state(MockConfig()).startswith("on (loopback only")
    assert writes_state(MockConfig(host="0.0.0.0")).startswith("off (bound to 0.0.0.0")


def test_parse_body_points_at_broken_json():
    with pytest.raises(BadBody) as caught:
        parse_body(b'{\n "item": [1,,]}', "application/json")
    assert caught.value.fields == {"line": 2, "column": 13, "position": 14}
    assert caught.value.message.startswith("not valid JSON: Expecting value at line 2, column 13")
    with pytest.raises(BadBody, match="not UTF-8"):
        parse_body(b'{"a": "\xff"}', "")
    with pytest.raises(BadBody, match="the body is empty"):
        parse_body(b"  ", "")
    with pytest.raises(BadBody, match="nests more than"):
        parse_body(b"[" * 5000 + b"]" * 5000, "")
    assert parse_body(b"openapi: 3.0.3\n", "application/yaml") == {"openapi": "3.0.3"}


def test_posted_collection_takes_items_and_refuses_handlers(build):
    items = to_postman(build.collection(build.example("GET /a", "A")))["item"]
    assert [e.name for e in posted_collection(items).collection.examples] == ["A"]
    assert posted_collection({"item": items}).collection.name == "posted items"
    coded = to_postman(build.collection(build.example("GET /b", "B", request_headers={"X-Mock-Handler": "k"})))
    with pytest.raises(BadBody) as caught:
        posted_collection(coded)
    assert caught.value.name == "handlerRefused" and caught.value.fields == {"location": "GET /b > B"}
    with pytest.raises(BadBody) as wrong:
        posted_collection({"info": {"name": "x"}, "item": 3})
    assert wrong.value.name == "invalidCollection" and wrong.value.fields == {"location": "item"}


def test_adopt_names_gives_a_known_name_its_id(build):
    current = build.collection(build.example("GET /a", "A", id="id-a"))
    incoming = build.collection(build.example("GET /a", "A", body="new"), build.example("GET /b", "B", id="id-b"))
    adopted = adopt_names(current, incoming)
    assert [e.id for e in adopted.examples] == ["id-a", "id-b"]


class _Mock:
    def __init__(self, store: LiveCollection) -> None:
        self.store, self.settings, self.behaviours = store, MockConfig(), Behaviours()


def test_a_failed_delete_changes_nothing(build):
    store = LiveCollection(build.collection(build.example("GET /a", "A", id="id-a")))
    writes = Writes(_Mock(store))
    before = store.snapshot
    with pytest.raises(BadBody) as caught:
        writes.delete("id-zzz")
    assert caught.value.status == 404
    assert store.snapshot is before
    assert [e.id for e in writes.delete("A")] == ["id-a"]  # a name does too
    assert store.collection.examples == ()


def test_merge_items_reports_as_load_does(build):
    store = LiveCollection(build.collection(build.example("GET /a", "A", id="id-a"), name="current"))
    writes = Writes(_Mock(store))
    incoming = posted_collection(to_postman(build.collection(build.example("GET /a", "A", body="2"),
                                                             name="incoming")))
    report = report_json(writes.merge_items(incoming, by_name=False))
    assert report["renamed"] == [{"id": report["added"][0]["id"], "from": "A", "to": "A (2)", "where": "GET /a"}]
    named = posted_collection(to_postman(build.collection(build.example("GET /a", "A", body="3"), name="incoming")))
    again = report_json(writes.merge_items(named, by_name=True))
    assert [e["id"] for e in again["replaced"]] == ["id-a"]
    assert again["report"].startswith("Merged 'incoming' into 'current': 0 examples added, 1 replaced")


def test_several_workers_without_shared_state_refuse_writes():
    refused = split_brain(MockConfig(workers=3))
    assert refused is not None and (refused.status, refused.name) == (409, "writesNeedSharedState")
    assert "3 worker processes" in refused.message and "--state redis://" in refused.hint
    assert split_brain(MockConfig(workers=3, state="redis://127.0.0.1:6379/0")) is None
    assert split_brain(MockConfig()) is None


def test_writes_state_says_they_are_off_for_workers_that_do_not_share_their_state():
    assert writes_state(MockConfig(workers=4)).startswith("off for the collection and resources (4 workers")
    assert writes_state(MockConfig(workers=4, state="redis://127.0.0.1:6379/0")).startswith("on (loopback only")
