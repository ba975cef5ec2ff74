"""postmock_nb: Postman-compatible mock servers inside Jupyter.

In a notebook::

    %load_ext postmock_nb

In Python::

    from postmock_nb import MockServer, load_collection
    with MockServer(load_collection("users.postman_collection.json")) as mock:
        requests.get(mock.url + "/users")

The public API is :data:`__all__`, what the README's "The Python API" teaches: the facade (``Session``,
``MockServer``, ``MockConfig``), a running mock's admin API from another process (``Client``), the files
(``load_any``, ``load_collection``, ``save_collection``), the model records, what handlers and resources
use (``Request``, ``Reply``, ``Event``, ``Resource``, ``prototype_of``) and the errors. The matching engine is
importable from :mod:`postmock_nb.matching` (advanced: its docstring and the README's "Advanced: the
matching engine").
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# What each public name is imported from, on first use (PEP 562): ``import postmock_nb`` (and so
# ``postmock --help`` and the pytest plugin) stays cheap, and the server, Quart, jsonschema and
# IPython load when a name that needs them is asked for.
_EXPORTS = {
    "Session": "session",
    "MockServer": "serving.server",
    "MockConfig": "config",
    "Client": "client",
    "load_any": "formats.sources",
    "load_collection": "formats.postman",
    "save_collection": "formats.postman",
    "Collection": "core.model",
    "Item": "core.model",
    "Example": "core.model",
    "RequestSpec": "core.model",
    "ResponseSpec": "core.model",
    "Request": "behaviours.handlers",
    "Reply": "behaviours.handlers",
    "Event": "answers.sse",
    "Resource": "behaviours.resources",
    "Socket": "behaviours.sockets",
    "Disconnected": "behaviours.sockets",
    "BadMessage": "behaviours.sockets",
    "prototype_of": "notebook.magics",
    "PostmockError": "errors",
    "CollectionFormatError": "errors",
    "ConfigError": "errors",
    "ExampleDefinitionError": "errors",
    "ServerError": "errors",
}
__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from postmock_nb.answers.sse import Event
    from postmock_nb.behaviours.handlers import Reply, Request
    from postmock_nb.behaviours.resources import Resource
    from postmock_nb.behaviours.sockets import BadMessage, Disconnected, Socket
    from postmock_nb.client import Client
    from postmock_nb.config import MockConfig
    from postmock_nb.core.model import Collection, Example, Item, RequestSpec, ResponseSpec
    from postmock_nb.errors import (
        CollectionFormatError,
        ConfigError,
        ExampleDefinitionError,
        PostmockError,
        ServerError,
    )
    from postmock_nb.formats.postman import load_collection, save_collection
    from postmock_nb.formats.sources import load_any
    from postmock_nb.notebook.magics import prototype_of
    from postmock_nb.serving.server import MockServer
    from postmock_nb.session import Session


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
    # deferred: the magics import IPython and the server, slow to import (``import postmock_nb`` stays cheap)
    from postmock_nb.notebook.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext`` / ``%reload_ext``: stop the server and drop the session."""
    # deferred: as in load_ipython_extension
    from postmock_nb.notebook.magics import unload_ipython_extension as unload

    unload(ipython)
