"""Bridges towards the real API: forwarding a miss (:mod:`.proxy`), saving what came back
(:mod:`.recording`), checking requests against an OpenAPI document (:mod:`.validation`), and the set
of them one mock has (:mod:`.bridges`).

May import: :mod:`postmock_nb.answers`, :mod:`postmock_nb.matching`, :mod:`postmock_nb.formats` and
:mod:`postmock_nb.core`. A sibling of :mod:`postmock_nb.behaviours.dispatch`: neither imports the other.
"""
