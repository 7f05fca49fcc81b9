"""督 and 评 in Chromium: a leader leads a key proposal and issues an instruction with an owner
unit, which becomes a follow-up the unit sees; staff open a supervision round that lists it;
the unit reports from its workspace; the round's .docx opens. Staff define the evaluation's
criteria; the proposer and the unit score them."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

from docx import Document
from playwright.async_api import Page, expect

from tests.conftest import Cast
from tests.web.conftest import Opener, axe, shot
from tests.web.test_handling_pages import assigned


async def check(page: Page, name: str, phone: bool = False) -> None:
    """A screenshot to look at, and no serious axe violation in this state."""
    await shot(page, f"supervision-{name}{'-phone' if phone else ''}")
    assert await axe(page) == [], name


async def test_an_instruction_becomes_a_follow_up_a_round_lists_and_the_unit_reports(
    cast: Cast, open_as: Opener
) -> None:
    p = await assigned(cast, "2026-0031", key=True)
    here = f"#/proposals/{p['id']}"
    leader = await open_as(cast.leader, f"/{here}")
    await leader.get_by_role("button", name="领办此提案").click()
    await expect(leader.locator("#toast")).to_have_text("您已领办此提案")
    await expect(leader.locator("[data-lead]")).to_contain_text("李主席")
    form = leader.get_by_role("form", name="作出批示")
    await form.get_by_label("批示内容").fill("请市教育局会同住建局研究加装电梯补贴。")
    await form.get_by_label("责任单位（可选）").select_option(label="市教育局")
    due = (dt.date.today() + dt.timedelta(days=45)).isoformat()
    await form.get_by_label("完成时限（可选）").fill(due)
    await form.get_by_role("button", name="提交批示").click()
    await expect(leader.locator("#toast")).to_have_text("批示已提交，并已列入督办")
    listed = leader.locator(".instructions li")
    await expect(listed).to_contain_text("请市教育局会同住建局研究加装电梯补贴。")
    await expect(listed).to_contain_text("已列入督办")
    await expect(leader.locator("ol.timeline")).to_contain_text("李主席批示：请市教育局")
    await check(leader, "01-leader-instruction")
    phone = await open_as(cast.leader, f"/{here}", phone=True)
    await expect(phone.get_by_role("form", name="作出批示")).to_be_visible()
    await check(phone, "01-leader-instruction", phone=True)
    mine = await open_as(cast.leader, "/#/my/supervised")
    await expect(mine.locator("[data-led]")).to_contain_text(p["title"])
    await check(mine, "02-leader-workspace")

    # The owner unit sees its new follow-up.
    unit = await open_as(cast.unit2, "/#/follow-ups")
    item = unit.locator("[data-follow-up]")
    await expect(item).to_contain_text("领导批示")
    await expect(item).to_contain_text("请市教育局会同住建局研究加装电梯补贴。")

    # Staff open the mid-year round: it lists the follow-up.
    staff = await open_as(cast.staff, "/#/supervision")
    await expect(staff.get_by_text("还没有督办轮次。")).to_be_visible()
    new = staff.get_by_role("form", name="开启督办轮次")
    await new.get_by_role("button", name="开启").click()  # nothing filled: the fields say why
    await expect(new.locator("[data-field=name] .error")).not_to_be_empty()
    await new.get_by_label("名称").fill("年中督办")
    await new.get_by_label("开始日期").fill("2026-06-15")
    await new.get_by_label("报告截止日期").fill("2026-06-01")
    await new.get_by_role("button", name="开启").click()
    await expect(new.locator("[data-field=ends_on] .error")).to_contain_text("早于开始日期")
    await new.get_by_label("报告截止日期").fill("2026-07-15")
    await new.get_by_role("button", name="开启").click()
    await expect(staff.locator("#toast")).to_have_text("已开启“年中督办”，列入 1 项")
    await check(staff, "03-staff-rounds")
    await staff.get_by_role("link", name="2026 年中督办").click()
    await expect(staff.locator("[data-kind=follow_up]")).to_contain_text("市教育局")
    await expect(staff.locator("[data-kind=follow_up]")).to_contain_text("未报告")

    # The unit finds the round in its workspace and reports.
    await unit.goto(unit.url.split("#")[0] + "#/my/handling")
    await unit.get_by_role("link", name="2026 年中督办").click()
    report = unit.get_by_role("form", name="报告办理情况：请市教育局会同住建局研究加装电梯补贴。")
    await report.get_by_label("正在落实").check()
    await report.get_by_label("情况说明").fill("已完成调研，补贴方案报市政府审定。")
    await report.get_by_role("button", name="提交报告").click()
    await expect(unit.locator("#toast")).to_have_text("报告已提交")
    await expect(unit.locator("[data-kind=follow_up] .badge").last).to_have_text("正在落实")
    await check(unit, "04-unit-reported")
    unit_phone = await open_as(cast.unit2, "/#" + unit.url.split("#", 1)[1], phone=True)
    await expect(unit_phone.get_by_text("已完成调研，补贴方案报市政府审定。")).to_be_visible()
    await check(unit_phone, "04-unit-reported", phone=True)

    # Staff see the progress and export the round's report, which opens in Word.
    await staff.reload()
    await expect(staff.locator(".kpi").nth(1)).to_contain_text("1")
    async with staff.expect_download() as info:
        await staff.get_by_role("button", name="导出报告 .docx").click()
    saved = await (await info.value).path()
    assert saved is not None
    data = await asyncio.to_thread(Path(saved).read_bytes)
    text = "\n".join(x.text for x in Document(io.BytesIO(data)).paragraphs)
    assert "2026年年中督办情况报告" in text
    assert "办理情况：正在落实" in text and "补贴方案报市政府审定" in text
    await check(staff, "05-staff-round")
    await staff.get_by_role("button", name="结束本轮").click()
    await expect(staff.locator("#toast")).to_have_text("本轮已结束，不再接受报告")
    await unit.reload()
    await expect(unit.get_by_role("button", name="提交报告")).to_have_count(0)

    # Members have no supervision rounds.
    member = await open_as(cast.member, "/#/supervision")
    await expect(member.locator("[data-state=forbidden]")).to_be_visible()


async def test_staff_define_criteria_and_both_sides_score_them(cast: Cast, open_as: Opener) -> None:
    staff = await open_as(cast.staff, "/#/admin/evaluation")
    form = staff.get_by_role("form", name="评价指标")
    handling = form.locator("[data-field=handling]")
    await handling.get_by_role("button", name="添加指标").click()
    await handling.get_by_label("第 1 项 指标名称").fill("答复及时")
    await handling.get_by_role("button", name="添加指标").click()
    await handling.get_by_label("第 2 项 指标名称").fill("措施具体")
    await handling.get_by_label("第 2 项 权重").fill("3")
    await handling.get_by_label("第 2 项 最高分").fill("10")
    quality = form.locator("[data-field=quality]")
    await quality.get_by_role("button", name="添加指标").click()
    await quality.get_by_label("第 1 项 指标名称").fill("调研深入")
    await form.get_by_role("button", name="保存评价设置").click()
    await expect(staff.locator("#toast")).to_have_text("评价设置已保存")
    await check(staff, "06-staff-criteria")
    phone = await open_as(cast.staff, "/#/admin/evaluation", phone=True)
    await expect(phone.get_by_label("第 2 项 指标名称")).to_have_value("措施具体")
    await check(phone, "06-staff-criteria", phone=True)

    p = await assigned(cast, "2026-0032")
    pid = p["id"]
    assert (
        await cast.unit.post(f"/api/proposals/{pid}/transitions", {"to": "handling"})
    ).status == 200
    sent = await cast.unit.post(
        f"/api/proposals/{pid}/reply", {"text": "已列入计划。", "attachment_ids": []}
    )
    assert sent.status == 201
    member = await open_as(cast.member, f"/#/proposals/{pid}")
    evaluate = member.get_by_role("form", name="评价办理答复")
    await evaluate.get_by_label("基本满意").check()
    await evaluate.get_by_label("答复及时（权重 1，0–5 分）").fill("4")
    measures = evaluate.get_by_label("措施具体（权重 3，0–10 分）")
    await measures.fill("11")
    await evaluate.get_by_role("button", name="提交评价").click()
    # Over the highest score: the browser holds the form back and says why at the field.
    assert await measures.evaluate("input => input.validity.rangeOverflow")
    handled = (await cast.staff.get(f"/api/proposals/{pid}/handling")).body
    assert handled["evaluations"] == []
    await measures.fill("5")
    await check(member, "07-member-scores-form")
    await evaluate.get_by_role("button", name="提交评价").click()
    await expect(member.locator("[data-kind=handling]")).to_contain_text("综合得分 57.5")
    await check(member, "08-member-scored")

    unit = await open_as(cast.unit, f"/#/proposals/{pid}")
    rate = unit.get_by_role("form", name="评价提案质量")
    await rate.get_by_label("高").check()
    await rate.get_by_label("调研深入（权重 1，0–5 分）").fill("5")
    await rate.get_by_role("button", name="提交质量评价").click()
    await expect(unit.locator("[data-kind=quality]")).to_contain_text("综合得分 100")
    await check(unit, "09-unit-rated")


async def test_the_round_pages_show_their_states(cast: Cast, open_as: Opener) -> None:
    unit = await open_as(cast.unit, "/#/supervision")
    await expect(unit.get_by_text("还没有督办轮次。")).to_be_visible()
    await expect(unit.get_by_role("form", name="开启督办轮次")).to_have_count(0)
    await unit.goto(unit.url.split("#")[0] + "#/supervision/2147483000")
    await expect(unit.locator("[data-state=not-found]")).to_be_visible()
    leader = await open_as(cast.leader, "/#/admin/evaluation")
    await expect(leader.locator("[data-state=forbidden]")).to_be_visible()
    await check(leader, "10-leader-criteria-forbidden")
