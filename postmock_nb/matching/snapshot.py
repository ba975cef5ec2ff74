"""Immutable, indexed snapshots of a collection: what the server reads on the hot path.

Building a :class:`Snapshot` resolves variables and files every example under the keys the
path rules look up, so matching costs a few dictionary lookups however many examples
there are. A snapshot is never changed after it is built; edits build a new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import count
from urllib.parse import unquote_plus

from rapidfuzz import fuzz, process

from postmock_nb.core.markers import (
    CODE_MARKERS,
    CallbackMarker,
    Flow,
    Markers,
    OpenApiSource,
    is_mock_name,
    read_markers,
)
from postmock_nb.core.model import Collection, Example, Item, Pairs
from postmock_nb.core.paths import (
    LOOKUP_RULES,
    PathPattern,
    PathRule,
    fill_saved_variables,
    id_blind,
    resolve_variables,
    wildcard_name,
)
from postmock_nb.core.wire import left_out

_versions = count(1)


@dataclass(frozen=True, slots=True)
class CompiledExample:
    """An example with everything matching needs worked out in advance."""

    order: int
    example: Example
    item: Item
    method: str
    path: PathPattern
    query: tuple[tuple[str, str], ...]
    query_keys: frozenset[str]
    headers: dict[str, str]
    body: str
    markers: Markers
    """Its saved ``x-mock-*`` markers, read once here (:func:`~postmock_nb.core.markers.read_markers`)."""
    required_headers: tuple[str, ...] = ()
    require_body: bool = False
    body_contains: bool = False
    """``x-mock-match-request-body: contains``: the request's body need only hold this example's fields."""
    query_contains: bool = False
    """``x-mock-match-request-query: contains``: query parameters this example does not list cost nothing."""
    runs_code: bool = False
    """A handler's or resource's example (its saved request carries one of :data:`CODE_MARKERS`): never
    answered by edit distance, which would feed it a path that is not its route."""

    @property
    def id(self) -> str:
        return self.example.id


class _TrieNode:
    __slots__ = ("literal", "wild", "ends")

    def __init__(self) -> None:
        self.literal: dict[str, _TrieNode] = {}
        self.wild: _TrieNode | None = None
        self.ends: list[CompiledExample] = []


class WildcardTrie:
    """Path patterns with ``:var``/``{{var}}`` segments, found segment by segment.

    ``fold``: literal segments are filed lower-cased (the trie of the case-ignoring rule; find it
    with lower-cased segments).
    """

    def __init__(self, *, fold: bool = False) -> None:
        self._root = _TrieNode()
        self._fold = fold

    def add(self, compiled: CompiledExample) -> None:
        node = self._root
        for segment, name in zip(compiled.path.segments, compiled.path.wildcards, strict=False):
            if name is not None:
                node.wild = node.wild or _TrieNode()
                node = node.wild
            else:
                node = node.literal.setdefault(segment.lower() if self._fold else segment, _TrieNode())
        node.ends.append(compiled)

    def find(self, segments: tuple[str, ...]) -> Iterator[CompiledExample]:
        """Every pattern the request segments fit."""
        stack = [(self._root, 0)]
        while stack:
            node, depth = stack.pop()
            if depth == len(segments):
                yield from node.ends
                continue
            child = node.literal.get(segments[depth])
            if child is not None:
                stack.append((child, depth + 1))
            if node.wild is not None:
                stack.append((node.wild, depth + 1))


@dataclass
class MethodIndex:
    """The examples of one HTTP method, filed for each path rule."""

    examples: list[CompiledExample] = field(default_factory=list)
    lookups: dict[PathRule, dict[str, list[CompiledExample]]] = field(
        default_factory=lambda: {rule: {} for rule in LOOKUP_RULES})
    wildcards: WildcardTrie = field(default_factory=WildcardTrie)
    folded_wildcards: WildcardTrie = field(default_factory=lambda: WildcardTrie(fold=True))
    """The same patterns, for :attr:`~postmock_nb.core.paths.PathRule.WILDCARD_AND_CASE`."""
    by_length: dict[int, list[CompiledExample]] = field(default_factory=dict)
    max_example_bonus: int = 0
    """The most points an example's own header/body requirements can add (for pruning)."""

    def add(self, compiled: CompiledExample) -> None:
        self.examples.append(compiled)
        self.max_example_bonus = max(self.max_example_bonus,
                                     10 * (len(compiled.required_headers) + compiled.require_body))
        for rule, key in compiled.path.lookup_keys().items():
            self.lookups[rule].setdefault(key, []).append(compiled)
        if compiled.path.has_wildcards:
            self.wildcards.add(compiled)
            self.folded_wildcards.add(compiled)
        self.by_length.setdefault(len(compiled.path.segments), []).append(compiled)


def _compile(order: int, item: Item, example: Example, variables: dict[str, str],
             markers: Markers) -> CompiledExample:
    request = example.request
    # decoded exactly as the request's query string is (parse_qsl: %XX and "+"), so a URL matches itself
    query = tuple((unquote_plus(resolve_variables(k, variables)), unquote_plus(resolve_variables(v, variables)))
                  for k, v in request.query if not is_mock_name(k))
    headers = {k.lower(): resolve_variables(v, variables) for k, v in request.headers if not is_mock_name(k)}
    # the markers' switches are copied to fields of their own: the search reads them per candidate
    return CompiledExample(
        order=order, example=example, item=item, method=request.method.upper(),
        path=PathPattern.parse(fill_saved_variables(request.path, request.path_variables), variables), query=query,
        query_keys=frozenset(k for k, _ in query), headers=headers,
        body=resolve_variables(request.body, variables), markers=markers, required_headers=markers.required_headers,
        require_body=markers.require_body, body_contains=markers.body_contains,
        query_contains=markers.query_contains, runs_code=markers.runs_code)


