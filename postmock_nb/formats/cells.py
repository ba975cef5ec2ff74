"""Parsing ``%%example`` cells into examples (pure: no IPython here).

A cell looks like::

    %%example POST /users 201 --name "Create user"
    > Content-Type: application/json
    >
    > {"name": "Alice"}
    Location: /users/3

    {"id": 3, "name": "Alice"}

* The header line: ``METHOD PATH[?query] [STATUS] [options]`` (STATUS defaults to 200).
* Lines starting with ``>`` (first, optional) describe the request the example expects:
  header lines, then a ``>`` line on its own, then the request body. Headers listed there
  must match, and a request body must match, for this example to be chosen (they are saved
  as Postman's ``x-mock-match-request-headers`` / ``x-mock-match-request-body`` markers).
* Then the response: optional ``Name: value`` header lines ended by a blank line, then the
  body. Without a blank line the whole rest is the body.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from postmock_nb.core import limits, wire
from postmock_nb.core.bodies import looks_like_json
from postmock_nb.core.markers import (
    MATCH_BODY,
    MATCH_HEADERS,
    SSE_MARKER,
    WEBSOCKET_MARKER,
    check_markers,
    is_mock_name,
)
from postmock_nb.core.model import METHODS, Example, RequestSpec, ResponseSpec, new_id, path_with_query, reason_phrase
from postmock_nb.errors import ExampleDefinitionError

_HEADER_LINE = re.compile(r"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*:\s?(.*)$")
_PATH = re.compile(r"^/[^\s#]*$")


@dataclass(frozen=True)
class ExampleDefinition:
    """Everything a cell says, before it becomes an :class:`~postmock_nb.core.model.Example`."""

    method: str
    path: str
    status: int = 200
    query: tuple[tuple[str, str], ...] = ()
    name: str = ""
    response_headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    request_headers: tuple[tuple[str, str], ...] = ()
    request_body: str = ""
    folder: tuple[str, ...] = ()
    language: str = ""

    @property
    def display_name(self) -> str:
        return self.name or default_name(self.method, self.path, self.query, self.status)

    def to_example(self, example_id: str | None = None) -> Example:
        request_headers = list(self.request_headers)
        # Postman's own markers may be written in the request section (`> x-mock-match-request-body: contains`)
        markers = {k.lower() for k, _ in self.request_headers if is_mock_name(k)}
        names = ",".join(dict.fromkeys(k for k, _ in self.request_headers if not is_mock_name(k)))
        if names and MATCH_HEADERS not in markers:
            request_headers.append((MATCH_HEADERS, names))
        if self.request_body and MATCH_BODY not in markers:
            request_headers.append((MATCH_BODY, "true"))
        request = RequestSpec(method=self.method, path=self.path, query=self.query, headers=tuple(request_headers),
                              body=self.request_body,
                              body_language="json" if looks_like_json(self.request_body) else "")
        response = ResponseSpec(status=self.status, reason=reason_phrase(self.status), headers=self.response_headers,
                                body=self.body, preview_language=self.language)
        return Example(name=self.display_name, request=request, response=response, id=example_id or new_id())


def default_name(method: str, path: str, query: tuple[tuple[str, str], ...], status: int) -> str:
    """``GET /users?role=admin 200``: the name an example gets when the cell gives none."""
    return f"{method} {path_with_query(path, query)} {status}"


def parse_method(value: str) -> str:
    method = value.upper()
    if method not in METHODS:
        raise ExampleDefinitionError(f"unknown HTTP method {value!r}", location="header line",
                                     hint=f"use one of {', '.join(METHODS)}")
    return method


def parse_target(value: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``/users?role=admin`` → (``/users``, ((role, admin),))."""
    if value.lower().startswith(("http://", "https://", "{{")):
        raise ExampleDefinitionError(f"give only the path, not a full URL: {value!r}", location="header line",
                                     hint="write it as /users/:id — the mock's URL goes in front")
    path, _, query = value.partition("?")
    if not _PATH.match(path):
        raise ExampleDefinitionError(f"the path must start with '/' and have no spaces, got {value!r}",
                                     location="header line", hint="for example: %%example GET /users/:id 404")
    return path, tuple(parse_qsl(query, keep_blank_values=True))


