"""One entry point for every file a mock can be made from: :func:`load_any`.

The kind of file is told from its content, not its name: a document (JSON or YAML) with an
``openapi: 3.x`` key is OpenAPI, ``swagger: "2.0"`` is Swagger 2.0, read as the OpenAPI 3.0 document it
describes (:mod:`postmock_nb.formats.swagger`), and one with Postman's ``info``/``item`` is a Postman
collection (v2.0/v2.1) as before. The CLI
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
from postmock_nb.formats.swagger import is_swagger, to_openapi3

POSTMAN_KEYS = ("info", "item", "collection", "requests")


@dataclass(frozen=True)
class Loaded:
    """What a file gave: the collection to serve, and the OpenAPI document when it was one."""

    collection: Collection
    spec: Spec | None = None
    converted_from: str = ""
    """``"Swagger 2.0"`` when the document was read as the OpenAPI 3.0 document it describes."""

    @property
    def kind(self) -> str:
        if self.spec is None:
            return "Postman collection"
        if self.converted_from:
            return f"{self.converted_from} document (read as OpenAPI {self.spec.version[:3]})"
        return f"OpenAPI {self.spec.version} document"


def load_any(path: str | Path, *, check: CheckFactory | None = None) -> Loaded:
    """Read a Postman collection, an OpenAPI 3.0/3.1 or a Swagger 2.0 document (JSON or YAML) from ``path``.
    ``check``: the OpenAPI examples that break their schema are served as generated values (``--examples
    generate``)."""
    file = Path(path)
    return load_data(parse_document(read_text(file), str(file)), str(file), check=check)


def load_data(data: Any, source: str, *, check: CheckFactory | None = None) -> Loaded:
    """The same, for a document already parsed."""
    if is_swagger(data):
        converted, warnings = to_openapi3(data, source)
        collection, spec = collection_from_openapi(converted, source, check=check)
        spec.warnings[:0] = warnings  # the conversion's first, then what the OpenAPI 3.0 reading found
        return Loaded(collection, spec, converted_from="Swagger 2.0")
    if is_openapi(data):
        collection, spec = collection_from_openapi(data, source, check=check)
        return Loaded(collection, spec)
    if isinstance(data, dict) and any(key in data for key in POSTMAN_KEYS):
        return Loaded(parse_collection(data))
    raise CollectionFormatError(
        "neither a Postman collection (no 'info'/'item') nor an OpenAPI document (no 'openapi' key)",
        location=source, hint="give a Postman Collection v2.1 export, an OpenAPI 3.0/3.1 or a Swagger 2.0 document")
