"""Issue 19 in Chromium: a poll with quorum end to end (voters, threshold, live 应到/实到/投票,
the result in words), and the hall display at /hall/{id}: opened with the hall-device pass,
large and read-only at 1920×1080 and 1280×720, following the room live and catching up by
itself after the network drops."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from tests.conftest import Cast
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, axe, shot


async def test_a_poll_with_quorum_end_to_end(cast: Cast, open_as: Opener) -> None:
    s = await create_session(cast, title="加装电梯办理协商")
    sid = s["id"]
    host = await open_as(cast.staff, f"/#/rooms/{sid}")
    member = await open_as(cast.member, f"/#/rooms/{sid}")
    unit = await open_as(cast.unit, f"/#/rooms/{sid}")
    await host.get_by_role("button", name="开始会议").click()
    await expect(member.locator(".agenda li.current")).to_contain_text("承办单位介绍进展")

    form = host.locator("form.poll-form")
    await form.get_by_label("表决事项").fill("是否同意办理方案？")
    await form.get_by_label("选项（每行一个）").fill("同意\n不同意")
    await form.get_by_label("领导").uncheck()
    await form.get_by_label("委员").uncheck()
    await form.get_by_label("通过规则").select_option("two_thirds")
    await expect(form).to_contain_text("法定人数：过半数应到人员出席")
    await form.get_by_role("button", name="发起表决").click()

    poll = member.locator(".poll").first
    await expect(poll.locator("[data-count=eligible] b")).to_have_text("2")  # proposer, unit
    await expect(poll.locator("[data-count=present] b")).to_have_text("2")
    await expect(poll.locator("[data-count=voted] b")).to_have_text("0")
    await expect(poll).to_contain_text("赞成票达到投票人数的三分之二")
    await expect(host.locator(".poll .ballot")).to_have_count(0)  # the host is not a voter
    await poll.get_by_label("同意", exact=True).check()
    await poll.get_by_role("button", name="投票").click()
    await expect(host.locator(".poll [data-count=voted] b").first).to_have_text("1")
    upoll = unit.locator(".poll").first
    await upoll.get_by_label("同意", exact=True).check()
    await upoll.get_by_role("button", name="投票").click()
    await expect(host.locator(".poll [data-count=voted] b").first).to_have_text("2")
    await shot(host, "19-room-poll-quorum-live")
    assert await axe(host) == []
    await host.get_by_role("button", name="结束表决").click()
    for page in (host, member, unit):
        outcome = page.locator(".poll .outcome").first
        await expect(outcome).to_contain_text("应到 2 人，实到 2 人，投票 2 人")
        await expect(outcome).to_contain_text("达到法定人数（过半数应到人员出席）")
        await expect(outcome).to_contain_text("赞成票达到投票人数的三分之二：已通过")
    await host.locator(".poll details summary").first.click()  # a named ballot: who voted what
    await expect(host.locator(".poll details").first).to_contain_text("张委员：同意")

    # A point of order goes ahead of a raised hand, marked 程序性发言; hosts see speaking time.
    await unit.get_by_role("button", name="举手").click()
    await member.get_by_role("button", name="申请程序性发言").click()
    queue = host.locator("section[aria-labelledby=floor-h] ol li")
    await expect(queue.first).to_contain_text("张委员")
    await expect(queue.first).to_contain_text("程序性发言")
    await expect(queue.nth(1)).to_contain_text("赵处长")
    await queue.first.get_by_role("button", name="请发言").click()
    await expect(host.locator(".speaking-times")).to_contain_text(
        re.compile(r"张委员\s*0分0[1-9]秒")
    )
    await expect(member.locator(".speaking-times")).to_have_count(0)
    await shot(host, "19-room-point-of-order-and-speaking-time")
    assert await axe(host) == []

    # The minutes say it in words, in either language, with each person's speaking time.
    await host.get_by_role("button", name="收回").click()
    ending = await RoomClient(
        url_of(host), {"token": cast.staff.token, "session_id": sid}
    ).connect()
    try:
        assert (await ending.command("session.end"))["ok"]
    finally:
        await ending.close()
    record = await open_as(cast.staff, f"/#/minutes/{sid}")
    polls = record.locator("section[aria-labelledby=polls-m-h]")
    await expect(polls).to_contain_text("达到法定人数（过半数应到人员出席）")
    await expect(polls).to_contain_text("赞成票达到投票人数的三分之二：已通过")
    await expect(polls).to_contain_text("张委员：同意")
    await expect(record.locator(".speaking").first).to_contain_text(
        re.compile(r"发言时长：张委员 0分\d\d秒")
    )
    await shot(record, "19-minutes-poll-and-speaking")
    english = await open_as(cast.staff, f"/#/minutes/{sid}", lang="en")
    polls = english.locator("section[aria-labelledby=polls-m-h]")
    await expect(polls).to_contain_text("quorum met (more than half present)")
    await expect(polls).to_contain_text("two thirds of the votes cast in favour")


def url_of(page: Any) -> str:
    return str(page.url).split("/#")[0]


async def hall_page(
    browser: Browser, server: TestServer, path: str, width: int, height: int
) -> Any:
    context = await browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    await context.add_init_script("localStorage.setItem('xs.lang', 'zh-CN');")
    page = await context.new_page()
    await page.goto(str(server.make_url(path)))
    return context, page


async def test_the_hall_display_follows_the_room_and_recovers_after_a_drop(
    cast: Cast, browser: Browser, server: TestServer, open_as: Opener
) -> None:
    s = await create_session(
        cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        title="民生议政厅：加装电梯",
        agenda=[
            {"title": "议题介绍", "planned_minutes": 10},
            {"title": "群众代表提问", "planned_minutes": 30},
        ],
    )
    sid = s["id"]
    # Staff issue the hall-device pass on the session's page, which links the display with it.
    staff = await open_as(cast.staff, f"/#/sessions/{sid}")
    await staff.get_by_role("button", name="生成会场设备二维码").click()
    link = staff.get_by_role("link", name="在本机打开会议大屏")
    display = await link.get_attribute("href")
    assert display is not None and display.startswith(f"/hall/{sid}#pass=")
    token = display.split("#pass=")[1]
    url = str(server.make_url(""))
    host = await RoomClient(url, {"token": cast.staff.token, "session_id": sid}).connect()
    member = await RoomClient(url, {"token": cast.member.token, "session_id": sid}).connect()
    unit = await RoomClient(url, {"token": cast.unit.token, "session_id": sid}).connect()
    contexts = []
    try:
        # Without the pass the page asks for it (and shows nothing of the room).
        bare, page = await hall_page(browser, server, f"/hall/{sid}", 1280, 720)
        contexts.append(bare)
        await expect(page.get_by_label("大屏通行证")).to_be_visible()

        await host.command("session.start")
        await host.command("timer.start")
        await unit.command("hand.raise")
        await member.command("point_of_order.request")
        await host.command("floor.grant", who=f"p:{cast.ids['unit']}", seconds=300)
        await member.command("hand.raise")
        opened = await host.command(
            "poll.open",
            question="是否同意优先安排加装电梯？",
            options=["同意", "不同意"],
            voters={"roles": ["proposer", "unit"], "guests": True},
            threshold="majority_of_votes",
            secret=True,
        )
        await member.command("poll.vote", poll_id=opened["seq"], choices=[0])

        big, hall = await hall_page(browser, server, f"/hall/{sid}#pass={token}", 1920, 1080)
        contexts.append(big)
        await expect(hall.locator(".hall-item")).to_contain_text("议题介绍")
        await expect(hall.locator(".hall-item .hall-timer")).to_contain_text("剩余时间 9:")
        await expect(hall.locator(".hall-floor")).to_contain_text("住建局 赵处长")
        await expect(hall.locator(".hall-floor .hall-timer")).to_contain_text("4:")
        await expect(hall.locator(".hall-queue li").first).to_contain_text("张委员")
        await expect(hall.locator(".hall-queue li").first).to_contain_text("程序性发言")
        await expect(hall.locator(".hall-poll [data-count=eligible] b")).to_have_text("2")
        await expect(hall.locator(".hall-poll [data-count=voted] b")).to_have_text("1")
        await expect(hall.locator(".hall-poll")).to_contain_text("无记名投票")
        await expect(hall.locator(".hall-join svg")).to_be_visible()
        await expect(hall.locator(".hall-url")).to_contain_text(f"/join/{sid}")
        assert "pass=" not in hall.url  # the pass leaves the address bar
        await expect(hall.locator("main :is(button, input, select, textarea)")).to_have_count(0)
        await shot(hall, "19-hall-display-1920")
        assert await axe(hall) == []

        # Live: the poll closes and its result shows in words.
        await host.command("poll.close", poll_id=opened["seq"])
        outcome = hall.locator(".hall-outcome")
        await expect(outcome).to_contain_text("应到 2 人，实到 2 人，投票 1 人")
        await expect(outcome).to_contain_text("达到法定人数")
        await expect(outcome).to_contain_text("赞成票超过投票人数的一半：已通过")

        small, hall720 = await hall_page(browser, server, f"/hall/{sid}#pass={token}", 1280, 720)
        contexts.append(small)
        await hall720.reload()  # the pass was kept: a reload opens the display again
        await expect(hall720.locator(".hall-poll")).to_contain_text("表决结果")
        await shot(hall720, "19-hall-display-1280")
        assert await axe(hall720) == []

        # The network drops; the room moves on meanwhile; the display catches up by itself.
        await big.set_offline(True)
        await expect(hall.locator(".hall-status")).to_contain_text("网络中断")
        await host.command("agenda.next")
        await host.command("floor.revoke")
        await big.set_offline(False)
        await expect(hall.locator(".hall-item")).to_contain_text("群众代表提问", timeout=20_000)
        await expect(hall.locator(".hall-floor")).to_contain_text("暂无人发言")
        await expect(hall.locator(".hall-status")).to_be_hidden()
        await shot(hall, "19-hall-display-after-reconnect")
    finally:
        for client in (host, member, unit):
            await client.close()
        for context in contexts:
            await context.close()
