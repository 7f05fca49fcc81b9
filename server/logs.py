"""Logging that never writes a secret: tokens, passwords and signed links are redacted.

Secrets reach logs by three roads: the access log's request line (signed RSVP and feed links
carry their token in the path, QR check-in links in the query), a library logging a header or a
URL at DEBUG, and our own messages. Every record that reaches the handlers passes
:func:`redact`, and the access log writes the redacted path.
"""

from __future__ import annotations

import logging
import re

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


def install(level: str) -> None:
    """Log to standard error at ``level``, every record redacted."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
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
        )
