"""postmock_nb: Postman-compatible mock servers inside Jupyter.

In a notebook::

    %load_ext postmock_nb

In Python::

    from postmock_nb import MockServer, load_collection
    with MockServer(load_collection("users.postman_collection.json")) as mock:
        requests.get(mock.url + "/users")
"""

from __future__ import annotations

from typing import Any

from .errors import CollectionFormatError, ExampleDefinitionError, PostmockError, ServerError
from .matching import IncomingRequest, MatchResult, MatchSettings, match
from .model import Collection, Example, Item, RequestSpec, ResponseSpec
from .postman import load_collection, save_collection, to_postman
from .server import MockServer
from .snapshot import Snapshot
from .store import LiveCollection

__version__ = "0.1.0"
__all__ = [
    "Collection", "CollectionFormatError", "Example", "ExampleDefinitionError", "IncomingRequest", "Item",
    "LiveCollection", "MatchResult", "MatchSettings", "MockServer", "PostmockError", "RequestSpec",
    "ResponseSpec", "ServerError", "Snapshot", "load_collection", "match", "save_collection", "to_postman",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext postmock_nb``: register the magics and a session for this kernel."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext`` / ``%reload_ext``: stop the server and drop the session."""
    from .magics import unload_ipython_extension as unload

    unload(ipython)
