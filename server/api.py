"""The HTTP layer's shared machinery: declared endpoints, parsing, and the OpenAPI document.

Each feature's ``routes.py`` declares endpoints on an :class:`Api` with their request and
response models. One wrapper parses the path, query and JSON body (pydantic, strict, unknown
fields refused), calls the handler, and serialises the answer; the same declarations produce
``/api/openapi.json``, so the document cannot drift from what the server does.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, ValidationError

from server.auth import Passwords, Principal, principal_of
from server.config import Config
from server.db import Database
from server.errors import Invalid, NotFound, PayloadTooLarge, field_error
from server.i18n import _
from server.mail import Mailer
from server.shapes import MAX_ID, validation_problem
from server.signing import Signer

DATABASE = web.AppKey("database", Database)
CONFIG = web.AppKey("config", Config)
PASSWORDS = web.AppKey("passwords", Passwords)
# Shared infrastructure, built once by the app: every feature signs links and tokens with the
# one signer and queues mail as the one sender.
SIGNER = web.AppKey("signer", Signer)
MAILER = web.AppKey("mailer", Mailer)
SignedOut = Callable[[str], Awaitable[None]]
# Called with a token's digest once it is revoked (signed out): live connections opened with it
# end (the app registers the rooms'; features never reach each other through this).
SIGNED_OUT: web.AppKey[list[SignedOut]] = web.AppKey("signed_out")

_ID_TEXT = re.compile(r"[1-9][0-9]{0,9}")


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

    async def signed_out(self, digest: str) -> None:
        """Tell whoever holds live connections that the token with ``digest`` was revoked."""
        for hook in self.request.app.get(SIGNED_OUT, []):
            await hook(digest)


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
    # A non-JSON request body's media types (read by the handler), and a non-JSON response's.
    raw_body: str | tuple[str, ...] | None = None
    produces: str | tuple[str, ...] | None = None
    # Problem statuses beyond those every endpoint of its kind may answer (server/openapi.py).
    problems: tuple[str, ...] = ()


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
        raw_body: str | tuple[str, ...] | None = None,
        produces: str | tuple[str, ...] | None = None,
        problems: tuple[str, ...] = (),
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
                    problems=problems,
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


async def _parse_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    content_type = request.content_type
    if (
        request.body_exists
        and content_type not in ("application/json", "application/octet-stream")
        and not content_type.endswith("+json")
    ):
        raise Invalid(
            _(
                "Send the body as JSON with Content-Type: application/json (got {content_type}).",
                content_type=content_type,
            ),
            errors=[field_error("(body)", _("wrong content type"), "content_type")],
        )
    raw = await request.read()
    if not raw.strip():
        raise Invalid(
            _("The request body is empty; send a JSON object."),
            errors=[field_error("(body)", _("empty body"), "missing")],
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise validation_problem(exc, _("request body")) from None


def _parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise validation_problem(exc, _("query string")) from None


def _parse_ids(request: web.Request, names: Iterable[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for name in names:
        raw = request.match_info[name]
        if not _ID_TEXT.fullmatch(raw) or int(raw) > MAX_ID:
            raise NotFound(
                _(
                    "There is nothing with {name} {raw}; ids are positive whole numbers.",
                    name=name,
                    raw=repr(raw),
                )
            )
        ids[name] = int(raw)
    return ids


async def read_body(request: web.Request, limit: int, too_large: str) -> bytes:
    """The whole request body, or 413 ``too_large`` as soon as it passes ``limit`` bytes.

    ``StreamReader.read(n)`` returns what happens to be buffered, not ``n`` bytes, so one call
    cuts a large body short; this reads to the end, holding at most ``limit + 1`` bytes, for a
    Content-Length body and a chunked one alike.
    """
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(too_large)
    body = bytearray()
    try:
        while chunk := await request.content.read(limit + 1 - len(body)):
            body += chunk
            if len(body) > limit:
                raise PayloadTooLarge(too_large)
    except ConnectionResetError:
        # aiohttp's word for a client that went away before its body was complete.
        raise Invalid(
            _("The body ended before all of it arrived; nothing was stored. Send it again."),
            errors=[field_error("(body)", _("incomplete body"), "incomplete")],
        ) from None
    return bytes(body)


async def read_raw(request: web.Request, media_type: str, limit: int) -> bytes:
    """A non-JSON body of the declared media type and at most ``limit`` bytes."""
    if request.content_type != media_type:
        raise Invalid(
            _(
                "Send the body as {media_type} (got {content_type}).",
                media_type=media_type,
                content_type=request.content_type,
            ),
            errors=[field_error("(body)", _("wrong content type"), "content_type")],
        )
    data = await read_body(
        request, limit, _("The body is larger than {kib} KiB; send less.", kib=limit // 1024)
    )
    if not data.strip():
        raise Invalid(
            _("The body is empty."), errors=[field_error("(body)", _("empty body"), "missing")]
        )
    return data


async def read_raw_any(request: web.Request, limit: int) -> tuple[str, bytes]:
    """A file body of any declared media type (checked by the caller), at most ``limit`` bytes."""
    media_type = request.content_type
    if not media_type or media_type == "application/octet-stream":
        raise Invalid(
            _("Send the file with its own Content-Type, e.g. application/pdf."),
            errors=[field_error("(body)", _("missing content type"), "content_type")],
        )
    too_large = _("The file is larger than {kib} KiB; send a smaller one.", kib=limit // 1024)
    data = await read_body(request, limit, too_large)
    if not data:
        raise Invalid(
            _("The file is empty."), errors=[field_error("(body)", _("empty body"), "missing")]
        )
    return media_type, data


_ASCII_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}\Z")


def attachment_disposition(name: str, ascii_stem: str) -> str:
    """A ``Content-Disposition`` that saves the download as ``name`` (RFC 6266 ``filename*``,
    every byte outside letters, digits and ``-._~`` percent-encoded, so no quote, CR, LF or
    ``;`` can end the header early), with ``ascii_stem`` plus ``name``'s extension for clients
    that read only ``filename``."""
    suffix = _ASCII_SUFFIX.search(name)
    fallback = ascii_stem + (suffix.group() if suffix else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


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
