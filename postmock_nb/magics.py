"""``%%example`` and ``%mock``: the notebook face of postmock_nb.

The magics only parse, call the :class:`~postmock_nb.session.Session` and show results;
every mistake becomes an IPython ``UsageError`` (a message and a hint, no traceback).
"""

from __future__ import annotations

import argparse
import atexit
import difflib
import json
import shlex
import sys
from typing import Any, Callable, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, Int, Unicode

from .config import MockConfig
from .errors import PostmockError
from .model import reason_phrase
from .session import Session, mask, public_url
from .tables import ExampleTable, LogTable

SUBCOMMANDS = ("start", "stop", "status", "show", "list", "delete", "clear", "log", "save", "load", "key", "call",
               "reset")


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting the kernel."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"%mock {self.prog.split()[-1]}: {message}\nHint: see %mock? for every subcommand")


def _mock_parser() -> _Parser:
    parser = _Parser(prog="mock", add_help=False)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    start = commands.add_parser("start", add_help=False)
    start.add_argument("--port", type=int, default=None)
    start.add_argument("--host", default=None)
    start.add_argument("--private", action="store_true")
    start.add_argument("--api-key", default=None)
    start.add_argument("--no-cors", action="store_true")
    start.add_argument("--match-header", action="append", default=[])
    start.add_argument("--match-body", action="store_true")
    start.add_argument("--delay", type=int, default=0)
    start.add_argument("--no-dashboard", action="store_true")
    for name in ("stop", "status", "show", "clear", "key"):
        commands.add_parser(name, add_help=False)
    commands.add_parser("list", add_help=False).add_argument("--json", action="store_true")
    commands.add_parser("delete", add_help=False).add_argument("name")
    log = commands.add_parser("log", add_help=False)
    log.add_argument("--unmatched", action="store_true")
    log.add_argument("-n", "--limit", type=int, default=20)
    commands.add_parser("save", add_help=False).add_argument("file")
    commands.add_parser("reset", add_help=False).add_argument("name", nargs="?", default=None)
    commands.add_parser("load", add_help=False).add_argument("file")
    call = commands.add_parser("call", add_help=False)
    call.add_argument("method")
    call.add_argument("path")
    call.add_argument("-H", "--header", action="append", default=[])
    call.add_argument("-d", "--data", default=None)
    return parser


def _usage(error: PostmockError) -> UsageError:
    text = f"{error.location}: {error.message}" if error.location else error.message
    return UsageError(text + (f"\nHint: {error.hint}" if error.hint else ""))


