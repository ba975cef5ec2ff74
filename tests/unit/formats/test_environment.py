"""Postman environments (postmock_nb.formats.environment), in-process: parsing, clear errors, the magic's
mistakes. On a running mock (a socket, a subprocess): test_environment_served.py."""

from __future__ import annotations

import json

import pytest
from IPython.core.error import UsageError
from support.environments import write_environment

from postmock_nb.errors import CollectionFormatError
from postmock_nb.formats.environment import load_environment, parse_environment


def test_enabled_values_only_in_file_order(tmp_path):
    env = load_environment(write_environment(tmp_path / "e.json", {"a": "1", "b": "2"}, {"c": "3"}))
    assert env.name == "Staging" and env.values == (("a", "1"), ("b", "2"))


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "the top level must be a JSON object, not list"),
    ('{"name": "x"}', "'values' is missing"),
    ('{"name": "x", "values": {}}', "'values' must be a list, not dict"),
    ('{"name": "x", "values": [{"value": "1"}]}', "values[0]: each value needs a string 'key'"),
    ('{"name": "x", "values": [], "_postman_variable_scope": "globals"}', "a Postman 'globals' export"),
])
def test_malformed_files_get_one_clear_error(tmp_path, text, message):
    path = tmp_path / "env.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CollectionFormatError) as raised:
        load_environment(path)
    assert message in str(raised.value) and str(path) in str(raised.value)


def test_missing_file(tmp_path):
    with pytest.raises(CollectionFormatError, match="no such file"):
        load_environment(tmp_path / "nope.json")


def test_non_string_values_are_kept_as_json():
    env = parse_environment({"values": [{"key": "n", "value": 3}, {"key": "b", "value": True}]}, "inline")
    assert env.values == (("n", "3"), ("b", "true"))


# -- the notebook ------------------------------------------------------------------------------------


def test_values_postman_marks_secret_are_named():
    parsed = parse_environment({"values": [{"key": "token", "value": "t-1", "type": "secret"},
                                           {"key": "host", "value": "h", "type": "default"},
                                           {"key": "off", "value": "o", "type": "secret", "enabled": False}]})
    assert parsed.secret_keys == frozenset({"token"})
    assert parsed.values == (("token", "t-1"), ("host", "h"))


def test_environment_mistakes(shell, tmp_path):
    with pytest.raises(UsageError, match="give a FILE, or --clear"):
        shell.run_line_magic("mock", "environment")
    with pytest.raises(UsageError, match="no such file"):
        shell.run_line_magic("mock", f"environment {tmp_path / 'missing.json'}")


def test_saved_files_keep_their_mode_and_leave_no_temporary_file(tmp_path, build):
    """`%mock save` and `save --environment` replace a file whole, keep its permissions (a 0600
    temporary file used to make a shared 0644 file private) and leave nothing beside it."""
    import stat

    from postmock_nb.formats.environment import save_environment
    from postmock_nb.formats.postman import save_collection

    collection_path, environment_path = tmp_path / "c.json", tmp_path / "e.json"
    for path in (collection_path, environment_path):
        path.write_text("{}", encoding="utf-8")
        path.chmod(0o644)
    save_collection(build.collection(build.example("GET /ping", body="pong")), collection_path)
    save_environment(environment_path, "Mock", (("mockUrl", "http://127.0.0.1:1"),))
    for path in (collection_path, environment_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, oct(path.stat().st_mode)
        assert json.loads(path.read_text(encoding="utf-8"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "e.json"]
