"""OpenAPI runtime expressions as our placeholders (postmock_nb.formats.expressions): each one maps to the
placeholder that, filled from a request, gives what the expression names; those without one are refused with
the reason."""

from __future__ import annotations

import json

import pytest

from postmock_nb.answers.templating import RenderContext, render
from postmock_nb.formats.expressions import Scope, Unmappable, placeholder, url_template

SCOPE = Scope("post", ("team",), status=202)

MAPPED = [
    ("$request.body", "{{$body}}"),
    ("$request.body#/callbackUrl", "{{$body 'callbackUrl'}}"),
    ("$request.body#/hooks/0/url", "{{$body 'hooks.0.url'}}"),
    ("$request.body#/a~1b/c.d", "{{$body 'a/b.c\\.d'}}"),  # ~1 is '/', a dot in a key is escaped
    ("$request.body#/it's", "{{$body \"it's\"}}"),
    ("$request.query.url", "{{$queryParams 'url'}}"),
    ("$request.header.X-Hook", "{{$headers 'X-Hook'}}"),
    ("$request.path.team", "{{team}}"),
    ("$method", "POST"),
    ("$statusCode", "202"),
]


@pytest.mark.parametrize(("expression", "expected"), MAPPED)
def test_each_request_expression_has_its_placeholder(expression: str, expected: str) -> None:
    assert placeholder(expression, SCOPE) == expected


def test_the_placeholders_give_what_the_expressions_name() -> None:
    body = {"callbackUrl": "http://127.0.0.1:9/a", "hooks": [{"url": "http://h/0"}], "a/b": {"c.d": "deep"},
            "it's": "quoted"}
    ctx = RenderContext(path="/teams/red", query=(("url", "http://q/"),), headers={"x-hook": "http://hd/"},
                        body=json.dumps(body), captured={"team": "red"})
    filled = {expression: render(placeholder(expression, SCOPE), ctx) for expression, _ in MAPPED}
    assert filled == {
        "$request.body": json.dumps(body), "$request.body#/callbackUrl": "http://127.0.0.1:9/a",
        "$request.body#/hooks/0/url": "http://h/0", "$request.body#/a~1b/c.d": "deep",
        "$request.body#/it's": "quoted", "$request.query.url": "http://q/", "$request.header.X-Hook": "http://hd/",
        "$request.path.team": "red", "$method": "POST", "$statusCode": "202"}


@pytest.mark.parametrize(("expression", "reason"), [
    ("$url", "whole URL"),
    ("$response.body#/id", "from the request, not from the response"),
    ("$response.header.Location", "from the request, not from the response"),
    ("$request.path.nope", "no variable 'nope'"),
    ("$request.body#/a//b", "empty key"),
    ("$request.body#/", "empty key"),
    ("$request.body#id", "starts with '/'"),
    ("$request.bodyx", "$request.body or $request.body#/json/pointer"),
    ("$request.query.", "the name is empty"),
    ("$request.cookie.session", "not a runtime expression"),
    ("$request.header.a'b\"c", "both kinds of quotes"),
])
def test_what_has_no_placeholder_is_refused_with_the_reason(expression: str, reason: str) -> None:
    with pytest.raises(Unmappable) as raised:
        placeholder(expression, SCOPE)
    assert reason in str(raised.value) and raised.value.expression == expression


def test_a_url_keeps_its_text_around_the_expressions() -> None:
    assert url_template("{$request.body#/callbackUrl}", SCOPE) == "{{$body 'callbackUrl'}}"
    assert url_template("$request.query.url", SCOPE) == "{{$queryParams 'url'}}"  # a bare expression
    assert (url_template("http://h/{$request.path.team}/events?id={$request.body#/id}&s={$statusCode}", SCOPE)
            == "http://h/{{team}}/events?id={{$body 'id'}}&s=202")
    assert url_template("http://127.0.0.1:9000/hooks", SCOPE) == "http://127.0.0.1:9000/hooks"
    with pytest.raises(Unmappable) as raised:
        url_template("http://h/{$request.body#/id}/{$response.body#/x}", SCOPE)
    assert raised.value.expression == "$response.body#/x"
