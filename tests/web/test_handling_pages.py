"""Handling a proposal in Chromium: the lead unit replies with a PDF and reports progress, the
file downloads byte for byte, the proposer evaluates (an unsatisfied verdict starts round 2),
the unit replies again and rates the proposal's quality; and a page someone may not see shows
its own state, never the page before it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from server.db import Database, utcnow
from server.record import followups
from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, axe, shot


async def assigned(cast: Cast, number: str = "2026-0123", **extra: Any) -> dict[str, Any]:
    """A proposal of 张委员, filed and assigned to 住建局 (unit a)."""
    p = await create_proposal(cast, number, **extra)
    for to in ("filed", "assigned"):
        step = await cast.staff.post(f"/api/proposals/{p['id']}/transitions", {"to": to})
        assert step.status == 200, step.text
    return p


async def check(page: Page, name: str, phone: bool = False) -> None:
    """A screenshot to look at, and no serious axe violation in this state."""
    await shot(page, f"handling-{name}{'-phone' if phone else ''}")
    assert await axe(page) == [], name


async def reopen(page: Page, path: str) -> None:
    """Load ``path`` afresh, as someone coming back to it later would."""
    await page.goto(page.url.split("#")[0] + path)
    await page.reload()


async def test_a_reply_with_a_file_two_rounds_of_evaluation_and_a_quality_rating(
    cast: Cast, open_as: Opener, tmp_path: Path
) -> None:
    p = await assigned(cast)
    here = f"#/proposals/{p['id']}"
    unit = await open_as(cast.unit, f"/{here}")
    await expect(unit.get_by_role("heading", name=p["title"])).to_be_visible()
    await unit.get_by_role("button", name="开始办理").click()
    await expect(unit.locator("h1 .badge").first).to_have_text("办理中")

    reply = unit.get_by_role("form", name="答复提案")
    # The limits are said before anything is chosen, as the server has them.
    await expect(reply).to_contain_text("每个文件不超过 20 MB")
    await expect(reply).to_contain_text(".pdf")
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ" + bytes(100))
    await reply.get_by_label("添加附件").set_input_files(str(program))
    await expect(reply.get_by_role("alert")).to_contain_text("“setup.exe”的格式不能上传")
    pdf = tmp_path / "答复函.pdf"
    data = b"%PDF-1.7\n" + os.urandom(300_000)
    pdf.write_bytes(data)
    await reply.get_by_label("添加附件").set_input_files(str(pdf))
    await expect(reply.locator(".uploads li")).to_contain_text("已上传")
    fake = tmp_path / "扫描件.pdf"  # a name that passes, content the server refuses
    fake.write_text("这不是 PDF", encoding="utf-8")
    await reply.get_by_label("添加附件").set_input_files(str(fake))
    await expect(reply.get_by_role("alert").first).to_contain_text("“扫描件.pdf”上传失败")
    await expect(reply.locator(".uploads li")).to_have_count(1)
    await expect(reply.locator(".uploads progress")).to_have_attribute("value", "100")
    files = (await cast.staff.get(f"/api/proposals/{p['id']}/handling")).body["attachments"]
    assert [f["name"] for f in files] == ["答复函.pdf"]  # the program was never sent
    await check(unit, "01-unit-reply-form")

    progress = unit.get_by_role("form", name="报告办理进展")
    await progress.get_by_label("节点").fill("完成现场调研")
    await progress.get_by_label("完成百分比").fill("40")
    await progress.get_by_label("说明").fill("已走访 12 个小区。")
    await progress.get_by_role("button", name="提交进展").click()
    await expect(unit.locator("#toast")).to_have_text("进展已提交")
    await expect(unit.get_by_text("完成现场调研").first).to_be_visible()

    reply = unit.get_by_role("form", name="答复提案")
    await reply.get_by_label("答复内容").fill("我局已将加装电梯纳入年度计划。")
    await reply.get_by_role("button", name="提交答复").click()
    await expect(unit.locator("h1 .badge").first).to_have_text("已答复")
    answer = unit.locator("article.reply")
    await expect(answer).to_contain_text("第 1 轮答复")
    await expect(answer).to_contain_text("答复函.pdf")
    async with unit.expect_download() as download_info:
        await answer.get_by_role("button", name="下载 答复函.pdf").click()
    download = await download_info.value
    saved = await download.path()
    assert saved is not None and download.suggested_filename == "答复函.pdf"
    assert await asyncio.to_thread(Path(saved).read_bytes) == data
    await check(unit, "02-unit-replied")

    member = await open_as(cast.member, f"/{here}")
    await expect(member.locator("article.reply")).to_contain_text("答复函.pdf")
    await check(member, "03-member-sees-reply")
    evaluate = member.get_by_role("form", name="评价办理答复")
    await evaluate.get_by_label("不满意").check()
    await evaluate.get_by_label("意见").fill("补贴标准仍不明确。")
    await evaluate.get_by_role("button", name="提交评价").click()
    await expect(member.locator(".alert.warn")).to_contain_text("第 2 轮办理已开始")
    await expect(member.locator("h1")).to_contain_text("第 2 轮办理")
    await expect(member.locator("[data-kind=handling][data-verdict=unsatisfied]")).to_contain_text(
        "不满意"
    )
    await check(member, "04-member-second-round")
    phone = await open_as(cast.member, f"/{here}", phone=True)
    await expect(phone.locator(".alert.warn")).to_contain_text("第 2 轮办理已开始")
    await check(phone, "04-member-second-round", phone=True)

    await reopen(unit, here)
    reply = unit.get_by_role("form", name="答复提案")
    await reply.get_by_label("答复内容").fill("补贴标准为每台 15 万元。")
    await reply.get_by_role("button", name="提交答复").click()
    await expect(unit.locator("article.reply")).to_have_count(2)

    await reopen(member, here)
    evaluate = member.get_by_role("form", name="评价办理答复")
    # With the keyboard alone: Space picks the verdict, Tab moves on, Enter sends.
    await evaluate.get_by_label("满意", exact=True).focus()
    await member.keyboard.press("Space")
    await member.keyboard.press("Tab")
    await member.keyboard.type("满意，谢谢。")
    await member.keyboard.press("Tab")
    await member.keyboard.press("Enter")
    await expect(member.locator("h1 .badge").first).to_have_text("已评价")
    await expect(member.locator("[data-kind=handling][data-verdict=satisfied]")).to_contain_text(
        "满意"
    )
    verdicts = (await cast.staff.get(f"/api/proposals/{p['id']}/handling")).body["evaluations"]
    assert [(e["verdict"], e["comment"]) for e in verdicts] == [
        ("unsatisfied", "补贴标准仍不明确。"),
        ("satisfied", "满意，谢谢。"),
    ]

    await reopen(unit, here)
    rate = unit.get_by_role("form", name="评价提案质量")
    await rate.get_by_label("高").check()
    await rate.get_by_role("button", name="提交质量评价").click()
    await expect(unit.locator("[data-kind=quality]")).to_contain_text("提案质量：高")
    await expect(unit.get_by_role("form", name="评价提案质量")).to_have_count(0)
    timeline = unit.locator("ol.timeline")
    await expect(timeline).to_contain_text("不满意，开始第 2 轮办理")
    await expect(timeline).not_to_contain_text("unsatisfied")
    await check(unit, "05-unit-rated")
    phone = await open_as(cast.unit, f"/{here}", phone=True)
    await expect(phone.locator("article.reply")).to_have_count(2)
    await check(phone, "05-unit-rated", phone=True)


async def test_a_proposal_someone_may_not_see_shows_its_state_not_the_page_before(
    cast: Cast, open_as: Opener
) -> None:
    mine = await assigned(cast, "2026-0001")
    theirs = await assigned(
        cast,
        "2026-0002",
        title="关于增加学位供给的建议",
        proposer_ids=[cast.ids["member2"]],
        lead_unit_id=cast.unit_ids["b"],
    )
    for who, name in ((cast.member, "member"), (cast.unit, "unit")):
        page = await open_as(who, f"/#/proposals/{mine['id']}")
        await expect(page.get_by_role("heading", name=mine["title"])).to_be_visible()
        await page.goto(page.url.split("#")[0] + f"#/proposals/{theirs['id']}")
        await expect(page.locator("[data-state=not-found]")).to_be_visible()
        await expect(page.get_by_text(mine["title"])).to_have_count(0)
        await expect(page.get_by_text(theirs["title"])).to_have_count(0)
        await check(page, f"06-not-found-{name}")
    english = await open_as(cast.unit, f"/#/proposals/{mine['id']}", lang="en")
    await expect(english.locator("h1 .badge").first).to_have_text("Assigned")
    await expect(english.get_by_role("form", name="Start handling")).to_be_visible()
    await expect(english.locator("ol.timeline")).to_contain_text("Filed → Assigned")
    await check(english, "06-proposal-en")


async def follow_ups(database: Database, session_id: int, *actions: dict[str, Any]) -> None:
    """Follow-ups as approved minutes make them, through the record's own function."""
    content = {"items": [{"title": "办理进展", "actions": list(actions)}]}
    async with database.transaction() as db:
        await followups.sync_from_minutes(db, session_id, content, utcnow())


