"""The notebook surface for behaviour: ``@mock.handler(...)`` and ``mock.resource(...)``.

``%load_ext postmock_nb`` puts a :class:`Prototype` called ``mock`` in the notebook (unless the
name is taken; ``postmock_nb.prototype_of(get_ipython())`` gives it then)::

    @mock.handler("GET /users/:id")
    def get_user(request):
        return {"id": int(request.path_vars["id"]), "name": names[int(request.path_vars["id"])]}

    users = mock.resource("users", [{"id": 1, "name": "Alice"}])

A handler stays a plain function (call it in a test with a :class:`~postmock_nb.behaviours.handlers.Request`).
Re-running the cell replaces the handler it defined (identity: the cell id, else the name), as
re-running an ``%%example`` cell replaces its example.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from postmock_nb.behaviours import callbacks
from postmock_nb.behaviours.dispatch import HANDLER_FOLDER, behaviours_first, is_socket, marker_of, resource_items
from postmock_nb.behaviours.handlers import DEFAULT_TIMEOUT_S, Handler
from postmock_nb.behaviours.resources import Resource, parse_marker, size_value
from postmock_nb.behaviours.sockets import check_function
from postmock_nb.core.model import Collection, Example
from postmock_nb.errors import ExampleDefinitionError

F = TypeVar("F", bound=Callable[..., Any])


class Prototype:
    """Handlers and resources of one :class:`~postmock_nb.session.Session`."""

    def __init__(self, session: Any, cell: Callable[[], tuple[str | None, int]] = lambda: (None, 0)) -> None:
        self.session = session
        self._cell = cell

    # -- handlers -------------------------------------------------------------------------------

    def handler(self, route: str, *, name: str = "", status: int = 200, sample: Any = None, query: str = "",
                headers: tuple[str, ...] | list[str] = (), timeout: float = DEFAULT_TIMEOUT_S,
                concurrent: bool = False, replace: bool = False) -> Callable[[F], F]:
        """Let the decorated function answer ``route`` (``"GET /users/:id"``); returns the function unchanged.

        ``headers`` are ``"Name: value"`` headers the request must carry, ``query`` a query it is
        matched with (``"role=admin"``), ``status``/``sample`` the saved response before its first call,
        ``timeout`` the seconds per call (504 after), ``concurrent=True`` lets calls overlap.
        """
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout <= 600:
            raise ExampleDefinitionError(f"timeout must be 0-600 seconds, got {timeout!r}", hint="timeout=2.5")

        def decorate(function: F) -> F:
            if not callable(function):
                raise ExampleDefinitionError(f"@mock.handler decorates a function, got {type(function).__name__}")
            label = name or getattr(function, "__name__", "handler")
            definitions = self.session.definitions
            key = definitions.handler_key(*self._cell(), label)
            behaviours = self.session.behaviours
            example = behaviours.handler_example(key, label, route, status=status, sample=sample, query=query,
                                                 request_headers=list(headers),
                                                 example_id=definitions.handler_example_of(key))
            self._define(key, label, example, replace=replace)
            behaviours.register_handler(key, label, function, timeout_s=float(timeout), concurrent=concurrent)
            return function

        return decorate

    def websocket(self, route: str, *, name: str = "", query: str = "", headers: tuple[str, ...] | list[str] = (),
                  replace: bool = False) -> Callable[[F], F]:
        """Let the decorated ``async def handler(socket)`` answer WebSocket upgrades of ``route``
        (``"/ws/chat"``, ``"/ws/rooms/:room"``), matched like a GET (``query``: ``"room=a"``, ``headers``:
        ``"Name: value"`` the upgrade must carry); returns the function unchanged.

        The handler runs on the server's loop for as long as the connection lasts: ``await socket.receive()``
        (``str`` or ``bytes``; :class:`~postmock_nb.behaviours.sockets.Disconnected` once the client left),
        ``receive_json()``, ``send()``, ``send_json()``, ``close(code, reason)``, ``async for message in
        socket``; ``socket.path_vars``, ``query``, ``arg(name)``, ``headers``, ``path``, ``subprotocol``.
        Returning closes the socket with 1000; raising, with 1011 (the traceback in the log row); an uncaught
        :class:`~postmock_nb.behaviours.sockets.BadMessage` from ``receive_json()``, with 1007. Over plain HTTP
        the route answers 426; ``%mock save`` keeps a described placeholder (with a warning). ``name``: the
        example's name (default the function's); ``replace=True`` takes over an example of that name.
        """
        def decorate(function: F) -> F:
            try:
                check_function(function)
            except TypeError as error:
                raise ExampleDefinitionError(str(error), hint="@mock.websocket(\"/ws/chat\")\nasync def chat(socket): "
                                             "...") from None
            label = name or getattr(function, "__name__", "socket")
            definitions = self.session.definitions
            key = definitions.handler_key(*self._cell(), label)
            behaviours = self.session.behaviours
            path, _, asked = route.strip().partition("?")
            example = behaviours.socket_example(key, label, path, query="&".join(q for q in (asked, query) if q),
                                                request_headers=list(headers),
                                                example_id=definitions.handler_example_of(key))
            self._define(key, label, example, replace=replace, placeholders=True)
            behaviours.register_socket(key, label, function)
            return function

        return decorate

    def broadcast(self, route: str, message: Any) -> int:
        """Send ``message`` to every client connected to the WebSocket ``route`` (``str``: a text frame,
        ``bytes``: binary, anything else as JSON); returns how many got it. ``route`` is a socket handler's or
        ``%%websocket`` script's route as defined (``"/ws/rooms/:room"``: every room) or the path a client asked
        for (``"/ws/rooms/kitchen"``); a route nothing defines is an error naming the routes there are."""
        return int(self.session.broadcast(route, message))

    def callback(self, method: str, url: str, *, json: Any = None, data: str | bytes | None = None,
                 headers: Mapping[str, str] | None = None, delay: float = 0.0, retries: int = 0) -> None:
        """From inside a handler: send ``method url`` (a webhook) ``delay`` seconds after the request being
        handled is answered, with ``json`` (or ``data``) and ``headers``; ``retries`` more tries (waiting 0.5 s, 1 s,
        2 s…) while the receiver is unreachable or answers 5xx. Only loopback hosts, and those allowed
        with ``--callback-allow``, are called; each callback is a row of ``%mock log`` (``↗``)."""
        callbacks.ask(callbacks.build(method, url, json=json, data=data, headers=headers, delay=delay,
                                       retries=retries))

    def _define(self, key: str, label: str, example: Example, *, replace: bool, placeholders: bool = False) -> None:
        """Put a handler's ``example`` in the collection in place of the one its key stood for (and of a
        ``replace``-d example of the same name; with ``placeholders``, of a loaded socket handler's placeholder)."""
        store = self.session.store
        sockets = self.session.behaviours.sockets
        loaded = [e for e in store.collection.examples  # a loaded file's placeholders of this route or name
                  if placeholders and e.id != example.id and is_socket(e) and (e.name == label or (
                      e.request.path == example.request.path)) and sockets.get((marker_of(e) or ("", ""))[1]) is None]
        clashes = [e for e in store.collection.examples if e.name == label and e.id != example.id and e not in loaded]
        if clashes and not replace:
            raise ExampleDefinitionError(
                f'an example named "{label}" already exists ({clashes[0].describe()})',
                hint="give the handler another name=..., or replace=True to take the name over")
        self.session.definitions.handler_defined(key, example.id)

        def edit(current: Collection) -> Collection:
            current = current.without_examples([example.id, *(e.id for e in clashes + loaded)])
            return behaviours_first(current.with_example(
                example, item_name=f"{example.request.method} {example.request.path}", folder=(HANDLER_FOLDER,)))

        store.update(edit)

    @property
    def handlers(self) -> list[Handler]:
        return list(self.session.behaviours.handlers)

    # -- resources ------------------------------------------------------------------------------

    def resource(self, name: str, records: list[dict[str, Any]] | None = None, *, id: str | None = None,
                 path: str = "", max_records: int | None = None, max_bytes: int | str | None = None) -> Resource:
        """A resource served under ``path`` (default ``/<name>``), seeded with ``records``; the live records.

        Without ``records`` an existing resource (defined earlier, or loaded with ``%mock load``) is returned
        as it is, never wiped; a new one starts empty. ``max_records`` (default 10,000) and ``max_bytes``
        (default 64 MB; ``"256MB"`` works too) bound what clients may add (507 when full, 413 for one
        record larger than ``max_bytes``); left out, an existing resource keeps its limits.
        """
        if not isinstance(name, str) or not name.strip() or "/" in name:
            raise ExampleDefinitionError(f"a resource needs a name without '/', got {name!r}",
                                         hint='mock.resource("users", [...])')
        if path and not path.startswith("/"):
            raise ExampleDefinitionError(f"the resource path must start with '/', got {path!r}",
                                         hint="path='/api/users'")
        if records is not None:
            records = list(records)
        existing: Resource | None = self.session.behaviours.resources.get(name)
        resource: Resource = self.session.behaviours.define_resource(
            name, records, id_field=id, path=path, max_records=max_records,
            max_bytes=None if max_bytes is None else size_value(max_bytes))
        if resource is existing and records is None and id is None and not path and max_records is None \
                and max_bytes is None:
            return resource  # asked for by name: the live one, its examples as they are

        def edit(current: Collection) -> Collection:
            items = resource_items(resource, current)
            old = [e.id for e in current.examples
                   if (found := marker_of(e)) and found[0] == "resource" and parse_marker(found[1]).get("name") == name]
            current = current.without_examples(old)
            for item in items:
                current = current.with_example(item.examples[0], item_name=item.name, folder=item.folder)
            return behaviours_first(current)

        self.session.store.update(edit)
        return resource

    @property
    def resources(self) -> dict[str, Resource]:
        return {r.name: r for r in self.session.behaviours.resources}

    def reset(self, name: str | None = None) -> list[Resource]:
        """Every resource (or the one called ``name``) back to its seed; returns those reset."""
        found = [r for r in self.session.behaviours.resources if name is None or r.name == name]
        if name is not None and not found:
            known = ", ".join(sorted(self.resources)) or "none"
            raise ExampleDefinitionError(f"no resource named {name!r} (resources: {known})",
                                         hint="%mock reset with no name resets them all")
        for resource in found:
            resource.reset()
        return found

    # -- webhooks ---------------------------------------------------------------------------------

    def webhook(self, name: str, url: str) -> int | None:
        """Send the loaded OpenAPI 3.1 document's webhook ``name`` to ``url`` now (``%mock webhook NAME URL``):
        its payload from the document, only to loopback and ``--callback-allow`` hosts, a row of ``%mock log``;
        returns the receiver's status (None: not sent, or no answer — the row says why)."""
        row = self.session.send_webhook(name, url)
        return None if row is None else row.status
