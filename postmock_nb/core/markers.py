"""Every ``x-mock-*`` name, the one reader of the ``head; key=value`` marker syntax, and an example's markers.

Three kinds of ``x-mock-*`` names (Postman's and ours), all spelled here and imported from here:

- what a request may send (header, or query parameter of the same name): the selectors
  (``x-mock-response-code``/``-id``/``-name``), the switches (``x-mock-match-request-*``), the
  request's delay and fault;
- what the mock adds to a matched response (``x-mock-example-id``, ``x-mock-example-name``, ``x-mock-score``);
- what an example saves in its request headers (markers: never matched, ignored by Postman, kept by
  ``%mock save``/``load``): the ``x-mock-match-request-*`` switches, a handler, a resource, a
  scenario step, a sequence, a delay, a fault and a Server-Sent Events stream (``x-mock-sse``, ``x-mock-interval``).

An example's markers are read once, when a snapshot compiles it (:func:`read_markers`), into a
frozen :class:`Markers`; everything that serves the example reads that record. A marker that cannot
be read is left out there (a loaded file is served as saved); a ``%%example`` cell checks its markers
when it is defined (:func:`check_markers`), with a clear error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from postmock_nb.config import FAULTS, MAX_DELAY_MS
from postmock_nb.errors import ExampleDefinitionError

MOCK_PREFIX = "x-mock-"

# -- what a request sends ----------------------------------------------------------------------------
RESPONSE_CODE = "x-mock-response-code"
RESPONSE_ID = "x-mock-response-id"
RESPONSE_NAME = "x-mock-response-name"
MATCH_HEADERS = "x-mock-match-request-headers"
MATCH_BODY = "x-mock-match-request-body"
MATCH_QUERY = "x-mock-match-request-query"
"""Ours: ``contains`` lets a request carry query parameters the example does not (they cost nothing)."""
RESPONSE_DELAY = "x-mock-response-delay"
RESPONSE_FAULT = "x-mock-response-fault"
"""The request's fault (header or query parameter), like the ``x-mock-response-*`` selectors."""
MOCK_SELECTORS = (RESPONSE_CODE, RESPONSE_ID, RESPONSE_NAME, MATCH_HEADERS, MATCH_BODY, MATCH_QUERY, RESPONSE_DELAY)
"""What a request may send as a header, or as a query parameter of the same name (browsers cannot
always set custom headers)."""

# -- what a request sends, in Prism's words ----------------------------------------------------------
PREFER = "prefer"
"""Prism's request header: ``Prefer: code=404, example=cat, dynamic=true, seed=7`` (RFC 7240 preferences)."""
PREFER_EXAMPLE = "example"
"""The selector an OpenAPI example's key (``examples: {cat: …}``) answers to (``Prefer: example=cat``)."""
PREFER_DYNAMIC = "dynamic"
"""``true``: a fresh body made from the response's schema; ``false``: the saved example (beats ``--dynamic``)."""
PREFER_SEED = "seed"
"""The seed of this request's fresh body (the same seed, the same body)."""
PREFER_KEYS = {"code": RESPONSE_CODE, "example": PREFER_EXAMPLE, "dynamic": PREFER_DYNAMIC, "seed": PREFER_SEED}
"""Each preference Prism reads → the selector it is (``code`` is ``x-mock-response-code``); others are ignored."""
PREFER_QUERY = {"__" + key: selector for key, selector in PREFER_KEYS.items()}
"""Prism's query-parameter forms (``?__code=404&__example=cat&__dynamic=true&__seed=7``), read when no
``Prefer`` header is sent."""

# -- what the mock adds to a matched response --------------------------------------------------------
EXAMPLE_ID_HEADER = "x-mock-example-id"
EXAMPLE_NAME_HEADER = "x-mock-example-name"
SCORE_HEADER = "x-mock-score"

