"""Forwarding requests no example answers to a real API (``postmock serve … --proxy URL``).

A request the collection has no example for is sent to the upstream: same method, path
(after the upstream URL's own path), query, headers minus the hop-by-hop ones (``Host``
rewritten to the upstream's), and body. The upstream's answer comes back as it came:
status, headers (minus hop-by-hop and the length, which is worked out again) and the bytes
of the body, still compressed if they were. An upstream that is down answers 502, one that
is too slow 504; both with a JSON error naming the upstream and the cause.

The client is httpx's ``AsyncClient``, created on the server's own loop at the first
forwarded request and closed when the server shuts down. Upstream bodies are streamed in
and refused (502) past :data:`MAX_UPSTREAM_BYTES`, so a huge answer cannot fill memory; when
recording, a compressed body is also refused when it *decodes* past that limit (a gzip bomb).

The client keeps **no cookies**: its jar refuses every ``Set-Cookie`` (:class:`NoCookies`), so
the upstream's cookies go back to the client that got them and nowhere else; each request
carries exactly the ``Cookie`` header its client sent, or none. (httpx's default jar would
send one user's upstream session with every later user's requests.)
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from http.cookiejar import CookieJar, CookiePolicy, DefaultCookiePolicy
from typing import Any

import httpx

from postmock_nb.answers.responses import error_body
from postmock_nb.config import checked_upstream
from postmock_nb.core.limits import MAX_UPSTREAM_BYTES
from postmock_nb.core.wire import HOP_BY_HOP, connection_tokens

DEFAULT_TIMEOUT = 30.0

RawHeaders = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Proxied:
    """The upstream's answer (or the 502/504 standing in for it)."""

    status: int
    headers: RawHeaders
    body: bytes
    latency_ms: float
    upstream: str
    error: str = ""
    """Empty when the upstream answered; else what went wrong (the answer is then ours)."""

    @property
    def note(self) -> str:
        """What the log and the dashboard show for this request."""
        if self.error:
            return f"proxy to {self.upstream} failed: {self.error}"
        return f"proxied to {self.upstream} ({self.latency_ms:.0f} ms upstream)"


class NoCookies(DefaultCookiePolicy):
    """A cookie policy that accepts no cookie and returns none: the proxy is shared, its jar must stay empty."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


def no_cookie_jar() -> CookieJar:
    """An always empty jar (see :class:`NoCookies`)."""
    policy: CookiePolicy = NoCookies()
    return CookieJar(policy)


def check_upstream(url: str) -> str:
    """The upstream URL without a trailing slash, or a clear error (the check ``MockConfig.proxy`` makes)."""
    return checked_upstream(url)


def forwardable(headers: RawHeaders, *, drop: frozenset[str] = frozenset()) -> RawHeaders:
    """``headers`` without hop-by-hop ones (and those ``Connection`` names) or any in ``drop``."""
    named = connection_tokens([(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers
                               if k.lower() == b"connection"])
    skip = HOP_BY_HOP | named | drop
    return [(k, v) for k, v in headers if k.decode("latin-1").lower() not in skip]


def _error_body(status: int, name: str, upstream: str, cause: str) -> bytes:
    return error_body(name, "Upstream failed", cause, fields={"upstream": upstream})


class Proxy:
    """Forwards requests to one upstream. One per server; used on the server's loop only."""

    def __init__(self, upstream: str, *, timeout: float = DEFAULT_TIMEOUT,
                 max_bytes: int = MAX_UPSTREAM_BYTES, verify: bool | str = True) -> None:
        self.upstream = check_upstream(upstream)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.verify = verify
        """https upstreams: check certificates (True), against this CA bundle file (a path), or not (False)."""
        self._client: httpx.AsyncClient | None = None

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            verify: Any = self.verify
            if isinstance(verify, str):
                verify = ssl.create_default_context(cafile=verify)
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False,
                                             verify=verify, cookies=no_cookie_jar())
        return self._client

    async def aclose(self) -> None:
        """Close the client (at the server's shutdown); a later request makes a new one."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def url_for(self, path: str, query_string: bytes) -> str:
        return self.upstream + path + ("?" + query_string.decode("latin-1") if query_string else "")

    async def forward(self, method: str, path: str, query_string: bytes, headers: RawHeaders,
                      body: bytes, *, drop: frozenset[str] = frozenset()) -> Proxied:
        """Send the request upstream and read its answer (at most ``max_bytes`` of body).

        ``drop``: more request headers not to forward (a private mock's own ``x-api-key``).
        """
        started = time.perf_counter()
        sent = forwardable(headers, drop=frozenset({"host", "content-length"}) | drop)
        request = self._get_client().build_request(method, self.url_for(path, query_string),
                                                   headers=sent, content=body or None)
        try:
            response = await self._get_client().send(request, stream=True)
            try:
                chunks, size = [], 0
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > self.max_bytes:
                        return self._failed(502, "mockUpstreamTooLarge",
                                            f"the upstream's body is over {self.max_bytes} bytes "
                                            f"(the limit on upstream bodies)", started)
                    chunks.append(chunk)
            finally:
                await response.aclose()
        except httpx.TimeoutException as error:
            return self._failed(504, "mockUpstreamTimeout",
                                f"no answer within {self.timeout:g} s ({type(error).__name__})", started)
        except httpx.HTTPError as error:
            return self._failed(502, "mockUpstreamError", f"{type(error).__name__}: {error or 'no detail'}", started)
        kept = forwardable(list(response.headers.raw), drop=frozenset({"content-length"}))
        return Proxied(response.status_code, kept, b"".join(chunks), (time.perf_counter() - started) * 1000,
                       self.upstream)

    def _failed(self, status: int, name: str, cause: str, started: float) -> Proxied:
        return self.failed(status, name, cause, (time.perf_counter() - started) * 1000)

    def failed(self, status: int, name: str, cause: str, latency_ms: float) -> Proxied:
        """Our own JSON answer standing in for the upstream's (``name``: the error's name, ``cause``: why)."""
        return Proxied(status, [(b"content-type", b"application/json")],
                       _error_body(status, name, self.upstream, cause), latency_ms, self.upstream, cause)

