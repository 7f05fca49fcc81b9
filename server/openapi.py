"""The OpenAPI 3.1 document, generated from the endpoints the features declare."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from server.api import Api, Endpoint

REF = "#/components/schemas/{model}"

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details, with a stable `code` and field `errors`.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def _query_parameters(model: type[BaseModel], defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, ref_template=REF)
    defs.update(schema.get("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _problem_codes(endpoint: Endpoint) -> set[str]:
    takes_input = endpoint.path_params or endpoint.body or endpoint.query or endpoint.raw_body
    codes = {"400", "404"} if takes_input else set()
    codes |= set(endpoint.problems)
    if endpoint.body or endpoint.raw_body:
        codes.add("413")  # the server's body size limit
    if not endpoint.public:
        codes |= {"401", "403"}
    elif endpoint.method != "GET":
        codes.add("401")  # public writes: wrong credentials
    if endpoint.method != "GET":
        codes.add("409")
    if not (endpoint.public and endpoint.method == "GET"):
        codes.add("429")  # the per-address API limit (only the health check is exempt)
        codes.add("503")  # the database is unreachable or busy (with Retry-After)
    return codes


def _problem_responses(endpoint: Endpoint) -> dict[str, Any]:
    ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {
        code: {"description": "Problem", "content": ref}
        for code in sorted(_problem_codes(endpoint))
    }


def _media_types(declared: str | tuple[str, ...]) -> tuple[str, ...]:
    return (declared,) if isinstance(declared, str) else declared


def build_openapi(apis: Iterable[Api], *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every declared endpoint."""
    endpoints = [e for api in apis for e in api.endpoints]
    wanted: list[tuple[type[BaseModel], Any]] = []
    for e in endpoints:
        if e.body is not None:
            wanted.append((e.body, "validation"))
        if e.response is not None:
            wanted.append((e.response, "serialization"))
    keymap, defs = models_json_schema(list(dict.fromkeys(wanted)), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    query_defs: dict[str, Any] = {}
    for e in endpoints:
        op: dict[str, Any] = {
            "operationId": e.handler.__name__,
            "summary": e.summary,
            "tags": [e.tag],
            "parameters": [
                {
                    "name": p,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                }
                for p in e.path_params
            ]
            + (_query_parameters(e.query, query_defs) if e.query else []),
            "responses": _problem_responses(e),
        }
        if not e.public:
            op["security"] = [{"bearer": []}]
        if e.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": keymap[(e.body, "validation")]}},
            }
        if e.raw_body is not None:
            op["requestBody"] = {
                "required": True,
                # Any bytes: the handler reads and checks them (a file, an ICS or JSON notice).
                "content": {m: {"schema": {}} for m in _media_types(e.raw_body)},
            }
        if e.produces is not None:
            op["responses"][str(e.status)] = {
                "description": "OK",
                "content": {m: {"schema": {"type": "string"}} for m in _media_types(e.produces)},
            }
        elif e.response is not None:
            content = {"application/json": {"schema": keymap[(e.response, "serialization")]}}
            op["responses"][str(e.status)] = {"description": "OK", "content": content}
        else:
            op["responses"][str(e.status if e.status != 200 else 204)] = {"description": "Done"}
        paths.setdefault(e.path, {})[e.method.lower()] = op
    schemas = {**query_defs, **defs.get("$defs", {})}
    schemas["Problem"] = _PROBLEM_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
