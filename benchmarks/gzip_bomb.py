"""A gzip bomb from the upstream while recording: the answer, its time, the memory and the record file.

    .venv/bin/python benchmarks/gzip_bomb.py [--mib 100] [--src PATH]

An upstream on 127.0.0.1 answers every request with ``--mib`` MiB of ``0`` gzipped (about 100 KB
for 100 MiB); a mock proxies to it and records (``--record``) into a temporary file. Prints the
status the client got, how long it took, how much the process's peak RSS grew and the size of
the record file. ``--src PATH`` imports ``postmock_nb`` from another checkout (before/after).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def bomb(mib: int) -> bytes:
    """``mib`` MiB of ``0`` as gzip, made a MiB at a time (the bomb never sits whole in memory)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"0" * (1024 * 1024)
    return b"".join([compressor.compress(chunk) for _ in range(mib)] + [compressor.flush()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mib", type=int, default=100, help="MiB the answer decodes to (default 100)")
    parser.add_argument("--src", help="the checkout to import postmock_nb from (default: this one)")
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, str(Path(args.src).resolve()))
    import requests

    import postmock_nb
    from postmock_nb.bridges.bridges import Bridges
    from postmock_nb.bridges.proxy import Proxy
    from postmock_nb.bridges.recording import Recorder
    from postmock_nb.core.model import Collection
    from postmock_nb.serving.server import MockServer

    body = bomb(args.mib)

    class Upstream(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    try:
        with tempfile.TemporaryDirectory(prefix="gzip-bomb-") as folder:
            record = Path(folder) / "rec.json"
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            bridges = Bridges(proxy=Proxy(f"http://127.0.0.1:{upstream.server_address[1]}"), recorder=Recorder(record))
            with MockServer(Collection(), bridges=bridges) as mock:
                started = time.perf_counter()
                response = requests.get(mock.url + "/bomb", timeout=300)
                took = time.perf_counter() - started
            grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
            size = record.stat().st_size if record.exists() else 0
    finally:
        upstream.shutdown()
        upstream.server_close()
        thread.join(5)
    print(f"postmock_nb from {Path(postmock_nb.__file__).parent}")
    print(f"{len(body):,} bytes of gzip decoding to {args.mib} MiB: answered {response.status_code} in "
          f"{took * 1000:.0f} ms; peak RSS +{grown:.0f} MB; record file {size:,} bytes")
    if response.status_code != 200:
        print(f"  {response.json()['error']['message']}")


if __name__ == "__main__":
    main()
