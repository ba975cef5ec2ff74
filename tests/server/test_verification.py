"""Verification over a real socket: requests sent to a running mock, then ``GET /__postmock/requests``,
``POST /__postmock/verify``, ``Session.verify`` and the pytest fixture's ``postmock.verify`` read them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from postmock_nb.answers.diagnostics import FAIL_MARK
from postmock_nb.errors import ServerError
from postmock_nb.session import Session

pytest_plugins = ["pytester"]
TIMEOUT = 5
SECRET = "Bearer abcdefghijklmnopqrstuvwxyz012345"


@pytest.fixture(scope="module")
def mock() -> Iterator[Session]:
    """One mock, sent five requests once: every test here only reads its journal."""
    session = Session()
    session.define("POST /users 201", '{"id": 1}')
    session.define("GET /users/:id 200", '{"id": "{{id}}"}')
    session.start()
    url = session.url
    requests.post(url + "/users?page=2", json={"name": "Ann", "role": "admin"},
                  headers={"x-role": "admin", "Authorization": SECRET}, timeout=TIMEOUT)
    requests.post(url + "/users", json={"name": "Bob"}, timeout=TIMEOUT)
    requests.get(url + "/users/7", timeout=TIMEOUT)
    requests.get(url + "/users/8?page=2", headers={"x-role": "guest"}, timeout=TIMEOUT)
    requests.delete(url + "/users/7", timeout=TIMEOUT)  # no example: a miss, journaled all the same
    try:
        yield session
    finally:
        session.close()


def listed(mock: Session, **params: str | list[str]) -> list[tuple[str, str, int]]:
    response = requests.get(mock.url + "/__postmock/requests", params=params, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return [(e["method"], e["url"], e["status"]) for e in response.json()]


def posted(mock: Session, body: object) -> requests.Response:
    return requests.post(mock.url + "/__postmock/verify", json=body, timeout=TIMEOUT)


def test_the_requests_list_is_newest_first_matched_or_not(mock: Session) -> None:
    assert listed(mock) == [("DELETE", "/users/7", 404), ("GET", "/users/8?page=2", 200), ("GET", "/users/7", 200),
                            ("POST", "/users", 201), ("POST", "/users?page=2", 201)]
    assert listed(mock, limit="2") == [("DELETE", "/users/7", 404), ("GET", "/users/8?page=2", 200)]


def test_the_requests_list_filters(mock: Session) -> None:
    assert listed(mock, method="POST") == [("POST", "/users", 201), ("POST", "/users?page=2", 201)]
    assert listed(mock, path="/users/:id") == [("DELETE", "/users/7", 404), ("GET", "/users/8?page=2", 200),
                                               ("GET", "/users/7", 200)]
    assert listed(mock, method="GET", path="/users/:id", query="page=2") == [("GET", "/users/8?page=2", 200)]
    assert listed(mock, query="page=2") == [("GET", "/users/8?page=2", 200), ("POST", "/users?page=2", 201)]
    assert listed(mock, header="x-role:admin") == [("POST", "/users?page=2", 201)]
    assert listed(mock, header=["x-role"], query=["page=2"]) == [("GET", "/users/8?page=2", 200),
                                                                 ("POST", "/users?page=2", 201)]
    assert listed(mock, path="/orders") == []


def test_the_requests_list_shows_each_entry_with_secrets_masked(mock: Session) -> None:
    entry = requests.get(mock.url + "/__postmock/requests", params={"header": "x-role:admin"}, timeout=TIMEOUT).json()[0]
    assert (entry["method"], entry["path"], entry["query"], entry["status"], entry["matched"]) == (
        "POST", "/users", [["page", "2"]], 201, True)
    assert entry["example_id"] and isinstance(entry["seq"], int) and isinstance(entry["time"], float)
    assert entry["body"] == '{"name": "Ann", "role": "admin"}'
    headers = {name.lower(): value for name, value in entry["headers"]}
    assert headers["authorization"] == "Bearer abcdefghi…2345" and headers["x-role"] == "admin"
    miss = requests.get(mock.url + "/__postmock/requests", params={"method": "DELETE"}, timeout=TIMEOUT).json()[0]
    assert (miss["matched"], miss["example_id"]) == (False, None)


def test_a_bad_filter_is_a_400_in_the_one_error_shape(mock: Session) -> None:
    response = requests.get(mock.url + "/__postmock/requests", params={"limit": "many"}, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json() == {"error": {"name": "invalidVerification", "header": "Bad Request",
                                         "message": "limit must be a whole number, got 'many'\nHint: limit=20"}}


@pytest.mark.parametrize("limit", ["\u00b2", "9" * 5000])
def test_a_limit_int_cannot_read_is_a_400_not_a_500(mock: Session, limit: str) -> None:
    response = requests.get(mock.url + "/__postmock/requests", params={"limit": limit}, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("limit must be a whole number")


@pytest.mark.parametrize(("raw", "complaint"), [
    (b"[" * 100_000 + b"]" * 100_000, "the JSON nests more than 200 levels deep"),
    (b"\xff\xfe{}", "the body is not UTF-8 text (byte 0)"),
])
def test_a_verify_body_too_deep_or_not_utf8_is_a_400_not_a_500(mock: Session, raw: bytes, complaint: str) -> None:
    response = requests.post(mock.url + "/__postmock/verify", data=raw, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"] == {"name": "invalidVerification", "header": "Bad Request", "message": complaint}
    assert posted(mock, {"request": "POST /users", "times": 2}).json()["verified"] is True  # served on


def test_verify_passes(mock: Session) -> None:
    body = {"request": "POST /users", "times": 1, "at_least": None, "at_most": None,
            "json": {"name": "Ann", "role": "{{$any}}"}, "headers": {"x-role": "admin"}, "query": {"page": "2"}}
    response = posted(mock, body)
    assert response.status_code == 200
    assert response.json() == {"verified": True, "count": 1, "message": ""}
    assert posted(mock, {"request": "POST /users", "times": 2}).json() == {"verified": True, "count": 2, "message": ""}
    assert posted(mock, {"request": "GET /users/:id", "at_least": 2, "at_most": 3}).json()["verified"] is True
    assert posted(mock, {"request": "POST /users", "json": {"name": "Bob"}, "contains": True}).json()["count"] == 1


def test_verify_fails_with_the_closest_requests_and_their_differences(mock: Session) -> None:
    response = posted(mock, {"request": "POST /users", "times": 1, "json": {"name": "Cy"}})
    assert response.status_code == 200
    verdict = response.json()
    assert (verdict["verified"], verdict["count"]) == (False, 0)
    message = verdict["message"]
    lines = message.splitlines()
    assert lines[0] == "Expected POST /users to be received exactly 1 time, but it was received 0 times."
    assert "Checked the 5 requests the journal holds (it keeps the last 1000); 0 matched." in lines
    assert "1. #2 POST /users → 201 — 1 difference" in lines
    assert "2. #1 POST /users?page=2 → 201 — 2 differences" in lines
    bob = lines[lines.index("1. #2 POST /users → 201 — 1 difference") + 5]
    assert bob.split(" | ")[0].strip() == 'body $.name: "Bob"'
    assert bob.split(" | ")[1].split() == ["body", "$.name:", '"Cy"', FAIL_MARK, "expected", '"Cy",', "got", '"Bob"']
    assert SECRET not in message


def test_verify_too_many(mock: Session) -> None:
    message = posted(mock, {"request": "GET /users/:id", "at_most": 1}).json()["message"]
    assert message.splitlines()[:1] == ["Expected GET /users/:id to be received at most 1 time, "
                                        "but it was received 2 times."]
    assert "  #4 GET /users/8?page=2 → 200\n  #3 GET /users/7 → 200" in message


def test_a_bad_verify_request_is_a_400(mock: Session) -> None:
    response = posted(mock, {"request": "POST /users", "times": 1, "at_least": 1})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["name"] == "invalidVerification"
    assert error["message"].startswith("give times, or at_least and/or at_most, not both")
    not_json = requests.post(mock.url + "/__postmock/verify", data="{", timeout=TIMEOUT)
    assert not_json.status_code == 400 and "the body must be a JSON object" in not_json.json()["error"]["message"]


def test_session_verify_passes_and_raises_the_same_message(mock: Session) -> None:
    verdict = mock.verify("POST /users", times=1, json={"name": "Ann", "role": "admin"}, headers={"X-Role": "admin"},
                          query={"page": 2})
    assert verdict.summary == ("Verified: POST /users?page=2 was received 1 time (expected exactly 1 time; "
                               "5 requests checked).")
    with pytest.raises(AssertionError) as raised:
        mock.verify("POST /users", times=1, json={"name": "Cy"})
    assert str(raised.value) == posted(mock, {"request": "POST /users", "times": 1, "json": {"name": "Cy"}}
                                       ).json()["message"]


def test_session_verify_before_any_start() -> None:
    with pytest.raises(ServerError, match="the mock has not been started"):
        Session().verify("GET /users")


def test_the_fixture_verifies(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_signup_posts_the_user(postmock):
            postmock.define("POST /users 201", '{"id": 1}')
            requests.post(postmock.url + "/users", json={"name": "Ann"})
            postmock.verify("POST /users", times=1, json={"name": "Ann"})

        def test_a_wrong_body_fails_with_the_difference(postmock):
            postmock.define("POST /users 201", '{"id": 1}')
            requests.post(postmock.url + "/users", json={"name": "Bob"})
            postmock.verify("POST /users", json={"name": "Ann"})
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*AssertionError: Expected POST /users to be received at least 1 time, but it was received 0 times.*",
        '*body $.name: "Bob"*body $.name: "Ann"*<<<<< expected "Ann", got "Bob"*',
    ])


def test_verification_is_a_read_it_needs_no_admin_key() -> None:
    """``POST /__postmock/verify`` changes nothing: like ``GET /__postmock/requests`` it takes the mock's key (a
    private mock), never the admin key the writes take (``--admin-key``)."""
    session = Session()
    session.start(admin_key="an-admin-key-of-some-length")
    try:
        requests.get(session.url + "/users", timeout=TIMEOUT)
        response = posted(session, {"request": "GET /users", "times": 1})
        assert (response.status_code, response.json()) == (200, {"verified": True, "count": 1, "message": ""})
        assert listed(session, path="/users") == [("GET", "/users", 404)]
    finally:
        session.close()
