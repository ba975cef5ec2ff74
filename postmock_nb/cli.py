"""``postmock``: serve or check a Postman collection without a notebook.

    postmock serve collection.json [--host 127.0.0.1] [--port 8000] [--private [--api-key KEY]] [--workers N]
    postmock serve openapi.yaml [--validate-requests] [--examples as-written|generate] [--environment env.json]
                                   [--proxy URL [--record FILE]]
                                   [--server hypercorn|uvicorn|granian]
    postmock validate collection.json|openapi.yaml
    postmock push collection.json --to URL [--admin-key KEY] [--replace]
    postmock convert SOURCE OUTPUT [--to openapi|postman]
    postmock check collection.json|openapi.yaml --against URL [--unsafe] [--strict] [--junit FILE]
                   [--header "Name: value"]... [--environment FILE] [--timeout S]
    postmock --version

A file is a Postman collection (v2.0/v2.1) or an OpenAPI 3.0/3.1 (or Swagger 2.0) document (JSON or YAML),
told apart by its content (postmock_nb.formats.sources.load_any). Each command imports what it needs
when it runs: ``postmock --help`` loads no server, no schema validator and no Faker.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from postmock_nb import __version__
from postmock_nb.config import SERVE, MockConfig, add_check_options, add_options, config_options
from postmock_nb.core import limits
from postmock_nb.core.masking import mask
from postmock_nb.core.text import listed, plural
from postmock_nb.core.wire import collection_changes, has_control, shorten
from postmock_nb.errors import PostmockError

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from postmock_nb.core.model import Collection, Pairs
    from postmock_nb.serving.build import AssembledMock
    from postmock_nb.serving.server import MockServer
    from postmock_nb.serving.shared.connection import SharedState
    from postmock_nb.serving.tls import Certificate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postmock", description="Postman-compatible mock servers.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a Postman collection (v2.0/v2.1) or an OpenAPI 3.x document")
    serve.add_argument("collection", help="path of the collection JSON file, or of an OpenAPI document (JSON/YAML)")
    add_options(serve, SERVE)  # every option of postmock serve: postmock_nb.config.OPTIONS
    validate = commands.add_parser(
        "validate", help="check a collection and list what a mock of it would serve",
        description="Check that postmock can import the collection (exit 0) or not (exit 2), list every "
                    "example a mock would serve, and warn about what the official Postman v2.1 schema "
                    "finds wrong with the file.")
    validate.add_argument("collection", help="path of the collection JSON file, or of an OpenAPI document")
    push = commands.add_parser(
        "push", help="send a collection to a running mock (its admin API)",
        description="Merge a Postman collection or an OpenAPI document into a running mock (POST "
                    "/__postmock/items) and print the merge report, or replace the mock's collection with it "
                    "(--replace: PUT /__postmock/collection). Exit 0 when done, 2 when the file cannot be read "
                    "or the mock refuses it as invalid, 1 otherwise (the mock unreachable, the key refused).")
    push.add_argument("collection", metavar="FILE", help="the Postman collection or OpenAPI document to send")
    push.add_argument("--to", required=True, metavar="URL", help="the mock's address (http://HOST:PORT)")
    push.add_argument("--admin-key", metavar="KEY", default=None,
                      help="the mock's admin key, sent as x-postmock-admin-key (default: $POSTMOCK_ADMIN_KEY)")
    push.add_argument("--replace", action="store_true", help="replace the mock's collection instead of merging")
    convert = commands.add_parser(
        "convert", help="write a collection as OpenAPI 3.1, or an OpenAPI document as a Postman collection",
        description="Read SOURCE (a Postman collection or an OpenAPI document) and write OUTPUT as OpenAPI 3.1 "
                    "(YAML for .yaml/.yml, else JSON) or as a Postman Collection v2.1. The format is --to's, else "
                    "OUTPUT's name's: .yaml/.yml is OpenAPI, .postman_collection.json is Postman. An OpenAPI "
                    "document written as OpenAPI is the document itself (its version kept).")
    convert.add_argument("source", metavar="SOURCE", help="the Postman collection or OpenAPI document to read")
    convert.add_argument("output", metavar="OUTPUT", help="the file to write (not SOURCE)")
    convert.add_argument("--to", choices=CONVERT_FORMATS, default=None, help="the output format")
    _check_parser(commands.add_parser(
        "check", help="send the sketch's requests to the real API and report where its answers differ",
        description="Send every example's request (an OpenAPI document: every operation's) to the real API and "
                    "compare each answer's status, content type and JSON body with the sketch: the document's "
                    "response schemas, or schemas inferred from the collection's examples. Exit 0 when everything "
                    "matches, 1 on drift or a request that failed, 2 when the file or an option is wrong."))
    return parser


CONVERT_FORMATS = ("openapi", "postman")


def output_format(output: str, to: str | None) -> str:
    """``openapi`` or ``postman``: ``to`` when given, else by the name (or an error asking for ``--to``)."""
    if to:
        return to
    lowered = output.lower()
    if lowered.endswith((".yaml", ".yml")):
        return "openapi"
    if lowered.endswith(".postman_collection.json"):
        return "postman"
    raise PostmockError(f"cannot tell the output format from the name {output!r}",
                     hint="add --to openapi or --to postman (or name it .yaml/.yml or .postman_collection.json)")


def _check_parser(check: argparse.ArgumentParser) -> None:
    """``postmock check``'s arguments (``%mock check`` takes the same options: notebook/magics.py)."""
    check.add_argument("collection", metavar="SOURCE", help="the Postman collection or OpenAPI document (the sketch)")
    check.add_argument("--against", required=True, metavar="URL",
                       help="the real API's base URL (each request's path is added to it)")
    add_check_options(check)


