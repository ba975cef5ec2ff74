"""Resource records: the state of :mod:`postmock_nb.behaviours.resources`, behind two narrow interfaces.

:class:`Records` is one resource's records (what the server operates on, what the notebook resets and
exports); :class:`RecordStore` is the resources of one mock, by name. The in-memory implementations are
:class:`~postmock_nb.behaviours.resources.Resource` (a live ``list`` the notebook shares) and
:class:`~postmock_nb.behaviours.resources.ResourceStore`; the shared ones (``--state redis://``) are in
:mod:`postmock_nb.serving.shared.records`. Both apply the same rules
(:class:`~postmock_nb.behaviours.resources.RecordRules`).

Threads: the server thread calls :meth:`Records.operate` (in memory) or awaits :meth:`Records.operate_async`
(a shared store: it waits for Redis on the server's loop, never blocking it) (and :meth:`RecordStore.get`,
:meth:`RecordStore.restore` when a snapshot carries resource markers); the kernel thread defines, resets,
reads, exports and removes. The in-memory ones are safe for both: every operation on a resource takes its
lock, and the store's table of resources is replaced whole on each change (readers take no lock).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from postmock_nb.behaviours.handlers import Rendered
from postmock_nb.core.model import Example, Pairs


class Records(Protocol):
    """One resource's records: served with CRUD conventions, reset to its seed, bounded by its limits."""

    name: str
    id_field: str
    path: str
    max_records: int
    """How many records clients may make it hold (507 beyond)."""
    max_bytes: int
    """How many bytes (the records as JSON) clients may make it hold (413 / 507 beyond)."""

    @property
    def last_change(self) -> float | None:
        """When a record last changed (``time.time()``), or None."""
        ...

    def __len__(self) -> int: ...

    @property
    def records(self) -> list[dict[str, Any]]:
        """A copy of the current records, in order."""
        ...

    def operate(self, op: str, record_id: str | None, query: Pairs, body: bytes) -> tuple[Rendered, Any]:
        """Answer one operation (list, get, create, replace, merge, delete); the response and the id concerned."""
        ...

    async def operate_async(self, op: str, record_id: str | None, query: Pairs, body: bytes
                            ) -> tuple[Rendered, Any]:
        """:meth:`operate` on the server's event loop (a shared store awaits its backend there)."""
        ...

    def tally(self) -> tuple[int, float | None] | None:
        """How many records there are and when one last changed, in one look; None when they cannot be read
        (a shared store out of reach)."""
        ...

    def reset(self, seed: list[dict[str, Any]] | None = None) -> None:
        """Back to the seed (or to a new seed)."""
        ...

    def examples(self, ids: Mapping[str, str] | None = None) -> list[Example]:
        """The six examples of this resource, with the current state as their bodies."""
        ...


class RecordStore(Protocol):
    """The resources of one mock, by name."""

    def define(self, name: str, records: list[dict[str, Any]] | None = None, *, id_field: str | None = None,
               path: str = "", max_records: int | None = None, max_bytes: int | None = None) -> Any:
        """A new resource, or the existing one re-seeded (``records`` given) or left as it is (not given)."""
        ...

    def get(self, name: str) -> Any:
        """The resource called ``name`` (a :class:`Records`), or None."""
        ...

    def remove(self, name: str) -> Any:
        """Forget the resource called ``name``; returns it (or None)."""
        ...

    def reset(self, name: str | None = None) -> list[Any]:
        """Every resource (or the one called ``name``) back to its seed; returns those reset."""
        ...

    def restore(self, examples: Iterable[Example]) -> list[Any]:
        """Resources for marked list examples that are not known yet, seeded from their bodies."""
        ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def __contains__(self, name: object) -> bool: ...
