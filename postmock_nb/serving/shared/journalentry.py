"""A journal entry as the shared journal's stream keeps it (:mod:`postmock_nb.serving.shared.journal`): JSON, the
bodies and headers as the bytes received (Latin-1 text); and the name of the replica that served it."""

from __future__ import annotations

import itertools
import json
import os
import socket
from collections.abc import Iterable
from typing import Any

from postmock_nb.answers.diagnostics import diagnosis
from postmock_nb.core.limits import loads
from postmock_nb.serving.requestlog import LogEntry

_made = itertools.count(1)


def replica_name() -> str:
    """This process as entries name it: ``host:pid`` (a pod's name in Kubernetes); ``host:pid#n`` for the n-th
    journal of one process (several mocks of a script on one ``--state``)."""
    number = next(_made)
    return f"{socket.gethostname()}:{os.getpid()}" + (f"#{number}" if number > 1 else "")


def _text(data: bytes) -> str:
    return data.decode("latin-1")


def _pairs(headers: list[tuple[bytes, bytes]]) -> list[list[str]]:
    return [[_text(k), _text(v)] for k, v in headers]


def _raw(pairs: Iterable[list[str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _diagnosis(entry: LogEntry) -> dict[str, Any] | None:
    """A miss's diagnosis, for the replicas that read it without its match (worked out by the writer, not the
    request; misses only)."""
    if not entry.is_miss:
        return None
    result = entry.result
    return diagnosis(result) if result is not None else entry.shared_diagnosis


def encode_entry(entry: LogEntry) -> bytes:
    """``entry`` as the stream keeps it: JSON, bodies and headers as the bytes received (Latin-1 text)."""
    data = {"seq": entry.seq, "time": entry.time, "replica": entry.replica, "method": entry.method,
            "path": entry.path, "query": _text(entry.query_string), "headers": _pairs(entry.raw_headers),
            "body": _text(entry.raw_body), "body_size": entry.body_size, "status": entry.status,
            "example_id": entry.example_id, "example_name": entry.example_name, "score": entry.score,
            "latency_ms": entry.latency_ms, "note": entry.note, "fault": entry.fault, "delay_ms": entry.delay_ms,
            "refused": entry.refused, "upstream_ms": entry.upstream_ms, "traceback": entry.traceback,
            "handler_wait_ms": entry.handler_wait_ms, "handler_run_ms": entry.handler_run_ms,
            "miss": entry.is_miss, "diagnosis": _diagnosis(entry), "direction": entry.direction,
            "channel": entry.channel, "live": entry.live,
            "response": {"headers": _pairs(entry.response_headers), "body": _text(entry.response_body),
                         "size": entry.response_size}}
    return _ENCODER.encode(data).encode("utf-8")


def decode_entry(raw: bytes) -> LogEntry:
    """An entry read back from the stream (its match result stays with the replica that served it)."""
    data = loads(raw)
    response = data["response"]
    return LogEntry(seq=data["seq"], time=data["time"], method=data["method"], path=data["path"],
                    query_string=data["query"].encode("latin-1"), raw_headers=_raw(data["headers"]),
                    raw_body=data["body"].encode("latin-1"), status=data["status"], example_id=data["example_id"],
                    example_name=data["example_name"], score=data["score"], latency_ms=data["latency_ms"],
                    response_headers=_raw(response["headers"]), response_body=response["body"].encode("latin-1"),
                    note=data["note"], body_size=data["body_size"], response_size=response["size"],
                    upstream_ms=data["upstream_ms"], traceback=data["traceback"], delay_ms=data["delay_ms"],
                    fault=data["fault"], refused=data["refused"], handler_wait_ms=data["handler_wait_ms"],
                    handler_run_ms=data["handler_run_ms"], replica=data["replica"], was_miss=data["miss"],
                    shared_diagnosis=data["diagnosis"], direction=data.get("direction", ""),
                    channel=data.get("channel", ""), live=data.get("live", False))
