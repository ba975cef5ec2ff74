"""matching/snapshot: each example's markers read once per compile, and the tables derived from them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from postmock_nb.core import markers
from postmock_nb.core.markers import Flow, Step
from postmock_nb.matching import IncomingRequest, match
from postmock_nb.matching import snapshot as snapshot_module
from postmock_nb.matching.snapshot import Snapshot


def _collection(build: SimpleNamespace):  # type: ignore[no-untyped-def]
    return build.collection(
        build.example("GET /jobs", "first", request_headers={"x-mock-scenario": "jobs; next=done"}),
        build.example("GET /jobs", "then", request_headers={"x-mock-scenario": "jobs; requires=done",
                                                           "x-mock-delay": "5"}),
        build.example("GET /greet/:name", "greet", request_headers={"x-mock-handler": "greet"}),
        build.example("GET /users", "users", request_headers={"x-mock-resource": "name=users; op=list; id=id"}),
        build.example("GET /plain", "plain"),
        build.example("GET /early", "early", status=101, request_headers={"x-mock-delay": "7"}))


def test_markers_are_read_once_per_compile(build: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = markers.read_markers

    def counted(headers):  # type: ignore[no-untyped-def]
        calls.append(1)
        return original(headers)

    monkeypatch.setattr(snapshot_module, "read_markers", counted)
    collection = _collection(build)
    snapshot = Snapshot(collection)
    assert len(calls) == len(collection.examples)  # the 1xx example too (not served, its markers still read)
    record = snapshot.by_id[collection.examples[0].id].markers
    for _ in range(3):
        for url in ("/jobs", "/greet/ann", "/users", "/plain", "/nowhere"):
            match(snapshot, IncomingRequest.build("GET", url))
        assert snapshot.flow_plan and snapshot.code_plan
    assert len(calls) == len(collection.examples)  # requests and tables read the records, never the headers
    assert snapshot.by_id[collection.examples[0].id].markers is record
    Snapshot(collection)
    assert len(calls) == 2 * len(collection.examples)  # a new snapshot compiles (and reads) afresh


def test_the_compiled_example_carries_its_markers_and_their_switches(build: SimpleNamespace) -> None:
    example = build.example("POST /x", "x", request_headers={"x-mock-match-request-headers": "X-Role",
                                                            "x-mock-match-request-body": "contains",
                                                            "x-mock-match-request-query": "contains"})
    compiled = Snapshot(build.collection(example)).examples[0]
    assert compiled.markers.required_headers == compiled.required_headers == ("x-role",)
    assert compiled.require_body and compiled.body_contains and compiled.query_contains
    assert not compiled.runs_code and compiled.markers.flow is None
    assert "x-mock-match-request-body" not in compiled.headers


def test_the_plans_are_tables_of_the_snapshot(build: SimpleNamespace) -> None:
    collection = _collection(build)
    snapshot = Snapshot(collection)
    first, then, greet, users, _, early = collection.examples
    assert snapshot.flow_plan == {first.id: Flow(Step("jobs", None, "done")),
                                  then.id: Flow(Step("jobs", "done"), delay=(5, 5)),
                                  early.id: Flow(delay=(7, 7))}  # as before: every example of the collection
    assert {k: m.code for k, m in snapshot.code_plan.items()} == {
        greet.id: ("handler", "greet"), users.id: ("resource", "name=users; op=list; id=id")}
    assert snapshot.code_plan[users.id].resource == {"name": "users", "op": "list", "id": "id"}
    assert snapshot.flow_plan is snapshot.flow_plan and snapshot.code_plan is snapshot.code_plan  # worked out once
    assert Snapshot(build.collection(build.example("GET /plain", "plain"))).flow_plan == {}
