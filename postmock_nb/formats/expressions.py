"""OpenAPI runtime expressions (``{$request.body#/callbackUrl}``) as our placeholders (``{{$body 'callbackUrl'}}``).

An operation's ``callbacks`` are keyed by a URL that holds runtime expressions in braces
(``{$request.query.url}/events?id={$request.body#/id}``), or is one expression. Each expression is
turned into the placeholder :mod:`postmock_nb.answers.templating` fills from the request that won the
example, so the callback is sent by the machinery ``x-mock-callback`` already has:

==================================  ==============================================
``$request.body``                    ``{{$body}}``
``$request.body#/a/b/0``             ``{{$body 'a.b.0'}}`` (a ``.`` in a key escaped as ``\\.``)
``$request.query.name``              ``{{$queryParams 'name'}}``
``$request.header.X-Hook``           ``{{$headers 'X-Hook'}}``
``$request.path.id``                 ``{{id}}`` (the operation's path variable)
``$method``                          the operation's method, as written
``$statusCode``                      the example's status
==================================  ==============================================

``$url`` and ``$response.…`` have no placeholder: :class:`Unmappable` says which, and the importer
skips that callback with a warning. Pure: no I/O, no spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

_EMBEDDED = re.compile(r"\{(\$[^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
"""A name a ``{{name}}`` placeholder can hold (templating's own pattern)."""


class Unmappable(ValueError):
    """A runtime expression no placeholder of ours stands for (its text is the reason)."""

    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(reason)
        self.expression = expression


@dataclass(frozen=True, slots=True)
class Scope:
    """What an expression may be filled from when it is translated: the operation's method and path
    variables, and the status of the example the callback goes with."""

    method: str
    path_variables: tuple[str, ...] = ()
    status: int = 200


def placeholder(expression: str, scope: Scope) -> str:
    """One runtime expression (without its braces) as the text that stands for it; raises :class:`Unmappable`."""
    text = expression.strip()
    if text == "$method":
        return scope.method.upper()
    if text == "$statusCode":
        return str(scope.status)
    if text.startswith("$request.body"):
        return _body(text)
    for prefix, part in (("$request.query.", "$queryParams"), ("$request.header.", "$headers")):
        if text.startswith(prefix):
            return f"{{{{{part} {_argument(text, text[len(prefix):])}}}}}"
    if text.startswith("$request.path."):
        name = text[len("$request.path."):]
        if name not in scope.path_variables:
            raise Unmappable(text, f"the operation's path has no variable {name!r}")
        if not _NAME.match(name):
            raise Unmappable(text, f"the path variable {name!r} cannot be a placeholder")
        return f"{{{{{name}}}}}"
    if text == "$url":
        raise Unmappable(text, "the request's whole URL has no placeholder")
    if text.startswith("$response."):
        raise Unmappable(text, "a callback is filled from the request, not from the response")
    raise Unmappable(text, "not a runtime expression ($request.body#/…, $request.query.…, $request.header.…, "
                           "$request.path.…, $method or $statusCode)")


def url_template(key: str, scope: Scope) -> str:
    """A callback's key (``{$request.body#/callbackUrl}``, ``http://h/{$request.query.id}``, or a bare
    ``$request.body#/url``) as a URL template of our placeholders; raises :class:`Unmappable`."""
    stripped = key.strip()
    if stripped.startswith("$") and "{" not in stripped:
        return placeholder(stripped, scope)
    return _EMBEDDED.sub(lambda found: placeholder(found.group(1), scope), stripped)


def _body(text: str) -> str:
    rest = text[len("$request.body"):]
    if not rest:
        return "{{$body}}"
    if not rest.startswith("#"):
        raise Unmappable(text, "a body reference is $request.body or $request.body#/json/pointer")
    pointer = rest[1:]
    if pointer == "":
        return "{{$body}}"
    if not pointer.startswith("/"):
        raise Unmappable(text, "a JSON pointer starts with '/'")
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]
    if any(not token for token in tokens):
        return _unmappable_empty(text)
    return f"{{{{$body {_argument(text, '.'.join(token.replace('.', chr(92) + '.') for token in tokens))}}}}}"


def _unmappable_empty(text: str) -> NoReturn:
    raise Unmappable(text, "an empty key in the JSON pointer cannot be looked up")


def _argument(text: str, value: str) -> str:
    """``value`` as one quoted argument of a placeholder."""
    if not value:
        raise Unmappable(text, "the name is empty")
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise Unmappable(text, "a name with both kinds of quotes cannot be a placeholder's argument")
