"""Serving: the ASGI app that answers requests (:mod:`.app`), its request and error logs
(:mod:`.requestlog`, :mod:`.errorlog`), the server thread (:mod:`.server`), the HTTP server adapters
(:mod:`.servers`) and where a browser reaches the mock (:mod:`.browser_address`).

May import: everything below it: :mod:`postmock_nb.behaviours.dispatch`, :mod:`postmock_nb.bridges.bridges`,
:mod:`postmock_nb.answers`, :mod:`postmock_nb.matching`, :mod:`postmock_nb.formats`, :mod:`postmock_nb.core`.
"""
