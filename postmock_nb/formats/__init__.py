"""Formats: files and texts in and out. Postman collections (:mod:`.postman`, checked by :mod:`.schema`),
OpenAPI documents (:mod:`.openapi`, example values by :mod:`.schemagen`), environments
(:mod:`.environment`), JSON/YAML documents (:mod:`.documents`), any of them by its content
(:mod:`.sources`), merging collections (:mod:`.merging`), the ``%%example`` cell grammar (:mod:`.cells`)
and atomic file writes (:mod:`.atomicfile`).

May import: :mod:`postmock_nb.core` only (and the leaves ``errors``/``config``).
"""
