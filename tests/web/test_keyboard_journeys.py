"""Every journey of the handling work with the keyboard alone: Tab (and the arrow keys in a
radio group or a list box) to move, Enter or Space to act, typing to write; no clicks. Each
control Tab reaches must show that it has the focus (:focus-visible).

Staff register, file and assign a proposal and find it by its unit; the unit replies with a
PDF, reports progress and downloads the file; the member evaluates (unsatisfied, then
satisfied) and the unit rates the quality; staff create a unit and a person, upload a working-
day calendar and follow the audit log to the unit; a page someone may not see says so, and the
keyboard leads on from it."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from playwright.async_api import Locator, Page, TimeoutError, expect

from tests.conftest import Cast
from tests.web.conftest import Opener, axe, shot
from tests.web.test_handling_pages import assigned

MOST_TABS = 150  # a page's focusable controls, header included, with room to spare

SHOWS_FOCUS = """e => {
  const style = getComputedStyle(e);
  return (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== "none";
}"""


async def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the focus (going round the page if need be), and check
    that it shows it."""
    await expect(target).to_be_visible()
    for _ in range(MOST_TABS):
        if await target.evaluate("e => e === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    else:
        raise AssertionError(f"Tab never reaches {target}")
    assert await target.evaluate(SHOWS_FOCUS), f"{target} has the focus but does not show it"


async def press(page: Page, target: Locator, key: str = "Enter") -> None:
    await tab_to(page, target)
    await page.keyboard.press(key)


async def write(page: Page, field: Locator, text: str) -> None:
    """Tab to a text field, empty it and type ``text``."""
    await tab_to(page, field)
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type(text)


async def choose(page: Page, select: Locator, label: str) -> None:
    """Tab to a list box and move through it with the arrow keys to the option ``label``."""
    await tab_to(page, select)
    labels = await select.locator("option").all_text_contents()
    assert label in labels, (label, labels)
    current = await select.evaluate("s => s.selectedIndex")
    step = "ArrowDown" if labels.index(label) >= current else "ArrowUp"
    for _ in range(len(labels)):
        if await select.evaluate("s => s.selectedOptions[0]?.textContent") == label:
            return
        await page.keyboard.press(step)
    raise AssertionError(f"the arrow keys never reach {label}")


async def pick_file(page: Page, picker: Locator, path: Path) -> None:
    """Tab to a file input and open its chooser with Space (again, as a person would, if the
    page was still settling the first time)."""
    for attempt in range(2):
        await tab_to(page, picker)
        try:
            async with page.expect_file_chooser(timeout=5000) as chooser:
                await page.keyboard.press("Space")
        except TimeoutError:
            if attempt:
                raise
            continue
        await (await chooser.value).set_files(str(path))
        return


async def clean(page: Page, state: str) -> None:
    assert await axe(page) == [], state


async def test_staff_register_file_assign_and_find_a_proposal_by_keyboard(
    cast: Cast, open_as: Opener
) -> None:
    page = await open_as(cast.staff, "/#/proposals")
    await press(page, page.get_by_role("link", name="登记提案"))
    await expect(page.get_by_role("heading", name="登记提案")).to_be_visible()
    await write(page, page.get_by_label("提案编号"), "2026-0042")
    await write(page, page.get_by_label("案由（标题）"), "关于推进社区嵌入式养老服务的建议")
    await write(page, page.get_by_label("内容摘要"), "在老旧小区配建养老服务站点。")
    await write(page, page.get_by_label("类别"), "社会事业")
    await press(page, page.get_by_label("重点提案"), "Space")
    await choose(page, page.get_by_label("督办领导"), "李主席")
    await press(page, page.get_by_label("张委员"), "Space")
    await expect(page.get_by_label("张委员")).to_be_checked()
    await shot(page, "keyboard-01-register")
    await press(page, page.get_by_role("button", name="登记", exact=True))

    steps = page.locator("section.steps")
    await expect(steps.get_by_role("button")).to_have_text(["立案", "不予立案", "转为意见"])
    await press(page, steps.get_by_role("button", name="立案", exact=True))
    await expect(steps.get_by_label("理由")).to_be_focused()  # the step's form takes the focus
    await page.keyboard.type("符合立案标准")
    await press(page, steps.get_by_role("button", name="确认"))
    await expect(steps.get_by_role("button")).to_have_text(["交办", "不予立案", "转为意见"])
    await press(page, steps.get_by_role("button", name="交办"))
    await choose(page, steps.get_by_label("主办单位"), "市住房和城乡建设局")
    await press(page, steps.get_by_label("市教育局"), "Space")
    await shot(page, "keyboard-02-assign")
    await clean(page, "assign form, by keyboard")
    await press(page, steps.get_by_role("button", name="确认"))
    await expect(steps.locator(".badge.status")).to_have_text("已交办")
    got = (await cast.staff.get("/api/proposals?q=2026-0042")).body["items"][0]
    assert (got["status"], got["lead_unit_id"], got["co_unit_ids"]) == (
        "assigned",
        cast.unit_ids["a"],
        [cast.unit_ids["b"]],
    )

    await press(page, page.get_by_role("navigation").get_by_role("link", name="提案", exact=True))
    await expect(page.get_by_role("link", name="登记提案")).to_be_visible()
    await choose(page, page.get_by_label("承办单位"), "市住房和城乡建设局")
    await press(page, page.get_by_role("button", name="筛选", exact=True))
    base = page.url.split("#")[0]
    await expect(page).to_have_url(f"{base}#/proposals?unit_id={cast.unit_ids['a']}")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("关于推进社区嵌入式养老服务的建议")
    await press(page, rows.first.get_by_role("link", name="关于推进社区嵌入式养老服务的建议"))
    await expect(page.get_by_role("heading", name="办理流程")).to_be_visible()
    await shot(page, "keyboard-03-found-by-unit")


async def test_the_unit_replies_and_the_member_evaluates_by_keyboard(
    cast: Cast, open_as: Opener, tmp_path: Path
) -> None:
    p = await assigned(cast)
    here = f"/#/proposals/{p['id']}"
    unit = await open_as(cast.unit, here)
    await press(unit, unit.get_by_role("button", name="开始办理"))
    await expect(unit.locator("h1 .badge").first).to_have_text("办理中")

    reply = unit.get_by_role("form", name="答复提案")
    pdf = tmp_path / "答复函.pdf"
    data = b"%PDF-1.7\n" + os.urandom(50_000)
    pdf.write_bytes(data)
    await pick_file(unit, reply.get_by_label("添加附件"), pdf)
    await expect(reply.locator(".uploads li")).to_contain_text("已上传")

    progress = unit.get_by_role("form", name="报告办理进展")
    await write(unit, progress.get_by_label("节点"), "完成现场调研")
    await write(unit, progress.get_by_label("完成百分比"), "40")
    await write(unit, progress.get_by_label("说明"), "已走访 12 个小区。")
    await press(unit, progress.get_by_role("button", name="提交进展"))
    await expect(unit.locator("#toast")).to_have_text("进展已提交")

    reply = unit.get_by_role("form", name="答复提案")
    await write(unit, reply.get_by_label("答复内容"), "我局已将加装电梯纳入年度计划。")
    await shot(unit, "keyboard-04-unit-reply")
    await press(unit, reply.get_by_role("button", name="提交答复"))
    await expect(unit.locator("h1 .badge").first).to_have_text("已答复")
    answer = unit.locator("article.reply")
    async with unit.expect_download() as download_info:
        await press(unit, answer.get_by_role("button", name="下载 答复函.pdf"))
    saved = await (await download_info.value).path()
    assert saved is not None and await asyncio.to_thread(Path(saved).read_bytes) == data
    handling = (await cast.staff.get(f"/api/proposals/{p['id']}/handling")).body
    assert [r["percent"] for r in handling["progress"]] == [40]

    member = await open_as(cast.member, here)
    evaluate = member.get_by_role("form", name="评价办理答复")
    verdicts = evaluate.get_by_role("radio")
    await tab_to(member, verdicts.first)  # Tab enters the group; the arrow keys choose in it
    for _ in range(await verdicts.count()):
        if await evaluate.get_by_label("不满意").is_checked():
            break
        await member.keyboard.press("ArrowDown")
    await expect(evaluate.get_by_label("不满意")).to_be_checked()
    await write(member, evaluate.get_by_label("意见"), "补贴标准仍不明确。")
    await press(member, evaluate.get_by_role("button", name="提交评价"))
    await expect(member.locator(".alert.warn")).to_contain_text("第 2 轮办理已开始")
    await shot(member, "keyboard-05-member-unsatisfied")

    await unit.reload()
    reply = unit.get_by_role("form", name="答复提案")
    await write(unit, reply.get_by_label("答复内容"), "补贴标准为每台 15 万元。")
    await press(unit, reply.get_by_role("button", name="提交答复"))
    await expect(unit.locator("article.reply")).to_have_count(2)

    await member.reload()
    evaluate = member.get_by_role("form", name="评价办理答复")
    await tab_to(member, evaluate.get_by_role("radio").first)
    await member.keyboard.press("Space")  # the first verdict: 满意
    await expect(evaluate.get_by_label("满意", exact=True)).to_be_checked()
    await write(member, evaluate.get_by_label("意见"), "满意，谢谢。")
    await press(member, evaluate.get_by_role("button", name="提交评价"))
    await expect(member.locator("h1 .badge").first).to_have_text("已评价")

    await unit.reload()
    rate = unit.get_by_role("form", name="评价提案质量")
    await tab_to(unit, rate.get_by_role("radio").first)
    await unit.keyboard.press("Space")
    await press(unit, rate.get_by_role("button", name="提交质量评价"))
    await expect(unit.locator("[data-kind=quality]")).to_contain_text("提案质量：")
    await shot(unit, "keyboard-06-unit-rated")
    evaluations = (await cast.staff.get(f"/api/proposals/{p['id']}/handling")).body["evaluations"]
    assert [e["kind"] for e in evaluations] == ["handling", "handling", "quality"]


async def test_staff_administer_and_read_the_audit_log_by_keyboard(
    cast: Cast, open_as: Opener, tmp_path: Path
) -> None:
    page = await open_as(cast.staff, "/#/admin/units")
    create_unit = page.get_by_role("form", name="新建承办单位")
    await write(page, create_unit.get_by_label("单位名称"), "市民政局")
    await press(page, create_unit.get_by_role("button", name="新建"))
    await expect(page.get_by_text("市民政局", exact=True)).to_be_visible()

    await press(page, page.get_by_role("link", name="人员", exact=True))
    form = page.get_by_role("form", name="新建人员")
    await write(page, form.get_by_label("用户名"), "minzheng")
    await write(page, form.get_by_label("姓名"), "民政局 周科长")
    await choose(page, form.get_by_label("角色"), "承办单位")
    await choose(page, form.get_by_label("所属单位"), "市民政局")
    await write(page, form.get_by_label("电子邮箱"), "zhou@example.org")
    await write(page, form.get_by_label("初始密码"), "a long enough passphrase 9")
    await choose(page, form.get_by_label("语言"), "English")  # the language of their emails
    await press(page, form.get_by_role("button", name="新建"))
    await expect(page.get_by_role("cell", name="民政局 周科长 minzheng")).to_be_visible()
    people = (await cast.staff.get("/api/people?q=minzheng")).body["items"]
    assert [(p["unit_id"], p["language"]) for p in people] == [(3, "en")]

    await press(page, page.get_by_role("link", name="工作日历", exact=True))
    await write(page, page.get_by_label("年份", exact=True), "2027")
    await press(page, page.get_by_role("button", name="查看"))
    await expect(page.get_by_role("heading", name="上传 2027 年的放假安排")).to_be_visible()
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
    await pick_file(page, page.get_by_label("通知文件（JSON 或 ICS）"), notice)
    await press(page, page.get_by_role("button", name="上传 2027 年的放假安排"))
    await expect(page.get_by_text("春节调休上班")).to_be_visible()
    await shot(page, "keyboard-07-workdays")

    await press(page, page.get_by_role("link", name="审计日志"))
    table = page.get_by_role("region", name="审计记录")
    await expect(table.locator("tbody tr").first).to_be_visible()
    await choose(page, page.get_by_label("对象类型"), "承办单位")
    await choose(page, page.get_by_label("操作人"), "王秘书（staff）")
    await press(page, page.get_by_role("button", name="筛选", exact=True))
    await expect(table.locator("tbody tr")).to_have_count(1)
    await shot(page, "keyboard-08-audit")
    await press(page, table.get_by_role("link", name="承办单位 #3"))
    await expect(page.get_by_role("form", name="修改：市民政局")).to_be_visible()


async def test_a_page_someone_may_not_see_says_so_and_the_keyboard_leads_on(
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
    for who, home in ((cast.member, "我的提案"), (cast.unit, "我的承办")):
        page = await open_as(who, f"/#/proposals/{mine['id']}")
        await expect(page.get_by_role("heading", name=mine["title"])).to_be_visible()
        await page.goto(page.url.split("#")[0] + f"#/proposals/{theirs['id']}")
        state = page.locator("[data-state=not-found]")
        await expect(state).to_be_visible()
        # The focus is on the page's content, which says what happened (not the page before).
        await expect(page.locator("main")).to_be_focused()
        await expect(page.get_by_text(mine["title"])).to_have_count(0)
        await press(page, page.get_by_role("navigation").get_by_role("link", name=home))
        await expect(page.get_by_text(mine["title"]).first).to_be_visible()
    page = await open_as(cast.member, "/#/admin/people")
    await expect(page.get_by_role("heading", name="您无权查看此页面")).to_be_visible()
    await expect(page.locator("main")).to_be_focused()
    await press(page, page.get_by_role("navigation").get_by_role("link", name="我的提案"))
    await expect(page.get_by_text(mine["title"]).first).to_be_visible()
    await shot(page, "keyboard-09-back-from-not-allowed")
