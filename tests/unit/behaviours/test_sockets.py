"""The pure parts of socket handlers: what a broadcast sends, which routes take upgrades, and a route
asked for by a path."""

from __future__ import annotations

import pytest

from postmock_nb.behaviours.sockets import check_function, frame_of, route_known, sendable_close, socket_routes
from postmock_nb.core.markers import read_markers, socket_markers
from postmock_nb.core.model import Collection, Example, Item, RequestSpec, ResponseSpec
from postmock_nb.errors import ExampleDefinitionError


def test_a_broadcast_sends_text_bytes_or_json() -> None:
    assert frame_of("hi") == "hi"
    assert frame_of(b"\x01") == b"\x01"
    assert frame_of({"ü": [1, None]}) == '{"ü": [1, null]}'
    with pytest.raises(ExampleDefinitionError, match="cannot send float as JSON"):
        frame_of(float("nan"))


def _example(path: str, headers: tuple[tuple[str, str], ...]) -> Example:
    return Example(name=path, request=RequestSpec("GET", path, headers=headers), response=ResponseSpec(200))


def test_socket_routes_are_the_scripts_and_handlers() -> None:
    collection = Collection(items=(
        Item(name="a", request=RequestSpec("GET", "/ws/a"), examples=(
            _example("/ws/a", (("x-mock-websocket", "true"),)),)),
        Item(name="b", request=RequestSpec("GET", "/ws/rooms/:room"), examples=(
            _example("/ws/rooms/:room", (("x-mock-handler", "name:b"), ("x-mock-websocket", "handler"))),)),
        Item(name="c", request=RequestSpec("GET", "/plain"), examples=(_example("/plain", ()),)),
    ))
    routes = socket_routes(collection)
    assert routes == ["/ws/a", "/ws/rooms/:room"]
    assert route_known("/ws/rooms/kitchen", routes) and route_known("/ws/a", routes)
    assert not route_known("/ws/rooms", routes) and not route_known("/plain", routes)


def test_the_socket_marker_needs_a_handler_key() -> None:
    assert read_markers([("x-mock-handler", "k"), *(tuple(m.split(": ")) for m in socket_markers())]).socket
    assert not read_markers([("x-mock-websocket", "handler")]).socket  # no function to find
    assert read_markers([("x-mock-websocket", "true")]).websocket == (0, False, None)


def test_only_an_async_def_is_a_socket_handler() -> None:
    async def fine(socket: object) -> None: ...

    check_function(fine)
    with pytest.raises(TypeError, match="async def"):
        check_function(lambda socket: None)


@pytest.mark.parametrize("code", [1000, 1003, 1007, 1011, 1014, 3000, 4000, 4999])
def test_a_close_code_a_frame_may_carry(code: int) -> None:
    assert sendable_close(code)


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 70000, True, 1000.0, "1000"])
def test_a_close_code_no_frame_may_carry(code: object) -> None:
    assert not sendable_close(code)
