"""No import cycle between any two modules of postmock_nb, function-local and TYPE_CHECKING imports included.

    .venv/bin/python scripts/import_graph.py

Builds the package's import graph with grimp (the graph library under import-linter: it reads every
``import`` statement of every module, inside functions and ``if TYPE_CHECKING:`` blocks too), finds
its strongly connected components, and prints one cycle through each, every edge with the line that
makes it. Exits 1 when there is a cycle, or when an edge of :data:`ALLOWED_EDGES` no longer exists.
Run by ``make lint``.
"""

from __future__ import annotations

import sys
from collections import deque
from itertools import pairwise

import grimp

PACKAGE = "postmock_nb"

# Edges left out of the graph while a cycle is being cut, each with the reason. Empty since issue 20 cut
# the last three cycles; a line whose edge is gone fails the check (delete it).
ALLOWED_EDGES: dict[tuple[str, str], str] = {}

Graph = dict[str, set[str]]


def import_graph(graph: grimp.ImportGraph) -> Graph:
    """Each module of the package and the modules of the package it imports directly."""
    return {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}


def components(edges: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    found.append(sorted(component))
    return sorted(found)


def shortest_cycle(edges: Graph, component: list[str]) -> list[str]:
    """A shortest cycle through the first module of ``component`` (breadth first, inside it): [a, b, ..., a]."""
    start, members = component[0], set(component)
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(edges[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return [start, start]


def _where(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    return "; ".join(f"line {d['line_number']}: {d['line_contents']}" for d in details) or "(an import)"


def main() -> int:
    graph = grimp.build_graph(PACKAGE, exclude_type_checking_imports=False, cache_dir=None)
    edges = import_graph(graph)
    count = sum(len(imported) for imported in edges.values())
    stale = [edge for edge in ALLOWED_EDGES if edge[1] not in edges.get(edge[0], set())]
    for importer, imported in ALLOWED_EDGES:
        edges.get(importer, set()).discard(imported)
    cycles = components(edges)
    print(f"import graph: {len(edges)} modules, {count} imports between them (function-local and TYPE_CHECKING "
          f"included), {len(ALLOWED_EDGES)} left out for now (ALLOWED_EDGES); {len(cycles)} cycle(s)")
    for component in cycles:
        cycle = shortest_cycle(edges, component)
        print(f"cycle among {len(component)} modules ({', '.join(component)}):", file=sys.stderr)
        for importer, imported in pairwise(cycle):
            print(f"  {importer} -> {imported}   [{_where(graph, importer, imported)}]", file=sys.stderr)
    for importer, imported in stale:
        print(f"ALLOWED_EDGES lists {importer} -> {imported}, which no longer exists: delete its line "
              f"in scripts/import_graph.py", file=sys.stderr)
    if cycles or stale:
        print(f"import graph: FAILED, {len(cycles)} cycle(s), {len(stale)} stale allowance(s)", file=sys.stderr)
        return 1
    print("import graph: ok, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
