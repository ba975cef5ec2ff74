"""A running mock, set up and checked from another process: the remote admin API in Python.

    from postmock_nb import Client

    mock = Client("https://mock.example.internal", admin_key=os.environ["POSTMOCK_ADMIN_KEY"])
    mock.define("GET /users/:id 200", '{"id": 7, "name": "Ann"}')
    mock.load("orders.postman_collection.json")
    ...  # run the front end's tests against the mock
    mock.verify("POST /orders", times=1, json={"item": "book"})
    mock.reset()

Each method is one or two HTTP calls under ``/__postmock/`` (:mod:`postmock_nb.serving.adminwrites` for the
writes); an answer the mock refuses raises :class:`ClientError` naming the status and the mock's message.
An example is built here exactly as :meth:`postmock_nb.session.Session.define` builds it
(:mod:`postmock_nb.formats.cells`), then posted as items: a Python handler never travels.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from postmock_nb.core.masking import shown_url as shown_url  # what `postmock push` shows of --to
from postmock_nb.core.model import Collection, Example, default_item_name
from postmock_nb.errors import PostmockError
from postmock_nb.formats.cells import build_definition, split_header_line
from postmock_nb.formats.postman import to_postman

ADMIN = "/__postmock"
ADMIN_KEY_HEADER = "x-postmock-admin-key"
YAML_SUFFIXES = (".yaml", ".yml")
_UNSET: Any = object()
JSON_KINDS = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


class ClientError(PostmockError):
    """The mock refused a call (its status and message), or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, name: str = "", location: str = "",
                 hint: str = "") -> None:
        self.status = status
        self.name = name
        super().__init__(message, location=location, hint=hint)


