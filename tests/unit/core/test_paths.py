"""core/paths.py: the ladder of path rules, piece by piece (which example a request picks end to end is in
tests/unit/matching/test_matching.py, with is_id_segment's cases)."""

from __future__ import annotations

import pytest

from postmock_nb.core.paths import (
    ID_PLACEHOLDER,
    LOOKUP_RULES,
    PathPattern,
    PathRule,
    RequestPath,
    fill_saved_variables,
    id_blind,
    lookup_keys,
    resolve_variables,
    split_segments,
    strip_ids,
    wildcard_name,
    without_trailing_slash,
)

UUID = "123e4567-e89b-12d3-a456-426614174000"


def test_the_ladder_costs_more_at_each_rung() -> None:
    penalties = [rule.penalty for rule in PathRule]
    assert penalties == sorted(penalties) and len(set(penalties)) == len(penalties)
    assert PathRule.EXACT.penalty == 0 and PathRule.EXACT.label == "exact path"
    assert set(PathRule) - set(LOOKUP_RULES) == {PathRule.WILDCARD, PathRule.WILDCARD_AND_CASE, PathRule.DISTANCE}


@pytest.mark.parametrize("text, shown", [
    ("/users/{{userId}}", "/users/42"),
    ("/users/{{ userId }}/orders", "/users/42/orders"),
    ("/{{missing}}/{{userId}}", "/{{missing}}/42"),  # an undefined variable stays (a wildcard)
    ("{{base}}/x", "/api/x"),
    ("/plain", "/plain"),
])
def test_resolve_variables(text: str, shown: str) -> None:
    assert resolve_variables(text, {"userId": "42", "base": "/api"}) == shown


@pytest.mark.parametrize("path, saved, filled", [
    ("/products/:productId", (("productId", "sku-1"),), "/products/sku-1"),
    ("/products/:productId", (("productId", ""),), "/products/:productId"),  # no value: still a wildcard
    ("/products/:productId", (("productId", "<long>"),), "/products/:productId"),  # a type placeholder
    ("/a/:x/b/:y", (("y", "2"),), "/a/:x/b/2"),
    ("/products/sku-1", (("productId", "sku-9"),), "/products/sku-1"),  # no variable in the path
    ("/a/:x", (), "/a/:x"),
])
def test_fill_saved_variables(path: str, saved: tuple[tuple[str, str], ...], filled: str) -> None:
    assert fill_saved_variables(path, saved) == filled


@pytest.mark.parametrize("path, bare, segments", [
    ("/a/b/", "/a/b", ("a", "b")),
    ("/a//b", "/a//b", ("a", "b")),
    ("/", "/", ()),
    ("///", "/", ()),
    ("", "/", ()),
])
def test_trailing_slashes_and_segments(path: str, bare: str, segments: tuple[str, ...]) -> None:
    assert without_trailing_slash(path) == bare
    assert split_segments(path) == segments


def test_strip_ids_and_id_blind() -> None:
    assert strip_ids(f"/users/42/orders/{UUID}/x") == f"/users/{ID_PLACEHOLDER}/orders/{ID_PLACEHOLDER}/x"
    assert strip_ids("/users/me") == "/users/me"
    assert id_blind(f"/Users/42/:orderId/{UUID.upper()}") == "/users/0/0/0"
    assert id_blind("/users/:id") == id_blind("/USERS/7")


@pytest.mark.parametrize("segment, name", [
    (":id", "id"),
    (":", None),
    ("{{userId}}", "userId"),
    ("{{ userId }}", "userId"),
    ("user-{{id}}", None),  # only a whole segment is a wildcard
    ("users", None),
    ("", None),
])
def test_wildcard_name(segment: str, name: str | None) -> None:
    assert wildcard_name(segment) == name


