"""Helpers shared by the tests (every layer) and by ``benchmarks/``: one copy of each, imported by name
(``from support.waiting import wait_until``) instead of test modules importing each other.

``tests/`` is on ``sys.path`` for the tests (``pythonpath`` in pyproject's ``[tool.pytest.ini_options]``) and
for the benchmarks (each puts it there; ``MYPYPATH=tests`` for their mypy run in ``make lint``).

- ``paths``: the repository's root and the test data.
- ``layers``: what the layer guard raises, and skipping a test whose tool is missing (``POSTMOCK_REQUIRE_ALL``).
- ``waiting``: ``wait_until``, the one poll-with-a-deadline.
- ``cli``: the ``postmock`` command in a subprocess, read line by line (``postmock("serve", ...)``).
- ``shells``: an IPython shell with the extension loaded.
- ``environments``: Postman environment files; the variables that say where the browser is.
- ``notebook_cells``: running cells in a kernel and reading what they showed (``cell_text``).
- ``fixture_collections``, ``openapi_documents``, ``collections``: the data the tests read.
- ``bombkit``, ``fuzzkit``: input bombs and fuzz cases (also run by ``benchmarks/``).
- ``request_log``: the newest note of a running session's request log (``last_note``).
- ``redis_server``: a real ``redis-server`` on a free port (the ``redis_server``/``redis_url`` fixtures).
- ``flowstate_contract``, ``recordstore_contract``, ``journal_contract``, ``collectionstore_contract``: the tests
  every implementation of a store keeps (in memory, and on Redis for ``--state``).
"""
