"""The connection to a mock's Redis: key names, the default prefix, masking, and Redis out of reach."""

from __future__ import annotations

import asyncio

import pytest
import redis

from postmock_nb.config import MockConfig, masked_url
from postmock_nb.errors import ConfigError, PostmockError
from postmock_nb.serving.shared.connection import SharedState, StateUnavailable, default_prefix


@pytest.mark.parametrize(("name", "prefix"), [
    ("Users API (postmock_nb demo)", "users-api-postmock_nb-demo"),
    ("  shop  ", "shop"),
    ("a/b:c", "a-b-c"),
    ("v1.2_beta", "v1.2_beta"),
    ("", "postmock"),
    ("()", "postmock"),
])
def test_the_default_prefix_is_the_collection_s_name_made_a_key(name: str, prefix: str) -> None:
    assert default_prefix(name) == prefix


def test_keys_are_namespaced_by_the_mock_s_prefix() -> None:
    shared = SharedState("redis://127.0.0.1:6379/0", "shop")
    assert shared.key("flows", "states") == "postmock:shop:flows:states"


@pytest.mark.parametrize(("url", "shown"), [
    ("redis://:hunter2@10.0.0.5:6379/0", "redis://:***@10.0.0.5:6379/0"),
    ("redis://team:hunter2@redis:6379/1", "redis://team:***@redis:6379/1"),
    ("rediss://redis:6380/0", "rediss://redis:6380/0"),
])
def test_a_password_in_the_url_is_masked_wherever_it_is_shown(url: str, shown: str) -> None:
    shared = SharedState(url, "shop")
    assert shared.shown_url == shown == masked_url(url)
    assert "hunter2" not in str(shared.status())
    assert "hunter2" not in repr(MockConfig(state=url))


def test_an_unreachable_redis_is_state_unavailable_naming_the_store_and_resumes() -> None:
    shared = SharedState("redis://127.0.0.1:1/0", "shop")

    def refused(client: object) -> None:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    with pytest.raises(StateUnavailable) as caught:
        shared.call_sync("resources", refused)
    problem = caught.value
    assert problem.store == "resources"
    assert str(problem).startswith("the shared resources store is unavailable: Redis at redis://127.0.0.1:1/0")
    assert isinstance(problem, PostmockError) and "start Redis again" in (problem.hint or "")
    assert shared.status()["available"] is False and shared.failures == 1
    assert shared.call_sync("resources", lambda client: "answered") == "answered"
    assert shared.status()["available"] is True and "error" not in shared.status()


def test_the_async_call_says_the_same() -> None:
    shared = SharedState("redis://127.0.0.1:1/0", "shop")

    async def timed_out(client: object) -> None:
        raise redis.exceptions.TimeoutError("Timeout reading from socket")

    with pytest.raises(StateUnavailable, match="shared scenarios store is unavailable"):
        asyncio.run(shared.call("scenarios", timed_out))


@pytest.mark.parametrize(("options", "message"), [
    ({"state": "http://127.0.0.1:6379"}, "--state must be a Redis URL"),
    ({"state": "redis://:pw@"}, "--state must be a Redis URL"),
    ({"state_prefix": "shop"}, "--state-prefix only makes sense with --state"),
    ({"state": "redis://r:6379/0", "state_prefix": "a b"}, "--state-prefix must be letters"),
])
def test_bad_state_settings_say_what_is_wrong(options: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        MockConfig(**options)
    assert "pw" not in str(caught.value)
