"""How long ``POST /__postmock/items`` takes to merge n posted items into a collection of n (pure, one process).

The merge (:func:`postmock_nb.formats.merging.merge`) runs under the collection store's edit (with ``--state``,
inside its WATCH/MULTI/EXEC); each posted item finds its place by id, else by name in its folder. Prints, per
size, the median of ``--rounds`` merges in ms and the ms per item (flat when the merge is linear).

    .venv/bin/python benchmarks/merge_cost.py [--sizes 1000 5000 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from postmock_nb.core.model import Collection, Example, Item, RequestSpec, ResponseSpec
from postmock_nb.formats.merging import merge


def collection(name: str, first: int, count: int) -> Collection:
    """``count`` items of one example each, ``/p{first}`` on."""
    items = tuple(Item(name=f"i{n}", request=RequestSpec("GET", f"/p{n}"),
                       examples=(Example(f"r{n}", RequestSpec("GET", f"/p{n}"), ResponseSpec(200, body="x")),))
                  for n in range(first, first + count))
    return Collection(name=name, items=items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'items':>8} {'merge ms':>10} {'ms/item':>9}")
    for size in args.sizes:
        current, incoming = collection("current", 0, size), collection("incoming", size, size)
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            merged, _ = merge(current, incoming)
            times.append((time.perf_counter() - started) * 1000)
            assert len(merged.items) == 2 * size
        median = statistics.median(times)
        print(f"{size:>8} {median:>10.1f} {median / size:>9.4f}")


if __name__ == "__main__":
    main()
