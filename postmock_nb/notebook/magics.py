"""``%%example`` and ``%mock``: the notebook face of postmock_nb.

The magics only parse, call the :class:`~postmock_nb.session.Session` and show results;
every mistake becomes an IPython ``UsageError`` (a message and a hint, no traceback).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import difflib
import json
import shlex
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, Int, Unicode

from postmock_nb.answers.websocket import parse_script
from postmock_nb.behaviours.dispatch import ExportWarning
from postmock_nb.behaviours.flows import flow_markers
from postmock_nb.behaviours.resources import DEFAULT_MAX_BYTES, DEFAULT_MAX_RECORDS
from postmock_nb.config import LOAD, START, MockConfig, add_check_options, add_options, config_options
from postmock_nb.core import limits
from postmock_nb.core.markers import EXAMPLE_NAME_HEADER, sse_markers, websocket_markers
from postmock_nb.core.masking import mask
from postmock_nb.core.model import reason_phrase
from postmock_nb.core.text import listed, plural
from postmock_nb.core.wire import collection_changes, shorten
from postmock_nb.errors import PostmockError
from postmock_nb.formats.cells import build_definition, check_json, parse_header
from postmock_nb.formats.environment import Environment, layered, load_environment
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.notebook.tables import CheckTable, EntryDetail, ExampleTable, LogTable
from postmock_nb.notebook.trust import KernelTrust
from postmock_nb.serving.browser_address import browser_address
from postmock_nb.serving.journal import Journal
from postmock_nb.serving.shared.connection import StateUnavailable
from postmock_nb.session import Session

STATUS_ERRORS = 5
"""How many of the latest server errors ``%mock status`` shows (one line each)."""
SUBCOMMANDS = ("start", "stop", "status", "show", "list", "delete", "clear", "log", "save", "load", "key", "call",
               "environment", "proxy", "reset", "verify", "broadcast", "webhook", "check")


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting the kernel."""

    def error(self, message: str) -> NoReturn:
        name = self.prog.split()[-1]  # "mock" for %mock itself: its leftovers are reported as %mock's
        raise usage_error(f"%mock{'' if name == 'mock' else ' ' + name}: {message}", "see %mock? for every subcommand")


def _start_options(start: argparse.ArgumentParser) -> None:
    """``%mock start``'s options: the options table's (postmock_nb.config.OPTIONS), and ``--help``."""
    start.add_argument("-h", "--help", action="store_true", help="show these options")
    add_options(start, START, {"host": None, "port": None, "server": None})  # None: %config PostmockMagics' default


def start_help() -> str:
    """What ``%mock start --help`` shows."""
    parser = _Parser(prog="%mock start", add_help=False,
                     description="Start serving the notebook's examples; sets mockUrl in the notebook.")
    _start_options(parser)
    return parser.format_help()


def _mock_parser() -> _Parser:
    parser = _Parser(prog="mock", add_help=False)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    _start_options(commands.add_parser("start", add_help=False))
    for name in ("stop", "status", "show", "clear", "key"):
        commands.add_parser(name, add_help=False)
    commands.add_parser("list", add_help=False).add_argument("--json", action="store_true")
    commands.add_parser("delete", add_help=False).add_argument("name")
    log = commands.add_parser("log", add_help=False)
    log.add_argument("--unmatched", action="store_true")
    log.add_argument("-n", "--limit", type=int, default=20)
    log.add_argument("--detail", type=int, nargs="?", const=0, default=None, metavar="N")  # 0: the newest row
    save = commands.add_parser("save", add_help=False)
    save.add_argument("file", nargs="?", default=None)
    save.add_argument("--environment", default=None)  # a Postman environment with mockUrl
    save.add_argument("--openapi", action="store_true")  # an OpenAPI 3.1 document instead of a Postman collection
    commands.add_parser("reset", add_help=False).add_argument("name", nargs="?", default=None)
    load = commands.add_parser("load", add_help=False)
    load.add_argument("file")
    add_options(load, LOAD)  # --examples: postmock_nb.config.OPTIONS
    call = commands.add_parser("call", add_help=False)
    call.add_argument("method")
    call.add_argument("path")
    call.add_argument("-H", "--header", action="append", default=[])
    call.add_argument("-d", "--data", default=None)
    call.add_argument("--save", default=None)  # save the answer as an example of this name
    call.add_argument("--base", default="")  # the base URL the saved path is relative to
    call.add_argument("--as", dest="as_path", default="")  # the path to file it under (/users/:id)
    call.add_argument("--keep-secrets", action="store_true")
    environment = commands.add_parser("environment", add_help=False)
    environment.add_argument("file", nargs="?", default=None)
    environment.add_argument("--clear", action="store_true")
    proxy = commands.add_parser("proxy", add_help=False)
    proxy.add_argument("url", nargs="?", default=None)
    proxy.add_argument("--record", default=None)
    proxy.add_argument("--off", action="store_true")
    _verify_options(commands.add_parser("verify", add_help=False))
    check_parser = commands.add_parser("check", add_help=False)
    check_parser.add_argument("url")
    add_check_options(check_parser)  # postmock check's options (postmock_nb.config)
    webhook = commands.add_parser("webhook", add_help=False)
    webhook.add_argument("name", nargs="?", default=None)
    webhook.add_argument("url", nargs="?", default=None)
    return parser