def _environment(args: argparse.Namespace) -> Pairs:
    """The values of ``--environment FILE`` (a Postman environment), laid over the collection's variables."""
    if not args.environment:
        return ()
    # deferred: postmock_nb.formats.environment is slow to import (YAML); postmock --help stays fast
    from postmock_nb.formats.environment import load_environment

    return load_environment(args.environment).values


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "push":
            return _push(args)
        if args.command == "convert":
            return _convert(args)
        if args.command == "check":
            return _check(args)
        return _serve(args)
    except PostmockError as error:
        print(f"postmock: {error}", file=sys.stderr)
        return 2
    except RecursionError:  # a structure nested deeper than the limits foresee: still the file's fault
        source = getattr(args, "collection", None) or args.source
        print(f"postmock: {source}: nested too deep to read (the limit is {limits.MAX_JSON_DEPTH} levels)",
              file=sys.stderr)
        return 2


MAX_WARNINGS = 30


def _validate(args: argparse.Namespace) -> int:
    # deferred: the formats (schemas, YAML, OpenAPI) are slow to import; postmock --help stays fast
    from postmock_nb.formats.postman import iter_served
    from postmock_nb.formats.sources import load_any

    problems, note = _schema_problems(Path(args.collection))
    try:
        loaded = load_any(args.collection)  # a Postman collection or an OpenAPI document
    except PostmockError as error:
        print(f"postmock: {args.collection} cannot be served: {error}", file=sys.stderr)
        _print_schema_problems(problems, note, sys.stderr)
        return 2
    collection = loaded.collection
    if loaded.spec is not None:
        problems, note = [], ""  # the Postman schema says nothing about an OpenAPI document
    rows = list(iter_served(collection))
    kind = "collection" if loaded.spec is None else loaded.kind
    print(f"{args.collection}: {kind} {collection.name!r} can be served: {plural(len(rows), 'example')}")
    width = min(max((len(url) for _, url, _, _ in rows), default=0), 48)
    for method, url, status, name in rows:
        print(f"  {method:<7} {url:<{width}}  {status}  {shorten(name, 80) if has_control(name) else name}")
    _print_wire_changes(collection, sys.stdout)
    _print_schema_problems(problems, note, sys.stdout)
    for warning in loaded.spec.warnings if loaded.spec is not None else ():
        print(f"warning: {warning}")
    if loaded.spec is not None and loaded.spec.webhooks:
        print(f"webhooks (sent by hand: %mock webhook NAME URL): {', '.join(loaded.spec.webhooks)}")
    if loaded.spec is not None:
        _print_example_problems(loaded.spec)
    return 0


