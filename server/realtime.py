"""The Socket.IO server: signed-in connections, and Redis fan-out across server processes.

The default namespace carries personal notices: each signed-in connection joins the room
``person:<id>``, so any server process can reach a person on whichever process they are
connected to. Live rooms get their own namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import socketio
from aiohttp import web
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from server import logs
from server.auth import Handler, TokenResolver
from server.config import Config
from server.fanout import SERVE_LATER, FastManager, FastRedisManager, install, stop_pings

log = logging.getLogger(__name__)
SIO = web.AppKey("sio", socketio.AsyncServer)


SOCKET_PATH = "/socket.io/"  # engine.io's endpoint (python-socketio's default)


def realtime_lane() -> Any:
    """A middleware, put first, by which a websocket to the realtime endpoint skips the others.

    A websocket's request lasts as long as its connection, hours in a session, and every
    middleware it passed keeps a suspended frame for that time: about 3 KB a connection, a tenth
    of what a hall of phones costs (``bench/fanout``). None of them does anything for it: the
    security headers are added after the handler returns, long after the 101 went out; the
    error, rate and login middlewares look at ``/api/`` only; the room namespace sets the audit
    origin of each connection itself; and engine.io checks the Origin. It keeps its request id
    (log lines). Once engine.io has made its handshake and returned, the lane serves the
    connection itself (``DirectWebSocket.serve``), so engine.io's frames don't wait
    either. Long-polling requests, short ones, take the usual way.
    """

    @web.middleware
    async def lane(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            request.path == SOCKET_PATH
            and request.headers.get("Upgrade", "").lower() == "websocket"
        ):
            logs.give_request_id(request)
            request[SERVE_LATER] = None
            response: web.StreamResponse = await request.match_info.handler(request)
            if (websocket := request[SERVE_LATER]) is not None:
                await websocket.serve()
            return response
        return await handler(request)

    return lane


def person_room(person_id: int) -> str:
    """The Socket.IO room every connection of one person joins."""
    return f"person:{person_id}"


RETRY_FIRST = 0.2  # seconds before listening again after losing Redis; doubles up to RETRY_MAX
RETRY_MAX = 2.0
# Takes over an emit's delivery to this process's clients: (namespace, event, room, data) →
# True when it delivered (or rightly dropped) the message itself.
Gate = Callable[[str, str, Any, Any], Awaitable[bool]]


class RedisManager(FastRedisManager):
    """python-socketio's Redis manager with the fast local fan-out, plus what it lacks: a clean
    shutdown, knowing whether it hears and reaches the other processes, and a gate through
    which a feature can order what this process delivers.

    Redis pub/sub delivers at most once: what is published while a process is not subscribed
    is gone, and stock python-socketio only logs that (and waits up to a minute, doubling from
    1 s, before listening again). Here the listener retries within ``RETRY_MAX``, and
    ``linked``, ``changed`` and ``unpublished`` tell the rooms when to catch up from their
    log (``server/rooms/emitters.py``).

    Reaches into python-socketio 5.18: it replaces ``_publish``, ``_redis_listen_with_retries``
    and ``_handle_emit`` and uses ``thread``, ``pubsub`` and ``redis``;
    ``tests/server/test_realtime.py`` fails if they move.
    """

    def __init__(self, url: str, *, channel: str) -> None:
        # No retries inside redis-py: it would reconnect and resubscribe the pub/sub connection
        # silently, and what was published meanwhile would be lost without anyone knowing.
        super().__init__(url, channel=channel, redis_options={"retry": Retry(NoBackoff(), 0)})
        self.redis: Any  # python-socketio's: the client, and the pub/sub of the listener
        self.pubsub: Any
        self.gate: Gate | None = None
        self.listening = False  # subscribed to the channel
        self.publishing = True  # the last publish since subscribing went through
        self.unpublished: set[tuple[str, str]] = set()  # (namespace, room) of lost emits
        self.changed = asyncio.Event()  # set whenever ``linked`` may have changed
        # After ``close`` nothing may open a connection again: redis-py would open a fresh one
        # from the closed pool on the next command, and nobody would ever close it.
        self.closed = False

    @property
    def linked(self) -> bool:
        """Whether this process both hears and reaches the other processes."""
        return self.listening and self.publishing

    def _set(self, *, listening: bool | None = None, publishing: bool | None = None) -> None:
        before = self.linked
        self.listening = self.listening if listening is None else listening
        self.publishing = self.publishing if publishing is None else publishing
        if self.linked != before:
            log.log(
                logging.INFO if self.linked else logging.WARNING,
                "redis: %s",
                "connected" if self.linked else "lost: degraded until it is back",
            )
            self.changed.set()

    async def _publish(self, data: Any) -> None:
        if self.closed:
            log.debug("redis: not publishing after shutdown (%s)", data.get("method"))
            return
        error: Exception | None = None
        for _attempt in range(2):  # a connection that dropped since the last publish fails once
            try:
                if self.redis is None:
                    self._redis_connect()
                await self.redis.publish(self.channel, self.json.dumps(data))
            except Exception as exc:
                error = exc
                continue
            self._set(publishing=True)
            return
        log.warning("redis: could not publish (%s)", error)
        if data.get("method") == "emit" and isinstance(data.get("room"), str):
            self.unpublished.add((data["namespace"], data["room"]))
        self._set(publishing=False)

    async def probe(self) -> None:
        """After a failed publish, find out whether Redis takes commands again."""
        if self.listening and not self.publishing and self.redis is not None and not self.closed:
            with contextlib.suppress(Exception):
                await self.redis.ping()
                self._set(publishing=True)

    async def _subscribe(self) -> Any:
        if self.closed:
            raise RuntimeError("the Redis manager is closed")
        if self.redis is None:
            self._redis_connect()
        if self.pubsub is not None:
            with contextlib.suppress(Exception):
                await self.pubsub.aclose()
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await self.pubsub.subscribe(self.channel)
        self._set(listening=True, publishing=True)
        return self.pubsub

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        delay = RETRY_FIRST
        while True:
            try:
                pubsub = await self._subscribe()
                delay = RETRY_FIRST
                async for message in pubsub.listen():
                    yield message
            except Exception as exc:
                log.warning("redis: not listening (%s); trying again in %.1f s", exc, delay)
            self._set(listening=False)
            await asyncio.sleep(delay)
            delay = min(2 * delay, RETRY_MAX)

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        data = message.get("data")
        if (
            self.gate is None
            or message.get("callback") is not None
            or message.get("skip_sid") is not None
            or message.get("binary")
            or not isinstance(data, list)
            or len(data) != 1
            or not await self.gate(
                message.get("namespace") or "/", message["event"], message.get("room"), data[0]
            )
        ):
            await super()._handle_emit(message)

    async def close(self) -> None:
        """Stop listening and close the Redis connections, for good: every step runs even when
        an earlier one fails, and nothing publishes or reconnects afterwards."""
        self.closed = True
        self._set(listening=False)
        thread = getattr(self, "thread", None)
        if thread is not None:
            thread.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await thread
        for client in (self.pubsub, self.redis):
            if client is not None:
                try:
                    await client.aclose()
                except Exception:
                    log.warning("redis: closing a connection failed", exc_info=True)


def start_socketio(sio: socketio.AsyncServer) -> None:
    """Start listening to the other processes now (call on application startup).

    python-socketio starts its Redis listener when the first client connects; until then this
    process would miss what the others publish, and its health would read degraded.
    """
    if not sio.manager_initialized:
        sio.manager_initialized = True
        sio.manager.initialize()


def redis_linked(sio: socketio.AsyncServer) -> bool | None:
    """Whether this process hears and reaches the others through Redis (None: no Redis)."""
    manager = sio.manager
    return manager.linked if isinstance(manager, RedisManager) else None


async def close_socketio(sio: socketio.AsyncServer) -> None:
    """Disconnect every client (call on application shutdown, before the services stop)."""
    await sio.shutdown()
    await stop_pings(sio)


async def close_redis(sio: socketio.AsyncServer) -> None:
    """Close the Redis manager (call after the services stopped: until then they may still
    publish, and a publish after closing would open a connection nobody closes)."""
    if isinstance(sio.manager, RedisManager):
        await sio.manager.close()


class OriginWatch:
    """Which browser origins may open Socket.IO connections, and one warning when people reach
    the server at another address than ``XIESHANG_PUBLIC_URL`` (the links it writes).

    A page's own origin (the ``Host`` it asked for) is always allowed: the room connects to the
    address the page came from, whatever the configured public URL says. Logins travel in the
    connection's ``auth`` payload, never in cookies, so another site cannot ride on them.
    """

    def __init__(self, public_url: str) -> None:
        self.public_url = public_url
        self.public_host = urlsplit(public_url).netloc
        self.warned = False

    def seen(self, origin: str) -> None:
        """A browser used ``origin``; warn once (per process) if the links point elsewhere.

        Only the host and port count: behind a TLS proxy the server itself sees plain HTTP."""
        if self.warned or urlsplit(origin).netloc == self.public_host:
            return
        self.warned = True
        log.warning(
            "Browsers reach this server at %s but XIESHANG_PUBLIC_URL is %s: the links in "
            "emails, calendar feeds and QR codes point there. Rooms still connect (same "
            "origin); set XIESHANG_PUBLIC_URL=%s if that is the address people use.",
            origin,
            self.public_url,
            origin,
        )

    def allows(self, origin: str | None, environ: dict[str, Any]) -> bool:
        """python-engineio's ``cors_allowed_origins`` callable."""
        if origin is None or origin == self.public_url:
            return True
        host = environ.get("HTTP_HOST", "")
        if host and origin in (f"http://{host}", f"https://{host}"):
            self.seen(origin)
            return True
        return False


ORIGINS = web.AppKey("origins", OriginWatch)


def make_socketio(
    config: Config, resolve: TokenResolver, origins: OriginWatch | None = None
) -> socketio.AsyncServer:
    """A Socket.IO server on aiohttp; with Redis when several processes serve together."""
    manager = (
        RedisManager(config.redis_url, channel=config.redis_channel)
        if config.redis_url
        else FastManager()
    )
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=(origins or OriginWatch(config.public_url)).allows,
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
