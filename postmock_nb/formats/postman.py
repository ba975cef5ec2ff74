"""Postman Collection v2.1 (and v2.0) import and export.

Import is strict about shape and lenient about what Postman itself tolerates (a string URL,
a single ``response`` object instead of a list, missing ids). Any error names the item path
(``item[3] "Users" > item[0] "Get user": url missing``) and nothing is half loaded: the whole
file is read into a new :class:`~postmock_nb.core.model.Collection` or an error is raised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from postmock_nb.core import limits, wire
from postmock_nb.core.bodies import looks_like_json
from postmock_nb.core.model import Collection, Example, Item, Pairs, RequestSpec, ResponseSpec, new_id, reason_phrase
from postmock_nb.errors import CollectionFormatError
from postmock_nb.formats import atomicfile

SCHEMA_V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
_SUPPORTED = ("v2.0.0", "v2.1.0")
_LEADING_VARIABLE = re.compile(r"^(\{\{[^{}]+\}\})(/.*)?$")
_SCHEME_HOST = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/]*)(/.*)?$")
_PORT = re.compile(r":(\d+)$")


# -- reading ------------------------------------------------------------------------------


def load_collection(source: str | Path | bytes | dict[str, Any]) -> Collection:
    """Read a Postman collection from a file path, JSON text/bytes or an already parsed dict."""
    if isinstance(source, dict):
        return parse_collection(source)
    if isinstance(source, Path) or (isinstance(source, str) and not looks_like_json(source)):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8-sig")  # -sig: files saved by Windows editors start with a BOM
        except FileNotFoundError:
            raise CollectionFormatError(f"no such file: {path}", hint="check the path") from None
        except (OSError, UnicodeDecodeError) as error:
            raise CollectionFormatError(f"cannot read {path}: {error}") from None
        return parse_collection(_parse_json(text, str(path)))
    try:
        text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
    except UnicodeDecodeError as error:
        raise CollectionFormatError(f"not UTF-8 text: {error}",
                                    hint="Postman exports collections as UTF-8 JSON") from None
    return parse_collection(_parse_json(text, "collection"))


def _parse_json(text: str, name: str) -> Any:
    try:
        return limits.loads(text)
    except limits.TooDeep:
        raise CollectionFormatError(
            f"the JSON nests more than {limits.MAX_JSON_DEPTH} levels deep", location=name,
            hint="postmock reads collections nested up to that depth (folders, bodies and all)") from None
    except json.JSONDecodeError as error:
        raise CollectionFormatError(
            f"not valid JSON: {error.msg}", location=f"{name}, line {error.lineno}, column {error.colno}",
            hint="a Postman collection is a JSON file exported with Collection v2.1") from None


def parse_collection(data: Any) -> Collection:
    """Build a Collection from parsed Postman JSON (v2.0 or v2.1)."""
    if not isinstance(data, dict):
        raise CollectionFormatError(f"the top level must be a JSON object, not {_type(data)}")
    if "collection" in data and isinstance(data["collection"], dict) and "info" in data["collection"]:
        data = data["collection"]  # the Postman API wraps collections this way
    if "requests" in data and "item" not in data:
        raise CollectionFormatError("this is a Postman Collection v1 file, which is not supported",
                                    hint="in Postman, export the collection again as Collection v2.1")
    info = data.get("info")
    if not isinstance(info, dict):
        raise CollectionFormatError("'info' is missing" if info is None
                                    else f"'info' must be an object, not {_type(info)}",
                                    location="info", hint="a v2.1 collection starts with an 'info' object")
    schema = info.get("schema", "")
    if schema and not any(version in str(schema) for version in _SUPPORTED):
        raise CollectionFormatError(f"unsupported schema {schema!r}", location="info.schema",
                                    hint="postmock_nb reads Postman Collection v2.0 and v2.1")
    name = _string(info.get("name", "Imported collection"), "info.name")
    items = data.get("item")
    if not isinstance(items, list):
        raise CollectionFormatError("'item' is missing" if items is None
                                    else f"'item' must be a list, not {_type(items)}",
                                    location="item")
    variables = _pairs(data.get("variable") or [], "variable")
    found: list[Item] = []
    _walk(items, (), "", found)
    return Collection(name=name, items=tuple(found), variables=variables,
                      id=str(info.get("_postman_id") or new_id()), description=_description(info.get("description")))


def _walk(items: list[Any], folder: tuple[str, ...], where: str, found: list[Item]) -> None:
    for index, entry in enumerate(items):
        label = f'{where} > ' if where else ""
        if not isinstance(entry, dict):
            raise CollectionFormatError(f"must be an object, not {_type(entry)}", location=f"{label}item[{index}]")
        name = entry.get("name", "")
        here = f'{label}item[{index}] "{name}"' if name else f"{label}item[{index}]"
        if not isinstance(name, str):
            raise CollectionFormatError(f"name must be a string, not {_type(name)}", location=here)
        if "item" in entry:
            if not isinstance(entry["item"], list):
                raise CollectionFormatError(f"a folder's 'item' must be a list, not {_type(entry['item'])}",
                                            location=here)
            _walk(entry["item"], folder + (name,), here, found)
        elif "request" in entry:
            found.append(_item(entry, name, folder, here))
        else:
            raise CollectionFormatError("neither a request (no 'request') nor a folder (no 'item')", location=here)


def _item(entry: dict[str, Any], name: str, folder: tuple[str, ...], here: str) -> Item:
    responses = entry.get("response") or []
    if isinstance(responses, dict):
        responses = [responses]
    if not isinstance(responses, list):
        raise CollectionFormatError(f"'response' must be a list, not {_type(responses)}", location=here)
    request = _request(entry["request"], here, None, required=not responses)
    examples = tuple(_example(r, request, f'{here} > response[{i}]'
                              + (f' "{r.get("name")}"' if isinstance(r, dict) and r.get("name") else ""))
                     for i, r in enumerate(responses))
    events = entry.get("event") or []
    if not isinstance(events, list):
        raise CollectionFormatError(f"'event' must be a list, not {_type(events)}", location=here)
    return Item(name=name, request=request, examples=examples, folder=folder, id=str(entry.get("id") or new_id()),
                description=_description(entry.get("description"))
                or _description(entry.get("request", {}).get("description")
                                if isinstance(entry.get("request"), dict) else ""),
                events=tuple(events))


def _example(data: Any, item_request: RequestSpec, here: str) -> Example:
    if not isinstance(data, dict):
        raise CollectionFormatError(f"an example must be an object, not {_type(data)}", location=here)
    original = data.get("originalRequest")
    request = item_request if original is None else _request(original, here, item_request, required=True)
    code = data.get("code", 200)
    if isinstance(code, str) and code.strip().isdigit():
        code = int(code)
    if not isinstance(code, int) or isinstance(code, bool) or not 100 <= code <= 599:
        raise CollectionFormatError(f"'code' must be an HTTP status number 100-599, got {code!r}", location=here)
    # a 1xx example is kept (a save gives Postman the file back) but never served: see wire.left_out
    body = data.get("body")
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise CollectionFormatError(f"'body' must be a string, not {_type(body)}", location=here)
    headers = _pairs(data.get("header") or [], f"{here} > header")
    response = ResponseSpec(status=code, reason=_string(data.get("status") or "", f"{here} > status"), headers=headers,
                            body=body, preview_language=str(data.get("_postman_previewlanguage") or ""))
    name = _string(data.get("name") or f"{code} response", f"{here} > name")
    return Example(name=name, request=request, response=response, id=str(data.get("id") or new_id()))


def parse_example(data: Any, item_request: RequestSpec, here: str) -> Example:
    """One Postman example object (``response[]`` entry) as an :class:`Example` (what :func:`example_json` wrote)."""
    return _example(data, item_request, here)


def _request(data: Any, here: str, fallback: RequestSpec | None, required: bool) -> RequestSpec:
    if isinstance(data, str):
        data = {"url": data, "method": "GET"}
    if not isinstance(data, dict):
        raise CollectionFormatError(f"'request' must be an object or a URL string, not {_type(data)}", location=here)
    method = data.get("method") or (fallback.method if fallback else "GET")
    if not isinstance(method, str) or not method.strip():
        raise CollectionFormatError(f"method must be a string, got {method!r}", location=here)
    url = data.get("url")
    if url is None or url == "":
        if fallback is not None:
            base, path, query, variables = fallback.base, fallback.path, fallback.query, fallback.path_variables
        elif required:
            raise CollectionFormatError("url missing", location=here, hint="every request needs a URL")
        else:
            base, path, query, variables = "{{baseUrl}}", "/", (), ()
    else:
        base, path, query, variables = _url(url, here)
    headers = _headers(data.get("header"), here)
    body, mode, language = _body(data.get("body"), here)
    return RequestSpec(method=method.strip().upper(), path=path, query=query, headers=headers, body=body,
                       body_mode=mode, body_language=language, base=base, path_variables=variables,
                       description=_description(data.get("description")))


def _url(url: Any, here: str) -> tuple[str, str, Pairs, Pairs]:
    if isinstance(url, str):
        base, path, query = _split_raw(url)
        return base, path, query, ()
    if not isinstance(url, dict):
        raise CollectionFormatError(f"url must be a string or an object, not {_type(url)}", location=here)
    raw = url.get("raw") or ""
    if not isinstance(raw, str):
        raise CollectionFormatError(f"url.raw must be a string, not {_type(raw)}", location=here)
    raw_base, raw_path, raw_query = _split_raw(raw)
    path_parts = url.get("path")
    if isinstance(path_parts, str):
        path_parts = [p for p in path_parts.split("/") if p]
    if path_parts is None:
        path = raw_path
    elif isinstance(path_parts, list):
        path = "/" + "/".join(_segment(p, here) for p in path_parts)
    else:
        raise CollectionFormatError(f"url.path must be a list, not {_type(path_parts)}", location=here)
    host = url.get("host")
    if isinstance(host, list):
        base = ".".join(str(h) for h in host)
        if url.get("protocol"):
            base = f"{url['protocol']}://{base}"
        if url.get("port"):
            base = f"{base}:{url['port']}"
    elif isinstance(host, str):
        base = host
    else:
        base = raw_base
    query = _pairs(url["query"], f"{here} > url.query") if url.get("query") is not None else raw_query
    variables = _pairs(url.get("variable") or [], f"{here} > url.variable")
    return base, path, query, variables


def _segment(part: Any, here: str) -> str:
    if isinstance(part, dict):
        part = part.get("value", "")
    if not isinstance(part, (str, int, float)):
        raise CollectionFormatError(f"a url.path segment must be a string, not {_type(part)}", location=here)
    return str(part)


def _split_raw(raw: str) -> tuple[str, str, Pairs]:
    """``{{baseUrl}}/users?role=admin`` → (``{{baseUrl}}``, ``/users``, ((role, admin),))."""
    raw = raw.strip().split("#", 1)[0]
    location, _, query_text = raw.partition("?")
    query = tuple((k, v) for k, _, v in (p.partition("=") for p in query_text.split("&") if p))
    for pattern in (_LEADING_VARIABLE, _SCHEME_HOST):
        found = pattern.match(location)
        if found:
            return found.group(1), found.group(2) or "/", query
    if location.startswith("/") or not location:
        return "", location or "/", query
    host, _, rest = location.partition("/")
    return host, "/" + rest, query


def _headers(data: Any, here: str) -> Pairs:
    if data is None:
        return ()
    if isinstance(data, str):
        lines = (line.partition(":") for line in data.splitlines())
        return tuple((k.strip(), v.strip()) for k, _, v in lines if k.strip())
    return _pairs(data, f"{here} > header")


def _body(data: Any, here: str) -> tuple[str, str, str]:
    if not data:
        return "", "raw", ""
    if not isinstance(data, dict):
        raise CollectionFormatError(f"body must be an object, not {_type(data)}", location=here)
    mode = data.get("mode") or "raw"
    language = ""
    options = data.get("options")
    if isinstance(options, dict) and isinstance(options.get("raw"), dict):
        language = str(options["raw"].get("language") or "")
    if mode == "raw":
        raw = data.get("raw") or ""
        if not isinstance(raw, str):
            raise CollectionFormatError(f"body.raw must be a string, not {_type(raw)}", location=here)
        return raw, mode, language
    if mode in ("urlencoded", "formdata"):
        pairs = _pairs([p for p in data.get(mode) or [] if isinstance(p, dict) and p.get("type") != "file"],
                       f"{here} > body.{mode}")
        return "&".join(f"{k}={v}" for k, v in pairs), mode, language
    if mode == "graphql":
        return json.dumps(data.get("graphql") or {}), mode, "json"
    return "", mode, language


def _pairs(data: Any, here: str) -> Pairs:
    """``[{key, value, disabled}]`` → pairs, leaving disabled entries out."""
    if not isinstance(data, list):
        raise CollectionFormatError(f"must be a list of {{key, value}} objects, not {_type(data)}", location=here)
    pairs = []
    for index, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise CollectionFormatError(f"must be an object with 'key' and 'value', not {_type(entry)}",
                                        location=f"{here}[{index}]")
        if entry.get("disabled"):
            continue
        key = entry.get("key", entry.get("id"))
        if not isinstance(key, str):
            raise CollectionFormatError(f"'key' must be a string, got {key!r}", location=f"{here}[{index}]")
        value = entry.get("value")
        pairs.append((key, "" if value is None else value if isinstance(value, str) else json.dumps(value)))
    return tuple(pairs)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise CollectionFormatError(f"must be a string, not {_type(value)}", location=where)
    return value


def _description(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("content", "")
    return value if isinstance(value, str) else ""


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
            bool: "true/false", type(None): "null"}.get(type(value), type(value).__name__)


# -- writing ------------------------------------------------------------------------------


def to_postman(collection: Collection) -> dict[str, Any]:
    """The collection as Postman Collection v2.1 JSON data."""
    root: list[dict[str, Any]] = []
    folders: dict[tuple[str, ...], list[dict[str, Any]]] = {(): root}
    for item in collection.items:
        _folder_list(folders, item.folder).append(_item_json(item))
    data: dict[str, Any] = {
        "info": {"_postman_id": collection.id, "name": collection.name, "schema": SCHEMA_V21},
        "item": root,
    }
    if collection.description:
        data["info"]["description"] = collection.description
    if collection.variables:
        data["variable"] = [{"key": k, "value": v, "type": "string"} for k, v in collection.variables]
    return data


def save_collection(collection: Collection, path: str | Path) -> Path:
    """Write the collection as a v2.1 JSON file (whole or not at all; the file keeps its mode); returns the path."""
    return atomicfile.replace_text(path, json.dumps(to_postman(collection), indent=2, ensure_ascii=False) + "\n")


def _folder_list(folders: dict[tuple[str, ...], list[dict[str, Any]]],
                 folder: tuple[str, ...]) -> list[dict[str, Any]]:
    if folder not in folders:
        parent = _folder_list(folders, folder[:-1])
        entry: dict[str, Any] = {"name": folder[-1], "item": []}
        parent.append(entry)
        folders[folder] = entry["item"]
    return folders[folder]


def _item_json(item: Item) -> dict[str, Any]:
    data: dict[str, Any] = {"id": item.id, "name": item.name, "request": request_json(item.request),
                            "response": [_example_json(e) for e in item.examples]}
    if item.description and item.description != item.request.description:
        data["description"] = item.description
    if item.events:
        data["event"] = list(item.events)
    return data


def example_json(example: Example) -> dict[str, Any]:
    """An example as a Postman example object (``response[]`` entry); :func:`parse_example` reads it back."""
    return _example_json(example)


def _example_json(example: Example) -> dict[str, Any]:
    response = example.response
    return {
        "id": example.id,
        "name": example.name,
        "originalRequest": request_json(example.request),
        "status": response.reason or reason_phrase(response.status),
        "code": response.status,
        "_postman_previewlanguage": response.preview_language or _preview_language(response),
        "header": [{"key": k, "value": v} for k, v in response.headers],
        "cookie": [],
        "body": response.body,
    }


def request_json(request: RequestSpec) -> dict[str, Any]:
    """A RequestSpec as a Postman ``request`` object (also used for ``originalRequest``)."""
    data: dict[str, Any] = {"method": request.method,
                            "header": [{"key": k, "value": v} for k, v in request.headers],
                            "url": _url_json(request)}
    if request.body or request.body_mode != "raw":
        data["body"] = _body_json(request)
    if request.description:
        data["description"] = request.description
    return data


def _url_json(request: RequestSpec) -> dict[str, Any]:
    url: dict[str, Any] = {"raw": request.base + request.url}
    scheme, _, host = request.base.partition("://") if "://" in request.base else ("", "", request.base)
    if scheme:
        url["protocol"] = scheme
    port = _PORT.search(host)
    if port:
        host, url["port"] = host[:port.start()], port.group(1)
    if host:
        url["host"] = [host] if host.startswith("{{") else host.split(".")
    trailing = [""] if request.path.endswith("/") and request.path != "/" else []
    url["path"] = [s for s in request.path.split("/") if s != ""] + trailing
    if request.query:
        url["query"] = [{"key": k, "value": v} for k, v in request.query]
    if request.path_variables:
        url["variable"] = [{"key": k, "value": v} for k, v in request.path_variables]
    return url


def _body_json(request: RequestSpec) -> dict[str, Any]:
    if request.body_mode in ("urlencoded", "formdata"):
        pairs = [p.partition("=") for p in request.body.split("&") if p]
        fields = [{"key": k, "value": v, "type": "text"} for k, _, v in pairs]
        return {"mode": request.body_mode, request.body_mode: fields}
    if request.body_mode == "graphql":
        try:
            graphql = limits.loads(request.body or "{}")
        except ValueError:
            graphql = {"query": request.body}
        return {"mode": "graphql", "graphql": graphql if isinstance(graphql, dict) else {"query": request.body}}
    if request.body_mode == "file":
        return {"mode": "file", "file": {}}
    body: dict[str, Any] = {"mode": "raw", "raw": request.body}
    language = request.body_language or ("json" if looks_like_json(request.body) else "")
    if language:
        body["options"] = {"raw": {"language": language}}
    return body


def _preview_language(response: ResponseSpec) -> str:
    content_type = (response.header("content-type") or "").lower()
    for marker, language in (("json", "json"), ("html", "html"), ("xml", "xml"), ("javascript", "javascript")):
        if marker in content_type:
            return language
    return "json" if looks_like_json(response.body) else "text"


def iter_served(collection: Collection) -> Iterable[tuple[str, str, int, str]]:
    """(method, url, status, name) for every example a mock of this collection serves (1xx ones are left out)."""
    for example in collection.examples:
        if wire.left_out(example):
            continue
        yield example.request.method, example.request.url, example.response.status, example.name
