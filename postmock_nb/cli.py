"""``postmock``: serve or check a Postman collection without a notebook.

    postmock serve collection.json [--host 127.0.0.1] [--port 8000] [--private [--api-key KEY]] [--workers N]
    postmock serve openapi.yaml [--validate-requests] [--environment env.json]
    postmock validate collection.json|openapi.yaml

A file is a Postman collection (v2.0/v2.1) or an OpenAPI 3.0/3.1 document (JSON or YAML),
told apart by its content (postmock_nb.sources.load_any).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Sequence

from .errors import PostmockError
from .model import Collection
from .postman import iter_served
from .environment import load_environment
from .openapi import is_openapi
from .openapi_validation import RequestValidator
from .proxy import Proxy
from .recording import Recorder
from .schema import validate_postman
from .sources import Loaded, load_any
from .server import MockServer, new_api_key


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postmock", description="Postman-compatible mock servers.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a Postman collection (v2.0/v2.1) or an OpenAPI 3.x document")
    serve.add_argument("collection", help="path of the collection JSON file, or of an OpenAPI document (JSON/YAML)")
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
    _bridge_options(serve)  # [bridges hook]
    validate = commands.add_parser(
        "validate", help="check a collection and list what a mock of it would serve",
        description="Check that postmock can import the collection (exit 0) or not (exit 2), list every "
                    "example a mock would serve, and warn about what the official Postman v2.1 schema "
                    "finds wrong with the file.")
    validate.add_argument("collection", help="path of the collection JSON file, or of an OpenAPI document")
    return parser


def _bridge_options(serve: argparse.ArgumentParser) -> None:
    """[bridges] serve options that connect the mock to real APIs and their descriptions."""
    serve.add_argument("--validate-requests", action="store_true",
                       help="(OpenAPI documents) answer 422 to requests that break the document's parameters or body")
    serve.add_argument("--environment", metavar="FILE",
                       help="a Postman environment whose enabled values resolve {{vars}} over collection variables")
    serve.add_argument("--proxy", metavar="URL",
                       help="forward requests no example answers to this http(s) URL, and return its answer")
    serve.add_argument("--record", metavar="FILE",
                       help="with --proxy: save every proxied answer as an example in FILE (Postman v2.1), "
                            "one per distinct method + path + query + body; FILE is rewritten as it records")


def _bridge_settings(args: argparse.Namespace, loaded: Loaded) -> dict[str, Any]:
    """[bridges] the MockServer keyword arguments the bridge options give."""
    options: dict[str, Any] = {}
    if args.validate_requests:
        if loaded.spec is None:
            raise PostmockError("--validate-requests needs an OpenAPI document, and this is a Postman collection",
                                hint="serve the OpenAPI document the collection was made from")
        options["request_validator"] = RequestValidator(loaded.spec)
    if args.environment:
        options["environment"] = load_environment(args.environment).values
    if args.record and not args.proxy:
        raise PostmockError("--record needs --proxy URL: only proxied answers are recorded",
                            hint="postmock serve c.json --proxy https://api.example.com --record recorded.json")
    if args.proxy:
        options["proxy"] = Proxy(args.proxy)
    if args.record:
        if args.workers > 1:
            raise PostmockError("--record works with one worker only (each would write the file)",
                                hint="leave out --workers")
        options["recorder"] = Recorder(args.record)
    return options


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
    problems, note = _schema_problems(Path(args.collection))
    try:
        loaded = load_any(args.collection)  # [bridges hook] Postman or OpenAPI
    except PostmockError as error:
        print(f"postmock: {args.collection} cannot be served: {error}", file=sys.stderr)
        _print_schema_problems(problems, note, sys.stderr)
        return 2
    collection = loaded.collection
    if loaded.spec is not None:
        problems, note = [], ""  # the Postman schema says nothing about an OpenAPI document
    rows = list(iter_served(collection))
    kind = "collection" if loaded.spec is None else loaded.kind
    print(f"{args.collection}: {kind} {collection.name!r} can be served: "
          f"{len(rows)} example{'' if len(rows) == 1 else 's'}")
    width = min(max((len(url) for _, url, _, _ in rows), default=0), 48)
    for method, url, status, name in rows:
        print(f"  {method:<7} {url:<{width}}  {status}  {name}")
    _print_schema_problems(problems, note, sys.stdout)
    return 0


def _schema_problems(path: Path) -> tuple[list[str], str]:
    """What the official v2.1 schema says about the file, and a note on the file's version.
    Nothing when the file is not readable JSON: the import reports that."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return [], ""
    if is_openapi(data):  # [bridges hook] the Postman schema says nothing about OpenAPI documents
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
    loaded = load_any(args.collection)  # [bridges hook] Postman or OpenAPI
    collection = loaded.collection
    key = (args.api_key or new_api_key()) if args.private else None
    options = dict(host=args.host, private=args.private, api_key=key, cors=not args.no_cors,
                   match_headers=tuple(args.match_header), match_body=args.match_body, delay_ms=args.delay)
    options.update(_bridge_settings(args, loaded))  # [bridges hook]
    server = MockServer(collection, port=args.port, **options)
    server.bind()
    workers = _fork_workers(server, collection, args.workers - 1, options) if args.workers > 1 else []
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
        if args.proxy:  # [bridges hook]
            print(f"Requests no example answers go to {args.proxy}"
                  + (f"; their answers are recorded in {args.record}" if args.record else ""), flush=True)
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
    server = MockServer(collection, **options)
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
