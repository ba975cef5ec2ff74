"""What connects a running mock to the real API: OpenAPI request validation, the proxy, the recorder.

The options are fields of :class:`~postmock_nb.config.MockConfig` (``validate_requests``, ``proxy``,
``record``); :meth:`Bridges.build` turns them into the objects that do the work. A :class:`Bridges`
is owned by the :class:`~postmock_nb.serving.app.MockApp` serving with it. It is immutable: the notebook
swaps the app's whole :class:`Bridges` to change the proxy and recorder while the mock runs (``%mock proxy``,
:meth:`with_proxies`), and the app reads that one attribute once per request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from postmock_nb.bridges.proxy import Proxy
    from postmock_nb.bridges.recording import Recorder
    from postmock_nb.bridges.validation import RequestValidator
    from postmock_nb.config import MockConfig
    from postmock_nb.matching.store import CollectionStore


@dataclass(frozen=True)
class Bridges:
    """The app's collaborators towards the real API (all optional)."""

    request_validator: RequestValidator | None = None
    """``--validate-requests``: requests are checked against an OpenAPI document first (422)."""
    proxy: Proxy | None = None
    """``--proxy URL``: requests no example answers are forwarded there."""
    recorder: Recorder | None = None
    """``--record FILE``: every proxied answer becomes an example in that file."""

    @classmethod
    def build(cls, config: MockConfig, *, spec: Any = None, store: CollectionStore | None = None) -> Bridges:
        """The bridges ``config`` asks for. ``spec``: the OpenAPI document to validate against;
        ``store``: where recorded examples join the live collection (the notebook)."""
        validator = None
        if config.validate_requests and spec is not None:  # none: refused by postmock_nb.serving.build first
            from postmock_nb.bridges.validation import RequestValidator

            validator = RequestValidator(spec)
        proxy, recorder = proxies(config, store=store)
        return cls(validator, proxy, recorder)

    def with_proxies(self, proxy: Proxy | None, recorder: Recorder | None) -> Bridges:
        """These bridges with another proxy and recorder (the validator kept)."""
        return replace(self, proxy=proxy, recorder=recorder)


def proxies(config: MockConfig, *, store: CollectionStore | None = None) -> tuple[Proxy | None, Recorder | None]:
    """The proxy and the recorder of ``config`` (None for what it does not ask for)."""
    proxy = recorder = None
    if config.proxy is not None:
        from postmock_nb.bridges.proxy import Proxy

        proxy = Proxy(config.proxy)
    if config.record is not None:
        from postmock_nb.bridges.recording import Recorder

        recorder = Recorder(config.record, store=store)
    return proxy, recorder