async def test_units_members_and_leaders_each_find_their_work_in_their_workspace(
    cast: Cast, open_as: Opener, database: Database
) -> None:
    lead = await assigned(cast, "2026-0001", key=True)
    supervised = await cast.staff.patch(
        f"/api/proposals/{lead['id']}", {"supervisor_id": cast.ids["leader"]}
    )
    assert supervised.status == 200, supervised.text
    co = await assigned(
        cast,
        "2026-0002",
        title="关于增加学位供给的建议",
        proposer_ids=[cast.ids["member2"]],
        lead_unit_id=cast.unit_ids["b"],
        co_unit_ids=[cast.unit_ids["a"]],
    )
    s = await create_session(cast, proposal_ids=[lead["id"]])
    a, pid = cast.unit_ids["a"], lead["id"]
    await follow_ups(
        database,
        s["id"],
        {"text": "制定补贴方案", "owner_unit_id": a, "due": "2026-01-15", "proposal_id": pid},
        {"text": "公布审批流程", "owner_unit_id": a, "due": "2027-06-30", "proposal_id": pid},
    )

    leader = await open_as(cast.leader, "/#/")
    await expect(leader.get_by_role("heading", name="李主席")).to_be_visible()  # home has loaded
    await leader.get_by_role("link", name="重点提案").click()
    await expect(leader.locator("tr[data-proposal]")).to_have_count(1)
    await expect(leader.locator("tr[data-proposal]")).to_contain_text(lead["title"])
    await expect(leader.locator("li[data-follow-up]")).to_have_count(1)  # only the overdue one
    await expect(leader.locator("li[data-follow-up]")).to_contain_text("制定补贴方案")
    await check(leader, "07-leader-supervised")
    await leader.get_by_role("link", name="查看统计").click()
    await leader.get_by_label("年度").select_option("2026")
    await expect(leader.locator("h1")).to_contain_text("2026 年")
    assert leader.url.endswith("#/stats?year=2026")
    await expect(leader.locator("svg.chart").first).to_have_attribute(
        "aria-label", "评价结果：满意：0；基本满意：0；不满意：0"
    )
    await check(leader, "08-leader-stats-2026")

    unit = await open_as(cast.unit, "/#/")
    await expect(unit.get_by_role("heading", name="住建局 赵处长")).to_be_visible()
    await unit.get_by_role("link", name="我的承办").click()
    rows = unit.locator("tr[data-proposal]")
    await expect(rows).to_have_count(2)
    await expect(rows.filter(has_text=lead["title"])).to_contain_text("主办")
    await expect(rows.filter(has_text=lead["title"])).to_contain_text("开始办理")
    await expect(rows.filter(has_text=co["title"])).to_contain_text("协办")
    overdue = unit.locator("section[aria-labelledby=mh-overdue]")
    await expect(overdue).to_contain_text("制定补贴方案（时限 2026-01-15）")
    await expect(overdue).not_to_contain_text("公布审批流程")
    await check(unit, "09-unit-workspace")
    phone = await open_as(cast.unit, "/#/my/handling", phone=True)
    await expect(phone.locator("tr[data-proposal]")).to_have_count(2)
    await check(phone, "09-unit-workspace", phone=True)
    item = unit.locator("li[data-follow-up]", has_text="制定补贴方案")
    await item.get_by_label("完成情况说明").fill("方案已印发")
    await item.get_by_role("button", name="标为已完成").click()
    await expect(unit.locator("#toast")).to_have_text("已标为完成")
    done = unit.locator("li[data-follow-up]", has_text="制定补贴方案")
    await expect(done).to_contain_text("已完成")
    await expect(done).to_contain_text("说明：方案已印发")
    overdue = unit.locator("section[aria-labelledby=mh-overdue]")
    await expect(overdue).to_contain_text("没有逾期事项")
    listed = (await cast.unit.get("/api/follow-ups?status=done")).body["items"]
    assert [(f["text"], f["note"]) for f in listed] == [("制定补贴方案", "方案已印发")]
    await check(unit, "10-unit-follow-up-done")

    await cast.unit.post(f"/api/proposals/{lead['id']}/transitions", {"to": "handling"})
    stored = await cast.unit.request(
        "POST",
        f"/api/proposals/{lead['id']}/attachments",
        params={"name": "答复函.pdf"},
        data=b"%PDF-1.7\n" + bytes(2000),
        headers={"Content-Type": "application/pdf"},
    )
    assert stored.status == 201, stored.text
    answer = await cast.unit.post(
        f"/api/proposals/{lead['id']}/reply",
        {"text": "已纳入年度计划。", "attachment_ids": [stored.body["id"]]},
    )
    assert answer.status == 201, answer.text
    await reopen(unit, "#/my/handling")
    await expect(unit.locator("tr[data-proposal]", has_text=lead["title"])).to_contain_text(
        "评价提案质量"  # its next step after the reply
    )
    member = await open_as(cast.member, "/#/")
    await expect(member.get_by_role("heading", name="张委员")).to_be_visible()  # home has loaded
    await member.get_by_role("link", name="我的提案").click()
    card = member.locator("section[data-proposal]")
    await expect(card).to_have_count(1)  # not 陈委员's
    await expect(card).to_contain_text("已答复")
    await expect(card).to_contain_text("缺少：办前")
    await expect(card.locator(".reply")).to_contain_text("答复函.pdf")
    await card.get_by_role("link", name="评价第 1 轮答复").click()
    await expect(member.get_by_role("form", name="评价办理答复")).to_be_visible()
    await member.go_back()
    await expect(member.locator("section[data-proposal]")).to_have_count(1)
    await check(member, "11-member-proposals")
    phone = await open_as(cast.member, "/#/my/proposals", phone=True)
    await expect(phone.locator("section[data-proposal] .reply")).to_contain_text("答复函.pdf")
    await check(phone, "11-member-proposals", phone=True)

    follow = await open_as(cast.member, "/#/follow-ups")
    items = follow.locator("li[data-follow-up]")
    await expect(items).to_have_count(2)
    await expect(items.filter(has_text="制定补贴方案")).to_contain_text("已完成")
    await expect(items.filter(has_text="公布审批流程")).to_contain_text("未完成")
    await expect(follow.get_by_role("button", name="标为已完成")).to_have_count(0)  # units do
    await check(follow, "12-member-follow-ups")

    # A workspace of another role is not the member's.
    await member.goto(member.url.split("#")[0] + "#/my/handling")
    await expect(member.locator("[data-state=forbidden]")).to_be_visible()
    await expect(member.locator("section[data-proposal]")).to_have_count(0)
