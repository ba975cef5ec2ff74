"""``postmock``: serve or check a Postman collection without a notebook.

    postmock serve collection.json [--host 127.0.0.1] [--port 8000] [--private [--api-key KEY]] [--workers N]
    postmock validate collection.json
    postmock --version

Each command imports what it needs when it runs: ``postmock --help`` loads no server,
no schema validator and no Faker.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from . import __version__
from .config import DEFAULT_HOST, MockConfig
from .errors import PostmockError

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from .model import Collection
    from .server import MockServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postmock", description="Postman-compatible mock servers.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a Postman collection (v2.0/v2.1) as a mock")
    serve.add_argument("collection", help="path of the collection JSON file")
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--private", action="store_true", help="require the key in an x-api-key header")
    serve.add_argument("--api-key", help="the key of a private mock (default: a new random one)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes sharing the port (default 1)")
    serve.add_argument("--no-cors", action="store_true", help="do not answer CORS preflights or add CORS headers")
    serve.add_argument("--delay", type=int, default=0, metavar="MS", help="delay every response by MS milliseconds")
    serve.add_argument("--match-body", action="store_true", help="require request bodies to match (per mock)")
    serve.add_argument("--match-header", action="append", default=[], metavar="NAME",
                       help="require this request header to match (repeatable)")
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


MAX_WARNINGS = 30


def _validate(args: argparse.Namespace) -> int:
    from .postman import iter_served, load_collection

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
        print(f"  {method:<7} {url:<{width}}  {status}  {name}")
    _print_schema_problems(problems, note, sys.stdout)
    return 0


def _schema_problems(path: Path) -> tuple[list[str], str]:
    """What the official v2.1 schema says about the file, and a note on the file's version.
    Nothing when the file is not readable JSON: the import reports that."""
    from .schema import validate_postman

    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
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


def _config(args: argparse.Namespace) -> MockConfig:
    """The mock's settings from the command line (checked by :class:`MockConfig`)."""
    return MockConfig(host=args.host, port=args.port, private=args.private, api_key=args.api_key,
                      cors=not args.no_cors, match_headers=tuple(args.match_header), match_body=args.match_body,
                      delay_ms=args.delay)


def _serve(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.workers < 1:
        raise PostmockError(f"--workers must be 1 or more, got {args.workers}")
    from .postman import load_collection
    from .server import MockServer

    collection = load_collection(args.collection)
    server = MockServer(collection, config)
    server.bind()
    workers = _fork_workers(server, collection, args.workers - 1) if args.workers > 1 else []
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
            from .behaviours import marker_of

            if any((m := marker_of(e)) and m[0] == "resource" for e in collection.examples):
                print("Note: each worker keeps its own copy of the resources' records (use --workers 1 for one state)",
                      file=sys.stderr, flush=True)
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


def _worker(fd: int, collection: Collection, config: MockConfig) -> None:
    """A forked worker: serves the listening socket it inherited until terminated (with the parent's key)."""
    from .server import MockServer

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and terminates us
    server = MockServer(collection, config)
    server.serve_inherited(fd)


def _fork_workers(server: MockServer, collection: Collection, count: int) -> list[BaseProcess]:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    fd = server.listening_fd()
    processes = [context.Process(target=_worker, args=(fd, collection, server.config), daemon=True)
                 for _ in range(count)]
    for process in processes:
        process.start()
    return processes


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
