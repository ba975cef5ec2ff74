"""``postmock serve`` of an OpenAPI document with a callback: the receiver (a local HTTP server in this process, on
127.0.0.1) is called back at the URL the request's body names, with the callback's example payload, and the admin
API's log shows the outgoing row; ``postmock validate`` names the document's webhooks."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from support.cli import START_TIMEOUT, TIMEOUT, postmock
from support.receiver import Receiver
from support.waiting import wait_until

PAYMENTS = Path(__file__).resolve().parents[2] / "notebooks" / "data" / "payments.openapi.yaml"


def test_serve_sends_an_openapi_callback() -> None:
    receiver = Receiver()
    try:
        with postmock("serve", str(PAYMENTS), "--port", "0") as cli:
            url = cli.wait_for(r"at (http://127\.0\.0\.1:\d+)").group(1)
            answered = requests.post(url + "/subscriptions", json={"callbackUrl": receiver.url + "/hooks"},
                                     timeout=TIMEOUT)
            assert answered.status_code == 201 and answered.json() == {"id": "sub-1", "status": "active"}
            wait_until(lambda: receiver.received, "the callback at the receiver")

            def outgoing() -> list[dict[str, object]]:
                rows = requests.get(url + "/__postmock/log", timeout=TIMEOUT).json()
                return [r for r in rows if r.get("direction") == "out"]

            wait_until(outgoing, "the callback's row")
            [row] = outgoing()
            assert row["url"] == receiver.url + "/hooks/settled" and row["status"] == 204
            assert str(row["note"]).startswith("callback of #1 (example Subscribed)")
            cli.interrupt()
    finally:
        receiver.close()
    [got] = receiver.received
    assert (got["method"], got["path"]) == ("POST", "/hooks/settled")
    assert json.loads(got["body"]) == {"event": "payment.settled", "id": "p-1", "amount": 1200}


def test_validate_names_the_webhooks() -> None:
    with postmock("validate", str(PAYMENTS)) as cli:
        assert cli.process.wait(START_TIMEOUT) == 0
        out = cli.output()
    assert "POST    /subscriptions  201  Subscribed" in out
    assert "webhooks (sent by hand: %mock webhook NAME URL): paymentRefunded" in out
