"""The one settings record (postmock_nb.config.MockConfig) and the owners of per-run state."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError

import pytest

from postmock_nb.answers.responses import ResponseCache, build_response
from postmock_nb.config import MAX_DELAY_MS, MockConfig, masked_url
from postmock_nb.errors import ConfigError, PostmockError, ServerError
from postmock_nb.matching import IncomingRequest, match
from postmock_nb.matching.snapshot import Snapshot
from postmock_nb.serving.errorlog import ErrorLog

KEY = re.compile(r"PMAK-[0-9a-f]{32}")


@pytest.mark.parametrize("options, message, hint", [
    ({"api_key": "k"}, "--api-key only makes sense with --private", "add --private"),
    ({"private": True, "api_key": "  "}, "the API key is empty", "give a non-empty --api-key"),
    ({"port": 70000}, "--port must be 0-65535, got 70000", "0 picks a free port"),
    ({"port": -1}, "--port must be 0-65535, got -1", "0 picks a free port"),
    ({"delay_ms": MAX_DELAY_MS + 1}, f"--delay must be 0-{MAX_DELAY_MS} milliseconds", "whole number"),
    ({"host": ""}, "--host must be an address", "127.0.0.1"),
    ({"match_headers": ("x-role", " ")}, "--match-header needs a header name", "--match-header x-role"),
    ({"log_size": 0}, "log_size must be 1 or more, got 0", "last N requests"),
])
def test_bad_settings_are_refused_with_a_hint(options, message, hint):
    with pytest.raises(ConfigError) as raised:
        MockConfig(**options)
    assert raised.value.message.startswith(message), raised.value
    assert hint in raised.value.hint, raised.value
    assert isinstance(raised.value, ServerError) and isinstance(raised.value, PostmockError)


def test_a_private_mock_gets_its_key_once_and_copies_keep_it():
    config = MockConfig(private=True)
    assert KEY.fullmatch(config.key), config.key
    moved = config.updated(port=8123, delay_ms=5)
    assert (moved.key, moved.port, moved.delay_ms) == (config.key, 8123, 5)
    assert "PMAK" not in repr(config), "the key must not show in the record's repr"
    public = config.updated(private=False)
    assert (public.api_key, public.key) == (None, "")
    again = public.updated(private=True)
    assert KEY.fullmatch(again.key) and again.key != config.key
    assert MockConfig(private=True, api_key="team").key == "team"
    assert MockConfig().key == ""


def test_the_record_is_frozen_and_normalises_header_names():
    config = MockConfig(match_headers=("X-Role", "x-role ", "Accept"))
    assert config.match_headers == ("x-role", "accept")
    with pytest.raises(FrozenInstanceError):
        config.port = 1  # type: ignore[misc]
    assert MockConfig.of(None, cors=False) == MockConfig(cors=False)
    assert MockConfig.of(config) is config


def test_the_engine_reads_the_match_switches_of_the_record(build):
    collection = build.collection(build.example("GET /me", "me", request_headers={"X-Role": "admin"}))
    snapshot = Snapshot(collection)
    request = IncomingRequest.build("GET", "/me", {"X-Role": "guest"})
    assert match(snapshot, request).winner is not None
    assert match(snapshot, request, MockConfig(match_headers=("X-Role",))).winner is None


def test_the_error_log_keeps_the_newest_and_counts_all():
    log = ErrorLog(maxlen=3)
    for n in range(5):
        log.report(f"error {n}")
    assert log.recent() == ["error 2", "error 3", "error 4"]
    assert (log.total, len(log)) == (5, 3)
    assert log.since(1) == ["error 2", "error 3", "error 4"]  # the ones cut are gone
    assert log.since(4) == ["error 4"] and log.since(5) == []


def test_the_response_cache_follows_the_snapshot_and_stays_bounded(build):
    first = Snapshot(build.collection(*(build.example(f"GET /n{i}", f"n{i}", body=f"{i}") for i in range(5))))
    cache = ResponseCache(maxsize=3)
    responses = [build_response(match(first, IncomingRequest.build("GET", f"/n{i}")), first, (), cache)
                 for i in range(5)]
    assert [r.body for r in responses] == [b"0", b"1", b"2", b"3", b"4"]
    assert len(cache) <= 3
    again = build_response(match(first, IncomingRequest.build("GET", "/n4")), first, (), cache)
    assert again is responses[4], "a static response is built once per snapshot"
    second = Snapshot(first.collection)
    rebuilt = build_response(match(second, IncomingRequest.build("GET", "/n4")), second, (), cache)
    assert rebuilt is not responses[4] and rebuilt.body == b"4" and len(cache) == 1


def test_one_header_name_given_as_text_is_one_name_not_its_letters() -> None:
    assert MockConfig(match_headers="Accept").match_headers == ("accept",)
    assert MockConfig(match_headers=("Accept", "x-role")).match_headers == ("accept", "x-role")


# -- --state: its URL checked before anything connects, its password never shown ---------------------------------

@pytest.mark.parametrize(("url", "shown"), [
    ("redis://:s3cretpw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("redis://user:s3cretpw@127.0.0.1:6379/0", "redis://user:***@127.0.0.1:6379/0"),
    ("redis://127.0.0.1:6379/0?password=s3cretpw", "redis://127.0.0.1:6379/0?password=***"),  # redis-py reads it
    ("redis://u:s3cretpw@h:1/0?db=2&Password=s3cretpw", "redis://u:***@h:1/0?db=2&Password=***"),
    ("unix:///tmp/redis.sock?db=1&password=s3cretpw", "unix:///tmp/redis.sock?db=1&password=***"),
    ("redis://:s3cretpw@[::1:6379/0", "redis://***@[::1:6379/0"),  # not a URL: nothing before the host shown
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
])
def test_a_state_url_is_shown_with_its_password_masked(url: str, shown: str) -> None:
    assert masked_url(url) == shown


@pytest.mark.parametrize(("url", "complaint"), [
    ("redis://:s3cretpw@[::1:6379/0", "Invalid IPv6 URL"),
    ("redis://:s3cretpw@127.0.0.1:notaport/0", "Port could not be cast to integer"),
    ("redis://:s3cretpw@127.0.0.1:70000/0", "Port out of range"),
    ("redis://:s3cretpw@127.0.0.1:6379/shop", "the database must be a number"),  # redis-py would use database 0
])
def test_a_state_url_redis_cannot_use_is_a_config_error_without_its_password(url: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as raised:
        MockConfig(state=url)
    assert complaint in str(raised.value) and "s3cretpw" not in str(raised.value)
    assert "--state redis://127.0.0.1:6379/0" in raised.value.hint
