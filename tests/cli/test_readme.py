"""Every code block in README.md is exercised, so the README cannot drift from the code.

How each fenced block is checked depends on its info string:

``ipython``
    A notebook cell. All ``ipython`` blocks run in order, each as one cell, in one fresh
    IPython shell (a subprocess), with cell ids as JupyterLab sends them. None may fail.
``python``
    A script, run on its own in a subprocess. A block that defines ``test_`` functions is
    a test module instead, run by pytest (the ``postmock`` fixture comes from the plugin).
``bash``
    Commands, one a line, run for real: ``postmock validate``; ``postmock convert`` (its output must be
    written, with no warning); ``postmock serve`` (on a free
    port instead of the one written, killed by PID at the end); ``curl`` against a server
    started that way, which must answer from an example; ``make TARGET`` is checked with
    ``make -n`` (it would build a venv). Any other command fails the test until a runner
    for it is added here.
``bash no-run``
    Shown, never run (e.g. a command that needs the network). Kept rare: at most two.
``text``
    A syntax summary: every option it names must be a real option.

Blocks in any other language fail the test, and so does a kind with no block at all: a check
with nothing to check is no check (a kind the README stops using is taken out of
``KNOWN_KINDS`` with its check).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.cli import SERVING, Cli
from support.environments import BROWSER_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_NO_RUN = 2
KNOWN_KINDS = {"ipython", "python", "bash", "text"}


@dataclass(frozen=True)
class Block:
    kind: str
    flags: tuple[str, ...]
    code: str
    line: int  # line of the opening fence, 1-based

    @property
    def where(self) -> str:
        return f"README.md line {self.line} ({self.kind}{' ' + ' '.join(self.flags) if self.flags else ''})"

    @property
    def runs(self) -> bool:
        return "no-run" not in self.flags


def parse_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opening = re.match(r"^(\s*)(```+|~~~+)\s*(.*)$", lines[index])
        if not opening:
            index += 1
            continue
        indent, fence, info = opening.groups()
        body: list[str] = []
        start = index + 1
        index += 1
        while index < len(lines) and not re.match(rf"^\s*{re.escape(fence)}\s*$", lines[index]):
            body.append(lines[index][len(indent):] if lines[index].startswith(indent) else lines[index])
            index += 1
        assert index < len(lines), f"README.md line {start}: code block never closed"
        words = info.split()
        blocks.append(Block(words[0] if words else "", tuple(words[1:]), "\n".join(body), start))
        index += 1
    return blocks


BLOCKS = parse_blocks(README.read_text(encoding="utf-8"))


def of_kind(kind: str) -> list[Block]:
    return [b for b in BLOCKS if b.kind == kind and b.runs]


def run(command: list[str], cwd: Path, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch directory laid out like the repository root for what the README refers to."""
    shutil.copytree(ROOT / "notebooks" / "data", tmp_path / "notebooks" / "data")
    return tmp_path


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in BROWSER_ENVIRONMENT}  # the browser is on this machine
    env["PYTHONPATH"] = ""
    return env


# -- the shape of the README ---------------------------------------------------------------------


def test_every_block_is_of_a_kind_this_test_checks() -> None:
    assert BLOCKS, "README.md has no code blocks"
    unknown = [b.where for b in BLOCKS if b.kind not in KNOWN_KINDS]
    assert not unknown, f"blocks no test exercises (give them a kind from {sorted(KNOWN_KINDS)}): {unknown}"
    not_running = [b.where for b in BLOCKS if not b.runs]
    assert len(not_running) <= MAX_NO_RUN, f"too many blocks marked no-run: {not_running}"


@pytest.mark.parametrize("kind", sorted(KNOWN_KINDS))
def test_every_kind_this_test_checks_has_blocks_to_check(kind: str) -> None:
    assert of_kind(kind), f"README.md has no runnable {kind!r} block: its check would pass on nothing"


