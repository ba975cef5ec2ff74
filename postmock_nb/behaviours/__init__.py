"""Behaviours: what a marked example does when it is served, beyond replaying its saved response.

Python handlers (:mod:`.handlers`, run on :mod:`.workers`), CRUD resources (:mod:`.resources`),
scenarios, sequences and delays (:mod:`.flows`), and the table that dispatches a matched example to
them (:mod:`.dispatch`).

May import: :mod:`postmock_nb.answers`, :mod:`postmock_nb.matching`, :mod:`postmock_nb.formats` and
:mod:`postmock_nb.core` (and the leaves ``errors``/``config``). A sibling of :mod:`postmock_nb.bridges`:
neither imports the other.
"""
