"""End to end in Chromium: scheduling with conflict warnings, the room followed from several
browsers, a guest from the public QR page through the lobby, and minutes approved and exported."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Page, expect

from tests.conftest import PASSWORD, Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, shot


async def test_staff_sign_in_schedule_a_session_and_see_the_conflict(
    cast: Cast, open_as: Opener
) -> None:
    booked = await create_session(cast)  # 2026-12-01 09:30–11:00 with 张委员 and the venue
    page = await open_as(None, "/#/login")
    await page.get_by_label("用户名").fill("staff")
    await page.get_by_label("密码").fill(PASSWORD)
    await shot(page, "01-login")
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="王秘书")).to_be_visible()

    await page.goto(page.url.split("#")[0] + "#/calendar?view=week&d=2026-12-01")
    await expect(page.get_by_role("link", name=booked["title"]).first).to_be_visible()
    await shot(page, "02-calendar-week")
    await page.get_by_role("link", name="月", exact=True).click()
    await expect(page.locator(".calendar.month")).to_be_visible()
    await shot(page, "03-calendar-month")

    await page.get_by_role("link", name="新建协商").click()
    await page.get_by_label("标题").fill("背街小巷改造微协商")
    await page.get_by_label("日期").fill("2026-12-01")
    await page.get_by_label("开始").fill("10:00")
    await page.get_by_label("结束").fill("10:45")
    await page.get_by_label("张委员", exact=True).check()
    warning = page.locator(".alert.warn")
    await expect(warning).to_contain_text("时间冲突")
    await expect(warning).to_contain_text("张委员")
    await expect(warning).to_contain_text(booked["title"])
    await shot(page, "04-schedule-conflict")
    refused = page.get_by_role("button", name="创建并发送邀请")
    await refused.click()
    await expect(page.locator("#toast")).to_contain_text(
        "时间冲突"
    )  # the server's words, in Chinese
    await page.get_by_label("仍然保留（记录由谁确认）").check()
    await refused.click()
    await expect(page.get_by_role("heading", name="背街小巷改造微协商")).to_be_visible()
    await expect(page.get_by_role("cell", name="张委员")).to_be_visible()
    await shot(page, "05-session")
    sessions = (await cast.staff.get("/api/sessions?limit=50")).body["items"]
    made = [s for s in sessions if s["title"] == "背街小巷改造微协商"]
    assert len(made) == 1 and made[0]["starts_at"] == "2026-12-01T02:00:00Z"


async def current_item(page: Page) -> str:
    return (await page.locator(".agenda li.current span").first.text_content()) or ""


async def test_the_host_drives_the_agenda_and_every_browser_follows(
    cast: Cast, open_as: Opener
) -> None:
    s = await create_session(cast)
    host = await open_as(cast.staff, f"/#/rooms/{s['id']}")
    member = await open_as(cast.member, f"/#/rooms/{s['id']}")
    unit = await open_as(cast.unit, f"/#/rooms/{s['id']}", lang="en")
    for page in (host, member, unit):
        await expect(page.locator(".tile")).to_have_count(3)
    await host.get_by_role("button", name="开始会议").click()
    for page in (member, unit):
        await expect(page.locator(".agenda li.current")).to_contain_text("承办单位介绍进展")
    await host.get_by_role("button", name="下一议题").click()
    for page in (host, member, unit):
        await expect(page.locator(".agenda li.current")).to_contain_text("协商交流")
    await member.get_by_role("button", name="举手").click()
    await expect(host.locator("#floor-h + ol")).to_contain_text("张委员")
    await host.get_by_role("button", name="请发言").click()
    for page in (member, unit):
        await expect(page.locator(".floor")).to_contain_text("张委员")
        await expect(page.locator(".tile.speaking")).to_contain_text("张委员")
    await expect(unit.get_by_role("heading", name="Speaker queue")).to_be_visible()
    await shot(host, "06-room-host")
    await shot(member, "07-room-member")
    await shot(unit, "08-room-unit-en")


async def test_a_guest_joins_from_the_public_page_waits_is_admitted_and_asks(
    cast: Cast, open_as: Opener
) -> None:
    s = await create_session(cast, kind="livelihood_hall", stage=None, visibility="public")
    host = await open_as(cast.staff, f"/#/sessions/{s['id']}")
    await expect(host.get_by_role("img", name="扫码参加链接")).to_be_visible()
    await shot(host, "09-session-public-qr")
    await host.get_by_role("link", name="进入会议室").click()
    await host.get_by_role("button", name="开始会议").click()

    guest = await open_as(None, f"/join/{s['id']}", phone=True)
    await guest.get_by_label("您的姓名").fill("市民 刘先生")
    await shot(guest, "10-join-phone")
    await guest.get_by_role("button", name="以来宾身份加入").click()
    await expect(guest.get_by_text("主持人准入后即可进入会议")).to_be_visible()
    await shot(guest, "11-lobby-phone")
    lobby = host.locator("#lobby-h + ul")
    await expect(lobby).to_contain_text("市民 刘先生")
    await lobby.get_by_role("button", name="准入").click()
    await expect(guest.locator(".agenda li.current")).to_contain_text("承办单位介绍进展")
    await guest.get_by_role("textbox", name="交流").fill("加装电梯的补贴什么时候到位？")
    await guest.get_by_role("button", name="发送").click()
    question = host.locator(".messages li.question")
    await expect(question).to_contain_text("加装电梯的补贴什么时候到位？")
    await question.get_by_role("button", name="标为已答复").click()
    await expect(guest.locator(".messages li.question")).to_contain_text("已答复")
    await shot(guest, "12-room-guest-phone")


async def test_minutes_are_reviewed_approved_and_exported_and_the_dossier_shows_them(
    cast: Cast, open_as: Opener
) -> None:
    proposal = await create_proposal(cast)
    s = await create_session(
        cast,
        proposal_ids=[proposal["id"]],
        agenda=[{"title": "办理进展", "proposal_id": proposal["id"], "planned_minutes": 20}],
    )
    host = await open_as(cast.staff, f"/#/rooms/{s['id']}")
    await host.get_by_role("button", name="开始会议").click()
    await expect(host.locator(".toolbar .badge").first).to_contain_text("进行中")
    await host.get_by_label("会议记录").fill("住建局介绍了试点进展。")
    await host.get_by_role("button", name="保存").click()
    await expect(host.get_by_text("已保存（第 1 版）")).to_be_visible()
    await host.get_by_label("议定事项").fill("扩大试点范围")
    await host.get_by_role("button", name="添加").first.click()
    await expect(host.locator("#minutes-h ~ ul").first).to_contain_text("扩大试点范围")
    host.once("dialog", lambda dialog: dialog.accept())  # ending asks for confirmation
    await host.get_by_role("button", name="结束会议").click()
    await expect(host.locator(".toolbar .badge")).to_contain_text("已结束")

    await host.goto(host.url.split("#")[0] + f"#/minutes/{s['id']}")
    await expect(host.get_by_label("办理进展 会议记录")).to_have_value("住建局介绍了试点进展。")
    await host.get_by_label("会议概况").fill("会议听取了办理进展汇报。")
    await host.get_by_role("button", name="保存").click()
    await expect(host.locator("h1 small")).to_contain_text("v2")
    await host.get_by_role("button", name="提交审核").click()
    await expect(host.locator("h1 .badge")).to_contain_text("审核中")
    await host.get_by_role("button", name="批准").click()
    await expect(host.locator("h1 .badge")).to_contain_text("已批准")
    await host.get_by_role("button", name="校验").click()
    await expect(host.get_by_text("版本链完整")).to_be_visible()
    await shot(host, "13-minutes-approved")
    async with host.expect_download() as download_info:
        await host.get_by_role("button", name="导出 .docx").click()
    download = await download_info.value
    path = await download.path()
    assert path is not None
    head = await asyncio.to_thread(lambda: Path(path).read_bytes()[:2])
    assert head == b"PK"  # a .docx is a zip
    assert download.suggested_filename.endswith(".docx")

    member = await open_as(cast.member, f"/#/proposals/{proposal['id']}")
    await expect(member.get_by_text("扩大试点范围")).to_be_visible()
    await shot(member, "14-dossier")
    home = await open_as(cast.member, "/#/")
    await expect(
        home.get_by_role("link", name=f"{proposal['number']} {proposal['title']}")
    ).to_be_visible()
    await shot(home, "15-home-member")
    listed = await open_as(cast.staff, "/#/proposals")
    await expect(listed.get_by_role("link", name=proposal["title"])).to_be_visible()
    await shot(listed, "16-proposals")
    stats = await open_as(cast.leader, "/#/stats")
    await expect(stats.locator(".kpi")).to_have_count(3)
    await shot(stats, "16-stats")


async def test_the_room_reconnects_by_itself_after_a_network_drop_and_says_so(
    cast: Cast, open_as: Opener
) -> None:
    s = await create_session(cast)
    host = await open_as(cast.staff, f"/#/rooms/{s['id']}")
    member = await open_as(cast.member, f"/#/rooms/{s['id']}")
    await expect(member.locator(".tile")).to_have_count(2)
    await member.context.set_offline(True)
    banner = member.locator("#banner")
    await expect(banner).to_contain_text("连接已断开", timeout=30000)
    await host.get_by_role("button", name="开始会议").click()  # happens while they are away
    await member.context.set_offline(False)
    await expect(banner).to_contain_text("已重新连接", timeout=30000)
    await expect(member.locator(".agenda li.current")).to_contain_text("承办单位介绍进展")