def parse_status(value: str | None) -> int:
    if value is None:
        return 200
    if not (value.isascii() and value.isdigit() and len(value) <= 3) or not 100 <= int(value) <= 599:
        raise ExampleDefinitionError(f"the status must be a number from 100 to 599, got {wire.shorten(value)}",
                                     location="header line", hint="for example: %%example GET /users/:id 404")
    if wire.status_problem(int(value)):
        raise ExampleDefinitionError(wire.status_problem(int(value)), location="header line",
                                     hint="an example answers with a final status: 200-599")
    return int(value)


def parse_header(text: str, where: str) -> tuple[str, str]:
    found = _HEADER_LINE.match(text.strip())
    if not found:
        raise ExampleDefinitionError(f"not a header ('Name: value'): {text.strip()!r}", location=where,
                                     hint='write headers as "X-Total-Count: 2"')
    if wire.has_control(found.group(2)):
        raise ExampleDefinitionError(f"the value of header {found.group(1)} holds a control character: "
                                     f"{wire.shorten(found.group(2))}", location=where,
                                     hint="HTTP header values cannot carry control characters")
    return found.group(1), found.group(2).strip()


_UNQUOTED_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")


def _json_once_filled(body: str) -> bool:
    """Whether ``body`` parses as JSON with every ``{{placeholder}}`` replaced by a value (``0``)."""
    try:
        limits.loads(_UNQUOTED_PLACEHOLDER.sub("0", body))
    except ValueError:
        return False
    return True


def check_json(body: str, first_line: int, what: str, *, declared: bool = False) -> None:
    """Raise with the cell line and column when a body that looks (or is declared) JSON is not."""
    if not declared and not looks_like_json(body):
        return
    if limits.json_too_deep(body):
        raise ExampleDefinitionError(
            f"{what} nests JSON more than {limits.MAX_JSON_DEPTH} levels deep", location=f"cell line {first_line}",
            hint="flatten the JSON, or give a Content-Type other than JSON for a text body")
    try:
        limits.loads(body)  # its depth is checked above: only a JSONDecodeError (with its position) is left
    except json.JSONDecodeError as error:
        if "{{" in body and _json_once_filled(body):
            return  # {"id": {{userId}}}: JSON once its placeholders are filled, as Postman's docs write it
        raise ExampleDefinitionError(
            f"{what} is not valid JSON: {error.msg}",
            location=f"cell line {first_line + error.lineno - 1}, column {error.colno}",
            hint="fix the JSON, or give a Content-Type other than JSON for a text body") from None


@dataclass
class _Sections:
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: str = ""
    request_body_line: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    body_line: int = 2


def split_cell(cell: str, *, stream: bool = False, script: bool = False) -> _Sections:
    """Split the cell body into its request section, response headers and response body.

    ``stream`` (``--sse``): the response is the body alone (``data: hi`` is an event's line, not a header;
    response headers come from ``-H``). ``script`` (``%%websocket``): the whole cell is the body (its ``>``
    lines are the script's, not a request's). Line numbers are the cell's as a person sees it: line 1 is the
    ``%%example`` line.
    """
    lines = cell.split("\n")
    sections = _Sections()
    if script:
        _split_response(sections, lines, 0, stream=True)
        return sections
    index = 0
    request_lines: list[tuple[int, str]] = []
    while index < len(lines) and lines[index].startswith(">"):
        request_lines.append((index + 2, lines[index][1:].removeprefix(" ")))
        index += 1
    if request_lines:
        in_body = False
        body_lines: list[str] = []
        for number, text in request_lines:
            if in_body:
                body_lines.append(text)
            elif text.strip() == "":
                in_body = True
                sections.request_body_line = number + 1
            else:
                sections.request_headers.append(parse_header(text, f"cell line {number}"))
        sections.request_body = "\n".join(body_lines).strip("\n")
    rest = lines[index:]
    while rest and rest[0].strip() == "" and request_lines:
        rest, index = rest[1:], index + 1
    _split_response(sections, rest, index, stream=stream)
    return sections


