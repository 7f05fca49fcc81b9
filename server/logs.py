"""Logging that never writes a secret: tokens, passwords and signed links are redacted.

Secrets reach logs by three roads: the access log's request line (signed RSVP and feed links
carry their token in the path, QR check-in links in the query), a library logging a header or a
URL at DEBUG, and our own messages. Every record that reaches the handlers passes
:func:`redact`, and the access log writes the redacted path.

With ``XIESHANG_LOG_FORMAT=json`` every line is one JSON object (``time``, ``level``, ``logger``,
``message``, ``request_id`` and ``exception`` when there is one), for log collectors; the same
redaction applies, since it happens before formatting. The request id comes from the request's
``X-Request-Id`` header when it is a plain token (a proxy's id, so lines can be matched across
both), or is made up; every answer carries it back in ``X-Request-Id``.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

REDACTED = "[redacted]"
_RULES = [
    # Signed links: /rsvp/<token>, /cal/<token>.ics
    (re.compile(r"(/(?:rsvp|cal)/)[^/?#\s\"']+?(\.ics)?(?=[?#\s\"']|$)"), rf"\1{REDACTED}\2"),
    # Query strings and form fields that carry secrets.
    (
        re.compile(
            r"((?:token|guest_token|device_token|password|secret|credential|api_secret)"
            r"(?:=|\"\s*:\s*\"|'\s*:\s*'))[^&\s\"']+",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\1{REDACTED}"),
]


def redact(text: str) -> str:
    """``text`` with every token, password and signed link replaced by ``[redacted]``."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """A handler filter that redacts the formatted message (and the traceback) of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
REQUEST_ID_KEY = web.RequestKey("request_id", str)
_INCOMING_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being served (or None) on every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def request_id_of(request: web.BaseRequest) -> str | None:
    """The id given to ``request`` by :func:`request_ids` (None before it ran)."""
    return request.get(REQUEST_ID_KEY)


def give_request_id(request: web.Request) -> str:
    """``request``'s id (the proxy's ``X-Request-Id`` if it is a plain token), set for the log
    lines written while serving it."""
    given = request.headers.get("X-Request-Id", "")
    request_id = given if _INCOMING_ID.fullmatch(given) else uuid.uuid4().hex
    request[REQUEST_ID_KEY] = request_id
    REQUEST_ID.set(request_id)
    return request_id


@web.middleware
async def request_ids(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Give each request an id (the proxy's ``X-Request-Id`` if it is a plain token), for every
    line logged while serving it, and send it back in ``X-Request-Id``."""
    request_id = give_request_id(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.setdefault("X-Request-Id", request_id)
        raise
    if not response.prepared:
        response.headers.setdefault("X-Request-Id", request_id)
    return response


def install(level: str, log_format: str = "text") -> None:
    """Log to standard error at ``level``, every record redacted; ``json``: one JSON object
    per line."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdFilter())
        handler.addFilter(RedactingFilter())
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)


class AccessLogger(AbstractAccessLogger):
    """One line per request: client, method, redacted path and query, status, size, time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %s %.3fs',
            request.remote,
            request.method,
            redact(request.path_qs),
            response.status,
            response.body_length,
            time,
            extra={"request_id": request_id_of(request)},
        )
