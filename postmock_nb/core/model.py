"""The domain records: collections, requests (Postman items), examples.

Everything here is frozen: a :class:`Collection` is an immutable value, and every edit
returns a new one. The server reads whole snapshots and never sees half an edit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from http import HTTPStatus

from postmock_nb.core.markers import is_mock_name

Pairs = tuple[tuple[str, str], ...]


def path_with_query(path: str, query: Pairs, *, bare_names: bool = False) -> str:
    """``/users?role=admin``: a path and its query as a person reads them (the one URL renderer).

    ``bare_names``: a parameter with no value shows as ``?flag`` (as an example is written), not ``?flag=``.
    """
    if not query:
        return path
    return path + "?" + "&".join(k if bare_names and v == "" else f"{k}={v}" for k, v in query)
"""Ordered (name, value) pairs: query parameters, headers, variables."""

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def reason_phrase(status: int) -> str:
    """``404`` → ``Not Found`` (empty for codes HTTP does not name)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def default_item_name(example: Example) -> str:
    """``GET /users/:id``: the request (item) an example is filed under unless told otherwise."""
    return f"{example.request.method} {example.request.path}"


def new_id() -> str:
    """A fresh id in Postman's style (a UUID4 string)."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class RequestSpec:
    """The request side of an example: what an incoming request is matched against.

    ``path`` is kept as written (``/users/:id``, ``/users/{{userId}}``); variables are
    resolved when a snapshot is indexed, so exports give back what was imported.
    ``base`` is what stood before the path in the URL (``{{baseUrl}}``,
    ``https://api.example.com``); it plays no part in matching.
    """

    method: str
    path: str = "/"
    query: Pairs = ()
    headers: Pairs = ()
    body: str = ""
    body_mode: str = "raw"
    body_language: str = ""
    base: str = "{{baseUrl}}"
    path_variables: Pairs = ()
    description: str = ""

    @property
    def url(self) -> str:
        """The path with its query string, as a person writes it (``?flag`` for a parameter with no value)."""
        return path_with_query(self.path, self.query, bare_names=True)


@dataclass(frozen=True)
class ResponseSpec:
    """The saved response an example answers with."""

    status: int = 200
    reason: str = ""
    headers: Pairs = ()
    body: str = ""
    preview_language: str = ""

    def header(self, name: str) -> str | None:
        """The value of the first header called ``name`` (any case), or None."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


@dataclass(frozen=True)
class Example:
    """A saved request/response pair: the unit the mock matches and serves."""

    name: str
    request: RequestSpec
    response: ResponseSpec
    id: str = field(default_factory=new_id)

    def describe(self) -> str:
        """``GET /users/:id → 404 "User not found"``: one line for lists and errors."""
        return f'{self.request.method} {self.request.url} → {self.response.status} "{self.name}"'


@dataclass(frozen=True)
class Item:
    """A Postman request: a named request in a folder, with its saved examples.

    ``events`` keeps the item's Postman scripts (``event[]``) as plain JSON so they survive
    a round trip; the mock never runs them.
    """

    name: str
    request: RequestSpec
    examples: tuple[Example, ...] = ()
    folder: tuple[str, ...] = ()
    id: str = field(default_factory=new_id)
    description: str = ""
    events: tuple[object, ...] = ()


@dataclass(frozen=True)
class Collection:
    """A whole collection: items in folder order and collection variables."""

    name: str = "postmock_nb collection"
    items: tuple[Item, ...] = ()
    variables: Pairs = ()
    id: str = field(default_factory=new_id)
    description: str = ""

    @cached_property
    def examples(self) -> tuple[Example, ...]:
        """Every example, in collection order (the order ties are broken by)."""
        return tuple(example for item in self.items for example in item.examples)

    def iter_examples(self) -> Iterator[tuple[Item, Example]]:
        """Each example with the item it belongs to."""
        for item in self.items:
            for example in item.examples:
                yield item, example

    def find(self, name_or_id: str) -> list[tuple[Item, Example]]:
        """Examples whose id or name is ``name_or_id`` (ids first)."""
        by_id = [(i, e) for i, e in self.iter_examples() if e.id == name_or_id]
        return by_id or [(i, e) for i, e in self.iter_examples() if e.name == name_or_id]

    def item_of(self, example_id: str) -> Item | None:
        """The item holding the example with this id."""
        for item in self.items:
            if any(e.id == example_id for e in item.examples):
                return item
        return None

    # -- edits: each returns a new Collection -------------------------------------------

    def with_example(self, example: Example, *, item_name: str | None = None,
                     folder: tuple[str, ...] = ()) -> Collection:
        """Add ``example``, or replace the example with the same id in place.

        A new example goes into the item with the same folder and name (by default
        ``METHOD /path``), which is created at the end when missing.
        """
        if any(e.id == example.id for e in self.examples):
            return replace(self, items=tuple(
                replace(item, examples=tuple(example if e.id == example.id else e for e in item.examples))
                for item in self.items))
        return self.with_new_examples([example], item_name=item_name, folder=folder)

    def with_new_examples(self, examples: Iterable[Example], *, item_name: str | None = None,
                          folder: tuple[str, ...] = ()) -> Collection:
        """Add examples that are not in the collection (new ids), as :meth:`with_example` adds one,
        in one pass: the cost is the collection's size plus theirs, not their product."""
        items = list(self.items)
        where: dict[tuple[tuple[str, ...], str], int] = {}
        for index, item in enumerate(items):
            where.setdefault((item.folder, item.name), index)
        added: dict[int, list[Example]] = {}
        for example in examples:
            name = item_name or default_item_name(example)
            at = where.get((folder, name))
            if at is None:
                # the item's request is what Postman's Send and newman send: the example's own request,
                # without our x-mock-* matching markers
                sent_headers = tuple(h for h in example.request.headers if not is_mock_name(h[0]))
                at = where[(folder, name)] = len(items)
                items.append(Item(name=name, request=replace(example.request, headers=sent_headers), folder=folder))
            added.setdefault(at, []).append(example)
        for index, new in added.items():
            items[index] = replace(items[index], examples=items[index].examples + tuple(new))
        return replace(self, items=tuple(items))

    def without_examples(self, ids: Iterable[str]) -> Collection:
        """Drop the examples with these ids; items left with no example are dropped too
        unless they came with none."""
        gone = set(ids)
        items = []
        for item in self.items:
            kept = tuple(e for e in item.examples if e.id not in gone)
            if kept or not item.examples:
                items.append(replace(item, examples=kept))
        return replace(self, items=tuple(items))

    def with_variables(self, variables: Pairs) -> Collection:
        """Set collection variables (new names added, existing ones replaced)."""
        merged = dict(self.variables)
        merged.update(dict(variables))
        return replace(self, variables=tuple(merged.items()))
