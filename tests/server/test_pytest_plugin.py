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


def test_loading_the_plugin_imports_no_server() -> None:
    """pytest loads the plugin at every start wherever postmock_nb is installed: it must stay cheap.

    The session (the server, Quart, Hypercorn, jsonschema...) is imported by the fixture, when a test asks for it.
    """
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import postmock_nb.pytest_plugin"],
                          capture_output=True, text=True, timeout=120, check=True)
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "postmock_nb.pytest_plugin" in imported, done.stderr[-2000:]
    heavy = sorted(name for name in imported
                   if name.split(".")[0] in ("quart", "hypercorn", "jsonschema", "requests", "httpx", "IPython")
                   or (name.startswith("postmock_nb.") and name != "postmock_nb.pytest_plugin"))
    assert heavy == [], f"importing the pytest plugin imported {len(heavy)} modules it does not need: {heavy[:20]}"
