"""Callbacks (webhooks): requests a handler asks the mock to send once it has answered.

``mock.callback("POST", url, json=..., delay=2.0)`` in a handler (or ``request.callback(...)``) records a
:class:`Callback` on the request being handled; the app sends it after the response went out, on the
server's loop (:mod:`postmock_nb.serving.callbacks`). Only hosts the mock allows are called
(:func:`allowed`): loopback always, others only when named with ``--callback-allow``, so a team mock
cannot be made into a request forwarder.
"""

from __future__ import annotations

import contextvars
import json as jsonlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from postmock_nb.core.masking import mask
from postmock_nb.errors import ExampleDefinitionError

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
"""The hosts every mock may call back (``--callback-allow`` adds to them)."""
MAX_CALLBACKS = 16
"""Callbacks one handler call may ask for (more is a mistake, answered 500 with the reason)."""
MAX_DELAY_S = 600.0
MAX_BODY_BYTES = 1024 * 1024
"""The largest callback body a handler may send."""
MAX_RETRIES = 5
RETRY_BASE_S = 0.5
"""The wait before the first retry; each next one waits twice as long (0.5 s, 1 s, 2 s, 4 s, 8 s)."""
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""What a URL cannot hold (a line break, NUL...): sent, it would be refused or split the request line."""

_PENDING: contextvars.ContextVar[list[Callback] | None] = contextvars.ContextVar("postmock_callbacks", default=None)


class CallbackError(ExampleDefinitionError):
    """A callback asked for wrongly (a bad method, URL, body or delay), or outside a handler."""


@dataclass(frozen=True, slots=True)
class Callback:
    """One request to send after the response: what, where, with what, and how long after."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    delay_s: float = 0.0
    retries: int = 0
    """Tries after the first when the receiver cannot be reached or answers 5xx (waits: :data:`RETRY_BASE_S` × 2ⁿ)."""

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def shown_url(self) -> str:
        """The URL as the log shows it: a password in it masked."""
        return shown_url(self.url)


def shown_url(url: str) -> str:
    """``url`` with the credentials of its user part masked (``http://ann:…@host/``)."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    user = parts.username or ""
    hidden = f"{mask(user)}:{mask(parts.password)}" if parts.password is not None else mask(user)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{hidden}@{host}", parts.path, parts.query, parts.fragment))


def allowed(host: str, allow: tuple[str, ...]) -> bool:
    """Whether ``host`` may be called back: loopback, a host named in ``allow``, or one under a ``*.domain``
    of it. Names are compared without case and without a trailing dot; ``[::1]`` as ``::1``."""
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        return False
    if host in LOOPBACK:
        return True
    for rule in allow:
        rule = rule.strip().strip("[]").rstrip(".").lower()
        if rule.startswith("*.") and host.endswith(rule[1:]) and len(host) > len(rule) - 1:
            return True
        if host == rule:
            return True
    return False


def refusal(callback: Callback, allow: tuple[str, ...]) -> str:
    """Why ``callback`` may not be sent ("" when it may)."""
    if allowed(callback.host, allow):
        return ""
    named = ", ".join(allow) if allow else "none"
    return (f"refused: host {callback.host!r} is not allowed (loopback only, plus --callback-allow: {named}); "
            f"start the mock with --callback-allow {callback.host} to allow it")


def build(method: str, url: str, *, json: Any = None, data: str | bytes | None = None,
          headers: Mapping[str, str] | None = None, delay: float = 0.0, retries: int = 0) -> Callback:
    """A checked :class:`Callback` (raises :class:`CallbackError` with the reason)."""
    verb = str(method).upper()
    if verb not in METHODS:
        raise CallbackError(f"a callback's method must be one of {', '.join(sorted(METHODS))}, got {method!r}",
                            hint='mock.callback("POST", url, json={...})')
    _check_url(str(url))
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= MAX_DELAY_S:
        raise CallbackError(f"a callback's delay must be 0-{MAX_DELAY_S:g} seconds, got {delay!r}", hint="delay=2.0")
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise CallbackError(f"a callback's retries must be 0-{MAX_RETRIES}, got {retries!r}", hint="retries=3")
    if json is not None and data is not None:
        raise CallbackError("a callback takes json= or data=, not both")
    sent = {str(k): str(v) for k, v in (headers or {}).items()}
    if json is not None:
        body = jsonlib.dumps(json, ensure_ascii=False).encode()
        if not any(k.lower() == "content-type" for k in sent):
            sent["Content-Type"] = "application/json"
    else:
        body = data.encode() if isinstance(data, str) else bytes(data or b"")
    if len(body) > MAX_BODY_BYTES:
        raise CallbackError(f"a callback's body may be at most {MAX_BODY_BYTES} bytes, got {len(body)}")
    return Callback(verb, str(url), tuple(sent.items()), body, float(delay), retries)


def _check_url(url: str) -> None:
    """Raise :class:`CallbackError` unless ``url`` is an absolute http(s) URL an HTTP client can send: a request's
    body may fill it (``x-mock-callback: POST {{$body 'callback_url'}}``), so what it holds is the caller's
    mistake (an unclosed ``[``, a port above 65535, a control character), said in the callback's row."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - read for its check: a port that is no number, or above 65535, raises
    except ValueError as error:
        parts, why = None, f" ({error})"
    else:
        why = " (a control character)" if _CONTROL.search(url) else ""
    if parts is None or why or parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackError(f"a callback's URL must be an absolute http(s) URL, got {url[:200]!r}{why}",
                            hint='mock.callback("POST", "http://127.0.0.1:8000/hook", ...)')


def ask(callback: Callback) -> None:
    """Record ``callback`` on the handler call running now (raises :class:`CallbackError` outside one)."""
    pending = _PENDING.get()
    if pending is None:
        raise CallbackError("mock.callback(...) is called from inside a handler, while it answers a request",
                            hint="@mock.handler('POST /payments')\ndef pay(request):\n"
                                 "    mock.callback('POST', request.json['callback_url'], json={...})")
    if len(pending) >= MAX_CALLBACKS:
        raise CallbackError(f"a handler call may ask for at most {MAX_CALLBACKS} callbacks")
    pending.append(callback)


def collecting(into: list[Callback]) -> contextvars.Token[list[Callback] | None]:
    """Let :func:`ask` record into ``into`` in this context (reset with :func:`done`)."""
    return _PENDING.set(into)


def done(token: contextvars.Token[list[Callback] | None]) -> None:
    _PENDING.reset(token)
