"""bridges/bridges.py: "proxy then record" is one method, Bridges.answer_miss; proxy and recording do not
import each other. The upstream is httpx's MockTransport: in process, no socket."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Callable
from pathlib import Path

import grimp
import httpx
import pytest

from postmock_nb.bridges.bridges import Bridges
from postmock_nb.bridges.proxy import Proxy
from postmock_nb.bridges.recording import Recorder
from postmock_nb.formats.postman import load_collection

UPSTREAM = "https://api.example.com/v1"


def answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> httpx.Response:
    """An upstream answer streamed as a network one is (a Response made with ``content=`` is read already)."""
    return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))


def proxy_to(handler: Callable[[httpx.Request], httpx.Response], **options: int) -> Proxy:
    proxy = Proxy(UPSTREAM, **options)
    proxy._client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return proxy


def miss(bridges: Bridges, path: str = "/users/7", *, private: bool = False,
         headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, bytes, str]:
    async def go() -> tuple[int, bytes, str]:
        try:
            response, note, _ = await bridges.answer_miss("GET", path, b"expand=1", headers or [], b"",
                                                          private=private)
        finally:
            if bridges.proxy is not None:
                await bridges.proxy.aclose()
        return response.status, response.body, note

    return asyncio.run(go())


def test_a_miss_is_proxied_then_recorded(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(200, b'{"id": 7}', {"Content-Type": "application/json", "Date": "today", "X-Rate": "9"})

    recorder = Recorder(tmp_path / "recorded.json")
    bridges = Bridges(proxy=proxy_to(upstream), recorder=recorder)
    status, body, note = miss(bridges, headers=[(b"x-api-key", b"mine"), (b"accept", b"*/*")])
    recorder.close()
    assert (status, json.loads(body)) == (200, {"id": 7})
    assert note.startswith(f"proxied to {UPSTREAM} (")
    assert [str(r.url) for r in seen] == [f"{UPSTREAM}/users/7?expand=1"]
    assert seen[0].headers["x-api-key"] == "mine"  # not private: the key is the client's
    (example,) = load_collection(tmp_path / "recorded.json").examples
    assert (example.request.path, example.request.query, example.response.status) == ("/users/7", (("expand", "1"),), 200)
    assert dict(example.response.headers) == {"Content-Type": "application/json", "X-Rate": "9"}


def test_a_private_mocks_key_is_not_sent_upstream() -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(204)

    status, _, _ = miss(Bridges(proxy=proxy_to(upstream)), private=True, headers=[(b"x-api-key", b"mock-key")])
    assert status == 204 and "x-api-key" not in seen[0].headers


def test_a_body_that_decodes_past_the_limit_is_neither_recorded_nor_sent(tmp_path: Path) -> None:
    bomb = gzip.compress(b"0" * 50_000)

    def upstream(request: httpx.Request) -> httpx.Response:
        return answer(200, bomb, {"Content-Encoding": "gzip"})

    recorder = Recorder(tmp_path / "recorded.json")
    status, body, note = miss(Bridges(proxy=proxy_to(upstream, max_bytes=10_000), recorder=recorder))
    recorder.close()
    assert status == 502 and json.loads(body)["error"]["name"] == "mockUpstreamTooLarge"
    assert "decodes to over 10000 bytes" in note
    assert recorder.collection.examples == () and recorder.skipped


def test_an_upstream_that_fails_is_not_recorded(tmp_path: Path) -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    recorder = Recorder(tmp_path / "recorded.json")
    status, body, note = miss(Bridges(proxy=proxy_to(upstream), recorder=recorder))
    recorder.close()
    assert status == 502 and json.loads(body)["error"]["name"] == "mockUpstreamError"
    assert note.startswith(f"proxy to {UPSTREAM} failed: ConnectError")
    assert recorder.collection.examples == () and not (tmp_path / "recorded.json").exists()


def test_without_a_proxy_there_is_no_miss_to_answer() -> None:
    with pytest.raises(RuntimeError, match="needs a proxy"):
        miss(Bridges())


def test_proxy_and_recording_do_not_import_each_other() -> None:
    graph = grimp.build_graph("postmock_nb", cache_dir=None)
    proxy, recording = "postmock_nb.bridges.proxy", "postmock_nb.bridges.recording"
    assert not graph.chain_exists(importer=proxy, imported=recording)
    assert not graph.chain_exists(importer=recording, imported=proxy)