# -- what an example saves in its request headers ----------------------------------------------------
HANDLER_MARKER = "x-mock-handler"
"""The request header (a marker Postman ignores) that names the handler an example stands for."""
RESOURCE_MARKER = "x-mock-resource"
"""``name=users; op=get; id=id``: one operation of a resource."""
SCENARIO_MARKER = "x-mock-scenario"
SEQUENCE_MARKER = "x-mock-sequence"
DELAY_MARKER = "x-mock-delay"
FAULT_MARKER = "x-mock-fault"
"""The example's fault (a marker in its saved request headers)."""
SSE_MARKER = "x-mock-sse"
"""``true``: the example's body is a Server-Sent Events stream, sent one event at a time (Postman sends it whole)."""
INTERVAL_MARKER = "x-mock-interval"
"""The pause between two events of an ``x-mock-sse`` stream, ms (default 0)."""
OPENAPI_MARKER = "x-mock-openapi"
"""``#/paths/~1pets/get/responses/200/content/application~1json/examples/cat``: where in its OpenAPI document the
example comes from (the import saves it): its media type object (and example key, for a named example), so that
``Prefer: example=cat`` finds it by key and ``--dynamic`` finds its schema."""
WEBSOCKET_MARKER = "x-mock-websocket"
"""``true``: the example is a ``%%websocket`` script (its body), played on a WebSocket upgrade of its path;
``x-mock-interval`` spaces the ``<`` messages, ``x-mock-repeat: true`` plays it again and again.
``handler``: a Python socket handler (``@mock.websocket``, its key in ``x-mock-handler``) answers the upgrades."""
SOCKET_HANDLER = "handler"
REPEAT_MARKER = "x-mock-repeat"
TIMEOUT_MARKER = "x-mock-timeout"
"""How long each ``>`` step of a ``%%websocket`` script waits for a matching message, seconds (default 10)."""
MAX_EXPECT_TIMEOUT_S = 3600.0
CALLBACK_MARKER = "x-mock-callback"
"""``POST <url>; delay=2000``: a request the mock sends after answering with this example (placeholders filled
from the triggering request); only to loopback and ``--callback-allow`` hosts."""
CALLBACK_BODY_MARKER = "x-mock-callback-body"
"""The body of the example's callback (a template, like a response body); JSON bodies are sent as JSON."""
BASE_PATH_MARKER = "x-mock-base-path"
"""``/v1``: the example's path begins with this base path (an OpenAPI document's ``servers``); a request may leave it
out (``GET /pets`` for ``/v1/pets``), as ``prism mock`` serves a document at the root."""
CODE_MARKERS = frozenset({HANDLER_MARKER, RESOURCE_MARKER})
"""The markers of an example answered by Python (a handler's or a resource's)."""

# -- values ------------------------------------------------------------------------------------------
CONTAINS = "contains"
"""The value of a body or query switch that asks for "contains the example's fields" instead of equality."""
SEQUENCE_MODES = ("cycle", "stick", "random")
_ALIASES = {"sequential": "cycle"}


class FaultError(ValueError):
    """A fault name that is not one of :data:`FAULTS`."""


def is_mock_name(name: str) -> bool:
    """``X-Mock-Response-Code`` and the like: ours, never compared as a plain header or parameter."""
    return name.lower().startswith(MOCK_PREFIX)


# -- the one reader of ``head; key=value`` -----------------------------------------------------------

def read_fields(text: str, *, headed: bool = True, strict: bool = True) -> tuple[str, dict[str, str]]:
    """``"jobs; requires=Started"`` → ``("jobs", {"requires": "Started"})``: a marker's head and fields.

    ``headed``: the first part is a head, not a field (``name=users; op=get`` has none: its head is "").
    ``strict`` (the scenario and sequence markers): a part that is not ``key=value`` raises, keys are
    lower-cased. Not strict (the resource marker, read from files as Postman keeps them): a part without
    ``=`` is a key with an empty value, keys are kept as written, an empty key is skipped.
    """
    parts = [part.strip() for part in text.split(";")]
    head = parts.pop(0) if headed else ""
    fields: dict[str, str] = {}
    for part in parts:
        key, eq, value = part.partition("=")
        if strict:
            if not part:
                continue
            if not eq or not key.strip() or not value.strip():
                raise ExampleDefinitionError(f"cannot read {part!r} in {text!r}: expected key=value")
            fields[key.strip().lower()] = value.strip()
        elif key:
            fields[key.strip()] = value.strip()
    return head, fields


