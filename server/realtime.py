"""The Socket.IO server: signed-in connections, and Redis fan-out across server processes.

The default namespace carries personal notices: each signed-in connection joins the room
``person:<id>``, so any server process can reach a person on whichever process they are
connected to. Live rooms get their own namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import socketio

from server.auth import TokenResolver
from server.config import Config
from server.fanout import FastManager, FastRedisManager, install

log = logging.getLogger(__name__)


def person_room(person_id: int) -> str:
    """The Socket.IO room every connection of one person joins."""
    return f"person:{person_id}"


class RedisManager(FastRedisManager):
    """python-socketio's Redis manager with the fast local fan-out, plus the clean shutdown
    it lacks.

    Stock, its listener task and Redis connections outlive the server (a pending task and
    unclosed sockets at exit). ``close`` uses three attributes of python-socketio 5.x
    (``thread``, ``pubsub``, ``redis``); ``tests/server/test_realtime.py`` fails if they move.
    """

    async def close(self) -> None:
        """Stop listening and close the Redis connections."""
        thread = getattr(self, "thread", None)
        if thread is not None:
            thread.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await thread
        if self.pubsub is not None:
            await self.pubsub.aclose()
        if self.redis is not None:
            await self.redis.aclose()


async def close_socketio(sio: socketio.AsyncServer) -> None:
    """Stop Socket.IO's background work (call on application shutdown)."""
    await sio.shutdown()
    if isinstance(sio.manager, RedisManager):
        await sio.manager.close()


def make_socketio(config: Config, resolve: TokenResolver) -> socketio.AsyncServer:
    """A Socket.IO server on aiohttp; with Redis when several processes serve together."""
    manager = (
        RedisManager(config.redis_url, channel=config.redis_channel)
        if config.redis_url
        else FastManager()
    )
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=[config.public_url],
        max_http_buffer_size=config.ws_max_message_bytes,
    )
    install(sio, slow_client_bytes=config.ws_slow_client_bytes)

    @sio.event  # type: ignore[untyped-decorator]
    async def connect(sid: str, _environ: dict[str, Any], auth: Any) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise socketio.exceptions.ConnectionRefusedError(
                "Sign in first: connect with auth {token} from POST /api/auth/login."
            )
        principal = await resolve(token)
        if principal is None:
            raise socketio.exceptions.ConnectionRefusedError(
                "Your login token is invalid, expired or revoked; sign in again."
            )
        await sio.save_session(sid, {"person_id": principal.id})
        await sio.enter_room(sid, person_room(principal.id))

    return sio


async def notify_person(sio: socketio.AsyncServer, person_id: int, event: str, data: Any) -> None:
    """Send ``event`` to every connection of one person, on any server process."""
    await sio.emit(event, data, room=person_room(person_id))
