"""OpenAPI ``callbacks`` and ``webhooks`` in (postmock_nb.formats.openapi), in-process: an operation's callback
becomes the ``x-mock-callback`` markers of its examples below 400 (the URL's runtime expressions as our
placeholders, the payload from the callback's request body); a callback that cannot be sent is skipped with a
warning naming the operation and the expression; one callback an example, the others named in a warning; 3.1
webhooks are read as templates. (Served, with a receiver: tests/server/test_openapi_callbacks_served.py.)"""

from __future__ import annotations

import copy
from typing import Any

from support.openapi_documents import DATA

from postmock_nb.core.markers import CallbackMarker, read_markers
from postmock_nb.formats.openapi import Webhook, collection_from_openapi
from postmock_nb.formats.sources import load_any

PAYMENT = {"type": "object", "properties": {"id": {"type": "string", "example": "p-1"},
                                            "status": {"type": "string", "enum": ["settled", "failed"]}}}


def _document(callbacks: dict[str, Any], version: str = "3.0.3") -> dict[str, Any]:
    return {"openapi": version, "info": {"title": "Payments", "version": "1"}, "paths": {
        "/teams/{team}/payments": {"post": {
            "operationId": "pay",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {"202": {"description": "Accepted"}, "200": {"description": "Done"},
                          "400": {"description": "Bad"}, "default": {"description": "Error"}},
            "callbacks": callbacks}}}}


def _on(url: str, method: str = "post", body: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"responses": {"200": {"description": "ok"}}}
    if body is not None:
        operation["requestBody"] = {"content": {"application/json": body}}
    return {url: {method: operation}}


def _callbacks(document: dict[str, Any]) -> tuple[dict[int, CallbackMarker | None], list[str]]:
    collection, spec = collection_from_openapi(document, "pay.yaml")
    return {e.response.status: read_markers(e.request.headers).callback for e in collection.examples}, spec.warnings


def test_a_callback_is_the_marker_of_every_example_below_400() -> None:
    found, warnings = _callbacks(_document({"settled": _on(
        "{$request.body#/callbackUrl}/teams/{$request.path.team}?status={$statusCode}",
        body={"schema": PAYMENT})}))
    assert warnings == []
    assert found[400] is None and found[500] is None  # an error answer calls nobody back
    assert found[202] == CallbackMarker("POST", "{{$body 'callbackUrl'}}/teams/{{team}}?status=202",
                                        '{"id": "p-1", "status": "settled"}')
    assert found[200] is not None and found[200].url.endswith("?status=200")  # $statusCode: the example's


def test_the_callbacks_example_comes_before_its_schema() -> None:
    named = {"schema": PAYMENT, "examples": {"late": {"value": {"id": "late"}}}}
    found, _ = _callbacks(_document({"a": _on("{$request.query.hook}", body=named)}))
    assert found[202] == CallbackMarker("POST", "{{$queryParams 'hook'}}", '{"id": "late"}')
    found, _ = _callbacks(_document({"a": _on("{$request.header.X-Hook}", "put", {"example": {"id": 7}})}))
    assert found[202] == CallbackMarker("PUT", "{{$headers 'X-Hook'}}", '{"id": 7}')
    found, _ = _callbacks(_document({"a": _on("{$request.body#/url}", "get")}))  # no request body: none sent
    assert found[202] == CallbackMarker("GET", "{{$body 'url'}}", "")


def test_a_callback_that_cannot_be_filled_is_skipped_with_a_warning() -> None:
    found, warnings = _callbacks(_document({"receipt": _on("{$response.body#/receiptUrl}")}))
    assert set(found.values()) == {None}  # imported all the same, without the callback
    [warning] = warnings
    assert "pay.yaml at #/paths/~1teams~1{team}~1payments/post/callbacks/receipt" in warning
    assert "'receipt' of POST /teams/{team}/payments is not sent" in warning and "$response.body#/receiptUrl" in warning
    assert "from the request, not from the response" in warning


