"""Routes about the server itself: health and the OpenAPI document."""

from __future__ import annotations

import logging
from typing import Literal

import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy import text

from server import __version__
from server.api import Api, OutShape, Req

log = logging.getLogger(__name__)
api = Api(tag="system")


class HealthOut(OutShape):
    """Whether the server and what it depends on are working."""

    status: Literal["ok", "unavailable"]
    version: str
    database: Literal["ok", "unavailable"]
    redis: Literal["ok", "unavailable", "not_configured"]


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


@api.get("/api/health", response=HealthOut, public=True)
async def health(req: Req) -> web.Response:
    """Liveness and dependencies; 503 when the database or Redis is unreachable."""
    database = "ok" if await _database_ok(req) else "unavailable"
    redis_state = await _redis_state(req.config.redis_url)
    ok = database == "ok" and redis_state != "unavailable"
    body = HealthOut(
        status="ok" if ok else "unavailable",
        version=__version__,
        database=database,
        redis=redis_state,
    )
    return web.Response(
        status=200 if ok else 503, text=body.model_dump_json(), content_type="application/json"
    )