# -- each marker's value -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """An example's part in a scenario."""

    scenario: str
    requires: str | None = None
    next: str | None = None


@dataclass(frozen=True)
class Flow:
    """What an example's flow markers ask for (scenario step, sequence, delay, fault)."""

    step: Step | None = None
    sequence: str | None = None
    seed: int | None = None
    delay: tuple[int, int] | None = None
    fault: str | None = None


def parse_scenario(text: str) -> Step:
    """``"jobs; requires=Started; next=done"`` → Step (or a clear error)."""
    name, fields = read_fields(text)
    unknown = set(fields) - {"requires", "next"}
    if not name or unknown:
        raise ExampleDefinitionError(
            f"cannot read the scenario {text!r}" + (f": unknown {', '.join(sorted(unknown))}" if unknown else ""),
            hint="x-mock-scenario: jobs; requires=Started; next=done")
    return Step(name, fields.get("requires"), fields.get("next"))


def parse_sequence(text: str) -> tuple[str, int | None]:
    """``"random; seed=7"`` → ("random", 7)."""
    mode, fields = read_fields(text)
    mode = _ALIASES.get(mode.lower(), mode.lower())
    seed = fields.get("seed")
    if mode not in SEQUENCE_MODES or set(fields) - {"seed"} or (seed is not None and not seed.isdigit()):
        raise ExampleDefinitionError(f"cannot read the sequence {text!r}",
                                     hint="x-mock-sequence: cycle, stick, random or random; seed=7")
    return mode, int(seed) if seed is not None else None


def parse_delay(text: str) -> tuple[int, int]:
    """``"800"`` → (800, 800); ``"200-900"`` → (200, 900); milliseconds 0-MAX_DELAY_MS."""
    low, dash, high = text.strip().partition("-")
    high = high if dash else low
    if not (low.strip().isdigit() and high.strip().isdigit()) or not 0 <= int(low) <= int(high) <= MAX_DELAY_MS:
        raise ExampleDefinitionError(f"cannot read the delay {text!r}",
                                     hint=f"milliseconds 0-{MAX_DELAY_MS}: 800, or a range 200-900")
    return int(low), int(high)


def parse_fault(text: str) -> str:
    """``" Reset"`` → ``"reset"``; a name not in :data:`FAULTS` raises :class:`FaultError`."""
    name = text.strip().lower()
    if name not in FAULTS:
        raise FaultError(f"unknown fault {text!r}: one of {', '.join(FAULTS)}")
    return name


CALLBACK_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class CallbackMarker:
    """An example's callback as saved: the method, the URL and body templates, the delay (ms)."""

    method: str
    url: str
    body: str = ""
    delay_ms: int = 0
    retries: int = 0


def parse_callback(text: str, body: str = "") -> CallbackMarker:
    """``"POST {{$body 'callback_url'}}; delay=2000"`` (with the ``x-mock-callback-body`` text) → its record."""
    head, fields = read_fields(text)
    method, _, url = head.partition(" ")
    method, url = method.strip().upper(), url.strip()
    delay, retries = fields.pop("delay", "0"), fields.pop("retries", "0")
    if method not in CALLBACK_METHODS or not url or fields or not delay.isdigit() or int(delay) > 600_000 \
            or not retries.isdigit() or int(retries) > 5:
        raise ExampleDefinitionError(
            f"cannot read the callback {text!r}",
            hint="x-mock-callback: POST {{$body 'callback_url'}}; delay=2000; retries=3  "
                 "(a method, a URL, delay in ms, 0-5 retries)")
    if not url.startswith(("http://", "https://", "{{")):
        raise ExampleDefinitionError(f"the callback's URL must be an absolute http(s) URL, got {url!r}",
                                     hint="x-mock-callback: POST http://127.0.0.1:9000/hooks")
    return CallbackMarker(method, url, body, int(delay), int(retries))


def parse_resource(text: str) -> dict[str, str]:
    """``name=users; op=get; id=id`` → its fields (read as leniently as a file may write it)."""
    return read_fields(text, headed=False, strict=False)[1]


