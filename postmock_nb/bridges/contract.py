"""Checking the real API against the sketch (``postmock check SOURCE --against URL``, ``%mock check URL``).

The requests come from :mod:`postmock_nb.bridges.contract_probes`, the report is
:mod:`postmock_nb.bridges.contract_report`'s. Every request of the sketch is sent to the real API, once: a
collection's examples (their method, their path with
its saved variable values, query, headers minus the ``x-mock-*`` markers, and body, ``{{vars}}`` resolved with the
collection's variables and the environment's, ``{{$guid}}``-style dynamic variables filled, a body with the
``Content-Type`` Postman's Send adds; examples that differ by a header are separate requests), or an OpenAPI
document's operations (the request Postman's Send would make from the document). Each request has one deadline,
``timeout`` seconds for its whole answer. Only GET, HEAD and OPTIONS are sent unless ``unsafe``: the others are
listed as skipped, and so are WebSocket examples. A Server-Sent Events answer is checked by its status and content
type, its body (which may never end) left unread.

A path parameter is filled the way contract tests fill it from examples (WireMock's, Prism's): a collection example's
saved value; for a resource's ``/orders/:id`` (which saves none) the id of the first record of its seed (the list
example's body); for an OpenAPI operation the parameter's ``example``, ``examples``, or its schema's ``example``,
``examples``, ``enum``, ``const`` or ``default``. A request with a parameter that has no value anywhere is skipped,
saying which (a value made up from a bare schema, ``/pets/string``, would only test the real API's 404).

Each answer is compared with what the sketch says (:class:`Expected`, one per status):

- the status: one of the statuses the examples of that request give, or (an OpenAPI source) any status the
  operation documents (``404``, ``4XX``, ``default``);
- the content type (its media type: ``application/json; charset=utf-8`` is ``application/json``);
- a JSON body against the schema: the document's response schema, or (a collection) one inferred from the
  example bodies of that request and status (:func:`postmock_nb.formats.inference.infer_schema`), by
  :func:`postmock_nb.bridges.drift.differences` (types, required fields, array items, ``enum``, ``format``;
  unexpected fields reported, failed only when ``strict`` or the schema says ``additionalProperties: false``).

The result is a :class:`Report`: one :class:`Outcome` per request (``ok``, ``drift``, ``skipped`` or ``error``),
as text, as rows for the notebook's table, and as JUnit XML. Credentials never reach it: the values of the headers
given with ``--header``, of credential headers, and of environment variables with secret-sounding names are
masked wherever they would appear (a URL, an error message).
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from postmock_nb.bridges.contract_probes import NOT_JSON, TOO_DEEP, parsed_json, resolved, secrets_of, unsendable_header
from postmock_nb.bridges.contract_report import CheckError, Expected, Outcome, Probe, Report
from postmock_nb.bridges.drift import DRIFT, ERROR, OK, SKIPPED, Difference, differences
from postmock_nb.bridges.proxy import no_cookie_jar
from postmock_nb.config import CHECK_MAX_TIMEOUT_S, CHECK_TIMEOUT_S
from postmock_nb.core import limits
from postmock_nb.core.masking import shown_url
from postmock_nb.core.model import Pairs
from postmock_nb.core.wire import media_type
from postmock_nb.formats.openapi import (
    Spec,
    is_json_type,
    pointer,
)

DEADLINE_GRACE_S = 0.5
"""How long past a request's timeout its answer may still be on its way before the check gives up on it: the
body's reads are cut at the deadline, but an upstream can trickle its status line and headers a byte at a time
(each read within the timeout), which only a wall clock stops."""

EVENT_STREAM = "text/event-stream"
"""An answer of this type (Server-Sent Events) is checked by its status and type; its body, which may never
end, is not read."""

# -- sending and comparing ---------------------------------------------------------------------


@dataclass
class Checker:
    """Sends probes to ``against`` (an http(s) URL: the requests' paths follow its own path) and compares answers."""

    against: str
    timeout: float = CHECK_TIMEOUT_S
    strict: bool = False
    lookup: Callable[[str], Any] | None = None
    """What a ``$ref`` in a document's schema points to (``Spec.lookup``)."""
    max_bytes: int = limits.MAX_UPSTREAM_BYTES
    verify: bool = True
    option: str = "--against"
    """How the user gave the URL, for messages (``%mock check`` takes it as its argument)."""

    def __post_init__(self) -> None:
        shown = f"{self.option} {shown_url(self.against)!r}"
        try:
            url = httpx.URL(self.against)
        except (httpx.InvalidURL, ValueError) as error:
            raise CheckError(f"{shown} is not a URL ({error})", hint=f"{self.option} https://api.example.com") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise CheckError(f"{shown} is not an http(s) URL", hint=f"{self.option} https://api.example.com")
        if url.query or url.fragment or "?" in self.against or "#" in self.against:
            raise CheckError(f"{shown} has a query or a fragment: give the base URL the requests' paths follow",
                             hint=f"{self.option} https://api.example.com/v1")
        if not 0 < self.timeout <= CHECK_MAX_TIMEOUT_S:
            raise CheckError(f"--timeout must be more than 0 and at most {CHECK_MAX_TIMEOUT_S:g} seconds, "
                             f"not {self.timeout:g}", hint="--timeout 10")
        self.against = self.against.rstrip("/")

    def run(self, probes: Iterable[Probe]) -> list[Outcome]:
        """Every probe's outcome, in the probes' order; the DELETEs are sent after the others (with ``--unsafe``,
        a record deleted first would answer the PATCH or GET of it that follows 404: drift the check made)."""
        probes = list(probes)
        with httpx.Client(timeout=httpx.Timeout(self.timeout), follow_redirects=False, trust_env=False,
                          verify=self.verify, cookies=no_cookie_jar()) as client:
            sent = {index: self.check(client, probes[index])
                    for index in sorted(range(len(probes)), key=lambda index: probes[index].method == "DELETE")}
        return [sent[index] for index in range(len(probes))]

    def check(self, client: httpx.Client, probe: Probe) -> Outcome:
        if probe.skipped:
            return Outcome(probe, SKIPPED, reason=probe.skipped)
        problem = next((p for name, value in probe.headers if (p := unsendable_header(name, value))), "")
        if problem:
            return Outcome(probe, ERROR, reason=f"cannot send the header {problem}")
        started = time.perf_counter()
        try:
            status, headers, body = self._send_by_the_deadline(client, probe, started + self.timeout)
        except httpx.TimeoutException as error:
            return Outcome(probe, ERROR, elapsed_ms=_since(started),
                           reason=f"no answer within {self.timeout:g} s ({type(error).__name__})")
        except _Unread as error:
            return Outcome(probe, ERROR, elapsed_ms=_since(started), reason=str(error))
        except httpx.HTTPError as error:
            return Outcome(probe, ERROR, elapsed_ms=_since(started), reason=f"{type(error).__name__}: {error}")
        answered_ms = _since(started)  # the answer's time, not the comparison's
        content_type = media_type(headers.get("content-type", ""))
        found = self.compare(probe, status, content_type, body)
        verdict = DRIFT if any(d.fails for d in found) else OK
        return Outcome(probe, verdict, tuple(found), status, content_type, answered_ms)

    def _send_by_the_deadline(self, client: httpx.Client, probe: Probe,
                              deadline: float) -> tuple[int, httpx.Headers, bytes]:
        """:meth:`_send` on a thread of its own, given up ``timeout`` (and :data:`DEADLINE_GRACE_S`) later whatever it
        is waiting for: the thread (a daemon: it never holds the process) is left to the upstream, which gets no
        more requests on that connection, and the check goes on."""
        found: dict[str, Any] = {}
        done = threading.Event()

        def send() -> None:
            try:
                found["answer"] = self._send(client, probe, deadline)
            except BaseException as error:  # noqa: BLE001 - handed to the caller as it is
                found["error"] = error
            finally:
                done.set()

        threading.Thread(target=send, name="postmock-check", daemon=True).start()
        if not done.wait(self.timeout + DEADLINE_GRACE_S):
            raise _Unread(f"no whole answer within {self.timeout:g} s (its status line and headers still coming)")
        if "error" in found:
            raise found["error"]
        answer: tuple[int, httpx.Headers, bytes] = found["answer"]
        return answer

    def _send(self, client: httpx.Client, probe: Probe, deadline: float) -> tuple[int, httpx.Headers, bytes]:
        """Send the probe; its answer's status, headers and body (at most ``max_bytes``, read by ``deadline``:
        each read waits at most ``timeout`` too, so an answer that trickles in is cut at the deadline)."""
        try:
            request = client.build_request(probe.method, self.against + probe.path,
                                           params=list(probe.query) or None, headers=list(probe.headers),
                                           content=probe.body.encode("utf-8", "surrogatepass") or None)
        except (httpx.InvalidURL, ValueError) as error:  # UnicodeError too
            raise _Unread(f"cannot be sent: {error}") from None
        response = client.send(request, stream=True)
        try:
            chunks, size = [], 0
            if media_type(response.headers.get("content-type", "")) == EVENT_STREAM:
                return response.status_code, response.headers, b""  # a stream may never end: not read
            for chunk in response.iter_bytes():  # decoded: a compressed bomb is cut at the limit too
                size += len(chunk)
                if size > self.max_bytes:
                    raise _Unread(f"the answer's body is over {self.max_bytes} bytes (not read further)")
                if time.perf_counter() > deadline:
                    raise _Unread(f"no whole answer within {self.timeout:g} s ({size} bytes of the body came)")
                chunks.append(chunk)
        finally:
            response.close()
        return response.status_code, response.headers, b"".join(chunks)

    def compare(self, probe: Probe, status: int, content_type: str, body: bytes) -> list[Difference]:
        """How the answer differs from what the probe expects (status, content type, body)."""
        expected = _for_status(probe.expected, status)
        if expected is None:
            codes = " or ".join(e.code for e in probe.expected) or "(none)"
            return [Difference("status", f"expected {codes}, got {status}")]
        if not expected.media:
            return []
        chosen = next((m for m in expected.media if _media_fits(m[0], content_type)), None)
        if chosen is None:
            wanted = " or ".join(m[0] for m in expected.media)
            return [Difference("content-type", f"expected {wanted}, got {content_type or '(none)'}")]
        schema = chosen[1]
        if schema is None or probe.method == "HEAD" or not is_json_type(content_type):
            return []
        text = body.decode("utf-8", "replace")
        value = parsed_json(text)
        if value is TOO_DEEP:
            return [Difference("body", f"JSON nested too deep to compare (over {limits.MAX_JSON_DEPTH} levels)")]
        if value is NOT_JSON:
            return [Difference("body", f"expected JSON, got {limits.shorten(text[:60])!r}")]
        return differences(value, schema, lookup=self.lookup or _nothing, strict=self.strict)


class _Unread(Exception):
    """The answer cannot be had: too large, too slow, or the request cannot be made; the message says which."""


def _nothing(ref: str) -> Any:
    return {}


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _for_status(expected: tuple[Expected, ...], status: int) -> Expected | None:
    """The expectation for this status: its own code, else its range (``4XX``), else ``default``."""
    by_code = {e.code.upper(): e for e in expected}
    return by_code.get(str(status)) or by_code.get(f"{status // 100}XX") or by_code.get("DEFAULT")


def _media_fits(documented: str, received: str) -> bool:
    if documented in ("", "*/*") or documented == received:
        return True
    head, _, tail = documented.partition("/")
    return tail == "*" and received.startswith(head + "/")


def check(probes: list[Probe], *, against: str, source: str = "", headers: Pairs = (),
          variables: Mapping[str, str] | None = None, unsafe: bool = False, strict: bool = False,
          timeout: float = CHECK_TIMEOUT_S, spec: Spec | None = None, option: str = "--against",
          secret_names: Iterable[str] = ()) -> Report:
    """Send every probe (variables resolved, ``headers`` laid over) to ``against`` and report how they differ.
    A password in ``against`` is shown as ``***``; it, the credentials and the variables :func:`secrets_of` finds
    (``secret_names``: an environment's values of type ``secret``) are masked wherever they would appear."""
    variables = dict(variables or {})
    checker = Checker(against, timeout=timeout, strict=strict, option=option,
                      lookup=(lambda ref: spec.lookup(ref, pointer())) if spec is not None else None)
    sent = [resolved(probe, variables, headers, unsafe) for probe in probes]
    sent_pairs = tuple(pair for probe in sent for pair in (*probe.headers, *probe.query))
    password = urllib.parse.urlsplit(checker.against).password
    secrets = secrets_of(headers + sent_pairs, variables, secret_names)
    secrets += (password,) if password and len(password) >= 4 else ()
    return Report(tuple(checker.run(sent)), shown_url(checker.against), source, secrets)

