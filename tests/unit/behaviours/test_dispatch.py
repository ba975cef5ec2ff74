"""behaviours/dispatch.py: marked examples (handlers, resources) answered by Python, ordered first, exported."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from support.builders import make_collection, make_example

from postmock_nb.behaviours.dispatch import (
    COMPUTED_NOTE,
    Behaviours,
    ExportWarning,
    answered_by,
    behaviours_first,
    marker_of,
    resource_items,
)
from postmock_nb.behaviours.handlers import Request
from postmock_nb.core.headers import RequestHeaders
from postmock_nb.core.model import Collection, Example, Item
from postmock_nb.errors import ExampleDefinitionError
from postmock_nb.matching import IncomingRequest
from postmock_nb.matching.search import match
from postmock_nb.matching.snapshot import Snapshot


@pytest.fixture
def behaviours() -> Iterator[Behaviours]:
    made = Behaviours()
    yield made
    made.handlers.close()


def _answer(behaviours: Behaviours, collection: Collection, request: str, body: bytes = b"") -> Any:
    snapshot = Snapshot(collection)
    method, _, url = request.partition(" ")
    result = match(snapshot, IncomingRequest.build(method, url, body=body.decode()))
    return asyncio.run(behaviours.respond(result, snapshot, body, [(b"x-extra", b"1")]))


def _headers(response: Any) -> dict[bytes, bytes]:
    return dict(response.headers)


def test_marker_of_a_plain_and_a_marked_example(behaviours: Behaviours) -> None:
    assert marker_of(make_example("GET /users")) is None
    assert marker_of(behaviours.handler_example("k1", "greet", "GET /users/:id")) == ("handler", "k1")
    todos = behaviours.define_resource("todos", [{"id": 1}])
    marked = [marker_of(example) for example in todos.examples()]
    assert marked[0] == ("resource", "name=todos; op=list; id=id")


def test_handler_example_carries_its_marker_sample_and_query(behaviours: Behaviours) -> None:
    example = behaviours.handler_example("k1", "greet", "get /users/:id?a=1", status=201, sample={"hi": 1},
                                         query="b=2", example_id="fixed-id")
    assert (example.request.method, example.request.path) == ("GET", "/users/:id")
    assert example.request.query == (("a", "1"), ("b", "2"))
    assert example.request.headers[-1] == ("x-mock-handler", "k1")
    assert example.request.description == "Python handler 'greet'"
    assert example.response.status == 201 and json.loads(example.response.body) == {"hi": 1}
    assert example.id == "fixed-id"


def test_handler_example_keeps_a_text_sample_as_it_is(behaviours: Behaviours) -> None:
    assert behaviours.handler_example("k", "n", "GET /t", sample="plain text").response.body == "plain text"
    assert behaviours.handler_example("k", "n", "GET /t").response.body == ""


@pytest.mark.parametrize("route", ["/users", "GET", "GET /a /b", ""])
def test_handler_example_refuses_a_route_that_is_not_method_and_path(behaviours: Behaviours, route: str) -> None:
    with pytest.raises(ExampleDefinitionError) as caught:
        behaviours.handler_example("k", "n", route)
    assert caught.value.message == f"a handler's route is METHOD /path, got {route!r}"
    assert "@mock.handler" in caught.value.hint


def test_behaviours_first_moves_marked_items_first_keeping_their_order(behaviours: Behaviours) -> None:
    plain_a, plain_b = make_example("GET /a", "a"), make_example("GET /b", "b")
    marked_c = behaviours.handler_example("c", "c", "GET /c")
    marked_d = behaviours.handler_example("d", "d", "GET /d")
    ordered = behaviours_first(make_collection(plain_a, marked_c, plain_b, marked_d))
    assert [example.name for example in ordered.examples] == ["c", "d", "a", "b"]


def test_behaviours_first_returns_the_same_collection_when_nothing_moves(behaviours: Behaviours) -> None:
    plain = make_collection(make_example("GET /a"), make_example("GET /b"))
    assert behaviours_first(plain) is plain
    first = make_collection(behaviours.handler_example("k", "k", "GET /k"), make_example("GET /a"))
    assert behaviours_first(first) is first


def test_a_handler_winner_is_answered_by_its_function(behaviours: Behaviours) -> None:
    def greet(request: Request) -> dict[str, Any]:
        return {"id": request.path_vars["id"], "base": request.variables.get("baseUrl")}

    behaviours.register_handler("k1", "greet", greet)
    example = behaviours.handler_example("k1", "greet", "GET /users/:id")
    collection = make_collection(example, variables={"baseUrl": "http://x"})
    response, answer = _answer(behaviours, collection, "GET /users/7")
    assert (response.status, json.loads(response.body)) == (200, {"id": "7", "base": "http://x"})
    headers = _headers(response)
    assert headers[b"x-mock-example-id"] == example.id.encode()
    assert headers[b"x-mock-example-name"] == b"greet"
    score = match(Snapshot(collection), IncomingRequest.build("GET", "/users/7")).score
    assert headers[b"x-mock-score"] == str(score).encode() and headers[b"x-extra"] == b"1"
    assert headers[b"content-type"] == b"application/json"
    assert (answer.kind, answer.traceback) == ("handler", "")
    assert answer.run_ms is not None and answer.wait_ms is not None


def test_a_handler_reads_the_request_headers_as_a_dict_of_its_own(behaviours: Behaviours) -> None:
    """The mock decodes request headers lazily (core/headers.RequestHeaders); a handler still gets a plain dict in
    ``header_map`` (``json.dumps`` of it works, as before) and looks them up in any case through ``headers``."""
    seen: dict[str, Any] = {}

    def echo(request: Request) -> dict[str, Any]:
        seen["map"] = request.header_map
        return {"headers": json.loads(json.dumps(request.header_map)), "any": request.headers["X-Tenant"]}

    behaviours.register_handler("k1", "echo", echo)
    snapshot = Snapshot(make_collection(behaviours.handler_example("k1", "echo", "GET /echo")))
    request = IncomingRequest("GET", "/echo", (), RequestHeaders([(b"X-Tenant", b"acme"), (b"accept", b"*/*")]))
    response, _ = asyncio.run(behaviours.respond(match(snapshot, request), snapshot, b"", ()))
    assert json.loads(response.body) == {"headers": {"x-tenant": "acme", "accept": "*/*"}, "any": "acme"}
    assert type(seen["map"]) is dict


def test_a_handler_that_raises_answers_500_with_its_traceback(behaviours: Behaviours) -> None:
    def broken(request: Request) -> Any:
        raise LookupError("no such user")

    behaviours.register_handler("k", "broken", broken)
    collection = make_collection(behaviours.handler_example("k", "broken", "GET /boom"))
    response, answer = _answer(behaviours, collection, "GET /boom")
    assert response.status == 500
    assert "LookupError: no such user" in answer.traceback


def test_a_plain_winner_an_undefined_handler_and_a_miss_are_not_answered(behaviours: Behaviours) -> None:
    collection = make_collection(make_example("GET /plain", body="saved"),
                                 behaviours.handler_example("gone", "gone", "GET /gone", sample={"saved": True}))
    assert _answer(behaviours, collection, "GET /plain") is None
    assert _answer(behaviours, collection, "GET /gone") is None  # its saved response answers
    assert _answer(behaviours, collection, "POST /nothing/here") is None


def test_a_resource_winner_is_answered_from_its_records(behaviours: Behaviours) -> None:
    todos = behaviours.define_resource("todos", [{"id": 1, "title": "a"}, {"id": 2, "title": "b"}])
    collection = Collection(name="c", items=tuple(resource_items(todos, Collection(name="c"))))
    response, answer = _answer(behaviours, collection, "GET /todos/2")
    assert (response.status, json.loads(response.body)) == (200, {"id": 2, "title": "b"})
    assert (answer.kind, answer.note) == ("resource", "resource todos get id=2")
    missing, note = _answer(behaviours, collection, "GET /todos/9")
    assert missing.status == 404 and note.note == "resource todos get id=9 → 404"
    created, _ = _answer(behaviours, collection, "POST /todos", body=b'{"title": "c"}')
    assert created.status == 201 and len(todos) == 3


def test_a_resource_nobody_defined_is_restored_from_its_saved_list_once(behaviours: Behaviours) -> None:
    source = Behaviours()
    todos = source.define_resource("todos", [{"id": 1, "title": "saved"}])
    collection = Collection(name="c", items=tuple(resource_items(todos, Collection(name="c"))))
    assert behaviours.resources.get("todos") is None
    snapshot = Snapshot(collection)
    plan = behaviours.plan(snapshot)
    assert {markers.resource["op"] for markers in plan.values() if markers.resource} >= {"list", "get", "create"}
    restored = behaviours.resources.get("todos")
    assert restored is not None and len(restored) == 1
    behaviours.plan(snapshot)
    assert behaviours.resources.get("todos") is restored


def test_resource_items_keep_the_ids_the_collection_has(behaviours: Behaviours) -> None:
    todos = behaviours.define_resource("todos", [])
    first = Collection(name="c", items=tuple(resource_items(todos, Collection(name="c"))))
    again = resource_items(todos, first)
    assert [item.examples[0].id for item in again] == [example.id for example in first.examples]
    assert all(item.folder == ("todos",) for item in again)
    assert all(not name.lower().startswith("x-mock-") for item in again for name, _ in item.request.headers)


def test_for_export_turns_a_handler_into_its_most_recent_response(behaviours: Behaviours) -> None:
    behaviours.register_handler("k", "greet", lambda request: ({"n": 1}, 202))
    example = behaviours.handler_example("k", "greet", "GET /g", sample={"sample": True})
    collection = make_collection(example, make_example("GET /plain", "plain"))
    _answer(behaviours, collection, "GET /g")
    exported, warnings = behaviours.for_export(collection)
    static = exported.examples[0]
    assert marker_of(static) is None
    assert static.request.description == COMPUTED_NOTE.format(name="greet", saved="its most recent response")
    assert (static.response.status, json.loads(static.response.body)) == (202, {"n": 1})
    assert static.response.preview_language == "json"
    assert exported.examples[1] == collection.examples[1]
    assert warnings == ["handler 'greet' cannot run in Postman: saved its most recent response (202) as a static "
                        "example"]
    assert isinstance(warnings[0], ExportWarning) and warnings[0].handler == "greet"


def test_for_export_of_a_handler_never_called_keeps_its_sample(behaviours: Behaviours) -> None:
    example = behaviours.handler_example("nobody", "later", "GET /l", status=201, sample="sample")
    exported, warnings = behaviours.for_export(make_collection(example))
    assert exported.examples[0].response == example.response
    assert warnings == ["handler 'later' cannot run in Postman: saved its sample (201) as a static example"]


def test_for_export_gives_a_resource_its_current_records(behaviours: Behaviours) -> None:
    todos = behaviours.define_resource("todos", [{"id": 1}])
    collection = Collection(name="c", items=tuple(resource_items(todos, Collection(name="c"))))
    todos.append({"id": 2})
    exported, warnings = behaviours.for_export(collection)
    listed = next(example for example in exported.examples if example.name == "todos · list")
    assert json.loads(listed.response.body) == [{"id": 1}, {"id": 2}]
    assert warnings == []
    assert marker_of(listed) == ("resource", "name=todos; op=list; id=id")


def test_answered_by_says_what_answers(behaviours: Behaviours) -> None:
    plain = make_example("GET /p")
    handler_example = behaviours.handler_example("k", "greet", "GET /g")
    assert answered_by(plain, behaviours) == "example"
    assert answered_by(handler_example, None) == "handler"
    assert answered_by(handler_example, behaviours) == "handler (not defined: its saved response)"
    behaviours.register_handler("k", "greet", lambda request: "hi")
    assert answered_by(handler_example, behaviours) == "handler greet (0 calls)"
    _answer(behaviours, make_collection(handler_example), "GET /g")
    assert answered_by(handler_example, behaviours).startswith("handler greet (1 call, last ")


def test_answered_by_a_resource(behaviours: Behaviours) -> None:
    todos = behaviours.define_resource("todos", [{"id": 1}, {"id": 2}])
    listed: Example = todos.examples()[0]
    assert answered_by(listed, behaviours) == "resource todos list (2 records, changed never)"
    assert answered_by(listed, Behaviours()) == "resource todos (not restored)"


def test_sequence_names_and_scenario_states_of_a_plain_collection(behaviours: Behaviours) -> None:
    snapshot = Snapshot(make_collection(make_example("GET /a")))
    assert behaviours.sequence_names(snapshot) == []
    assert behaviours.scenario_states(snapshot) == {}
    assert behaviours.reset_scenarios() == []


def test_each_behaviours_has_its_own_state() -> None:
    one, two = Behaviours(), Behaviours()
    one.define_resource("todos", [{"id": 1}])
    assert two.resources.get("todos") is None
    item: Item = resource_items(one.resources.get("todos"), Collection(name="c"))[0]
    assert item.name == "GET /todos"


def test_for_export_says_when_it_saved_the_sample(behaviours: Behaviours) -> None:
    """A handler never called (or one that streamed: a stream is no response to keep) keeps its sample, and
    its description says so."""
    behaviours.register_handler("k", "later", lambda request: {"n": 1})
    example = behaviours.handler_example("k", "later", "GET /later", sample={"sample": True})
    exported, warnings = behaviours.for_export(make_collection(example))
    assert exported.examples[0].request.description == COMPUTED_NOTE.format(name="later", saved="its sample")
    assert warnings == ["handler 'later' cannot run in Postman: saved its sample (200) as a static example"]