def _split_response(sections: _Sections, rest: list[str], index: int, *, stream: bool) -> None:
    """The response's header lines (not in a ``stream``'s cell) and body, from ``rest`` (cell line ``index + 2`` on)."""
    blank = next((i for i, line in enumerate(rest) if line.strip() == ""), None)
    head = rest[:blank] if blank is not None else []
    if not stream and blank is not None and head and all(_HEADER_LINE.match(line.strip()) for line in head):
        sections.response_headers = [parse_header(line, f"cell line {index + i + 2}") for i, line in enumerate(head)]
        body_lines = rest[blank + 1:]
        sections.body_line = index + blank + 3
    else:
        body_lines = rest
        sections.body_line = index + 2
    while body_lines and body_lines[0].strip() == "":
        body_lines, sections.body_line = body_lines[1:], sections.body_line + 1
    sections.body = "\n".join(body_lines).rstrip()


def split_header_line(line: str) -> tuple[str, str, str | None]:
    """``GET /users 200`` → (method, path, status or None): the header line of ``%%example`` and ``define``."""
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise ExampleDefinitionError(f"cannot read the header line: {error}", location="header line",
                                     hint='quote values with spaces: --name "Get user"') from None
    if len(words) not in (2, 3):
        raise ExampleDefinitionError(f"expected METHOD PATH [STATUS], got {line!r}", location="header line",
                                     hint="for example: GET /users/:id 404")
    return words[0], words[1], (words[2] if len(words) == 3 else None)


def build_definition(method: str, target: str, status: str | None, cell: str, *, name: str = "",
                     headers: list[str] | None = None, request_headers: list[str] | None = None,
                     folder: str = "") -> ExampleDefinition:
    """Check everything a ``%%example`` cell says and build its definition (or raise). A cell whose request
    headers carry ``x-mock-sse: true`` (``--sse``) is a stream: its response is its body alone."""
    method = parse_method(method)
    path, query = parse_target(target)
    code = parse_status(status)
    option_headers = [parse_header(h, "--header option") for h in headers or []]
    all_request_headers = [parse_header(h, "--request-header option") for h in request_headers or []]
    sections = split_cell(cell, stream=any(k.lower() == SSE_MARKER and v.lower() == "true"
                                           for k, v in all_request_headers),
                          script=any(k.lower() == WEBSOCKET_MARKER and v.lower() == "true"
                                     for k, v in all_request_headers))
    all_request_headers += sections.request_headers
    check_markers(all_request_headers)  # x-mock-scenario, -sequence, -delay, -fault
    response_headers = option_headers + sections.response_headers
    content_type = _header(response_headers, "content-type")
    is_json_type = "json" in content_type.lower()
    _check_bodies(sections, code, is_json_type=is_json_type, content_type=content_type,
                  request_type=_header(all_request_headers, "content-type"))
    if looks_like_json(sections.body) and not content_type:
        response_headers.append(("Content-Type", "application/json"))
    if name and not name.strip():
        raise ExampleDefinitionError("the --name is empty", location="header line", hint='--name "Get user"')
    folders = tuple(part.strip() for part in folder.split("/") if part.strip()) if folder else ()
    language = "json" if (is_json_type or (not content_type and looks_like_json(sections.body))) else ""
    return ExampleDefinition(method=method, path=path, status=code, query=query, name=name.strip(),
                             response_headers=tuple(response_headers), body=sections.body,
                             request_headers=tuple(all_request_headers),
                             request_body=sections.request_body, folder=folders, language=language)


def _header(headers: list[tuple[str, str]], name: str) -> str:
    """The first value of header ``name`` (lower-case), or ""."""
    return next((v for k, v in headers if k.lower() == name), "")


def _check_bodies(sections: _Sections, code: int, *, is_json_type: bool, content_type: str,
                  request_type: str) -> None:
    """Raise for a response or request body that is not the JSON it looks (or is declared) to be, or a body
    that a 204, 205 or 304 cannot have."""
    if (is_json_type or not content_type) and sections.body:
        check_json(sections.body, sections.body_line, "the response body", declared=is_json_type)
    if sections.request_body:
        check_json(sections.request_body, sections.request_body_line, "the request body",
                   declared="json" in request_type.lower())
    if code in (204, 205, 304) and sections.body:
        raise ExampleDefinitionError(f"a {code} response has no body, but the cell gives one",
                                     location=f"cell line {sections.body_line}",
                                     hint=f"remove the body, or use another status than {code}")
