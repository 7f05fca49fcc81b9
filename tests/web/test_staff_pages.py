"""The staff's daily work in Chromium: register a proposal, file and assign it, find it in the
list filtered by its unit and export that list; administer people, units and the working-day
calendar and find those acts in the audit log. axe-core finds nothing serious on any state."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from openpyxl import load_workbook
from playwright.async_api import Page, expect

from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.web.conftest import Opener, axe, shot

NEW_YEAR_2028 = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//xieshang tests//EN\r
BEGIN:VEVENT\r
UID:2028-new-year@xieshang.test\r
DTSTAMP:20271101T000000Z\r
DTSTART;VALUE=DATE:20280101\r
DTEND;VALUE=DATE:20280102\r
SUMMARY:元旦\r
END:VEVENT\r
END:VCALENDAR\r
"""


async def clean(page: Page, state: str) -> None:
    found = await axe(page)
    assert found == [], f"{state}: {found}"


async def test_staff_register_file_and_assign_a_proposal_then_find_and_export_it(
    cast: Cast, open_as: Opener
) -> None:
    other = await create_proposal(cast, "2026-0007", lead_unit_id=cast.unit_ids["b"])
    page = await open_as(cast.staff, "/#/proposals")
    await expect(page.get_by_role("row", name="2026-0007")).to_be_visible()
    await clean(page, "list")
    await page.get_by_role("link", name="登记提案").click()
    await expect(page.get_by_role("heading", name="登记提案")).to_be_visible()
    await page.get_by_label("提案编号").fill("26-42")
    await page.get_by_label("案由（标题）").fill("关于推进社区嵌入式养老服务的建议")
    await page.get_by_label("内容摘要").fill("在老旧小区配建养老服务站点。")
    await page.get_by_label("类别").fill("社会事业")
    await page.get_by_label("重点提案").check()
    await page.get_by_label("督办领导").select_option(label="李主席")
    await page.get_by_label("张委员").check()
    await page.get_by_role("button", name="登记", exact=True).click()
    number_error = page.locator('[data-field="number"] .error')
    await expect(number_error).to_contain_text("2026-0123")  # the server's words, by the field
    await expect(page.get_by_label("提案编号")).to_have_attribute("aria-invalid", "true")
    await clean(page, "form with a field error")
    await shot(page, "staff-01-register-error")
    await page.get_by_label("提案编号").fill("2026-0042")
    await page.get_by_role("button", name="登记", exact=True).click()

    await expect(page.get_by_role("heading", name="办理流程")).to_be_visible()
    steps = page.locator("section.steps")
    await expect(steps.get_by_role("button")).to_have_text(["立案", "不予立案", "转为意见"])
    await clean(page, "proposal submitted")
    await steps.get_by_role("button", name="不予立案").click()
    await steps.get_by_role("button", name="确认").click()
    await expect(steps.locator('[data-field="note"] .error')).to_be_visible()
    await steps.get_by_role("button", name="取消").click()
    await steps.get_by_role("button", name="立案", exact=True).click()
    await steps.get_by_label("理由").fill("符合立案标准")
    await steps.get_by_role("button", name="确认").click()
    await expect(steps.get_by_role("button")).to_have_text(["交办", "不予立案", "转为意见"])
    await steps.get_by_role("button", name="交办").click()
    await steps.get_by_label("主办单位").select_option(label="市住房和城乡建设局")
    await steps.get_by_label("市教育局").check()
    await clean(page, "assign form")
    await shot(page, "staff-02-assign")
    await steps.get_by_role("button", name="确认").click()
    await expect(steps.locator(".badge.status")).to_have_text("已交办")
    await expect(steps.get_by_role("button")).to_have_text(["开始办理"])
    history = steps.locator("ol.history li")
    await expect(history).to_have_count(3)
    await expect(history.nth(1)).to_contain_text("已提交 → 已立案")
    await expect(history.nth(1)).to_contain_text("王秘书")
    await expect(history.nth(1)).to_contain_text("符合立案标准")
    await expect(steps).to_contain_text("答复期限")
    await clean(page, "proposal assigned")
    await shot(page, "staff-03-assigned")

    proposals = (await cast.staff.get("/api/proposals?q=2026-0042")).body["items"]
    assert proposals[0]["status"] == "assigned"
    assert proposals[0]["lead_unit_id"] == cast.unit_ids["a"]
    assert proposals[0]["co_unit_ids"] == [cast.unit_ids["b"]]
    assert proposals[0]["supervisor_id"] == cast.ids["leader"]

    await page.goto(page.url.split("#")[0] + "#/proposals")
    await page.get_by_label("承办单位").select_option(label="市住房和城乡建设局")
    await page.get_by_role("button", name="筛选", exact=True).click()
    base = page.url.split("#")[0]
    await expect(page).to_have_url(f"{base}#/proposals?unit_id={cast.unit_ids['a']}")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("关于推进社区嵌入式养老服务的建议")
    await expect(rows.first).to_contain_text("已交办")
    await expect(page.get_by_role("row", name=other["number"])).to_have_count(0)
    await page.get_by_role("link", name="按编号排序").click()
    by_number = page.get_by_role("columnheader", name="按编号排序")
    await expect(by_number).to_have_attribute("aria-sort", "descending")
    await clean(page, "list filtered by unit")
    await shot(page, "staff-04-list-by-unit")
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="导出 Excel（.xlsx）").click()
    download = await download_info.value
    path = await download.path()
    assert path is not None
    sheet = load_workbook(io.BytesIO(await asyncio.to_thread(Path(path).read_bytes))).active
    assert sheet is not None
    rows_out = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows_out[1:]] == ["2026-0042"]
    assert rows_out[1][5] == "已交办" and rows_out[1][7] == "市教育局"

    phone = await open_as(cast.staff, f"/#/proposals?unit_id={cast.unit_ids['a']}", phone=True)
    await expect(phone.locator("tbody tr")).to_have_count(1)
    await clean(phone, "phone list")
    await shot(phone, "staff-05-list-phone")
    await phone.get_by_role("link", name="关于推进社区嵌入式养老服务的建议").click()
    await expect(phone.get_by_role("heading", name="办理流程")).to_be_visible()
    await clean(phone, "phone proposal")
    await shot(phone, "staff-06-proposal-phone")

    english = await open_as(cast.staff, "/#/proposals?status=assigned&overdue=false", lang="en")
    await expect(english.get_by_role("link", name="Register a proposal")).to_be_visible()
    await expect(english.locator("tbody tr").first).to_contain_text("Assigned")
    await clean(english, "list in English")
    await shot(english, "staff-06b-list-en")


