"""Credentials in an exported OpenAPI document (:mod:`postmock_nb.formats.openapi_export`): the request headers that
carry one become ``components/securitySchemes`` and each operation's ``security`` (``Authorization: Bearer`` →
``bearerAuth``, ``Basic`` → ``basicAuth``, an ``X-API-Key`` header → an ``apiKey`` scheme), never a header
parameter; the collection's variables are written with a credential's value masked and a URL's password left out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from postmock_nb.core import masking, wire
from postmock_nb.core.markers import is_mock_name
from postmock_nb.core.model import Example
from postmock_nb.core.text import free_name

_NOT_KEY = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Schemes:
    """``components/securitySchemes`` as the operations' credentials find them: one scheme per kind of credential
    (``Authorization: Bearer`` → ``bearerAuth``, an ``X-API-Key`` header → ``X-API-Key``), a key taken by another
    kind numbered (``X-API-Key2``)."""

    found: dict[str, dict[str, str]] = field(default_factory=dict)
    keys: dict[tuple[str, str], str] = field(default_factory=dict)

    def key(self, name: str, value: str) -> str | None:
        """The key of the scheme the request header ``name: value`` is a credential of, None when it is none."""
        credential = _credential(name, value)
        if credential is None:
            return None
        identity, base, definition = credential
        if identity not in self.keys:
            key = free_name(base, self.found)
            self.keys[identity] = key
            self.found[key] = definition
        return self.keys[identity]


def without_password(value: str) -> str:
    """A URL with a password (``https://user:pass@host/x``) without its user and password (``https://host/x``);
    any other value as it is."""
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return value
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl() if password else value


def exported_variables(variables: Sequence[tuple[str, str]], warnings: list[str]) -> list[list[str]]:
    """``x-postmock-variables``: the collection's variables, a credential's value masked (a name
    :func:`postmock_nb.core.masking.is_secret_parameter` calls secret: ``apiKey``, ``token``) and said in a
    warning: the mock served from the file fills ``{{apiKey}}`` with the masked value until it is set again; a
    URL's password (``https://user:pass@host``) left out with its user."""
    written, masked = [], []
    for name, value in variables:
        shown = masking.mask(value) if value and masking.is_secret_parameter(name) else without_password(value)
        if shown != value:
            masked.append(name)
        written.append([name, shown])
    if masked:
        warnings.append(f"variables {', '.join(masked)} are credentials or hold one: masked in x-postmock-variables "
                        "(set them again where the file is served)")
    return written



NOT_PARAMETERS = wire.HOP_BY_HOP | {"content-type", "accept", "content-length", "host", "connection", "cookie"}
"""Request headers that are no header parameter: what the media types say (Content-Type, Accept), the connection's
and the framing (hop-by-hop ones, Host, Content-Length) and the cookies."""
_AUTH_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*")


def _credential(name: str, value: str) -> tuple[tuple[str, str], str, dict[str, str]] | None:
    """The security scheme a request header is a credential of: (what tells it from the others, its key's base, its
    definition), or None: ``Authorization: <scheme> …`` → HTTP ``<scheme>`` (``bearerAuth``, ``basicAuth``),
    ``Authorization`` without a scheme and a header whose name says it carries a credential
    (:func:`postmock_nb.core.masking.is_secret_header`: ``X-API-Key``, ``X-Auth-Token``…) → an API key in that
    header. A credential sent empty is none."""
    lowered = name.lower()
    if lowered in NOT_PARAMETERS or not value.strip() or not masking.is_secret_header(lowered):
        return None
    if lowered == "authorization":
        word, _, rest = value.strip().partition(" ")
        if rest.strip() and _AUTH_SCHEME.fullmatch(word):
            scheme = word.lower()
            return ("http", scheme), f"{scheme}Auth", {"type": "http", "scheme": scheme}
    base = _NOT_KEY.sub("_", name).strip("_") or "apiKey"
    return ("apiKey", lowered), base, {"type": "apiKey", "in": "header", "name": name}


def operation_security(examples: Sequence[Example], schemes: Schemes) -> list[dict[str, list[str]]]:
    """The operation's ``security``: each set of credentials an example sends is one requirement (alternatives),
    ``{}`` (none needed) last when an example sends none; no ``security`` when no example sends one."""
    requirements: list[dict[str, list[str]]] = []
    for example in examples:
        keys = (schemes.key(key, value) for key, value in example.request.headers if not is_mock_name(key))
        requirement: dict[str, list[str]] = {key: [] for key in keys if key is not None}
        if requirement not in requirements:
            requirements.append(requirement)
    return [] if requirements == [{}] else sorted(requirements, key=lambda requirement: not requirement)
