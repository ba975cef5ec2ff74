"""Small collections written in a line each: ``make_example("GET /users/:id?role=admin", "Admin")``
and ``make_collection(ex1, ex2)`` (also the ``build`` fixture of tests/conftest.py)."""

from __future__ import annotations

from postmock_nb.core.model import Collection, Example, Pairs, RequestSpec, ResponseSpec


def _split_url(url: str) -> tuple[str, Pairs]:
    """``/users/:id?a=1&b=`` → (``/users/:id``, (("a", "1"), ("b", ""))), values kept as written."""
    path, _, query = url.partition("?")
    return path or "/", tuple((k, v) for k, _, v in (p.partition("=") for p in query.split("&") if p))


def make_example(request: str, name: str = "", *, status: int = 200, body: str = "",
                 headers: dict[str, str] | None = None, request_headers: dict[str, str] | None = None,
                 request_body: str = "", id: str | None = None, preview_language: str = "") -> Example:
    """``make_example("GET /users/:id?role=admin", "Admin")``: one example from a one-line request."""
    method, _, url = request.partition(" ")
    path, query = _split_url(url.strip())
    spec = RequestSpec(method=method.upper(), path=path, query=query,
                       headers=tuple((request_headers or {}).items()), body=request_body)
    response = ResponseSpec(status=status, headers=tuple((headers or {}).items()), body=body,
                            preview_language=preview_language)
    example = Example(name=name or request, request=spec, response=response)
    return example if id is None else Example(example.name, spec, response, id=id)


def make_collection(*examples: Example, variables: dict[str, str] | None = None,
                    name: str = "test collection") -> Collection:
    """A collection holding ``examples`` in order; examples of the same method and path share an item."""
    collection = Collection(name=name, variables=tuple((variables or {}).items()))
    for example in examples:
        collection = collection.with_example(example)
    return collection