class Client:
    """A mock's admin API: ``Client(url, api_key=None, admin_key=None)``.

    ``api_key`` is the mock's key (``x-api-key``, a private mock's reads); ``admin_key`` its admin key
    (``x-postmock-admin-key``, the writes of a mock started with ``--admin-key``). ``verify``: for https,
    True (the system's CAs), False, or the path of a CA file (the one ``--tls`` prints); ``timeout`` in
    seconds for each call.
    """

    def __init__(self, url: str, api_key: str | None = None, admin_key: str | None = None, *,
                 verify: bool | str = True, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.shown_url = shown_url(self.url)
        """The URL as messages show it (a password in it masked)."""
        headers = {"accept": "application/json"}
        if api_key is not None:
            headers["x-api-key"] = api_key
        if admin_key is not None:
            headers[ADMIN_KEY_HEADER] = admin_key
        trust: bool | ssl.SSLContext = verify if not isinstance(verify, str) else _trusting(verify)
        try:
            self._http = httpx.Client(base_url=self.url, headers=headers, verify=trust, timeout=timeout)
        except httpx.InvalidURL as error:
            raise ClientError(f"{self.shown_url}: not a URL ({error})",
                              hint="Client('http://127.0.0.1:8000')") from None

    def __repr__(self) -> str:
        return f"Client({self.shown_url!r})"  # never the keys, nor a password in the URL

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # -- the collection --------------------------------------------------------------------------------

    def define(self, line: str, cell: str = "", *, replace: bool = False, name: str = "",
               headers: list[str] | None = None, request_headers: list[str] | None = None,
               folder: str = "") -> Example:
        """Define an example as ``Session.define`` (and ``%%example``) does: ``define("GET /users 200", "[]")``.

        An example of the same name on the mock is replaced (it keeps its id); returns the example defined.
        ``replace`` is accepted for the same arguments as ``Session.define``: remotely a name is always replaced.
        """
        del replace  # no cell identity remotely: the same name is the same example, as Session.define without one
        method, path, status = split_header_line(line)
        definition = build_definition(method, path, status, cell, name=name, headers=headers,
                                      request_headers=request_headers, folder=folder)
        example = definition.to_example()
        collection = Collection(name="postmock_nb.Client").with_example(
            example, item_name=default_item_name(example), folder=definition.folder)
        report = self._json("POST", "/items", params={"replace": "name"}, json=to_postman(collection))
        kept = [entry["id"] for entry in report.get("added", []) + report.get("replaced", [])]
        if kept and kept[0] != example.id:
            example = Example(example.name, example.request, example.response, id=kept[0])
        return example

    def load(self, path_or_dict: str | Path | Mapping[str, Any]) -> dict[str, Any]:
        """Merge a Postman collection or an OpenAPI document (a file, or data) into the mock's collection, as
        ``%mock load`` does; returns the merge report (``report["report"]`` is the text ``%mock load`` prints)."""
        return dict(self._json("POST", "/items", **self._document(path_or_dict)))

    def replace(self, path_or_dict: str | Path | Mapping[str, Any]) -> dict[str, Any]:
        """Replace the mock's collection with this one (its resources start from their seeds again)."""
        return dict(self._json("PUT", "/collection", **self._document(path_or_dict)))

    def delete(self, id: str) -> list[dict[str, Any]]:  # noqa: A002 - the issue's name for it
        """Delete the example with this id (else this name); returns what was deleted."""
        answer = self._json("DELETE", f"/examples/{_quoted(id)}")
        return list(answer.get("deleted", []))

    def collection(self) -> dict[str, Any]:
        """The mock's current collection as Postman Collection v2.1 data (``load_collection`` reads it)."""
        return dict(self._json("GET", "/collection"))

    # -- state -----------------------------------------------------------------------------------------

    def reset(self, name: str | None = None, *, log: bool = False) -> None:
        """As ``%mock reset [NAME]``: a scenario of that name back to Started, else the resource of that name
        back to its seed; with no name, every scenario, sequence and resource. ``log=True`` also empties
        the request log."""
        if name is None:
            self._call("DELETE", "/scenarios")
            self._call("DELETE", "/resources")
        elif name in self._json("GET", "/scenarios"):
            self._call("DELETE", "/scenarios", params={"name": name})
        else:
            try:
                self._call("DELETE", f"/resources/{_quoted(name)}")
            except ClientError as error:
                if error.status != 404:
                    raise
                raise ClientError(f"{self.shown_url}: no scenario or resource named {name!r}", status=404,
                                  name=error.name, hint="Client.reset() with no name resets them all") from None
        if log:
            self._call("DELETE", "/log")

    # -- WebSockets ------------------------------------------------------------------------------------

    def broadcast(self, route: str, message: Any) -> int:
        """As ``mock.broadcast``: send ``message`` (a ``str`` as it is, anything else as JSON) to every client
        connected to the WebSocket ``route`` of the mock (with ``--state``, of every replica); returns how many
        connections of the process that took the call got it."""
        if isinstance(message, bytes):
            raise ClientError("Client.broadcast sends text or JSON (a binary frame: mock.broadcast in the notebook)")
        return int(self._json("POST", "/broadcast", json={"route": route, "message": message}).get("sent", 0))

    # -- verification ----------------------------------------------------------------------------------

    def requests(self, method: str | None = None, path: str | None = None, *,
                 query: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
                 limit: int | None = None) -> list[dict[str, Any]]:
        """The requests the mock received (newest first), matched or not: ``requests("POST", "/users/:id")``;
        ``query``/``headers`` are subsets the request must hold."""
        params: list[tuple[str, str]] = []
        if method is not None:
            params.append(("method", method))
        if path is not None:
            params.append(("path", path))
        params += [("query", f"{key}={value}") for key, value in (query or {}).items()]
        params += [("header", f"{key}:{value}") for key, value in (headers or {}).items()]
        if limit is not None:
            params.append(("limit", str(limit)))
        return list(self._json("GET", "/requests", shape=list, params=params))

    def verify(self, request: str, *, times: int | None = None, at_least: int | None = None,
               at_most: int | None = None, json: Any = _UNSET, body: str | None = None,
               headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None,
               contains: bool = False) -> int:
        """Check that the mock received ``request`` ("POST /users") as often as said; returns the count.
        The same arguments as :meth:`~postmock_nb.session.Session.verify` (``contains=True``: the body need only
        contain ``json``'s fields).

        Raises AssertionError with the mock's message (the closest requests and their differences) when not.
        """
        wanted: dict[str, Any] = {"request": request, "times": times, "at_least": at_least, "at_most": at_most}
        if json is not _UNSET:
            wanted["json"] = json
        if body is not None:
            wanted["body"] = body
        if headers is not None:
            wanted["headers"] = dict(headers)
        if query is not None:
            wanted["query"] = dict(query)
        if contains:
            wanted["contains"] = True
        answer = self._json("POST", "/verify", json=wanted)
        if not isinstance(answer.get("verified"), bool):
            raise ClientError(f"POST {self.shown_url}{ADMIN}/verify: not a verification's answer ({answer!r:.80})",
                              hint="is that address a postmock mock?")
        if not answer["verified"]:
            raise AssertionError(answer.get("message") or f"{request}: not verified")
        return int(answer.get("count", 0))

    # -- HTTP ------------------------------------------------------------------------------------------

    def _document(self, path_or_dict: str | Path | Mapping[str, Any]) -> dict[str, Any]:
        """The request arguments that post a collection given as a file or as data."""
        if isinstance(path_or_dict, Mapping):
            return {"json": dict(path_or_dict)}
        path = Path(path_or_dict)
        try:
            content = path.read_bytes()
        except OSError as error:
            raise ClientError(f"cannot read {path}: {error.strerror or error}", location=str(path)) from None
        kind = "application/yaml" if path.suffix.lower() in YAML_SUFFIXES else "application/json"
        return {"content": content, "headers": {"content-type": kind}}

    def _call(self, method: str, path: str, **arguments: Any) -> httpx.Response:
        url = f"{ADMIN}{path}"
        try:
            response = self._http.request(method, url, **arguments)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise ClientError(f"{method} {self.shown_url}{url}: {type(error).__name__}: {error}",
                              hint="is the mock running at that address (and http/https as it serves)?") from None
        if response.status_code >= 400:
            raise _refused(method, f"{self.shown_url}{url}", response)
        return response

    def _json(self, method: str, path: str, *, shape: type = dict, **arguments: Any) -> Any:
        """The answer's JSON, of the ``shape`` the admin API answers (else a ClientError: not a postmock mock)."""
        response = self._call(method, path, **arguments)
        try:
            data = response.json()
        except ValueError:
            raise ClientError(f"{method} {self.shown_url}{ADMIN}{path}: {response.status_code} but not JSON "
                              f"({response.text[:80]!r})", status=response.status_code) from None
        if not isinstance(data, shape):
            got, wanted = (JSON_KINDS.get(kind, kind.__name__) for kind in (type(data), shape))
            raise ClientError(f"{method} {self.shown_url}{ADMIN}{path}: {response.status_code} but not the admin "
                              f"API's answer (a JSON {got}, not an {wanted}: {response.text[:80]!r})",
                              status=response.status_code, hint="is that address a postmock mock?")
        return data


def _trusting(ca_file: str) -> ssl.SSLContext:
    """An SSL context that trusts the CA in ``ca_file`` (the one ``--tls`` prints)."""
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as error:
        raise ClientError(f"cannot use {ca_file} as a CA file: {error}", location=ca_file,
                          hint="give the CA file the mock printed when started with --tls") from None


def _quoted(part: str) -> str:
    """A name as one path segment: every character but letters, digits and ``-._~`` escaped (``?``, ``#``,
    ``%`` and ``/`` included; the mock reads the segment back whole). ``.`` and ``..`` escaped too: a URL's
    dot segments would be removed on the way."""
    return quote(part, safe="") if part.strip(".") else part.replace(".", "%2E")


def _refused(method: str, url: str, response: httpx.Response) -> ClientError:
    """The mock's refusal as an error naming the status and the mock's own message."""
    name, message, hint = "", response.text[:200], ""
    try:
        error = response.json().get("error", {})
        name, message = str(error.get("name", "")), str(error.get("message", message))
        hint = str(error.get("hint") or "")
        if isinstance(error.get("location"), str) and error["location"] and error["location"] not in message:
            message = f"{message} (at {error['location']})"
    except (ValueError, AttributeError):
        pass
    reason = f" {name}" if name else ""
    return ClientError(f"{method} {url}: {response.status_code}{reason}: {message}",
                       status=response.status_code, name=name, hint=hint)
