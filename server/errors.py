"""One error model for the whole server.

Domain code raises :class:`AppError` subclasses. The aiohttp middleware turns them into
``application/problem+json`` (RFC 9457); the Socket.IO decorator turns them into error acks.
Anything else is a bug: it is logged with its traceback and answered as a plain 500.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError

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


def field_error(field: str, message: str, kind: str = "value_error") -> dict[str, Any]:
    """One entry of a validation problem's ``errors`` list."""
    return {"field": field, "message": message, "type": kind}


def invalid_field(field: str, message: str) -> Invalid:
    """A validation error about exactly one field."""
    return Invalid(f"{field}: {message}", errors=[field_error(field, message)])


def problem_body(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The RFC 9457 problem object."""
    body: dict[str, Any] = {
        "type": f"urn:xieshang:problem:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra)
    return body


def problem_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> web.Response:
    """A ``application/problem+json`` response."""
    body = problem_body(status, code, detail, **extra)
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=PROBLEM_JSON,
        headers=headers,
    )


def app_error_response(err: AppError) -> web.Response:
    """The problem response for a domain error."""
    extra: dict[str, Any] = dict(err.details)
    if isinstance(err, Invalid):
        extra["errors"] = err.errors
    headers = {"WWW-Authenticate": 'Bearer realm="xieshang"'} if err.status == 401 else None
    if isinstance(err, TooManyRequests):
        headers = {"Retry-After": str(err.details["retry_after"])}
    return problem_response(err.status, err.code, err.message, headers=headers, **extra)


_HTTP_CODES = {
    404: ("not_found", "No such page or API route."),
    405: ("method_not_allowed", "This route does not accept that HTTP method."),
    413: ("payload_too_large", "The request body is too large."),
}


def _http_exception_response(exc: web.HTTPException) -> web.Response:
    code, detail = _HTTP_CODES.get(exc.status, ("http_error", exc.reason))
    headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
    return problem_response(exc.status, code, detail, headers=headers or None)


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
        return app_error_response(err)
    except AppError as err:
        return app_error_response(err)
    except IntegrityError:
        # A uniqueness check lost a race with a concurrent request; the transaction rolled back.
        log.info("integrity conflict on %s %s", request.method, request.path, exc_info=True)
        return problem_response(
            409,
            "conflict",
            "This clashes with a record that was just created or changed; reload and try again.",
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if not request.path.startswith("/api/"):
            raise
        return _http_exception_response(exc)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(
            500, "internal", "Something went wrong on the server; it has been logged."
        )


SocketHandler = Callable[..., Awaitable[Any]]


def socket_handler(handler: SocketHandler) -> SocketHandler:
    """Every Socket.IO event handler gets an answer: ``{"ok": false, "error": {...}}`` on errors.

    (python-socketio sends no acknowledgement at all when a handler raises.)
    """

    @functools.wraps(handler)
    async def wrapper(*args: Any) -> Any:
        try:
            return await handler(*args)
        except AppError as err:
            return {"ok": False, "error": {"code": err.code, "message": err.message, **err.details}}
        except Exception:
            log.exception("unhandled error in Socket.IO handler %s", handler.__name__)
            return {
                "ok": False,
                "error": {"code": "internal", "message": "Something went wrong on the server."},
            }

    return wrapper
