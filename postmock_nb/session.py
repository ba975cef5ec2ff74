"""A notebook session: the collection, the server and the cell bookkeeping of one kernel.

Everything the magics do goes through a :class:`Session`, so scripts and tests can do the
same in plain Python::

    session = Session()
    session.define("GET /users 200", '[{"id": 1, "name": "Alice Park"}]')
    session.start()
    requests.get(session.url + "/users")
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from postmock_nb.answers.verification import Expectation, Verification
from postmock_nb.behaviours.callbacks import CallbackError, build
from postmock_nb.behaviours.definitions import CellDefinitions
from postmock_nb.behaviours.dispatch import Behaviours, behaviours_first
from postmock_nb.behaviours.resources import check_seeds
from postmock_nb.behaviours.sockets import frame_of, unknown_route
from postmock_nb.bridges.bridges import proxies
from postmock_nb.bridges.recording import save_response_example
from postmock_nb.config import MockConfig
from postmock_nb.core.model import Collection, Example, default_item_name
from postmock_nb.errors import ExampleDefinitionError, ServerError
from postmock_nb.formats.cells import ExampleDefinition, build_definition, split_header_line
from postmock_nb.formats.environment import Environment, load_environment, save_environment
from postmock_nb.formats.merging import merge
from postmock_nb.formats.openapi_export import save_openapi
from postmock_nb.formats.postman import save_collection
from postmock_nb.matching.store import CollectionStore, LiveCollection
from postmock_nb.serving.adminwrites import writes_state
from postmock_nb.serving.browser_address import public_url
from postmock_nb.serving.build import example_check, notebook_mock
from postmock_nb.serving.journal import Batched, Counts
from postmock_nb.serving.requestlog import LogEntry
from postmock_nb.serving.server import MockServer
from postmock_nb.serving.shared.collection import SharedCollection
from postmock_nb.serving.shared.connection import SharedState, StateUnavailable
from postmock_nb.serving.verification import verify_journal

if TYPE_CHECKING:
    from postmock_nb.formats.openapi import Webhook


@dataclass(frozen=True)
class Definition:
    """What :meth:`Session.define` did."""

    example: Example
    replaced: Example | None


def shared_status(shared: SharedState) -> dict[str, Any]:
    """``--state``: the shared state's status (URL masked, prefix, available or the error), Redis asked first."""
    with contextlib.suppress(StateUnavailable):  # said by the status: available false, and the error
        shared.call_sync("state", lambda client: client.ping())
    return shared.status()


@dataclass(frozen=True)
class SessionEvent:
    """What a session tells its listeners (the dashboards): a server started or stopped, or the session closed."""

    kind: Literal["started", "stopped", "closed"]
    url: str | None = None
    """Where the new server runs ("started")."""


class SessionListener(Protocol):
    def session_changed(self, event: SessionEvent) -> None: ...


__all__ = ["Definition", "Session", "SessionEvent", "SessionListener", "public_url"]


