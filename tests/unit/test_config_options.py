"""The options table (postmock_nb.config.OPTIONS) is the one place options are spelled: the front ends' parsers
come from it, and every documented list of options (the README's table and ``%mock start`` row, docs/deploy.md's
variables, the ASGI module's docstring) is checked against it.

The README's option table is generated from the table: ``POSTMOCK_UPDATE_DOCS=1`` rewrites it.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import pytest

from postmock_nb import asgi, cli
from postmock_nb.config import OPTIONS, SERVE, START, MockConfig, Option, config_options, env_options, options_of
from postmock_nb.errors import ConfigError
from postmock_nb.notebook.magics import _mock_parser, start_help

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DEPLOY = ROOT / "docs" / "deploy.md"
BEGIN = "<!-- options: generated from postmock_nb.config.OPTIONS (tests/unit/test_config_options.py) -->"
END = "<!-- end of options -->"


def _field_default(name: str) -> Any:
    (found,) = [f for f in fields(MockConfig) if f.name == name]
    return found.default if found.default is not MISSING else None


def _shown_default(option: Option) -> str:
    if option.name == "collection":
        return "required"
    value = option.default if option.default is not None else (_field_default(option.name) if option.field else None)
    if option.type == "bool":
        return "off"  # a switch not given (--no-cors not given: CORS on)
    if value in (None, (), ""):
        return "none"
    return f"`{value}`"


def _spelling(option: Option) -> str:
    if option.name == "collection":
        return "`FILE` (`postmock serve FILE`)"
    if not option.flag:
        return "—"
    metavar = "" if option.type == "bool" else f" {option.metavar or option.name.upper()}"
    return f"`{option.flag}{metavar}`"


def _taken(option: Option, front: str) -> str:
    return "yes" if front in option.fronts or (option.name, front) == ("collection", SERVE) else "—"


def rendered_table() -> str:
    """The README's table of options, from the options table."""
    lines = [BEGIN, "| option | `MockConfig` field | `postmock serve` | `%mock start` | variable (`postmock_nb.asgi`) "
                    "| default | what it does |", "|---|---|---|---|---|---|---|"]
    for option in OPTIONS:
        help_text = option.help.replace("%%", "%")
        if option.help_start:
            help_text += f"; in `%mock start`: {option.help_start.replace('%%', '%')}"
        lines.append(f"| {_spelling(option)} | {f'`{option.name}`' if option.field else '—'}"
                     f" | {_taken(option, SERVE)} | {_taken(option, START)}"
                     f" | {f'`{option.env}`' if option.env else '—'} | {_shown_default(option)} | {help_text} |")
    lines.append(END)
    return "\n".join(lines)


def test_every_field_of_the_record_has_its_row_and_every_row_its_field() -> None:
    rows = {option.name for option in OPTIONS if option.field}
    assert rows == {f.name for f in fields(MockConfig)}
    assert len({option.name for option in OPTIONS}) == len(OPTIONS), "an option is in the table twice"
    flags = [option.flag for option in OPTIONS if option.flag]
    assert len(set(flags)) == len(flags), "two options share a flag"


def test_the_readme_table_is_the_options_table() -> None:
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, "README.md lost its generated option table"
    current = text[text.index(BEGIN):text.index(END) + len(END)]
    if os.environ.get("POSTMOCK_UPDATE_DOCS") and current != rendered_table():
        README.write_text(text.replace(current, rendered_table()), encoding="utf-8")
        current = rendered_table()
    assert current == rendered_table(), "README.md's option table differs from postmock_nb.config.OPTIONS: " \
                                        "POSTMOCK_UPDATE_DOCS=1 pytest tests/unit/test_config_options.py rewrites it"


def test_the_readme_start_row_names_exactly_the_start_options() -> None:
    row = next(line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("| `start "))
    synopsis = row.split(" | ")[0]
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", synopsis))
    assert named == {option.flag for option in options_of(START)}


def test_deploy_doc_lists_the_variables_of_the_table_with_their_defaults() -> None:
    rows = dict(re.findall(r"^\| `(POSTMOCK_\w+)` \| .* \| ([^|]+) \|$", DEPLOY.read_text(encoding="utf-8"), re.M))
    variables = {option.env: option for option in OPTIONS if option.env}
    assert set(rows) == set(variables), "docs/deploy.md's variables differ from the options table"
    for name, shown in rows.items():
        option = variables[name]
        if option.field and option.type in ("bool", "int", "delay"):
            default = _field_default(option.name)
            assert shown.strip() == f"`{int(default)}`", f"docs/deploy.md: {name}'s default is {default}, not {shown}"


