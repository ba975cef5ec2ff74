"""What recording one more proxied answer costs, with a record file already holding N examples.

    .venv/bin/python benchmarks/record_cost.py [--at 50,500] [--new 50] [--body-bytes 2000] [--gap-ms 0]
                                               [--src PATH]

For each N of ``--at``: a record file of N examples (``--body-bytes`` of JSON each) is written,
a :class:`~postmock_nb.bridges.recording.Recorder` opens it, and ``--new`` distinct exchanges are
recorded one after another (``--gap-ms`` apart, standing in for the upstream's latency). Prints,
per new example:

- **wait**: the median time of ``Recorder.record`` — what a proxied request waits for before its
  answer goes out (the proxy awaits it in a worker thread);
- **CPU**: the process's CPU time (every thread: a background writer too) from the first record to
  the file holding them all (``close()`` where there is one), divided by ``--new``;
- the number of times the file was written.

``--src PATH`` imports ``postmock_nb`` from another checkout (``/work/main``, an older commit
unpacked with ``git archive``), to compare the code before a change with the code after it.
Everything happens in a temporary directory; nothing listens on a socket.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--at", default="50,500", help="sizes of the record file, in examples (default 50,500)")
    parser.add_argument("--new", type=int, default=50, help="new examples recorded at each size (default 50)")
    parser.add_argument("--body-bytes", type=int, default=2000, help="bytes of each example's body (default 2000)")
    parser.add_argument("--gap-ms", type=float, default=0.0, help="pause between two records (default 0)")
    parser.add_argument("--src", help="the checkout to import postmock_nb from (default: this one)")
    return parser.parse_args()


def _body(n: int, size: int) -> bytes:
    return json.dumps({"n": n, "pad": "x" * max(0, size - 30)}).encode("utf-8")


def measure(size: int, new: int, body_bytes: int, gap: float) -> dict[str, Any]:
    from postmock_nb.bridges.recording import Exchange, Recorder, example_from_exchange
    from postmock_nb.core.model import Collection
    from postmock_nb.formats.postman import save_collection

    headers = (("Content-Type", "application/json"),)

    def exchange(n: int) -> Exchange:
        return Exchange("GET", f"/items/{n}", (), headers, b"", 200, headers, _body(n, body_bytes))

    with tempfile.TemporaryDirectory(prefix="record-cost-") as folder:
        path = Path(folder) / "rec.json"
        examples = [example_from_exchange(exchange(n)) for n in range(size)]
        save_collection(Collection("recorded", ()).with_new_examples([e for e in examples if e is not None])
                        if hasattr(Collection, "with_new_examples") else _slow_collection(examples), path)
        recorder = Recorder(path)
        waits = []
        cpu = time.process_time()
        for n in range(size, size + new):
            started = time.perf_counter()
            recorder.record(exchange(n))
            waits.append(time.perf_counter() - started)
            if gap:
                time.sleep(gap)
        close = getattr(recorder, "close", None)
        if close is not None:
            close()
        cpu = time.process_time() - cpu
        from postmock_nb.formats.postman import load_collection

        held = len(load_collection(path).examples)
        assert held == size + new, f"the file holds {held} examples, not {size + new}"
        return {"size": size, "wait_ms": statistics.median(waits) * 1000, "cpu_ms": cpu / new * 1000,
                "writes": getattr(recorder, "writes", new), "file_mb": path.stat().st_size / 1e6}


def _slow_collection(examples: list[Any]) -> Any:
    from postmock_nb.core.model import Collection

    collection = Collection("recorded", ())
    for example in examples:
        collection = collection.with_example(example)
    return collection


def main() -> None:
    args = _parse()
    if args.src:
        sys.path.insert(0, str(Path(args.src).resolve()))
    import postmock_nb

    print(f"postmock_nb from {Path(postmock_nb.__file__).parent}; {args.new} new examples of "
          f"{args.body_bytes} bytes at each size, {args.gap_ms:g} ms apart")
    print(f"{'examples in file':>16}  {'file MB':>7}  {'wait/example':>13}  {'CPU/example':>12}  {'file writes':>11}")
    for size in (int(s) for s in args.at.split(",")):
        row = measure(size, args.new, args.body_bytes, args.gap_ms / 1000)
        print(f"{row['size']:>16}  {row['file_mb']:>7.2f}  {row['wait_ms']:>10.3f} ms  {row['cpu_ms']:>9.3f} ms  "
              f"{row['writes']:>11}")


if __name__ == "__main__":
    main()
