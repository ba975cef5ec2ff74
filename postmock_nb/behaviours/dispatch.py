"""Examples that behave: dispatching a winning handler or resource example to Python.

Handlers and resource operations are ordinary examples of the collection, marked in their saved
request (``x-mock-handler: <key>``, ``x-mock-resource: name=…; op=…``), so matching, scoring, the
``x-mock-*`` selectors, diagnostics and the Examples tab treat them like every other example. When
such an example wins, the app asks :meth:`Behaviours.respond` for the answer instead of sending the
saved response.

Precedence (one rule beside Postman's scoring): a handler or resource defines the normal behaviour of
its route, and explicit examples on the same route are its alternatives. The handlers and resources of a
collection always come before its explicit examples (:func:`behaviours_first`), so at an equal score the
handler or resource answers; an explicit example answers when a selector picks it
(``x-mock-response-code: 500``, ``x-mock-response-name``/``-id``) or when it scores higher (a stricter
path, ``/users/me`` over ``/users/:id``; a query, header or body it matches).

A :class:`Behaviours` is owned by a :class:`~postmock_nb.session.Session` (or made by a
:class:`~postmock_nb.serving.server.MockServer` of its own for ``postmock serve``), never a module global.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from postmock_nb.answers.responses import HttpResponse
from postmock_nb.behaviours.callbacks import Callback
from postmock_nb.behaviours.flows import Flows
from postmock_nb.behaviours.handlers import DEFAULT_TIMEOUT_S, Handler, HandlerRegistry, Rendered, Request
from postmock_nb.behaviours.records import Records, RecordStore
from postmock_nb.behaviours.resources import Resource, ResourceStore
from postmock_nb.behaviours.sockets import PLACEHOLDER_NOTE, PLACEHOLDER_STATUS, SocketHandler, SocketHandlerRegistry
from postmock_nb.behaviours.state import FlowState
from postmock_nb.behaviours.streams import HandlerStream
from postmock_nb.core import wire
from postmock_nb.core.markers import (
    EXAMPLE_ID_HEADER,
    EXAMPLE_NAME_HEADER,
    HANDLER_MARKER,
    SCORE_HEADER,
    SOCKET_HANDLER,
    WEBSOCKET_MARKER,
    Markers,
    code_of,
    is_mock_name,
    parse_resource,
    socket_markers,
)
from postmock_nb.core.model import Collection, Example, Item, RequestSpec, ResponseSpec, reason_phrase
from postmock_nb.core.text import plural
from postmock_nb.errors import ExampleDefinitionError
from postmock_nb.formats.cells import build_definition
from postmock_nb.matching import MatchResult
from postmock_nb.matching.snapshot import Snapshot

HANDLER_FOLDER = "Python handlers"
COMPUTED_NOTE = "Computed by the Python handler {name!r} in a notebook (postmock_nb); saved: {saved}."


@dataclass(frozen=True)
class Answer:
    """What answered a request, for the request log: a one-line note and, after an exception, its traceback."""

    kind: str  # handler, resource
    note: str
    traceback: str = ""
    wait_ms: float | None = None
    """A handler's wait in the queue behind other calls (None for a resource)."""
    run_ms: float | None = None
    """A handler's own run time."""
    callbacks: tuple[Callback, ...] = ()
    """What a handler asked to send once the response went out (see :mod:`postmock_nb.behaviours.callbacks`)."""
    stream: HandlerStream | None = None
    """What a streaming handler's generator yields, still to send (see :mod:`postmock_nb.behaviours.streams`)."""


class ExportWarning(str):
    """What :meth:`Behaviours.for_export` could not keep, as a line of text, with the handler it is about."""

    handler: str

    def __new__(cls, text: str, *, handler: str) -> ExportWarning:
        warning = super().__new__(cls, text)
        warning.handler = handler
        return warning


def marker_of(example: Example) -> tuple[str, str] | None:
    """``("handler", key)`` or ``("resource", "name=…; op=…")`` for a marked example, else None.

    For an example outside a snapshot (an export, a definition); a snapshot's examples have theirs in
    :attr:`~postmock_nb.matching.snapshot.Snapshot.code_plan`.
    """
    return code_of(example.request.headers)


def is_socket(example: Example) -> bool:
    """Whether ``example`` stands for a Python socket handler (``x-mock-websocket: handler``)."""
    return any(k.lower() == WEBSOCKET_MARKER and v.strip().lower() == SOCKET_HANDLER
               for k, v in example.request.headers)


