"""newman (Postman's CLI runner) runs an exported collection's test scripts against our mock.

The collection is built in Python with Postman test scripts in each item's ``event``; the
item ``request`` is what newman sends (examples' ``originalRequest`` is what the mock
matches). ``baseUrl`` points at a live MockServer, and newman's JSON report must show every
assertion passing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from postmock_nb.core.model import Collection, Example, Item, RequestSpec, ResponseSpec
from postmock_nb.formats.postman import save_collection, to_postman
from postmock_nb.formats.schema import validate_postman
from postmock_nb.serving.server import MockServer

ROOT = Path(__file__).resolve().parents[2]
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"
JSON = (("Content-Type", "application/json"),)

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not NEWMAN.exists(),
    reason=f"newman is not installed at {NEWMAN}: run `npm install` in {ROOT} (scripts/install-system-deps.sh does)")


def script(*lines: str) -> tuple[dict, ...]:
    """An item's ``event`` list holding one Postman test script."""
    return ({"listen": "test", "script": {"type": "text/javascript", "exec": list(lines)}},)


def collection() -> tuple[Collection, int, list[str]]:
    """The collection, how many assertions its scripts make, and the example each request should get."""
    get_user = RequestSpec("GET", "/users/:id", headers=(("Accept", "application/json"),), path_variables=(("id", "1"),))
    missing_user = RequestSpec("GET", "/users/:id", headers=(("x-mock-response-code", "404"),),
                               path_variables=(("id", "99"),))
    search = RequestSpec("GET", "/users", query=(("role", "admin"),))
    create = RequestSpec("POST", "/users", headers=JSON, body='{"name": "Grace"}', body_language="json")
    health = RequestSpec("GET", "/health")

    user_1 = Example("User 1", RequestSpec("GET", "/users/1"),
                     ResponseSpec(200, headers=JSON, body='{"id": 1, "name": "Ada"}'))
    not_found = Example("User not found", RequestSpec("GET", "/users/:id"),
                        ResponseSpec(404, headers=JSON, body='{"error": "not found"}'))
    admins = Example("Admins", search, ResponseSpec(200, headers=JSON, body='[{"id": 1, "role": "admin"}]'))
    everyone = Example("Everyone", RequestSpec("GET", "/users"),
                       ResponseSpec(200, headers=JSON, body='[{"id": 1, "role": "admin"}, {"id": 2, "role": "dev"}]'))
    created = Example("Created", RequestSpec("POST", "/users", headers=JSON),
                      ResponseSpec(201, headers=JSON + (("Location", "/users/3"),),
                                   body='{"id": 3, "name": "{{$body \'name\'}}"}'))
    up = Example("Up", health, ResponseSpec(200, headers=(("Content-Type", "text/plain"),), body="ok"))

    items = (
        Item("Get user", get_user, (user_1, not_found), folder=("Users",), events=script(
            "pm.test('status is 200', () => pm.response.to.have.status(200));",
            "pm.test('JSON content type', () => {",
            "  pm.expect(pm.response.headers.get('Content-Type')).to.include('application/json');",
            "});",
            "pm.test('body is user 1', () => {",
            "  const user = pm.response.json();",
            "  pm.expect(user.id).to.eql(1);",
            "  pm.expect(user.name).to.eql('Ada');",
            "});",
        )),
        Item("Missing user", missing_user, folder=("Users",), events=script(
            "pm.test('x-mock-response-code picks the 404 example', () => pm.response.to.have.status(404));",
            "pm.test('error body', () => pm.expect(pm.response.json().error).to.eql('not found'));",
        )),
        Item("Search admins", search, (admins, everyone), folder=("Users", "Search"), events=script(
            "pm.test('status is 200', () => pm.response.to.have.status(200));",
            "pm.test('only admins', () => {",
            "  const users = pm.response.json();",
            "  pm.expect(users).to.have.lengthOf(1);",
            "  pm.expect(users[0].role).to.eql('admin');",
            "});",
        )),
        Item("Create user", create, (created,), events=script(
            "pm.test('status is 201', () => pm.response.to.have.status(201));",
            "pm.test('name echoed from the request body', () => pm.expect(pm.response.json().name).to.eql('Grace'));",
            "pm.test('Location header', () => pm.response.to.have.header('Location', '/users/3'));",
        )),
        Item("Health", health, (up,), events=script(
            "pm.test('status is 200', () => pm.response.to.have.status(200));",
            "pm.test('plain text body', () => pm.expect(pm.response.text()).to.eql('ok'));",
        )),
    )
    served = ["User 1", "User not found", "Admins", "Created", "Up"]
    return Collection(name="newman interop", items=items), 12, served