class Session:
    """The state behind ``%%example`` and ``%mock`` for one kernel."""

    def __init__(self, collection: Collection | None = None, *, config: MockConfig | None = None,
                 store: CollectionStore | None = None, behaviours: Behaviours | None = None) -> None:
        """``store`` holds the collection (a LiveCollection of ``collection`` unless given); ``behaviours``
        the handlers, resources and scenario state (in memory unless given)."""
        self.store: CollectionStore = (store if store is not None
                                       else LiveCollection(collection or Collection(name="Notebook mock")))
        self.server: MockServer | None = None
        self.config = config or MockConfig()
        """What :meth:`start` uses where it is given nothing else."""
        self.definitions = CellDefinitions()
        """Which cell defined what (so re-running a cell replaces what it defined): the one record of it."""
        self._errors_reported = 0
        self._listeners: list[SessionListener] = []
        self.specs: list[Any] = []
        """OpenAPI documents loaded (postmock_nb.formats.openapi.Spec); the last one validates requests."""
        self.save_warnings: list[str] = []
        """What the last :meth:`save` could not keep (handlers saved as static examples)."""
        self.export_warnings: list[str] = []
        """What the last ``save(..., openapi=True)`` could not put in the document."""
        self.behaviours = behaviours if behaviours is not None else Behaviours()
        """The session's Python handlers and resources (see postmock_nb.notebook.prototype for defining them)."""

    # -- examples --------------------------------------------------------------------------

    def define(self, line: str, cell: str = "", *, cell_key: str | None = None, replace: bool = False,
               name: str = "", headers: list[str] | None = None, request_headers: list[str] | None = None,
               folder: str = "") -> Definition:
        """Define an example from a ``%%example`` header line (``GET /users 200``) and cell body."""
        method, path, status = split_header_line(line)
        definition = build_definition(method, path, status, cell, name=name,
                                      headers=headers, request_headers=request_headers, folder=folder)
        return self.add(definition, cell_key=cell_key, replace=replace)

    def add(self, definition: ExampleDefinition, *, cell_key: str | None = None, replace: bool = False) -> Definition:
        """Add the example, or replace the one this cell (or this name) defined before."""
        collection = self.store.collection
        previous_id = self.definitions.example_of(cell_key) if cell_key else None
        if previous_id is not None and not collection.find(previous_id):
            previous_id = None  # deleted since
        name = definition.display_name
        clashes = [e for _, e in collection.iter_examples() if e.name == name and e.id != previous_id]
        if clashes and not replace:
            if cell_key is not None:
                raise ExampleDefinitionError(
                    f'an example named "{name}" already exists ({clashes[0].describe()}), defined by another cell',
                    location="header line", hint="give this one another --name, or add --replace to overwrite it")
            previous_id, clashes = clashes[0].id, clashes[1:]  # no cell identity: the same name is the same example
        if previous_id is None and clashes:
            previous_id, clashes = clashes[0].id, clashes[1:]
        replaced = next((e for _, e in collection.iter_examples() if e.id == previous_id), None)
        example = definition.to_example(previous_id)
        item_name = default_item_name(example)

        def edit(current: Collection) -> Collection:
            if clashes:  # --replace: the examples of that name give way
                current = current.without_examples([e.id for e in clashes])
            if previous_id is not None:
                item = current.item_of(previous_id)
                if item is not None and item.name == item_name and item.folder == definition.folder:
                    return current.with_example(example)
                current = current.without_examples([previous_id])
            return current.with_example(example, item_name=item_name, folder=definition.folder)

        self.store.update(lambda current: behaviours_first(edit(current)))
        if cell_key is not None:
            self.definitions.defined(cell_key, example.id)
        return Definition(example, replaced)

    def delete(self, name_or_id: str) -> list[Example]:
        """Delete the examples with this id, or else this name; returns what was deleted."""
        found = [e for _, e in self.store.collection.find(name_or_id)]
        if found:
            self.store.update(lambda c: c.without_examples([e.id for e in found]))
        return found

    def clear(self) -> int:
        """Delete every example, and so every resource (its six examples go, and with them its records:
        ``mock.resources`` and ``%mock reset`` no longer know it); returns how many examples there were."""
        count = len(self.store.collection.examples)
        self.store.update(lambda c: Collection(name=c.name, variables=c.variables, id=c.id))
        for resource in list(self.behaviours.resources):
            self.behaviours.resources.remove(resource.name)
        self.definitions.forget_examples()
        return count

    def save(self, path: str | Path, *, openapi: bool = False) -> Path:
        """Export as Postman Collection v2.1, with ``baseUrl``/``mockUrl`` set to this mock; ``openapi``: as an
        OpenAPI 3.1 document instead (YAML for ``.yaml``/``.yml``, else JSON; what it could not hold is in
        :attr:`export_warnings`), whose ``servers`` are the collection's own ``baseUrl`` when it set one, never
        this mock's address (the contract is the real API's)."""
        collection, self.save_warnings = self.behaviours.for_export(self.store.collection)
        if openapi:
            saved, self.export_warnings = save_openapi(collection, path)
            return saved
        if self.server is not None and self.server.running:
            collection = collection.with_variables((("baseUrl", self.server.url), ("mockUrl", self.server.url)))
        elif not any(k == "baseUrl" for k, _ in collection.variables):
            collection = collection.with_variables((("baseUrl", "http://127.0.0.1:8000"),))
        self.export_warnings = []
        return save_collection(collection, path)

    def load(self, path: str | Path, *, examples: str = "as-written") -> Any:
        """Merge a Postman collection or an OpenAPI document into this one; returns the merge report.
        ``examples="generate"``: an OpenAPI response example that breaks its own schema is replaced by a value
        generated from the schema (the document's ``Spec.replaced`` lists them)."""
        from postmock_nb.formats.sources import load_any  # deferred: OpenAPI, YAML and the schemas are slow to import

        loaded = load_any(path, check=example_check(examples))  # a Postman collection or an OpenAPI document
        incoming = loaded.collection
        check_seeds(incoming.examples)  # before anything changes
        if loaded.spec is not None:
            self.specs.append(loaded.spec)
        result: dict[str, Any] = {}

        def edit(current: Collection) -> Collection:
            merged, report = merge(current, incoming)
            result["report"] = report
            return merged

        self.store.update(lambda current: behaviours_first(edit(current)))
        self.behaviours.resources.restore(self.store.collection.examples)
        return result["report"]

    # -- webhooks (OpenAPI 3.1) ------------------------------------------------------------------

    @property
    def webhooks(self) -> dict[str, Webhook]:
        """The ``webhooks`` of the OpenAPI documents loaded, by name (a later document's win), sent with
        :meth:`send_webhook`."""
        found: dict[str, Webhook] = {}
        for spec in self.specs:
            found.update(spec.webhooks)
        return found

    def send_webhook(self, name: str, url: str) -> LogEntry | None:
        """Send the loaded document's webhook ``name`` to ``url`` now, from the running mock, as its callbacks go
        (only to loopback and ``--callback-allow`` hosts; a row of the log, ``↗``); returns that row (None: the
        mock stopped first)."""
        known = self.webhooks
        webhook = known.get(name)
        if webhook is None:
            names = ", ".join(sorted(known))
            raise ExampleDefinitionError(
                f"no webhook named {name!r}" + ("" if known else ": no OpenAPI document loaded has webhooks"),
                hint=f"one of: {names}" if known else "%mock load a 3.1 document with `webhooks:` first")
        if not self.running:
            raise ServerError("the mock is not running, and it is what sends the webhook", hint="%mock start first")
        assert self.server is not None
        try:
            callback = build(webhook.method, url, data=webhook.body, headers=dict(webhook.headers))
        except CallbackError as error:  # a URL that is no absolute http(s) URL
            raise CallbackError(error.message, hint=f"%mock webhook {name} http://127.0.0.1:9000/hooks") from None
        return self.server.send_callback(callback, f"webhook {name}")

    # -- listeners (the dashboards) -------------------------------------------------------------

    def subscribe(self, listener: SessionListener) -> Callable[[], None]:
        """Tell ``listener`` (on the caller's thread, the main one) when servers start and stop; returns
        the call that unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    @property
    def listeners(self) -> tuple[SessionListener, ...]:
        """What listens to this session: the dashboards shown for its current server, in the order shown."""
        return tuple(self._listeners)

    dashboards = listeners  # what they are in practice (and the attribute's old name)

    def _emit(self, event: SessionEvent) -> None:
        for listener in list(self._listeners):  # a listener may unsubscribe as it hears
            listener.session_changed(event)

    # -- the server ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.server is not None and self.server.running

    @property
    def url(self) -> str:
        if not self.running:
            raise ServerError("the mock is not running", hint="start it with %mock start")
        assert self.server is not None
        return self.server.url

    def start(self, config: MockConfig | None = None, **options: Any) -> MockServer:
        """Serve the collection: with ``config``, else the session's, with ``options`` (its fields) applied."""
        if self.running:
            raise ServerError(f"the mock is already running at {self.url}",
                              hint="%mock stop first, or keep using it")
        config = MockConfig.of(config or self.config, **options)
        server = MockServer(mock=notebook_mock(store=self.store, config=config,
                                               spec=self.specs[-1] if self.specs else None,
                                               behaviours=self.behaviours))
        server.start()
        self._emit(SessionEvent("started", server.url))
        self.server = server
        self.store = server.store  # --state: the shared collection, which cells edit while it runs
        self._errors_reported = 0
        return server

    def set_proxy(self, proxy: str | None, record: str | Path | None = None) -> None:
        """Proxy (and record) misses of the running mock from now on; None stops proxying."""
        if not self.running:
            raise ServerError("the mock is not running", hint="%mock start --proxy URL, or %mock start first")
        assert self.server is not None
        wanted = MockConfig.of(proxy=proxy, record=None if record is None else str(record))  # checked there
        current = self.server.bridges
        replaced = self.server.use_bridges(current.with_proxies(*proxies(wanted, store=self.store)))
        old, old_recorder = replaced.proxy, replaced.recorder
        if old_recorder is not None:  # its last batch is written, its writer thread ends
            old_recorder.close()
        if old is not None:  # its client lives on the server's loop: closed there
            self.server.call_in_server_thread(lambda: asyncio.ensure_future(old.aclose()))

    def use_environment(self, path: str | Path | None) -> Any:
        """Resolve ``{{vars}}`` with this Postman environment (None: no environment)."""
        environment = load_environment(path) if path is not None else Environment("", ())
        self.store.set_environment(environment.values)
        return environment

    def save_environment(self, path: str | Path, name: str = "postmock_nb mock") -> Path:
        """Write a Postman environment with ``mockUrl``/``baseUrl`` = this mock's URL
        (the Binder/JupyterHub URL when there is one)."""
        if not self.running:
            raise ServerError("the mock is not running, so it has no URL to save", hint="%mock start first")
        assert self.server is not None
        url = (public_url(self.server.port or 0) or self.server.url).rstrip("/")
        return save_environment(path, name, (("mockUrl", url), ("baseUrl", url)))

    def stop(self) -> bool:
        """Stop the server; False if it was not running."""
        if self.server is None:
            return False
        was_running = self.server.running
        self.server.stop()
        if isinstance(self.store, SharedCollection):  # back in memory, with the last collection served
            self.store = self.store.local
        self._emit(SessionEvent("stopped"))
        return was_running

    def new_errors(self) -> list[str]:
        """Server-thread errors not reported yet (each is returned once)."""
        if self.server is None:
            return []
        errors = self.server.error_log.since(self._errors_reported)
        self._errors_reported = self.server.error_log.total
        return errors

    def call(self, method: str, path: str, headers: Mapping[str, str] | None = None, data: str | None = None,
             timeout: float = 30.0) -> Any:
        """Send a request to the running mock (Postman's "Send"); returns a ``requests`` Response."""
        import requests  # deferred: requests is slow to import and only %mock call needs it

        if path.startswith(("http://", "https://")):  # any URL: Postman's Send to the real API
            return requests.request(method.upper(), path, headers=dict(headers or {}),
                                    data=data.encode("utf-8") if data is not None else None, timeout=timeout)
        if not path.startswith("/"):
            raise ExampleDefinitionError(f"the path must start with '/', got {path!r}", hint="%mock call GET /users")
        sent = dict(headers or {})
        server = self.server
        if server is not None and server.private and not any(k.lower() == "x-api-key" for k in sent):
            sent["x-api-key"] = server.api_key
        verify = server.tls.trust_file if server is not None and server.tls is not None else True  # https mock
        return requests.request(method.upper(), self.url + path, headers=sent, verify=verify,
                                data=data.encode("utf-8") if data is not None else None, timeout=timeout)

    def save_response(self, response: Any, name: str, *, base: str = "", as_path: str = "",
                      keep_secrets: bool = False) -> Example:
        """File a real ``requests`` response as an example (Postman's "Save as Example").

        The path is the URL's, relative to ``base`` when it starts with it
        (``https://api.example.com/v1`` + ``/users/7``), or ``as_path`` (``/users/:id``).
        What is kept is cleaned (postmock_nb.bridges.recording); an example of the same name is replaced.
        """
        example = save_response_example(response, name, base=base, as_path=as_path, keep_secrets=keep_secrets)
        previous = [e.id for _, e in self.store.collection.iter_examples() if e.name == name]
        if previous:  # saved again (the cell re-run): the same example, updated
            example = Example(example.name, example.request, example.response, id=previous[0])
        self.store.update(lambda c: c.without_examples(previous).with_example(example))
        return example

    def status(self) -> dict[str, Any]:
        server = self.server
        running = self.running
        info: dict[str, Any] = {"running": running, "examples": len(self.store.collection.examples)}
        if server is not None and running:
            counts = self._journal_counts(server, info)
            info.update(url=server.url, public_url=public_url(server.port or 0), private=server.private,
                        uptime_s=round(time.time() - (server.started_at or time.time()), 1))
            if counts is not None:
                info.update(requests=counts.total, misses=counts.misses)
            info["errors"] = server.error_log.total
            if server.private and counts is not None:
                info["refused"] = counts.refused  # requests without the key
            info["admin_writes"] = writes_state(server.config)  # the admin API's writes: on or off, the key masked
            if server.app.connections.count:
                info["websockets"] = server.app.connections.routes()  # route → connections open
        if server is not None and running and server.config.chaos:
            chaos = server.config
            info["chaos"] = (f"Chaos on: {chaos.chaos:.0%} of requests answered by {chaos.chaos_with}"
                             + (f" (seed {chaos.chaos_seed})" if chaos.chaos_seed is not None else ""))
        shared = server.mock.shared if server is not None and running else None
        if shared is not None:  # --state: Redis asked now (a PING), then its status
            info["state"] = shared_status(shared)
        try:
            scenarios = self.scenario_states()
        except StateUnavailable as problem:  # the session's scenarios are on a Redis out of reach
            info["scenarios_unavailable"] = str(problem)
            scenarios = {}
        if scenarios:
            info["scenarios"] = scenarios
        handler_warnings = self.behaviours.handlers.warnings()
        if handler_warnings:
            info["handler_warnings"] = handler_warnings
        return info

    @staticmethod
    def _journal_counts(server: MockServer, info: dict[str, Any]) -> Counts | None:
        """The journal's counts (every replica's with ``--state``: then ``info`` says how its writer does too)."""
        journal = server.log
        if isinstance(journal, Batched):
            info["journal"] = journal.status()
        try:
            return journal.counts()
        except StateUnavailable as problem:  # Redis out of reach: said, never this process's counts instead
            info["journal_error"] = str(problem)
            return None

    # -- verification ----------------------------------------------------------------------------

    def verify(self, request: str, *, times: int | None = None, at_least: int | None = None,
               at_most: int | None = None, json: Any = None, body: str | None = None,
               headers: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None,
               contains: bool = False) -> Verification:
        """Check that the mock received ``request`` (``"POST /users"``, ``"GET /users/:id"``) as often as
        expected: ``times=`` exactly, or ``at_least=``/``at_most=`` (none given: at least once), with these
        ``headers`` and ``query`` parameters among those sent, and this body (``json=`` compared as JSON,
        ``body=`` as text; ``{{$any}}`` accepts any value; ``contains=True``: other fields may be sent too).

        Raises ``AssertionError`` with the closest requests received and their differences when the count
        is wrong (WireMock's ``verify``); returns the :class:`~postmock_nb.answers.verification.Verification`.
        """
        expectation = Expectation.of(request, times=times, at_least=at_least, at_most=at_most, json=json, body=body,
                                     headers=headers, query=query, contains=contains)
        if self.server is None:
            raise ServerError("the mock has not been started, so it has received nothing to verify",
                              hint="start it with %mock start (or Session.start())")
        return verify_journal(self.server.log, expectation).check()

    # -- WebSockets --------------------------------------------------------------------------------

    def broadcast(self, route: str, message: Any) -> int:
        """Send ``message`` to every open WebSocket connection of ``route`` (``"/ws/chat"``: a socket handler's or
        ``%%websocket`` script's route as defined, or the path a client asked for); ``str`` as a text frame,
        ``bytes`` as a binary one, anything else as JSON. Returns how many connections got it."""
        frame = frame_of(message)
        if self.server is None or not self.server.running:
            raise ServerError("the mock is not running, so no WebSocket is open", hint="%mock start first")
        reached = self.server.broadcast(route, frame)
        unknown = unknown_route(route, self.store.collection) if not reached else ""
        if unknown:
            raise ExampleDefinitionError(unknown,
                                         hint='@mock.websocket("/ws/chat") or %%websocket /ws/chat defines one')
        return reached

    # -- state (scenarios, sequences) -------------------------------------------------------------

    def scenario_states(self) -> dict[str, str]:
        """Every scenario of the collection (and every one moved) → its current state."""
        return self.behaviours.scenario_states(self.store.snapshot)

    def reset_scenarios(self, name: str | None = None) -> list[str]:
        """Scenarios (all, or ``name``) back to Started, and (all) sequences to their first turn; those reset."""
        return self.behaviours.reset_scenarios(name)

    def sequence_names(self) -> list[str]:
        """The items of the collection whose examples answer in turn (``x-mock-sequence``), sorted."""
        return self.behaviours.sequence_names(self.store.snapshot)

    def close(self) -> None:
        """Stop everything (``%unload_ext``, kernel shutdown)."""
        self.stop()
        self._emit(SessionEvent("closed"))
        self.behaviours.handlers.close()
