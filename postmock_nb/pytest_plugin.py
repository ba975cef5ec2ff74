"""pytest fixtures: a running mock for your tests (installed as a pytest plugin).

::

    def test_lists_users(postmock):
        postmock.define("GET /users 200", '[{"id": 1, "name": "Alice Park"}]')
        assert requests.get(postmock.url + "/users").json()[0]["name"] == "Alice Park"

``postmock`` is a started :class:`~postmock_nb.session.Session` on 127.0.0.1 and a free port;
it is stopped after the test. ``postmock.server.log`` holds the requests it received, and
``postmock.verify`` checks them (WireMock's ``verify``)::

    def test_signup_posts_the_user(postmock):
        postmock.define("POST /users 201", '{"id": 1}')
        requests.post(postmock.url + "/users", json={"name": "Ann"})
        postmock.verify("POST /users", times=1, json={"name": "Ann"})

A wrong count raises an ``AssertionError`` listing the closest requests received and their differences.
Load a Postman collection with ``postmock.load("collection.json")``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pytest loads this plugin at every start: the session (the server, Quart...) loads in the fixture
    from postmock_nb.session import Session


@pytest.fixture
def postmock() -> Iterator[Session]:
    """A running mock with no examples yet; define them in the test, check what it received with ``postmock.verify``."""
    from postmock_nb.session import Session  # deferred: pytest loads this plugin at every start (see above)

    session = Session()
    session.start()
    try:
        yield session
    finally:
        session.close()