def test_the_two_fresh_machine_commands_are_exactly_make_lab_and_make_test() -> None:
    commands = [[line.split("#")[0].strip() for line in b.code.splitlines() if line.split("#")[0].strip()]
                for b in of_kind("bash")]
    assert ["make lab", "make test"] in commands, f"no block that is exactly `make lab` and `make test`: {commands}"


REPO_URL = re.compile(r"https://(?:github\.com/(?P<owner>[\w-]+)/postmock_nb/blob/main/"
                      r"|raw\.githubusercontent\.com/(?P<raw_owner>[\w-]+)/postmock_nb/main/)(?P<path>[^)\s#?]+)")
COLAB_URL = re.compile(r"https://colab\.research\.google\.com/github/(?P<owner>[\w-]+)/postmock_nb/blob/main/"
                       r"(?P<path>notebooks/[^)\s]+\.ipynb)")
BINDER_URL = re.compile(r"https://mybinder\.org/v2/gh/(?P<owner>[\w-]+)/postmock_nb/main\?urlpath=lab/tree/(?P<path>[^)\s]+)")
OWNER_BLOCK = re.compile(r"^<!-- OWNER:.*?^<!-- end of the OWNER block -->$", re.M | re.S)


def link_targets(text: str) -> list[str]:
    """Every link and image target: inline ``](url)`` and reference definitions ``[name]: url``."""
    return re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r"^\[[^\]]+\]:\s*(\S+)", text, re.M)


def test_links_into_the_repository_are_relative_and_exist() -> None:
    """Links into the repository are relative (they work on GitHub and in any clone) and name
    files that exist; none names an owner, which a clone does not know."""
    text = README.read_text(encoding="utf-8")
    targets = link_targets(text)
    absolute_into_repo = [t for t in targets if REPO_URL.fullmatch(t)]
    assert absolute_into_repo == [], f"links into the repository must be relative: {absolute_into_repo}"
    relative = [t.split("#")[0] for t in targets if not re.match(r"^[a-z]+://", t) and not t.startswith("#")]
    assert "docs/dashboard.png" in relative, "the dashboard picture is not linked"
    for path in relative:
        assert (ROOT / path).exists(), f"README links to a missing file: {path}"
    defined = set(re.findall(r"^\[([^\]]+)\]:", text, re.M))
    prose = re.sub(r"`[^`\n]*`", "", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))  # not code: x[0]["y"]
    used = set(re.findall(r"\]\[([^\]]+)\]", prose))
    assert used <= defined, f"reference links without a definition: {sorted(used - defined)}"


def test_the_binder_badge_and_one_place_for_the_owner() -> None:
    text = README.read_text(encoding="utf-8")
    binder = [m for t in link_targets(text) if (m := BINDER_URL.fullmatch(t))]
    assert binder, "no Binder link"
    for found in binder:
        assert (ROOT / found["path"]).is_file(), f"the Binder link opens a missing notebook: {found['path']}"
    assert "](https://mybinder.org/badge_logo.svg)][binder]" in text, "the Binder badge does not use the [binder] link"
    colab = [m for t in link_targets(text) if (m := COLAB_URL.fullmatch(t))]
    notebooks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(m["path"] for m in colab) == notebooks, "an Open in Colab link for each notebook, and no other"
    blocks = OWNER_BLOCK.findall(text)
    assert len(blocks) == 1, "README.md needs exactly one marked OWNER block (<!-- OWNER: … --> … <!-- end of the OWNER block -->)"
    outside = OWNER_BLOCK.sub("", text)
    assert not re.search(r"(github\.com|githubusercontent\.com|/gh|colab\.research\.google\.com/github)/[\w-]+/"
                         r"postmock_nb", outside), \
        "a URL naming the owner outside the OWNER block: move it into the block as a reference definition"
    owners = set(re.findall(r"(?:github\.com|githubusercontent\.com|/gh|colab\.research\.google\.com/github)/([\w-]+)/"
                            r"postmock_nb", blocks[0]))
    assert len(owners) == 1, f"the README's OWNER block names several owners: {sorted(owners)}"
    assert "scripts/set-owner.sh" in outside, "the README does not say how to set the owner"
    metadata = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "OWNER/" not in metadata, "the wheel's metadata names a placeholder owner"
    assert not re.search(r"^\[project\.urls\]", metadata, re.M), "a Project-URL with an unknown owner is a broken link in the wheel"


