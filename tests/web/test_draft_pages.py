"""提 and 立 in Chromium: staff set the year's submission window; a member drafts a proposal with
a list of suggestions (added, reordered, removed), suggested units, public consent and a file,
invites two co-signers — one accepts, one declines — and submits (the one who declined is
dropped and the member is told); staff file it from the review queue and the member sees the
number; a proposal not filed shows its reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from playwright.async_api import Page, expect

from server.proposals.lifecycle import COMMITTEE_ZONE
from tests.conftest import Cast
from tests.web.conftest import Opener, axe, shot


async def check(page: Page, name: str) -> None:
    await shot(page, f"drafts-{name}")
    assert await axe(page) == [], name


async def test_a_member_drafts_two_are_invited_one_declines_and_staff_file_it(
    cast: Cast, open_as: Opener, tmp_path: Path
) -> None:
    today = dt.datetime.now(COMMITTEE_ZONE).date()
    staff = await open_as(cast.staff, "/#/review")
    await expect(staff.get_by_text("没有待审查的提案。")).to_be_visible()
    windows = staff.get_by_role("form", name="提案提交时间")
    await windows.get_by_label("开始日期").fill((today - dt.timedelta(days=3)).isoformat())
    await windows.get_by_label("截止日期").fill((today + dt.timedelta(days=3)).isoformat())
    await windows.get_by_role("button", name="保存").click()
    await expect(staff.locator("ul.windows li")).to_contain_text("正在受理")
    await check(staff, "review-empty")

    member = await open_as(cast.member, "/#/my/drafts")
    await expect(member.get_by_text("您还没有草稿。")).to_be_visible()
    await expect(member.locator("[data-window=open]")).to_be_visible()
    await member.get_by_role("link", name="起草新提案").click()
    await member.get_by_label("案由（标题）").fill("关于完善社区养老服务的建议")
    await member.get_by_label("现状与问题").fill("社区日间照料中心覆盖不足。")
    await member.get_by_label("建议 1", exact=True).fill("落实运营补贴")
    await member.get_by_role("button", name="添加一条建议").click()
    await member.get_by_label("建议 2", exact=True).fill("增加日间照料中心")
    await member.get_by_role("button", name="添加一条建议").click()
    await member.get_by_label("建议 3", exact=True).fill("临时一条")
    await member.get_by_role("button", name="删除 建议 3").click()
    await member.get_by_role("button", name="上移 建议 2").click()  # 增加… becomes the first
    await member.get_by_label("建议主办单位").select_option(label="市住房和城乡建设局")
    await member.get_by_label("同意公开", exact=True).check()
    await member.get_by_role("button", name="保存草稿").click()
    await expect(member.get_by_role("heading", name="编辑提案草稿")).to_be_visible()
    await expect(member.get_by_label("建议 1", exact=True)).to_have_value("增加日间照料中心")
    await expect(member.get_by_label("建议 2", exact=True)).to_have_value("落实运营补贴")
    await expect(member.get_by_label("建议 3", exact=True)).to_have_count(0)

    note = tmp_path / "调研报告.txt"
    note.write_text("社区养老调研", encoding="utf-8")
    await member.get_by_label("添加附件").set_input_files(str(note))
    await expect(member.get_by_text("已上传 调研报告.txt")).to_be_visible()
    invite = member.get_by_role("form", name="邀请联名委员")
    await invite.get_by_label("陈委员").check()
    await invite.get_by_label("李主席").check()
    await invite.get_by_role("button", name="保存联名邀请").click()
    await expect(member.locator(".cosign-form")).to_contain_text("待确认")
    await check(member, "editor")

    draft_id = int(member.url.rsplit("/", 1)[1])
    assert (await cast.staff.get(f"/api/proposals/{draft_id}")).status == 404

    for who, button, word in (
        (cast.member2, "同意联名", "已同意"),
        (cast.leader, "谢绝", "已谢绝"),
    ):
        page = await open_as(who, "/#/my/drafts")
        item = page.locator(f".invites li[data-proposal='{draft_id}']")
        await expect(item).to_contain_text("张委员")
        await item.get_by_role("button", name=button).click()
        await expect(item).to_contain_text(word)
        await expect(item.get_by_role("button")).to_have_count(0)
    await check(page, "invitations")

    await member.reload()
    await expect(member.locator(".cosign-form")).to_contain_text("已同意")
    await member.get_by_role("button", name="提交提案").click()
    result = member.locator(".submitted")
    await expect(result).to_contain_text("提案已提交")
    await expect(result.locator(".dropped")).to_contain_text("李主席")
    await expect(result).to_contain_text("未确认，已不在联名名单中：李主席")
    await check(member, "submitted")

    await staff.reload()
    item = staff.locator(f".review-queue li[data-proposal='{draft_id}']")
    await expect(item).to_contain_text("张委员、陈委员")
    await item.get_by_role("button", name="立案", exact=True).click()
    await item.get_by_role("button", name="确认").click()
    await expect(staff.get_by_text("没有待审查的提案。")).to_be_visible()
    number = (await cast.staff.get(f"/api/proposals/{draft_id}")).body["number"]
    assert number == f"{today.year}-0001"

    mine = await open_as(cast.member, "/#/my/proposals")
    await expect(mine.locator(f"[data-proposal='{draft_id}'] .outcome")).to_contain_text(
        f"已立案，编号 {number}"
    )
    proposal = await open_as(cast.member2, f"/#/proposals/{draft_id}")
    await expect(proposal.locator("ol.suggestions li")).to_have_count(2)
    await expect(proposal.get_by_text("同意公开")).to_be_visible()
    await check(proposal, "proposal")


async def test_staff_refuse_with_a_reason_the_member_sees_on_a_phone(
    cast: Cast, open_as: Opener
) -> None:
    today = dt.datetime.now(COMMITTEE_ZONE).date()
    window = {"opens": today.isoformat(), "closes": today.isoformat()}
    assert (await cast.staff.put(f"/api/submission-windows/{today.year}", window)).status == 200
    body = {"title": "关于修缮我家门前道路的建议", "suggestions": ["修路"]}
    draft = (await cast.member.post("/api/proposals", body)).body
    assert (await cast.member.post(f"/api/proposals/{draft['id']}/submit")).status == 200

    staff = await open_as(cast.staff, "/#/review", phone=True)
    item = staff.locator(f".review-queue li[data-proposal='{draft['id']}']")
    await item.get_by_role("button", name="不予立案").click()
    await item.get_by_role("button", name="确认").click()
    await expect(item.locator("[data-field=reason] .error")).to_be_visible()
    await item.get_by_label("不予立案的原因").select_option("personal")
    await item.get_by_label("说明（必填，提案人可见）").fill("请通过信访渠道反映")
    await check(staff, "review-reject-phone")
    await item.get_by_role("button", name="确认").click()
    await expect(staff.get_by_text("没有待审查的提案。")).to_be_visible()

    member = await open_as(cast.member, "/#/my/proposals", phone=True)
    outcome = member.locator(f"[data-proposal='{draft['id']}'] .outcome")
    await expect(outcome).to_contain_text("不予立案：属于个人或少数人的具体事务")
    await expect(outcome).to_contain_text("请通过信访渠道反映")
    await check(member, "outcome-phone")
    unit = await open_as(cast.unit, "/#/my/drafts")
    await expect(unit.locator("[data-state=forbidden]")).to_be_visible()
    await unit.goto(unit.url.split("#")[0] + "#/review")
    await expect(unit.locator("[data-state=forbidden]")).to_be_visible()
    hidden = (await cast.member2.post("/api/proposals", {"title": "陈委员的草稿"})).body
    other = await open_as(cast.member, f"/#/my/drafts/{hidden['id']}")
    await expect(other.locator("[data-state=not-found]")).to_be_visible()
    editor = await open_as(cast.member, "/#/my/drafts/new", phone=True)
    await expect(editor.get_by_role("heading", name="起草提案")).to_be_visible()
    await check(editor, "new-phone")
    assert (await cast.unit.get("/api/members")).status == 403


async def test_staff_merge_a_submission_into_a_bundle_and_it_is_filed(
    cast: Cast, open_as: Opener
) -> None:
    today = dt.datetime.now(COMMITTEE_ZONE).date()
    window = {"opens": today.isoformat(), "closes": today.isoformat()}
    assert (await cast.staff.put(f"/api/submission-windows/{today.year}", window)).status == 200
    lead = await cast.staff.post(
        "/api/proposals",
        {
            "number": f"{today.year}-0100",
            "title": "关于养老服务体系的建议",
            "proposer_ids": [cast.ids["member2"]],
        },
    )
    filed = await cast.staff.post(f"/api/proposals/{lead.body['id']}/transitions", {"to": "filed"})
    assert filed.status == 200
    body = {"title": "关于社区食堂的建议", "suggestions": ["办食堂"]}
    draft = (await cast.member.post("/api/proposals", body)).body
    assert (await cast.member.post(f"/api/proposals/{draft['id']}/submit")).status == 200

    staff = await open_as(cast.staff, "/#/review")
    item = staff.locator(f".review-queue li[data-proposal='{draft['id']}']")
    await item.get_by_role("button", name="并案").click()
    await item.get_by_label("并入的牵头提案").select_option(str(lead.body["id"]))
    await check(staff, "review-merge")
    await item.get_by_role("button", name="确认").click()
    await expect(staff.get_by_text("没有待审查的提案。")).to_be_visible()
    merged = (await cast.member.get(f"/api/proposals/{draft['id']}")).body
    assert (merged["status"], merged["bundle_lead_id"]) == ("filed", lead.body["id"])
    mine = await open_as(cast.member, "/#/my/proposals")
    await expect(mine.locator(f"[data-proposal='{draft['id']}'] .outcome")).to_contain_text(
        "已并入"
    )
