"""errors.py: what every user error carries (message, location, hint) and how it reads, and the family tree
that callers catch by."""

from __future__ import annotations

import copy
import pickle

import pytest

from postmock_nb.errors import (
    CollectionFormatError,
    ConfigError,
    ExampleDefinitionError,
    PostmockError,
    ServerError,
)


def test_a_bare_message_reads_as_itself() -> None:
    error = PostmockError("the port is out of range")
    assert str(error) == "the port is out of range"
    assert (error.message, error.location, error.hint) == ("the port is out of range", "", "")
    assert error.args == ("the port is out of range",)


def test_a_location_comes_first() -> None:
    error = CollectionFormatError("expected an object", location="item[2].request")
    assert str(error) == "item[2].request: expected an object"
    assert error.location == "item[2].request" and error.message == "expected an object"


def test_a_hint_comes_on_its_own_line() -> None:
    error = ConfigError("--api-key needs --private", hint="add --private")
    assert str(error) == "--api-key needs --private\nHint: add --private"
    assert str(error).splitlines() == ["--api-key needs --private", "Hint: add --private"]


def test_location_and_hint_together() -> None:
    error = ExampleDefinitionError("no method", location="line 1", hint="start with GET, POST...")
    assert str(error) == "line 1: no method\nHint: start with GET, POST..."
    assert error.args == (str(error),)


def test_location_and_hint_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        PostmockError("message", "where")  # type: ignore[misc]


@pytest.mark.parametrize("cls, parents", [
    (CollectionFormatError, (PostmockError,)),
    (ExampleDefinitionError, (PostmockError,)),
    (ServerError, (PostmockError,)),
    (ConfigError, (ServerError, PostmockError)),
])
def test_each_error_is_caught_by_its_family(cls: type[PostmockError], parents: tuple[type[Exception], ...]) -> None:
    with pytest.raises(parents) as caught:
        raise cls("bad", location="here", hint="fix it")
    assert type(caught.value) is cls
    assert all(isinstance(caught.value, parent) for parent in parents)
    assert str(caught.value) == "here: bad\nHint: fix it"


def test_the_families_do_not_overlap() -> None:
    assert not issubclass(CollectionFormatError, ServerError)
    assert not issubclass(ExampleDefinitionError, CollectionFormatError)
    assert not issubclass(ServerError, ExampleDefinitionError)
    assert not issubclass(PostmockError, (ValueError, RuntimeError))


def test_a_changed_hint_reads_in_str() -> None:
    error = ServerError("port 8080 in use")
    error.hint = "try --port 0"
    assert str(error) == "port 8080 in use\nHint: try --port 0"


@pytest.mark.parametrize("cls", [PostmockError, CollectionFormatError, ConfigError])
def test_an_error_survives_pickling_and_copying(cls: type[PostmockError]) -> None:
    error = cls("bad value", location="$.items[0]", hint="use a number")
    for again in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert type(again) is cls
        assert (again.message, again.location, again.hint) == ("bad value", "$.items[0]", "use a number")
        assert str(again) == str(error)
