"""One entry point for every file a mock can be made from: :func:`load_any`.

The kind of file is told from its content, not its name: a document (JSON or YAML) with an
``openapi: 3.x`` key is OpenAPI, ``swagger: 2.0`` is refused with a clear error, and one with
Postman's ``info``/``item`` is a Postman collection (v2.0/v2.1) as before. The CLI
(``postmock serve``/``validate``) and the notebook (``%mock load``) all call this.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postmock_nb.core.model import Collection
from postmock_nb.errors import CollectionFormatError
from postmock_nb.formats.documents import parse_document, read_text
from postmock_nb.formats.openapi import CheckFactory, Spec, collection_from_openapi, is_openapi
from postmock_nb.formats.postman import parse_collection

POSTMAN_KEYS = ("info", "item", "collection", "requests")


@dataclass(frozen=True)
class Loaded:
    """What a file gave: the collection to serve, and the OpenAPI document when it was one."""

    collection: Collection
    spec: Spec | None = None

    @property
    def kind(self) -> str:
        return f"OpenAPI {self.spec.version} document" if self.spec is not None else "Postman collection"


def load_any(path: str | Path, *, check: CheckFactory | None = None) -> Loaded:
    """Read a Postman collection or an OpenAPI 3.0/3.1 document (JSON or YAML) from ``path``. ``check``: the
    OpenAPI examples that break their schema are served as generated values (``--examples generate``)."""
    file = Path(path)
    return load_data(parse_document(read_text(file), str(file)), str(file), check=check)


def load_data(data: Any, source: str, *, check: CheckFactory | None = None) -> Loaded:
    """The same, for a document already parsed."""
    if is_openapi(data):
        collection, spec = collection_from_openapi(data, source, check=check)
        return Loaded(collection, spec)
    if isinstance(data, dict) and any(key in data for key in POSTMAN_KEYS):
        return Loaded(parse_collection(data))
    raise CollectionFormatError(
        "neither a Postman collection (no 'info'/'item') nor an OpenAPI document (no 'openapi' key)",
        location=source, hint="give a Postman Collection v2.1 export or an OpenAPI 3.0/3.1 document")
