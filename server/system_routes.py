"""Routes about the server itself: health and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Literal

import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy import text

from server import __version__
from server.api import Api, Req
from server.db import utcnow
from server.mail import outbox_state
from server.media.backends import media_stats
from server.media.routes import MEDIA
from server.realtime import SIO, redis_linked
from server.shapes import OutShape

log = logging.getLogger(__name__)
api = Api(tag="system")


RECENT_FAILURES = dt.timedelta(hours=1)  # mail given up on this recently means mail is failing


class OutboxOut(OutShape):
    """The outgoing mail every process shares."""

    pending: int  # messages waiting to be sent (the backlog)
    oldest_pending_seconds: float | None  # how long the oldest of them has waited
    retrying: int  # waiting messages whose last try failed
    failed_last_hour: int  # messages given up on (after every retry) in the last hour


class JanusOut(OutShape):
    """One Janus instance, as this process's control connection sees it (numbered in the
    order of XIESHANG_JANUS_URLS; the addresses are not public)."""

    instance: int
    state: Literal["up", "down"]


class HealthOut(OutShape):
    """Whether the server and what it depends on are working.

    ``degraded`` (200): Redis is unreachable, or this process is not (yet again) subscribed to
    it; mail is failing (a message was given up on in the last hour, or one has waited longer
    than XIESHANG_MAIL_BACKLOG_MINUTES); or a Janus instance is down. The process still serves
    its clients (room events still cross between processes through the room log, mail is kept
    and retried, rooms move to the Janus instances that are up), so it answers 200, and 503
    only without a database.
    """

    status: Literal["ok", "degraded", "unavailable"]
    version: str
    database: Literal["ok", "unavailable"]
    redis: Literal["ok", "unavailable", "not_configured"]
    mail: Literal["ok", "failing", "unknown"]
    outbox: OutboxOut | None  # None when the database is unavailable
    janus: list[JanusOut]  # empty without Janus (the embedded SFU)


async def _database_ok(req: Req) -> bool:
    try:
        async with req.database.read() as db:
            await db.execute(text("SELECT 1"))
    except Exception:
        log.warning("health: database check failed", exc_info=True)
        return False
    return True


async def _redis_state(url: str | None) -> Literal["ok", "unavailable", "not_configured"]:
    if url is None:
        return "not_configured"
    client = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    except Exception:
        log.warning("health: redis check failed", exc_info=True)
        return "unavailable"
    finally:
        await client.aclose()
    return "ok"


async def _outbox(req: Req) -> tuple[OutboxOut | None, Literal["ok", "failing", "unknown"]]:
    now = utcnow()
    try:
        async with req.database.read() as db:
            state = await outbox_state(db, since=now - RECENT_FAILURES)
    except Exception:
        log.warning("health: outbox check failed", exc_info=True)
        return None, "unknown"
    oldest = state.oldest_pending_at
    waited = max(0.0, (now - oldest).total_seconds()) if oldest is not None else None
    backlog = dt.timedelta(minutes=req.config.mail_backlog_minutes).total_seconds()
    failing = state.failed_since > 0 or (waited is not None and waited > backlog)
    out = OutboxOut(
        pending=state.counts["pending"],
        oldest_pending_seconds=waited,
        retrying=state.retrying,
        failed_last_hour=state.failed_since,
    )
    return out, "failing" if failing else "ok"


def _janus(req: Req) -> list[JanusOut]:
    media = req.request.app.get(MEDIA)
    if media is None:
        return []
    return [
        JanusOut(instance=n, state="up" if up else "down")
        for n, (_url, up) in enumerate(media_stats(media).janus, start=1)
    ]


@api.get("/api/health", response=HealthOut, public=True)
async def health(req: Req) -> web.Response:
    """Liveness and dependencies: 503 when the database is unreachable; 200 with status
    ``degraded`` when Redis is, when mail is failing or a Janus instance is down (this process
    still serves its own clients)."""
    database = "ok" if await _database_ok(req) else "unavailable"
    redis_state = await _redis_state(req.config.redis_url)
    linked = redis_linked(req.request.app[SIO]) is not False
    outbox, mail = await _outbox(req) if database == "ok" else (None, "unknown")
    janus = _janus(req)
    status: Literal["ok", "degraded", "unavailable"] = (
        "unavailable"
        if database != "ok"
        else "degraded"
        if redis_state == "unavailable"
        or not linked
        or mail != "ok"
        or any(j.state == "down" for j in janus)
        else "ok"
    )
    body = HealthOut(
        status=status,
        version=__version__,
        database=database,
        redis=redis_state,
        mail=mail,
        outbox=outbox,
        janus=janus,
    )
    return web.Response(
        status=503 if status == "unavailable" else 200,
        text=body.model_dump_json(),
        content_type="application/json",
    )
