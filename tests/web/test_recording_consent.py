"""Consent to recording in the browser (issue 19): a member of a ``recording: ask`` session sees
the notice (phone and desktop), cannot turn the camera on before answering, accepts and
publishes; a guest in a hall that records declines and still asks a question in writing; a host
who starts recording an unrecorded session asks first, and a publisher's media stops until they
accept."""

from __future__ import annotations

from aiohttp.test_utils import TestServer
from playwright.async_api import expect

from tests.conftest import Cast
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, axe, shot
from tests.web.test_room_controls import guest_joins

NOTICE = "录制提示"
ACCEPT = "我已知悉，同意录制"
DECLINE = "不同意（仅观看和文字提问）"


async def test_a_member_acknowledges_the_notice_then_publishes(
    cast: Cast, open_as: Opener, server: TestServer
) -> None:
    s = await create_session(cast)  # 办理协商: the template says recording: ask
    assert s["recording"] == "ask"
    sid = s["id"]
    host = await RoomClient(
        str(server.make_url("")), {"token": cast.staff.token, "session_id": sid}
    ).connect()
    assert (await host.command("session.start"))["ok"]
    phone = await open_as(cast.member, f"/#/rooms/{sid}", phone=True)
    notice = phone.get_by_role("region", name=NOTICE)
    await expect(notice).to_be_visible()
    await expect(phone.get_by_role("button", name="开启摄像头")).to_be_disabled()
    assert await axe(phone) == []
    await shot(phone, "19-consent-notice-phone")
    await phone.close()

    page = await open_as(cast.member, f"/#/rooms/{sid}")
    await expect(page.get_by_role("region", name=NOTICE)).to_be_visible()
    assert await axe(page) == []
    await shot(page, "19-consent-notice-desktop")
    await page.get_by_role("button", name=ACCEPT).click()
    await expect(page.get_by_role("region", name=NOTICE)).to_have_count(0)
    await page.get_by_role("button", name="开启摄像头").click()
    await expect(page.get_by_role("button", name="关闭摄像头")).to_be_visible(timeout=15000)
    member = f"p:{cast.ids['member']}"
    consent = await host.wait_for(
        lambda: next((e for e in host.events if e["type"] == "recording.consent"), None)
    )
    assert consent["data"] == {"who": member, "name": "张委员", "answer": "accepted"}
    await host.wait_for(lambda: any(e["type"] == "feed.add" for e in host.events), 15)
    await shot(page, "19-consent-accepted-publishing")
    assert (await host.command("session.end"))["ok"]
    await host.close()
    minutes = await open_as(cast.staff, f"/#/minutes/{sid}")
    record = minutes.get_by_role("region", name="录制知情确认")
    await expect(record).to_contain_text("张委员：已确认")
    assert await axe(minutes) == []
    await shot(minutes, "19-consent-in-minutes")


async def test_a_guest_who_declines_still_watches_and_asks_in_writing(
    cast: Cast, open_as: Opener, server: TestServer
) -> None:
    s = await create_session(
        cast, kind="livelihood_hall", stage=None, visibility="public", agenda=[{"title": "提问"}]
    )
    assert s["recording"] == "on"
    sid = s["id"]
    host = await RoomClient(
        str(server.make_url("")), {"token": cast.staff.token, "session_id": sid}
    ).connect()
    assert (await host.command("session.start"))["ok"]
    guest = await guest_joins(open_as, sid, "市民 刘先生")
    await host.wait_for(lambda: "lobby.enter" in host.types())
    assert (await host.command("lobby.admit_all"))["ok"]
    await expect(guest.get_by_role("region", name=NOTICE)).to_be_visible(timeout=10000)
    await guest.get_by_role("button", name=DECLINE).click()
    declined = guest.locator(".consent-declined")
    await expect(declined).to_contain_text("您未同意录制")
    await guest.get_by_role("textbox", name="交流").fill("加装电梯补贴何时发放？")
    await guest.get_by_role("button", name="发送").click()
    asked = await host.wait_for(
        lambda: next((e for e in host.events if e["type"] == "chat.send"), None)
    )
    assert asked["data"]["kind"] == "question" and asked["data"]["text"] == "加装电梯补贴何时发放？"
    answers = [e["data"]["answer"] for e in host.events if e["type"] == "recording.consent"]
    assert answers == ["declined"]
    await expect(guest.locator(".messages")).to_contain_text("加装电梯补贴何时发放？")
    assert await axe(guest) == []
    await shot(guest, "19-consent-guest-declined-phone")
    await host.close()


async def test_a_host_who_starts_recording_mid_session_asks_first_and_unacknowledged_media_stops(
    cast: Cast, open_as: Opener
) -> None:
    s = await create_session(cast, recording="off")
    sid = s["id"]
    host = await open_as(cast.staff, f"/#/rooms/{sid}")
    await host.get_by_role("button", name="开始会议").click()
    member = await open_as(cast.member, f"/#/rooms/{sid}")
    await expect(member.get_by_role("region", name=NOTICE)).to_have_count(0)  # not recorded
    await member.get_by_role("button", name="开启摄像头").click()
    await expect(member.get_by_role("button", name="关闭摄像头")).to_be_visible(timeout=15000)
    tile = f".tile[data-who='p:{cast.ids['member']}'] video"
    await expect(host.locator(tile)).to_have_count(1, timeout=15000)

    await host.get_by_role("button", name="开始录制").click()  # asks everyone first
    await expect(member.get_by_role("region", name=NOTICE)).to_be_visible()
    await expect(member.get_by_role("button", name="开启摄像头")).to_be_disabled()
    await expect(host.locator(tile)).to_have_count(0, timeout=10000)  # its media stopped
    await shot(member, "19-consent-asked-mid-session")
    await member.get_by_role("button", name=ACCEPT).click()
    if not await host.locator(".badge.recording").count():  # refused while the feed was ending
        await host.get_by_role("button", name="开始录制").click()
    await expect(host.locator(".badge.recording")).to_be_visible()
    await member.get_by_role("button", name="开启摄像头").click()
    await expect(host.locator(tile)).to_have_count(1, timeout=15000)
