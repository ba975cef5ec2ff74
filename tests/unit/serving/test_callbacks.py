"""serving/callbacks: an example's callback filled from the request that won it (no socket; sending them over
real sockets, and their log rows: tests/server/test_callbacks.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from postmock_nb.behaviours.callbacks import CallbackError
from postmock_nb.core.markers import CallbackMarker
from postmock_nb.matching import IncomingRequest
from postmock_nb.serving.callbacks import fill


class Won:
    """What :func:`fill` reads of a match: the request and the path variables captured."""

    def __init__(self, request: IncomingRequest, captured: dict[str, str]) -> None:
        self.request, self.captured, self.winner = request, captured, None


def won(body: dict[str, Any]) -> Any:
    raw = json.dumps(body)
    return Won(IncomingRequest.build("POST", "/shops/7/payments?notify=yes", {"x-trace": "t-1"}, raw), {"shop": "7"})


def test_the_url_and_a_json_body_are_filled_from_the_request() -> None:
    marker = CallbackMarker("POST", "{{$body 'callback_url'}}",
                            '{"status": "settled", "id": "{{$body \'id\'}}", "amount": {{$body \'amount\'}}, '
                            '"shop": "{{shop}}", "trace": "{{$headers \'x-trace\'}}", "base": "{{base}}"}', 1500)
    request = {"id": 'p"1', "amount": 12.5, "callback_url": "http://127.0.0.1:9000/hooks/pay"}
    callback = fill(marker, won(request), {"base": "v1"}, json.dumps(request).encode())
    assert (callback.method, callback.url, callback.delay_s) == ("POST", "http://127.0.0.1:9000/hooks/pay", 1.5)
    assert json.loads(callback.body) == {"status": "settled", "id": 'p"1', "amount": 12.5, "shop": "7",
                                         "trace": "t-1", "base": "v1"}
    assert dict(callback.headers) == {"Content-Type": "application/json"}


def test_a_text_body_goes_as_it_is_filled() -> None:
    marker = CallbackMarker("PUT", "http://localhost:9/{{shop}}/done", "order {{$body 'id'}} settled")
    callback = fill(marker, won({"id": "o-2"}), {}, b'{"id": "o-2"}')
    assert callback.url == "http://localhost:9/7/done" and callback.body == b"order o-2 settled"
    assert callback.headers == () and callback.delay_s == 0


def test_a_url_the_request_does_not_fill_is_refused() -> None:
    marker = CallbackMarker("POST", "{{$body 'callback_url'}}")
    with pytest.raises(CallbackError, match="absolute http"):
        fill(marker, won({"id": 1}), {}, b'{"id": 1}')


def test_an_examples_callback_survives_save_and_load(tmp_path: Any) -> None:
    from postmock_nb.session import Session  # deferred: the facade, only for this round trip

    saved = Session()
    saved.define("POST /payments 202", "> x-mock-callback: POST {{$body 'callback_url'}}; delay=2000\n"
                                        "> x-mock-callback-body: {\"id\": \"{{$body 'id'}}\"}\n\n{\"status\": \"pending\"}")
    saved.save(tmp_path / "pay.json")
    loaded = Session()
    loaded.load(tmp_path / "pay.json")
    assert list(loaded.store.snapshot.callback_plan.values()) == [
        CallbackMarker("POST", "{{$body 'callback_url'}}", '{"id": "{{$body \'id\'}}"}', 2000)]
    saved.close()
    loaded.close()