def behaviours_first(collection: Collection) -> Collection:
    """The collection with the items holding handlers or resources before every other item (a stable move).

    A tie between examples goes to the one defined earlier, so this makes a handler or resource win a tie
    with an explicit example; the explicit example answers when a selector picks it or it scores higher.
    """
    marked = [i for i in collection.items if any(marker_of(e) for e in i.examples)]
    if not marked:
        return collection
    plain = [i for i in collection.items if not any(marker_of(e) for e in i.examples)]
    if collection.items == tuple(marked + plain):
        return collection
    return replace(collection, items=tuple(marked + plain))


class Behaviours:
    """The handlers and resources of one session, and how a winning marked example is answered."""

    def __init__(self, *, flow_state: FlowState | None = None, resources: RecordStore | None = None) -> None:
        """``flow_state`` keeps scenario states and sequence positions, ``resources`` the resources' records
        (both in this process's memory unless given: see postmock_nb.behaviours.state and .records)."""
        self.handlers = HandlerRegistry()
        self.sockets = SocketHandlerRegistry()
        """The Python WebSocket handlers (``@mock.websocket``; see postmock_nb.behaviours.sockets)."""
        self.resources: RecordStore = resources if resources is not None else ResourceStore()
        self.flows = Flows(state=flow_state)
        """Scenario states and sequence turns (see postmock_nb.behaviours.flows)."""
        self._restored = -1
        """The version of the last snapshot whose resources were restored (see :meth:`plan`)."""
        self._restoring = threading.Lock()

    # -- state (what the notebook and the admin API read and reset) ----------------------------

    def scenario_states(self, snapshot: Snapshot | None = None) -> dict[str, str]:
        """Every scenario (those of ``snapshot`` and those moved) → its current state, by name."""
        return self.flows.states(snapshot)

    def reset_scenarios(self, name: str | None = None) -> list[str]:
        """Scenarios (all, or ``name``) back to Started, and (all) sequences to their first turn; those reset."""
        return self.flows.reset(name)

    def sequence_names(self, snapshot: Snapshot) -> list[str]:
        """The names of the items of ``snapshot`` whose examples answer in turn (``x-mock-sequence``), sorted."""
        plan = self.flows.plan(snapshot)
        return sorted({item.name for item, example in snapshot.collection.iter_examples()
                       if example.id in plan and plan[example.id].sequence})

    # -- serving ------------------------------------------------------------------------------

    def plan(self, snapshot: Snapshot) -> dict[str, Markers]:
        """Example id → its markers, for the examples of ``snapshot`` a handler or resource answers (the
        snapshot's own table, :attr:`~postmock_nb.matching.snapshot.Snapshot.code_plan`).

        Resources a snapshot carries markers for but nobody defined (a loaded file, ``postmock serve``)
        are restored here from their list example's body, once per snapshot.
        """
        plan = snapshot.code_plan
        if snapshot.version != self._restored and plan:
            with self._restoring:
                if snapshot.version != self._restored:
                    if any(m.resource is not None for m in plan.values()):
                        self.resources.restore(snapshot.collection.examples)
                    self._restored = snapshot.version
        return plan

    async def respond(self, result: MatchResult, snapshot: Snapshot, body: bytes,
                      extra: Sequence[tuple[bytes, bytes]]) -> tuple[HttpResponse, Answer] | None:
        """The answer of the handler or resource behind the winner, or None for a plain example."""
        winner = result.winner
        if winner is None:
            return None
        planned = self.plan(snapshot).get(winner.id)
        if planned is None:
            return None
        request = result.request
        if planned.resource is None:
            handler = self.handlers.get(planned.handler or "")
            if handler is None:
                return None  # no function (a loaded file, a restarted kernel): its saved response answers
            outcome = await self.handlers.call(handler, Request(
                request.method, request.path, dict(result.captured), request.query, dict(request.headers), body,
                dict(snapshot.variables)))
            return _http(outcome.rendered, winner, result.score, extra), Answer(
                "handler", outcome.note(handler.name), outcome.traceback, outcome.wait_ms, outcome.run_ms,
                outcome.callbacks, outcome.stream)
        fields = planned.resource
        resource = self.resources.get(fields.get("name", ""))
        if resource is None:
            return None
        op = fields.get("op", "")
        record_id = next(iter(result.captured.values()), None) if result.captured else None
        if isinstance(resource, Resource):  # in memory: answered at once, as cheap as ever
            rendered, concerned = resource.operate(op, record_id, request.query, body)
        else:  # a shared store: awaited on the server's loop
            rendered, concerned = await resource.operate_async(op, record_id, request.query, body)
        note = f"resource {resource.name} {op}" + (f" id={concerned}" if concerned is not None else "")
        if rendered.status >= 400:
            note += f" → {rendered.status}"
        return _http(rendered, winner, result.score, extra), Answer("resource", note)

    # -- defining -----------------------------------------------------------------------------

    def handler_example(self, key: str, name: str, route: str, *, status: int = 200, sample: Any = None,
                        query: str = "", request_headers: Sequence[str] = (), example_id: str | None = None) -> Example:
        """The example a handler stands for: ``route`` is ``"GET /users/:id"`` (a query may follow the path);
        ``example_id``: the id of the example it replaces (the one its key stood for before)."""
        words = route.split()
        if len(words) != 2:
            raise ExampleDefinitionError(f"a handler's route is METHOD /path, got {route!r}",
                                         hint='for example: @mock.handler("GET /users/:id")')
        text = "" if sample is None else (sample if isinstance(sample, str) else json.dumps(sample, indent=2))
        path = words[1] + (("&" if "?" in words[1] else "?") + query if query else "")
        definition = build_definition(words[0], path, str(status), text, name=name,
                                      request_headers=list(request_headers))
        example = definition.to_example(example_id)
        marked = replace(example.request, headers=example.request.headers + ((HANDLER_MARKER, key),),
                         description=f"Python handler {name!r}")
        return replace(example, request=marked)

    def socket_example(self, key: str, name: str, path: str, *, query: str = "",
                       request_headers: Sequence[str] = (), example_id: str | None = None) -> Example:
        """The example a socket handler stands for: ``GET path`` marked as a socket handler's, answering
        426 Upgrade Required over plain HTTP (what Postman keeps: a described placeholder)."""
        if not path.startswith("/") or " " in path.strip():
            raise ExampleDefinitionError(f"a WebSocket route is a path, got {path!r}",
                                         hint='@mock.websocket("/ws/chat")  or  @mock.websocket("/ws/rooms/:room")')
        example = self.handler_example(key, name, f"GET {path.strip()}", status=PLACEHOLDER_STATUS,
                                       sample=PLACEHOLDER_NOTE.format(name=name), query=query,
                                       request_headers=[*request_headers, *socket_markers()], example_id=example_id)
        return replace(example, request=replace(example.request, description=PLACEHOLDER_NOTE.format(name=name)))

    def register_socket(self, key: str, name: str, function: Any) -> SocketHandler:
        handler = SocketHandler(key, name, function)
        self.sockets.register(handler)
        return handler

    def register_handler(self, key: str, name: str, function: Callable[..., Any], *,
                         timeout_s: float = DEFAULT_TIMEOUT_S, concurrent: bool = False) -> Handler:
        handler = Handler(key, name, function, timeout_s, concurrent)
        self.handlers.register(handler)
        return handler

    def define_resource(self, name: str, records: list[dict[str, Any]] | None, *, id_field: str | None = None,
                        path: str = "", max_records: int | None = None, max_bytes: int | None = None) -> Any:
        """The resource's live records (a Resource in memory): see RecordStore.define."""
        return self.resources.define(name, records, id_field=id_field, path=path, max_records=max_records,
                                     max_bytes=max_bytes)

    # -- export ---------------------------------------------------------------------------------

    def for_export(self, collection: Collection) -> tuple[Collection, list[str]]:
        """The collection as Postman keeps it: each handler as a static example of its most recent response
        (marker dropped, described as computed by Python), each resource's examples with its current state."""
        warnings: list[str] = []
        items = []
        for item in collection.items:
            examples = []
            for example in item.examples:
                found = marker_of(example)
                if found is None:
                    examples.append(example)
                elif found[0] == "handler" and is_socket(example):
                    examples.append(self._placeholder(example, found[1], warnings))
                elif found[0] == "handler":
                    examples.append(self._static(example, found[1], warnings))
                else:
                    examples.append(self._current(example, parse_resource(found[1])))
            items.append(replace(item, examples=tuple(examples)))
        return replace(collection, items=tuple(items)), warnings

    def _static(self, example: Example, key: str, warnings: list[str]) -> Example:
        handler = self.handlers.get(key)
        name = handler.name if handler is not None else example.name
        last = handler.last if handler is not None else None
        saved = "its most recent response" if last else "its sample"
        request = replace(example.request, headers=tuple(h for h in example.request.headers
                                                          if h[0].lower() != HANDLER_MARKER),
                          description=COMPUTED_NOTE.format(name=name, saved=saved))
        response = example.response
        if last is not None:
            text = last.body.decode("utf-8", "replace")
            language = "json" if any(k.lower() == "content-type" and "json" in v for k, v in last.headers) else ""
            response = ResponseSpec(last.status, reason_phrase(last.status), last.headers, text, language)
        warnings.append(ExportWarning(f"handler {name!r} cannot run in Postman: saved {saved} ({response.status})"
                                      " as a static example", handler=name))
        return replace(example, request=request, response=response)

    def _placeholder(self, example: Example, key: str, warnings: list[str]) -> Example:
        """A socket handler as Postman keeps it: its 426 placeholder, described, markers kept (a file loaded
        back says which handler to define, and the cell defining it takes the placeholder's place)."""
        handler = self.sockets.get(key)
        name = handler.name if handler is not None else example.name
        warnings.append(ExportWarning(f"WebSocket handler {name!r} cannot run in Postman: saved as a described "
                                      f"placeholder ({PLACEHOLDER_STATUS} over HTTP)", handler=name))
        return replace(example, request=replace(example.request, description=PLACEHOLDER_NOTE.format(name=name)))

    def _current(self, example: Example, fields: Mapping[str, str]) -> Example:
        resource = self.resources.get(fields.get("name", ""))
        if resource is None:
            return example
        fresh = {e.request.method + " " + e.request.path: e for e in resource.examples()}
        now = fresh.get(example.request.method + " " + example.request.path)
        if now is None:
            return example
        return replace(example, response=now.response, request=replace(example.request, body=now.request.body))


