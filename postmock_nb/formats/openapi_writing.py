"""An OpenAPI document written out: YAML (``.yaml``/``.yml``, libyaml's writer when PyYAML has it, never an anchor
and its alias) or JSON, whole or not at all; a lone surrogate, which YAML cannot hold, written as U+FFFD."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from postmock_nb.formats import atomicfile

_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's when installed


class _NoAliases(_SafeDumper):  # type: ignore[valid-type,misc]  # libyaml's dumper when present
    """YAML's safe dumper (libyaml's when PyYAML has it: ten times faster on large bodies) writing a value met
    twice (a record's ``properties`` in its schema and in a ``merge`` body's) in full both times, never as an
    anchor and its alias (``&id001`` … ``*id001``), which many OpenAPI tools do not follow."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _is_yaml(name: str) -> bool:
    return name.lower().endswith((".yaml", ".yml"))


def dump_openapi(document: dict[str, Any], name: str) -> str:
    """The document as YAML (``.yaml``/``.yml``, with no anchors or aliases), else as JSON (a lone surrogate
    escaped, ``\\ud800``, as JSON can say it; YAML cannot: :func:`save_openapi` replaces it first)."""
    if _is_yaml(name):
        text: str = yaml.dump(document, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=120)
        return text
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text) if not text.isascii() else text


def _replace_surrogates(document: Any) -> int:
    """Each lone surrogate character in the document's strings replaced by U+FFFD (no YAML holds one); how many
    strings held one. A walk without recursion: a body nested thousands of levels deep is no error here."""
    replaced = 0
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        keys: Iterable[Any] = node.keys() if isinstance(node, dict) else range(len(node))
        for key in list(keys):
            value = node[key]
            if isinstance(value, str) and not value.isascii() and _SURROGATE.search(value):
                node[key] = _SURROGATE.sub("\ufffd", value)
                replaced += 1
            elif isinstance(value, (dict, list)):
                stack.append(value)
    return replaced


def save_document(document: dict[str, Any], path: str | Path) -> tuple[Path, list[str]]:
    """Write a document as YAML or JSON by the name (whole or not at all); returns the path and the warnings
    (a lone surrogate YAML cannot hold, replaced)."""
    warnings = []
    if _is_yaml(str(path)) and (replaced := _replace_surrogates(document)):
        warnings.append(f"{replaced} strings held a lone surrogate (\\ud800…), which YAML cannot hold: written as "
                        "U+FFFD (write JSON to keep them)")
    return atomicfile.replace_text(path, dump_openapi(document, str(path))), warnings
