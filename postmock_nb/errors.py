"""Errors postmock_nb raises for things a person can fix.

Every error carries a message that says what was wrong and, where it applies, where
(``location``: a JSON position, a collection item path, a cell line) and a ``hint``.
"""

from __future__ import annotations


class PostmockError(Exception):
    """Base class of every error postmock_nb raises on purpose."""

    def __init__(self, message: str, *, location: str = "", hint: str = "") -> None:
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text}\nHint: {self.hint}" if self.hint else text


class CollectionFormatError(PostmockError):
    """A Postman collection file that cannot be read (bad JSON, wrong shape)."""


class ExampleDefinitionError(PostmockError):
    """An example definition (e.g. an ``%%example`` cell) that cannot be built."""


class ServerError(PostmockError):
    """The mock server could not start or stop (port in use, already running...)."""


class ConfigError(ServerError):
    """A mock setting that cannot be used (``--api-key`` without ``--private``, a port out of range...)."""
