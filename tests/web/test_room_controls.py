"""End to end in Chromium: a host runs a public hall (admit all, agenda jump and addition, a poll
with a guest voting and the live count, mute, remove with confirmation, the join QR code full
screen), and a scribe's action item owned by a unit reaches that unit's follow-up page after the
minutes are approved (issue 17)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from playwright.async_api import Page, expect

from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, axe, shot


def accept_next_dialog(page: Page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())


async def guest_joins(open_as: Opener, session_id: int, name: str, *, check: bool = False) -> Page:
    guest = await open_as(None, f"/join/{session_id}", phone=True)
    if check:  # the join page says which meeting, and passes axe
        await expect(guest.locator(".meeting")).to_contain_text("民生议政厅：加装电梯")
        assert await axe(guest) == []
        await shot(guest, "16-join-phone-with-meeting")
    await guest.get_by_label("您的姓名").fill(name)
    await guest.get_by_role("button", name="以来宾身份加入").click()
    return guest


async def test_a_host_runs_a_public_hall_with_every_control(cast: Cast, open_as: Opener) -> None:
    s = await create_session(
        cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        title="民生议政厅：加装电梯",
        topic="老旧小区加装电梯的补贴与审批",
        agenda=[
            {"title": "议题介绍", "planned_minutes": 10},
            {"title": "群众代表提问", "planned_minutes": 30},
            {"title": "部门现场回应"},
        ],
    )
    sid = s["id"]
    host = await open_as(cast.staff, f"/#/rooms/{sid}")
    member = await open_as(cast.member, f"/#/rooms/{sid}")
    await host.get_by_role("button", name="开始会议").click()
    await expect(host.locator(".agenda li.current")).to_contain_text("议题介绍")
    await expect(member.locator(".badge.recording")).to_be_visible()  # a hall records: "on"

    # Three guests wait in the lobby; the host sees how many and lets them all in at once.
    first = await guest_joins(open_as, sid, "市民 刘先生", check=True)
    await expect(first.get_by_text("主持人准入后即可进入会议")).to_be_visible()
    meeting = first.locator(".meeting")
    await expect(meeting).to_contain_text("民生议政厅：加装电梯")
    await expect(meeting).to_contain_text("老旧小区加装电梯的补贴与审批")
    await expect(meeting).to_contain_text("政协第一会议室")
    await shot(first, "17-lobby-phone-with-meeting")
    assert await axe(first) == []
    guests = [first, *[await guest_joins(open_as, sid, f"市民{i}") for i in (2, 3)]]
    await expect(host.get_by_role("status").filter(has_text="等候 3 人")).to_be_visible()
    await host.get_by_role("button", name="全部准入").click()
    for guest in guests:
        await expect(guest.locator(".agenda li.current")).to_contain_text("议题介绍")
    await expect(host.get_by_text("等候 3 人")).to_have_count(0)

    # Agenda: jump to the third item, add one.
    await host.get_by_role("button", name="转到此议题：部门现场回应").click()
    for page in (member, first):
        await expect(page.locator(".agenda li.current")).to_contain_text("部门现场回应")
    await host.get_by_label("议题名称").fill("临时动议：补贴发放")
    await host.get_by_label("计划分钟").fill("5")
    await host.get_by_role("button", name="增加议题").click()
    await expect(first.locator(".agenda")).to_contain_text("临时动议：补贴发放")

    # A poll guests may vote in: a guest and the member vote, everyone sees the count, then
    # the results.
    await host.get_by_label("表决事项").fill("是否同意优先安排加装电梯？")
    await host.get_by_label("选项（每行一个）").fill("同意\n不同意")
    await host.get_by_label("来宾可参加表决").check()
    await host.get_by_role("button", name="发起表决").click()
    ballot = first.locator(".ballot")
    await ballot.get_by_label("同意", exact=True).check()
    await ballot.get_by_role("button", name="投票").click()
    await expect(host.locator(".poll").first).to_contain_text("已有 1 人投票")
    await member.locator(".ballot").get_by_label("不同意", exact=True).check()
    await member.locator(".ballot").get_by_role("button", name="投票").click()
    for page in (host, guests[1]):
        await expect(page.locator(".poll").first).to_contain_text("已有 2 人投票")
    await shot(host, "18-room-host-poll-open")
    await host.get_by_role("button", name="结束表决").click()
    for page in (host, member, *guests):
        await expect(page.locator(".poll").first).to_contain_text("表决结果（2 人投票）")
    await expect(first.locator(".poll [data-result='0']")).to_have_text("1")

    # Mute the member; remove a guest after confirming.
    people = host.locator("#people-h + ul")
    await people.get_by_role("button", name="静音：张委员").click()
    await expect(member.locator(".tile.muted")).to_contain_text("张委员")
    await people.get_by_role("button", name="取消静音：张委员").click()
    await expect(member.locator(".tile.muted")).to_have_count(0)
    host.once("dialog", lambda dialog: dialog.dismiss())
    await people.get_by_role("button", name="移出：市民3").click()
    await expect(guests[2].locator(".agenda")).to_be_visible()  # dismissed: still inside
    accept_next_dialog(host)
    await people.get_by_role("button", name="移出：市民3").click()
    await expect(guests[2].get_by_text("您已被移出本次会议")).to_be_visible()

    # The floor holder is told, with the time left; the host extends the turn.
    await member.get_by_role("button", name="举手").click()
    await host.locator("#floor-h + ol").get_by_role("button", name="请发言").click()
    await expect(member.locator(".floor-mine")).to_contain_text("您正在发言，剩余")
    await host.get_by_role("button", name="发言延长 1 分钟").click()
    # 180 s granted, 60 more: just under four minutes left.
    await expect(member.locator(".floor-mine")).to_contain_text(re.compile(r"剩余 (4:00|3:5\d)"))

    await shot(host, "19-room-host")
    await shot(first, "20-room-guest-phone")
    assert await first.evaluate("document.documentElement.scrollWidth") <= 390
    assert await axe(host) == []

    # The join QR code full screen.
    await host.get_by_role("button", name="全屏显示扫码参加二维码").click()
    dialog = host.get_by_role("dialog")
    await expect(dialog.get_by_role("img", name="扫码参加")).to_be_visible()
    await shot(host, "21-room-qr-full")
    await dialog.get_by_role("button", name="关闭").click()
    await expect(host.get_by_role("dialog")).to_have_count(0)

    # Ending asks first; an ended room links to its minutes.
    host.once("dialog", lambda dialog: dialog.dismiss())
    await host.get_by_role("button", name="结束会议").click()
    await expect(host.locator(".toolbar .badge").first).to_contain_text("进行中")
    accept_next_dialog(host)
    await host.get_by_role("button", name="结束会议").click()
    await host.get_by_role("link", name="查看会议纪要").click()
    polls = host.locator("section[aria-labelledby=polls-m-h]")
    await expect(polls).to_contain_text("是否同意优先安排加装电梯？：同意 1，不同意 1")


async def scribe_session(cast: Cast) -> tuple[dict[str, Any], dict[str, Any]]:
    proposal = await create_proposal(cast)
    s = await create_session(
        cast,
        proposal_ids=[proposal["id"]],
        agenda=[{"title": "办理进展", "proposal_id": proposal["id"], "planned_minutes": 20}],
    )
    return proposal, s


async def test_a_scribes_action_item_reaches_the_owner_units_follow_ups(
    cast: Cast, open_as: Opener
) -> None:
    proposal, s = await scribe_session(cast)
    before = (await cast.staff.get(f"/api/proposals/{proposal['id']}")).body["compliance"]
    assert before["during"] == 0, before
    host = await open_as(cast.staff, f"/#/rooms/{s['id']}")
    asked: list[str] = []

    async def decline(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.dismiss()

    host.once("dialog", decline)  # a handling session asks whether to record it
    await host.get_by_role("button", name="开始会议").click()
    await expect(host.locator(".toolbar .badge").first).to_contain_text("进行中")
    for _ in range(100):  # the question comes once the start is acknowledged
        if asked:
            break
        await asyncio.sleep(0.05)
    assert asked and "录制" in asked[0]
    await expect(host.locator(".badge.recording")).to_have_count(0)
    panel = host.locator("section[aria-labelledby=minutes-h]")
    await panel.get_by_label("议定事项").fill("年内完成试点小区加装")
    await panel.get_by_role("button", name="添加").first.click()
    await expect(panel).to_contain_text("年内完成试点小区加装")
    await panel.get_by_label("落实事项").fill("制定补贴细则")
    await panel.get_by_label("责任单位").select_option(label="市住房和城乡建设局")
    await panel.get_by_label("完成时限").fill("2027-03-31")
    await panel.locator(".action-add").get_by_role("button", name="添加").click()
    await expect(panel.locator(".actions-list")).to_contain_text("责任单位：市住房和城乡建设局")
    await expect(panel.locator(".actions-list")).to_contain_text("2027-03-31")
    await panel.get_by_label("落实事项：制定补贴细则 完成时限").fill("2027-03-15")
    await panel.get_by_role("button", name="更新").click()
    await expect(panel.locator(".actions-list")).to_contain_text("2027-03-15")
    accept_next_dialog(host)
    await host.get_by_role("button", name="结束会议").click()
    await host.get_by_role("link", name="查看会议纪要").click()

    # The minutes editor: every field, the action item's owner and due kept and editable.
    owner = host.get_by_label("办理进展 落实事项 1 责任单位")
    await expect(owner).to_have_value(str(cast.unit_ids["a"]))
    await expect(host.get_by_label("办理进展 落实事项 1 完成时限")).to_have_value("2027-03-15")
    await host.get_by_label("办理进展 落实事项 1 完成时限").fill("2027-04-30")
    await host.get_by_role("button", name="添加落实事项（办理进展）").click()
    await host.get_by_label("办理进展 落实事项 2 落实事项内容").fill("教育局配合宣传")
    await host.get_by_label("办理进展 落实事项 2 责任单位").select_option(label="市教育局")
    await host.get_by_label("张委员 列入").select_option(label="列席")
    assert await axe(host) == []
    await shot(host, "22-minutes-editor")
    await host.get_by_role("button", name="保存").click()
    await expect(host.locator("h1 small")).to_contain_text("v2")
    await expect(host.get_by_label("办理进展 落实事项 1 完成时限")).to_have_value("2027-04-30")
    await expect(host.get_by_label("张委员 列入")).to_have_value("attending")
    await host.get_by_role("button", name="提交审核").click()
    await expect(host.locator("h1 .badge")).to_contain_text("审核中")
    await host.get_by_role("button", name="批准").click()
    await expect(host.locator("h1 .badge")).to_contain_text("已批准")
    steps = host.locator(".steps")
    await expect(steps).to_contain_text("审核中：王秘书")
    await expect(steps).to_contain_text("已批准：王秘书")
    await expect(steps).to_contain_text("根据会议室记录生成")
    await shot(host, "23-minutes-approved-steps")

    unit = await open_as(cast.unit, "/#/follow-ups")
    items = unit.locator("li[data-follow-up]")
    row = items.filter(has_text="制定补贴细则")
    await expect(row).to_contain_text("2027-04-30")
    await expect(items.filter(has_text="教育局配合宣传")).to_have_count(0)
    await row.get_by_label("完成情况说明").fill("细则已印发")
    await row.get_by_role("button", name="标为已完成").click()
    await expect(row.get_by_role("button")).to_have_count(0)
    await expect(row).to_contain_text("已完成")
    await shot(unit, "24-follow-ups-unit")
    other = await open_as(cast.unit2, "/#/follow-ups")
    await expect(
        other.locator("li[data-follow-up]").filter(has_text="教育局配合宣传")
    ).to_be_visible()
    # The held in-person session counts for the proposal's stage "during" (办中面商).
    held = (await cast.staff.get(f"/api/proposals/{proposal['id']}")).body["compliance"]
    assert held["during"] == 1, held


async def test_the_minutes_editor_in_english_at_phone_width(cast: Cast, open_as: Opener) -> None:
    _proposal, s = await scribe_session(cast)
    host = await open_as(cast.staff, f"/#/rooms/{s['id']}")

    async def answer(dialog: Any) -> None:
        # The recording question comes once the start is acknowledged, which may be after the
        # end button's click: say no to recording and yes to ending, whichever comes first.
        await (dialog.dismiss() if "录制" in dialog.message else dialog.accept())

    host.on("dialog", answer)
    await host.get_by_role("button", name="开始会议").click()
    await expect(host.locator(".toolbar .badge").first).to_contain_text("进行中")
    await host.get_by_role("button", name="结束会议").click()
    await expect(host.get_by_role("link", name="查看会议纪要")).to_be_visible()
    page = await open_as(cast.staff, f"/#/minutes/{s['id']}", phone=True, lang="en")
    await expect(page.get_by_text("Assembled from the room")).to_be_visible()
    await expect(page.get_by_role("heading", name="Attendance")).to_be_visible()
    await page.get_by_role("button", name="Add an item").click()
    await page.get_by_label("Item 2").fill("Any other business")
    await page.get_by_label("New item Notes").fill("Next meeting in spring.")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("h1 small")).to_contain_text("v2")
    await expect(page.get_by_role("heading", name="2. Any other business")).to_be_visible()
    await page.get_by_role("button", name="Remove the item: Any other business").click()
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("h1 small")).to_contain_text("v3")
    await expect(page.get_by_role("heading", name="2. Any other business")).to_have_count(0)
    assert await axe(page) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    await shot(page, "25-minutes-editor-phone-en")


async def test_with_lobby_none_a_guest_enters_the_room_directly(
    cast: Cast, open_as: Opener
) -> None:
    s = await create_session(
        cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        lobby="none",
        title="民生议政厅：加装电梯",
        agenda=[{"title": "议题介绍"}],
    )
    host = await open_as(cast.staff, f"/#/rooms/{s['id']}")
    await host.get_by_role("button", name="开始会议").click()
    guest = await guest_joins(open_as, s["id"], "市民 周女士")
    await expect(guest.locator(".agenda li.current")).to_contain_text("议题介绍")
    await expect(guest.get_by_text("主持人准入后即可进入会议")).to_have_count(0)
    await expect(host.locator("#people-h + ul")).to_contain_text("市民 周女士")
    await expect(host.locator("#lobby-h")).to_contain_text("（0）")
    phone = await open_as(cast.staff, f"/#/rooms/{s['id']}", phone=True)
    await expect(phone.locator(".agenda li.current")).to_contain_text("议题介绍")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert await axe(phone) == []
    await shot(phone, "26-room-host-phone")
