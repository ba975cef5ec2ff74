"""What connects a running mock to the real API: OpenAPI request validation, the proxy, the recorder.

The options are fields of :class:`~postmock_nb.config.MockConfig` (``validate_requests``, ``proxy``,
``record``); :meth:`Bridges.build` turns them into the objects that do the work. A :class:`Bridges`
is owned by the :class:`~postmock_nb.serving.app.MockApp` serving with it. It is immutable: the notebook
swaps the app's whole :class:`Bridges` to change the proxy and recorder while the mock runs (``%mock proxy``,
:meth:`with_proxies`), and the app reads that one attribute once per request.

"Proxy then record" is one method, :meth:`Bridges.answer_miss`: :mod:`.proxy` forwards and knows
nothing of recording, :mod:`.recording` turns an exchange into an example and knows nothing of the
proxy; this module is the one that puts the two together.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from postmock_nb.answers.responses import HttpResponse
from postmock_nb.bridges.dynamic import FreshBodies
from postmock_nb.bridges.recording import BodyTooLarge, Recorder, exchange_of

if TYPE_CHECKING:
    from postmock_nb.bridges.proxy import Proxy
    from postmock_nb.bridges.validation import RequestValidator
    from postmock_nb.config import MockConfig
    from postmock_nb.matching.store import CollectionStore

RawHeaders = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Bridges:
    """The app's collaborators towards the real API (all optional)."""

    request_validator: RequestValidator | None = None
    """``--validate-requests``: requests are checked against an OpenAPI document first (422)."""
    proxy: Proxy | None = None
    """``--proxy URL``: requests no example answers are forwarded there."""
    recorder: Recorder | None = None
    """``--record FILE``: every proxied answer becomes an example in that file."""
    fresh: FreshBodies | None = None
    """An OpenAPI document's fresh bodies (``--dynamic``, ``Prefer: dynamic=true``), or None without a document."""

    @classmethod
    def build(cls, config: MockConfig, *, spec: Any = None, store: CollectionStore | None = None) -> Bridges:
        """The bridges ``config`` asks for. ``spec``: the OpenAPI document to validate against;
        ``store``: where recorded examples join the live collection (the notebook)."""
        validator = None
        if config.validate_requests and spec is not None:  # none: refused by postmock_nb.serving.build first
            # deferred: jsonschema (under the validator) is slow to import, and only --validate-requests needs it
            from postmock_nb.bridges.validation import RequestValidator

            validator = RequestValidator(spec)
        fresh = None
        if spec is not None:
            fresh = FreshBodies(spec, config.seed)
            if config.dynamic:
                fresh.faker  # noqa: B018 - Faker (slow to import) loaded now, not on the first request
        proxy, recorder = proxies(config, store=store)
        return cls(validator, proxy, recorder, fresh)

    def with_proxies(self, proxy: Proxy | None, recorder: Recorder | None) -> Bridges:
        """These bridges with another proxy and recorder (the validator kept)."""
        return replace(self, proxy=proxy, recorder=recorder)

    async def answer_miss(self, method: str, path: str, query_string: bytes, headers: RawHeaders, body: bytes, *,
                          private: bool = False) -> tuple[HttpResponse, str, float]:
        """Proxy then record: forward a request no example answers, record the answer if asked.

        Returns the response to send, the log note and the upstream's latency in ms. A private
        mock's key (``x-api-key``) is the mock's, so it is not sent upstream; nor is its admin key
        (``x-postmock-admin-key``), whoever sends it.
        """
        proxy, recorder = self.proxy, self.recorder
        if proxy is None:
            raise RuntimeError("answer_miss needs a proxy (--proxy URL)")
        drop = frozenset({"x-postmock-admin-key", "x-api-key"} if private else {"x-postmock-admin-key"})
        proxied = await proxy.forward(method, path, query_string, headers, body, drop=drop)
        if recorder is not None and not proxied.error:
            exchange = exchange_of(method, path, query_string, headers, body, proxied.status, proxied.headers,
                                   proxied.body)
            try:
                await asyncio.to_thread(recorder.record, exchange, limit=proxy.max_bytes)
            except BodyTooLarge as error:  # a small gzip that expands past the limit: not recorded, not sent
                proxied = proxy.failed(502, "mockUpstreamTooLarge", str(error), proxied.latency_ms)
        note = proxied.note
        if recorder is not None and recorder.write_error:  # the writer thread's last failure, said where it is seen
            note += f"; the record file could not be written: {recorder.write_error}"
        return HttpResponse(proxied.status, list(proxied.headers), proxied.body), note, proxied.latency_ms



def proxies(config: MockConfig, *, store: CollectionStore | None = None) -> tuple[Proxy | None, Recorder | None]:
    """The proxy and the recorder of ``config`` (None for what it does not ask for)."""
    proxy = recorder = None
    if config.proxy is not None:
        # deferred: httpx (under the proxy) is slow to import, and only --proxy needs it
        from postmock_nb.bridges.proxy import Proxy

        proxy = Proxy(config.proxy)
    if config.record is not None:
        recorder = Recorder(config.record, store=store)
    return proxy, recorder
