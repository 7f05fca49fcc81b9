"""The HTTP layer's shared machinery: declared endpoints, parsing, and the OpenAPI document.

Each feature's ``routes.py`` declares endpoints on an :class:`Api` with their request and
response models. One wrapper parses the path, query and JSON body (pydantic, strict, unknown
fields refused), calls the handler, and serialises the answer; the same declarations produce
``/api/openapi.json``, so the document cannot drift from what the server does.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import re
import zoneinfo
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from aiohttp import web
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    ValidationError,
    model_validator,
)

from server.auth import Passwords, Principal, principal_of
from server.config import Config
from server.db import Database
from server.errors import Invalid, NotFound, PayloadTooLarge, field_error

DATABASE = web.AppKey("database", Database)
CONFIG = web.AppKey("config", Config)
PASSWORDS = web.AppKey("passwords", Passwords)

MAX_ID = 2**31 - 1  # ids are 32-bit integers on every database
_ID_TEXT = re.compile(r"[1-9][0-9]{0,9}")


@functools.cache
def known_timezones() -> frozenset[str]:
    """IANA zone names (a folder like "Asia" is not a zone)."""
    return frozenset(zoneinfo.available_timezones())


def _iso_text(value: object) -> object:
    if isinstance(value, str | dt.datetime):
        return value
    raise ValueError(
        "give the time as ISO 8601 text with an offset, like 2026-12-01T09:30:00+08:00"
    )


def _to_utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("the time is out of range") from None


def _no_nul(value: Any, path: str = "") -> None:
    """Refuse NUL characters anywhere: PostgreSQL cannot store them and no person types them."""
    if isinstance(value, str):
        if "\x00" in value:
            raise FieldProblem(path or "(body)", "contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key, path)
            _no_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_nul(item, f"{path}.{i}" if path else str(i))


def pattern(regex: str, explanation: str) -> AfterValidator:
    """A string check whose error says in words what is expected."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(explanation)
        return value

    return AfterValidator(check)


# An instant from a client: ISO 8601 text with an offset (naive times are refused), kept in UTC.
Instant = Annotated[
    AwareDatetime, Strict(False), BeforeValidator(_iso_text), AfterValidator(_to_utc)
]


class FieldProblem(ValueError):
    """A rule broken by one field, raised from a model validator so the problem names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Shape(BaseModel):
    """Base of request shapes: strict types, unknown fields refused, no NUL characters."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        _no_nul(data)
        return data


class QueryShape(BaseModel):
    """Base of query-string shapes: strings are converted, unknown parameters refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        _no_nul(data)
        return data


class OutShape(BaseModel):
    """Base of response shapes."""

    model_config = ConfigDict(from_attributes=True)


@dataclass(frozen=True)
class Req:
    """What a handler gets besides its parsed inputs."""

    request: web.Request

    @property
    def actor(self) -> Principal:
        """The signed-in person (401 when nobody is)."""
        return principal_of(self.request)

    @property
    def database(self) -> Database:
        return self.request.app[DATABASE]

    @property
    def config(self) -> Config:
        return self.request.app[CONFIG]

    @property
    def passwords(self) -> Passwords:
        return self.request.app[PASSWORDS]


HandlerFn = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    """One declared route."""

    method: str
    path: str
    handler: HandlerFn
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    public: bool = False
    path_params: tuple[str, ...] = field(default=())
    raw_body: str | None = None  # a non-JSON request body's media type (read by the handler)
    produces: str | None = None  # a non-JSON response's media type


class Api:
    """A feature's set of endpoints."""

    def __init__(self, *, tag: str) -> None:
        self.tag = tag
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        public: bool = False,
        raw_body: str | None = None,
        produces: str | None = None,
    ) -> Callable[[HandlerFn], HandlerFn]:
        """Declare an endpoint; the handler's docstring becomes its summary."""

        def register(handler: HandlerFn) -> HandlerFn:
            doc = inspect.getdoc(handler) or handler.__name__
            self.endpoints.append(
                Endpoint(
                    method=method,
                    path=path,
                    handler=handler,
                    summary=doc.splitlines()[0],
                    tag=self.tag,
                    body=body,
                    query=query,
                    response=response,
                    status=status,
                    public=public,
                    path_params=tuple(re.findall(r"\{(\w+)\}", path)),
                    raw_body=raw_body,
                    produces=produces,
                )
            )
            return handler

        return register

    def get(self, path: str, **kw: Any) -> Callable[[HandlerFn], HandlerFn]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[HandlerFn], HandlerFn]:
        return self.route("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[HandlerFn], HandlerFn]:
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[HandlerFn], HandlerFn]:
        return self.route("DELETE", path, **kw)


# ---------------------------------------------------------------- parsing


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(body)"


