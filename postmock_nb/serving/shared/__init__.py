"""State shared by every process and replica naming the same Redis (``--state redis://HOST:PORT/DB``).

Each store here implements one of the in-memory stores' narrow interfaces on Redis, through one
:class:`~postmock_nb.serving.shared.connection.SharedState`; the composition root
(:mod:`postmock_nb.serving.build`) picks them when the settings name a ``state`` URL.
"""
