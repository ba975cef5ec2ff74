"""postmock_nb: Postman-compatible mock servers inside Jupyter.

In a notebook::

    %load_ext postmock_nb

In Python::

    from postmock_nb import MockServer, load_collection
    with MockServer(load_collection("users.postman_collection.json")) as mock:
        requests.get(mock.url + "/users")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# What each public name is imported from, on first use (PEP 562): ``import postmock_nb`` (and so
# ``postmock --help``) stays cheap, and the server, Quart and jsonschema load when asked for.
_EXPORTS = {
    "CollectionFormatError": "errors", "ConfigError": "errors", "ExampleDefinitionError": "errors",
    "PostmockError": "errors", "ServerError": "errors", "MockConfig": "config",
    "IncomingRequest": "matching", "MatchResult": "matching", "MatchSettings": "matching", "match": "matching",
    "Collection": "core.model", "Example": "core.model", "Item": "core.model", "RequestSpec": "core.model",
    "ResponseSpec": "core.model",
    "load_collection": "formats.postman", "save_collection": "formats.postman", "to_postman": "formats.postman",
    "MockServer": "serving.server", "Snapshot": "matching.snapshot", "LiveCollection": "matching.store",
    "Reply": "behaviours.handlers", "Request": "behaviours.handlers", "Resource": "behaviours.resources",
    "Prototype": "notebook.prototype",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from postmock_nb.behaviours.handlers import Reply, Request
    from postmock_nb.behaviours.resources import Resource
    from postmock_nb.config import MockConfig
    from postmock_nb.core.model import Collection, Example, Item, RequestSpec, ResponseSpec
    from postmock_nb.errors import (
        CollectionFormatError,
        ConfigError,
        ExampleDefinitionError,
        PostmockError,
        ServerError,
    )
    from postmock_nb.formats.postman import load_collection, save_collection, to_postman
    from postmock_nb.matching import IncomingRequest, MatchResult, MatchSettings, match
    from postmock_nb.matching.snapshot import Snapshot
    from postmock_nb.matching.store import LiveCollection
    from postmock_nb.notebook.prototype import Prototype
    from postmock_nb.serving.server import MockServer


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'postmock_nb' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext postmock_nb``: register the magics and a session for this kernel."""
    from postmock_nb.notebook.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext`` / ``%reload_ext``: stop the server and drop the session."""
    from postmock_nb.notebook.magics import unload_ipython_extension as unload

    unload(ipython)