def header_names(value: str) -> tuple[str, ...]:
    """``"X-Role, accept"`` → ``("x-role", "accept")``: an ``x-mock-match-request-headers`` list."""
    return tuple(h.strip().lower() for h in value.split(",") if h.strip())


def is_on(value: str) -> bool:
    """An ``x-mock-match-request-body`` switch that is on (``true``, or ``contains``)."""
    return value.strip().lower() in ("true", CONTAINS)


def is_contains(value: str) -> bool:
    """An ``x-mock-match-request-body`` / ``x-mock-match-request-query`` switch asking for "contains"."""
    return value.strip().lower() == CONTAINS


def prefer_values(text: str) -> dict[str, str]:
    """``"code=404, example=cat"`` → ``{"x-mock-response-code": "404", "example": "cat"}``: the preferences of a
    ``Prefer`` header Prism reads, as selectors (a preference's ``; parameters`` and quotes dropped; the first of
    a repeated one counts; others, such as ``return=minimal``, are ignored)."""
    values: dict[str, str] = {}
    for part in text.split(","):
        key, _, value = part.split(";", 1)[0].partition("=")
        selector = PREFER_KEYS.get(key.strip().lower())
        if selector is not None:
            values.setdefault(selector, value.strip().strip('"'))
    return values


@dataclass(frozen=True, slots=True)
class OpenApiSource:
    """An ``x-mock-openapi`` pointer, read: the media type object's JSON pointer and the named example's key."""

    media: str
    """``#/paths/~1pets/get/responses/200/content/application~1json`` (its ``schema`` beside it)."""
    key: str = ""
    """The example's key in the media type's ``examples`` ("" for its ``example``, or one made from the schema)."""

    @property
    def schema(self) -> str:
        """The JSON pointer of the response's schema (which may not exist)."""
        return self.media + "/schema"

    @property
    def pointer(self) -> str:
        """The marker's value."""
        return f"{self.media}/examples/{escape_pointer(self.key)}" if self.key else self.media


def escape_pointer(part: str) -> str:
    """One JSON pointer segment (RFC 6901: ``~`` → ``~0``, ``/`` → ``~1``)."""
    return part.replace("~", "~0").replace("/", "~1")


def openapi_source(text: str) -> OpenApiSource | None:
    """An ``x-mock-openapi`` value read (None: none, or not a ``#/`` pointer)."""
    pointer = text.strip()
    if not pointer.startswith("#/"):
        return None
    media, examples, key = pointer.rpartition("/examples/")
    if examples and key and "/" not in key:
        return OpenApiSource(media, key.replace("~1", "/").replace("~0", "~"))
    return OpenApiSource(pointer)


# -- an example's markers, read once -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Markers:
    """Everything an example's saved ``x-mock-*`` request headers ask for, read once.

    ``code``: ``("handler", key)`` or ``("resource", marker text)`` — the first of the two markers —
    and ``resource`` that text's fields; ``flow``: the scenario step, sequence, delay and fault (None
    without any); the ``x-mock-match-request-*`` switches. A repeated marker: the last one that can be
    read counts (the first for a handler or resource).
    """

    code: tuple[str, str] | None = None
    resource: Mapping[str, str] | None = None
    flow: Flow | None = None
    required_headers: tuple[str, ...] = ()
    require_body: bool = False
    body_contains: bool = False
    query_contains: bool = False
    sse: int | None = None
    """An ``x-mock-sse`` stream's interval between events, ms (None: not a stream)."""
    openapi: OpenApiSource | None = None
    """Where in its OpenAPI document the example comes from (``x-mock-openapi``), or None."""
    runs_code: bool = False
    """A handler's or resource's example: never answered by edit distance (a path that is not its route)."""
    callback: CallbackMarker | None = None
    """The request the mock sends after answering with the example (``x-mock-callback``), or None."""
    websocket: tuple[int, bool, float | None] | None = None
    """A ``%%websocket`` script's interval (ms), whether it repeats, and how long a ``>`` step waits (s; None:
    the default, 10) (None: not a script)."""
    socket: bool = False
    """A Python socket handler's example (``x-mock-websocket: handler``; its key in :attr:`code`)."""
    base_path: str = ""
    """The base path a request may leave out (``x-mock-base-path``: ``/v1``), else empty."""

    @property
    def handler(self) -> str | None:
        """The handler's key, for a handler's example."""
        return self.code[1] if self.code is not None and self.code[0] == "handler" else None


