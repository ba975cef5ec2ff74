"""The admin API's writes under ``/__postmock/``: how a test run or CI sets up a running (or deployed) mock.

    GET    /__postmock/collection          the current collection, as Postman v2.1
    PUT    /__postmock/collection          replace it (a Postman v2.0/v2.1 collection or an OpenAPI document)
    POST   /__postmock/items               merge posted items or a collection (the merge report ``%mock load`` prints)
    DELETE /__postmock/examples/{id}       delete an example (its id, else its name)
    DELETE /__postmock/resources/{name}    one resource back to its seed records
    DELETE /__postmock/resources           every resource back to its seed records

Every edit goes through the mock's :class:`~postmock_nb.matching.store.CollectionStore` (``update``,
``replace``) and :class:`~postmock_nb.behaviours.records.RecordStore` (``reset``), so a shared store makes
it travel to every replica. A body is checked whole before anything changes: a refusal (400, 413) leaves
the mock as it was. Python handlers (an ``x-mock-handler`` marker) are never accepted from the network:
a handler is code, run in the mock's process. A resource's examples (``x-mock-resource``) are data and
are accepted (their list example's body seeds the records).

Who may write (:func:`write_refusal`): with ``--admin-key KEY`` / ``POSTMOCK_ADMIN_KEY``, a write needs
``x-postmock-admin-key: KEY`` (compared in constant time; the mock's ``x-api-key`` does not do). Without
an admin key, a mock bound beyond loopback (or a request from another machine) has its writes off (403);
on loopback, writes keep the admin API's rules for reads (a private mock's ``x-api-key``).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from postmock_nb.answers.responses import error_body
from postmock_nb.behaviours.dispatch import Behaviours, behaviours_first, marker_of
from postmock_nb.behaviours.resources import check_seeds
from postmock_nb.config import MockConfig
from postmock_nb.core import limits
from postmock_nb.core.masking import mask
from postmock_nb.core.model import Collection, Example
from postmock_nb.errors import PostmockError
from postmock_nb.formats.documents import parse_document
from postmock_nb.formats.merging import MergeReport, merge
from postmock_nb.formats.postman import to_postman
from postmock_nb.formats.sources import Loaded, load_data
from postmock_nb.matching.store import CollectionStore
from postmock_nb.serving.shared.connection import StateUnavailable

if TYPE_CHECKING:
    from quart import Quart

ADMIN_KEY_HEADER = "x-postmock-admin-key"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost", "ip6-localhost"})
WRITE_METHODS = frozenset({"PUT", "POST", "PATCH", "DELETE"})
"""What a write is: every admin request that is not a read (GET, HEAD) or a preflight (OPTIONS)."""
WRITE_PATHS = ("/__postmock/collection", "/__postmock/items", "/__postmock/examples/", "/__postmock/resources")
"""The routes of this module that change the collection or the records."""
ADMIN_ROUTES = ("GET /__postmock/health, examples, log, log/{seq}, scenarios, requests, collection; "
                "POST /__postmock/verify, items, broadcast; PUT /__postmock/collection; "
                "DELETE /__postmock/examples/{id}, resources[/{name}], log, scenarios")
"""The admin API's routes, in the hint of a request to none of them."""
TURN_ON = ("start the mock with --admin-key KEY (or set POSTMOCK_ADMIN_KEY) and send it in the "
           f"{ADMIN_KEY_HEADER} header")


class Writable(Protocol):
    """What the writes change of a mock (its :class:`~postmock_nb.serving.app.MockApp`)."""

    store: CollectionStore
    settings: MockConfig
    behaviours: Behaviours


@dataclass(frozen=True)
class Refusal:
    """A write refused: the status and the error's name and message."""

    status: int
    name: str
    header: str
    message: str
    hint: str = ""

    def body(self) -> bytes:
        return error_body(self.name, self.header, self.message, fields={"hint": self.hint} if self.hint else None)


