"""A mock a team shares, end to end: three ``postmock serve`` processes on one real redis-server, all with the same
``--state URL`` and ``--admin-key`` — A and B (one process each) and C (``--workers 4``: four processes on one
port) — hit alternately through real sockets, one set of processes for the whole module.

The collection (written here) holds a 4-step scenario (``GET /order``), a resource (``tasks``, its six
``x-mock-resource`` examples) and static examples (``GET /ping``, ``POST /notes``).

The module's Redis is its own and durable (``appendfsync always``): the last test kills it mid-run (SIGKILL, as a
crash) and starts it again on the same port. "No acknowledged write lost" then means: every create answered 201 and
every scenario step answered 200 before the kill is in Redis after the restart, read back by every replica (the
next step follows the last acknowledged one; every acknowledged id is listed), and no write was acknowledged while
Redis was away (each answered 503 ``stateUnavailable``; none fell back to a process's own memory); the static
examples, which need no state, are answered meanwhile and their journal entries written when Redis is back. With a
non-persistent Redis a crash empties it, so only the second half holds: nothing is acknowledged while it is away,
and afterwards (the module's last test, its append-only file deleted) each scenario is back at ``Started``, each
resource is re-seeded from its seed once across replicas with new ids counting on from it, and the journal starts
over, every process writing its entries to it by itself.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from support.builders import make_collection, make_example
from support.cli import SERVING, Cli
from support.redis_server import RedisServer
from support.waiting import wait_until

from postmock_nb import Client
from postmock_nb.behaviours.resources import ResourceStore
from postmock_nb.client import ClientError
from postmock_nb.formats.postman import save_collection

KEY = "team-s3cret"
ADMIN = {"x-postmock-admin-key": KEY}
TIMEOUT = 10
STEPS = [("Started", "placed"), ("placed", "paid"), ("paid", "shipped"), ("shipped", "Started")]
C_TRIES = 8
"""How many new connections ask C when each of its four workers should answer (the kernel spreads them)."""


@dataclass
class Team:
    """The module's processes: ``urls`` are A, B and C in that order; ``redis`` can be killed and started again."""

    redis: RedisServer
    processes: list[Cli]
    urls: list[str]

    def at(self, n: int) -> str:
        """A, B and C in turn."""
        return self.urls[n % 3]

    def each(self) -> list[str]:
        """Every replica, C asked several times (each time on a new connection: another worker, maybe)."""
        return [self.urls[0], self.urls[1], *[self.urls[2]] * C_TRIES]


def team_collection(path: Path) -> Path:
    scenario = [make_example("GET /order", f"step {i}", body=json.dumps({"step": i}),
                             request_headers={"x-mock-scenario": f"order; requires={requires}; next={after}"})
                for i, (requires, after) in enumerate(STEPS)]
    tasks = ResourceStore().define("tasks", [], path="/tasks").examples()
    static = [make_example("GET /ping", "ping", body='{"pong": true}'),
              make_example("POST /notes", "note", status=201, body='{"noted": true}')]
    return save_collection(make_collection(*tasks, *scenario, *static, name="team"), path)


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    folder = tmp_path_factory.mktemp("team")
    redis = RedisServer(folder / "redis", durable=True).start()
    path = team_collection(folder / "team.json")
    processes: list[Cli] = []
    try:
        for workers in ("1", "1", "4"):
            processes.append(Cli("serve", str(path), "--port", "0", "--state", redis.url, "--admin-key", KEY,
                                 "--workers", workers))
        urls = [cli.wait_for(SERVING).group(3) for cli in processes]
        yield Team(redis, processes, urls)
    finally:
        for cli in processes:
            cli.stop()
        redis.stop()


def no_crash(team: Team) -> None:
    """Nothing any process printed on stderr is a traceback."""
    for cli in team.processes:
        assert not any("Traceback" in line for line in cli.stderr), "\n".join(cli.stderr)


def step(url: str) -> int:
    answer = requests.get(url + "/order", timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["step"])


