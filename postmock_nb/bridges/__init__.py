"""Bridges towards the real API: forwarding a miss (:mod:`.proxy`), saving what came back
(:mod:`.recording`), checking requests against an OpenAPI document (:mod:`.validation`), and the set
of them one mock has (:mod:`.bridges`).

May import: :mod:`postmock_nb.answers`, :mod:`postmock_nb.matching`, :mod:`postmock_nb.formats` and
:mod:`postmock_nb.core` (and the leaves ``errors``/``config``). A sibling of :mod:`postmock_nb.behaviours`:
neither imports the other. :mod:`.proxy` and :mod:`.recording` do not import each other either: "proxy then
record" is :meth:`.bridges.Bridges.answer_miss`.
"""
