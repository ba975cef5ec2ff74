"""bridges/contract.py's ``check`` over a real socket: an answer that never ends (Server-Sent Events) is checked by
its status and content type without waiting for its end; a resource's ``/orders/:id`` checked with its seed's id
against a mock of the sketch itself (in this process)."""

from __future__ import annotations

from support.drift_upstream import TOKEN, upstream

from postmock_nb.bridges.contract import check
from postmock_nb.bridges.contract_probes import collection_probes
from postmock_nb.bridges.contract_report import Expected, Probe
from postmock_nb.bridges.drift import DRIFT, OK, SKIPPED
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.session import Session


def test_an_endless_event_stream_is_checked_by_its_status_and_type() -> None:
    probes = [Probe("GET", "/events", expected=(Expected("200", (("text/event-stream", None),)),)),
              Probe("GET", "/events", query=(("v", "2"),), expected=(Expected("200", (("application/json", {}),)),))]
    with upstream(drifting=True) as api:
        report = check(probes, against=api.url, headers=(("Authorization", f"Bearer {TOKEN}"),), timeout=30)
        assert [o.verdict for o in report.outcomes] == [OK, DRIFT]
        assert report.outcomes[0].content_type == "text/event-stream"
        assert [d.describe() for d in report.outcomes[1].differences] == [
            "content-type: expected application/json, got text/event-stream"]


def test_a_resource_is_checked_by_the_id_of_its_first_record() -> None:
    session = Session()
    try:
        orders = Prototype(session).resource("orders", [{"id": 5, "at": "2024-05-01T10:00:00Z"},
                                                        {"id": 6, "at": "2024-05-02T09:30:00Z"}])
        probes = collection_probes(session.store.collection)
        url = session.start(port=0).url
        report = check(probes, against=url)
        assert [(o.probe.label, o.verdict) for o in report.outcomes] == [
            ("GET /orders", OK), ("GET /orders/5", OK), ("POST /orders", SKIPPED), ("PUT /orders/5", SKIPPED),
            ("PATCH /orders/5", SKIPPED), ("DELETE /orders/5", SKIPPED)]
        orders[0]["at"] = "soon"  # the real API's dates drifted
        report = check(probes, against=url)
        assert [[d.describe() for d in o.differences] for o in report.outcomes[:2]] == [
            ['$[0].at: expected format date-time, got "soon"'], ['$.at: expected format date-time, got "soon"']]
        orders.clear()  # and it lost its records
        assert [d.describe() for d in check(probes[1:2], against=url).outcomes[0].differences] == [
            "status: expected 200, got 404"]
    finally:
        session.close()