def _verify_options(verify: argparse.ArgumentParser) -> None:
    """``%mock verify [METHOD] PATH [--times N | --at-least N --at-most N] [--json J | --body B] [--header K:V]...
    [--query K=V]... [--contains]``."""
    verify.add_argument("words", nargs="+", metavar="METHOD PATH")
    verify.add_argument("--times", type=int, default=None)
    verify.add_argument("--at-least", type=int, default=None)
    verify.add_argument("--at-most", type=int, default=None)
    verify.add_argument("--json", default=None)
    verify.add_argument("--body", default=None)
    verify.add_argument("-H", "--header", action="append", default=[])
    verify.add_argument("-q", "--query", action="append", default=[])
    verify.add_argument("--contains", action="store_true")


def _shown_body(response: Any, *, matched: bool) -> str:
    """A response body as ``%mock call`` shows it: JSON indented; a miss's diagnosis as ``%mock log`` shows it."""
    try:
        body = response.json()
    except ValueError:
        return str(response.text)
    diagnosis = body.get("diagnosis") if isinstance(body, dict) and not matched else None
    if isinstance(diagnosis, dict) and isinstance(diagnosis.get("text"), str):
        error = body.get("error")
        said = f"{error.get('header', '')}: {error.get('message', '')}\n\n" if isinstance(error, dict) else ""
        return said + str(diagnosis["text"])
    return json.dumps(body, indent=2, ensure_ascii=False)


_SAVED_AS = (("described placeholder", ("a described placeholder (426 over HTTP)",
                                        "described placeholders (426 over HTTP)")),
             ("most recent response", ("a static example of its most recent response",
                                       "static examples of their most recent responses")),
             ("", ("a static example of its sample", "static examples of their samples")))
"""How ``%mock save`` kept a handler (a word of its warning → the summary's words, for one and for several),
the last one the default."""


def _save_warning(warnings: list[str]) -> str:
    """One line for what ``%mock save`` could not keep: the one warning, or the handlers named together."""
    if len(warnings) <= 1:
        return warnings[0] if warnings else ""
    groups: dict[tuple[str, str], list[str]] = {}  # how each was saved → the handlers saved so
    for warning in warnings:
        name = repr(warning.handler) if isinstance(warning, ExportWarning) else warning
        how = next(how for word, how in _SAVED_AS if word in warning)
        groups.setdefault(how, []).append(name)
    said = "; ".join(f"{', '.join(names)} saved as {how[len(names) > 1]}" for how, names in groups.items())
    return f"{plural(len(warnings), 'handler')} cannot run in Postman: {said}"


def _print_generated(spec: Any) -> None:
    """``%mock load FILE --examples generate``: which examples are served as a value generated from the schema."""
    print(f"--examples generate: {plural(len(spec.replaced), 'example')} replaced by a value generated from the "
          "schema (the example breaks it)" + (":" if spec.replaced else ""))
    for line in listed(spec.replaced, " (`postmock validate FILE` lists each)"):
        print(f"  {line}")
    if spec.kept:
        print(f"Warning: {plural(len(spec.kept), 'example')} served as written though breaking the schema: no value "
              "generated from it conforms either:")
        for line in listed(spec.kept, " (`postmock validate FILE` lists each)"):
            print(f"  {line}")


def usage_error(message: str, hint: str = "") -> UsageError:
    """The one shape of every mistake the magics report: what was wrong, then a hint line (no traceback)."""
    return UsageError(message + (f"\nHint: {hint}" if hint else ""))


class MaskedKey(str):
    """The private mock's key: a plain ``str`` for code, shown masked as a cell result (saved notebooks too)."""

    def __repr__(self) -> str:
        return repr(mask(str(self)))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) + "  (masked: print() it to see it whole)")


def _usage(error: PostmockError) -> UsageError:
    return usage_error(f"{error.location}: {error.message}" if error.location else error.message, error.hint)


