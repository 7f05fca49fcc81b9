"""The web client on the Janus tier: Chromium publishes its fake camera through Janus, and when
that Janus is killed the page publishes again by itself (``rtc.restart``) on the other one."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import expect

from server.config import Config
from tests.conftest import Cast
from tests.server.media.janus_setup import (  # noqa: F401  (fixtures)
    JanusProcess,
    janus_fixture,
    shim_fixture,
)
from tests.server.media.test_janus import placed_on
from tests.server.media.test_media import Peer, until
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener


@pytest.fixture
def config(config: Config, janus: list[JanusProcess]) -> Config:
    return config.with_changes(
        janus_urls=tuple(j.url for j in janus),
        janus_api_secret=janus[0].api_secret,
        janus_admin_key=janus[0].admin_key,
    )


def feeds_of(client: RoomClient, who: str) -> list[str]:
    return [
        e["data"]["feed_id"]
        for e in client.events
        if e["type"] == "feed.add" and e["data"]["who"] == who
    ]


async def test_a_browser_publishes_through_janus_and_again_when_its_janus_dies(
    cast: Cast, open_as: Opener, server: TestServer, janus: Any
) -> None:
    s = await create_session(cast)
    sid = s["id"]
    host = Peer(
        await RoomClient(
            str(server.make_url("")), {"token": cast.staff.token, "session_id": sid}
        ).connect()
    )
    await host.client.command("session.start")
    page = await open_as(cast.member, f"/#/rooms/{sid}")
    await page.get_by_role("button", name="我已知悉，同意录制").click()  # may be recorded
    await page.get_by_role("button", name="开启摄像头").click()
    await expect(page.get_by_role("button", name="关闭摄像头")).to_be_visible(timeout=15000)
    member_key = f"p:{cast.ids['member']}"
    first = (await host.client.wait_for(lambda: feeds_of(host.client, member_key), 15))[0]
    await host.subscribe(first)
    await until(lambda: len(host.video[first]) >= 10, 20)  # the browser's camera, via Janus
    url = await placed_on(server, sid)
    dead = next(j for j in janus if j.url == url)
    dead.kill()
    feeds = await host.client.wait_for(
        lambda: len(feeds_of(host.client, member_key)) == 2 and feeds_of(host.client, member_key),
        15,
    )
    again = feeds[-1]  # the page published again, with no one clicking anything
    for pc in host.pcs:
        await pc.close()
    await host.subscribe(again)
    await until(lambda: len(host.video[again]) >= 10, 20)
    await expect(page.get_by_role("button", name="关闭摄像头")).to_be_visible()
    await host.close()