def test_set_owner_sets_every_place_that_names_the_owner(tmp_path: Path) -> None:
    for name in ("README.md", "scripts/set-owner.sh"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    done = run(["bash", str(tmp_path / "scripts" / "set-owner.sh"), "someone-else"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    readme = (tmp_path / "README.md").read_text()
    named = re.findall(r"(?:github\.com|githubusercontent\.com|/gh|colab\.research\.google\.com/github)/([\w-]+)/"
                       r"postmock_nb", readme)
    assert named and set(named) == {"someone-else"}, sorted(set(named))
    refused = run(["bash", str(tmp_path / "scripts" / "set-owner.sh"), "not/an/account"], tmp_path)
    assert refused.returncode == 2 and "usage" in refused.stderr


def test_make_demo_after_make_lab_installs_nothing_again(tmp_path: Path) -> None:
    """`make lab` installs the package with its extra; `make demo` then only serves. A stand-in
    python in the venv records what make asks of it (nothing is installed for real)."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    calls = tmp_path / "calls.txt"
    for tool in ("python", "postmock", "jupyter"):
        stand_in = venv / "bin" / tool
        stand_in.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{calls}"\n')
        stand_in.chmod(0o755)
    lab = run(["make", "lab"], tmp_path)
    assert lab.returncode == 0, lab.stdout + lab.stderr
    demo = run(["make", "demo"], tmp_path)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    lines = calls.read_text().splitlines()
    installs = [line for line in lines if "pip install" in line]
    assert installs == ['python -m pip install -q -e .[lab]'], lines
    assert lines[-1].startswith("postmock serve notebooks/data/users.postman_collection.json"), lines


def _all_options() -> set[str]:
    from postmock_nb.cli import _parser as cli_parser
    from postmock_nb.notebook.magics import PostmockMagics, _mock_parser

    options: set[str] = set(PostmockMagics.example.parser._option_string_actions)
    options |= set(PostmockMagics.resource.parser._option_string_actions)
    options |= set(PostmockMagics.websocket.parser._option_string_actions)
    for parser in (_mock_parser(), cli_parser()):
        options |= set(parser._option_string_actions)
        for action in parser._subparsers._group_actions if parser._subparsers else []:
            for sub in action.choices.values():
                options |= set(sub._option_string_actions)
    return options


def test_every_option_the_readme_names_exists() -> None:
    options = _all_options()
    text = README.read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", text))
    assert named - options == set(), f"README names options that do not exist: {sorted(named - options)}"
    for block in [b for b in BLOCKS if b.kind == "text"]:
        short_and_long = set(re.findall(r"(?<![\w-])--?[a-zA-Z][\w-]*", block.code))
        assert short_and_long <= options, f"{block.where}: unknown options {sorted(short_and_long - options)}"


def test_every_option_of_the_parsers_is_in_the_readme() -> None:
    """The other way round: the `%%example` usage line holds every `%%example` option, each
    `%mock` subcommand's row every option of that subcommand, and the README names every option
    of `postmock serve`."""
    from postmock_nb.cli import _parser as cli_parser
    from postmock_nb.notebook.magics import PostmockMagics, _mock_parser

    def unnamed(parser, text: str) -> set[str]:
        """The options of `parser` (by long name) that `text` names neither by long nor by short name."""
        return {max(a.option_strings, key=len) for a in parser._actions if a.option_strings and a.dest != "help"
                and not any(re.search(rf"(?<![\w-]){o}(?![\w-])", text) for o in a.option_strings)}

    text = README.read_text(encoding="utf-8")
    usage = next(b.code for b in BLOCKS if b.kind == "text" and b.code.lstrip().startswith("%%example"))
    missing = unnamed(PostmockMagics.example.parser, usage)
    assert not missing, f"the %%example usage line omits {sorted(missing)}"
    rows: dict[str, str] = {}
    for row in re.finditer(r"^\| `(\w+)[ `].*$", text, re.M):
        rows[row[1]] = rows.get(row[1], "") + row[0]
    for action in _mock_parser()._subparsers._group_actions:
        for name, sub in action.choices.items():
            missing = unnamed(sub, rows.get(name, ""))
            assert not missing, f"the README's `%mock {name}` row omits {sorted(missing)}"
    for action in cli_parser()._subparsers._group_actions:
        for name, sub in action.choices.items():
            missing = unnamed(sub, text)
            assert not missing, f"the README never names `postmock {name}` {sorted(missing)}"


def test_every_mock_subcommand_the_readme_names_exists() -> None:
    from postmock_nb.notebook.magics import SUBCOMMANDS

    named = set(re.findall(r"%mock (\w+)", README.read_text(encoding="utf-8")))
    assert named <= set(SUBCOMMANDS), f"README names %mock subcommands that do not exist: {sorted(named - set(SUBCOMMANDS))}"
    table = set(re.findall(r"^\| `(\w+)[ `]", README.read_text(encoding="utf-8"), re.M))
    assert set(SUBCOMMANDS) <= table, f"%mock subcommands missing from the README's table: {sorted(set(SUBCOMMANDS) - table)}"


# -- ipython blocks: one shell, in order ---------------------------------------------------------

SHELL_DRIVER = r"""
import contextlib, io, json, sys
from IPython.core.interactiveshell import InteractiveShell

blocks = json.load(open(sys.argv[1]))
shell = InteractiveShell.instance()
results = []
for index, code in enumerate(blocks):
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), contextlib.redirect_stderr(shown):
        result = shell.run_cell(code, store_history=True, cell_id=f"readme-{index}")
    error = result.error_before_exec or result.error_in_exec
    results.append({"ok": error is None, "error": repr(error) if error else None, "output": shown.getvalue()})
    if error is not None:
        break
if "postmock_nb" in shell.extension_manager.loaded:
    shell.extension_manager.unload_extension("postmock_nb")
json.dump(results, open(sys.argv[2], "w"))
"""


@pytest.mark.timeout(120)
def test_ipython_blocks_run_in_order_in_one_shell(workdir: Path) -> None:
    blocks = of_kind("ipython")
    assert blocks and blocks[0].code.strip() == "%load_ext postmock_nb", "the first ipython block should load the extension"
    (workdir / "blocks.json").write_text(json.dumps([b.code for b in blocks]))
    (workdir / "driver.py").write_text(SHELL_DRIVER)
    done = run([sys.executable, "driver.py", "blocks.json", "results.json"], workdir, timeout=100, env=clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((workdir / "results.json").read_text())
    for block, result in zip(blocks, results):
        assert result["ok"], f"{block.where} failed: {result['error']}\n--- block:\n{block.code}\n--- output:\n{result['output']}"
    assert len(results) == len(blocks)


# -- python blocks -------------------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("block", of_kind("python"), ids=lambda b: f"line{b.line}")
def test_python_block_runs(block: Block, workdir: Path) -> None:
    if re.search(r"^def test_\w+\(", block.code, re.M):
        (workdir / "test_from_readme.py").write_text(block.code + "\n")
        done = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_from_readme.py"], workdir,
                   timeout=100, env=clean_env())
        assert done.returncode == 0 and " passed" in done.stdout, f"{block.where}:\n{done.stdout}\n{done.stderr}"
        assert " failed" not in done.stdout and " skipped" not in done.stdout, done.stdout
    else:
        (workdir / "from_readme.py").write_text(block.code + "\n")
        done = run([sys.executable, "from_readme.py"], workdir, timeout=100, env=clean_env())
        assert done.returncode == 0, f"{block.where}:\n{done.stdout}\n{done.stderr}"


# -- bash blocks ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postmock_command() -> str:
    beside = Path(sys.executable).with_name("postmock")
    found = str(beside) if beside.exists() else shutil.which("postmock")
    assert found, "the postmock command is not installed (pip install -e .)"
    return found


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", (ROOT / "Makefile").read_text(), re.M))


class Servers:
    """``postmock serve`` processes started for the README, by the port the README wrote."""

    def __init__(self) -> None:
        self.ports: dict[str, int] = {}
        self.processes: list[Cli] = []

    def start(self, words: list[str], cwd: Path, where: str) -> None:
        assert "--port" in words, f"{where}: give `postmock serve` a --port so the curl lines can name it"
        at = words.index("--port") + 1
        written, port = words[at], free_port()
        words = words[:at] + [str(port)] + words[at + 1:]
        process = Cli(*words[1:], command=postmock_command(), cwd=cwd, env=clean_env())
        self.processes.append(process)
        served = process.wait_for(SERVING)  # the line it prints once it listens (or the test fails with its output)
        assert int(served.group(4)) == port, f"{where}: postmock serve listens on {served.group(3)}, not port {port}"
        self.ports[written] = port

    def rewrite(self, line: str, where: str) -> str:
        def swap(found: re.Match) -> str:
            written = found.group(2)
            assert written in self.ports, f"{where}: nothing was started on port {written} earlier in the README"
            return f"{found.group(1)}:{self.ports[written]}"

        return re.sub(r"(127\.0\.0\.1|localhost):(\d+)", swap, line)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()  # by its own PID; postmock serve stops cleanly on SIGTERM


@pytest.fixture
def servers() -> Iterator[Servers]:
    started = Servers()
    try:
        yield started
    finally:
        started.stop()


@pytest.mark.timeout(120)
def test_bash_blocks_run(workdir: Path, servers: Servers) -> None:
    targets = makefile_targets()
    ran = []
    for block in of_kind("bash"):
        for line in block.code.splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            if words[0] == "make":
                for target in words[1:]:
                    assert target in targets, f"{block.where}: `make {target}`: no such target in the Makefile"
                    dry = run(["make", "-n", target], ROOT, timeout=30)
                    assert dry.returncode == 0, f"{block.where}: make -n {target}:\n{dry.stdout}{dry.stderr}"
            elif words[:2] == ["postmock", "validate"]:
                done = run([postmock_command(), *words[1:]], workdir, env=clean_env())
                assert done.returncode == 0, f"{block.where}: {line}\n{done.stdout}{done.stderr}"
                assert "can be served" in done.stdout and "warning" not in done.stdout + done.stderr, done.stdout + done.stderr
            elif words[:2] == ["postmock", "convert"]:
                done = run([postmock_command(), *words[1:]], workdir, env=clean_env())
                assert done.returncode == 0, f"{block.where}: {line}\n{done.stdout}{done.stderr}"
                assert (workdir / words[3]).is_file() and "warning" not in done.stdout + done.stderr, done.stdout
            elif words[:2] == ["postmock", "serve"]:
                servers.start(words, workdir, block.where)
            elif words[0] == "curl":
                sent = shlex.split(servers.rewrite(line, block.where))
                done = run([sent[0], "-sS", "-i", "--max-time", "10", *sent[1:]], workdir, timeout=30)
                assert done.returncode == 0, f"{block.where}: {line}\n{done.stdout}{done.stderr}"
                head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
                assert re.search(r"^x-mock-example-name: .+", head, re.M | re.I), (
                    f"{block.where}: `{line}` was not answered by an example:\n{done.stdout}")
                json.loads(body)
            else:
                pytest.fail(f"{block.where}: tests/cli/test_readme.py does not know how to run `{line}`: "
                            f"add a runner for it, or mark the block `bash no-run`")
            ran.append(line)
    assert any(line.startswith("postmock serve") for line in ran) and any(line.startswith("curl") for line in ran)