def run_newman(collection_file: Path, report_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(NEWMAN), "run", str(collection_file), "--reporters", "cli,json", "--reporter-json-export",
         str(report_file), "--color", "off", "--timeout-request", "10000"],
        cwd=ROOT, capture_output=True, text=True, timeout=180)


def test_newman_runs_the_exported_collection_against_the_mock(tmp_path: Path) -> None:
    built, expected_assertions, served = collection()
    with MockServer(built, host="127.0.0.1", port=0) as mock:
        exported = built.with_variables((("baseUrl", mock.url), ("mockUrl", mock.url)))
        assert validate_postman(to_postman(exported)) == []
        collection_file = save_collection(exported, tmp_path / "interop.postman_collection.json")
        report_file = tmp_path / "newman-report.json"
        done = run_newman(collection_file, report_file)
        log = [(entry.method, entry.url, entry.status, entry.example_name) for entry in reversed(mock.log.recent())]

    output = f"newman exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}\n--- mock log\n{log}"
    assert report_file.exists(), f"newman wrote no JSON report\n{output}"
    run = json.loads(report_file.read_text(encoding="utf-8"))["run"]

    failures = [f"{f['source']['name']}: {f['error']['test']}: {f['error']['message']}" for f in run["failures"]]
    assert failures == [], "\n".join(failures) + "\n" + output
    assert done.returncode == 0, output

    stats = run["stats"]
    assert stats["requests"] == {"total": 5, "pending": 0, "failed": 0}, output
    assert stats["assertions"]["total"] == expected_assertions, output
    assert stats["assertions"]["failed"] == 0, output

    per_request = {}
    for execution in run["executions"]:
        name = execution["item"]["name"]
        assert "requestError" not in execution, f"{name}: {execution.get('requestError')}"
        per_request[name] = [(a["assertion"], "error" not in a) for a in execution["assertions"]]
    assert [len(v) for v in per_request.values()] == [3, 2, 2, 3, 2], per_request
    assert all(ok for results in per_request.values() for _, ok in results), per_request
    codes = [execution["response"]["code"] for execution in run["executions"]]
    assert codes == [200, 404, 200, 201, 200], output

    assert [name for *_, name in log] == served, f"the mock served other examples than expected: {log}"
    assert log[0][:2] == ("GET", "/users/1") and log[1][:2] == ("GET", "/users/99"), log
    assert log[2][1] == "/users?role=admin", log


def test_newman_reports_a_failing_assertion(tmp_path: Path) -> None:
    """The harness itself: a wrong expectation must show up as a failure, not pass silently."""
    built = Collection(name="one failure", items=(
        Item("Health", RequestSpec("GET", "/health"),
             (Example("Up", RequestSpec("GET", "/health"), ResponseSpec(200, body="ok")),),
             events=script("pm.test('expects a 500', () => pm.response.to.have.status(500));")),
    ))
    with MockServer(built, port=0) as mock:
        collection_file = save_collection(built.with_variables((("baseUrl", mock.url),)), tmp_path / "c.json")
        done = run_newman(collection_file, tmp_path / "report.json")
    run = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["run"]
    assert done.returncode == 1, done.stdout
    assert run["stats"]["assertions"] == {"total": 1, "pending": 0, "failed": 1}
    assert run["failures"][0]["error"]["test"] == "expects a 500"
