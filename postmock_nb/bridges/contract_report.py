"""What ``postmock check`` found, and how it is shown: the requests (:class:`Probe`) with what the sketch expects of
each (:class:`Expected`), one :class:`Outcome` each, and the :class:`Report` as text, as rows for the notebook's
table and as JUnit XML (written by :func:`write_junit`). Credentials never reach it: the report masks the values
:mod:`postmock_nb.bridges.contract` hands it wherever they would appear (a URL, an error message)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from postmock_nb.bridges.drift import DRIFT, ERROR, OK, SKIPPED, Difference
from postmock_nb.core.markers import is_mock_name
from postmock_nb.core.masking import mask
from postmock_nb.core.model import Pairs, path_with_query
from postmock_nb.core.text import plural
from postmock_nb.core.wire import HOP_BY_HOP
from postmock_nb.errors import PostmockError
from postmock_nb.formats import atomicfile

NOT_SENT = HOP_BY_HOP | {"host", "content-length"}
"""Headers a check never sends (per-connection ones, and what the client sets itself)."""


class CheckError(PostmockError):
    """``postmock check`` cannot start (a bad ``--header``, a bad URL, a bad timeout)."""


@dataclass(frozen=True)
class Expected:
    """What the sketch says one status answers: ``code`` (``200``, ``4XX``, ``default``) and, per content type,
    the body's schema (None: no schema to compare with). No content types: no body is promised."""

    code: str
    media: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Probe:
    """One request to send, and what its answer may be."""

    method: str
    path: str
    query: Pairs = ()
    headers: Pairs = ()
    body: str = ""
    expected: tuple[Expected, ...] = ()
    skipped: str = ""
    """Why the request is not sent (empty: it is)."""
    names: tuple[str, ...] = ()
    """The examples (or the operation) this request stands for."""
    variant: str = ""
    """What tells this request from another of the same method and URL (its first example's name), or ``""``."""

    @property
    def label(self) -> str:
        shown = f"{self.method} {path_with_query(self.path, self.query)}"
        return f"{shown} [{self.variant}]" if self.variant else shown

    def key(self) -> tuple[str, str, Pairs, Pairs, str]:
        """What makes two examples one request: the method, path, query, the headers sent (the markers aside: an
        example with ``Authorization`` and one without, or two that ``Accept`` other types, are two requests, each
        expecting its own statuses) and the body."""
        headers = sorted((k.lower(), v) for k, v in self.headers if not is_mock_name(k) and k.lower() not in NOT_SENT)
        return self.method, self.path, self.query, tuple(headers), self.body


@dataclass(frozen=True)
class Outcome:
    """What one request gave: its verdict, what came back, and each difference."""

    probe: Probe
    verdict: str
    differences: tuple[Difference, ...] = ()
    status: int | None = None
    content_type: str = ""
    elapsed_ms: float = 0.0
    reason: str = ""
    """Why skipped, or what went wrong (error)."""

    def summary(self) -> str:
        if self.verdict in (SKIPPED, ERROR):
            return self.reason
        answer = f"{self.status} {self.content_type}".strip()
        return f"{answer}, {self.elapsed_ms:.0f} ms"


