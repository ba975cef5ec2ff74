"""A scenario and a sequence through the magics in a real kernel (nbclient): cells, status, reset, save and load."""

from __future__ import annotations

from support.notebook_cells import cell_text, error_outputs, run_in_kernel


def _run(cells: list[str], path) -> list[str]:
    nb = run_in_kernel(cells, path, timeout=60)
    outputs = []
    for cell in nb.cells:
        errors = error_outputs(cell)
        assert not errors, f"{cell.source!r} raised {errors[0].get('ename')}: {errors[0].get('evalue')}"
        outputs.append(cell_text(cell))
    return outputs


def test_scenario_and_sequence_in_a_kernel_survive_save_and_load(tmp_path) -> None:
    saved = tmp_path / "flows.json"
    poll = "print([requests.get(f'{mockUrl}/jobs/7').json()['state'] for _ in range(3)])"
    turns = "print([requests.get(f'{mockUrl}/coin').json()['side'] for _ in range(3)])"
    out = _run([
        "%load_ext postmock_nb\nimport requests",
        '%%example GET /jobs/7 --name pending --scenario jobs --requires Started --next done\n{"state": "pending"}',
        '%%example GET /jobs/7 --name done --scenario jobs --requires done\n{"state": "done"}',
        '%%example GET /coin --name heads --sequence cycle\n{"side": "heads"}',
        '%%example GET /coin --name tails --sequence cycle\n{"side": "tails"}',
        "%mock start --no-dashboard",
        poll, turns, "%mock status", "%mock reset", "%mock status",
        f"%mock save {saved}", "%mock stop", "%mock clear", f"%mock load {saved}", "%mock start --no-dashboard",
        poll, turns,
    ], tmp_path)
    assert out[6].strip() == "['pending', 'done', 'done']"
    assert out[7].strip() == "['heads', 'tails', 'heads']"
    assert "Scenarios: jobs = done" in out[8]
    assert "jobs" in out[9] and "Scenarios: jobs = Started" in out[10]
    assert out[-2].strip() == "['pending', 'done', 'done']" and out[-1].strip() == "['heads', 'tails', 'heads']"


def test_mock_start_with_state_in_a_kernel_shares_the_scenario_and_status_shows_it(tmp_path, redis_url: str) -> None:
    poll = "print([requests.get(f'{mockUrl}/jobs/7').json()['state'] for _ in range(2)])"
    out = _run([
        "%load_ext postmock_nb\nimport requests",
        '%%example GET /jobs/7 --name pending --scenario jobs --requires Started --next done\n{"state": "pending"}',
        '%%example GET /jobs/7 --name done --scenario jobs --requires done\n{"state": "done"}',
        f"%mock start --no-dashboard --state {redis_url} --state-prefix kernel",
        poll, "%mock status",
        f"import redis\nprint(redis.Redis.from_url({redis_url!r}).hgetall('postmock:kernel:flows:states'))",
    ], tmp_path)
    assert out[4].strip() == "['pending', 'done']"
    db = redis_url.rsplit("/", 1)[1]
    assert "Shared state: redis://127.0.0.1:" in out[5] and f"/{db} (prefix kernel), available" in out[5]
    assert "Scenarios: jobs = done" in out[5]
    assert out[6].strip() == "{b'jobs': b'done'}"  # in Redis, where every replica reads it
