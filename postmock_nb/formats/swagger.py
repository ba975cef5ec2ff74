"""Swagger 2.0 (OpenAPI 2) documents in, read as the OpenAPI 3.0 document they describe: :func:`to_openapi3`.

``prism mock`` serves a ``swagger: "2.0"`` document, and so does postmock: the document is converted when it
is read (:func:`postmock_nb.formats.sources.load_data`), and everything after it (examples, ``--validate-requests``,
``postmock validate``) sees an OpenAPI 3.0.3 document. What moves where:

=========================================  ==============================================================
Swagger 2.0                                OpenAPI 3.0
=========================================  ==============================================================
``host``, ``basePath``, ``schemes``        ``servers``: ``{scheme}://{host}{basePath}`` per scheme (https
                                           when none); no ``host``: ``{basePath}``
``definitions``                            ``components.schemas``
``parameters`` (not body, not formData)    ``components.parameters`` (a body or formData one is put in
                                           place where it is referred to)
``responses``                              ``components.responses``
``securityDefinitions``                    ``components.securitySchemes`` (:data:`SECURITY`, :data:`OAUTH_FLOWS`)
``$ref: #/definitions/X`` …                ``$ref: #/components/schemas/X`` … (:data:`REFS`)
``in: body``                               ``requestBody``, one media type per ``consumes`` (the operation's,
                                           else the document's, else application/json); ``x-examples``
                                           ``{mime: value}`` → that media type's ``example``
``in: formData``                           ``requestBody`` ``application/x-www-form-urlencoded`` (or
                                           ``multipart/form-data``, the one a ``type: file`` needs):
                                           an object schema, a file as ``format: binary``
``type``/``format``/``items``/… of a       its ``schema`` (:data:`SCHEMA_KEYS`); ``collectionFormat`` →
parameter or header                        ``style`` + ``explode`` (:data:`STYLES`); ``x-example`` → ``example``
response ``schema`` + ``produces``         ``content``: one media type per ``produces``
response ``examples: {mime: value}``       that media type's ``example``
``x-nullable``                             ``nullable``
``type: file``                             ``type: string, format: binary``
``discriminator: name``                    ``discriminator: {propertyName: name}``
=========================================  ==============================================================

What has no OpenAPI 3.0 equivalent (``collectionFormat: tsv``, an operation's own ``schemes``) or is not a
Swagger 2.0 field is a warning (the returned list, shown with the document's other warnings), never an error;
a document that breaks Swagger 2.0's shape (a parameter without ``in``, two body parameters, a ``$ref`` to a
missing parameter) is a :class:`~postmock_nb.formats.openapi.SpecFormatError` naming the JSON pointer.
"""

from __future__ import annotations

from typing import Any

from postmock_nb.formats.openapi import SpecFormatError, pointer

OPENAPI_VERSION = "3.0.3"
DEFAULT_MEDIA = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")

REFS = (("#/definitions/", "#/components/schemas/"), ("#/parameters/", "#/components/parameters/"),
        ("#/responses/", "#/components/responses/"))
"""Where a local ``$ref`` of a Swagger 2.0 document points in its OpenAPI 3.0 form."""