def listed(url: str) -> list[dict[str, object]]:
    answer = requests.get(url + "/tasks", params={"_per_page": "1000", "_page": "1"}, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    records: list[dict[str, object]] = answer.json()
    assert int(answer.headers["x-total-count"]) == len(records)
    return records


def test_a_scenario_walks_across_the_replicas(team: Team) -> None:
    assert [step(team.urls[0]), step(team.urls[1])] == [0, 1]
    with Client(team.urls[2], admin_key=KEY) as admin:  # reset on C: back at Started for every replica
        admin.reset("order")
    assert [step(team.at(n)) for n in range(12)] == [0, 1, 2, 3] * 3
    assert [step(team.urls[2]) for _ in range(8)] == [0, 1, 2, 3] * 2  # C alone: its workers walk it too
    no_crash(team)


def test_eight_threads_post_200_records_with_unique_ids_and_every_replica_lists_them(team: Team) -> None:
    with Client(team.urls[0], admin_key=KEY) as admin:
        admin.reset("tasks")

    def post(thread: int) -> list[object]:  # 25 POSTs, each on a new connection, to A, B and C in turn
        made = []
        for k in range(25):
            answer = requests.post(team.at(thread + k) + "/tasks", json={"n": thread * 25 + k}, timeout=TIMEOUT)
            assert answer.status_code == 201, answer.text
            made.append(answer.json()["id"])
        return made

    with ThreadPoolExecutor(8) as pool:
        ids = [made for thread in pool.map(post, range(8)) for made in thread]
    assert len(set(ids)) == 200
    for url in team.each():
        records = listed(url)
        assert len(records) == 200 and {r["id"] for r in records} == set(ids)
        assert sorted(int(str(r["n"])) for r in records) == list(range(200))


def test_concurrent_patches_of_different_fields_from_different_replicas_all_survive(team: Team) -> None:
    made = requests.post(team.urls[0] + "/tasks", json={"title": "shared"}, timeout=TIMEOUT)
    assert made.status_code == 201
    location = made.headers["location"]

    def patch(field: int) -> None:  # 24 fields, each PATCHed once, from A, B and C in turn, 8 at a time
        answer = requests.patch(team.at(field) + location, json={f"f{field}": "ABC"[field % 3]}, timeout=TIMEOUT)
        assert answer.status_code == 200, answer.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(patch, range(24)))
    for url in team.each():
        record = requests.get(url + location, timeout=TIMEOUT).json()
        assert record == {"id": made.json()["id"], "title": "shared", **{f"f{n}": "ABC"[n % 3] for n in range(24)}}


def test_the_journal_holds_every_request_from_every_replica(team: Team) -> None:
    assert requests.delete(team.urls[2] + "/__postmock/log", headers=ADMIN, timeout=TIMEOUT).status_code in (200, 204)
    for n in range(30):  # a new connection each time: C's workers share them
        assert requests.get(team.at(n) + "/ping", params={"n": str(n)}, timeout=TIMEOUT).status_code == 200
    for url in team.each():
        entries = requests.get(url + "/__postmock/requests", params={"path": "/ping"}, timeout=TIMEOUT).json()
        assert sorted(int(e["url"].rsplit("=", 1)[1]) for e in entries) == list(range(30))
        assert len({e["seq"] for e in entries}) == 30
        health = requests.get(url + "/__postmock/health", timeout=TIMEOUT).json()
        assert health["requests"] == 30 and health["misses"] == 0
    replicas = {e["replica"] for e in requests.get(team.urls[0] + "/__postmock/log", timeout=TIMEOUT).json()}
    assert len(replicas) >= 3  # A, B and at least one of C's workers, each named


def every_answer(url: str, path: str, status: int, times: int) -> bool:
    return all(requests.get(url + path, timeout=TIMEOUT).status_code == status for _ in range(times))


def test_an_item_posted_to_a_is_served_by_b_and_c_within_a_second(team: Team) -> None:
    assert every_answer(team.urls[1], "/added", 404, 1) and every_answer(team.urls[2], "/added", 404, C_TRIES)
    with Client(team.urls[0], admin_key=KEY) as admin:
        admin.define("GET /added 200", '{"added": true}', name="added")
    wait_until(lambda: every_answer(team.urls[1], "/added", 200, 1)
               and every_answer(team.urls[2], "/added", 200, C_TRIES), "B and C serving the item posted to A",
               timeout=1)
    assert requests.get(team.urls[2] + "/added", timeout=TIMEOUT).json() == {"added": True}