def resource_items(resource: Records, existing: Collection) -> list[Item]:
    """The items of ``resource``'s examples (ids kept from those ``existing`` has), in the folder of its name."""
    ids: dict[str, str] = {}
    for example in existing.examples:
        found = marker_of(example)
        if found and found[0] == "resource":
            fields = parse_resource(found[1])
            if fields.get("name") == resource.name:
                ids[fields.get("op", "")] = example.id
    items = []
    for example in resource.examples(ids):
        sent = tuple(h for h in example.request.headers if not is_mock_name(h[0]))
        items.append(Item(name=f"{example.request.method} {example.request.path}",
                          request=RequestSpec(example.request.method, example.request.path, headers=sent,
                                              body=example.request.body),
                          examples=(example,), folder=(resource.name,)))
    return items


def _http(rendered: Rendered, winner: Example, score: int | None,
          extra: Sequence[tuple[bytes, bytes]]) -> HttpResponse:
    headers = wire.saved_headers(list(rendered.headers))  # what HTTP cannot carry is dropped, as for examples
    content_type = next((v for k, v in rendered.headers if k.lower() == "content-type"), None)
    if content_type is not None:
        headers.append((b"content-type", wire.content_type_value(content_type)))
    headers.append((EXAMPLE_ID_HEADER.encode(), wire.label(winner.id)))
    headers.append((EXAMPLE_NAME_HEADER.encode(), wire.label(winner.name)))
    if score is not None:
        headers.append((SCORE_HEADER.encode(), str(score).encode()))
    return HttpResponse(rendered.status, headers + list(extra), rendered.body)


def answered_by(example: Example, behaviours: Behaviours | None) -> str:
    """What answers for ``example``: "example", "handler greet (3 calls, 0.4 ms)", "resource todos (4 records…)"."""
    found = marker_of(example)
    if found is None or behaviours is None:
        return "example" if found is None else found[0]
    kind, value = found
    if kind == "handler":
        handler = behaviours.handlers.get(value)
        if handler is None:
            return "handler (not defined: its saved response)"
        text = f"handler {handler.name} ({plural(handler.calls, 'call')}"
        text += f", last {handler.last_ms:.1f} ms" if handler.calls else ""
        return text + (f", last error {handler.last_error}" if handler.last_error else "") + ")"
    fields = parse_resource(value)
    resource = behaviours.resources.get(fields.get("name", ""))
    if resource is None:
        return f"resource {fields.get('name', '')} (not restored)"
    tally = resource.tally()
    if tally is None:
        return f"resource {resource.name} {fields.get('op', '')} (its records cannot be read now)"
    count, last_change = tally
    changed = time.strftime("%H:%M:%S", time.localtime(last_change)) if last_change else "never"
    return f"resource {resource.name} {fields.get('op', '')} ({plural(count, 'record')}, changed {changed})"