@magics_class
class PostmockMagics(Magics):
    """The ``%%example`` and ``%mock`` magics. Settings work with ``%config PostmockMagics.<name> = ...``."""

    default_port = Int(0, help="Port for %mock start when --port is not given (0: a free port).").tag(config=True)
    default_host = Unicode("127.0.0.1", help="Address for %mock start (127.0.0.1: this machine only).").tag(config=True)
    show_dashboard = Bool(True, help="Show the live dashboard on %mock start.").tag(config=True)

    def __init__(self, shell: Any, session: Session) -> None:
        super().__init__(shell=shell)
        self.session = session
        self.current_cell_id: str | None = None
        self._parser = _mock_parser()
        from .prototype import Prototype

        self.cell_runs = 0
        """Cells run so far (each run of a cell counts): tells a re-run from a second handler in the same run."""
        self.prototype = Prototype(session, lambda: (self.current_cell_id, self.cell_runs))
        """``mock`` in the notebook: ``@mock.handler(...)``, ``mock.resource(...)``."""

    # -- %%example -------------------------------------------------------------------------

    @magic_arguments()
    @argument("method", help="HTTP method: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS")
    @argument("path", help="request path, may carry a query and path variables: /users/:id, /users?role=admin")
    @argument("status", nargs="?", default=None, help="response status code (default 200)")
    @argument("-n", "--name", default="", help='example name (default "METHOD PATH STATUS"); '
                                              "what x-mock-response-name selects")
    @argument("-H", "--header", action="append", default=[], help='response header "Name: value" (repeatable)')
    @argument("-R", "--request-header", action="append", default=[],
              help='header the request must carry to match, "Name: value" (repeatable)')
    @argument("-f", "--folder", default="", help="folder to file the example in (Users/Admin for nesting)")
    @argument("--replace", action="store_true", help="overwrite an example of the same name from another cell")
    @no_var_expand  # {{var}} is Postman's syntax, not IPython's {expression}
    @line_cell_magic
    def example(self, line: str, cell: str | None = None) -> None:
        """Define (or redefine) a mock example from this cell.

        ``%example DELETE /users/:id 204`` (the line form) defines an example with no body.

        The cell body is the response: optional header lines, a blank line, then the body.
        Lines starting with ``>`` at the top describe the request the example requires:
        header lines, a lone ``>``, then the request body. Re-running the cell replaces
        the example it defined; a running mock serves the new version at once.

        Example::

            %%example GET /users/:id 404 --name "Get User – Not Found"
            X-Trace: demo

            {"error": "User not found"}
        """
        self._report_server_errors()
        args = self._parse(self.example, line, "%%example")
        try:
            done = self.session.add(
                self._build(args, cell or ""), cell_key=self.current_cell_id, replace=args.replace)
        except PostmockError as error:
            raise _usage(error) from None
        example = done.example
        verb = "Updated" if done.replaced is not None else "Defined"
        concrete = ":" not in example.request.path and "{{" not in example.request.path
        where = ""
        if self.session.running:
            where = f" — served at {self.session.url}{example.request.url}" if concrete else f" — served by {self.session.url}"
        print(f'{verb} example "{example.name}": {example.request.method} {example.request.url} '
              f"→ {example.response.status}{where}")

    def _build(self, args: argparse.Namespace, cell: str) -> Any:
        from .cells import build_definition

        return build_definition(args.method, args.path, args.status, cell, name=args.name or "",
                                headers=args.header, request_headers=args.request_header, folder=args.folder)

    def _parse(self, magic: Callable, line: str, label: str) -> argparse.Namespace:
        try:
            return magic.parser.parse_args(shlex.split(line))
        except UsageError as error:
            raise UsageError(f"{label}: {error}\nHint: see {label}? for the options") from None
        except ValueError as error:  # unbalanced quotes
            raise UsageError(f"{label}: cannot read the line: {error}\nHint: check the quotes") from None

    # -- %mock -----------------------------------------------------------------------------

    @no_var_expand
    @line_magic
    def mock(self, line: str) -> Any:
        """Run and inspect the notebook's mock server.

        Subcommands::

          %mock start [--port N] [--host H] [--private [--api-key KEY]] [--no-cors]
                      [--match-header NAME]... [--match-body] [--delay MS] [--no-dashboard]
                                   start serving; sets mockUrl in the notebook
          %mock stop               stop serving and release the port
          %mock status             URL, private or public, uptime, request and miss counts
          %mock show               show the live dashboard
          %mock list [--json]      the examples, as a table
          %mock delete NAME        delete an example (by name or id)
          %mock clear              delete every example
          %mock log [--unmatched] [-n N]
                                   recent requests, newest first, with why misses missed
          %mock save FILE          export as Postman Collection v2.1
          %mock load FILE          import a Postman collection (merged into this one)
          %mock key                show the private mock's x-api-key
          %mock call METHOD PATH [-H "Name: value"]... [-d DATA]
                                   send a request to the mock and show what came back

        Settings: ``%config PostmockMagics.default_port = 8000``.
        """
        self._report_server_errors()
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise UsageError(f"%mock: cannot read the line: {error}\nHint: check the quotes") from None
        if not words:
            raise UsageError("%mock needs a subcommand\nHint: " + ", ".join(SUBCOMMANDS) + " (see %mock?)")
        if words[0] not in SUBCOMMANDS:
            close = difflib.get_close_matches(words[0], SUBCOMMANDS, n=1)
            hint = f"Did you mean `{close[0]}`?" if close else "see %mock? for the subcommands"
            raise UsageError(f"%mock: unknown subcommand {words[0]!r}\nHint: {hint}")
        args = self._parser.parse_args(words)
        try:
            return getattr(self, f"_mock_{args.command}")(args)
        except PostmockError as error:
            raise _usage(error) from None

    def _mock_start(self, args: argparse.Namespace) -> None:
        server = self.session.start(self._config(args))
        self.shell.user_ns["mockUrl"] = server.url
        count = len(self.session.store.collection.examples)
        print(f"Mock running at {server.url}  ({count} example{'' if count == 1 else 's'})")
        outside = public_url(server.port or 0)
        if outside:
            print(f"From your browser: {outside}")
        if server.private:
            print(f"Private: send the header x-api-key: {mask(server.api_key)}  (%mock key shows it)")
        paths = [e.request.url for e in self.session.store.collection.examples
                 if ":" not in e.request.path and "{{" not in e.request.path]
        print(f'mockUrl is set: requests.get(f"{{mockUrl}}{paths[0] if paths else "/"}")')
        if self.show_dashboard and not args.no_dashboard:
            self._mock_show(args)

    def _config(self, args: argparse.Namespace) -> MockConfig:
        """The mock's settings from ``%mock start``'s options and ``%config PostmockMagics`` (checked by MockConfig)."""
        return self.session.config.updated(
            host=args.host or self.default_host, port=self.default_port if args.port is None else args.port,
            private=args.private, api_key=args.api_key, cors=not args.no_cors,
            match_headers=tuple(args.match_header), match_body=args.match_body, delay_ms=args.delay)

    def _mock_stop(self, args: argparse.Namespace) -> None:
        if not self.session.stop():
            print("The mock is not running.")
            return
        self.shell.user_ns.pop("mockUrl", None)
        print("Mock stopped.")

    def _mock_status(self, args: argparse.Namespace) -> None:
        info = self.session.status()
        if not info["running"]:
            print(f"The mock is stopped. {info['examples']} examples defined. Start it with %mock start.")
            return
        print(f"Running at {info['url']}" + (f"  (browser: {info['public_url']})" if info.get("public_url") else ""))
        print(f"{'private' if info['private'] else 'public'}, up {info['uptime_s']} s, {info['examples']} examples, "
              f"{info['requests']} requests, {info['misses']} misses, {info['errors']} errors")

    def _mock_show(self, args: argparse.Namespace) -> None:
        from .widgets import show_dashboard

        show_dashboard(self.session)

    def _mock_list(self, args: argparse.Namespace) -> Any:
        hits = self.session.server.log.hits if self.session.server is not None else {}
        table = ExampleTable.of(self.session.store.collection, hits, self.session.behaviours)
        if args.json:
            print(json.dumps(table.rows, indent=2, ensure_ascii=False))
            return None
        return table

    def _mock_delete(self, args: argparse.Namespace) -> None:
        deleted = self.session.delete(args.name)
        if not deleted:
            names = [e.name for e in self.session.store.collection.examples]
            close = difflib.get_close_matches(args.name, names, n=1)
            hint = f'Did you mean "{close[0]}"?' if close else "%mock list shows the examples"
            raise UsageError(f"%mock delete: no example named {args.name!r}\nHint: {hint}")
        print("Deleted " + ", ".join(f'"{e.name}"' for e in deleted) + ".")

    def _mock_clear(self, args: argparse.Namespace) -> None:
        print(f"Deleted all {self.session.clear()} examples.")

    def _mock_log(self, args: argparse.Namespace) -> Any:
        server = self.session.server
        if server is None:
            raise UsageError("%mock log: the mock has not been started\nHint: %mock start")
        return LogTable(server.log.recent(args.limit, unmatched=args.unmatched), unmatched=args.unmatched)

    def _mock_save(self, args: argparse.Namespace) -> None:
        path = self.session.save(args.file)
        print(f"Saved {len(self.session.store.collection.examples)} examples to {path} (Postman Collection v2.1).")
        for warning in self.session.save_warnings:
            print(f"Warning: {warning}", file=sys.stderr)

    def _mock_load(self, args: argparse.Namespace) -> None:
        report = self.session.load(args.file)
        print(report.describe())
        for resource in self.session.behaviours.resources:
            print(f"Resource {resource.name!r}: {len(resource)} records at {resource.path} "
                  f"(mock.resources[{resource.name!r}])")

    def _mock_reset(self, args: argparse.Namespace) -> None:
        from .prototype import Prototype

        done = Prototype(self.session).reset(args.name)
        if not done:
            print("No resources to reset.")
        for resource in done:
            print(f"Resource {resource.name!r} reset to its {len(resource)} seed records.")

    # -- %%resource ----------------------------------------------------------------------------

    @magic_arguments()
    @argument("name", help="the resource's name; also the notebook variable holding its live records")
    @argument("--id", default="id", help="the id field of its records (default id)")
    @argument("--path", default="", help="where it is served (default /NAME)")
    @no_var_expand
    @cell_magic
    def resource(self, line: str, cell: str) -> None:
        """Serve a JSON array as a stateful CRUD resource (GET list/one, POST, PUT, PATCH, DELETE).

        Example::

            %%resource users --id id
            [{"id": 1, "name": "Alice Park"}, {"id": 2, "name": "Ben Carter"}]
        """
        from .cells import check_json

        args = self._parse(self.resource, line, "%%resource")
        try:
            if cell.strip():
                check_json(cell, 1, "the resource", declared=True)
            resource = self.prototype.resource(args.name, json.loads(cell) if cell.strip() else [],
                                               id=args.id, path=args.path)
        except PostmockError as error:
            raise _usage(error) from None
        if args.name.isidentifier():
            self.shell.user_ns[args.name] = resource
        print(f"Resource {resource.name!r}: {len(resource)} records at {resource.path} "
              f"(GET, POST {resource.path}; GET, PUT, PATCH, DELETE {resource.path}/:{resource.id_field})"
              + (f" — the live records are in `{args.name}`" if args.name.isidentifier() else ""))

    def _mock_key(self, args: argparse.Namespace) -> str | None:
        server = self.session.server
        if server is None or not server.running:
            raise UsageError("%mock key: the mock is not running\nHint: %mock start --private")
        if not server.private:
            print("This mock is public: it needs no key. Start it with --private to require one.")
            return None
        return server.api_key  # shown as the cell's result; `key = %mock key` keeps it

    def _mock_call(self, args: argparse.Namespace) -> None:
        from .cells import parse_header

        headers = dict(parse_header(h, "-H option") for h in args.header)
        response = self.session.call(args.method, args.path, headers, args.data)
        example = response.headers.get("x-mock-example-name")
        reason = response.reason or reason_phrase(response.status_code)
        print(f"{response.status_code} {reason}" + (f'  ← example "{example}"' if example else "  (no example matched)"))
        for key, value in response.headers.items():
            print(f"{key}: {value}")
        print()
        try:
            print(json.dumps(response.json(), indent=2, ensure_ascii=False))
        except ValueError:
            print(response.text)

    # -- errors from the server thread --------------------------------------------------------

    def _report_server_errors(self) -> None:
        for error in self.session.new_errors():
            print(f"postmock: the mock server reported an error:\n{error}", file=sys.stderr)