@magics_class
class PostmockMagics(Magics):
    """The ``%%example`` and ``%mock`` magics. Settings work with ``%config PostmockMagics.<name> = ...``."""

    default_port = Int(0, help="Port for %mock start when --port is not given (0: a free port).").tag(config=True)
    default_host = Unicode("127.0.0.1", help="Address for %mock start (127.0.0.1: this machine only).").tag(config=True)
    default_server = Unicode("hypercorn", help="Server for %mock start when --server is not given "
                                               "(hypercorn, uvicorn or granian).").tag(config=True)
    show_dashboard = Bool(True, help="Show the live dashboard on %mock start.").tag(config=True)

    def __init__(self, shell: Any, session: Session) -> None:
        super().__init__(shell=shell)
        self.session = session
        """This shell's session: the magics own it (``session_of(get_ipython())`` finds it)."""
        self.current_cell_id: str | None = None
        self.loaded = False
        self._parser = _mock_parser()
        self.cell_runs = 0
        """Cells run so far (each run of a cell counts): tells a re-run from a second handler in the same run."""
        self.prototype = Prototype(session, lambda: (self.current_cell_id, self.cell_runs))
        """``mock`` in the notebook: ``@mock.handler(...)``, ``mock.resource(...)``."""
        self.kernel_trust = KernelTrust()
        """``requests`` in the kernel trusts an https mock while it runs (restored when it stops)."""
        session.subscribe(self.kernel_trust)

    @property
    def user_ns(self) -> dict[str, Any]:
        """The notebook's namespace (where ``mockUrl`` is set)."""
        assert self.shell is not None, "the magics are registered with a shell"
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    def remember_cell(self, info: Any) -> None:
        """``pre_run_cell``: which cell runs, so that re-running a cell replaces the example it defined."""
        self.current_cell_id = getattr(info, "cell_id", None)
        self.cell_runs += 1

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
    @argument("--sequence", default="", help="cycle, stick or random[;seed=N]: this item's marked examples "
                                             "answer in turn (marker x-mock-sequence)")
    @argument("--scenario", default="", help="scenario name: with --requires STATE and/or --next STATE "
                                             "(marker x-mock-scenario; every scenario starts in Started)")
    @argument("--requires", default="", help="the scenario state this example answers in")
    @argument("--next", default="", help="the scenario state this example moves to when it answers")
    @argument("--delay", default="", help="this example's delay in ms: 800, or a range 200-900 (marker x-mock-delay)")
    @argument("--fault", default="", help="answer with a fault: reset, close, timeout, malformed, truncate, slow "
                                          "(marker x-mock-fault)")
    @argument("--sse", action="store_true", help="the body is a Server-Sent Events stream (SSE lines, or a JSON "
                                                  "array: one data event per item), sent one event at a time "
                                                  "(marker x-mock-sse)")
    @argument("--interval", default="", help="with --sse: ms between two events (default 0; marker x-mock-interval)")
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
            url = self.session.url
            where = f" — served at {url}{example.request.url}" if concrete else f" — served by {url}"
        print(f'{verb} example "{example.name}": {example.request.method} {example.request.url} '
              f"→ {example.response.status}{where}")

    # -- %%websocket -----------------------------------------------------------------------

    @magic_arguments()
    @argument("path", help="the path a WebSocket upgrade must ask for, may carry a query and path variables: /ws/:room")
    @argument("--interval", default="",
              help="ms the mock waits after each '<' message (default 0; marker x-mock-interval)")
    @argument("--repeat", action="store_true", help="play the script again and again until the client leaves "
                                                     "(marker x-mock-repeat)")
    @argument("--timeout", default="", help="seconds a '>' step waits for a matching message before closing "
                                            "with 1008 (default 10; marker x-mock-timeout)")
    @argument("-R", "--request-header", action="append", default=[],
              help='header the upgrade request must carry to match, "Name: value" (repeatable)')
    @argument("-n", "--name", default="", help='example name (default "WS PATH")')
    @argument("-f", "--folder", default="", help="folder to file the script in")
    @argument("--replace", action="store_true", help="overwrite a script of the same name from another cell")
    @no_var_expand  # {{var}} is Postman's syntax, not IPython's {expression}
    @cell_magic
    def websocket(self, line: str, cell: str) -> None:
        """Define a WebSocket script: what the mock sends and what it waits for, one line each.

        ``< MESSAGE``: the mock sends it (then waits --interval ms); ``> MESSAGE``: the mock waits for the
        client to send a matching one (JSON compared as JSON, ``{{$any}}`` accepts any value; a message that
        does not match is a near miss in the log, and none in --timeout seconds, 10 by default, closes the
        socket with 1008). Blank lines and ``#`` comments are skipped. ``--repeat`` plays the script again until
        the client leaves; without it the socket stays open after the last step (the mock stopping: 1001).
        ``-R "Name: value"``: the upgrade must carry that header (like ``%%example -R``). An upgrade no script
        or socket handler matches is refused with 501. Saved as an example (``GET PATH``, markers
        ``x-mock-websocket``) that Postman serves as text.

        Example::

            %%websocket /ws/prices --interval 500 --repeat
            < {"symbol": "ACME", "price": {{$randomInt}}}
        """
        self._report_server_errors()
        args = self._parse(self.websocket, line, "%%websocket")
        try:
            steps = parse_script(cell)
            markers = websocket_markers(interval=args.interval, repeat=args.repeat, timeout=args.timeout)
            definition = build_definition("GET", args.path, "200", cell, name=args.name or f"WS {args.path}",
                                          headers=["Content-Type: text/plain; charset=utf-8"],
                                          request_headers=args.request_header + markers, folder=args.folder)
            done = self.session.add(definition, cell_key=self.current_cell_id, replace=args.replace)
        except PostmockError as error:
            raise _usage(error) from None
        example = done.example
        verb = "Updated" if done.replaced is not None else "Defined"
        sent = sum(1 for step in steps if step.kind == "<")
        kind = "conversation" if sent != len(steps) else "stream"
        where = f" — served at {self.session.url.replace('http', 'ws', 1)}{example.request.url}" \
            if self.session.running else ""
        print(f'{verb} WebSocket {kind} "{example.name}": {example.request.url}, '
              f"{plural(sent, 'message')} out, {plural(len(steps) - sent, 'expected message')}{where}")

    def _build(self, args: argparse.Namespace, cell: str) -> Any:
        markers = flow_markers(sequence=args.sequence, scenario=args.scenario, requires=args.requires,
                               next_state=args.next, delay=args.delay, fault=args.fault)
        markers += sse_markers(sse=args.sse, interval=args.interval)
        return build_definition(args.method, args.path, args.status, cell, name=args.name or "",
                                headers=args.header, request_headers=args.request_header + markers,
                                folder=args.folder)

    def _parse(self, magic: Callable[..., Any], line: str, label: str) -> argparse.Namespace:
        parser: argparse.ArgumentParser = magic.parser  # type: ignore[attr-defined]  # set by @magic_arguments
        try:
            return parser.parse_args(shlex.split(line))
        except UsageError as error:
            raise usage_error(f"{label}: {error}", f"see {label}? for the options") from None
        except ValueError as error:  # unbalanced quotes
            raise usage_error(f"{label}: cannot read the line: {error}", "check the quotes") from None

    # -- %mock -----------------------------------------------------------------------------

    @no_var_expand
    @line_magic
    def mock(self, line: str) -> Any:
        """Run and inspect the notebook's mock server.

        Subcommands::

          %mock start [--port N] [--host H] [--private [--api-key KEY]] [--no-cors]
                      [--match-header NAME]... [--match-body | --match-body-contains] [--delay MS|2G|3G]
                      [--callback-allow HOST]...
                      [--no-dashboard]
                      [--chaos SHARE [--chaos-seed N] [--chaos-with 503|FAULT|NAME]]
                      [--validate-requests] [--dynamic [--seed N]] [--environment ENV.json]
                      [--proxy URL [--record FILE]]
                      [--server hypercorn|uvicorn|granian]
                      [--state redis://HOST:PORT/DB [--state-prefix NAME]] [--admin-key KEY]
                      [--tls | --tls-cert FILE --tls-key FILE]
                                   start serving; sets mockUrl in the notebook (--state: shared on
                                   Redis with every process naming that URL; --tls: https)
          %mock stop               stop serving and release the port
          %mock status             URL, private or public, uptime, request and miss counts,
                                   the shared state (--state) and whether the admin API's writes are on
          %mock show               show the live dashboard
          %mock list [--json]      the examples, as a table
          %mock delete NAME        delete an example (by name or id)
          %mock clear              delete every example
          %mock reset [NAME]       resources back to their seeds, scenarios to Started (or the one named)
          %mock log [--unmatched] [-n N]
                                   recent requests, newest first, with why misses missed
          %mock log --detail [N]   request #N in full (the newest without N): a WebSocket
                                   connection's transcript, a callback's request and answer
          %mock save FILE          export as Postman Collection v2.1
          %mock save FILE --openapi
                                   export as OpenAPI 3.1 (YAML for .yaml/.yml, else JSON)
          %mock save --environment ENV.json
                                   write a Postman environment with mockUrl/baseUrl = this mock
          %mock load FILE [--examples generate]
                                   import a Postman collection, an OpenAPI 3.0/3.1 or Swagger 2.0
                                   document (JSON or YAML), merged into this one; --examples generate: a
                                   value generated from the schema for each example that breaks it
          %mock proxy URL [--record FILE] | --off
                                   forward requests no example answers to URL (a running mock);
                                   --record saves each answer as an example (here and in FILE)
          %mock environment FILE | --clear
                                   resolve {{vars}} with a Postman environment's values
          %mock key                show the private mock's x-api-key
          %mock call METHOD PATH [-H "Name: value"]... [-d DATA]
                                   send a request to the mock and show what came back
          %mock call METHOD URL ... [--save NAME [--base URL] [--as /users/:id] [--keep-secrets]]
                                   send it to any URL (the real API); --save files the answer as an
                                   example (cleaned: no Date/Server/length headers, no secrets)
          %mock webhook [NAME URL] send the loaded OpenAPI 3.1 document's webhook NAME to URL now, from the
                                   mock (loopback and --callback-allow hosts; a row of %mock log);
                                   without arguments: list the webhooks
          %mock verify POST /users [--times N | --at-least N --at-most N] [--json '{"name": "Ann"}' | --body TEXT]
                      [--header K:V]... [--query K=V]... [--contains]
                                   check the mock received that request as often as expected (none
                                   given: at least once); a failure lists the closest requests received
          %mock check URL [--unsafe] [--strict] [--junit FILE] [--header "Name: value"]...
                      [--environment FILE] [--timeout S]
                                   send every example's request to the real API at URL (GET, HEAD
                                   and OPTIONS; --unsafe: all) and show where its answers differ from
                                   the examples: status, content type, JSON body (a table)
          %mock broadcast ROUTE MESSAGE
                                   send MESSAGE (the rest of the line, as it is: JSON or text) to every
                                   client connected to the WebSocket ROUTE (/ws/chat)

        Settings: ``%config PostmockMagics.default_port = 8000``.
        """
        self._report_server_errors()
        if line.split(None, 1)[:1] == ["broadcast"]:  # the message is the rest of the line, quotes and all
            return self._mock_broadcast(line.split(None, 2)[1:])
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise usage_error(f"%mock: cannot read the line: {error}", "check the quotes") from None
        if not words:
            raise usage_error("%mock needs a subcommand", ", ".join(SUBCOMMANDS) + " (see %mock?)")
        if words[0] not in SUBCOMMANDS:
            close = difflib.get_close_matches(words[0], SUBCOMMANDS, n=1)
            hint = f"Did you mean `{close[0]}`?" if close else "see %mock? for the subcommands"
            raise usage_error(f"%mock: unknown subcommand {words[0]!r}", hint)
        args = self._parser.parse_args(words)
        try:
            return getattr(self, f"_mock_{args.command}")(args)
        except PostmockError as error:  # StateUnavailable too (--state: Redis out of reach), with its hint
            raise _usage(error) from None

    def _mock_start(self, args: argparse.Namespace) -> None:
        if args.help:  # %mock start --help: the options, from the one options table
            print(start_help())
            return
        config = self._config(args)
        if args.environment:  # checked before anything starts: a bad file changes nothing
            self.session.use_environment(args.environment)
        running = self.session.server if self.session.running else None
        if running is not None and running.config.same_as(config, bound_port=running.port,
                                                            any_key=args.api_key is None):
            # Run All a second time in one kernel: the mock it started is what this cell asks for
            server = running
            print(f"The mock already runs with these settings: kept it ({server.url}).")
        else:
            server = self.session.start(config)
        self.user_ns["mockUrl"] = server.url
        count = len(self.session.store.collection.examples)
        print(f"Mock running at {server.url}  ({plural(count, 'example')})")
        if server.tls is not None:
            self.kernel_trust.trust(server.tls)
            print(f"{server.tls.describe()}\n`requests` in this notebook trusts it while the mock runs "
                  f"(REQUESTS_CA_BUNDLE); elsewhere: verify={server.tls.trust_file!r}")
        if server.exposure_warning:
            print(server.exposure_warning)
        outside = browser_address(server.port or 0)
        if outside:
            print(f"From your browser: {outside.url}" + (f"  ({outside.note})" if outside.note else ""))
        if server.private:
            print(f"Private: send the header x-api-key: {mask(server.api_key)}  (%mock key shows it)")
        paths = [e.request.url for e in self.session.store.collection.examples
                 if ":" not in e.request.path and "{{" not in e.request.path]
        print(f'mockUrl is set: requests.get(f"{{mockUrl}}{paths[0] if paths else "/"}")')
        if self.show_dashboard and args.dashboard:
            self._mock_show(args)

    def _config(self, args: argparse.Namespace) -> MockConfig:
        """The mock's settings from ``%mock start``'s options and ``%config PostmockMagics`` (checked by MockConfig)."""
        options = config_options(START, args)
        return self.session.config.updated(**options | {
            "host": options["host"] or self.default_host, "server": options["server"] or self.default_server,
            "port": self.default_port if options["port"] is None else options["port"]})

    def _mock_stop(self, args: argparse.Namespace) -> None:
        if not self.session.stop():
            print("The mock is not running.")
            return
        self.user_ns.pop("mockUrl", None)
        print("Mock stopped.")

    def _mock_status(self, args: argparse.Namespace) -> None:
        info = self.session.status()
        if not info["running"]:
            print(f"The mock is stopped. {plural(info['examples'], 'example')} defined. Start it with %mock start.")
            return
        print(f"Running at {info['url']}" + (f"  (browser: {info['public_url']})" if info.get("public_url") else ""))
        if self.session.server is not None and self.session.server.tls is not None:
            print(self.session.server.tls.describe())
        print(_summary_line(info))
        if info.get("admin_writes"):
            print(f"Admin API writes: {info['admin_writes']}")
        if info.get("chaos"):
            print(info["chaos"])
        if info.get("websockets"):
            sockets = info["websockets"]
            print(f"WebSocket connections open: {sum(sockets.values())} ("
                  + ", ".join(f"{route}: {count}" for route, count in sorted(sockets.items())) + ")")
        state = info.get("state")
        if state is not None:  # --state
            print(f"Shared state: {state['url']} (prefix {state['prefix']}), "
                  + ("available" if state["available"] else f"UNAVAILABLE: {state.get('error')}"))
        if info.get("scenarios"):
            print("Scenarios: " + ", ".join(f"{name} = {state}" for name, state in info["scenarios"].items()))
        if info.get("scenarios_unavailable"):
            print(f"Scenarios: {info['scenarios_unavailable']}")
        for warning in info.get("handler_warnings", []):
            print(f"Warning: {warning}")
        server = self.session.server
        recent = list(server.errors)[-STATUS_ERRORS:] if server is not None else []
        if recent:
            print(f"Latest server error{'s' if len(recent) > 1 else ''} (newest last):")
            for error in recent:
                lines = error.strip().splitlines()
                print(f"  {lines[-1][:200] if lines else ''}")

    def _mock_show(self, args: argparse.Namespace) -> None:
        from postmock_nb.notebook.widgets import show_dashboard  # deferred: ipywidgets is slow to import

        show_dashboard(self.session)

    def _mock_list(self, args: argparse.Namespace) -> Any:
        hits = self.session.server.log.hit_counts() if self.session.server is not None else {}
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
            raise usage_error(f"%mock delete: no example named {args.name!r}", hint)
        print("Deleted " + ", ".join(f'"{e.name}"' for e in deleted) + ".")

    def _mock_clear(self, args: argparse.Namespace) -> None:
        resources = sorted(r.name for r in self.session.behaviours.resources)
        count = self.session.clear()
        gone = f", and with them {plural(len(resources), 'resource')} ({', '.join(resources)})" if resources else ""
        print(f"Deleted {'all ' if count > 1 else ''}{plural(count, 'example')}{gone}.")

    def _mock_log(self, args: argparse.Namespace) -> Any:
        server = self.session.server
        if server is None:
            raise usage_error("%mock log: the mock has not been started", "%mock start")
        try:
            if args.detail is not None:
                return self._log_detail(server.log, args.detail)
            entries = server.log.recent(args.limit, unmatched=args.unmatched)
        except StateUnavailable as problem:  # --state: the shared journal's Redis is out of reach
            raise usage_error(f"%mock log: {problem}", "start Redis again: the mock writes what it kept meanwhile"
                              " (%mock status shows the journal's queue)") from None
        return LogTable(entries, unmatched=args.unmatched)

    @staticmethod
    def _log_detail(journal: Journal, seq: int) -> EntryDetail:
        """``%mock log --detail N``: row N in full; 0, the newest."""
        entry = journal.find(seq) if seq else next(iter(journal.recent(1)), None)
        if entry is None:
            raise usage_error(f"%mock log --detail: no request #{seq} in the log" if seq else
                              "%mock log --detail: no requests yet", "%mock log lists the rows kept, numbered (#)")
        return EntryDetail(entry)

    def _mock_save(self, args: argparse.Namespace) -> None:
        if args.file is None and args.environment is None:
            raise UsageError("%mock save: the following arguments are required: file (or --environment FILE)"
                             "\nHint: %mock save collection.json")
        if args.file is not None:
            try:
                path = self.session.save(args.file, openapi=args.openapi)
            except OSError as error:  # a missing or read-only folder, a directory, a device such as /dev/null
                raise UsageError(f"%mock save: cannot write {args.file}: {error.strerror or error}"
                                 "\nHint: %mock save a file in a folder you can write to") from None
            count = len(self.session.store.collection.examples)
            kind = "OpenAPI 3.1" if args.openapi else "Postman Collection v2.1"
            print(f"Saved {plural(count, 'example')} to {path} ({kind}).")
            warning = _save_warning(self.session.save_warnings)
            if warning:
                print(f"Warning: {warning}", file=sys.stderr)
            for left_out in self.session.export_warnings:
                print(f"Warning: {left_out}", file=sys.stderr)
        if args.environment is not None:
            env_path = self.session.save_environment(args.environment)
            print(f"Saved a Postman environment with mockUrl and baseUrl = {self.session.url} to {env_path}.")

    def _mock_proxy(self, args: argparse.Namespace) -> None:
        """``%mock proxy URL [--record FILE]`` / ``--off``."""
        if args.off or args.url is None:
            if not args.off:
                raise UsageError("%mock proxy: give a URL, or --off\nHint: %mock proxy https://api.example.com")
            self.session.set_proxy(None)
            print("Not proxying: requests no example answers get 404.")
            return
        self.session.set_proxy(args.url, args.record)
        print(f"Requests no example answers go to {args.url}"
              + (f"; each answer becomes an example (saved in {args.record})" if args.record else "") + ".")

    def _mock_environment(self, args: argparse.Namespace) -> None:
        """``%mock environment FILE`` / ``--clear``."""
        if args.clear or args.file is None:
            if args.file is None and not args.clear:
                raise UsageError("%mock environment: give a FILE, or --clear\nHint: %mock environment staging.json")
            self.session.use_environment(None)
            print("No environment: {{vars}} resolve from collection variables only.")
            return
        environment = self.session.use_environment(args.file)
        names = ", ".join(k for k, _ in environment.values) or "no enabled values"
        print(f'Using environment "{environment.name}": {names}')

    def _mock_load(self, args: argparse.Namespace) -> None:
        specs_before = len(self.session.specs)
        report = self.session.load(args.file, examples=args.examples)
        print(report.describe())
        for spec in self.session.specs[specs_before:]:
            for warning in spec.warnings:
                print(f"Warning: {warning}")
            if spec.example_check is not None:
                _print_generated(spec)
            if spec.webhooks:
                print(f"{plural(len(spec.webhooks), 'webhook')}: {', '.join(spec.webhooks)} "
                      "(send one with %mock webhook NAME URL)")
        loaded = set(report.added_ids) | set(report.replaced_ids)
        changes = collection_changes([e for e in self.session.store.collection.examples if e.id in loaded])
        if changes:
            print(f"{plural(len(changes), 'part')} of these examples cannot go on the wire "
                  "as saved; the mock changes them:")
            for change in changes:
                print(f"  {change.describe()}")
        for resource in self.session.behaviours.resources:
            print(f"Resource {resource.name!r}: {plural(len(resource), 'record')} at {resource.path} "
                  f"(mock.resources[{resource.name!r}])")

    def _mock_webhook(self, args: argparse.Namespace) -> None:
        """``%mock webhook`` lists the loaded documents' webhooks; ``%mock webhook NAME URL`` sends one."""
        if args.name is None:
            known = self.session.webhooks
            if not known:
                print("No webhooks: %mock load an OpenAPI 3.1 document with `webhooks:` first.")
                return
            print(f"{plural(len(known), 'webhook')} (send one with %mock webhook NAME URL):")
            for webhook in known.values():
                summary = f"  {webhook.summary}" if webhook.summary else ""
                payload = shorten(webhook.body, 60) if webhook.body else "(none)"
                print(f"  {webhook.name}  {webhook.method}{summary}  payload: {payload}")
            return
        if args.url is None:
            raise usage_error("%mock webhook: give the URL to send it to", f"%mock webhook {args.name} URL")
        row = self.session.send_webhook(args.name, args.url)
        if row is None:
            print(f"Webhook {args.name!r} not sent: the mock stopped.")
        elif row.status is None:
            print(f"Webhook {args.name!r} {row.note.partition(': ')[2]}")
        else:
            print(f"Sent webhook {args.name!r}: {row.method} {row.path} → {row.status} "
                  f"({row.latency_ms:.0f} ms; #{row.seq} in %mock log)")

    def _mock_reset(self, args: argparse.Namespace) -> None:
        known = self.session.scenario_states()
        if args.name is not None and args.name in known:  # a scenario of that name: back to Started
            self.session.reset_scenarios(args.name)
            print(f"Scenario {args.name!r} reset to Started.")
            return
        done = Prototype(self.session).reset(args.name)
        sequences: list[str] = []
        if args.name is None:
            sequences = self.session.sequence_names()
            self.session.reset_scenarios()
            if known:
                print(f"Scenarios reset to Started: {', '.join(known)}.")
            if sequences:
                print(f"Sequences back to their first turn: {', '.join(sequences)}.")
        for resource in done:
            print(f"Resource {resource.name!r} reset to its {plural(len(resource), 'seed record')}.")
        if not done and not known and not sequences:
            print("Nothing to reset: no resources, scenarios or sequences.")

    # -- %%resource ----------------------------------------------------------------------------

    @magic_arguments()
    @argument("name", help="the resource's name; also the notebook variable holding its live records")
    @argument("--id", default=None, help="the id field of its records (default id, or the existing resource's)")
    @argument("--path", default="", help="where it is served (default /NAME)")
    @argument("--max-records", default=None, help="how many records clients may make it hold (default 10000; "
                                                  "507 beyond)")
    @argument("--max-bytes", default=None, help="how many bytes of JSON clients may make it hold: 65536, 512K, "
                                                "256MB (default 64MB; 413 for one larger record, 507 when full)")
    @no_var_expand
    @cell_magic
    def resource(self, line: str, cell: str) -> None:
        """Serve a JSON array as a stateful CRUD resource (GET list/one, POST, PUT, PATCH, DELETE).

        Example::

            %%resource users --id id
            [{"id": 1, "name": "Alice Park"}, {"id": 2, "name": "Ben Carter"}]
        """
        args = self._parse(self.resource, line, "%%resource")
        try:
            if cell.strip():
                check_json(cell, 1, "the resource", declared=True)
            max_records = args.max_records
            resource = self.prototype.resource(
                args.name, limits.loads(cell) if cell.strip() else None, id=args.id, path=args.path,
                max_records=int(max_records) if max_records is not None and max_records.isdigit() else max_records,
                max_bytes=args.max_bytes)
        except PostmockError as error:
            raise _usage(error) from None
        if args.name.isidentifier():
            self.user_ns[args.name] = resource
        bounds = ""
        if (resource.max_records, resource.max_bytes) != (DEFAULT_MAX_RECORDS, DEFAULT_MAX_BYTES):
            bounds = (f"; clients may make it hold at most {plural(resource.max_records, 'record')}, "
                      f"{plural(resource.max_bytes, 'byte')}")
        print(f"Resource {resource.name!r}: {plural(len(resource), 'record')} at {resource.path} "
              f"(GET, POST {resource.path}; GET, PUT, PATCH, DELETE {resource.path}/:{resource.id_field})"
              + (f" — the live records are in `{args.name}`" if args.name.isidentifier() else "") + bounds)

    def _mock_key(self, args: argparse.Namespace) -> str | None:
        server = self.session.server
        if server is None or not server.running:
            raise usage_error("%mock key: the mock is not running", "%mock start --private")
        if not server.private:
            print("This mock is public: it needs no key. Start it with --private to require one.")
            return None
        return MaskedKey(server.api_key)  # the key itself, shown masked: `key = %mock key` keeps it

    def _mock_call(self, args: argparse.Namespace) -> None:
        headers = dict(parse_header(h, "-H option") for h in args.header)
        response = self.session.call(args.method, args.path, headers, args.data)
        example = response.headers.get(EXAMPLE_NAME_HEADER)
        reason = response.reason or reason_phrase(response.status_code)
        picked = f'  ← example "{example}"' if example else "  (no example matched)"
        print(f"{response.status_code} {reason}{picked}")
        for key, value in response.headers.items():
            print(f"{key}: {value}")
        print()
        print(_shown_body(response, matched=example is not None))
        if args.save:  # Postman's "Save as Example"
            saved = self.session.save_response(response, args.save, base=args.base, as_path=args.as_path,
                                               keep_secrets=args.keep_secrets)
            print(f'\nSaved as example "{saved.name}": {saved.describe()}'
                  + (f" — served by {self.session.url}" if self.session.running else ""))

    def _mock_verify(self, args: argparse.Namespace) -> None:
        if len(args.words) > 2:
            raise usage_error(f"%mock verify: expected METHOD PATH, got {' '.join(args.words)!r}",
                              "%mock verify POST /users --times 1")
        data = None
        if args.json is not None:
            try:
                data = limits.loads(args.json)
            except ValueError as error:
                raise usage_error(f"%mock verify: --json is not JSON: {error}",
                                  """quote it whole: --json '{"name": "Ann"}'""") from None
        headers = [parse_header(h, "--header option") for h in args.header]
        split = (q.partition("=") for q in args.query)
        query = [(name, value if given else "{{$any}}") for name, given, value in split]  # a name alone: any value
        try:
            verification = self.session.verify(" ".join(args.words), times=args.times, at_least=args.at_least,
                                               at_most=args.at_most, json=data, body=args.body,
                                               headers=_grouped(headers), query=_grouped(query),
                                               contains=args.contains)
        except AssertionError as failure:  # the verification's message, in red, without a traceback
            raise UsageError(str(failure)) from None
        print(verification.summary)

    def _mock_check(self, args: argparse.Namespace) -> CheckTable:
        """``%mock check URL``: the notebook's examples checked against the real API (bridges/contract.py)."""
        # deferred: httpx is slow to import, and only %mock check needs it here
        from postmock_nb.bridges.contract import check
        from postmock_nb.bridges.contract_probes import collection_probes, parse_headers
        from postmock_nb.bridges.contract_report import junit_target, write_junit

        collection = self.session.store.collection
        headers = parse_headers(args.header)
        junit = junit_target(args.junit, sources=(args.environment,)) if args.junit else None
        variables = layered(collection.variables, self.session.store.environment)
        environment = load_environment(args.environment) if args.environment is not None else Environment("")
        variables.update(dict(environment.values))
        probes = collection_probes(collection, specs=self.session.specs)  # an OpenAPI-loaded example's path values
        report = check(probes, against=args.url, source="the notebook's examples", headers=headers,
                       variables=variables, unsafe=args.unsafe, strict=args.strict, timeout=args.timeout,
                       option="%mock check", secret_names=environment.secret_keys)
        if junit is not None:
            print(f"JUnit XML written to {write_junit(junit, report)}")
        return CheckTable(report)

    def _mock_broadcast(self, words: list[str]) -> None:
        if len(words) < 2:
            raise usage_error("%mock broadcast: expected ROUTE MESSAGE", '%mock broadcast /ws/chat {"text": "hi"}')
        try:
            reached = self.session.broadcast(words[0], words[1])
        except PostmockError as error:
            raise _usage(error) from None
        print(f"sent to {plural(reached, 'connection')} of {words[0]}")

    # -- errors from the server thread --------------------------------------------------------

    def _report_server_errors(self) -> None:
        """A one-line summary of the server errors since the last magic: never a dump."""
        errors = self.session.new_errors()
        if not errors:
            return
        lines = errors[-1].strip().splitlines()
        latest = lines[-1][:200] if lines else ""
        count = len(errors)
        print(f"postmock: the mock server reported {plural(count, 'new error')} "
              f"(latest: {latest}); %mock status and the dashboard show them", file=sys.stderr)


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Repeated options (``--query tag=a --query tag=b``) as one name with its values."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def magics_of(ipython: Any) -> PostmockMagics | None:
    """The shell's postmock magics (which own its session), if the extension is loaded."""
    magics = ipython.magics_manager.registry.get(PostmockMagics.__name__)
    return magics if isinstance(magics, PostmockMagics) and magics.loaded else None


