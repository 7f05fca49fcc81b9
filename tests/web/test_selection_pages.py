"""The pages of 评: a selection round in Chromium (staff open it, two reviewers score three
proposals, the ranking shows the tie, staff publish and export), the per-unit statistics with
their year selector, and the .xlsx import (the preview shows each row's problems, then the good
rows are imported). Each state is screenshotted and checked with axe."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Page, expect

from tests.conftest import Cast
from tests.server.proposals.test_import import ROWS, workbook
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.web.conftest import Opener, axe, shot


async def check(page: Page, name: str) -> None:
    """A screenshot to look at, and no serious axe violation in this state."""
    await shot(page, f"selection-{name}")
    assert await axe(page) == [], name


async def score(page: Page, number: str, values: list[int]) -> None:
    form = page.get_by_role("form", name=f"评分 {number}")
    for label, value in zip(("选题价值", "建议可行性", "办理成效"), values, strict=True):
        await form.get_by_label(label).fill(str(value))
    await form.get_by_role("button", name="保存评分").click()
    candidate = page.locator(".candidate").filter(has=form)
    await expect(candidate.locator("h3 .badge")).to_have_text("已评分")


async def test_a_round_ranks_three_proposals_by_two_reviewers_scores(
    cast: Cast, open_as: Opener
) -> None:
    proposals = [await create_proposal(cast, f"2026-000{i}", title=f"建议{i}") for i in (1, 2, 3)]
    staff = await open_as(cast.staff, "/#/selections")
    await expect(staff.get_by_text("还没有评选。")).to_be_visible()
    form = staff.get_by_role("form", name="发起评选")
    await form.get_by_label("年度").fill("2026")
    await form.get_by_label("年度").dispatch_event("change")
    await form.get_by_label("张委员（委员）").check()
    await form.get_by_label("陈委员（委员）").check()
    for p in proposals:
        await form.get_by_label(f"{p['number']} {p['title']}").check()
    await check(staff, "01-new-round")
    await form.get_by_role("button", name="发起评选").click()
    await expect(staff.get_by_role("heading", name="2026年度优秀提案评选")).to_be_visible()
    await expect(staff.get_by_text("张委员：已评 0/3 件")).to_be_visible()
    await check(staff, "02-round-open")

    sheets: dict[str, list[list[int]]] = {
        "member": [[10, 10, 10], [8, 8, 8], [6, 6, 6]],  # 100, 80, 60
        "member2": [[6, 6, 6], [8, 8, 8], [8, 8, 8]],  # 60, 80, 80
    }
    for who, values in sheets.items():
        page = await open_as(getattr(cast, who), "/#/my/reviews", phone=who == "member")
        await page.get_by_role("link", name="2026年度优秀提案评选").click()
        await expect(page.get_by_text("排名在公布前仅供工作人员和领导查看。")).to_be_visible()
        for p, v in zip(proposals, values, strict=True):
            await score(page, p["number"], v)
        await expect(page.locator(".candidate .badge.good")).to_have_count(3)
        await check(page, f"03-scored-{who}")

    await staff.reload()
    rows = staff.locator("tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0).locator("td").nth(0)).to_have_text("1（并列）")
    await expect(rows.nth(1).locator("td").nth(0)).to_have_text("1（并列）")
    await expect(rows.nth(2).locator("td").nth(0)).to_have_text("3")
    await expect(rows.nth(2)).to_contain_text("建议3")
    await expect(rows.nth(2)).to_contain_text("70.00")
    await check(staff, "04-ranking-tie")
    await staff.get_by_label("2026-0001 入选").check()
    await staff.get_by_label("2026-0002 入选").check()
    staff.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await staff.get_by_role("button", name="公布入选名单").click()
    await expect(staff.locator("h1 .badge")).to_have_text("已公布")
    await expect(staff.locator("tbody .badge.good")).to_have_count(2)
    async with staff.expect_download() as info:
        await staff.get_by_role("button", name="导出 Word").click()
    assert (await info.value).suggested_filename == "2026年度优秀提案评选.docx"
    await check(staff, "05-published")
    ranking = (await cast.staff.get("/api/selections/1/ranking")).body
    assert [r["chosen"] for r in ranking["rows"]] == [True, True, False]

    phone = await open_as(cast.member, "/#/selections/1", phone=True)
    await expect(phone.get_by_text("本轮已公布，评分不能再修改。")).to_be_visible()
    await expect(phone.locator("tbody tr")).to_have_count(3)
    await check(phone, "06-published-phone")


async def test_unit_statistics_by_year_with_the_export(cast: Cast, open_as: Opener) -> None:
    await create_proposal(cast, "2026-0001", co_unit_ids=[cast.unit_ids["b"]])
    await create_proposal(cast, "2025-0001", lead_unit_id=cast.unit_ids["b"])
    page = await open_as(cast.leader, "/#/stats")
    await page.get_by_role("link", name="承办单位办理情况").click()
    await expect(page.locator("tbody tr")).to_have_count(2)
    # all years: 教育局 leads one and co-handles one, 住建局 leads one
    await expect(page.locator("tbody tr").first).to_contain_text("市教育局")
    await check(page, "07-unit-stats")
    await page.get_by_label("年度").select_option("2025")
    await expect(page.locator("tbody tr")).to_have_count(1)
    await expect(page.locator("tbody tr").first).to_contain_text("市教育局")
    async with page.expect_download() as info:
        await page.get_by_role("button", name="导出 Excel").click()
    assert (await info.value).suggested_filename == "承办单位办理情况-2025.xlsx"
    phone = await open_as(cast.staff, "/#/stats/units?year=2030", phone=True)
    await expect(phone.get_by_text("该年度还没有交办给承办单位的提案。")).to_be_visible()
    await check(phone, "08-unit-stats-empty-phone")
    unit = await open_as(cast.unit, "/#/stats/units")
    await expect(unit.get_by_role("heading", name="您无权查看此页面")).to_be_visible()
    english = await open_as(cast.staff, "/#/stats/units?year=2026", lang="en")
    await expect(english.get_by_role("heading", name="Undertaking units 2026")).to_be_visible()
    await expect(english.get_by_role("columnheader", name="Replied on time")).to_be_visible()


async def test_a_round_nobody_may_see_shows_the_not_found_state(
    cast: Cast, open_as: Opener
) -> None:
    p = await create_proposal(cast, "2026-0001")
    made = await cast.staff.post(
        "/api/selections",
        {
            "year": 2026,
            "criteria": [{"name": "选题价值", "weight": 1, "max": 10}],
            "reviewer_ids": [cast.ids["member"]],
            "proposal_ids": [p["id"]],
        },
    )
    assert made.status == 201, made.text
    page = await open_as(cast.member2, f"/#/selections/{made.body['id']}")
    await expect(page.locator("[data-state]")).to_have_attribute("data-state", "not-found")
    await page.goto(page.url.split("#")[0] + "#/my/reviews")
    await expect(page.get_by_text("没有需要您评分的评选。")).to_be_visible()
    assert await axe(page) == []


async def test_the_import_preview_shows_row_problems_then_imports_the_good_rows(
    cast: Cast, open_as: Opener, tmp_path: Path
) -> None:
    await create_proposal(cast, "2026-0001")
    sheet = tmp_path / "其他系统导出.xlsx"
    sheet.write_bytes(workbook(ROWS))
    page = await open_as(cast.staff, "/#/proposals")
    await page.get_by_role("link", name="导入提案").click()
    await page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(sheet))
    await page.get_by_role("button", name="预览").click()
    await expect(page.get_by_text("共 9 行：可导入 2 行，有问题 7 行。")).to_be_visible()
    await expect(page.locator("tr.has-errors")).to_have_count(7)
    await expect(page.locator("tbody")).to_contain_text("主办单位：没有名为 市民政局 的单位")
    await expect(page.locator("tbody")).to_contain_text("案号：案号 2026-0001 已被占用")
    await expect(page.locator("tbody")).to_contain_text("民盟市委会（集体）")
    await check(page, "09-import-preview")
    await page.get_by_role("button", name="导入 2 行").click()
    await expect(page.get_by_role("heading", name="导入完成")).to_be_visible()
    numbers = [p["number"] for p in (await cast.staff.get("/api/proposals")).body["items"]]
    assert numbers == ["2026-0001", "2026-0101", "2026-0103"]
    await check(page, "10-import-done")
    broken = tmp_path / "坏文件.xlsx"
    broken.write_text("不是表格", encoding="utf-8")
    phone = await open_as(cast.staff, "/#/proposals/import", phone=True)
    await phone.get_by_label("Excel 文件（.xlsx）").set_input_files(str(broken))
    await phone.get_by_role("button", name="预览").click()
    await expect(phone.get_by_role("alert").first).to_contain_text("不是 Excel 工作簿")
    await check(phone, "11-import-broken-phone")
    member = await open_as(cast.member, "/#/proposals/import")
    await expect(member.get_by_role("heading", name="您无权查看此页面")).to_be_visible()
