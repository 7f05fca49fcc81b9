"""Socket.IO: only signed-in people connect; with Redis, notices cross server processes."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest
import socketio
from aiohttp.test_utils import TestServer

from server.app import SIO, create_app
from server.config import Config
from server.realtime import RedisManager, notify_person
from tests.conftest import REDIS_URL, Cast


async def connect(server: TestServer, token: str | None) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    auth = {"token": token} if token is not None else {}
    await client.connect(
        str(server.make_url("")), auth=auth, transports=["websocket"], wait_timeout=5
    )
    return client


async def test_a_connection_without_a_valid_token_is_refused_with_a_reason(
    server: TestServer, cast: Cast
) -> None:
    for token in (None, "forged"):
        client = socketio.AsyncClient(reconnection=False)
        reasons: list[object] = []
        client.on("connect_error", reasons.append)
        auth = {"token": token} if token is not None else {}
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(
                str(server.make_url("")), auth=auth, transports=["websocket"], wait_timeout=5
            )
        assert reasons, "the server gave no reason"
        assert "sign in" in str(reasons[0]).lower()


async def test_a_notice_reaches_every_connection_of_that_person_only(
    server: TestServer, cast: Cast
) -> None:
    member, other = (
        await connect(server, cast.member.token),
        await connect(server, cast.member2.token),
    )
    got: asyncio.Queue[object] = asyncio.Queue()
    leaked: list[object] = []
    member.on("notice", got.put_nowait)
    other.on("notice", leaked.append)
    try:
        await notify_person(server.app[SIO], cast.ids["member"], "notice", {"text": "会议改期"})
        assert await asyncio.wait_for(got.get(), 5) == {"text": "会议改期"}
        await asyncio.sleep(0.2)
        assert leaked == []
    finally:
        await member.disconnect()
        await other.disconnect()


def test_the_python_socketio_internals_the_redis_manager_replaces_are_still_there() -> None:
    # RedisManager overrides these (server/realtime.py): renamed upstream, the overrides would
    # silently stop running, and a Redis outage would lose events again.
    for name in ("_publish", "_redis_listen_with_retries", "_handle_emit", "_redis_connect"):
        assert callable(getattr(socketio.AsyncRedisManager, name, None)), name
    manager = RedisManager("redis://127.0.0.1:1/0", channel="unused")
    assert manager.redis is None and manager.pubsub is None
    assert socketio.AsyncServer(client_manager=manager).manager_initialized is False


@pytest.fixture
async def second_server(config: Config) -> AsyncIterator[TestServer]:
    """Another server process's worth of app on the same database and Redis channel."""
    srv = TestServer(create_app(config), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.fixture
def config(config: Config) -> Config:
    if REDIS_URL is None:
        return config
    return dataclasses.replace(
        config, redis_url=REDIS_URL, redis_channel=f"test-{uuid.uuid4().hex}"
    )


@pytest.mark.redis
async def test_with_redis_a_notice_sent_by_one_process_reaches_a_client_of_another(
    server: TestServer, second_server: TestServer, cast: Cast, anon: object
) -> None:
    health = await cast.anon.get("/api/health")
    assert health.body["redis"] == "ok"
    client = await connect(server, cast.member.token)
    got: asyncio.Queue[object] = asyncio.Queue()
    client.on("notice", got.put_nowait)
    try:
        await asyncio.sleep(0.3)  # let both managers subscribe
        await notify_person(second_server.app[SIO], cast.ids["member"], "notice", {"n": 1})
        assert await asyncio.wait_for(got.get(), 5) == {"n": 1}
        manager = server.app[SIO].manager
        assert isinstance(manager, RedisManager)
        # RedisManager.close relies on these python-socketio internals: fail loudly if they move.
        assert isinstance(manager.thread, asyncio.Task)
        assert manager.pubsub is not None
        assert manager.redis is not None
    finally:
        await client.disconnect()


def _open_connections(manager: RedisManager) -> int:
    pool = manager.redis.connection_pool
    live = [*pool._available_connections, *pool._in_use_connections]
    return sum(1 for connection in live if connection.is_connected)


@pytest.mark.redis
async def test_a_closed_redis_manager_opens_no_connection_again() -> None:
    """Services that stop after the manager closed (a room's last broadcast, a health probe)
    must not reopen a connection: redis-py would take a fresh one from the closed pool, nobody
    would close it, and it would surface later as an unclosed socket on a dead event loop."""
    assert REDIS_URL is not None
    manager = RedisManager(REDIS_URL, channel=f"test-{uuid.uuid4().hex}")
    socketio.AsyncServer(client_manager=manager)
    await manager.emit("notice", {"n": 1}, namespace="/", room="person:1")
    assert manager.publishing and _open_connections(manager) == 1

    await manager.close()
    assert _open_connections(manager) == 0
    manager.publishing = False  # as after a failed publish: the probe would ping
    manager.listening = True
    await manager.emit("notice", {"n": 2}, namespace="/", room="person:1")
    await manager.probe()
    assert _open_connections(manager) == 0