def test_verify_on_b_sees_the_requests_served_by_a_and_c(team: Team) -> None:
    assert requests.post(team.urls[0] + "/notes", json={"by": "ann", "n": 1}, timeout=TIMEOUT).status_code == 201
    assert requests.post(team.urls[2] + "/notes", json={"by": "cat", "n": 2}, timeout=TIMEOUT).status_code == 201
    with Client(team.urls[1]) as b:  # verification is a read: no admin key needed
        assert b.verify("POST /notes", times=1, json={"by": "ann", "n": 1}) == 1
        assert b.verify("POST /notes", times=1, json={"by": "cat"}, contains=True) == 1
        assert b.verify("POST /notes", times=2) == 2
        with pytest.raises(AssertionError) as failed:
            b.verify("POST /notes", times=1, json={"by": "dan", "n": 1})
    message = str(failed.value)
    assert message.startswith("Expected POST /notes to be received exactly 1 time, but it was received 0 times.")
    assert 'Expected request:\n  POST /notes\n  body (JSON): {"by": "dan", "n": 1}\n' in message
    closest = message.split("The closest requests received that did not match:\n", 1)[1]
    # A's request first (one difference), then C's (two): both read back from Redis by B
    assert re.search(r'^1\. #\d+ POST /notes → 201 — 1 difference\n(.*\n){4}  body \$\.by: "ann" +\| '
                     r'body \$\.by: "dan" +<<<<< expected "dan", got "ann"\n', closest, re.MULTILINE)
    assert re.search(r'^2\. #\d+ POST /notes → 201 — 2 differences\n(.*\n){4}.*<<<<< expected "dan", got "cat"\n'
                     r'  body \$\.n: 2 +\| body \$\.n: 1 +<<<<< expected 1, got 2$', closest, re.MULTILINE)
    # (``$``: the message's last line when no other request of the module's journal comes closer, as run alone)


def test_admin_writes_are_refused_without_the_key_on_every_replica(team: Team) -> None:
    item = {"info": {"name": "x"}, "item": [{"name": "refused", "request": {"method": "GET", "url": "/refused"},
                                             "response": []}]}
    for url in team.each():
        keyless = requests.post(url + "/__postmock/items", json=item, timeout=TIMEOUT)
        assert keyless.status_code == 401 and keyless.json()["error"]["name"] == "adminKeyRequired"
        reset = requests.delete(url + "/__postmock/scenarios", timeout=TIMEOUT)
        assert reset.status_code == 401 and reset.json()["error"]["name"] == "adminKeyRequired"
        wrong = requests.delete(url + "/__postmock/log", headers={"x-postmock-admin-key": "guess"}, timeout=TIMEOUT)
        assert wrong.status_code == 401 and wrong.json()["error"]["name"] == "adminKeyWrong"
    with Client(team.urls[2]) as keyless_client, pytest.raises(ClientError) as refused:
        keyless_client.define("GET /refused 200", "no")
    assert refused.value.status == 401
    assert every_answer(team.urls[0], "/refused", 404, 1) and every_answer(team.urls[2], "/refused", 404, C_TRIES)


def served_while_down(url: str) -> list[int]:
    """The ``n`` of each ``GET /ping?down=n`` the journal holds."""
    entries = requests.get(url + "/__postmock/requests", params={"path": "/ping", "query": "down"},
                           timeout=TIMEOUT).json()
    return sorted(int(e["url"].rsplit("=", 1)[1]) for e in entries)


