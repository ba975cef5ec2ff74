"""``postmock serve DOC --dynamic --seed 3``: a fresh body from the schema for each request, the same sequence
for the same seed (two runs of the command); ``Prefer`` picks an example by its key; ``--dynamic`` on a Postman
collection is refused with the reason."""

from __future__ import annotations

from typing import Any

import requests
from support.cli import SERVING, TIMEOUT, fixture_path, postmock
from support.openapi_documents import DATA

from postmock_nb.cli import main

DOCUMENT = DATA / "local-prism-conventions.yaml"


def _answers(*options: str) -> list[Any]:
    with postmock("serve", str(DOCUMENT), "--port", "0", *options) as cli:
        url = cli.wait_for(SERVING).group(3)
        bodies = [requests.get(url + "/pets/1", timeout=TIMEOUT).json() for _ in range(3)]
        bodies.append(requests.get(url + "/pets/1", headers={"Prefer": "example=dog"}, timeout=TIMEOUT).json())
        assert cli.interrupt() == 0 and "Traceback" not in "\n".join(cli.stderr), cli.stderr
    return bodies


def test_serve_dynamic_with_a_seed_repeats_its_answers() -> None:
    first = _answers("--dynamic", "--seed", "3")
    assert len({repr(body) for body in first[:3]}) == 3 and first[0]["tag"] in ("cat", "dog", "bird")
    assert first[3]["name"] == "Spot"  # an example asked for by its key is served as saved
    assert _answers("--dynamic", "--seed", "3") == first


def test_serve_without_dynamic_answers_the_saved_example() -> None:
    bodies = _answers()
    assert [body["name"] for body in bodies] == ["Fluffy", "Fluffy", "Fluffy", "Spot"]


def test_dynamic_needs_an_openapi_document(fixtures_dir: Any, capsys: Any) -> None:
    assert main(["serve", fixture_path(fixtures_dir, "test-collection.json"), "--port", "0", "--dynamic"]) == 2
    assert "--dynamic needs an OpenAPI document, and this is a Postman collection" in capsys.readouterr().err
