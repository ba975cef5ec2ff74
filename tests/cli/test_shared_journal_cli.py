"""``postmock serve --state``: two processes, one of them with two workers, keep one request journal on a real
redis-server: every process's ``/__postmock/log`` holds every request, and says which replica served each."""

from __future__ import annotations

import requests
from support.cli import SERVING, TIMEOUT, fixture_path, postmock


def test_two_serve_processes_and_their_workers_share_one_journal(fixtures_dir, redis_url):
    path = fixture_path(fixtures_dir, "test-scoring-collection.json")
    with postmock("serve", path, "--port", "0", "--state", redis_url) as one, \
            postmock("serve", path, "--port", "0", "--state", redis_url, "--workers", "2") as two:
        urls = [one.wait_for(SERVING).group(3), two.wait_for(SERVING).group(3)]
        two.wait_for(r"^2 workers share the port and the state$")
        for number in range(24):  # a new connection each time: the second's workers share them
            response = requests.get(f"{urls[number % 2]}/get?name=John&n={number}", timeout=TIMEOUT)
            assert response.status_code == 200
        for url in urls:
            for _ in range(3):  # each read may land on another worker: each sees the whole journal
                entries = requests.get(url + "/__postmock/log", timeout=TIMEOUT).json()
                assert sorted(int(e["url"].rsplit("=", 1)[1]) for e in entries) == list(range(24))
                assert len({e["seq"] for e in entries}) == 24 and len({e["replica"] for e in entries}) >= 2
                health = requests.get(url + "/__postmock/health", timeout=TIMEOUT).json()
                assert health["requests"] == 24 and "scope" not in health
        assert one.interrupt() == 0 and two.interrupt() == 0
