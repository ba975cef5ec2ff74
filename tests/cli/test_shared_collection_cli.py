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