def test_one_callback_an_example_the_first_that_can_be_sent() -> None:
    found, warnings = _callbacks(_document({
        "receipt": _on("{$url}/receipt"), "settled": _on("{$request.body#/settledUrl}"),
        "refunded": _on("{$request.body#/refundUrl}"), "head": _on("{$request.body#/x}", "head")}))
    assert found[202] is not None and found[202].url == "{{$body 'settledUrl'}}"
    assert len(warnings) == 2
    assert warnings[0].endswith("the callback 'receipt' of POST /teams/{team}/payments is not sent: "
                                "$url: the request's whole URL has no placeholder")
    assert warnings[1].endswith("POST /teams/{team}/payments sends one callback, 'settled'; not sent: "
                                "'refunded', 'head'")


def test_callbacks_by_reference_and_methods_no_callback_has() -> None:
    document = _document({"settled": {"$ref": "#/components/callbacks/Settled"},
                          "odd": _on("{$request.body#/x}", "head")})
    document["components"] = {"callbacks": {"Settled": _on("{$request.body#/url}", body={"example": {"ok": True}})}}
    found, warnings = _callbacks(document)
    assert found[202] == CallbackMarker("POST", "{{$body 'url'}}", '{"ok": true}')
    assert warnings[0].endswith("POST /teams/{team}/payments sends one callback, 'settled'; not sent: 'odd'")
    found, warnings = _callbacks(_document({"odd": _on("{$request.body#/x}", "head")}))
    assert set(found.values()) == {None} and "the method HEAD cannot be a callback's" in warnings[0]


def test_a_document_without_callbacks_is_imported_as_before() -> None:
    document = _document({"settled": _on("{$request.body#/url}")})
    plain = copy.deepcopy(document)
    del plain["paths"]["/teams/{team}/payments"]["post"]["callbacks"]
    with_callback, _ = collection_from_openapi(document)
    without, spec = collection_from_openapi(plain)
    assert spec.warnings == [] and spec.webhooks == {}
    assert all(not e.request.headers for e in without.examples)

    def shape(collection: Any) -> list[tuple[Any, ...]]:  # all but the ids (new each import) and the markers
        return [(i.name, e.name, e.request.method, e.request.path, e.request.body, e.response)
                for i, e in collection.iter_examples()]

    assert shape(with_callback) == shape(without)
    assert [len(e.request.headers) for e in with_callback.examples] == [1, 1, 0, 0]  # x-mock-callback (no body)


def test_the_public_callback_example() -> None:
    loaded = load_any(DATA / "oai-v3.0-callback-example.yaml")
    [example] = loaded.collection.examples
    marker = read_markers(example.request.headers).callback
    assert marker is not None and marker.method == "POST" and marker.url == "{{$queryParams 'callbackUrl'}}/data"
    assert '"timestamp":' in marker.body and '"userData": "string"' in marker.body
    assert loaded.spec is not None and loaded.spec.warnings == []


def test_webhooks_are_read_as_templates() -> None:
    loaded = load_any(DATA / "oai-v3.1-webhook-example.yaml")
    assert loaded.collection.examples == () and loaded.spec is not None
    assert loaded.spec.webhooks == {"newPet": Webhook(
        "newPet", "POST", '{"id": 0, "name": "string", "tag": "string"}', (("Content-Type", "application/json"),))}
    document: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": "Hooks", "version": "1"}, "webhooks": {
        "paid": {"summary": "ignored: the operation's", "put": {
            "summary": "A payment settled",
            "parameters": [{"name": "X-Signature", "in": "header", "example": "t=1,v1=abc"}],
            "requestBody": {"content": {"text/plain": {"example": "settled p-1"}}}}},
        "empty": {"summary": "nothing to send"},
        "probe": {"head": {}}}}
    _, spec = collection_from_openapi(document, "hooks.yaml")
    assert spec.webhooks == {"paid": Webhook("paid", "PUT", "settled p-1", (
        ("Content-Type", "text/plain"), ("X-Signature", "t=1,v1=abc")), "A payment settled")}
    assert spec.warnings == [
        "hooks.yaml at #/webhooks/empty: the webhook 'empty' cannot be sent: it needs one operation "
        "(GET, POST, PUT, PATCH, DELETE)",
        "hooks.yaml at #/webhooks/probe: the webhook 'probe' cannot be sent: it needs one operation "
        "(GET, POST, PUT, PATCH, DELETE)"]