@dataclass(frozen=True)
class Report:
    """Every request's outcome, in the sketch's order, with the secrets to mask in whatever is shown."""

    outcomes: tuple[Outcome, ...]
    against: str
    source: str = ""
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def count(self, verdict: str) -> int:
        return sum(o.verdict == verdict for o in self.outcomes)

    @property
    def checked(self) -> int:
        """How many requests were sent (and answered, or not)."""
        return sum(o.verdict != SKIPPED for o in self.outcomes)

    @property
    def failed(self) -> bool:
        """Drift, errors, or nothing sent at all (a CI job that checked nothing must not pass): exit 1."""
        return any(o.verdict in (DRIFT, ERROR) for o in self.outcomes) or not self.checked

    def masked(self, text: str) -> str:
        """``text`` with every secret masked."""
        for secret in self.secrets:
            text = text.replace(secret, mask(secret))
        return text

    def summary(self) -> str:
        notes = sum(not d.fails for o in self.outcomes for d in o.differences)
        counts = ", ".join(f"{self.count(v)} {v}" for v in (OK, DRIFT, ERROR, SKIPPED) if self.count(v))
        noted = f"; {plural(notes, 'difference')} reported, not failed" if notes else ""
        if not self.checked:
            why = f"every request was skipped ({counts})" if self.outcomes else "the sketch has no requests"
            return self.masked(f"nothing was checked against {self.against}: {why}")
        return self.masked(f"{plural(len(self.outcomes), 'request')} checked against {self.against}: "
                           f"{counts}{noted}")

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The table's rows: (request, result, where, what); a request's first row, then one per difference."""
        rows = []
        for outcome in self.outcomes:
            rows.append((outcome.probe.label, outcome.verdict, "", outcome.summary()))
            rows.extend(("", "" if d.fails else "note", d.where, d.what) for d in outcome.differences)
        return [(self.masked(a), b, self.masked(c), self.masked(d)) for a, b, c, d in rows]

    def text(self) -> str:
        """The report as a terminal shows it: a line per request, a line per difference, the summary."""
        lines = []
        for request, result, where, what in self.rows():
            if request:
                lines.append(f"{result:<8} {request}  ({what})")
            else:
                lines.append(f"         {'note: ' if result else ''}{where}: {what}")
        return "\n".join([*lines, self.summary()])

    def junit(self) -> str:
        """JUnit XML for CI: a test case per request (a failure per drift, an error, or skipped); a character XML
        cannot hold (a control character in a label) written as ``\\x00``."""
        suite = ElementTree.Element("testsuite", {
            "name": _xml(self.masked(f"postmock check {self.source} against {self.against}".replace("  ", " "))),
            "tests": str(len(self.outcomes)), "failures": str(self.count(DRIFT)), "errors": str(self.count(ERROR)),
            "skipped": str(self.count(SKIPPED)),
            "time": f"{sum(o.elapsed_ms for o in self.outcomes) / 1000:.3f}"})
        for outcome in self.outcomes:
            case = ElementTree.SubElement(suite, "testcase", {
                "classname": "postmock.check", "name": _xml(self.masked(outcome.probe.label)),
                "time": f"{outcome.elapsed_ms / 1000:.3f}"})
            details = _xml(self.masked("\n".join(d.describe() + ("" if d.fails else " (reported, not failed)")
                                            for d in outcome.differences)))
            if outcome.verdict == DRIFT:
                failing = [d for d in outcome.differences if d.fails]
                message = _xml(self.masked(failing[0].describe())) if len(failing) == 1 else plural(len(failing),
                                                                                             "difference")
                ElementTree.SubElement(case, "failure", {"type": "drift", "message": message}).text = details
            elif outcome.verdict == ERROR:
                ElementTree.SubElement(case, "error", {"message": _xml(self.masked(outcome.reason))})
            elif outcome.verdict == SKIPPED:
                ElementTree.SubElement(case, "skipped", {"message": _xml(self.masked(outcome.reason))})
            elif details:
                ElementTree.SubElement(case, "system-out").text = details
        root = ElementTree.Element("testsuites")
        root.append(suite)
        ElementTree.indent(root)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """``text`` with what XML 1.0 cannot hold (control characters, lone surrogates) written as ``\\x00``."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        text)



def junit_target(path: str, *, sources: Iterable[str | None] = ()) -> Path:
    """Where ``--junit`` writes, refused before anything is sent when it cannot be written there: a directory, a
    device or a pipe, or one of the ``sources`` (the sketch, the environment file), which it would overwrite."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise CheckError(f"--junit {path}: is a directory, not a file", hint="--junit results/check.xml")
    if target.exists() and not target.is_file():  # /dev/stdout, a pipe: never replaced by a file
        raise CheckError(f"--junit {path}: is not a regular file (a device, a pipe): the XML is written to a file",
                         hint="--junit results/check.xml")
    for source in sources:
        if source and target.resolve() == Path(source).expanduser().resolve():
            raise CheckError(f"--junit {path}: the output is the source ({source}): it would be overwritten",
                             hint="--junit results/check.xml")
    return target


def write_junit(path: Path, report: Report) -> Path:
    """Write the report's JUnit XML to ``path`` whole (or not at all), saying why it cannot."""
    try:
        return atomicfile.replace_text(path, report.junit())
    except OSError as error:
        raise CheckError(f"cannot write the JUnit XML to {path}: {error.strerror or error}",
                         hint="--junit a file in a directory you can write to") from None


