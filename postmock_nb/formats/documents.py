"""Reading a JSON or YAML document from a file, whatever its extension says.

JSON is tried first (every JSON text is also YAML, but the JSON parser is faster and its
error positions are the ones people expect for ``.json`` files); a text that is not JSON is
read as YAML with PyYAML's safe loader. A file that is neither gets one error naming the
file, the line and the column.

YAML aliases (``&name`` … ``*name``) share one node, so a 500-byte "billion laughs" file
parses at once into a document that every later walk (``$ref`` checks, JSON output) expands
to hundreds of millions of nodes. Before a YAML document is built, its node graph is measured
(each shared node once): aliases that add more than :data:`~postmock_nb.core.limits.MAX_YAML_ALIAS_NODES`
nodes, or that refer to a node they are inside of, are refused with the line.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from postmock_nb.core import limits
from postmock_nb.errors import CollectionFormatError

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (about 10× faster), else the pure-Python one."""


class AliasBomb(yaml.YAMLError):
    """YAML aliases that expand the document beyond the budget, or into itself."""

    def __init__(self, message: str, node: Node) -> None:
        super().__init__(message)
        self.message, self.line = message, node.start_mark.line + 1


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_aliases(root: Node, budget: int = limits.MAX_YAML_ALIAS_NODES) -> None:
    """Raise :class:`AliasBomb` when expanding the aliases of this node graph adds more than
    ``budget`` nodes, or a node contains itself. One pass over the nodes the file has: a node
    met again (an alias) adds its expanded size, known from the first time."""
    sizes: dict[int, int] = {}  # each node's expanded size, once measured
    inside = {id(root)}  # the nodes being measured (a path from the root)
    stack: list[tuple[Node, list[Node], int]] = [(root, _children(root), 1)]
    added = 0
    while stack:
        node, children, size = stack[-1]
        if not children:
            stack.pop()
            inside.discard(id(node))
            sizes[id(node)] = size
            if stack:
                parent, rest, total = stack[-1]
                stack[-1] = (parent, rest, total + size)
            continue
        child = children.pop()
        known = sizes.get(id(child))
        if known is not None:
            added += known
            if added > budget:
                raise AliasBomb(f"YAML aliases (*name) expand the document by more than {budget:,} nodes", node)
            stack[-1] = (node, children, size + known)
        elif id(child) in inside:
            raise AliasBomb("a YAML alias (*name) refers to a node it is inside of (an endless document)", child)
        else:
            inside.add(id(child))
            stack.append((child, _children(child), 1))


class _BoundedLoader(SAFE_LOADER):  # type: ignore[valid-type,misc]
    """The safe loader, refusing alias bombs before building anything (:func:`check_aliases`)."""

    def construct_document(self, node: Node) -> Any:
        check_aliases(node)
        return super().construct_document(node)


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
        except ValueError as error:  # an integer longer than Python converts
            raise _too_long_number(text, name, error) from None
    return _parse_yaml(text, name)


def _parse_yaml(text: str, name: str) -> Any:
    try:
        return yaml.load(text, Loader=_BoundedLoader)
    except ValueError as error:  # an integer longer than Python converts (yaml has no mark for it)
        raise _too_long_number(text, name, error) from None
    except RecursionError:
        raise _too_deep(name) from None
    except AliasBomb as error:
        raise CollectionFormatError(error.message, location=f"{name}, line {error.line}",
                                    hint="write the repeated parts once and use $ref") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{name}, line {mark.line + 1}, column {mark.column + 1}" if mark is not None else name
        raise CollectionFormatError(f"neither JSON nor valid YAML: {error.problem or error}", location=where,
                                    hint="check the indentation and quoting around that line") from None
    except yaml.YAMLError as error:
        raise CollectionFormatError(f"neither JSON nor valid YAML: {error}", location=name) from None


def _too_long_number(text: str, name: str, error: ValueError) -> CollectionFormatError:
    """A clear error for an integer of more digits than Python converts (``sys.get_int_max_str_digits``)."""
    digits = sys.get_int_max_str_digits()
    found = re.search(rf"\d{{{digits + 1},}}", text) if digits else None
    if found is None:
        return CollectionFormatError(f"cannot read the document: {error}", location=name)
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return CollectionFormatError(f"a number of {found.end() - found.start():,} digits (more than {digits:,})",
                                 location=f"{name}, line {line}, column {column}",
                                 hint="write such a value as a string")


def read_document(path: str | Path) -> Any:
    """Read and parse the JSON or YAML file at ``path``."""
    file = Path(path)
    return parse_document(read_text(file), str(file))


def _too_deep(name: str) -> CollectionFormatError:
    return CollectionFormatError(f"the JSON nests more than {limits.MAX_JSON_DEPTH} levels deep", location=name,
                                 hint="postmock reads documents nested up to that depth (folders, bodies and all)")
