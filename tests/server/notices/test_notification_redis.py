"""With several server processes (Redis between them), a change made through one process
pushes the unread count to a page connected to another."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.config import Config
from server.notices.delivery import EVENT
from tests.conftest import REDIS_URL, ApiClient, Cast
from tests.server.notices.test_notification_delivery import connect
from tests.server.notices.test_notifications import step
from tests.server.proposals.test_proposals_api import create


@pytest.fixture
def config(config: Config) -> Config:
    if REDIS_URL is None:
        return config
    return dataclasses.replace(
        config, redis_url=REDIS_URL, redis_channel=f"test-{uuid.uuid4().hex}"
    )


@pytest.fixture
async def second_server(config: Config) -> AsyncIterator[TestServer]:
    """Another server process's worth of app on the same database and Redis channel."""
    srv = TestServer(create_app(config), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.mark.redis
async def test_a_change_through_one_process_is_pushed_to_a_page_on_another(
    server: TestServer, second_server: TestServer, cast: Cast
) -> None:
    client = await connect(server, cast.member.token)
    got: asyncio.Queue[object] = asyncio.Queue()
    client.on(EVENT, got.put_nowait)
    staff = ApiClient(
        cast.staff.http, str(second_server.make_url("")).rstrip("/"), cast.staff.token
    )
    try:
        await asyncio.sleep(0.3)  # let both managers subscribe
        proposal = await create(cast, "2026-0261")
        await step(staff, proposal["id"], "filed")  # through the other process
        assert await asyncio.wait_for(got.get(), 5) == {"unread": 1}
    finally:
        await client.disconnect()