def session_of(ipython: Any) -> Session | None:
    """The shell's postmock session, if the extension is loaded: ``session_of(get_ipython())``."""
    magics = magics_of(ipython)
    return magics.session if magics is not None else None


def load_ipython_extension(ipython: Any) -> None:
    magics = PostmockMagics(ipython, Session())
    ipython.register_magics(magics)
    ipython.configurables.append(magics)
    ipython.events.register("pre_run_cell", magics.remember_cell)
    if "mock" not in ipython.user_ns:  # unittest.mock or the person's own: kept; prototype_of(ipython) then
        ipython.user_ns["mock"] = magics.prototype
    atexit.register(magics.session.close)
    magics.loaded = True


def unload_ipython_extension(ipython: Any) -> None:
    magics = magics_of(ipython)
    if magics is None:
        return
    magics.session.close()
    atexit.unregister(magics.session.close)
    with contextlib.suppress(ValueError):  # not registered
        ipython.events.unregister("pre_run_cell", magics.remember_cell)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
    ipython.user_ns.pop("mockUrl", None)
    if ipython.user_ns.get("mock") is magics.prototype:
        ipython.user_ns.pop("mock")
    magics.loaded = False


def prototype_of(ipython: Any) -> Any:
    """The ``mock`` object (handlers, resources) of the kernel's session."""
    magics = magics_of(ipython)
    if magics is None:
        raise UsageError("postmock_nb is not loaded\nHint: %load_ext postmock_nb")
    return magics.prototype


def _summary_line(info: dict[str, Any]) -> str:
    """``%mock status``'s second line: public or private, uptime, examples and the journal's counts."""
    counts = (f"{plural(info['requests'], 'request')}, {plural(info['misses'], 'miss', 'misses')}"
              if "requests" in info else f"requests not counted ({info.get('journal_error', 'journal unread')})")
    return (f"{'private' if info['private'] else 'public'}, up {info['uptime_s']} s, "
            f"{plural(info['examples'], 'example')}, {counts}, {plural(info['errors'], 'error')}"
            + (f", {info['refused']} refused without the key" if info.get("refused") else ""))
