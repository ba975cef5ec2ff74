"""The ``postmock`` fixture, used the way a project's own tests would use it (via pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_fixture_serves_examples_and_stops(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        SEEN = {}

        def test_users(postmock):
            postmock.define("GET /users 200", '[{"id": 1, "name": "Alice Park"}]')
            response = requests.get(postmock.url + "/users")
            assert response.status_code == 200
            assert response.json() == [{"id": 1, "name": "Alice Park"}]
            assert postmock.server.log.total == 1
            SEEN["server"] = postmock.server

        def test_previous_mock_was_stopped(postmock):
            assert not SEEN["server"].running
            assert requests.get(postmock.url + "/users").status_code == 404
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
