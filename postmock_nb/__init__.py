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
    "Collection": "model", "Example": "model", "Item": "model", "RequestSpec": "model", "ResponseSpec": "model",
    "load_collection": "postman", "save_collection": "postman", "to_postman": "postman",
    "MockServer": "server", "Snapshot": "snapshot", "LiveCollection": "store",
    "Reply": "handlers", "Request": "handlers", "Resource": "resources", "Prototype": "prototype",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .config import MockConfig
    from .errors import CollectionFormatError, ConfigError, ExampleDefinitionError, PostmockError, ServerError
    from .handlers import Reply, Request
    from .matching import IncomingRequest, MatchResult, MatchSettings, match
    from .model import Collection, Example, Item, RequestSpec, ResponseSpec
    from .postman import load_collection, save_collection, to_postman
    from .prototype import Prototype
    from .resources import Resource
    from .server import MockServer
    from .snapshot import Snapshot
    from .store import LiveCollection


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
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext`` / ``%reload_ext``: stop the server and drop the session."""
    from .magics import unload_ipython_extension as unload

    unload(ipython)
