"""Resource records shared on a real redis-server (``--state``): two MockServers on one URL are two replicas.

One Redis and two replicas serve the module (the kill test has its own, durable, Redis: a kill must not
take the others' records with it). Threads hit the replicas alternately; every figure is counted, not timed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
from support.redis_server import RedisServer
from support.waiting import wait_until

from postmock_nb.behaviours.dispatch import behaviours_first, resource_items
from postmock_nb.behaviours.resources import ResourceStore
from postmock_nb.core.model import Collection
from postmock_nb.notebook.prototype import Prototype
from postmock_nb.serving.server import MockServer
from postmock_nb.serving.shared.records import SharedRecords
from postmock_nb.session import Session

SEED = [{"id": 1, "name": "Alice"}, {"id": 2, "name": "Ben"}]


def team_collection() -> Collection:
    """What `postmock serve FILE` would load: the resources ``items`` (empty) and ``users`` (two records)."""
    memory = ResourceStore()
    collection = Collection(name="team")
    for resource in (memory.define("items", []), memory.define("users", SEED)):
        for item in resource_items(resource, collection):
            collection = collection.with_example(item.examples[0], item_name=item.name, folder=item.folder)
    return behaviours_first(collection)


@dataclass
class Replicas:
    redis: RedisServer
    url: str
    a: MockServer
    b: MockServer

    def at(self, n: int) -> str:
        """The base URL of replica ``n % 2`` (alternating)."""
        return (self.a if n % 2 == 0 else self.b).url


def _replicas(redis_server: RedisServer) -> Iterator[Replicas]:
    url = redis_server.db_url(0)
    a = MockServer(team_collection(), port=0, state=url).start()
    b = MockServer(team_collection(), port=0, state=url).start()
    try:
        yield Replicas(redis_server, url, a, b)
    finally:
        a.stop()
        b.stop()
        redis_server.stop()


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    yield from _replicas(RedisServer(tmp_path_factory.mktemp("redis-team")).start())


def test_creates_across_replicas_get_unique_ids(team: Replicas) -> None:
    def create(thread: int) -> list[int]:
        with requests.Session() as http:
            made = []
            for k in range(25):
                answer = http.post(team.at(thread + k) + "/items", json={"thread": thread, "k": k}, timeout=10)
                assert answer.status_code == 201, answer.text
                made.append(answer.json()["id"])
            return made

    with ThreadPoolExecutor(8) as pool:
        ids = [i for batch in pool.map(create, range(8)) for i in batch]
    assert len(set(ids)) == 200 and sorted(ids) == list(range(1, 201))
    for replica in (team.a, team.b):
        listed = requests.get(replica.url + "/items", params={"_per_page": "500", "_page": "1"}, timeout=10)
        assert listed.headers["x-total-count"] == "200"
        assert sorted(r["id"] for r in listed.json()) == sorted(ids)


def test_concurrent_patches_of_different_fields_all_survive(team: Replicas) -> None:
    start = threading.Barrier(8)

    def patch(thread: int) -> None:
        start.wait()
        with requests.Session() as http:
            for k in range(10):
                answer = http.patch(team.at(thread + k) + "/users/1", json={f"f{thread}": k}, timeout=10)
                assert answer.status_code == 200, answer.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(patch, range(8)))
    record = requests.get(team.b.url + "/users/1", timeout=5).json()
    assert record == {"id": 1, "name": "Alice", **{f"f{t}": 9 for t in range(8)}}


def test_a_record_posted_to_one_replica_is_served_by_the_other(team: Replicas) -> None:
    made = requests.post(team.a.url + "/users", json={"name": "Chloe"}, timeout=5)
    assert made.status_code == 201
    location = made.headers["location"]
    assert requests.get(team.b.url + location, timeout=5).json() == made.json()
    assert requests.delete(team.b.url + location, timeout=5).status_code == 204
    assert requests.get(team.a.url + location, timeout=5).status_code == 404


def test_redis_killed_mid_run_answers_503_and_loses_no_acknowledged_write(tmp_path: Path) -> None:
    durable = RedisServer(tmp_path / "redis", durable=True).start()
    replicas = _replicas(durable)
    team = next(replicas)
    acknowledged: list[int] = []
    refused: list[dict[str, object]] = []
    stop = threading.Event()

    def write(thread: int) -> None:
        with requests.Session() as http:
            k = 0
            while not stop.is_set() and k < 2000:
                answer = http.post(team.at(thread + k) + "/items", json={"thread": thread, "k": k}, timeout=10)
                k += 1
                if answer.status_code == 201:
                    acknowledged.append(answer.json()["id"])
                else:
                    assert answer.status_code == 503, answer.text
                    refused.append(answer.json()["error"])
                    if len(refused) >= 4:
                        return

    try:
        writers = [threading.Thread(target=write, args=(t,)) for t in range(4)]
        for writer in writers:
            writer.start()
        wait_until(lambda: len(acknowledged) >= 40, "40 acknowledged creates")
        durable.kill()  # mid-run: the writers are still posting
        for writer in writers:
            writer.join(timeout=60)
        assert refused and all(e["name"] == "stateUnavailable" and e["store"] == "resources" for e in refused)
        assert team.a.errors == [] and team.b.errors == []  # refused with a 503, nothing crashed
        stop.set()
        durable.start()  # the same port, its append-only file loaded again
        wait_until(lambda: requests.get(team.b.url + "/items/1", timeout=5).status_code == 200,
                   "service back on its own")
        listed = requests.get(team.a.url + "/items", params={"_per_page": "5000", "_page": "1"}, timeout=10).json()
        stored = {r["id"] for r in listed}
        assert set(acknowledged) <= stored  # no acknowledged write lost
        with redis.Redis.from_url(team.url) as client:  # and none half-applied: every record in order, sizes true
            prefix = "postmock:team:res:items:"
            records = client.hgetall(prefix + "records")
            assert set(client.zrange(prefix + "order", 0, -1)) == set(records)
            assert int(client.hget(prefix + "meta", "bytes")) == sum(len(v) for v in records.values())
        assert requests.post(team.b.url + "/items", json={"after": True}, timeout=5).json()["id"] == max(stored) + 1
    finally:
        stop.set()
        next(replicas, None)


def test_a_notebook_resource_lives_in_redis_with_state(redis_url: str) -> None:
    session = Session()
    try:
        proto = Prototype(session)
        proto.resource("users", SEED)
        url = session.start(port=0, state=redis_url).url
        users = proto.resource("users")  # by name: the records in Redis now
        assert isinstance(users, SharedRecords) and users.records == SEED
        assert requests.post(url + "/users", json={"name": "Chloe"}, timeout=5).status_code == 201
        with MockServer(session.store, port=0, state=redis_url) as other:  # a replica of the notebook's mock
            assert [u["name"] for u in requests.get(other.url + "/users", timeout=5).json()] == \
                ["Alice", "Ben", "Chloe"]
        assert len(users) == 3 and users.last_change is not None
        proto.resource("users", SEED)  # defined again with records: re-seeded for every replica
        assert users.records == SEED
    finally:
        session.close()


def test_a_redis_restarted_without_persistence_serves_the_seed_again(tmp_path: Path) -> None:
    replicas = _replicas(RedisServer(tmp_path / "redis").start())
    team = next(replicas)
    try:
        for n in range(3):
            assert requests.post(team.at(n) + "/users", json={"n": n}, timeout=5).status_code == 201
        team.redis.kill()
        down = requests.get(team.a.url + "/users", timeout=5)
        assert down.status_code == 503 and down.json()["error"]["store"] == "resources"
        team.redis.start()  # empty: the first operation seeds it again, once, from the collection's seed
        wait_until(lambda: requests.get(team.b.url + "/users", timeout=5).status_code == 200, "service back")
        assert requests.get(team.a.url + "/users", timeout=5).json() == SEED
        assert requests.post(team.a.url + "/users", json={"n": 9}, timeout=5).json()["id"] == 3
    finally:
        next(replicas, None)
