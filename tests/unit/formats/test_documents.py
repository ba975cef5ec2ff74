"""formats/documents.py: reading a JSON or YAML document whatever its extension, with bounded aliases."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from postmock_nb.core import limits
from postmock_nb.errors import CollectionFormatError
from postmock_nb.formats.documents import (
    AliasBomb,
    check_aliases,
    parse_document,
    read_document,
    read_text,
)


def _node(text: str) -> yaml.Node:
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    assert node is not None
    return node


def test_json_is_parsed_as_json() -> None:
    assert parse_document('{"a": [1, 2.5, null, true]}', "x.json") == {"a": [1, 2.5, None, True]}


def test_a_json_array_is_parsed() -> None:
    assert parse_document("  [1, 2]", "x.json") == [1, 2]


def test_yaml_is_parsed_whatever_the_name() -> None:
    assert parse_document("openapi: 3.0.0\ninfo:\n  title: T\n", "doc.json") == {
        "openapi": "3.0.0", "info": {"title": "T"}}


def test_yaml_flow_mapping_in_a_yaml_file_falls_back_from_json() -> None:
    # starts like JSON but is not JSON: read as YAML since the name does not say .json
    assert parse_document("{a: 1, b: [x, y]}", "doc.yaml") == {"a": 1, "b": ["x", "y"]}


def test_bad_json_in_a_json_file_names_line_and_column() -> None:
    with pytest.raises(CollectionFormatError) as caught:
        parse_document('{\n  "a": 1,\n  "b": }', "Coll.JSON")
    assert caught.value.message.startswith("not valid JSON: ")
    assert caught.value.location == "Coll.JSON, line 3, column 8"


def test_bad_yaml_names_line_and_column() -> None:
    with pytest.raises(CollectionFormatError) as caught:
        parse_document("a: 1\nb: [unclosed\nc: 2\n", "doc.yaml")
    assert caught.value.message.startswith("neither JSON nor valid YAML")
    assert caught.value.location.startswith("doc.yaml, line ")
    assert "indentation" in caught.value.hint


def test_json_nested_too_deep_is_refused() -> None:
    text = "[" * (limits.MAX_JSON_DEPTH + 5) + "]" * (limits.MAX_JSON_DEPTH + 5)
    with pytest.raises(CollectionFormatError) as caught:
        parse_document(text, "deep.json")
    assert caught.value.message == f"the JSON nests more than {limits.MAX_JSON_DEPTH} levels deep"
    assert caught.value.location == "deep.json"


def test_a_number_longer_than_python_converts_names_where_it_is() -> None:
    digits = sys.get_int_max_str_digits()
    if not digits:
        pytest.skip("this Python converts integers of any length")
    text = '{\n  "n": ' + "7" * (digits + 1) + "\n}"
    with pytest.raises(CollectionFormatError) as caught:
        parse_document(text, "big.json")
    assert caught.value.message == f"a number of {digits + 1:,} digits (more than {digits:,})"
    assert caught.value.location == "big.json, line 2, column 8"


def test_a_long_number_in_yaml_is_refused_clearly() -> None:
    digits = sys.get_int_max_str_digits()
    if not digits:
        pytest.skip("this Python converts integers of any length")
    with pytest.raises(CollectionFormatError) as caught:
        parse_document("a: 1\nn: " + "9" * (digits + 1) + "\n", "big.yaml")
    assert caught.value.location == "big.yaml, line 2, column 4"


def test_yaml_aliases_within_budget_are_expanded() -> None:
    assert parse_document("a: &x [1, 2]\nb: *x\n", "doc.yaml") == {"a": [1, 2], "b": [1, 2]}


def test_a_billion_laughs_document_is_refused_with_its_line() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    with pytest.raises(CollectionFormatError) as caught:
        parse_document("\n".join(lines) + "\n", "bomb.yaml")
    assert "expand the document by more than" in caught.value.message
    assert caught.value.location.startswith("bomb.yaml, line ")
    assert "$ref" in caught.value.hint


def test_check_aliases_counts_each_alias_at_its_expanded_size() -> None:
    node = _node("a: &x [1, 2, 3]\nb: *x\nc: *x\n")  # each alias adds the 4 nodes of the sequence
    check_aliases(node, budget=8)
    with pytest.raises(AliasBomb) as caught:
        check_aliases(node, budget=7)
    assert caught.value.line == 1  # the line of the node holding the aliases (the root mapping)


def test_check_aliases_refuses_a_node_inside_itself() -> None:
    with pytest.raises(AliasBomb) as caught:
        check_aliases(_node("&a [1, *a]\n"))
    assert "inside of" in caught.value.message
    assert caught.value.line == 1


def test_check_aliases_accepts_a_document_without_aliases() -> None:
    check_aliases(_node("a: [1, 2, {b: c}]\n"), budget=0)


def test_a_self_referencing_yaml_document_is_one_clear_error() -> None:
    with pytest.raises(CollectionFormatError) as caught:
        parse_document("a: &a\n  b: *a\n", "loop.yaml")
    assert "refers to a node it is inside of" in caught.value.message


def test_read_text_drops_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf{}")
    assert read_text(path) == "{}"


def test_read_text_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CollectionFormatError) as caught:
        read_text(tmp_path / "gone.json")
    assert caught.value.message == f"no such file: {tmp_path / 'gone.json'}"


def test_read_text_of_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.json"
    path.write_bytes(b'{"a": "caf\xe9"}')
    with pytest.raises(CollectionFormatError) as caught:
        read_text(path)
    assert caught.value.message.startswith(f"cannot read {path}: ")


def test_read_document_reads_and_parses(tmp_path: Path) -> None:
    path = tmp_path / "doc.yml"
    path.write_text("openapi: 3.1.0\npaths: {}\n", encoding="utf-8")
    assert read_document(str(path)) == {"openapi": "3.1.0", "paths": {}}
