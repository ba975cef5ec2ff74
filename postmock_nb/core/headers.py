"""A request's headers as the mock reads them: by lower-case name, decoded only when read.

An ASGI server hands the headers over as ``(bytes, bytes)`` pairs. Decoding a browser's dozen of them
(Latin-1, names lower-cased, a repeated header's values joined) cost a quarter of the mock's own time
per request (``benchmarks/stage_cost.py``), and a request that an example answers on its request line
alone reads none of them. :class:`RequestHeaders` keeps the pairs and decodes them all on the first
read (:func:`~postmock_nb.core.wire.request_headers`); until then the questions the hot path asks
("does the request announce a body? send an ``x-mock-*`` value?") are answered on the bytes.

It is a read-only :class:`~collections.abc.Mapping`: handlers, templates and matching read it as they
read a ``dict`` (``headers["accept"]``, ``.get``, ``in``, iteration, ``dict(headers)``, ``==``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from operator import itemgetter

from postmock_nb.core.wire import request_headers

RawHeaders = Iterable[tuple[bytes, bytes]]
_NAME = itemgetter(0)


def raw_names_any_of(raw: RawHeaders, names: frozenset[bytes]) -> bool:
    """Whether a header of ``raw`` is named (in any case) one of ``names`` (lower-case bytes)."""
    try:
        return not names.isdisjoint(map(bytes.lower, map(_NAME, raw)))
    except TypeError:  # a name given as a bytearray (ASGI says bytes; the names were decoded as any bytes before)
        return not names.isdisjoint(bytes(name).lower() for name, _ in raw)


def listed(raw: RawHeaders) -> list[tuple[bytes, bytes]]:
    """A scope's headers as a list: as they are when they are one (every server here gives one), else listed once
    (ASGI allows any iterable, and a generator can be read only once)."""
    return raw if type(raw) is list else list(raw)


class RequestHeaders(Mapping[str, str]):
    """A request's headers by lower-case name (a repeated header's values joined with ``", "``), decoded
    from ``raw`` on first read; ``raw`` itself is never changed."""

    __slots__ = ("raw", "_text")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw
        """Read more than once: a list (:func:`listed` makes one of what an ASGI server hands over)."""
        self._text: dict[str, str] | None = None

    @property
    def text(self) -> dict[str, str]:
        """Every header, decoded (once)."""
        text = self._text
        if text is None:
            text = self._text = request_headers(self.raw)
        return text

    def names_any_of(self, names: frozenset[bytes]) -> bool:
        """Whether a header is named (in any case) one of ``names`` (lower-case bytes), decoding nothing."""
        if self._text is not None:
            return not self._text.keys().isdisjoint(name.decode("latin-1") for name in names)
        return raw_names_any_of(self.raw, names)

    def __getitem__(self, name: str) -> str:
        return self.text[name]

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self.text.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self.text

    def __iter__(self) -> Iterator[str]:
        return iter(self.text)

    def __len__(self) -> int:
        return len(self.text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return self.text == (other if isinstance(other, dict) else dict(other.items()))

    __hash__ = None  # type: ignore[assignment]  # a mapping, compared by value (as a dict)

    def __repr__(self) -> str:
        return f"RequestHeaders({self.text!r})"