class BadBody(Exception):
    """A posted body the writes cannot use: answered 400 (or ``status``), nothing changed."""

    def __init__(self, message: str, *, status: int = 400, name: str = "invalidAdminRequest",
                 fields: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.name, self.fields = message, status, name, fields or {}


# -- who may write ------------------------------------------------------------------------------------

def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is this machine only (127.0.0.1, ::1, localhost; any 127.x address, also IPv4-mapped).
    A name is not read as an address: ``127.0.0.1.nip.io`` is a host like any other (it resolves anywhere)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in LOOPBACK:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def writes_open(settings: MockConfig) -> bool:
    """Whether the write API is on for requests from this machine (a key is set, or the mock is on loopback)."""
    return settings.admin_key is not None or is_loopback(settings.host)


def writes_state(settings: MockConfig) -> str:
    """One line on the write API, for the banner and ``%mock status`` (the key shown masked)."""
    if split_brain(settings) is not None:
        return (f"off for the collection and resources ({settings.workers} workers, each with its own: "
                "--state redis://HOST:PORT/DB shares them)")
    if settings.admin_key is not None:
        return f"on (send {ADMIN_KEY_HEADER}: {mask(settings.admin_key)})"
    if is_loopback(settings.host):
        return "on (loopback only, no admin key: --admin-key KEY to require one)"
    return f"off (bound to {settings.host} with no admin key: --admin-key KEY or POSTMOCK_ADMIN_KEY turns them on)"


def write_refusal(settings: MockConfig, given: bytes | None, client_host: str | None, *,
                  origin: str | None = None, host: str | None = None) -> Refusal | None:
    """Why this write is refused (None: it may go on). ``given`` is the ``x-postmock-admin-key`` header as
    received; ``client_host`` the peer's address; ``origin`` and ``host`` the request's Origin and Host headers
    (a browser's: see :func:`from_a_web_page`)."""
    key = settings.admin_key
    if key is not None:
        if given is None:
            return Refusal(401, "adminKeyRequired", "Unauthorized",
                           f"This mock's admin API needs its admin key for writes: send it in the "
                           f"{ADMIN_KEY_HEADER} header (the mock's x-api-key does not do).",
                           hint=f"{ADMIN_KEY_HEADER}: the key given with --admin-key or POSTMOCK_ADMIN_KEY "
                                "(postmock_nb.Client(url, admin_key=KEY), postmock push --admin-key KEY)")
        if not hmac.compare_digest(given.strip(b" \t"), key.encode("utf-8")):
            return Refusal(401, "adminKeyWrong", "Unauthorized",
                           f"Wrong {ADMIN_KEY_HEADER}: send the key the mock was started with "
                           "(--admin-key KEY or POSTMOCK_ADMIN_KEY).",
                           hint="the admin key is not the mock's x-api-key: it is the one given with --admin-key")
        return None
    if not is_loopback(settings.host):
        return Refusal(403, "adminWritesOff", "Forbidden",
                       f"The admin API's writes are off: this mock is bound to {settings.host} (beyond this "
                       f"machine) with no admin key. To turn them on, {TURN_ON}.", hint=TURN_ON)
    if client_host is not None and not is_loopback(client_host):
        return Refusal(403, "adminWritesOff", "Forbidden",
                       f"The admin API's writes are off for requests from another machine ({client_host}) "
                       f"when the mock has no admin key. To turn them on, {TURN_ON}.", hint=TURN_ON)
    page = from_a_web_page(origin, host)
    if page is not None:
        return Refusal(403, "adminWritesCrossSite", "Forbidden",
                       f"The admin API's writes are refused for {page} when the mock has no admin key: a web "
                       f"page open in a browser on this machine must not reconfigure the mock. To write from "
                       f"a browser, {TURN_ON}.", hint=TURN_ON)
    return None


def from_a_web_page(origin: str | None, host: str | None) -> str | None:
    """What shows a write was sent by a web page of another site (None: nothing does). Browsers send ``Origin``
    with every write; other clients (curl, Python, an in-process ASGI client) do not, and are not asked. A page
    may write only from the mock's own origin, on this machine: not from another site (a text/plain POST needs no
    preflight), nor from a DNS name rebound to 127.0.0.1 (its origin is that name)."""
    if origin is None:
        return None
    parts = urlsplit(origin)
    elsewhere = host is not None and parts.netloc.lower() != host.lower()  # another port, another name
    if origin == "null" or not is_loopback(parts.hostname) or elsewhere:
        return f"a request from the web page origin {origin!r}"
    return None


def split_brain(settings: MockConfig) -> Refusal | None:
    """A 409 when a write would reach one worker of several, each with its own collection (no ``--state``)."""
    if settings.workers <= 1 or settings.state is not None:
        return None
    return Refusal(409, "writesNeedSharedState", "Conflict",
                   f"This mock runs {settings.workers} worker processes, each with its own collection and records: "
                   "a write would reach one of them only.",
                   hint="share them with --state redis://HOST:PORT/DB, or serve with --workers 1")


# -- reading what is posted ---------------------------------------------------------------------------

def parse_body(body: bytes, content_type: str) -> Any:
    """The posted document: JSON (a position on error), or YAML when the content type says so."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadBody(f"the body is not UTF-8 text (byte {error.start})",
                      fields={"position": error.start}) from None
    if not text.strip():
        raise BadBody("the body is empty: post a Postman collection (JSON), its items, or an OpenAPI document")
    if "yaml" in content_type.lower():
        try:
            return parse_document(text, "request body")
        except PostmockError as error:
            raise BadBody(str(error), fields={"location": error.location}) from None
    try:
        return limits.loads(text)
    except limits.TooDeep:
        raise BadBody(f"the JSON nests more than {limits.MAX_JSON_DEPTH} levels deep") from None
    except json.JSONDecodeError as error:
        raise BadBody(f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno} "
                      f"(character {error.pos})", name="invalidJson",
                      fields={"line": error.lineno, "column": error.colno, "position": error.pos}) from None
    except ValueError as error:  # an integer longer than Python converts
        raise BadBody(f"cannot read the JSON: {error}") from None


def posted_collection(data: Any) -> Loaded:
    """A collection from what was posted: a collection (Postman or OpenAPI), ``{"item": [...]}`` or a list of
    items; checked whole (its resource seeds, no handler) before anything changes."""
    if isinstance(data, list):
        data = {"item": data}
    if isinstance(data, dict) and "item" in data and "info" not in data:
        data = {"info": {"name": "posted items"}, **data}  # items alone: a collection around them
    try:
        loaded = load_data(data, "request body")
        check_seeds(loaded.collection.examples)
    except PostmockError as error:
        raise BadBody(str(error), name="invalidCollection",
                      fields={"location": error.location} if error.location else None) from None
    refuse_handlers(loaded.collection)
    return loaded


def refuse_handlers(collection: Collection) -> None:
    """A 400 naming the first example that stands for a Python handler: code never comes over the network."""
    for item, example in collection.iter_examples():
        marked = marker_of(example)
        if marked is not None and marked[0] == "handler":
            where = " > ".join((*item.folder, item.name, example.name))
            raise BadBody(f"{where}: an x-mock-handler marker ({marked[1]!r}): Python handlers are never accepted "
                          "remotely (a handler is code, run in the mock's process). Define it in the notebook, "
                          "or post a static example or a resource (x-mock-resource: data) instead.",
                          name="handlerRefused", fields={"location": where})


def adopt_names(current: Collection, incoming: Collection) -> Collection:
    """``incoming`` with each example named like an existing one taking that one's id (so the merge replaces
    it): what :meth:`postmock_nb.session.Session.define` does with a name defined again."""
    by_name = {example.name: example.id for example in current.examples}
    ids = {example.id for example in current.examples}
    items = tuple(replace(item, examples=tuple(
        replace(e, id=by_name[e.name]) if e.id not in ids and e.name in by_name else e for e in item.examples))
        for item in incoming.items)
    return replace(incoming, items=items)


def report_json(report: MergeReport) -> dict[str, Any]:
    """The merge report as JSON: ``report`` is the text ``%mock load`` prints; the rest, entry by entry."""
    return {"report": report.describe(), "current": report.current_name, "incoming": report.incoming_name,
            "added": [{"id": e.id, "name": e.name, "where": e.where} for e in report.added],
            "replaced": [{"id": e.id, "name": e.name, "where": e.where} for e in report.replaced],
            "renamed": [{"id": r.id, "from": r.old_name, "to": r.new_name, "where": r.where} for r in report.renamed],
            "items_added": list(report.items_added),
            "variables": [{"name": v.name, "old": v.old, "new": v.new} for v in report.variables]}


# -- the edits (run off the server's loop: a shared store may block) ------------------------------------

class Writes:
    """The edits behind the write routes, each whole or not at all."""

    def __init__(self, mock: Writable) -> None:
        self.mock = mock

    def exported(self) -> dict[str, Any]:
        collection, _ = self.mock.behaviours.for_export(self.mock.store.collection)
        return to_postman(collection)

    def replace_collection(self, loaded: Loaded) -> dict[str, Any]:
        resources = self.mock.behaviours.resources
        for resource in list(resources):  # the new collection's resources start from its own seeds
            resources.remove(resource.name)
        snapshot = self.mock.store.replace(behaviours_first(loaded.collection))
        for resource in resources.restore(snapshot.collection.examples):
            resource.reset()  # shared records (--state) are re-seeded too, for every replica
        return {"replaced": True, "name": loaded.collection.name, "kind": loaded.kind,
                "examples": len(snapshot.collection.examples)}

    def merge_items(self, loaded: Loaded, *, by_name: bool) -> MergeReport:
        result: dict[str, MergeReport] = {}

        def edit(current: Collection) -> Collection:
            incoming = adopt_names(current, loaded.collection) if by_name else loaded.collection
            merged, result["report"] = merge(current, incoming)
            return behaviours_first(merged)

        snapshot = self.mock.store.update(edit)
        self.mock.behaviours.resources.restore(snapshot.collection.examples)
        return result["report"]

    def delete(self, name_or_id: str) -> list[Example]:
        found: list[Example] = []

        def edit(current: Collection) -> Collection:
            found[:] = [e for _, e in current.find(name_or_id)]
            if not found:
                raise BadBody(f"no example with the id (or name) {name_or_id!r}", status=404,
                              name="exampleNotFound")
            return current.without_examples([e.id for e in found])

        self.mock.store.update(edit)
        return found

    def reset_resources(self, name: str | None) -> list[str]:
        self.mock.behaviours.plan(self.mock.store.snapshot)  # the resources of a file, restored as a request would
        resources = self.mock.behaviours.resources  # (a worker that served none yet has not restored them)
        if name is not None and name not in resources:
            known = ", ".join(sorted(r.name for r in resources)) or "none"
            raise BadBody(f"no resource named {name!r} (this mock's resources: {known})", status=404,
                          name="resourceNotFound")
        return [resource.name for resource in resources.reset(name)]


async def off_loop(call: Callable[[], Any]) -> Any:
    """``call()`` in a worker thread: a shared store's calls may block, never the server's loop."""
    return await asyncio.to_thread(call)


def register_writes(admin: Quart, mock: Writable) -> None:
    """Add the write routes to the admin's Quart app (its key check is :func:`write_refusal`, in admin.py)."""
    from quart import Response, jsonify, request  # deferred: quart is slow to import (only the admin API needs it)

    writes = Writes(mock)

    def failed(problem: BadBody) -> Any:
        body = error_body(problem.name, "Not Found" if problem.status == 404 else "Bad Request", problem.message,
                          fields=problem.fields)
        return Response(body, status=problem.status, content_type="application/json")

    async def posted() -> Loaded:
        body = await request.get_data(cache=False)
        assert isinstance(body, bytes)
        content_type = request.headers.get("content-type", "")
        # off the loop: a large document takes seconds to read (YAML most), and the mock serves on meanwhile
        loaded: Loaded = await off_loop(lambda: posted_collection(parse_body(body, content_type)))
        return loaded

    @admin.errorhandler(413)
    async def too_large(_error: Any) -> Any:
        limit = mock.settings.max_body_bytes
        return Response(error_body("mockRequestTooLarge", "Content Too Large",
                                   f"request body over {limit} bytes (the mock's limit for a body)"),
                        status=413, content_type="application/json")

    @admin.errorhandler(404)
    async def no_route(_error: Any) -> Any:
        return Response(error_body("adminRouteNotFound", "Not Found",
                                   f"{request.method} {request.path}: no such route in the admin API",
                                   fields={"hint": ADMIN_ROUTES}), status=404, content_type="application/json")

    @admin.errorhandler(405)
    async def wrong_method(error: Any) -> Any:
        allowed = sorted(getattr(error, "valid_methods", None) or ())
        return Response(error_body("adminMethodNotAllowed", "Method Not Allowed",
                                   f"{request.method} {request.path}: this route takes {', '.join(allowed)}",
                                   fields={"hint": ADMIN_ROUTES}), status=405, content_type="application/json",
                        headers={"allow": ", ".join(allowed)} if allowed else None)

    @admin.errorhandler(StateUnavailable)
    async def unavailable(problem: StateUnavailable) -> Any:
        return Response(error_body("stateUnavailable", "Service Unavailable", str(problem),
                                   fields={"store": problem.store}), status=503, content_type="application/json")

    @admin.before_request
    async def _one_truth() -> Any:
        refused = split_brain(mock.settings) if request.method in WRITE_METHODS and request.path.startswith(
            WRITE_PATHS) else None
        if refused is not None:
            return Response(refused.body(), status=refused.status, content_type="application/json")
        return None

    @admin.get("/__postmock/collection")
    async def collection() -> Any:
        return jsonify(await off_loop(writes.exported))

    @admin.put("/__postmock/collection")
    async def replace_collection() -> Any:
        try:
            loaded = await posted()
        except BadBody as problem:
            return failed(problem)
        return jsonify(await off_loop(lambda: writes.replace_collection(loaded)))

    @admin.post("/__postmock/items")
    async def merge_items() -> Any:
        by_name = request.args.get("replace", "") == "name"
        try:
            loaded = await posted()
        except BadBody as problem:
            return failed(problem)
        report: MergeReport = await off_loop(lambda: writes.merge_items(loaded, by_name=by_name))
        return jsonify(report_json(report)), (201 if report.added or report.items_added else 200)

    @admin.delete("/__postmock/examples/<path:name_or_id>")
    async def delete_example(name_or_id: str) -> Any:
        try:
            found: list[Example] = await off_loop(lambda: writes.delete(name_or_id))
        except BadBody as problem:
            return failed(problem)
        return jsonify({"deleted": [{"id": e.id, "name": e.name, "line": e.describe()} for e in found]})

    @admin.delete("/__postmock/resources/<name>")
    async def reset_resource(name: str) -> Any:
        try:
            await off_loop(lambda: writes.reset_resources(name))
        except BadBody as problem:
            return failed(problem)
        return "", 204

    @admin.delete("/__postmock/resources")
    async def reset_resources() -> Any:
        await off_loop(lambda: writes.reset_resources(None))
        return "", 204
