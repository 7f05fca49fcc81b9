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
