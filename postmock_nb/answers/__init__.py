"""Answers: a matching decision becomes bytes, or an explanation.

Rendering an example as a response (:mod:`.responses`, with :mod:`.templating`), the faults a response
can be replaced with (:mod:`.faults`), and the diagnosis a miss gets (:mod:`.diagnostics`).

May import: :mod:`postmock_nb.matching` and :mod:`postmock_nb.core` (and the leaves ``errors``/``config``).
"""
