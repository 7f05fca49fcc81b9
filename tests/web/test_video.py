"""Video in the browser through the embedded SFU: Chromium (fake camera) publishes to an aiortc
subscriber, and decodes an aiortc publisher's feed (``framesDecoded`` from ``getStats``)."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestServer
from playwright.async_api import expect

from tests.conftest import Cast
from tests.server.media.test_media import RED, Colour, Peer, until
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, shot


async def test_chromium_and_aiortc_see_each_other_through_the_server(
    cast: Cast, open_as: Opener, server: TestServer
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
    added = await host.client.wait_for(
        lambda: next(
            (
                e
                for e in host.client.events
                if e["type"] == "feed.add" and e["data"]["who"] == member_key
            ),
            None,
        ),
        seconds=15,
    )
    feed = added["data"]["feed_id"]
    await host.subscribe(feed)
    await until(lambda: len(host.video[feed]) >= 10, 20)  # the browser's camera, decoded here

    mine = await host.publish(Colour(RED))

    async def decoded() -> int:
        stats = await page.evaluate("window.xieshang.mediaStats()")
        return int(stats.get(mine, {}).get("framesDecoded", 0))

    for _ in range(200):
        if await decoded() > 10:
            break
        await asyncio.sleep(0.1)
    assert await decoded() > 10
    await expect(page.locator(f".tile[data-who='p:{cast.ids['staff']}'] video")).to_have_count(1)
    await host.client.command("recording.start")
    await expect(page.locator(".badge.recording")).to_contain_text("录制中")  # everyone is told
    await shot(page, "17-room-video")
    await host.client.command("recording.stop")
    await expect(page.locator(".badge.recording")).to_have_count(0)
    await host.close()


async def test_a_member_and_a_unit_see_each_others_video_from_two_browsers(
    cast: Cast, open_as: Opener
) -> None:
    s = await create_session(cast)
    host = await open_as(cast.staff, f"/#/rooms/{s['id']}")
    await host.get_by_role("button", name="开始会议").click()
    member = await open_as(cast.member, f"/#/rooms/{s['id']}")
    unit = await open_as(cast.unit, f"/#/rooms/{s['id']}")
    for page in (member, unit):
        await page.get_by_role("button", name="我已知悉，同意录制").click()  # may be recorded
        await page.get_by_role("button", name="开启摄像头").click()
    pairs = ((member, cast.ids["unit"]), (unit, cast.ids["member"]), (host, cast.ids["member"]))
    for page, other in pairs:
        tile = page.locator(f".tile[data-who='p:{other}'] video")
        await expect(tile).to_have_count(1, timeout=15000)

    async def frames(page: object, who: int) -> int:
        stats = await page.evaluate("window.xieshang.mediaStats()")  # type: ignore[attr-defined]
        return sum(v["framesDecoded"] for v in stats.values() if v["who"] == f"p:{who}")

    for page, other in pairs:
        for _ in range(150):
            if await frames(page, other) > 10:
                break
            await asyncio.sleep(0.1)
        assert await frames(page, other) > 10
    await shot(unit, "18-room-two-browsers")
