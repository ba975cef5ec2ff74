"""merge(current, incoming): nothing dropped silently, everything reported."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support.fixture_collections import FIXTURES_DIR, fixture_names

from postmock_nb.core.model import Collection, Example, Item, RequestSpec, ResponseSpec
from postmock_nb.formats.merging import MergeReport, merge
from postmock_nb.formats.postman import load_collection, to_postman

FIXTURES = FIXTURES_DIR


def example(name: str, path: str = "/users", status: int = 200, body: str = "", id: str | None = None,
            method: str = "GET") -> Example:
    made = Example(name, RequestSpec(method, path), ResponseSpec(status, body=body))
    return replace(made, id=id) if id else made


def item(name: str, *examples: Example, folder: tuple[str, ...] = (), id: str | None = None) -> Item:
    request = examples[0].request if examples else RequestSpec("GET", "/")
    made = Item(name=name, request=request, examples=examples, folder=folder)
    return replace(made, id=id) if id else made


def current_collection() -> Collection:
    return Collection(name="Current", id="current", items=(
        item("List users", example("OK", body="[]", id="ok"), example("Empty", body="[]", id="empty"),
             folder=("Users",), id="list"),
        item("Health", example("Up", "/health", id="up"), id="health"),
    ), variables=(("baseUrl", "http://a"), ("token", "t1")))


def test_new_examples_are_added_to_the_matching_item() -> None:
    incoming = Collection(name="Incoming", items=(
        item("List users", example("Forbidden", status=403, id="forbidden"), folder=("Users",)),
    ))
    merged, report = merge(current_collection(), incoming)
    users = merged.items[0]
    assert [e.name for e in users.examples] == ["OK", "Empty", "Forbidden"]
    assert report.added_ids == ("forbidden",) and report.replaced_ids == () and report.renamed == ()
    assert report.added[0].where == "Users > List users"
    assert len(merged.items) == 2


def test_items_are_matched_by_id_before_folder_and_name() -> None:
    incoming = Collection(items=(item("Renamed list", example("Slow", id="slow"), id="list"),))
    merged, report = merge(current_collection(), incoming)
    assert [e.id for e in merged.items[0].examples] == ["ok", "empty", "slow"]
    assert merged.items[0].name == "List users", "the current item's definition is kept"
    assert report.items_added == ()


def test_an_example_with_the_same_id_replaces_it_in_place() -> None:
    incoming = Collection(items=(item("List users", example("OK now", body='[{"id": 1}]', id="ok"),
                                      folder=("Users",)),))
    merged, report = merge(current_collection(), incoming)
    assert [(e.id, e.name, e.response.body) for e in merged.items[0].examples] == [
        ("ok", "OK now", '[{"id": 1}]'), ("empty", "Empty", "[]")]
    assert report.replaced_ids == ("ok",) and report.added == ()


def test_same_id_replaces_even_when_the_incoming_item_differs() -> None:
    incoming = Collection(items=(item("Somewhere else", example("Up v2", "/health", id="up"), folder=("Misc",)),))
    merged, report = merge(current_collection(), incoming)
    assert merged.find("up")[0][0].name == "Health", "a replaced example stays where it was"
    assert merged.find("up")[0][1].name == "Up v2"
    assert report.replaced_ids == ("up",)
    assert report.items_added == ("Misc > Somewhere else",), "the new (now empty) request is still brought over"
    assert merged.items[-1].examples == ()


def test_same_name_different_id_keeps_both_and_renames_the_incoming_one() -> None:
    incoming = Collection(items=(item("List users", example("OK", body="[1]", id="other-ok"),
                                      example("Empty", body="[2]", id="other-empty"), folder=("Users",)),))
    merged, report = merge(current_collection(), incoming)
    names = [(e.id, e.name) for e in merged.items[0].examples]
    assert names == [("ok", "OK"), ("empty", "Empty"), ("other-ok", "OK (2)"), ("other-empty", "Empty (2)")]
    assert [(r.id, r.old_name, r.new_name, r.where) for r in report.renamed] == [
        ("other-ok", "OK", "OK (2)", "Users > List users"), ("other-empty", "Empty", "Empty (2)", "Users > List users")]
    assert report.added_ids == ("other-ok", "other-empty")


def test_renaming_skips_names_already_taken() -> None:
    current = Collection(items=(item("List users", example("OK", id="a"), example("OK (2)", id="b")),))
    incoming = Collection(items=(item("List users", example("OK", id="c"), example("OK", id="d")),))
    merged, report = merge(current, incoming)
    assert [e.name for e in merged.items[0].examples] == ["OK", "OK (2)", "OK (3)", "OK (4)"]
    assert [r.new_name for r in report.renamed] == ["OK (3)", "OK (4)"]


def test_same_name_in_another_request_is_not_a_conflict() -> None:
    incoming = Collection(items=(item("Health", example("OK", "/health", id="health-ok")),))
    merged, report = merge(current_collection(), incoming)
    assert report.renamed == ()
    assert [e.name for e in merged.items[1].examples] == ["Up", "OK"]


def test_a_new_request_is_appended_whole() -> None:
    events = ({"listen": "test", "script": {"exec": ["pm.test('x', () => {})"]}},)
    new = replace(item("Create user", example("Created", method="POST", status=201, id="created"), folder=("Users",)),
                  events=events, description="make one")
    merged, report = merge(current_collection(), Collection(items=(new,)))
    assert merged.items[-1].name == "Create user"
    assert merged.items[-1].events == events and merged.items[-1].description == "make one"
    assert report.items_added == ("Users > Create user",)
    assert report.added_ids == ("created",)


def test_variables_merge_and_incoming_wins() -> None:
    incoming = Collection(variables=(("baseUrl", "http://b"), ("token", "t1"), ("mockUrl", "http://m")))
    merged, report = merge(current_collection(), incoming)
    assert merged.variables == (("baseUrl", "http://b"), ("token", "t1"), ("mockUrl", "http://m"))
    assert [(v.name, v.old, v.new) for v in report.variables] == [("baseUrl", "http://a", "http://b"),
                                                                   ("mockUrl", None, "http://m")]


def test_the_current_collection_keeps_its_identity() -> None:
    merged, _ = merge(current_collection(), Collection(name="Incoming", id="incoming"))
    assert (merged.name, merged.id) == ("Current", "current")


def test_merging_is_pure() -> None:
    current, incoming = current_collection(), Collection(items=(item("List users", example("OK", id="x"),
                                                                     folder=("Users",)),))
    merge(current, incoming)
    assert [e.name for e in current.items[0].examples] == ["OK", "Empty"]


def test_nothing_is_dropped_merging_every_fixture_into_every_other() -> None:
    fixtures = [FIXTURES / name for name in fixture_names()]
    collection = Collection(name="All")
    total = 0
    for path in fixtures:
        incoming = load_collection(path)
        total += len(incoming.examples)
        collection, report = merge(collection, incoming)
        assert len(report.added) == len(incoming.examples), f"{path.name}: {report.describe()}"
    assert len(collection.examples) == total
    # merging an export of the result back (ids now saved) replaces everything and adds nothing
    again, report = merge(collection, load_collection(to_postman(collection)))
    assert report.added == () and report.renamed == (), report.describe()
    assert len(report.replaced) == total
    assert [e.id for e in again.examples] == [e.id for e in collection.examples]


def test_examples_without_ids_merged_twice_are_kept_twice() -> None:
    """The fixtures save no example ids, so a second import cannot know it saw them before:
    both copies stay, the second one renamed, and the report says so."""
    first = load_collection(FIXTURES / "test-scoring-collection.json")
    merged, report = merge(first, load_collection(FIXTURES / "test-scoring-collection.json"))
    assert len(merged.examples) == 2 * len(first.examples)
    assert len(report.renamed) == len(first.examples)
    assert all(r.new_name == f"{r.old_name} (2)" for r in report.renamed)


def test_describe_lists_every_entry() -> None:
    incoming = Collection(name="Incoming", items=(
        item("List users", example("OK", body="[1]", id="other-ok"), example("Empty v2", id="empty"),
             folder=("Users",)),
        item("Create user", example("Created", method="POST", status=201, id="created")),
    ), variables=(("baseUrl", "http://b"), ("mockUrl", "http://m")))
    _, report = merge(current_collection(), incoming)
    text = report.describe()
    lines = text.splitlines()
    assert lines[0] == ("Merged 'Incoming' into 'Current': 2 examples added, 1 replaced, 1 renamed, "
                        "2 variables set.")
    assert any(line.startswith("  + request  [Create user]") for line in lines)
    assert any("+ added" in line and 'GET /users → 200 "OK (2)"' in line and "id=other-ok" in line for line in lines)
    assert any("+ added" in line and 'POST /users → 201 "Created"' in line for line in lines)
    assert any("~ replaced" in line and '"Empty v2"' in line and "id=empty" in line for line in lines)
    assert any("! renamed" in line and "'OK' -> 'OK (2)'" in line and "[Users > List users]" in line for line in lines)
    assert "  = variable baseUrl = 'http://b' (was 'http://a')" in lines
    assert "  = variable mockUrl = 'http://m' (new)" in lines
    assert str(report) == text


def test_describe_says_when_nothing_changed() -> None:
    _, report = merge(current_collection(), Collection(name="Empty"))
    assert isinstance(report, MergeReport)
    assert not report.changed
    assert report.describe().endswith("nothing changed")


@pytest.mark.parametrize("fixture", ["folder-tests.json", "test-scoring-collection.json"])
def test_merging_a_collection_into_an_empty_one_reproduces_it(fixture: str) -> None:
    incoming = load_collection(FIXTURES / fixture)
    merged, report = merge(Collection(), incoming)
    assert [(i.id, i.folder, i.name, i.examples) for i in merged.items] == \
           [(i.id, i.folder, i.name, i.examples) for i in incoming.items]
    assert merged.variables == incoming.variables
    assert len(report.items_added) == len(incoming.items)


def test_an_item_goes_to_the_first_of_its_id_else_of_its_name_even_one_added_by_this_merge() -> None:
    current = Collection(name="Current", items=(
        item("Users", example("a", id="e-a"), id="i-1"), item("Users", example("b", id="e-b"), id="i-2")))
    incoming = Collection(name="Incoming", items=(
        item("Users", example("c", id="e-c"), id="i-new"),  # no such id: the first item named Users
        item("Orders", example("d", path="/orders", id="e-d"), id="i-orders"),  # new: appended
        item("Orders", example("e", path="/orders", id="e-e"), id="i-other"),  # by name: the one just added
        item("Renamed", example("f", id="e-f"), id="i-2")))  # by id, whatever its name
    merged, report = merge(current, incoming)
    assert [(i.id, [e.name for e in i.examples]) for i in merged.items] == [
        ("i-1", ["a", "c"]), ("i-2", ["b", "f"]), ("i-orders", ["d", "e"])]
    assert report.items_added == ("Orders",)
