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
    decode_segment,
    encode_segment,
    fill_saved_variables,
    id_blind,
    lookup_keys,
    path_as_matched,
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


# -- issue 23, defect 2: a percent-encoded slash is part of its segment -------------------------------------


@pytest.mark.parametrize("sent, matched", [
    ("/users/42", "/users/42"),                                  # no %: as it is
    ("/files/a%2Fb", "/files/a%2Fb"),                            # an encoded slash stays encoded: one segment
    ("/files/a%2fb/", "/files/a%2Fb/"),                          # written one way
    ("/caf%C3%A9/x", "/café/x"),                                 # anything else is decoded
    ("/users/john%20doe", "/users/john doe"),
    ("/files/a%252Fb", "/files/a%252Fb"),                        # decoded once: the segment is "a%2Fb"
    ("/q%3Fx/h%23y/50%25", "/q%3Fx/h%23y/50%25"),                # ?, # and % inside a segment stay encoded
    ("/repos/o/r/git/ref/heads%2Ffeature-a", "/repos/o/r/git/ref/heads%2Ffeature-a"),
    ("/bad%zz", "/bad%25zz"),                                    # not an escape: a "%" of the segment
])
def test_path_as_matched(sent: str, matched: str) -> None:
    assert path_as_matched(sent) == matched
    assert path_as_matched(matched) == matched  # already matched text reads the same (idempotent)


@pytest.mark.parametrize("segment, text", [
    ("a/b", "a%2Fb"), ("a%2Fb", "a%252Fb"), ("plain", "plain"), ("café", "café"), ("a?b#c", "a%3Fb%23c"),
])
def test_encode_and_decode_segment(segment: str, text: str) -> None:
    assert encode_segment(segment) == text
    assert decode_segment(text) == segment


@pytest.mark.parametrize("sent, segments", [
    ("/files/a%2Fb", ("files", "a/b")),
    ("/files/a%252Fb/", ("files", "a%2Fb")),            # one decode only
    ("/v2/test%2Fbash/blobs/sha256:1", ("v2", "test/bash", "blobs", "sha256:1")),
    ("/caf%C3%A9", ("café",)),
])
def test_request_segments_are_decoded_once(sent: str, segments: tuple[str, ...]) -> None:
    assert RequestPath(path_as_matched(sent)).segments == segments


def test_a_literal_encoded_slash_in_an_example_is_one_segment() -> None:
    pattern = PathPattern.parse("/files/a%2Fb/:rest", {})
    assert pattern.segments == ("files", "a/b", ":rest")
    assert pattern.text == "/files/a%2Fb/:rest"
    assert RequestPath(path_as_matched("/files/a%2Fb/x")).fits(pattern, PathRule.WILDCARD) == {"rest": "x"}
    assert RequestPath("/files/a/b/x").first_fit(pattern) == (None, {})  # four segments: not this example
    exact = PathPattern.parse("/files/a%2Fb", {})
    assert RequestPath(path_as_matched("/files/a%2fb")).first_fit(exact) == (PathRule.EXACT, {})
    assert RequestPath("/files/a/b").first_fit(exact)[0] is not PathRule.EXACT


@pytest.mark.parametrize("sent, template, captured", [
    ("/repos/octo/hello/git/ref/heads%2Ffeature-a", "/repos/:owner/:repo/git/ref/:ref",
     {"owner": "octo", "repo": "hello", "ref": "heads/feature-a"}),          # GitHub
    ("/v2/test%2Fbash/blobs/sha256:abc", "/v2/:name/blobs/:digest",
     {"name": "test/bash", "digest": "sha256:abc"}),                         # Azure Container Registry
    ("/files/a%252Fb", "/files/:name", {"name": "a%2Fb"}),                   # double-encoded: decoded once
    ("/FILES/a%2Fb", "/files/:name", {"name": "a/b"}),                       # the case-ignoring rule too
])
def test_a_path_variable_captures_the_decoded_value(sent: str, template: str, captured: dict[str, str]) -> None:
    request = RequestPath(path_as_matched(sent))
    rule, values = request.first_fit(PathPattern.parse(template, {}))
    assert rule in (PathRule.WILDCARD, PathRule.WILDCARD_AND_CASE) and values == captured