def test_parse_resolves_unquotes_and_keeps_the_trailing_slash() -> None:
    pattern = PathPattern.parse("api/{{version}}/caf%C3%A9/:id/{{other}}/", {"version": "v2"})
    assert pattern.text == "/api/v2/café/:id/{{other}}/"
    assert pattern.segments == ("api", "v2", "café", ":id", "{{other}}")
    assert pattern.wildcards == (None, None, None, "id", "other")
    assert pattern.has_wildcards
    root = PathPattern.parse("/", {})
    assert (root.text, root.segments, root.has_wildcards) == ("/", (), False)


def test_capture_fills_wildcards_and_folds_case_only_when_asked() -> None:
    pattern = PathPattern.parse("/Users/:id/{{section}}", {})
    assert pattern.capture(("Users", "Ab", "posts")) == {"id": "Ab", "section": "posts"}
    assert pattern.capture(("users", "Ab", "posts")) is None
    assert pattern.capture(("users", "Ab", "posts"), fold=True) == {"id": "Ab", "section": "posts"}
    assert pattern.capture(("Users", "Ab")) is None
    assert PathPattern.parse("/a", {}).capture(("a",)) == {}


def test_near_capture_accepts_a_close_segment_only() -> None:
    pattern = PathPattern.parse("/products/:id", {})
    assert pattern.near_capture(("prodcts", "9")) == {"id": "9"}  # one edit in 7: 86 % kept
    assert pattern.near_capture(("PRODUCTS", "9")) == {"id": "9"}
    assert pattern.near_capture(("orders", "9")) is None
    assert pattern.near_capture(("products",)) is None
    assert PathPattern.parse("/", {}).near_capture(()) is None


def test_lookup_keys() -> None:
    keys = lookup_keys("/Users/42/")
    assert keys == {
        PathRule.EXACT: "/Users/42/",
        PathRule.TRAILING_SLASH: "/Users/42",
        PathRule.CASE: "/users/42/",
        PathRule.TRAILING_SLASH_AND_CASE: "/users/42",
        PathRule.IDS: f"/users/{ID_PLACEHOLDER}/",
        PathRule.TRAILING_SLASH_AND_IDS: f"/users/{ID_PLACEHOLDER}",
    }
    assert set(keys) == set(LOOKUP_RULES)
    request = RequestPath("/Users/42/")
    assert {rule: request.key(rule) for rule in LOOKUP_RULES} == keys


@pytest.mark.parametrize("request_path, example_path, rule, captured", [
    ("/users/42", "/users/42", PathRule.EXACT, {}),
    ("/users/42/", "/users/42", PathRule.TRAILING_SLASH, {}),
    ("/Users/42", "/users/42", PathRule.CASE, {}),
    ("/Users/42/", "/users/42", PathRule.TRAILING_SLASH_AND_CASE, {}),
    ("/users/42", "/users/:id", PathRule.WILDCARD, {"id": "42"}),
    ("/users/42", "/users/7", PathRule.IDS, {}),
    ("/users/42/", "/users/7", PathRule.TRAILING_SLASH_AND_IDS, {}),
    ("/USERS/42", "/users/:id", PathRule.WILDCARD_AND_CASE, {"id": "42"}),
    ("/user/me", "/users/me", PathRule.DISTANCE, {}),
    ("/orders/1", "/users/:id", None, {}),
])
def test_first_fit_climbs_the_ladder(request_path: str, example_path: str, rule: PathRule | None,
                                     captured: dict[str, str]) -> None:
    assert RequestPath(request_path).first_fit(PathPattern.parse(example_path, {})) == (rule, captured)


def test_fits_asks_one_rule() -> None:
    request = RequestPath("/users/42")
    assert request.segments == ("users", "42")
    assert request.fits(PathPattern.parse("/users/42", {}), PathRule.CASE) == {}
    assert request.fits(PathPattern.parse("/users/42", {}), PathRule.WILDCARD) is None  # no wildcard to fill
    assert request.fits(PathPattern.parse("/users/:id", {}), PathRule.EXACT) is None
