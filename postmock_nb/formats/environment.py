"""Postman environments: named variable sets that resolve ``{{vars}}`` over collection variables.

A Postman environment file looks like::

    {"name": "Staging", "values": [{"key": "userId", "value": "7", "enabled": true}],
     "_postman_variable_scope": "environment"}

Its enabled values win over the collection's variables of the same name (Postman's
precedence: environment over collection). They are not written into the collection: the
live store lays them over the collection's variables each time it builds a snapshot, so
``%mock save`` still exports the collection's own variables.

``save_environment`` writes such a file, e.g. with ``mockUrl``/``baseUrl`` set to a
running mock, so Postman and newman can switch to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postmock_nb.core import limits
from postmock_nb.core.model import Pairs, new_id
from postmock_nb.errors import CollectionFormatError
from postmock_nb.formats import atomicfile
from postmock_nb.formats.documents import read_text


class EnvironmentFormatError(CollectionFormatError):
    """A Postman environment file that cannot be read."""


@dataclass(frozen=True)
class Environment:
    """A Postman environment: its name and enabled values, in file order."""

    name: str
    values: Pairs = ()
    secret_keys: frozenset[str] = frozenset()
    """The keys whose values Postman marks ``"type": "secret"`` (masked wherever postmock shows them)."""


def parse_environment(data: Any, source: str = "environment") -> Environment:
    """Check parsed environment JSON and keep its enabled values."""
    if not isinstance(data, dict):
        raise EnvironmentFormatError(f"the top level must be a JSON object, not {type(data).__name__}", location=source,
                                hint='a Postman environment: {"name": ..., "values": [{"key", "value"}]}')
    scope = data.get("_postman_variable_scope")
    if scope is not None and scope != "environment":
        raise EnvironmentFormatError(f"this is a Postman {scope!r} export, not an environment",
                                location=f"{source}: _postman_variable_scope",
                                hint="in Postman, export the environment (Environments > ... > Export)")
    values = data.get("values")
    if not isinstance(values, list):
        problem = "'values' is missing" if values is None else f"'values' must be a list, not {type(values).__name__}"
        raise EnvironmentFormatError(problem, location=f"{source}: values",
                                hint='a Postman environment: {"name": ..., "values": [{"key", "value"}]}')
    kept = []
    secret_keys = set()
    for index, entry in enumerate(values):
        where = f"{source}: values[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise EnvironmentFormatError("each value needs a string 'key'", location=where)
        if entry.get("enabled", True) is False:
            continue
        value = entry.get("value", "")
        kept.append((entry["key"], value if isinstance(value, str) else json.dumps(value)))
        if entry.get("type") == "secret":
            secret_keys.add(entry["key"])
    name = data.get("name")
    return Environment(str(name) if name else Path(source).stem, tuple(kept), frozenset(secret_keys))


def load_environment(path: str | Path) -> Environment:
    """Read a Postman environment file (one clear error when it is not one)."""
    file = Path(path)
    text = read_text(file)
    try:
        data = limits.loads(text)
    except limits.TooDeep as error:
        raise EnvironmentFormatError(str(error), location=str(file),
                                     hint="a Postman environment is a flat JSON file") from None
    except json.JSONDecodeError as error:
        raise EnvironmentFormatError(f"not valid JSON: {error.msg}", location=f"{file}, line {error.lineno}, "
                                f"column {error.colno}", hint="a Postman environment is a JSON file") from None
    return parse_environment(data, str(file))


def layered(variables: Pairs, environment: Pairs) -> dict[str, str]:
    """Collection variables with the environment's laid over them (environment wins)."""
    merged = dict(variables)
    merged.update(dict(environment))
    return merged


def environment_json(name: str, values: Pairs) -> dict[str, Any]:
    """A Postman environment document for these values."""
    return {"id": new_id(), "name": name,
            "values": [{"key": k, "value": v, "type": "default", "enabled": True} for k, v in values],
            "_postman_variable_scope": "environment"}


def save_environment(path: str | Path, name: str, values: Pairs) -> Path:
    """Write a Postman environment file holding ``values``."""
    text = json.dumps(environment_json(name, values), indent=2, ensure_ascii=False) + "\n"
    return atomicfile.replace_text(path, text)