_MESSAGES = {
    "extra_forbidden": "unknown field; remove it (see /api/openapi.json for the accepted fields)",
    "missing": "this field is required",
    "timezone_aware": "give the time with an offset, like 2026-12-01T09:30:00+08:00",
}


def _message(error: Any) -> str:
    kind = error["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    message = str(error["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _entry(error: Any) -> dict[str, Any]:
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, FieldProblem):
        loc = (*tuple(error["loc"]), *cause.field.split("."))
        return field_error(_field_path(loc), cause.message, "rule")
    return field_error(_field_path(tuple(error["loc"])), _message(error), error["type"])


def validation_problem(exc: ValidationError, where: str) -> Invalid:
    """Turn a pydantic error into a problem that lists each field and what is wrong."""
    errors = [_entry(e) for e in exc.errors()]
    if any(e["type"] == "json_invalid" for e in exc.errors()):
        ctx = exc.errors()[0].get("ctx", {})
        return Invalid(
            f"The request body is not valid JSON ({ctx.get('error', 'parse error')}).",
            errors=[field_error("(body)", "malformed JSON", "json_invalid")],
        )
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return Invalid(f"The {where} is not valid: {summary}{more}.", errors=errors)


async def _parse_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    content_type = request.content_type
    if (
        request.body_exists
        and content_type not in ("application/json", "application/octet-stream")
        and not content_type.endswith("+json")
    ):
        raise Invalid(
            f"Send the body as JSON with Content-Type: application/json (got {content_type}).",
            errors=[field_error("(body)", "wrong content type", "content_type")],
        )
    raw = await request.read()
    if not raw.strip():
        raise Invalid(
            "The request body is empty; send a JSON object.",
            errors=[field_error("(body)", "empty body", "missing")],
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise validation_problem(exc, "request body") from None


def _parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise validation_problem(exc, "query string") from None


def _parse_ids(request: web.Request, names: Iterable[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for name in names:
        raw = request.match_info[name]
        if not _ID_TEXT.fullmatch(raw) or int(raw) > MAX_ID:
            raise NotFound(f"There is nothing with {name} {raw!r}; ids are positive whole numbers.")
        ids[name] = int(raw)
    return ids


async def read_raw(request: web.Request, media_type: str, limit: int) -> bytes:
    """A non-JSON body of the declared media type and at most ``limit`` bytes."""
    if request.content_type != media_type:
        raise Invalid(
            f"Send the body as {media_type} (got {request.content_type}).",
            errors=[field_error("(body)", "wrong content type", "content_type")],
        )
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The body is larger than {limit // 1024} KiB; send less.")
    data = await request.content.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit // 1024} KiB; send less.")
    if not data.strip():
        raise Invalid("The body is empty.", errors=[field_error("(body)", "empty body", "missing")])
    return data


async def read_raw_any(request: web.Request, limit: int) -> tuple[str, bytes]:
    """A file body of any declared media type (checked by the caller), at most ``limit`` bytes."""
    media_type = request.content_type
    if not media_type or media_type == "application/octet-stream":
        raise Invalid(
            "Send the file with its own Content-Type, e.g. application/pdf.",
            errors=[field_error("(body)", "missing content type", "content_type")],
        )
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The file is larger than {limit // 1024} KiB; send a smaller one.")
    data = await request.content.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The file is larger than {limit // 1024} KiB; send a smaller one.")
    if not data:
        raise Invalid("The file is empty.", errors=[field_error("(body)", "empty body", "missing")])
    return media_type, data


def _respond(endpoint: Endpoint, result: Any) -> web.StreamResponse:
    if isinstance(result, web.StreamResponse):
        return result
    if result is None:
        return web.Response(status=204)
    if isinstance(result, BaseModel):
        return web.Response(
            status=endpoint.status, text=result.model_dump_json(), content_type="application/json"
        )
    raise TypeError(f"{endpoint.handler.__name__} returned {type(result).__name__}")


def _aiohttp_handler(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        req = Req(request)
        if not endpoint.public:
            req.actor  # noqa: B018 - refuse anonymous callers before parsing anything
        kwargs: dict[str, Any] = _parse_ids(request, endpoint.path_params)
        if endpoint.query is not None:
            kwargs["query"] = _parse_query(request, endpoint.query)
        if endpoint.body is not None:
            kwargs["body"] = await _parse_body(request, endpoint.body)
        return _respond(endpoint, await endpoint.handler(req, **kwargs))

    handle.__name__ = endpoint.handler.__name__
    return handle


def add_routes(app: web.Application, apis: Iterable[Api]) -> None:
    """Register every endpoint of ``apis`` on the application."""
    for api in apis:
        for endpoint in api.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, _aiohttp_handler(endpoint))
