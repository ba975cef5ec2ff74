"""OpenAPI callbacks and webhooks over real sockets: an imported operation's callback reaches a local receiver
on 127.0.0.1 after the mock answered, at the URL its runtime expression names (filled from the request), with
the payload made from the callback's request body; a 3.1 webhook is sent by name to a URL (``send_webhook``).
Both go through the callback sender: an outgoing row of the log each, only to allowed hosts. On every server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support.openapi_documents import DATA
from support.receiver import Receiver
from support.waiting import wait_until

from postmock_nb.errors import ExampleDefinitionError
from postmock_nb.serving.requestlog import LogEntry
from postmock_nb.session import Session

PAYMENTS = {"openapi": "3.1.0", "info": {"title": "Payments", "version": "1"}, "paths": {
    "/teams/{team}/payments": {"post": {
        "operationId": "pay",
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"202": {"description": "Accepted", "content": {"application/json": {
            "example": {"status": "pending"}}}}},
        "callbacks": {"settled": {"{$request.body#/hooks/settled}/teams/{$request.path.team}": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"status": {"type": "string", "enum": ["settled"]},
                                                 "amount": {"type": "integer", "example": 12}}}}}},
            "responses": {"200": {"description": "ok"}}}}}}}}},
    "webhooks": {"refunded": {"post": {
        "parameters": [{"name": "X-Signature", "in": "header", "example": "t=1,v1=abc"}],
        "requestBody": {"content": {"application/json": {"example": {"refund": "r-1", "amount": 5}}}}}}}}


@pytest.fixture
def session() -> Iterator[Session]:
    found = Session()
    yield found
    found.close()


def outgoing(session: Session) -> list[LogEntry]:
    assert session.server is not None
    return [e for e in session.server.log.recent() if e.direction == "out"]


def test_the_public_callback_example_calls_the_query_url_back(session: Session, receiver: Receiver,
                                                               server_name: str) -> None:
    session.load(DATA / "oai-v3.0-callback-example.yaml")
    url = session.start(port=0, server=server_name).url
    answered = requests.post(url + "/streams", params={"callbackUrl": receiver.url + "/subscriber"}, timeout=5)
    assert answered.status_code == 201 and "subscriptionId" in answered.json()
    wait_until(lambda: receiver.received, "the callback at the receiver")
    [got] = receiver.received
    assert (got["method"], got["path"]) == ("POST", "/subscriber/data")
    assert set(json.loads(got["body"])) == {"timestamp", "userData"}
    assert got["headers"]["Content-Type"] == "application/json"
    wait_until(lambda: outgoing(session), "the callback's row")
    [row] = outgoing(session)
    assert (row.method, row.path, row.status, row.mark) == ("POST", receiver.url + "/subscriber/data", 204, "↗")
    assert row.note.startswith("callback of #1 (example subscription successfully created)")


def test_a_callback_from_the_body_and_path_with_a_generated_payload(session: Session, receiver: Receiver,
                                                                     server_name: str, tmp_path: Path) -> None:
    spec = tmp_path / "payments.json"
    spec.write_text(json.dumps(PAYMENTS), encoding="utf-8")
    session.load(spec)
    url = session.start(port=0, server=server_name).url
    answered = requests.post(url + "/teams/red/payments", json={"hooks": {"settled": receiver.url + "/hooks"}},
                             timeout=5)
    assert answered.status_code == 202 and answered.json() == {"status": "pending"}
    wait_until(lambda: receiver.received, "the callback at the receiver")
    [got] = receiver.received
    assert (got["method"], got["path"]) == ("POST", "/hooks/teams/red")
    assert json.loads(got["body"]) == {"status": "settled", "amount": 12}
    # a request without the URL the expression names: nothing sent, the row says why
    assert requests.post(url + "/teams/red/payments", json={}, timeout=5).status_code == 202
    wait_until(lambda: len(outgoing(session)) == 2, "the second callback's row")
    unsent = outgoing(session)[0]
    assert unsent.status is None and "not sent: a callback's URL must be an absolute http(s) URL" in unsent.note
    assert len(receiver.received) == 1


def test_a_webhook_is_sent_by_name(session: Session, receiver: Receiver, server_name: str, tmp_path: Path) -> None:
    spec = tmp_path / "payments.json"
    spec.write_text(json.dumps(PAYMENTS), encoding="utf-8")
    session.load(spec)
    session.load(DATA / "oai-v3.1-webhook-example.yaml")
    assert sorted(session.webhooks) == ["newPet", "refunded"]
    session.start(port=0, server=server_name)
    row = session.send_webhook("refunded", receiver.url + "/refunds")
    assert row is not None and (row.method, row.path, row.status, row.mark) == (
        "POST", receiver.url + "/refunds", 204, "↗")
    assert row.note == "webhook refunded" and row in outgoing(session)
    [got] = receiver.received  # the row comes once the receiver answered
    assert json.loads(got["body"]) == {"refund": "r-1", "amount": 5}
    assert got["headers"]["Content-Type"] == "application/json" and got["headers"]["X-Signature"] == "t=1,v1=abc"
    row = session.send_webhook("newPet", receiver.url + "/pets")
    assert row is not None and row.status == 204
    assert json.loads(receiver.received[1]["body"]) == {"id": 0, "name": "string", "tag": "string"}


def test_a_webhook_to_a_host_not_allowed_is_refused(session: Session, receiver: Receiver, server_name: str) -> None:
    session.load(DATA / "oai-v3.1-webhook-example.yaml")
    with pytest.raises(Exception, match="the mock is not running") as raised:
        session.send_webhook("newPet", receiver.url)
    assert "%mock start first" in str(raised.value)
    session.start(port=0, server=server_name)
    row = session.send_webhook("newPet", "http://hooks.example.com/pets")
    assert row is not None and row.status is None
    assert row.note.startswith("webhook newPet: refused: host 'hooks.example.com' is not allowed")
    with pytest.raises(ExampleDefinitionError) as raised:
        session.send_webhook("oldPet", receiver.url)
    assert raised.value.message == "no webhook named 'oldPet'" and raised.value.hint == "one of: newPet"
    with pytest.raises(ExampleDefinitionError, match="absolute http"):
        session.send_webhook("newPet", "/pets")
    assert receiver.received == []