NO_MARKERS = Markers()
"""The markers of an example that has none (shared: most examples)."""


def code_of(headers: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    """``("handler", key)`` or ``("resource", marker text)`` — the first of the two markers — or None: what
    :attr:`Markers.code` holds, found without reading the rest (for examples outside a snapshot)."""
    for key, value in headers:
        lowered = key.lower()
        if lowered in CODE_MARKERS:
            return lowered.removeprefix(MOCK_PREFIX), value
    return None


def read_markers(headers: Iterable[tuple[str, str]]) -> Markers:
    """An example's markers from its saved request headers (a marker that cannot be read is left out)."""
    found: dict[str, str] = {}
    code: tuple[str, str] | None = None
    flow_values: list[tuple[str, str]] = []
    for key, value in headers:
        lowered = key.lower()
        if not lowered.startswith(MOCK_PREFIX):
            continue
        found[lowered] = value
        if lowered in CODE_MARKERS:
            code = code or (lowered.removeprefix(MOCK_PREFIX), value)
        elif lowered in _FLOW_MARKERS:
            flow_values.append((lowered, value))
    if not found:
        return NO_MARKERS
    body = found.get(MATCH_BODY, "")
    return Markers(
        code=code, resource=parse_resource(code[1]) if code is not None and code[0] == "resource" else None,
        flow=_flow(flow_values) if flow_values else None, required_headers=header_names(found.get(MATCH_HEADERS, "")),
        require_body=is_on(body), body_contains=is_contains(body),
        query_contains=is_contains(found.get(MATCH_QUERY, "")), runs_code=code is not None,
        sse=_sse(found), openapi=openapi_source(found.get(OPENAPI_MARKER, "")),
        callback=_callback(found), websocket=_websocket(found),
        socket=found.get(WEBSOCKET_MARKER, "").strip().lower() == SOCKET_HANDLER and code is not None,
        base_path=_base_path(found.get(BASE_PATH_MARKER, "")))


def _base_path(text: str) -> str:
    """``/v1`` from an ``x-mock-base-path`` (``v1/`` reads the same; ``/`` or empty: none)."""
    stripped = text.strip().strip("/")
    return "/" + stripped if stripped else ""


def parse_interval(text: str) -> int:
    """``"250"`` → 250: an ``x-mock-interval`` in ms, 0-MAX_DELAY_MS."""
    if not text.strip().isdigit() or int(text) > MAX_DELAY_MS:
        raise ExampleDefinitionError(f"cannot read the interval {text!r}",
                                     hint=f"milliseconds between two events, 0-{MAX_DELAY_MS}: --interval 250")
    return int(text)


def sse_markers(*, sse: bool, interval: str = "") -> list[str]:
    """The marker header lines of ``%%example --sse [--interval MS]`` (checked)."""
    if interval and not sse:
        raise ExampleDefinitionError("--interval needs --sse", hint="--sse --interval 250")
    if not sse:
        return []
    lines = [f"{SSE_MARKER}: true"]
    if interval:
        parse_interval(interval)
        lines.append(f"{INTERVAL_MARKER}: {interval.strip()}")
    return lines


def _sse(found: Mapping[str, str]) -> int | None:
    """The interval of an ``x-mock-sse: true`` example (0 when its interval cannot be read), else None."""
    if found.get(SSE_MARKER, "").strip().lower() != "true":
        return None
    try:
        return parse_interval(found.get(INTERVAL_MARKER, "0"))
    except ExampleDefinitionError:
        return 0


def parse_timeout(text: str) -> float:
    """``"2.5"`` → 2.5: an ``x-mock-timeout`` in seconds, above 0 and at most MAX_EXPECT_TIMEOUT_S."""
    try:
        seconds = float(text.strip())
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= MAX_EXPECT_TIMEOUT_S:  # NaN fails too
        raise ExampleDefinitionError(
            f"cannot read the timeout {text!r}",
            hint=f"seconds a '>' step waits for a matching message, above 0 and at most {MAX_EXPECT_TIMEOUT_S:g}: "
                 "--timeout 2.5")
    return seconds


def websocket_markers(*, interval: str = "", repeat: bool = False, timeout: str = "") -> list[str]:
    """The marker header lines of ``%%websocket PATH [--interval MS] [--repeat] [--timeout S]`` (checked)."""
    lines = [f"{WEBSOCKET_MARKER}: true"]
    if interval:
        parse_interval(interval)
        lines.append(f"{INTERVAL_MARKER}: {interval.strip()}")
    if repeat:
        lines.append(f"{REPEAT_MARKER}: true")
    if timeout:
        parse_timeout(timeout)
        lines.append(f"{TIMEOUT_MARKER}: {timeout.strip()}")
    return lines


def socket_markers() -> list[str]:
    """The marker header line of a Python socket handler's example (``@mock.websocket``), beside its
    ``x-mock-handler`` key."""
    return [f"{WEBSOCKET_MARKER}: {SOCKET_HANDLER}"]


def _websocket(found: Mapping[str, str]) -> tuple[int, bool, float | None] | None:
    """A ``%%websocket`` script's interval, repeat and timeout (the interval 0, the timeout None: the default,
    when they cannot be read), else None."""
    if found.get(WEBSOCKET_MARKER, "").strip().lower() != "true":
        return None
    try:
        interval = parse_interval(found.get(INTERVAL_MARKER, "0"))
    except ExampleDefinitionError:
        interval = 0
    timeout: float | None = None
    if TIMEOUT_MARKER in found:
        try:
            timeout = parse_timeout(found[TIMEOUT_MARKER])
        except ExampleDefinitionError:
            timeout = None
    return interval, found.get(REPEAT_MARKER, "").strip().lower() == "true", timeout


def _callback(found: Mapping[str, str]) -> CallbackMarker | None:
    text = found.get(CALLBACK_MARKER)
    if text is None:
        return None
    try:
        return parse_callback(text, found.get(CALLBACK_BODY_MARKER, ""))
    except ExampleDefinitionError:
        return None


_FLOW_MARKERS = frozenset({SCENARIO_MARKER, SEQUENCE_MARKER, DELAY_MARKER, FAULT_MARKER})


def _flow(values: list[tuple[str, str]]) -> Flow | None:
    step: Step | None = None
    sequence: tuple[str, int | None] | None = None
    delay: tuple[int, int] | None = None
    fault: str | None = None
    for lowered, value in values:
        try:
            if lowered == SCENARIO_MARKER:
                step = parse_scenario(value)
            elif lowered == SEQUENCE_MARKER:
                sequence = parse_sequence(value)
            elif lowered == DELAY_MARKER:
                delay = parse_delay(value)
            else:
                fault = parse_fault(value)
        except (ExampleDefinitionError, FaultError):
            continue
    if step is None and sequence is None and delay is None and fault is None:
        return None
    mode, seed = sequence if sequence is not None else (None, None)
    return Flow(step, mode, seed, delay, fault)


def check_markers(headers: Iterable[tuple[str, str]]) -> None:
    """Raise a clear error for a flow marker that cannot be read (when a ``%%example`` cell is defined)."""
    for key, value in headers:
        lowered = key.lower()
        if lowered == SCENARIO_MARKER:
            parse_scenario(value)
        elif lowered == SEQUENCE_MARKER:
            parse_sequence(value)
        elif lowered == DELAY_MARKER:
            parse_delay(value)
        elif lowered == INTERVAL_MARKER:
            parse_interval(value)
        elif lowered == TIMEOUT_MARKER:
            parse_timeout(value)
        elif lowered == CALLBACK_MARKER:
            parse_callback(value)
        elif lowered == FAULT_MARKER:
            try:
                parse_fault(value)
            except FaultError as error:
                raise ExampleDefinitionError(str(error), hint="--fault reset (or x-mock-fault: reset)") from None
