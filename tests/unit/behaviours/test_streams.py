"""How a streaming handler's items become bytes and headers (pure)."""

from __future__ import annotations

import pytest

from postmock_nb import Event
from postmock_nb.behaviours.streams import _chunk, _head, is_stream


def test_generators_and_async_generators_are_streams_and_nothing_else() -> None:
    async def agen():  # type: ignore[no-untyped-def]
        yield 1

    assert is_stream(x for x in ()) and is_stream(agen())
    assert not is_stream([1]) and not is_stream("abc") and not is_stream(iter([1]))


def test_each_kind_of_item_and_its_content_type() -> None:
    assert _chunk(Event("a")) == (b"data: a\n\n", "sse")
    assert _chunk("é") == ("é".encode(), "text") and _chunk(b"\x00") == (b"\x00", "bytes")
    with pytest.raises(TypeError, match="yields postmock_nb.Event, str or bytes"):
        _chunk({"a": 1})
    assert (b"content-type", b"text/event-stream; charset=utf-8") in _head("sse", (("Content-Type", "x"),), ())
    assert _head("text", (), ()) == [(b"content-type", b"text/plain; charset=utf-8")]
    assert _head("bytes", (("X-A", "1"), ("Content-Length", "9")), ()) == [
        (b"x-a", b"1"), (b"content-type", b"application/octet-stream")]
    assert _head("text", (("Content-Type", "text/csv"),), ()) == [(b"content-type", b"text/csv")]
    cors = ((b"access-control-allow-origin", b"*"),)  # the mock's own headers come last, on every kind
    assert _head("sse", (), cors)[-1] == cors[0] and _head("text", (), cors)[-1] == cors[0]
    assert _head("bytes", (("Content-Type", "text/csv"),), cors) == [(b"content-type", b"text/csv"), *cors]
