"""Dynamic response bodies (postmock_nb.answers.templating): fake data, request echo, wildcard echo."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime

import pytest

from postmock_nb.answers.templating import FAKER_PROVIDERS, RenderContext, dynamic_value, has_placeholders, render, seed
from postmock_nb.core.bodies import json_path

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

CTX = RenderContext(
    path="/users/7/orders",
    query=(("q", 'say "hi"'), ("page", "2"), ("tag", "a"), ("tag", "b")),
    headers={"x-token": "T0k", "name": "Ann"},
    body='{"a": {"b": "deep", "n": 5, "list": [1, 2], "t": true}, "user.name": "Sonya", "quote": "q\\"uote"}',
    captured={"id": "7", "name": "fred"},
    variables={"env": "prod", "id": "variable-loses-to-capture"},
)


# -- dynamic variables --------------------------------------------------------------------------


@pytest.mark.parametrize("template, check", [
    ("{{$guid}}", UUID_RE.match),
    ("{{$randomUUID}}", UUID_RE.match),
    ("{{$timestamp}}", lambda v: v.isdigit() and abs(int(v) - time.time()) < 5),
    ("{{$isoTimestamp}}", lambda v: re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", v)),
    ("{{$randomInt}}", lambda v: v.isdigit() and 0 <= int(v) <= 1000),
    ("{{$randomBoolean}}", lambda v: v in ("true", "false")),
    ("{{$randomFirstName}}", lambda v: v.isalpha() or " " in v or "-" in v or "'" in v),
    ("{{$randomLastName}}", bool),
    ("{{$randomFullName}}", lambda v: " " in v),
    ("{{$randomEmail}}", lambda v: re.fullmatch(r"[^@\s]+@[^@\s]+\.\w+", v)),
    ("{{$randomUserName}}", bool),
    ("{{$randomCity}}", bool),
    ("{{$randomIP}}", lambda v: re.fullmatch(r"\d+\.\d+\.\d+\.\d+", v)),
    ("{{$randomHexColor}}", lambda v: v.startswith("#")),
    ("{{$randomAlphaNumeric}}", lambda v: len(v) == 1 and v.isalnum()),
    ("{{$randomPrice}}", lambda v: re.fullmatch(r"\d+\.\d\d", v)),
    ("{{$randomSemver}}", lambda v: re.fullmatch(r"\d+\.\d+\.\d+", v)),
    ("{{$randomDatePast}}", datetime.fromisoformat),
    ("{{ $guid }}", UUID_RE.match),   # spaces inside the braces
])
def test_dynamic_variables(template, check):
    value = render(template, CTX)
    assert "{{" not in value and check(value), f"{template} rendered as {value!r}"


def test_every_faker_provider_produces_a_value():
    broken = [name for name in FAKER_PROVIDERS if dynamic_value(name) in (None, "")]
    assert not broken, f"dynamic variables without a value: {broken}"


def test_dynamic_values_change_between_renders():
    assert len({render("{{$guid}}", CTX) for _ in range(5)}) == 5


def test_seed_makes_fake_data_repeatable():
    seed(42)
    first = render("{{$randomFullName}} {{$randomCity}}", CTX)
    seed(42)
    assert render("{{$randomFullName}} {{$randomCity}}", CTX) == first


# -- request echo -------------------------------------------------------------------------------


@pytest.mark.parametrize("template, expected", [
    ("{{$body}}", CTX.body),
    ("{{$body 'a.b'}}", "deep"),
    ('{{$body "a.b"}}', "deep"),
    ("{{$body 'a.n'}}", "5"),
    ("{{$body 'a.t'}}", "true"),
    ("{{$body 'a.list.1'}}", "2"),
    ("{{$body 'a.list'}}", "[1, 2]"),
    ("{{$body 'user.name'}}", "Sonya"),              # a key with a dot in its name (test-with-variables.json)
    ("{{$body 'a.missing' 'dflt'}}", "dflt"),
    ("{{$body 'a.missing'}}", ""),
    ("{{$queryParams 'page'}}", "2"),
    ("{{$queryParams 'tag'}}", "a"),                  # repeated: the first
    ("{{$queryParams 'nope' 'none'}}", "none"),
    ("{{$queryParams 'nope'}}", ""),
    ("{{$headers 'x-token'}}", "T0k"),
    ("{{$headers 'X-Token'}}", "T0k"),               # header names are not case-sensitive
    ("{{$headers 'missing' 'dflt'}}", "dflt"),
    ("{{$pathSegments 0}}", "users"),
    ("{{$pathSegments '1'}}", "7"),
    ("{{$pathSegments 2}}", "orders"),
    ("{{$pathSegments 9 'none'}}", "none"),
    ("{{$pathSegments 'x'}}", ""),
    ("{{id}}", "7"),                                   # a captured path variable wins over a collection variable
    ("{{name}}", "fred"),
    ("{{env}}", "prod"),                               # a collection variable
    ("User {{name}} ({{$pathSegments 1}})", "User fred (7)"),
])
def test_echo(template, expected):
    assert render(template, CTX) == expected, template


def test_echo_of_a_body_that_is_not_json():
    ctx = RenderContext(body="plain text")
    assert render("{{$body}}|{{$body 'a'}}|{{$body 'a' 'd'}}", ctx) == "plain text||d"


@pytest.mark.parametrize("template", [
    "{{unknown}}", "{{$notAVariable}}", "{{ spaced }}", "{{$body 'a' 'b' 'c' 'd'", "{{}}", "{{ }}", "{{{nested}}}x",
    "{not} {{", "price: {{$randomPrice",
])
def test_unknown_placeholders_stay_as_they_are(template):
    assert render(template, CTX) == template


def test_unknown_placeholder_beside_a_known_one():
    assert render("{{nope}} {{env}} {{$nope}}", CTX) == "{{nope}} prod {{$nope}}"


# -- JSON bodies: inserted text is escaped, the result stays JSON --------------------------------


@pytest.mark.parametrize("template, expected", [
    ('{"q": "{{$queryParams \'q\'}}"}', {"q": 'say "hi"'}),
    ('{"quote": "{{$body \'quote\'}}"}', {"quote": 'q"uote'}),
    ('{"n": {{$body \'a.n\'}}, "t": {{$body \'a.t\'}}, "l": {{$body \'a.list\'}}}', {"n": 5, "t": True, "l": [1, 2]}),
    ('{"n": "{{$body \'a.n\'}}", "l": "{{$body \'a.list\'}}"}', {"n": "5", "l": "[1, 2]"}),
    ('{"a": "{{$body \'a\'}}"}', {"a": json.dumps({"b": "deep", "n": 5, "list": [1, 2], "t": True})}),
    ('{"echo": {{$body}}}', {"echo": json.loads(CTX.body)}),
    ('{"echo": "{{$body}}"}', {"echo": CTX.body}),    # inside a string: escaped, still JSON
    ('{"query": {{$queryParams}}}', {"query": {"q": 'say "hi"', "page": "2", "tag": "a"}}),
    ('{"id": {{$randomInt}}, "name": "{{name}}"}', None),  # wildcard-variables-test.json's body
    ('{"greeting": "Hello {{name}}, token {{$headers \'x-token\'}}"}', {"greeting": "Hello fred, token T0k"}),
])
def test_json_bodies_stay_json(template, expected):
    rendered = render(template, CTX, json_body=True)
    data = json.loads(rendered)  # raises with the rendered text in the traceback if escaping failed
    if expected is not None:
        assert data == expected, rendered
    else:
        assert isinstance(data["id"], int) and data["name"] == "fred", rendered


def test_text_bodies_are_not_escaped():
    assert render('say: {{$queryParams "q"}}', CTX) == 'say: say "hi"'


def test_fixture_body_with_dotted_key_renders(load_fixture):
    """test-with-variables.json "Dot in Key name": {{$body 'user.name'}} echoes the key "user.name"."""
    item = next(i for i in load_fixture("test-with-variables.json").items if i.name == "Dot in Key name")
    rendered = render(item.examples[0].response.body, RenderContext(body='{"user.name": "Sonya"}'), json_body=True)
    data = json.loads(rendered)
    assert (data["response"], data["bodyName"]) == ("dot-in-key-name", "Sonya"), rendered
    assert UUID_RE.match(data["id"]), rendered


@pytest.mark.parametrize("body, path, expected", [
    ('{"a": {"b": 1}}', "a.b", 1),
    ('{"a.b": 2, "a": {"b": 1}}', "a.b", 2),          # the literal key wins
    ('[{"x": 1}, {"x": 2}]', "1.x", 2),
    ('{"a": [1]}', "a.5", ""),
    ("not json", "a", ""),
    ('{"a": 1}', "", {"a": 1}),
])
def test_json_path(body, path, expected):
    assert json_path(body, path) == expected, f"{path!r} in {body}"


@pytest.mark.parametrize("text, expected", [
    ("{{$guid}}", True), ("Hi {{name}}", True), ("{{$body 'a' 'b'}}", True),
    ("plain", False), ("{ not }", False), ("{{}}", False), ('{"a": {"b": 1}}', False),
])
def test_has_placeholders(text, expected):
    assert has_placeholders(text) is expected, text


def test_a_body_path_with_a_unicode_digit_renders_as_a_miss() -> None:
    """`{{$body 'a.²'}}`: "²" is a digit to str.isdigit but no index; it rendered a ValueError (a 500) before."""
    assert render("[{{$body 'a.²'}}]", RenderContext(body='{"a": [1, 2]}')) == render(
        "[{{$body 'a.9'}}]", RenderContext(body='{"a": [1, 2]}'))
