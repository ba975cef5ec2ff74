"""The notebook front end, IPython only: the ``%mock`` / ``%%example`` magics (:mod:`.magics`), the
live dashboard (:mod:`.widgets`), HTML tables (:mod:`.tables`) and the ``mock`` object (:mod:`.prototype`).

May import: :mod:`postmock_nb.session` and every layer below it. Nothing outside this package and the
entry points imports it, but the package's ``__init__`` when asked (``%load_ext postmock_nb``, and
``postmock_nb.prototype_of``, loaded on first use).
"""
