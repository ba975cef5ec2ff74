"""The one place a mock is assembled (the composition root), for every front end.

A mock is a graph: the live collection (:class:`~postmock_nb.matching.store.LiveCollection`), the settings
(:class:`~postmock_nb.config.MockConfig`), a request log and an error log, the bridges towards the real API
(:class:`~postmock_nb.bridges.bridges.Bridges`), the Python handlers and resources
(:class:`~postmock_nb.behaviours.dispatch.Behaviours`) and the ASGI app over them
(:class:`~postmock_nb.serving.app.MockApp`). :func:`assemble` builds it, with every collaborator by keyword;
each front end has its function here, so each gets the same graph with the same defaults:

==============================================  =================================================
front end                                       assembled by
==============================================  =================================================
``MockServer(collection, ...)`` (Python)        :func:`assemble`
``Session.start`` (``%mock start``, pytest)     :func:`notebook_mock`
``postmock serve`` (its first process)          :func:`file_mock` with :data:`COMMAND`
each ``postmock serve --workers`` worker        :func:`worker_mock`
``postmock_nb.asgi:app`` / ``create_app``       :func:`file_mock` with :data:`ENVIRONMENT`
``benchmarks/``                                 :func:`assemble`
==============================================  =================================================

The rule "request validation needs an OpenAPI document" is :func:`require_document`, once; each front end
only words it (:class:`Wording`). Running the graph is :class:`~postmock_nb.serving.server.MockServer`'s
(``MockServer(mock=...)``), or the ASGI server's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from postmock_nb.behaviours.dispatch import Behaviours
from postmock_nb.behaviours.state import FlowState
from postmock_nb.bridges.bridges import Bridges, proxies
from postmock_nb.config import MockConfig
from postmock_nb.core.model import Collection, Pairs
from postmock_nb.errors import ConfigError
from postmock_nb.matching.store import CollectionStore, LiveCollection
from postmock_nb.serving.app import MockApp
from postmock_nb.serving.errorlog import ErrorLog
from postmock_nb.serving.journal import Journal
from postmock_nb.serving.requestlog import RequestLog
from postmock_nb.serving.shared.broadcasts import SharedBroadcasts
from postmock_nb.serving.shared.collection import SharedCollection, shared_collection
from postmock_nb.serving.shared.connection import SharedState, default_prefix
from postmock_nb.serving.shared.flowstate import RedisFlowState
from postmock_nb.serving.shared.journal import SharedJournal
from postmock_nb.serving.shared.records import records_for

if TYPE_CHECKING:
    from postmock_nb.formats.sources import Loaded


@dataclass(frozen=True)
class Wording:
    """How a front end words :func:`require_document`'s refusal."""

    option: str
    """What asked for validation (``--validate-requests``, ``POSTMOCK_VALIDATE_REQUESTS=1``)."""
    lacking: str
    """Why there is no document (``none is loaded``, ``this is a Postman collection``)."""
    hint: str
    dynamic: str = "--dynamic"
    """What asked for fresh bodies from the schemas (``--dynamic``, ``POSTMOCK_DYNAMIC=1``)."""


NOTEBOOK = Wording("--validate-requests", "none is loaded",
                   "serve (or %mock load) the OpenAPI document the examples come from")
COMMAND = Wording("--validate-requests", "this is a Postman collection",
                  "serve the OpenAPI document the collection was made from")
ENVIRONMENT = Wording("POSTMOCK_VALIDATE_REQUESTS=1", "POSTMOCK_COLLECTION is a Postman collection",
                      "serve the OpenAPI document the collection was made from", "POSTMOCK_DYNAMIC=1")


def require_document(config: MockConfig, spec: Any, *, wording: Wording) -> None:
    """Request validation (``config.validate_requests``) and fresh bodies (``config.dynamic``) need an OpenAPI
    document (``spec``): a :class:`ConfigError` worded for the front end otherwise."""
    if spec is not None:
        return
    for asked, option in ((config.validate_requests, wording.option), (config.dynamic, wording.dynamic)):
        if asked:
            raise ConfigError(f"{option} needs an OpenAPI document, and {wording.lacking}", hint=wording.hint)


def check_chaos_with(config: MockConfig, collection: Collection) -> None:
    """``config``'s ``--chaos-with`` names 503, a fault or an example of ``collection`` (a ConfigError otherwise)."""
    if config.chaos_with.strip() != "503":
        names = list(dict.fromkeys(e.name for e in collection.examples))
        config.check_chaos_with(lambda what: bool(collection.find(what)), names)


@dataclass(frozen=True)
class AssembledMock:
    """An assembled mock: the ASGI app and the parts it was built from (the server running it reads them)."""

    store: CollectionStore
    config: MockConfig
    log: Journal
    error_log: ErrorLog
    """The mock's errors: the app, the HTTP server and the dashboards report into it."""
    app: MockApp
    shared: SharedState | None = None
    """The Redis the state is shared on (``--state``), or None: in this process's memory."""

    @property
    def bridges(self) -> Bridges:
        return self.app.bridges


