"""Serving: the ASGI app that answers requests (:mod:`.app`), its request and error logs
(:mod:`.requestlog`, :mod:`.errorlog`), the server thread (:mod:`.server`), the HTTP server adapters
(:mod:`.servers`) and where a browser reaches the mock (:mod:`.browser_address`).

May import: everything below it: :mod:`postmock_nb.behaviours`, :mod:`postmock_nb.bridges`,
:mod:`postmock_nb.answers`, :mod:`postmock_nb.matching`, :mod:`postmock_nb.formats`, :mod:`postmock_nb.core`
(and the leaves ``errors``/``config``); never :mod:`postmock_nb.session`, :mod:`postmock_nb.notebook` or an
entry point.
"""
