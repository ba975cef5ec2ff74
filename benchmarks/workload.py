"""The benchmark collections and the requests sent to them (shared by every benchmark script).

``build_collection(1)`` holds one example: the one answering :data:`PRIMARY`.
``build_collection(10_000)`` is meant to be realistic *and* adversarial for the matcher:

* 50 % ``GET /items/1`` … ``/items/5000``: ID-like paths that all collide under ID stripping
  (the ``IDS`` path rule files them under one key, ``/items/<id>``);
* 20 % literal paths ``/api/v1/res0042/list`` under four methods;
* 10 % path variables ``/api/v2/res0042/:id`` and ``/api/v2/res0042/:id/history``
  (200 and 404 examples, so several examples share each pattern);
* 20 % examples with queries: ``/api/v1/search0042?q=term2&page=1``, four per path.

Other sizes keep these proportions. Every example is deterministic (ids are UUID5s), so
the example answering :data:`PRIMARY` is byte-for-byte the same in every collection size
and the responses compared have the same headers and body.
"""

from __future__ import annotations

import json
import uuid

from postmock_nb.core.model import Collection, Example, Item, RequestSpec, ResponseSpec

PRIMARY_ID = 2500
PRIMARY = f"/items/{PRIMARY_ID}"
"""The main request: an exact path present in every collection size, whose ID-stripped key
collides with every other ``/items/<n>`` example."""

PATH_VARIABLE_HIT = "/api/v2/res0042/98765"
"""Matched by the ``/api/v2/res0042/:id`` pattern (information only)."""

QUERY_HIT = "/api/v1/search0042?q=term2&page=1"
"""An exact path with four examples that differ only by query (information only)."""

MISS = "/api/v3/nothing/here"
"""No example has this path: a 404 with near-miss diagnostics (information only)."""

ID_NAMESPACE = uuid.UUID("5f0c3a52-7c2e-4c55-9a43-1b1f2c7de001")
_JSON = (("Content-Type", "application/json"),)
_ACTIONS = (("GET", "list"), ("GET", "stats"), ("POST", "export"), ("DELETE", "cache"))


def _example(name: str, method: str, path: str, body: object, *, status: int = 200,
             query: tuple[tuple[str, str], ...] = ()) -> tuple[str, Example]:
    request = RequestSpec(method, path, query=query)
    response = ResponseSpec(status, "OK" if status < 400 else "Not Found", _JSON, json.dumps(body, indent=2), "json")
    return f"{method} {path}", Example(name, request, response, str(uuid.uuid5(ID_NAMESPACE, name)))


def _item_example(n: int) -> tuple[str, Example]:
    return _example(f"item {n}", "GET", f"/items/{n}",
                    {"id": n, "name": f"Item {n}", "price": round(n * 1.37, 2), "tags": ["bench", "item"],
                     "stock": n % 17, "updated": "2024-05-01T12:00:00Z"})


def build_collection(size: int) -> Collection:
    """A deterministic collection of ``size`` examples that always answers :data:`PRIMARY`."""
    if size < 1:
        raise ValueError("size must be at least 1")
    rows: list[tuple[str, Example]] = [_item_example(PRIMARY_ID)]
    if size > 1:
        n_items = size // 2
        n_literal = size // 5
        n_variable = size // 10
        n_query = size - n_items - n_literal - n_variable
        numbers = [n for n in range(1, n_items + 2) if n != PRIMARY_ID][: n_items - 1]
        rows = [_item_example(n) for n in sorted(numbers + [PRIMARY_ID])]
        for i in range(n_literal):
            method, action = _ACTIONS[i % len(_ACTIONS)]
            resource = f"res{i // len(_ACTIONS):04d}"
            rows.append(_example(f"{action} {resource}", method, f"/api/v1/{resource}/{action}",
                                 {"resource": resource, "action": action, "ok": True}))
        for i in range(n_variable):
            resource = f"res{i // 4:04d}"
            path = f"/api/v2/{resource}/:id" + ("/history" if i % 4 >= 2 else "")
            status = 200 if i % 2 == 0 else 404
            rows.append(_example(f"{resource} {'history' if i % 4 >= 2 else 'one'} {status}", "GET", path,
                                 {"resource": resource, "id": "{{id}}"} if status == 200 else {"error": "not found"},
                                 status=status))
        for i in range(n_query):
            path = f"/api/v1/search{i // 4:04d}"
            term = f"term{i % 4}"
            rows.append(_example(f"search{i // 4:04d} {term}", "GET", path, {"q": term, "results": [1, 2, 3]},
                                 query=(("q", term), ("page", "1"))))
    items: dict[str, list[Example]] = {}
    for item_name, example in rows:
        items.setdefault(item_name, []).append(example)
    collection = Collection(name=f"benchmark {size}", id=str(uuid.uuid5(ID_NAMESPACE, f"collection {size}")),
                            items=tuple(Item(name, examples[0].request, tuple(examples),
                                             id=str(uuid.uuid5(ID_NAMESPACE, "item " + name)))
                                        for name, examples in items.items()))
    assert len(collection.examples) == size, (len(collection.examples), size)
    return collection