__all__ = ["CODE_MARKERS", "CompiledExample", "MethodIndex", "NearMissIndex", "Snapshot", "WildcardTrie",
           "is_wildcard_value"]

NEAR_MISS_POOL = 30
"""How many of the most alike paths (per method, and overall) a near-miss search scores in full."""


class NearMissIndex:
    """The snapshot's paths with IDs and variables blinded, per method and overall: where near misses are sought.

    One C-speed fuzzy pass over these finds the examples most like a missed request, so a miss costs
    milliseconds however large the collection, instead of scoring every example in Python.
    """

    def __init__(self, examples: tuple[CompiledExample, ...]) -> None:
        self._tables: dict[str, tuple[list[str], list[CompiledExample]]] = {}
        for compiled in examples:
            for key in (compiled.method, "*"):
                keys, found = self._tables.setdefault(key, ([], []))
                keys.append(id_blind(compiled.path.text))
                found.append(compiled)

    def alike(self, method: str, path: str, limit: int = NEAR_MISS_POOL) -> set[str]:
        """Ids of the examples whose paths look most like ``path`` (of this method, of GET for HEAD, of any)."""
        target = id_blind(path)
        ids: set[str] = set()
        for key in dict.fromkeys((method, "GET" if method == "HEAD" else method, "*")):
            keys, found = self._tables.get(key, ([], []))
            for _, _, index in process.extract(target, keys, scorer=fuzz.ratio, limit=limit):
                ids.add(found[index].id)
        return ids


class Snapshot:
    """An immutable collection with its lookup index. Safe to share between threads."""

    def __init__(self, collection: Collection, environment: Pairs = ()) -> None:
        self.collection = collection
        self.version = next(_versions)
        # a Postman environment's values win over the collection's variables
        self.variables: dict[str, str] = dict(collection.variables) | dict(environment)
        # each example's markers are read here, once: every reader takes them from this snapshot
        self.marked: tuple[tuple[Example, Markers], ...] = tuple(
            (example, read_markers(example.request.headers)) for example in collection.examples)
        """Every example of the collection (those not served too) with its markers, in the collection's order."""
        # a 1xx example (kept in a loaded file's collection) is not served: nothing indexes it (wire.left_out)
        self.examples: tuple[CompiledExample, ...] = tuple(
            _compile(order, item, example, self.variables, markers)
            for order, ((item, example), (_, markers)) in enumerate(zip(collection.iter_examples(), self.marked,
                                                                         strict=True))
            if not left_out(example))
        self.by_method: dict[str, MethodIndex] = {}
        self.by_id: dict[str, CompiledExample] = {}
        for compiled in self.examples:
            self.by_method.setdefault(compiled.method, MethodIndex()).add(compiled)
            self.by_id.setdefault(compiled.id, compiled)
        self.reads_request_content = any(c.required_headers or c.require_body for c in self.examples)
        """Whether some example compares a request's headers or body (Postman's saved ``x-mock-match-request-*``)."""

    @cached_property
    def near_misses(self) -> NearMissIndex:
        """Built on the first miss, then kept with the snapshot (two threads building it at once: both are good)."""
        return NearMissIndex(self.examples)

    @cached_property
    def flow_plan(self) -> dict[str, Flow]:
        """Example id → its flow markers (scenario, sequence, delay, fault), for the examples that have any.

        Worked out on first need and kept with the snapshot (two threads working it out at once: both are
        good, one is kept); the same for every table below. Read, never changed.
        """
        return {example.id: markers.flow for example, markers in self.marked if markers.flow is not None}

    @cached_property
    def callback_plan(self) -> dict[str, CallbackMarker]:
        """Example id → its callback (``x-mock-callback``), for the examples that have one (most have none)."""
        return {example.id: markers.callback for example, markers in self.marked if markers.callback is not None}

    @cached_property
    def code_plan(self) -> dict[str, Markers]:
        """Example id → its markers, for the examples a handler or a resource answers."""
        return {example.id: markers for example, markers in self.marked if markers.code is not None}

    @cached_property
    def openapi_plan(self) -> dict[str, OpenApiSource]:
        """Example id → where in its OpenAPI document it comes from (``x-mock-openapi``), for the examples an
        OpenAPI import made: their key for ``Prefer: example=…``, their schema for ``--dynamic``."""
        return {example.id: markers.openapi for example, markers in self.marked if markers.openapi is not None}

    @cached_property
    def sse_plan(self) -> dict[str, int]:
        """Example id → its interval in ms, for the examples whose body is a Server-Sent Events stream."""
        return {example.id: markers.sse for example, markers in self.marked if markers.sse is not None}

    @cached_property
    def mounts(self) -> dict[str, frozenset[str]]:
        """Base path → the ids of the examples marked with it (``x-mock-base-path``): the paths a request may ask
        without their base path (an OpenAPI document's, served at the root as well, as ``prism mock`` serves it)."""
        found: dict[str, set[str]] = {}
        for example, markers in self.marked:
            if markers.base_path:
                found.setdefault(markers.base_path, set()).add(example.id)
        return {base: frozenset(ids) for base, ids in sorted(found.items(), key=lambda item: -len(item[0]))}

    def __len__(self) -> int:
        return len(self.examples)


def is_wildcard_value(value: str) -> bool:
    """An example value that accepts anything: empty, or a whole undefined ``{{variable}}``."""
    return value == "" or (value.startswith("{{") and wildcard_name(value) is not None)