async def test_staff_edit_a_proposal_and_bundle_another_under_it(
    cast: Cast, open_as: Opener
) -> None:
    lead = await create_proposal(cast, "2026-0001")
    await create_proposal(cast, "2026-0002", title="关于增设电梯补贴的建议")
    page = await open_as(cast.staff, f"/#/proposals/{lead['id']}/edit")
    await expect(page.get_by_role("heading", name="修改提案")).to_be_visible()
    second = "2026-0002 关于增设电梯补贴的建议"
    await page.get_by_label("把其他提案并入本提案").select_option(label=second)
    await page.get_by_role("button", name="并入").click()
    await expect(page.get_by_role("link", name=second)).to_be_visible()
    await page.get_by_label("案由（标题）").fill("关于加快老旧小区加装电梯的建议（修改）")
    await clean(page, "edit form")
    await shot(page, "staff-07-edit-bundle")
    await page.get_by_role("button", name="保存").click()
    changed = "关于加快老旧小区加装电梯的建议（修改）"
    await expect(page.get_by_role("heading", name=changed)).to_be_visible()
    got = (await cast.staff.get(f"/api/proposals/{lead['id']}")).body
    assert len(got["bundled_ids"]) == 1 and got["title"].endswith("（修改）")


async def test_staff_administer_people_units_and_workdays_and_find_it_in_the_audit_log(
    cast: Cast, open_as: Opener, tmp_path: Path
) -> None:
    page = await open_as(cast.staff, "/#/admin/units")
    await expect(page.get_by_role("heading", name="新建承办单位")).to_be_visible()
    await clean(page, "units")
    create_unit = page.get_by_role("form", name="新建承办单位")
    await create_unit.get_by_label("单位名称").fill("市民政局")
    await create_unit.get_by_role("button", name="新建").click()
    await expect(page.get_by_text("市民政局", exact=True)).to_be_visible()

    await page.get_by_role("link", name="人员").click()
    form = page.get_by_role("form", name="新建人员")
    await form.get_by_label("用户名").fill("minzheng")
    await form.get_by_label("姓名").fill("民政局 周科长")
    await form.get_by_label("角色").select_option(label="承办单位")
    await form.get_by_label("电子邮箱").fill("zhou@example.org")
    await form.get_by_role("button", name="新建").click()
    await expect(form.locator('[data-field="unit_id"] .error')).to_contain_text(
        "承办单位账号必须填写"
    )
    await clean(page, "people with a field error")
    await form.get_by_label("所属单位").select_option(label="市民政局")
    await form.get_by_label("初始密码").fill("a long enough passphrase 9")
    await form.get_by_role("button", name="新建").click()
    await expect(page.get_by_role("cell", name="民政局 周科长 minzheng")).to_be_visible()
    await page.get_by_role("button", name="修改 民政局 周科长").click()
    edit = page.get_by_role("form", name="修改：民政局 周科长")
    await edit.get_by_label("电话").fill("0571-8888 0000")
    await edit.get_by_label("账号启用").uncheck()
    await clean(page, "person edit")
    await shot(page, "staff-08-person-edit")
    await edit.get_by_role("button", name="保存").click()
    await expect(page.get_by_role("row", name="民政局 周科长")).to_contain_text("已停用")
    login = await cast.anon.post(
        "/api/auth/login", {"username": "minzheng", "password": "a long enough passphrase 9"}
    )
    assert login.status == 403

    await page.get_by_role("link", name="工作日历").click()
    # The page opens on next year, 2027, and 查看 loads that year again: the file must be
    # chosen in the form drawn after that load, not in the one it replaces.
    upload_heading = page.get_by_role("heading", name="上传 2027 年的放假安排")
    first = await upload_heading.element_handle()
    await page.get_by_label("年份", exact=True).fill("2027")
    await page.get_by_role("button", name="查看").click()
    await first.wait_for_element_state("hidden")  # replaced (detached) by the new load
    await expect(upload_heading).to_be_visible()
    notice = tmp_path / "2027.json"
    notice.write_text(
        json.dumps(
            {
                "format": "xieshang-workdays/1",
                "days_off": [{"date": "2027-01-01", "name": "元旦"}],
                "extra_workdays": [{"date": "2027-02-06", "name": "春节调休上班"}],
            }
        ),
        encoding="utf-8",
    )
    await page.get_by_label("通知文件（JSON 或 ICS）").set_input_files(str(notice))
    await page.get_by_role("button", name="上传 2027 年的放假安排").click()
    await expect(page.get_by_text("调休上班日（1 天）")).to_be_visible()
    await expect(page.get_by_text("春节调休上班")).to_be_visible()
    await clean(page, "workdays")
    await shot(page, "staff-09-workdays")
    await page.get_by_label("年份", exact=True).fill("2028")
    await page.get_by_role("button", name="查看").click()
    await expect(page.get_by_text("放假日（0 天）")).to_be_visible()
    ics = tmp_path / "2028.ics"
    ics.write_text(NEW_YEAR_2028, encoding="utf-8")
    await page.get_by_label("通知文件（JSON 或 ICS）").set_input_files(str(ics))
    await page.get_by_role("button", name="上传 2028 年的放假安排").click()
    await expect(page.get_by_text("放假日（1 天）")).to_be_visible()
    await expect(page.get_by_text("2028-01-01")).to_be_visible()

    await page.get_by_role("link", name="审计日志").click()
    table = page.get_by_role("region", name="审计记录")
    mine = table.locator("tbody tr").filter(has_text="王秘书")
    for act, times in (("创建承办单位", 1), ("创建人员", 1), ("修改人员", 1), ("上传工作日历", 2)):
        acted = mine.filter(has=page.get_by_role("cell", name=act, exact=True))
        await expect(acted).to_have_count(times)
    await clean(page, "audit")
    await shot(page, "staff-10-audit")
    await page.get_by_label("对象类型").select_option(label="承办单位")
    await page.get_by_label("操作人").select_option(label="王秘书（staff）")
    await page.get_by_role("button", name="筛选", exact=True).click()
    await expect(table.locator("tbody tr")).to_have_count(1)
    await table.get_by_role("link", name="承办单位 #3").click()
    await expect(page.get_by_role("form", name="修改：市民政局")).to_be_visible()

    phone = await open_as(cast.staff, "/#/audit?action=workdays.", phone=True)
    await expect(phone.locator("tbody tr")).to_have_count(2)
    await expect(phone.locator("tbody tr").first).to_contain_text("format: ICS")
    await clean(phone, "phone audit")
    await shot(phone, "staff-11-audit-phone")
    await phone.goto(phone.url.split("#")[0] + "#/admin/people")
    await expect(phone.get_by_role("heading", name="新建人员")).to_be_visible()
    await clean(phone, "phone people")
    await shot(phone, "staff-12-people-phone")