SCHEMA_KEYS = ("type", "format", "items", "default", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
               "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "enum", "multipleOf")
"""The keys of a non-body parameter (or a header, or ``items``) that describe its value: they become its schema."""

_DELIMITED = {"csv": ("form", False), "ssv": ("spaceDelimited", False), "pipes": ("pipeDelimited", False),
              "multi": ("form", True)}
STYLES: dict[str, dict[str, tuple[str, bool]]] = {
    "query": _DELIMITED, "formData": _DELIMITED, "path": {"csv": ("simple", False)},
    "header": {"csv": ("simple", False)},
}
"""``collectionFormat`` → OpenAPI 3 ``(style, explode)``, by where the parameter is (csv when none is given)."""

SECURITY = {"basic": {"type": "http", "scheme": "basic"}, "apiKey": {"type": "apiKey"}, "oauth2": {"type": "oauth2"}}
"""A security definition's ``type`` → the security scheme's; an API key keeps ``name`` and ``in``."""

OAUTH_FLOWS = {"implicit": ("implicit", ("authorizationUrl",)), "password": ("password", ("tokenUrl",)),
               "application": ("clientCredentials", ("tokenUrl",)),
               "accessCode": ("authorizationCode", ("authorizationUrl", "tokenUrl"))}
"""An OAuth2 definition's ``flow`` → the OpenAPI 3 flow's name, and the URLs it keeps."""

TOP_LEVEL_COPIED = ("info", "tags", "externalDocs", "security")
TOP_LEVEL_READ = ("swagger", "host", "basePath", "schemes", "consumes", "produces", "paths", "definitions",
                  "parameters", "responses", "securityDefinitions")
OPERATION_COPIED = ("tags", "summary", "description", "externalDocs", "operationId", "deprecated", "security")
PARAMETER_COPIED = ("name", "in", "description", "required")
IN = ("query", "header", "path", "formData", "body")
HINT = "see the Swagger 2.0 specification (https://swagger.io/specification/v2/)"


def is_swagger(data: Any) -> bool:
    """Does this parsed document say it is Swagger (OpenAPI 2)?"""
    return isinstance(data, dict) and "swagger" in data and "openapi" not in data


def to_openapi3(data: dict[str, Any], source: str = "Swagger document") -> tuple[dict[str, Any], list[str]]:
    """The OpenAPI 3.0 form of a Swagger 2.0 document, and what of it was not used (warnings)."""
    converter = _Converter(data, source)
    return converter.document(), converter.warnings


def _extensions(node: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if str(key).startswith("x-")}


class _Converter:
    """One document's conversion: the document, where it came from, and the warnings so far."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data, self.source = data, source
        self.warnings: list[str] = []
        self.consumes = self._media_types(data, "consumes", "#") or [DEFAULT_MEDIA]
        self.produces = self._media_types(data, "produces", "#") or [DEFAULT_MEDIA]

    def error(self, message: str, where: str) -> SpecFormatError:
        return SpecFormatError(message, location=f"{self.source} at {where}", hint=HINT)

    def warn(self, message: str, where: str) -> None:
        self.warnings.append(f"{self.source} at {where}: {message}")

    def _object(self, node: Any, what: str, where: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise self.error(f"{what} must be an object, not {type(node).__name__}", where)
        return node

    def _media_types(self, node: dict[str, Any], key: str, where: str) -> list[str]:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(f"'{key}' must be a list of media types", f"{where}/{key}")
        return list(value)

    # -- the document ---------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        if str(self.data.get("swagger")) != "2.0":
            raise SpecFormatError(f"unsupported Swagger version {self.data.get('swagger')!r}",
                                  location=f"{self.source} at #/swagger",
                                  hint="postmock_nb reads Swagger 2.0 and OpenAPI 3.0/3.1")
        out: dict[str, Any] = {"openapi": OPENAPI_VERSION}
        out.update({key: self.data[key] for key in TOP_LEVEL_COPIED if key in self.data})
        out.update(_extensions(self.data))
        for key in self.data:
            if key not in TOP_LEVEL_COPIED + TOP_LEVEL_READ and not str(key).startswith("x-"):
                self.warn(f"'{key}' is not a Swagger 2.0 field; not read", pointer(key))
        out["servers"] = self._servers()
        out["paths"] = self._paths()
        components = self._components()
        if components:
            out["components"] = components
        return out

    def _servers(self) -> list[dict[str, Any]]:
        host, base = self.data.get("host"), self.data.get("basePath", "/")
        if host is not None and not isinstance(host, str):
            raise self.error("'host' must be a string", "#/host")
        if not isinstance(base, str) or not base.startswith("/"):
            raise self.error("'basePath' must be a string that starts with '/'", "#/basePath")
        base = base.rstrip("/")
        if not host:
            return [{"url": base or "/"}]
        schemes = self.data.get("schemes") or ["https"]
        if not isinstance(schemes, list) or not all(isinstance(scheme, str) for scheme in schemes):
            raise self.error("'schemes' must be a list of strings", "#/schemes")
        return [{"url": f"{scheme}://{host}{base}"} for scheme in schemes]

    def _components(self) -> dict[str, Any]:
        components: dict[str, Any] = {}
        definitions = self._object(self.data.get("definitions", {}), "'definitions'", "#/definitions")
        if definitions:
            components["schemas"] = {name: self._schema(schema) for name, schema in definitions.items()}
        parameters = self._object(self.data.get("parameters", {}), "'parameters'", "#/parameters")
        plain = {name: self._plain_parameter(self._object(parameter, "a parameter", pointer("parameters", name)),
                                             pointer("parameters", name))
                 for name, parameter in parameters.items()
                 if not (isinstance(parameter, dict) and parameter.get("in") in ("body", "formData"))}
        if plain:
            components["parameters"] = plain
        responses = self._object(self.data.get("responses", {}), "'responses'", "#/responses")
        if responses:
            components["responses"] = {name: self._response(response, self.produces, pointer("responses", name))
                                       for name, response in responses.items()}
        schemes = self._object(self.data.get("securityDefinitions", {}), "'securityDefinitions'",
                               "#/securityDefinitions")
        if schemes:
            components["securitySchemes"] = {
                name: self._security_scheme(scheme, pointer("securityDefinitions", name))
                for name, scheme in schemes.items()}
        return components

    def _security_scheme(self, scheme: Any, where: str) -> dict[str, Any]:
        scheme = self._object(scheme, "a security definition", where)
        kind = scheme.get("type")
        if not isinstance(kind, str) or kind not in SECURITY:
            raise self.error(f"unknown security definition type {kind!r} (basic, apiKey or oauth2)", f"{where}/type")
        out: dict[str, Any] = dict(SECURITY[kind])
        if kind == "apiKey":
            out.update({key: scheme[key] for key in ("name", "in") if key in scheme})
        elif kind == "oauth2":
            flow = scheme.get("flow")
            if not isinstance(flow, str) or flow not in OAUTH_FLOWS:
                raise self.error(f"unknown OAuth2 flow {flow!r} (implicit, password, application or accessCode)",
                                 f"{where}/flow")
            name, urls = OAUTH_FLOWS[flow]
            settings = {url: scheme[url] for url in urls if url in scheme}
            out["flows"] = {name: {**settings, "scopes": scheme.get("scopes") or {}}}
        if "description" in scheme:
            out["description"] = scheme["description"]
        return {**out, **_extensions(scheme)}

    # -- paths and operations -------------------------------------------------------------------

    def _paths(self) -> dict[str, Any]:
        paths = self._object(self.data.get("paths", {}), "'paths'", "#/paths")
        return {template: self._path_item(self._object(item, "a path item", pointer("paths", template)),
                                          pointer("paths", template))
                for template, item in paths.items() if not str(template).startswith("x-")}

    def _path_item(self, item: dict[str, Any], where: str) -> dict[str, Any]:
        plain, bodies = self._parameter_list(item.get("parameters"), f"{where}/parameters")
        out: dict[str, Any] = {"parameters": plain} if plain else {}
        for key, value in item.items():
            if key in METHODS:
                out[key] = self._operation(self._object(value, "an operation", f"{where}/{key}"), f"{where}/{key}",
                                           bodies)
            elif key == "$ref" or str(key).startswith("x-"):
                out[key] = self._ref(value) if key == "$ref" and isinstance(value, str) else value
            elif key != "parameters":
                self.warn(f"'{key}' is not a Swagger 2.0 path item field; not read", f"{where}/{key}")
        return out

    def _operation(self, operation: dict[str, Any], where: str,
                   shared_bodies: list[tuple[dict[str, Any], str]]) -> dict[str, Any]:
        out: dict[str, Any] = {key: operation[key] for key in OPERATION_COPIED if key in operation}
        out.update(_extensions(operation))
        if "schemes" in operation:
            self.warn("an operation's own 'schemes' are not read (the document's are)", f"{where}/schemes")
        plain, own_bodies = self._parameter_list(operation.get("parameters"), f"{where}/parameters")
        if plain:
            out["parameters"] = plain
        merged = {(p.get("in"), p.get("name")): (p, w) for p, w in shared_bodies}
        merged.update({(p.get("in"), p.get("name")): (p, w) for p, w in own_bodies})
        consumes = self._media_types(operation, "consumes", where) or self.consumes
        body = self._request_body(list(merged.values()), consumes, where)
        if body:
            out["requestBody"] = body
        produces = self._media_types(operation, "produces", where) or self.produces
        if "responses" in operation:
            responses = self._object(operation["responses"], "'responses'", f"{where}/responses")
            out["responses"] = {str(code): self._response(response, produces, pointer_in(where, "responses", code))
                                for code, response in responses.items() if not str(code).startswith("x-")}
        return out

    # -- parameters -----------------------------------------------------------------------------

    def _parameter_list(self, raw: Any, where: str
                        ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
        """A list's parameters in OpenAPI 3 form, and apart its body and formData ones (with their pointers)."""
        if raw is None:
            return [], []
        if not isinstance(raw, list):
            raise self.error("'parameters' must be a list", where)
        plain: list[dict[str, Any]] = []
        bodies: list[tuple[dict[str, Any], str]] = []
        for index, entry in enumerate(raw):
            here = f"{where}/{index}"
            parameter, at = self._resolve_parameter(self._object(entry, "a parameter", here), here)
            self._check_parameter(parameter, at)
            if parameter.get("in") in ("body", "formData"):
                bodies.append((parameter, at))
            elif "$ref" in entry:
                plain.append({"$ref": self._ref(entry["$ref"])})
            else:
                plain.append(self._plain_parameter(parameter, here))
        return plain, bodies

    def _resolve_parameter(self, entry: dict[str, Any], where: str) -> tuple[dict[str, Any], str]:
        if "$ref" not in entry:
            return entry, where
        ref = entry["$ref"]
        if not isinstance(ref, str):
            raise self.error(f"$ref must be a string, not {type(ref).__name__}", f"{where}/$ref")
        prefix = "#/parameters/"
        if not ref.startswith(prefix):
            raise self.error(f"$ref {ref!r}: a parameter's $ref must point into #/parameters/", where)
        name = ref[len(prefix):].replace("~1", "/").replace("~0", "~")
        parameters = self.data.get("parameters")
        if not isinstance(parameters, dict) or name not in parameters:
            raise self.error(f"$ref {ref!r} points to nothing", where)
        return self._object(parameters[name], "a parameter", ref), ref

    def _check_parameter(self, parameter: dict[str, Any], where: str) -> None:
        if not isinstance(parameter.get("name"), str) or parameter.get("in") not in IN:
            raise self.error("a parameter needs 'name' and 'in' (query, header, path, formData or body)", where)

    def _plain_parameter(self, parameter: dict[str, Any], where: str) -> dict[str, Any]:
        self._check_parameter(parameter, where)
        location = parameter["in"]
        out: dict[str, Any] = {key: parameter[key] for key in PARAMETER_COPIED if key in parameter}
        if location == "path":
            out["required"] = True
        if location == "query" and "allowEmptyValue" in parameter:
            out["allowEmptyValue"] = parameter["allowEmptyValue"]
        out["schema"] = self._value_schema(parameter, where)
        style = self._style(parameter, str(location), where)
        if style is not None:
            out["style"], out["explode"] = style
        if "x-example" in parameter:
            out["example"] = parameter["x-example"]
        return {**out, **{k: v for k, v in _extensions(parameter).items() if k not in ("x-example", "x-nullable")}}

    def _style(self, parameter: dict[str, Any], location: str, where: str) -> tuple[str, bool] | None:
        """The OpenAPI 3 style of an array parameter (None: the location's default is right)."""
        if parameter.get("type") != "array":
            return None
        written = parameter.get("collectionFormat")
        style = STYLES.get(location, {}).get(str(written or "csv"))
        if style is None:
            self.warn(f"collectionFormat {written!r} has no OpenAPI 3 style for a {location} parameter; "
                      "read as csv", f"{where}/collectionFormat")
            style = STYLES.get(location, {}).get("csv")
        return style

    def _value_schema(self, node: dict[str, Any], where: str) -> dict[str, Any]:
        """The schema of a non-body parameter, a header or an ``items``: its :data:`SCHEMA_KEYS`."""
        schema: dict[str, Any] = {key: node[key] for key in SCHEMA_KEYS if key in node}
        if schema.get("type") == "file":
            if node.get("in") != "formData":
                self.warn("'type: file' is for formData parameters only; read as binary", f"{where}/type")
            schema.update(type="string", format="binary")
        if "items" in schema:
            items = self._object(schema["items"], "'items'", f"{where}/items")
            if "collectionFormat" in items:
                self.warn("a nested collectionFormat has no OpenAPI 3 style; not read", f"{where}/items")
            schema["items"] = self._value_schema(items, f"{where}/items") if "$ref" not in items \
                else self._schema(items)
        if node.get("x-nullable") is True:
            schema["nullable"] = True
        return schema

    # -- bodies ---------------------------------------------------------------------------------

    def _request_body(self, parameters: list[tuple[dict[str, Any], str]], consumes: list[str],
                      where: str) -> dict[str, Any] | None:
        bodies = [(p, w) for p, w in parameters if p.get("in") == "body"]
        forms = [(p, w) for p, w in parameters if p.get("in") == "formData"]
        if len(bodies) > 1:
            raise self.error("an operation has at most one body parameter", bodies[1][1])
        if bodies and forms:
            self.warn("body and formData parameters together; the formData ones are not read", forms[0][1])
        if bodies:
            return self._body(*bodies[0], consumes)
        return self._form(forms, consumes, where) if forms else None

    def _body(self, parameter: dict[str, Any], where: str, consumes: list[str]) -> dict[str, Any]:
        if "schema" not in parameter:
            raise self.error("a body parameter needs a 'schema'", where)
        schema = self._schema(parameter["schema"])
        content: dict[str, Any] = {media: {"schema": schema} for media in consumes}
        examples = parameter.get("x-examples")
        for media, value in (examples.items() if isinstance(examples, dict) else ()):
            content.setdefault(media, {"schema": schema})["example"] = value
        out: dict[str, Any] = {"content": content, "required": bool(parameter.get("required"))}
        if "description" in parameter:
            out["description"] = parameter["description"]
        return {**out, **{k: v for k, v in _extensions(parameter).items() if k != "x-examples"}}

    def _form(self, parameters: list[tuple[dict[str, Any], str]], consumes: list[str],
              where: str) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        encoding: dict[str, Any] = {}
        for parameter, at in parameters:
            name = str(parameter["name"])
            schema = self._value_schema(parameter, at)
            if "description" in parameter:
                schema["description"] = parameter["description"]
            properties[name] = schema
            if parameter.get("required"):
                required.append(name)
            style = self._style(parameter, "formData", at)
            if style is not None:
                encoding[name] = {"style": style[0], "explode": style[1]}
        has_file = any(parameter.get("type") == "file" for parameter, _ in parameters)
        media_types = [media for media in consumes if media in (FORM, MULTIPART)]
        if has_file and MULTIPART not in media_types:
            if media_types:
                self.warn("a 'type: file' parameter needs multipart/form-data; read as such", f"{where}/consumes")
            media_types = [MULTIPART]
        media_types = media_types or [FORM]
        form: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            form["required"] = required
        content = {media: {"schema": form, **({"encoding": encoding} if encoding and media == FORM else {})}
                   for media in media_types}
        return {"content": content, "required": bool(required)}

    def _response(self, response: Any, produces: list[str], where: str) -> dict[str, Any]:
        response = self._object(response, "a response", where)
        if isinstance(response.get("$ref"), str):
            return {"$ref": self._ref(response["$ref"])}
        out: dict[str, Any] = {"description": str(response.get("description", ""))}
        headers = self._object(response.get("headers", {}), "'headers'", f"{where}/headers")
        if headers:
            out["headers"] = {name: self._header(self._object(header, "a header", pointer_in(where, "headers", name)),
                                                 pointer_in(where, "headers", name))
                              for name, header in headers.items()}
        content: dict[str, Any] = {}
        schema = self._schema(response["schema"]) if "schema" in response else None
        if schema is not None:
            content = {media: {"schema": schema} for media in produces}
        examples = self._object(response.get("examples", {}), "'examples'", f"{where}/examples")
        for media, value in examples.items():
            content.setdefault(media, {} if schema is None else {"schema": schema})["example"] = value
        if content:
            out["content"] = content
        return {**out, **_extensions(response)}

    def _header(self, header: dict[str, Any], where: str) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": self._value_schema(header, where)}
        if "description" in header:
            out["description"] = header["description"]
        if header.get("type") == "array" and header.get("collectionFormat", "csv") != "csv":
            self.warn(f"collectionFormat {header['collectionFormat']!r} has no OpenAPI 3 style for a header; "
                      "read as csv", f"{where}/collectionFormat")
        return out

    # -- schemas and references -----------------------------------------------------------------

    def _ref(self, ref: str) -> str:
        for old, new in REFS:
            if ref.startswith(old):
                return new + ref[len(old):]
        return ref

    def _schema(self, node: Any) -> Any:
        """A Swagger 2.0 schema in OpenAPI 3.0 form (every ``$ref`` rewritten, ``x-nullable``, ``file``…)."""
        if isinstance(node, list):
            return [self._schema(item) for item in node]
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str):
            ref = {"$ref": self._ref(node["$ref"])}
            return {"allOf": [ref], "nullable": True} if node.get("x-nullable") is True else ref
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("properties", "patternProperties") and isinstance(value, dict):
                out[key] = {name: self._schema(sub) for name, sub in value.items()}
            elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
                out[key] = self._schema(value)
            elif key == "x-nullable":
                if value is True:
                    out["nullable"] = True
            elif key == "discriminator" and isinstance(value, str):
                out[key] = {"propertyName": value}
            elif key == "type" and value == "file":
                out.update(type="string", format="binary")
            else:
                out[key] = value
        return out


def pointer_in(where: str, *parts: str | int) -> str:
    """``where`` (a JSON pointer) and the pointer of ``parts`` below it."""
    return where + pointer(*parts)[1:]
