"""``postmock``: serve or check a Postman collection without a notebook.

    postmock serve collection.json [--host 127.0.0.1] [--port 8000] [--private [--api-key KEY]] [--workers N]
    postmock validate collection.json
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Sequence

from . import limits
from .errors import PostmockError
from .model import Collection
from .postman import iter_served, load_collection
from .schema import validate_postman
from .server import MockServer, new_api_key
from .wire import collection_changes, has_control, shorten


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postmock", description="Postman-compatible mock servers.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a Postman collection (v2.0/v2.1) as a mock")
    serve.add_argument("collection", help="path of the collection JSON file")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--private", action="store_true", help="require the key in an x-api-key header")
    serve.add_argument("--api-key", help="the key of a private mock (default: a new random one)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes sharing the port (default 1)")
    serve.add_argument("--no-cors", action="store_true", help="do not answer CORS preflights or add CORS headers")
    serve.add_argument("--delay", type=int, default=0, metavar="MS", help="delay every response by MS milliseconds")
    serve.add_argument("--match-body", action="store_true", help="require request bodies to match (per mock)")
    serve.add_argument("--match-header", action="append", default=[], metavar="NAME",
                       help="require this request header to match (repeatable)")
    serve.add_argument("--reveal-secrets", action="store_true",
                       help="let the admin API show x-api-key/Authorization/Cookie values with ?reveal=1")
    validate = commands.add_parser(
        "validate", help="check a collection and list what a mock of it would serve",
        description="Check that postmock can import the collection (exit 0) or not (exit 2), list every "
                    "example a mock would serve, and warn about what the official Postman v2.1 schema "
                    "finds wrong with the file.")
    validate.add_argument("collection", help="path of the collection JSON file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args)
        return _serve(args)
    except PostmockError as error:
        print(f"postmock: {error}", file=sys.stderr)
        return 2
    except RecursionError:  # a structure nested deeper than the limits foresee: still the file's fault
        print(f"postmock: {args.collection}: nested too deep to read (the limit is {limits.MAX_JSON_DEPTH} levels)",
              file=sys.stderr)
        return 2


MAX_WARNINGS = 30


def _validate(args: argparse.Namespace) -> int:
    problems, note = _schema_problems(Path(args.collection))
    try:
        collection = load_collection(args.collection)
    except PostmockError as error:
        print(f"postmock: {args.collection} cannot be served: {error}", file=sys.stderr)
        _print_schema_problems(problems, note, sys.stderr)
        return 2
    rows = list(iter_served(collection))
    print(f"{args.collection}: collection {collection.name!r} can be served: "
          f"{len(rows)} example{'' if len(rows) == 1 else 's'}")
    width = min(max((len(url) for _, url, _, _ in rows), default=0), 48)
    for method, url, status, name in rows:
        print(f"  {method:<7} {url:<{width}}  {status}  {shorten(name, 80) if has_control(name) else name}")
    _print_wire_changes(collection, sys.stdout)
    _print_schema_problems(problems, note, sys.stdout)
    return 0


def _print_wire_changes(collection: Collection, stream: Any) -> None:
    """Every part of an example HTTP cannot send as saved, and what the mock does instead."""
    changes = collection_changes(collection.examples)
    if not changes:
        return
    print(f"note: {len(changes)} part{'' if len(changes) == 1 else 's'} of the examples cannot go on the wire "
          f"as saved; the mock changes them:", file=stream)
    for change in changes:
        print(f"  {change.describe()}", file=stream)


def _schema_problems(path: Path) -> tuple[list[str], str]:
    """What the official v2.1 schema says about the file, and a note on the file's version.
    Nothing when the file is not readable JSON: the import reports that."""
    try:
        data: Any = limits.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return [], ""
    if isinstance(data, dict) and isinstance(data.get("collection"), dict) and "info" in data["collection"]:
        data = data["collection"]  # the Postman API's wrapping, which the import accepts too
    info = data.get("info") if isinstance(data, dict) else None
    v2_0 = isinstance(info, dict) and "v2.0.0" in str(info.get("schema", ""))
    return validate_postman(data), "this is a v2.0 file, checked against v2.1, the format postmock exports" if v2_0 else ""


def _print_schema_problems(problems: list[str], note: str, stream: Any) -> None:
    if not problems:
        return
    print(f"warning: the official Postman Collection v2.1 schema finds {len(problems)} "
          f"problem{'' if len(problems) == 1 else 's'} (Postman itself may refuse the file):", file=stream)
    if note:
        print(f"  ({note})", file=stream)
    for problem in problems[:MAX_WARNINGS]:
        print(f"  {problem}", file=stream)
    if len(problems) > MAX_WARNINGS:
        print(f"  ... and {len(problems) - MAX_WARNINGS} more", file=stream)


def _serve(args: argparse.Namespace) -> int:
    if args.api_key and not args.private:
        raise PostmockError("--api-key only makes sense with --private", hint="add --private")
    if args.workers < 1:
        raise PostmockError(f"--workers must be 1 or more, got {args.workers}")
    if not 0 <= args.port <= 65535:
        raise PostmockError(f"--port must be 0-65535, got {args.port}", hint="0 picks a free port")
    collection = load_collection(args.collection)
    _print_wire_changes(collection, sys.stderr)
    key = (args.api_key or new_api_key()) if args.private else None
    options = dict(host=args.host, private=args.private, api_key=key, cors=not args.no_cors,
                   match_headers=tuple(args.match_header), match_body=args.match_body, delay_ms=args.delay)
    server = MockServer(collection, port=args.port, **options)
    server.settings.workers, server.settings.reveal_secrets = args.workers, args.reveal_secrets
    if server.exposure_warning:
        print(f"postmock: {server.exposure_warning}", file=sys.stderr, flush=True)
    server.bind()
    workers = (_fork_workers(server, collection, args.workers - 1, options | {"_workers": args.workers,
                                                                              "_reveal": args.reveal_secrets})
               if args.workers > 1 else [])
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    try:  # from the first line printed on: whoever read the URL may press Ctrl-C at once
        print(f"Serving {len(collection.examples)} examples of {collection.name!r} at {server.url}", flush=True)
        if args.private:
            print(f"Private mock: send the header x-api-key: {server.api_key}", flush=True)
        if workers:
            print(f"{args.workers} workers share the port", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while not stop.wait(0.5):
            if not server.running:
                print("postmock: the server stopped unexpectedly:", *server.errors[-1:], file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.join(5)
        server.stop()
        print("Stopped.", flush=True)
    return 0


def _worker(fd: int, collection: Collection, options: dict) -> None:
    """A forked worker: serves the listening socket it inherited until terminated."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and terminates us
    options = dict(options)
    workers, reveal = options.pop("_workers", 1), options.pop("_reveal", False)
    server = MockServer(collection, **options)
    server.settings.workers, server.settings.reveal_secrets = workers, reveal
    server.serve_inherited(fd)


def _fork_workers(server: MockServer, collection: Collection, count: int, options: dict) -> list:
    context = multiprocessing.get_context("fork")
    fd = server.listening_fd()
    processes = [context.Process(target=_worker, args=(fd, collection, options), daemon=True) for _ in range(count)]
    for process in processes:
        process.start()
    return processes


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