def test_redis_killed_mid_run_answers_503_then_service_resumes_with_no_acknowledged_write_lost(team: Team) -> None:
    with Client(team.urls[0], admin_key=KEY) as admin:
        admin.reset("order")
    assert [step(team.at(n)) for n in range(2)] == [0, 1]  # acknowledged: the next step is 2
    before = {r["id"] for r in listed(team.urls[1])}
    acknowledged: list[object] = []
    refused: list[dict[str, object]] = []
    done = threading.Event()

    def write(replica: int) -> None:  # one writer per replica, until Redis has refused it three times
        seen = 0
        for k in itertools.count():
            if k >= 2000 or seen >= 3 or done.is_set():
                return
            answer = requests.post(team.urls[replica] + "/tasks", json={"w": replica, "k": k}, timeout=TIMEOUT)
            if answer.status_code == 201:
                acknowledged.append(answer.json()["id"])
            else:
                assert answer.status_code == 503, answer.text
                refused.append(answer.json()["error"])
                seen += 1

    writers = [threading.Thread(target=write, args=(replica,)) for replica in range(3)]
    try:
        for writer in writers:
            writer.start()
        wait_until(lambda: len(acknowledged) >= 30, "30 acknowledged creates")
        team.redis.kill()  # mid-run: the writers are still posting
        for writer in writers:
            writer.join(timeout=60)
        assert len(refused) == 9
        assert all(e["name"] == "stateUnavailable" and e["store"] == "resources" for e in refused)
        for url in team.each():
            down = requests.get(url + "/order", timeout=TIMEOUT)
            assert down.status_code == 503 and down.json()["error"]["store"] == "scenarios", down.text
            post = requests.post(url + "/tasks", json={"down": True}, timeout=TIMEOUT)
            assert post.status_code == 503 and post.json()["error"]["name"] == "stateUnavailable", post.text
            health = requests.get(url + "/__postmock/health", timeout=TIMEOUT)
            assert health.status_code == 503 and health.json()["status"] == "stateUnavailable"
        for n, url in enumerate(team.each()):  # a static example needs no state: still served, its journal queued
            assert requests.get(url + "/ping", params={"down": str(n)}, timeout=TIMEOUT).status_code == 200
        team.redis.start()  # the same port, its append-only file loaded again; no postmock process restarted
        wait_until(lambda: all(requests.get(url + "/__postmock/health", timeout=TIMEOUT).status_code == 200
                               for url in team.each()), "every replica healthy again on its own")
        assert step(team.urls[2]) == 2 and step(team.urls[1]) == 3  # the walk goes on from the last step acknowledged
        for url in team.each():
            stored = [r["id"] for r in listed(url)]
            assert len(stored) == len(set(stored)) and before | set(acknowledged) <= set(stored)
            assert not any(r.get("down") for r in listed(url))  # nothing refused was stored
        # the requests served while Redis was away: each process writes its queue when its writer is back, by
        # itself (asking A only: a reader writes its own process's queue first, never another's)
        wait_until(lambda: served_while_down(team.urls[0]) == list(range(len(team.each()))),
                   "the journal entries queued while Redis was away, written by every process")
        assert all(served_while_down(url) == list(range(len(team.each()))) for url in team.each())
        made = requests.post(team.urls[0] + "/tasks", json={"after": True}, timeout=TIMEOUT)
        assert made.status_code == 201 and made.json()["id"] not in before | set(acknowledged)
        assert all(cli.process.poll() is None for cli in team.processes)
        no_crash(team)
    finally:
        done.set()
        for writer in writers:
            writer.join(timeout=60)
        if team.redis.process is None or team.redis.process.poll() is not None:
            team.redis.start()


def test_redis_restarted_empty_every_replica_starts_over_from_the_seeds_by_itself(team: Team) -> None:
    team.redis.kill()
    shutil.rmtree(team.redis.workdir)  # its append-only file with it: as a Redis without persistence restarts
    team.redis.start()
    wait_until(lambda: all(requests.get(url + "/__postmock/health", timeout=TIMEOUT).status_code == 200
                           for url in team.each()), "every replica healthy again on its own")
    for n, url in enumerate(team.each()):  # B's first request since, its only one: numbered in the old epoch
        assert requests.get(url + "/ping", params={"empty": str(n)}, timeout=TIMEOUT).status_code == 200
    # each process's writer finds Redis of another epoch, renumbers its entries and writes them, by itself
    # (asking A only: a reader writes its own process's queue first, never another's)
    wait_until(lambda: served_since_empty(team.urls[0]) == list(range(len(team.each()))),
               "every process's entries in the journal of the Redis restarted empty")
    assert [step(team.at(n)) for n in range(5)] == [0, 1, 2, 3, 0]  # the scenario is back at Started
    made = [requests.post(team.at(n) + "/tasks", json={"n": n}, timeout=TIMEOUT) for n in range(3)]
    assert [answer.status_code for answer in made] == [201] * 3
    assert [answer.json()["id"] for answer in made] == [1, 2, 3]  # re-seeded once (the seed is []), ids from it
    assert all(len(listed(url)) == 3 for url in team.each())
    no_crash(team)


def served_since_empty(url: str) -> list[int]:
    entries = requests.get(url + "/__postmock/requests", params={"path": "/ping", "query": "empty"},
                           timeout=TIMEOUT).json()
    return sorted(int(e["url"].rsplit("=", 1)[1]) for e in entries)