def load_ipython_extension(ipython: Any) -> None:
    session = Session()
    magics = PostmockMagics(ipython, session)
    ipython.register_magics(magics)
    ipython.configurables.append(magics)

    def remember_cell(info: Any) -> None:
        magics.current_cell_id = getattr(info, "cell_id", None)
        magics.cell_runs += 1

    ipython.events.register("pre_run_cell", remember_cell)
    if "mock" not in ipython.user_ns:  # unittest.mock or the person's own: kept; prototype_of(ipython) then
        ipython.user_ns["mock"] = magics.prototype
    atexit.register(session.close)
    ipython._postmock = (session, magics, remember_cell)


def unload_ipython_extension(ipython: Any) -> None:
    state = getattr(ipython, "_postmock", None)
    if state is None:
        return
    session, magics, remember_cell = state
    session.close()
    atexit.unregister(session.close)
    try:
        ipython.events.unregister("pre_run_cell", remember_cell)
    except ValueError:
        pass
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
    ipython.user_ns.pop("mockUrl", None)
    if ipython.user_ns.get("mock") is magics.prototype:
        ipython.user_ns.pop("mock")
    del ipython._postmock


def prototype_of(ipython: Any) -> Any:
    """The ``mock`` object (handlers, resources) of the kernel's session."""
    state = getattr(ipython, "_postmock", None)
    if state is None:
        raise UsageError("postmock_nb is not loaded\nHint: %load_ext postmock_nb")
    return state[1].prototype
