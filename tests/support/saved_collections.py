"""Collections saved by a session for a test to load: shapes that are hard to write by hand."""

from __future__ import annotations

import json
from pathlib import Path

from postmock_nb.notebook.prototype import Prototype
from postmock_nb.session import Session


def deep_seed_collection(tmp_path: Path) -> Path:
    """A saved resource whose list example (its seed) nests JSON 5,000 deep."""
    session = Session()
    Prototype(session).resource("todos", [{"id": 1}])
    path = session.save(tmp_path / "deep.postman_collection.json")
    session.close()
    saved = json.loads(path.read_text())
    for item in saved["item"][0]["item"]:
        for response in item["response"]:
            if any("op=list" in h["value"] for h in response["originalRequest"]["header"]):
                response["body"] = "[" * 5000 + "]" * 5000
    path.write_text(json.dumps(saved))
    return path