async def test_the_registration_form_on_a_phone(cast: Cast, open_as: Opener) -> None:
    page = await open_as(cast.staff, "/#/proposals/new", phone=True)
    await expect(page.get_by_label("提案编号")).to_be_visible()
    await clean(page, "phone registration form")
    await shot(page, "staff-13-register-phone")


async def test_only_staff_reach_the_staff_pages(cast: Cast, open_as: Opener) -> None:
    for path in ("/#/admin/people", "/#/audit", "/#/proposals/new"):
        page = await open_as(cast.member, path)
        await expect(page.get_by_role("heading", name="您无权查看此页面")).to_be_visible()
    await clean(page, "not allowed")


async def test_a_proposal_is_filed_with_the_keyboard_alone(cast: Cast, open_as: Opener) -> None:
    p = await create_proposal(cast)
    page = await open_as(cast.staff, f"/#/proposals/{p['id']}")
    steps = page.locator("section.steps")
    await steps.get_by_role("button", name="立案", exact=True).focus()
    await page.keyboard.press("Enter")
    reason = steps.get_by_label("理由")
    await expect(reason).to_be_focused()  # the step's form takes the focus
    await page.keyboard.type("材料齐全")
    await page.keyboard.press("Tab")
    await expect(steps.get_by_role("button", name="确认")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(steps.locator(".badge.status")).to_have_text("已立案")
    got = (await cast.staff.get(f"/api/proposals/{p['id']}")).body
    assert (got["status"], got["history"][-1]["note"]) == ("filed", "材料齐全")


async def test_the_audit_log_pages_backwards(cast: Cast, open_as: Opener) -> None:
    for capacity in range(1, 56):  # with the venue's creation: 56 venue entries
        reply = await cast.staff.patch(f"/api/venues/{cast.venue_id}", {"capacity": capacity})
        assert reply.status == 200
    page = await open_as(cast.staff, "/#/audit?object_type=venue")
    rows = page.get_by_role("region", name="审计记录").locator("tbody tr")
    await expect(rows).to_have_count(50)
    await expect(rows.first).to_contain_text("capacity")
    await page.get_by_role("link", name="更早的记录").click()
    await expect(rows).to_have_count(6)
    await expect(rows.last).to_contain_text("创建会场")
    await expect(page.get_by_role("link", name="更早的记录")).to_have_count(0)
    await clean(page, "audit, second page")
    await page.get_by_role("link", name="回到最新").click()
    await expect(rows).to_have_count(50)
    await expect(page.get_by_label("对象类型")).to_have_value("venue")
