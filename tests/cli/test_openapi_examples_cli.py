"""``postmock serve DOC --examples generate`` in a real subprocess: each response example that breaks its own schema
is answered, over a real socket, by a value generated from the schema (valid against it, checked here with
jsonschema), the start-up lines say which; ``--examples as-written`` (the default) and ``postmock validate`` are
unchanged."""

from __future__ import annotations

import pytest
import requests
from support.cli import SERVING, postmock
from support.openapi_documents import BROKEN_EXAMPLES, DATA

from postmock_nb.cli import main

DOCUMENT = str(DATA / BROKEN_EXAMPLES)
REPLACED = [  # the start-up lines, in document order
    "  GET /pets/{id} 200 (example): $: 'name' is a required property",
    "  GET /pets/{id}/status 200 (example 'lost'): $.status: 'lost' is not one of ['available', 'sold']",
    "  GET /owners/{id} 200 (example): $.name: 42 is not of type 'string'",
    "  GET /owners/{id}/address 200 (example): $.address: '{\"city\": \"Lyon\"}' is not of type 'object'",
    "  GET /badges 200 (example): $.level: 'gold' is not of type 'integer'"]
ANSWERS = [  # (path, selector, JSON pointer of the schema the answer must be valid against)
    ("/pets/1", {}, "#/components/schemas/Pet"),
    ("/pets/1/status", {"x-mock-response-name": "ok - lost"}, "#/components/schemas/Pet"),
    ("/owners/1", {}, "#/components/schemas/Owner"),
    ("/owners/1/address", {}, "#/paths/~1owners~1{id}~1address/get/responses/200/content/application~1json/schema"),
    ("/badges", {}, "#/paths/~1badges/get/responses/200/content/application~1json/schema"),
]


def _checker():  # jsonschema, as --validate-requests and postmock validate read the document
    from postmock_nb.bridges.validation import SchemaChecker
    from postmock_nb.formats.sources import load_any

    loaded = load_any(DOCUMENT)
    assert loaded.spec is not None
    return SchemaChecker(loaded.spec)


@pytest.mark.timeout(120)
def test_serve_examples_generate_answers_with_values_valid_against_the_schema() -> None:
    checker = _checker()
    with postmock("serve", DOCUMENT, "--port", "0", "--examples", "generate") as cli:
        url = cli.wait_for(SERVING).group(3)
        for path, selector, schema_at in ANSWERS:
            answer = requests.get(url + path, headers=selector, timeout=10)
            assert answer.status_code == 200, (path, answer.text)
            assert checker.problems(schema_at, answer.json()) == [], (path, answer.json())
            assert answer.headers["X-Postmock-Note"].startswith("--examples generate: the document's example "
                                                                "breaks its schema"), path
        kept = requests.get(url + "/pets/1/status", headers={"x-mock-response-name": "ok - sold"}, timeout=10)
        assert kept.json() == {"name": "Rex", "status": "sold"} and "X-Postmock-Note" not in kept.headers
        assert requests.get(url + "/owners", timeout=10).json() == [{"id": 1, "name": "Ada"}]
        assert cli.interrupt() == 0
    lines = cli.output().splitlines()
    start = lines.index(f"--examples generate: 5 examples of {DOCUMENT} replaced by a value generated from the "
                        "schema (the example breaks it):")
    assert lines[start + 1:start + 6] == REPLACED
    assert "Traceback" not in "\n".join(cli.stderr)


@pytest.mark.timeout(120)
def test_serve_as_written_serves_the_authors_examples() -> None:
    with postmock("serve", DOCUMENT, "--port", "0", "--examples", "as-written") as cli:
        url = cli.wait_for(SERVING).group(3)
        answer = requests.get(url + "/owners/1", timeout=10)
        assert answer.json() == {"id": 7, "name": 42} and "X-Postmock-Note" not in answer.headers
        assert cli.interrupt() == 0
    assert "--examples generate" not in cli.output()


def test_serve_refuses_an_unknown_examples_value(capsys) -> None:
    assert main(["serve", DOCUMENT, "--port", "0", "--examples", "schema"]) == 2
    assert "--examples must be as-written or generate, got 'schema'" in capsys.readouterr().err


def test_validate_still_lists_the_examples_as_they_break_their_schema(capsys) -> None:
    """postmock validate says what the document has (the media types' examples, served as written by default), as
    before: it takes no --examples (a schema's own broken example, /badges, is not in its list)."""
    assert main(["validate", DOCUMENT]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("examples that break their own schema (served as written, 4):")
    assert lines[start + 1:] == [
        "  GET /pets/{id} 200 (example): $: 'name' is a required property",
        "  GET /pets/{id}/status 200 (example 'lost'): $.status: 'lost' is not one of ['available', 'sold']",
        "  GET /owners/{id} 200 (example): $.name: 42 is not of type 'string'",
        "  GET /owners/{id}/address 200 (example): $.address: '{\"city\": \"Lyon\"}' is not of type 'object'"]


@pytest.mark.timeout(120)
def test_thousands_of_replaced_examples_are_counted_not_listed_at_start_up(tmp_path) -> None:
    """A document with 1,000 broken examples printed 1,000 start-up lines: the first 20, then how many more."""
    import json

    paths = {f"/r{n}": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {
        "schema": {"type": "integer"}, "example": "not a number"}}}}}} for n in range(1000)}
    document = tmp_path / "many.json"
    document.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "many", "version": "1"}, "paths": paths}))
    with postmock("serve", str(document), "--port", "0", "--examples", "generate") as cli:
        url = cli.wait_for(SERVING).group(3)
        assert requests.get(url + "/r999", timeout=10).json() == 0  # generated from the schema
        assert cli.interrupt() == 0
    lines = cli.output().splitlines()
    start = lines.index(f"--examples generate: 1000 examples of {document} replaced by a value generated from "
                        "the schema (the example breaks it):")
    assert lines[start + 1] == "  GET /r0 200 (example): $: 'not a number' is not of type 'integer'"
    assert lines[start + 21] == "  … and 980 more (`postmock validate FILE` lists each)"
    assert not lines[start + 22].startswith("  GET ")
