"""bridges/contract.py's ``check`` over a real socket: an answer that never ends (Server-Sent Events) is checked by
its status and content type without waiting for its end."""

from __future__ import annotations

from support.drift_upstream import TOKEN, upstream

from postmock_nb.bridges.contract import Expected, Probe, check
from postmock_nb.bridges.drift import DRIFT, OK


def test_an_endless_event_stream_is_checked_by_its_status_and_type() -> None:
    probes = [Probe("GET", "/events", expected=(Expected("200", (("text/event-stream", None),)),)),
              Probe("GET", "/events", query=(("v", "2"),), expected=(Expected("200", (("application/json", {}),)),))]
    with upstream(drifting=True) as api:
        report = check(probes, against=api.url, headers=(("Authorization", f"Bearer {TOKEN}"),), timeout=30)
        assert [o.verdict for o in report.outcomes] == [OK, DRIFT]
        assert report.outcomes[0].content_type == "text/event-stream"
        assert [d.describe() for d in report.outcomes[1].differences] == [
            "content-type: expected application/json, got text/event-stream"]
