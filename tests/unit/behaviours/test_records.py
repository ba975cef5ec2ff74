"""Resource records (postmock_nb.behaviours.records): a contract every record store keeps.

:class:`RecordStoreContract` is written against the :class:`RecordStore` and :class:`Records` protocols
only; a store of another backend reuses it by subclassing with its own ``make`` (a fresh, empty store).
"""

from __future__ import annotations

from support.recordstore_contract import RecordStoreContract

from postmock_nb.behaviours.records import RecordStore
from postmock_nb.behaviours.resources import ResourceStore


class TestResourceStore(RecordStoreContract):
    def make(self) -> RecordStore:
        return ResourceStore()