# -- THE place the shared stores are chosen (--state) ------------------------------------------------------------
# Each store of serving/shared/ is one field of SharedStores and one line of shared_stores(); None keeps that
# state in this process's memory. _graph() plugs them into the Behaviours of the mock it builds (a session's
# Behaviours survive a restart: see _plug_behaviours). The resources' store is made from the current one
# (records_for, in _plug_behaviours: their records carried over).

@dataclass(frozen=True)
class SharedStores:
    """The Redis stores of one mock (``--state``); a field left None keeps that state in memory."""

    flow_state: FlowState | None = None
    """Scenario states and sequence turns (postmock_nb.serving.shared.flowstate)."""
    journal: Journal | None = None
    """The request journal every replica shares (postmock_nb.serving.shared.journal)."""
    broadcasts: SharedBroadcasts | None = None
    """``mock.broadcast`` to every replica's WebSocket clients (postmock_nb.serving.shared.broadcasts)."""


def shared_stores(shared: SharedState | None, config: MockConfig) -> SharedStores:
    """The stores of a mock on ``shared`` (None: every state in memory): one line per store."""
    if shared is None:
        return SharedStores()
    return SharedStores(
        flow_state=RedisFlowState(shared),
        journal=SharedJournal(shared, config.log_size),
        broadcasts=SharedBroadcasts(shared),
    )


def _plug_behaviours(behaviours: Behaviours, shared: SharedState | None, stores: SharedStores) -> None:
    """Give Behaviours the stores of the mock they are about to serve. A session's outlive its mock: on the
    shared stores while it runs with --state, back in memory without it."""
    behaviours.flows.use(stores.flow_state)
    behaviours.resources = records_for(shared, behaviours.resources)  # the resources' records: Redis or memory


def assemble(*, store: CollectionStore, config: MockConfig, bridges: Bridges | None = None,
             behaviours: Behaviours | None = None, log: Journal | None = None) -> AssembledMock:
    """The graph of one mock. ``bridges``: default the config's proxy and recorder (request validation
    needs a document: see :func:`notebook_mock`, :func:`file_mock`); ``behaviours``: default none of its own;
    ``log``: the request journal, default a :class:`RequestLog` of ``config.log_size`` entries."""
    check_chaos_with(config, store.snapshot.collection)
    return _graph(store=store, config=config, bridges=bridges, behaviours=behaviours, log=log)


def _graph(*, store: CollectionStore, config: MockConfig, bridges: Bridges | None = None,
           behaviours: Behaviours | None = None, log: Journal | None = None) -> AssembledMock:
    if bridges is None:
        proxy, recorder = proxies(config)
        bridges = Bridges(proxy=proxy, recorder=recorder)
    shared = (store.shared if isinstance(store, SharedCollection)  # a worker's (its parent's), the notebook's
              else shared_state(config, store.snapshot.collection.name))
    store = shared_collection(store, shared)  # --state: the collection on Redis (adopted if one is stored)
    stores = shared_stores(shared, config)
    behaviours = behaviours if behaviours is not None else Behaviours()
    _plug_behaviours(behaviours, shared, stores)
    journal: Journal = log if log is not None else stores.journal or RequestLog(config.log_size)
    error_log = ErrorLog()
    app = MockApp(store=store, log=journal, settings=config, errors=error_log, bridges=bridges,
                  behaviours=behaviours, shared=shared, broadcasts=stores.broadcasts)
    return AssembledMock(store=store, config=config, log=journal, error_log=error_log, app=app, shared=shared)


def shared_state(config: MockConfig, collection_name: str) -> SharedState | None:
    """The Redis of ``config.state`` (keys prefixed by ``--state-prefix``, else the collection's name), or None."""
    if config.state is None:
        return None
    return SharedState(config.state, config.state_prefix or default_prefix(collection_name))


def notebook_mock(*, store: CollectionStore, config: MockConfig, spec: Any,
                  behaviours: Behaviours) -> AssembledMock:
    """The notebook's mock (:meth:`~postmock_nb.session.Session.start`): the session's collection, handlers and
    resources; ``spec``: the OpenAPI document loaded last (None: none); recorded answers join ``store``."""
    require_document(config, spec, wording=NOTEBOOK)
    store = shared_collection(store, shared_state(config, store.snapshot.collection.name))  # before the recorder:
    return assemble(store=store, config=config, bridges=Bridges.build(config, spec=spec, store=store),  # --state
                    behaviours=behaviours)  # recorded examples travel to every replica too


def file_mock(*, loaded: Loaded, config: MockConfig, environment: Callable[[], Pairs],
              wording: Wording) -> AssembledMock:
    """A mock of a file (``postmock serve``, the ASGI entry point): ``loaded`` (a collection, and its OpenAPI
    document when it was one), ``environment`` read once the settings are found usable."""
    require_document(config, loaded.spec, wording=wording)
    check_chaos_with(config, loaded.collection)
    store = LiveCollection(loaded.collection, environment())
    return _graph(store=store, config=config, bridges=Bridges.build(config, spec=loaded.spec))


def worker_mock(parent: AssembledMock) -> AssembledMock:
    """A ``postmock serve --workers`` worker's mock: the parent's collection, settings (its key too) and
    bridges; its own logs and app."""
    return assemble(store=parent.store, config=parent.config, bridges=parent.bridges)