def test_the_asgi_docstring_names_the_variables_of_the_table() -> None:
    named = set(re.findall(r"^(POSTMOCK_\w+)\s", asgi.__doc__ or "", re.M))
    assert named == {option.env for option in OPTIONS if option.env}
    assert set(asgi.KNOWN) == named


def test_each_parser_takes_the_options_of_its_front_end() -> None:
    serve = next(a for a in cli._parser()._subparsers._group_actions).choices["serve"]  # type: ignore[union-attr]
    start = next(a for a in _mock_parser()._subparsers._group_actions).choices["start"]  # type: ignore[union-attr]
    for parser, front in ((serve, SERVE), (start, START)):
        flags = {s for a in parser._actions for s in a.option_strings if s.startswith("--") and s != "--help"}
        assert flags == {option.flag for option in options_of(front)}, front
    assert "--no-dashboard" in start_help() and "--workers" not in start_help()


@pytest.mark.parametrize("argv, expected", [
    ([], MockConfig(port=8000)),
    (["--delay", "3G", "--chaos", "0.1", "--chaos-seed", "7"], MockConfig(port=8000, delay_ms=100, chaos=0.1,
                                                                            chaos_seed=7)),
    (["--delay", " 250 ", "--match-body-contains", "--match-header", "X-Role", "--no-cors"],
     MockConfig(port=8000, delay_ms=250, match_body=True, match_body_contains=True, match_headers=("x-role",),
                cors=False)),
    (["--private", "--api-key", "k", "--workers", "2", "--reveal-secrets"],
     MockConfig(port=8000, private=True, api_key="k", workers=2, reveal_secrets=True)),
])
def test_the_command_line_is_parsed_at_the_boundary_into_typed_values(argv: list[str],
                                                                     expected: MockConfig) -> None:
    args = cli._parser().parse_args(["serve", "c.json", *argv])
    options = config_options(SERVE, args)
    assert isinstance(options["delay_ms"], int) and isinstance(options["chaos"], float)
    assert MockConfig(**options) == expected


@pytest.mark.parametrize("argv, message", [
    (["--delay", "4G"], "--delay must be 0-180000 milliseconds, got 4G"),
    (["--delay", "-5"], "--delay must be 0-180000 milliseconds, got -5"),
    (["--chaos", "often"], "--chaos must be a share of requests from 0 to 1, got 'often'"),
    (["--chaos", "1.5"], "--chaos must be a share of requests from 0 to 1, got '1.5'"),
])
def test_text_that_cannot_be_read_is_refused_at_the_boundary_with_the_records_words(argv: list[str],
                                                                                   message: str) -> None:
    args = cli._parser().parse_args(["serve", "c.json", *argv])
    with pytest.raises(ConfigError) as refused:
        config_options(SERVE, args)
    assert refused.value.message == message


def test_the_environment_is_read_by_the_table() -> None:
    assert env_options({"POSTMOCK_DELAY_MS": " 25 ", "POSTMOCK_CORS": "off", "POSTMOCK_MATCH_HEADERS": "a, b",
                        "POSTMOCK_PROXY": " http://127.0.0.1:9 ", "POSTMOCK_API_KEY": " k", "OTHER": "x"}) == {
        "delay_ms": 25, "cors": False, "match_headers": ("a", "b"), "proxy": "http://127.0.0.1:9", "api_key": " k"}
    assert asgi.VARIABLES == {option.env: option.name for option in OPTIONS if option.env and option.field}


def test_the_start_parser_leaves_host_port_and_server_to_the_magics_settings() -> None:
    start = next(a for a in _mock_parser()._subparsers._group_actions).choices["start"]  # type: ignore[union-attr]
    args: argparse.Namespace = start.parse_args([])
    assert (args.host, args.port, args.server, args.dashboard, args.help) == (None, None, None, True, False)
    assert config_options(START, args)["delay_ms"] == 0


def test_mock_start_help_shows_the_options_and_starts_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from postmock_nb.notebook.magics import session_of

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "postmock_nb")
    try:
        shell.run_line_magic("mock", "start --help")
        shown = capsys.readouterr().out
        assert shown.startswith("usage: %mock start") and not session_of(shell).running
        for option in options_of(START):
            assert option.flag in shown, option.flag
    finally:
        shell.run_line_magic("unload_ext", "postmock_nb")


def test_examples_takes_as_written_or_generate() -> None:
    from postmock_nb.config import LOAD, OPTION, parse_examples

    assert OPTION["examples"].fronts == (SERVE, LOAD) and OPTION["examples"].default == "as-written"
    assert parse_examples(" Generate ") == "generate" and parse_examples("as-written") == "as-written"
    with pytest.raises(ConfigError, match="--examples must be as-written or generate, got 'schema'"):
        parse_examples("schema")
