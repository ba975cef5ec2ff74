"""Reading a JSON or YAML document from a file, whatever its extension says.

JSON is tried first (every JSON text is also YAML, but the JSON parser is faster and its
error positions are the ones people expect for ``.json`` files); a text that is not JSON is
read as YAML with PyYAML's safe loader. A file that is neither gets one error naming the
file, the line and the column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from . import limits
from .errors import CollectionFormatError

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (about 10× faster), else the pure-Python one."""


def read_text(path: Path) -> str:
    """The file's text (UTF-8, a leading BOM dropped), or a clear error."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CollectionFormatError(f"no such file: {path}", hint="check the path") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CollectionFormatError(f"cannot read {path}: {error}") from None


def parse_document(text: str, name: str) -> Any:
    """Parse ``text`` as JSON, or else as YAML; ``name`` is used in error messages."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return limits.loads(text)
        except limits.TooDeep:
            raise _too_deep(name) from None
        except json.JSONDecodeError as json_error:
            if name.lower().endswith(".json"):
                raise CollectionFormatError(
                    f"not valid JSON: {json_error.msg}",
                    location=f"{name}, line {json_error.lineno}, column {json_error.colno}",
                    hint="a Postman collection or an OpenAPI document in JSON") from None
    return _parse_yaml(text, name)


def _parse_yaml(text: str, name: str) -> Any:
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except RecursionError:
        raise _too_deep(name) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{name}, line {mark.line + 1}, column {mark.column + 1}" if mark is not None else name
        raise CollectionFormatError(f"neither JSON nor valid YAML: {error.problem or error}", location=where,
                                    hint="check the indentation and quoting around that line") from None
    except yaml.YAMLError as error:
        raise CollectionFormatError(f"neither JSON nor valid YAML: {error}", location=name) from None


def read_document(path: str | Path) -> Any:
    """Read and parse the JSON or YAML file at ``path``."""
    file = Path(path)
    return parse_document(read_text(file), str(file))


def _too_deep(name: str) -> CollectionFormatError:
    return CollectionFormatError(f"the JSON nests more than {limits.MAX_JSON_DEPTH} levels deep", location=name,
                                 hint="postmock reads documents nested up to that depth (folders, bodies and all)")
