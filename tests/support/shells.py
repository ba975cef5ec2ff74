"""IPython shells with the extension loaded, for the notebook tests in the test process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from IPython.core.interactiveshell import InteractiveShell


@contextmanager
def loaded_shell() -> Iterator[InteractiveShell]:
    """The test IPython shell with postmock_nb loaded (a fresh session each time); unloaded (server
    stopped) afterwards. Usable where one test needs several sessions in turn, as fresh kernels."""
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "postmock_nb")
    try:
        yield ip
    finally:
        ip.run_line_magic("unload_ext", "postmock_nb")