def _print_example_problems(spec: Any) -> None:
    """The document's examples that break their own schema (served as written, listed so they can be fixed)."""
    from postmock_nb.bridges.validation import RequestValidator  # deferred: jsonschema is slow to import

    problems = RequestValidator(spec).example_problems()
    if problems:
        print(f"examples that break their own schema (served as written, {len(problems)}):")
        for problem in problems:
            print(f"  {problem}")


_EVERY_ONE = " (`postmock validate FILE` lists each)"


def _print_generated(spec: Any) -> None:
    """``--examples generate``'s start-up lines: which examples are served as a value generated from the schema."""
    print(f"--examples generate: {plural(len(spec.replaced), 'example')} of {spec.source} replaced by a value "
          f"generated from the schema (the example breaks it)" + (":" if spec.replaced else ""), flush=True)
    for line in listed(spec.replaced, _EVERY_ONE):
        print(f"  {line}", flush=True)
    if spec.kept:
        print(f"postmock: warning: {plural(len(spec.kept), 'example')} served as written though breaking the "
              "schema: no value generated from it conforms either:", file=sys.stderr, flush=True)
        for line in listed(spec.kept, _EVERY_ONE):
            print(f"  {line}", file=sys.stderr, flush=True)


def _print_wire_changes(collection: Collection, stream: Any) -> None:
    """Every part of an example HTTP cannot send as saved, and what the mock does instead."""
    changes = collection_changes(collection.examples)
    if not changes:
        return
    print(f"note: {plural(len(changes), 'part')} of the examples cannot go on the wire "
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
    from postmock_nb.formats.openapi import is_openapi  # deferred: slow to import; postmock --help stays fast

    if is_openapi(data):  # the Postman schema says nothing about OpenAPI documents
        return [], ""
    if isinstance(data, dict) and isinstance(data.get("collection"), dict) and "info" in data["collection"]:
        data = data["collection"]  # the Postman API's wrapping, which the import accepts too
    info = data.get("info") if isinstance(data, dict) else None
    v2_0 = isinstance(info, dict) and "v2.0.0" in str(info.get("schema", ""))
    note = "this is a v2.0 file, checked against v2.1, the format postmock exports" if v2_0 else ""
    from postmock_nb.formats.schema import validate_postman  # deferred: jsonschema is slow; only for a Postman file

    return validate_postman(data), note


def _print_schema_problems(problems: list[str], note: str, stream: Any) -> None:
    if not problems:
        return
    print(f"warning: the official Postman Collection v2.1 schema finds {plural(len(problems), 'problem')} "
          "(Postman itself may refuse the file):", file=stream)
    if note:
        print(f"  ({note})", file=stream)
    for problem in problems[:MAX_WARNINGS]:
        print(f"  {problem}", file=stream)
    if len(problems) > MAX_WARNINGS:
        print(f"  ... and {len(problems) - MAX_WARNINGS} more", file=stream)


def same_file(one: str | Path, other: str | Path) -> bool:
    """Whether two names are one file: the same path once resolved (``./x``, a symlink), or, when both exist, the
    same file (a hard link)."""
    try:
        return Path(one).resolve() == Path(other).resolve() or Path(other).exists() and Path(one).samefile(other)
    except OSError:
        return False


def _convert(args: argparse.Namespace) -> int:
    """``postmock convert SOURCE OUTPUT``: a collection or a document as OpenAPI or as a Postman collection; an
    OpenAPI document to OpenAPI is the document itself (in YAML or JSON), never one inferred from its examples."""
    to = output_format(args.output, args.to)
    if same_file(args.source, args.output):
        raise PostmockError(f"the output is the source ({args.output} is {args.source}): nothing written",
                            hint="give another OUTPUT file")
    # deferred: the formats (schemas, YAML, OpenAPI) are slow to import; postmock --help stays fast
    from postmock_nb.formats.documents import parse_document, read_text
    from postmock_nb.formats.openapi_export import save_openapi
    from postmock_nb.formats.openapi_writing import save_document
    from postmock_nb.formats.postman import save_collection
    from postmock_nb.formats.sources import load_any

    loaded = load_any(args.source)
    collection = loaded.collection
    warnings: list[str] = []
    try:
        if to == "postman":
            save_collection(collection, args.output)
            kind = "Postman collection"
        elif loaded.spec is not None:  # its schemas, $refs, constraints and security as written
            _, warnings = save_document(parse_document(read_text(Path(args.source)), args.source), args.output)
            kind = f"{loaded.converted_from or 'OpenAPI ' + loaded.spec.version} document"
            if not loaded.spec.version.startswith("3.1") or loaded.converted_from:
                warnings.insert(0, f"written as it is ({kind}): postmock converts no document between versions")
        else:
            _, warnings = save_openapi(collection, args.output)
            kind = "OpenAPI 3.1 document"
    except OSError as error:  # a missing or read-only folder, a directory, a device: the OUTPUT named, not a temp file
        raise PostmockError(f"cannot write {args.output}: {error.strerror or error}",
                            hint="give a file in a folder you can write to") from None
    print(f"{args.output}: {kind} {collection.name!r}, {plural(len(collection.examples), 'example')} "
          f"(from {args.source})")
    for warning in warnings:
        print(f"warning: {warning}")
    return 0


def _push(args: argparse.Namespace) -> int:
    """``postmock push FILE --to URL``: the file merged into (or, ``--replace``, replacing) a running mock's."""
    import os  # deferred: only postmock push reads the environment here

    from postmock_nb.client import Client, ClientError, shown_url  # deferred: httpx is slow to import

    to = shown_url(args.to)  # a password in the URL is never printed
    admin_key = args.admin_key if args.admin_key is not None else os.environ.get("POSTMOCK_ADMIN_KEY") or None
    try:
        with Client(args.to, admin_key=admin_key) as client:
            if args.replace:
                done = client.replace(args.collection)
                print(f"Replaced the collection of {to} with {done.get('name', '')!r} from {args.collection}: "
                      f"{plural(int(done.get('examples', 0)), 'example')}.", flush=True)
            else:
                print(client.load(args.collection).get("report", ""), flush=True)
    except ClientError as error:
        print(f"postmock: push {args.collection} to {to}: {error}", file=sys.stderr)
        the_file = error.status in (400, 413, 422) or (error.status is None and bool(error.location))
        return 2 if the_file else 1  # the file (unreadable, refused as invalid), else the mock or the network
    return 0


def _check(args: argparse.Namespace) -> int:
    """``postmock check SOURCE --against URL``: the report on stdout, JUnit XML in ``--junit FILE``; exit 1 on drift,
    on errors, or when nothing was checked."""
    # deferred: httpx, jsonschema's registry and the formats are slow to import; postmock --help stays fast
    from postmock_nb.bridges.contract import check
    from postmock_nb.bridges.contract_probes import collection_probes, openapi_probes, parse_headers
    from postmock_nb.bridges.contract_report import junit_target, write_junit
    from postmock_nb.formats.environment import Environment, layered, load_environment
    from postmock_nb.formats.sources import load_any

    headers = parse_headers(args.header)
    junit = junit_target(args.junit, sources=(args.collection, args.environment)) if args.junit else None
    loaded = load_any(args.collection)
    spec = loaded.spec
    probes = openapi_probes(spec) if spec is not None else collection_probes(loaded.collection)
    environment = load_environment(args.environment) if args.environment else Environment("")
    variables = layered(loaded.collection.variables, environment.values)
    report = check(probes, against=args.against, source=args.collection, headers=headers, variables=variables,
                   unsafe=args.unsafe, strict=args.strict, timeout=args.timeout, spec=spec,
                   secret_names=environment.secret_keys)
    print(report.text(), flush=True)
    if junit is not None:
        print(f"JUnit XML written to {write_junit(junit, report)}", flush=True)
    return 1 if report.failed else 0


def _config(args: argparse.Namespace) -> MockConfig:
    """The mock's settings from the command line (parsed by the options table, checked by :class:`MockConfig`).
    The admin key may come from ``POSTMOCK_ADMIN_KEY`` instead (as for ``postmock push``): a secret in the
    command line is shown to every user of the machine by ``ps``; the banner's hint names the variable."""
    import os  # deferred: only the admin key is read from the environment here

    options = config_options(SERVE, args)
    if options.get("admin_key") is None and os.environ.get("POSTMOCK_ADMIN_KEY"):
        options["admin_key"] = os.environ["POSTMOCK_ADMIN_KEY"]
    return MockConfig(**options)


def _serve(args: argparse.Namespace) -> int:
    config = _config(args)
    # deferred: the engine, the servers and the formats are slow to import; postmock --help stays fast
    from postmock_nb.behaviours.resources import check_seeds
    from postmock_nb.formats.sources import load_any
    from postmock_nb.serving.build import COMMAND, example_check, file_mock
    from postmock_nb.serving.server import MockServer

    loaded = load_any(args.collection, check=example_check(args.examples))  # a Postman collection or an OpenAPI doc
    collection = loaded.collection
    check_seeds(collection.examples)
    if config.record is not None and args.workers > 1:
        raise PostmockError("--record works with one worker only (each would write the file)",
                            hint="leave out --workers")
    _print_wire_changes(collection, sys.stderr)
    for warning in loaded.spec.warnings if loaded.spec is not None else ():
        print(f"postmock: warning: {warning}", file=sys.stderr)
    if loaded.spec is not None and loaded.spec.example_check is not None:
        _print_generated(loaded.spec)
    environment = _environment(args)
    server = MockServer(mock=file_mock(loaded=loaded, config=config, environment=lambda: environment,
                                       wording=COMMAND))
    if server.exposure_warning:
        print(f"postmock: {server.exposure_warning}", file=sys.stderr, flush=True)
    server.bind(workers=args.workers)
    workers = _fork_workers(server) if args.workers > 1 else []
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    try:  # from the first line printed on: whoever read the URL may press Ctrl-C at once
        _announce(server, args, collection, workers=bool(workers))
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


def _announce(server: MockServer, args: argparse.Namespace, collection: Collection, *, workers: bool) -> None:
    """What ``postmock serve`` prints once it serves."""
    from postmock_nb.behaviours.dispatch import marker_of  # deferred: slow to import; postmock --help stays fast
    from postmock_nb.serving.adminwrites import writes_state  # deferred: as above

    config = server.config
    serving = plural(len(server.store.snapshot), "example")  # a 1xx example is left out
    print(f"Serving {serving} of {collection.name!r} at {server.url}", flush=True)
    if server.tls is not None:
        _announce_tls(server.tls, server.url)
    if args.private:  # a key given is masked (stdout ends up in logs); a new one is shown: nowhere else has it
        shown = f"{mask(server.api_key)} (the key given with --api-key)" if args.api_key else server.api_key
        print(f"Private mock: send the header x-api-key: {shown}", flush=True)
    shared = server.mock.shared
    if shared is not None:  # --state: said once, with whether Redis answers now (it may come later)
        _announce_state(shared)
        _announce_adopted(server, collection, args.collection)
    if workers:
        print(f"{args.workers} workers share the port" + (" and the state" if shared is not None else ""),
              flush=True)
        if shared is None and any((m := marker_of(e)) and m[0] == "resource" for e in collection.examples):
            print("Note: each worker keeps its own copy of the resources' records (use --workers 1 for one state)",
                  file=sys.stderr, flush=True)
    print(f"Admin API writes: {writes_state(config)}", flush=True)
    if config.proxy:
        print(f"Requests no example answers go to {config.proxy}"
              + (f"; their answers are recorded in {config.record}" if config.record else ""), flush=True)
    print("Press Ctrl-C to stop.", flush=True)


def _announce_state(shared: SharedState) -> None:
    """``Shared state: redis://… (prefix p)``, and a warning when Redis does not answer yet."""
    # deferred: the serving package is slow to import; postmock --help stays fast
    from postmock_nb.serving.shared.connection import StateUnavailable

    with contextlib.suppress(StateUnavailable):  # said below
        shared.call_sync("state", lambda client: client.ping())
    print(f"Shared state: {shared.shown_url} (prefix {shared.prefix})", flush=True)
    if shared.error is not None:
        print(f"postmock: warning: {shared.error}; requests that need the shared state answer 503 "
              "stateUnavailable until it does", file=sys.stderr, flush=True)


def _announce_adopted(server: MockServer, collection: Collection, path: str) -> None:
    """A warning when the collection stored on Redis (adopted before serving) is not the file's: edited through
    the admin API, or another mock's under the same prefix (two collections of the same name)."""
    served = server.store.collection
    if set(served.examples) == set(collection.examples):
        return
    prefix = server.mock.shared.prefix if server.mock.shared is not None else ""
    print(f"postmock: warning: serving the collection stored on Redis under prefix {prefix!r} "
          f"({plural(len(served.examples), 'example')}: edited through the admin API, or another mock's of the "
          f"same prefix), not the one in {path}; --state-prefix NAME keeps two mocks apart, and "
          f"postmock push {path} --to URL --replace stores the file's for every replica", file=sys.stderr, flush=True)


def _announce_tls(tls: Certificate, url: str) -> None:
    """The https lines of the banner: what the mock serves with, and how clients trust it."""
    print(tls.describe(), flush=True)
    print("Trust it from a client:", flush=True)
    for line in tls.client_lines(url):
        print(f"  {line}", flush=True)


def _worker(fd: int, inherited: tuple[int, ...], parent: AssembledMock, tls: Certificate | None) -> None:
    """A forked worker: serves its listening socket ``fd`` until terminated (with the parent's collection,
    environment, key, bridges and certificate; its log and proxy client are its own). The other processes'
    listening sockets it inherited (``inherited``) it closes: a process that stops takes its socket with it, and
    the kernel sends its share of the connections to the others."""
    import os  # deferred: only a worker closes descriptors here

    from postmock_nb.serving.build import worker_mock  # deferred: slow to import; postmock --help stays fast
    from postmock_nb.serving.server import MockServer

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and terminates us
    for other in inherited:  # only the descriptors: the parent's socket objects, copied, never close in this process
        os.close(other)
    server = MockServer(mock=worker_mock(parent))
    server.serve_inherited(fd, tls)


def _fork_workers(server: MockServer) -> list[BaseProcess]:
    """The worker processes of a server bound with ``bind(workers=N)``, each serving one of its worker listeners."""
    import multiprocessing  # deferred: only postmock serve --workers uses it

    context = multiprocessing.get_context("fork")
    listeners = server.worker_listeners()
    fds = [server.listening_fd(), *(listener.fileno() for listener in listeners)]
    processes: list[BaseProcess] = [
        context.Process(target=_worker, daemon=True,
                        args=(listener.fileno(), tuple(fd for fd in fds if fd != listener.fileno()), server.mock,
                              server.tls))
        for listener in listeners]
    try:
        for process in processes:
            process.start()
    finally:
        for listener in listeners:  # each worker has its copy; a worker that ends closes it for good
            listener.close()
    return processes


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
