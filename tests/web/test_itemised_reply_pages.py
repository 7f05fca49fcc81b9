"""The itemised reply (清单式答复) in Chromium: the co-handling unit sends its opinion, the lead
unit reads it on the proposal and replies with four items (A, B, C, D) and a PDF letter; the
proposer reads the reply with its classes in words, the B item is a follow-up in the unit's
workspace, and the statistics count the classes."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from playwright.async_api import Page, expect

from tests.conftest import Cast
from tests.web.conftest import Opener, axe, shot
from tests.web.test_handling_pages import assigned

SUGGESTIONS = ["简化加装电梯审批流程", "提高财政补贴标准", "建立电梯维保基金", "推广装配式电梯"]
ANSWERS = {
    1: ("A", "已出台联合审批办法，审批时限压缩至 20 个工作日。"),
    2: ("B", "修订补贴办法，补贴提高至每户 5 万元。"),
    3: ("C", "受财力所限，维保基金暂缓设立。"),
    4: ("D", "装配式电梯作为今后改造的参考。"),
}
WORDS = {
    "A": "A 类：已解决或采纳",
    "B": "B 类：正在解决或列入计划",
    "C": "C 类：因条件限制暂缓",
    "D": "D 类：留作参考",
}


async def check(page: Page, name: str, phone: bool = False) -> None:
    """A screenshot to look at, and no serious axe violation in this state."""
    await shot(page, f"itemised-{name}{'-phone' if phone else ''}")
    assert await axe(page) == [], name


async def test_the_co_unit_advises_and_the_lead_unit_replies_item_by_item_with_its_letter(
    cast: Cast, open_as: Opener, tmp_path: Path
) -> None:
    p = await assigned(cast, suggestions=SUGGESTIONS, co_unit_ids=[cast.unit_ids["b"]])
    here = f"/#/proposals/{p['id']}"
    due = (dt.date.today() + dt.timedelta(days=180)).isoformat()

    # 协办: the co-unit sends its opinion to the lead unit.
    co = await open_as(cast.unit2, here)
    opinion = co.get_by_role("form", name="向主办单位提交意见")
    await expect(co.get_by_role("form", name="答复提案")).to_have_count(0)
    await opinion.get_by_label("意见内容").fill("建议与学校周边老旧小区改造统筹推进。")
    await check(co, "01-co-unit-opinion-form")
    await opinion.get_by_role("button", name="提交意见").click()
    await expect(co.locator("#toast")).to_have_text("意见已提交")
    await expect(co.locator(".opinions")).to_contain_text("建议与学校周边老旧小区改造统筹推进。")

    # 主办: the lead unit reads the opinion, then answers each suggestion.
    lead = await open_as(cast.unit, here)
    await lead.get_by_role("button", name="开始办理").click()
    reply = lead.get_by_role("form", name="答复提案")
    # The opinion is in the reply form itself, open, before the rows to fill.
    before = reply.locator("details")
    await expect(before.locator("summary")).to_contain_text("协办单位已提交 1 条意见")
    await expect(before.locator(".opinions")).to_contain_text("市教育局")
    await expect(before.locator(".opinions")).to_contain_text("学校周边老旧小区")
    rows = reply.locator("fieldset.reply-item")
    await expect(rows).to_have_count(4)
    for n, (cls, text) in ANSWERS.items():
        row = reply.locator(f"fieldset.reply-item[data-suggestion='{n}']")
        await expect(row).to_contain_text(SUGGESTIONS[n - 1])
        await row.get_by_label(WORDS[cls]).check()
        if cls == "B":
            await row.get_by_label("承诺事项（将做什么）").fill(text)
            await row.get_by_label("承诺完成日期").fill(due)
        else:
            await expect(row.get_by_label("承诺完成日期")).to_be_hidden()
            await row.get_by_label("答复说明").fill(text)
    letter = tmp_path / "关于第0123号提案的答复函.pdf"
    letter.write_bytes(b"%PDF-1.7\n" + os.urandom(50_000))
    await reply.get_by_label("添加附件").set_input_files(str(letter))
    await expect(reply.locator(".uploads li")).to_contain_text("已上传")
    await reply.get_by_label("答复内容").fill("现将第 0123 号提案的办理情况答复如下。")
    await check(lead, "02-lead-unit-reply-form")
    phone = await open_as(cast.unit, here, phone=True)
    await expect(phone.locator("fieldset.reply-item")).to_have_count(4)
    await check(phone, "02-lead-unit-reply-form", phone=True)

    await reply.get_by_role("button", name="提交答复").click()
    await expect(lead.locator("h1 .badge").first).to_have_text("已答复")
    items = lead.locator("article.reply .reply-items > li")
    await expect(items).to_have_count(4)
    for n, (cls, _text) in ANSWERS.items():
        await expect(items.nth(n - 1)).to_contain_text(WORDS[cls])
    await expect(items.nth(1)).to_contain_text(f"承诺于 {due} 前完成")
    await expect(lead.locator("article.reply")).to_contain_text("关于第0123号提案的答复函.pdf")
    await check(lead, "03-lead-unit-replied")

    stored = (await cast.staff.get(f"/api/proposals/{p['id']}/handling")).body["replies"]
    assert [(i["suggestion"], i["class"]) for i in stored[0]["items"]] == [
        (n, cls) for n, (cls, _t) in ANSWERS.items()
    ]
    assert [a["name"] for a in stored[0]["attachments"]] == ["关于第0123号提案的答复函.pdf"]

    # The B commitment is followed up (督办), owned by the lead unit, due when promised.
    follow = lead.locator("[data-follow-up]")
    await expect(follow).to_have_count(1)
    await expect(follow).to_contain_text(ANSWERS[2][1])
    await expect(follow).to_contain_text(f"完成时限：{due}")
    await expect(follow).to_contain_text("责任单位：市住房和城乡建设局")
    workspace = await open_as(cast.unit, "/#/my/handling")
    await expect(workspace.locator("[data-follow-up]")).to_contain_text(ANSWERS[2][1])
    await check(workspace, "04-lead-unit-workspace-follow-up")

    # The proposer reads the reply with its classes in words; the co-units' opinions are not theirs.
    member = await open_as(cast.member, here, phone=True)
    await expect(member.locator("article.reply .reply-items > li")).to_have_count(4)
    await expect(member.locator("article.reply")).to_contain_text(WORDS["C"])
    await expect(member.locator(".opinions")).to_have_count(0)
    await check(member, "05-proposer-reads-reply", phone=True)

    staff = await open_as(cast.staff, "/#/stats")
    classes = staff.locator(".class-legend")
    await expect(classes).to_contain_text("A 类：已解决或采纳：1")
    await expect(classes).to_contain_text("B 类：正在解决或列入计划：1")
    await check(staff, "06-stats-reply-classes")


async def test_a_refused_reply_says_why_and_keeps_what_was_typed(
    cast: Cast, open_as: Opener
) -> None:
    p = await assigned(cast, suggestions=SUGGESTIONS[:2])
    step = await cast.unit.post(f"/api/proposals/{p['id']}/transitions", {"to": "handling"})
    assert step.status == 200, step.text
    lead = await open_as(cast.unit, f"/#/proposals/{p['id']}")
    reply = lead.get_by_role("form", name="答复提案")
    first = reply.locator("fieldset.reply-item[data-suggestion='1']")
    second = reply.locator("fieldset.reply-item[data-suggestion='2']")
    await first.get_by_label(WORDS["A"]).check()
    await second.get_by_label(WORDS["B"]).check()
    await second.get_by_label("承诺事项（将做什么）").fill("年内出台补贴办法")
    # A date already past passes the browser's own check only when typed around it: the server
    # refuses it in words, and the form keeps what was chosen.
    await second.get_by_label("承诺完成日期").evaluate("(el) => el.removeAttribute('min')")
    await second.get_by_label("承诺完成日期").fill("2020-01-01")
    await reply.get_by_label("答复内容").fill("答复如下。")
    await reply.get_by_role("button", name="提交答复").click()
    await expect(reply.locator(".error")).to_contain_text("承诺完成日期 2020-01-01 已过")
    await expect(second.get_by_label("承诺事项（将做什么）")).to_have_value("年内出台补贴办法")
    await check(lead, "07-refused-reply")
    handling = (await cast.staff.get(f"/api/proposals/{p['id']}/handling")).body
    assert handling["replies"] == []
