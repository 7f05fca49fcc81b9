"""One error model for the whole server.

Domain code raises :class:`AppError` subclasses. The aiohttp middleware turns them into
``application/problem+json`` (RFC 9457); the Socket.IO decorator turns them into error acks.
A database that cannot be reached (or an SQLite file locked by another writer) is no bug: it
is answered 503 with ``Retry-After``. Anything else is a bug: it is logged with its traceback and
answered as a plain 500.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import socketio
from aiohttp import web
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from server.db import DatabaseUnreachable
from server.i18n import DEFAULT, _, choose, negotiate, translate

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TARPIT_SECONDS = 1.0  # how long a refusal for asking too often is held back


class AppError(Exception):
    """An error a client caused and can act on."""

    status = 400
    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Invalid(AppError):
    """The request is malformed or breaks a rule; ``errors`` lists the fields."""

    status = 400
    code = "invalid"

    def __init__(
        self, message: str, *, errors: list[dict[str, Any]] | None = None, **details: Any
    ) -> None:
        super().__init__(message, **details)
        self.errors = errors or []


class Unauthorized(AppError):
    """No valid login token came with the request."""

    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    """The caller is known but may not do this."""

    status = 403
    code = "forbidden"


class NotFound(AppError):
    """The object does not exist, or the caller may not know that it does."""

    status = 404
    code = "not_found"


class Conflict(AppError):
    """The request clashes with the current state (a transition, a duplicate, a clash)."""

    status = 409
    code = "conflict"


class TooManyRequests(AppError):
    """A client asked too often; the message says when to try again (``retry_after`` seconds)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)


class PayloadTooLarge(AppError):
    """The request body is larger than the configured limit."""

    status = 413
    code = "payload_too_large"


class Unavailable(AppError):
    """Something the server needs (the database) cannot be used just now; try again later."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)


# SQLSTATEs of a PostgreSQL that is away, not of a wrong statement: class 08 (connection
# exception), admin or crash shutdown, "cannot connect now" (starting up), too many connections.
_PG_AWAY = ("08", "57P01", "57P02", "57P03", "53300")
_SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")  # another connection holds the write lock
DATABASE_RETRY_SECONDS = 5
LOCKED_RETRY_SECONDS = 1


def _database_away(exc: BaseException) -> bool:
    if isinstance(exc, (DatabaseUnreachable, PoolTimeout)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    return exc.connection_invalidated or (isinstance(state, str) and state.startswith(_PG_AWAY))


def _sqlite_busy(orig: BaseException | None) -> bool:
    return str(getattr(orig, "sqlite_errorname", "")).startswith(_SQLITE_BUSY)


def unavailable(exc: BaseException) -> Unavailable | None:
    """The 503 for a database that is unreachable or busy, or ``None`` for any other error."""
    if _database_away(exc):
        return Unavailable(
            _(
                "The database cannot be reached just now, so this request was not completed. "
                "Try again in {seconds} seconds; if it keeps happening, tell the "
                "administrator (GET /api/health shows what is down).",
                seconds=DATABASE_RETRY_SECONDS,
            ),
            retry_after=DATABASE_RETRY_SECONDS,
        )
    if isinstance(exc, OperationalError) and _sqlite_busy(exc.orig):
        return Unavailable(
            _(
                "The database is busy with another change, so this request was not completed; "
                "try again in a moment."
            ),
            retry_after=LOCKED_RETRY_SECONDS,
        )
    return None


def field_error(field: str, message: str, kind: str = "value_error") -> dict[str, Any]:
    """One entry of a validation problem's ``errors`` list."""
    return {"field": field, "message": message, "type": kind}


def invalid_field(field: str, message: str) -> Invalid:
    """A validation error about exactly one field."""
    return Invalid(
        _("{field}: {message}", field=field, message=message), errors=[field_error(field, message)]
    )


# The titles of the statuses the server answers with (any other keeps HTTP's English phrase).
_TITLES = {
    400: _("Bad Request"),
    401: _("Unauthorized"),
    403: _("Forbidden"),
    404: _("Not Found"),
    405: _("Method Not Allowed"),
    409: _("Conflict"),
    413: _("Request Entity Too Large"),
    415: _("Unsupported Media Type"),
    422: _("Unprocessable Content"),
    429: _("Too Many Requests"),
    500: _("Internal Server Error"),
    503: _("Service Unavailable"),
}


def _localized(value: Any, language: str) -> Any:
    """``value`` with every marked message in it translated (lists and dicts looked into)."""
    if isinstance(value, str):
        return translate(value, language)
    if isinstance(value, list):
        return [_localized(v, language) for v in value]
    if isinstance(value, dict):
        return {k: _localized(v, language) for k, v in value.items()}
    return value


def problem_body(
    status: int, code: str, detail: str, language: str = DEFAULT, **extra: Any
) -> dict[str, Any]:
    """The RFC 9457 problem object, its texts in ``language``."""
    body: dict[str, Any] = {
        "type": f"urn:xieshang:problem:{code}",
        "title": translate(_TITLES.get(status) or HTTPStatus(status).phrase, language),
        "status": status,
        "detail": translate(detail, language),
        "code": code,
    }
    body.update(_localized(extra, language))
    return body


