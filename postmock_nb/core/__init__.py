"""The core: frozen records and the rules on them, with no I/O and no server.

What a collection is (:mod:`.model`), how paths, bodies, headers and the ``x-mock-*`` markers are read
(:mod:`.paths`, :mod:`.bodies`, :mod:`.wire`, :mod:`.selectors`), the limits every parser keeps
(:mod:`.limits`), safe patterns (:mod:`.patterns`), secret masking (:mod:`.masking`) and wording
(:mod:`.text`).

May import: the standard library, :mod:`postmock_nb.errors` and :mod:`postmock_nb.config`. Nothing else
of the package imports below it.
"""
