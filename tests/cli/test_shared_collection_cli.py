"""``postmock serve --workers 2 --state URL``: every worker process follows the collection stored on Redis
(an edit made elsewhere is served by each of them within a second), and one started later adopts it."""

from __future__ import annotations

import requests
from support.cli import SERVING, TIMEOUT, postmock
from support.waiting import wait_until

from postmock_nb.formats.postman import save_collection
from postmock_nb.matching.store import LiveCollection
from postmock_nb.serving.shared.collection import SharedCollection
from postmock_nb.serving.shared.connection import SharedState

PREFIX = "cli-team"


def every_answer(url: str, path: str, status: int, times: int = 12) -> bool:
    """``times`` requests on new connections (the kernel hands them to either worker) all answer ``status``."""
    return all(requests.get(url + path, timeout=TIMEOUT).status_code == status for _ in range(times))


def test_every_worker_serves_an_edit_made_elsewhere_and_a_later_process_adopts_it(tmp_path, redis_url, build):
    collection = build.collection(build.example("GET /a", "a"))
    path = save_collection(collection, tmp_path / "team.json")
    editor = SharedCollection(SharedState(redis_url, PREFIX), LiveCollection(collection))  # a replica of the file
    try:
        with postmock("serve", str(path), "--port", "0", "--workers", "2", "--state", redis_url,
                      "--state-prefix", PREFIX) as cli:
            url = cli.wait_for(SERVING).group(3)
            assert every_answer(url, "/a", 200) and every_answer(url, "/added", 404)
            editor.update(lambda c: c.with_example(build.example("GET /added", "added", body='{"ok": true}')))
            wait_until(lambda: every_answer(url, "/added", 200), "both workers serving the edit", timeout=1.0)
            assert requests.get(url + "/added", timeout=TIMEOUT).json() == {"ok": True}
            assert cli.interrupt() == 0, f"stdout: {cli.stdout}\nstderr: {cli.stderr}"
        with postmock("serve", str(path), "--port", "0", "--state", redis_url, "--state-prefix", PREFIX) as later:
            serving = later.wait_for(SERVING)
            assert serving.group(1) == "2"  # the stored collection, adopted before it serves
            assert every_answer(serving.group(3), "/added", 200, times=2)
            assert later.interrupt() == 0
    finally:
        editor.shared.close()


def test_a_second_mock_of_the_same_name_is_warned_it_serves_the_first_ones_collection(tmp_path, redis_url, build):
    """Two collections of one name on one Redis share the default prefix: the later one adopts the first's stored
    collection (the replicas' startup rule). Its banner says so, and how to keep them apart."""
    first = save_collection(build.collection(build.example("GET /a", "a"), name="API"), tmp_path / "first.json")
    second = save_collection(build.collection(build.example("GET /b", "b"), name="API"), tmp_path / "second.json")
    with postmock("serve", str(first), "--port", "0", "--state", redis_url) as one:
        url = one.wait_for(SERVING).group(3)
        added = {"item": [{"name": "x", "request": {"method": "GET", "url": "/x"}, "response": [
            {"name": "x", "code": 200, "body": "x", "originalRequest": {"method": "GET", "url": "/x"}}]}]}
        assert requests.post(url + "/__postmock/items", json=added, timeout=TIMEOUT).status_code == 201  # stored
        one.wait_for("^Press Ctrl-C")
        assert not any("warning" in line for line in one.stderr)  # its own collection: nothing to say
        with postmock("serve", str(second), "--port", "0", "--state", redis_url) as two:
            other = two.wait_for(SERVING).group(3)
            two.wait_for("^Press Ctrl-C")
            assert requests.get(other + "/b", timeout=TIMEOUT).status_code == 404  # the first mock's collection
            warning = (f"postmock: warning: serving the collection stored on Redis under prefix 'api' (2 examples: "
                       f"edited through the admin API, or another mock's of the same prefix), not the one in {second}; "
                       "--state-prefix NAME keeps two mocks apart")
            wait_until(lambda: any(line.startswith(warning) for line in two.stderr), "the warning on stderr")