def problem_response(
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
    language: str = DEFAULT,
    **extra: Any,
) -> web.Response:
    """A ``application/problem+json`` response."""
    body = problem_body(status, code, detail, language, **extra)
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=PROBLEM_JSON,
        headers=headers,
    )


def app_error_response(err: AppError, language: str = DEFAULT) -> web.Response:
    """The problem response for a domain error, in ``language``."""
    extra: dict[str, Any] = dict(err.details)
    if isinstance(err, Invalid):
        extra["errors"] = err.errors
    headers = {"WWW-Authenticate": 'Bearer realm="xieshang"'} if err.status == 401 else None
    if isinstance(err, (TooManyRequests, Unavailable)):
        headers = {"Retry-After": str(err.details["retry_after"])}
    return problem_response(err.status, err.code, err.message, headers, language, **extra)


_HTTP_CODES: dict[int, tuple[str, str]] = {
    404: ("not_found", _("No such page or API route.")),
    405: ("method_not_allowed", _("This route does not accept that HTTP method.")),
    413: ("payload_too_large", _("The request body is too large.")),
}


def _http_exception_response(exc: web.HTTPException, language: str) -> web.Response:
    code, detail = _HTTP_CODES.get(exc.status, ("http_error", exc.reason))
    headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
    return problem_response(exc.status, code, detail, headers or None, language)


# The signed-in person's chosen language, put on the request by the auth middleware.
PERSON_LANGUAGE_KEY = web.RequestKey("person_language", str)


def request_language(request: web.Request) -> str:
    """The language to answer ``request`` in: its ``Accept-Language`` when that names one of
    ours, else the signed-in person's chosen language, else zh-CN."""
    return choose(request.headers.get("Accept-Language"), request.get(PERSON_LANGUAGE_KEY))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every error as problem+json; log the ones that are our bugs."""
    try:
        return await handler(request)
    except TooManyRequests as err:
        # Answer a flood slowly: a client with N connections then gets N answers a second at
        # most, and each costs the server a sleeping coroutine instead of work.
        await asyncio.sleep(min(TARPIT_SECONDS, float(err.details["retry_after"])))
        return app_error_response(err, request_language(request))
    except AppError as err:
        return app_error_response(err, request_language(request))
    except IntegrityError:
        # A uniqueness check lost a race with a concurrent request; the transaction rolled back.
        log.info("integrity conflict on %s %s", request.method, request.path, exc_info=True)
        return problem_response(
            409,
            "conflict",
            _("This clashes with a record that was just created or changed; reload and try again."),
            language=request_language(request),
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if not request.path.startswith("/api/"):
            raise
        return _http_exception_response(exc, request_language(request))
    except Exception as exc:
        away = unavailable(exc)
        if away is not None:
            log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
            return app_error_response(away, request_language(request))
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(
            500,
            "internal",
            _("Something went wrong on the server; it has been logged."),
            language=request_language(request),
        )


SocketHandler = Callable[..., Awaitable[Any]]


def _error_ack(err: AppError, language: str) -> dict[str, Any]:
    error = {"code": err.code, "message": err.message, **err.details}
    return {"ok": False, "error": _localized(error, language)}


async def _socket_language(args: tuple[Any, ...]) -> str:
    """The language a namespace handler's client asked for at connect (saved in its session
    as ``language``), zh-CN when unknown."""
    if len(args) < 2 or not hasattr(args[0], "get_session"):
        return DEFAULT
    try:
        session = await args[0].get_session(args[1])
    except Exception:  # no session (yet): the default language
        return DEFAULT
    language = session.get("language") if isinstance(session, dict) else None
    return language if isinstance(language, str) else DEFAULT


def socket_handler(handler: SocketHandler) -> SocketHandler:
    """Every Socket.IO event handler gets an answer: ``{"ok": false, "error": {...}}`` on errors.

    (python-socketio sends no acknowledgement at all when a handler raises.)
    """

    @functools.wraps(handler)
    async def wrapper(*args: Any) -> Any:
        try:
            return await handler(*args)
        except AppError as err:
            return _error_ack(err, await _socket_language(args))
        except Exception as exc:
            away = unavailable(exc)
            if away is not None:
                log.warning(
                    "database unavailable in Socket.IO handler %s: %s", handler.__name__, exc
                )
                return _error_ack(away, await _socket_language(args))
            log.exception("unhandled error in Socket.IO handler %s", handler.__name__)
            message = translate(
                _("Something went wrong on the server."), await _socket_language(args)
            )
            return {"ok": False, "error": {"code": "internal", "message": message}}

    return wrapper


def refuse_when_unavailable(handler: SocketHandler) -> SocketHandler:
    """A Socket.IO connect handler that refuses, with a reason and ``data.code``, a connection
    it cannot check while the database is unavailable (python-socketio would log the error and
    leave the client waiting for an answer that never comes)."""

    @functools.wraps(handler)
    async def wrapper(*args: Any) -> Any:
        try:
            return await handler(*args)
        except Exception as exc:
            away = unavailable(exc)
            if away is None:
                raise
            log.warning("database unavailable on Socket.IO connect: %s", exc)
            data = {"code": away.code, **away.details}
            environ = args[2] if len(args) > 2 and isinstance(args[2], dict) else {}
            language = negotiate(environ.get("HTTP_ACCEPT_LANGUAGE"))
            message = translate(away.message, language)
            raise socketio.exceptions.ConnectionRefusedError(message, data) from None

    return wrapper
