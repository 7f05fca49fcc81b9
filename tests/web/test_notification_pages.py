"""Notifications in Chromium: the bell's count in the header goes up live when another account
replies or moves a proposal on; the centre lists them (all or unread), marks one or all read and
opens what each is about; the email settings turn a kind off. Phone and desktop, axe-clean."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create
from tests.web.conftest import Opener, axe, shot


async def check(page: Page, name: str) -> None:
    await shot(page, f"notifications-{name}")
    assert await axe(page) == [], name


async def step(cast: Cast, who: object, pid: int, to: str) -> None:
    reply = await who.post(f"/api/proposals/{pid}/transitions", {"to": to})  # type: ignore[attr-defined]
    assert reply.status == 200, reply.text


async def test_the_bell_counts_live_and_the_centre_lists_and_marks_read(
    cast: Cast, open_as: Opener
) -> None:
    proposal = await create(cast, "2026-0301")
    pid = proposal["id"]
    member = await open_as(cast.member, "/#/")
    bell = member.locator("header [data-bell]")
    await expect(bell).to_have_attribute("aria-label", "通知")
    await expect(bell.locator(".count")).to_be_hidden()

    # Staff file it, then the unit replies: the open page's bell counts up without a reload.
    await step(cast, cast.staff, pid, "filed")
    await expect(bell.locator(".count")).to_have_text("1")
    await expect(bell).to_have_attribute("aria-label", "通知，1 条未读")
    await step(cast, cast.staff, pid, "assigned")
    await step(cast, cast.unit, pid, "handling")
    replied = await cast.unit.post(f"/api/proposals/{pid}/reply", {"text": "已答复"})
    assert replied.status == 201, replied.text
    await expect(bell.locator(".count")).to_have_text("3")
    await check(member, "01-bell-desktop")

    await bell.click()
    await expect(member.get_by_role("heading", name="通知")).to_be_visible()
    rows = member.locator("li.notification-item")
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_contain_text("请对您的提案2026-0301")
    await expect(rows.nth(2)).to_contain_text("已立案")
    await check(member, "02-centre")

    # Marking one read lowers the bell; the unread filter then shows the other two.
    await rows.nth(2).get_by_role("button", name="标为已读").click()
    await expect(bell.locator(".count")).to_have_text("2")
    await member.get_by_role("link", name="未读", exact=True).click()
    await expect(member.locator("li.notification-item")).to_have_count(2)
    # A notice that arrives while the centre is open shows up in it.
    report = {"milestone": "摸排", "percent": 30}
    assert (await cast.unit.post(f"/api/proposals/{pid}/progress", report)).status == 201
    await expect(member.locator("li.notification-item")).to_have_count(3)
    await expect(member.locator("li.notification-item").first).to_contain_text("报告了您的提案")
    await expect(bell.locator(".count")).to_have_text("3")

    # Opening one marks it read and goes to the proposal.
    await member.locator("li.notification-item").first.get_by_role("link").click()
    await expect(member).to_have_url(f"{member.url.split('#')[0]}#/proposals/{pid}")
    await expect(bell.locator(".count")).to_have_text("2")
    await member.goto(member.url.split("#")[0] + "#/notifications")
    await member.get_by_role("button", name="全部标为已读").click()
    await expect(bell.locator(".count")).to_be_hidden()
    await member.get_by_role("link", name="未读", exact=True).click()
    await expect(member.get_by_text("没有未读通知。")).to_be_visible()
    await check(member, "03-none-unread")


async def test_on_a_phone_the_bell_shows_and_email_settings_turn_a_kind_off(
    cast: Cast, open_as: Opener
) -> None:
    await step(cast, cast.staff, (await create(cast, "2026-0311"))["id"], "filed")
    phone = await open_as(cast.member, "/#/", phone=True)
    bell = phone.locator("header [data-bell]")
    await expect(bell.locator(".count")).to_have_text("1")
    await expect(bell).to_be_in_viewport()
    await check(phone, "04-bell-phone")
    await bell.click()
    await expect(phone.locator("li.notification-item")).to_have_count(1)
    await check(phone, "05-centre-phone")

    await phone.get_by_role("link", name="邮件提醒设置").click()
    await expect(phone.get_by_role("heading", name="邮件提醒设置")).to_be_visible()
    await expect(phone.get_by_text("邮件发送至：member@example.org")).to_be_visible()
    await expect(phone.get_by_label("会议邀请变更")).to_be_disabled()
    await phone.get_by_label("提案立案").uncheck()
    await phone.get_by_role("button", name="保存").click()
    await expect(phone.get_by_text("已保存")).to_be_visible()
    await check(phone, "06-settings-phone")
    shown = (await cast.member.get("/api/me/notification-settings")).body["items"]
    assert {i["kind"]: i["email"] for i in shown}["proposal_filed"] is False
    await phone.reload()
    await expect(phone.get_by_label("提案立案")).not_to_be_checked()


async def test_every_role_has_the_bell_and_an_empty_centre_says_so(
    cast: Cast, open_as: Opener
) -> None:
    for who in (cast.staff, cast.leader, cast.unit, cast.guest):
        page = await open_as(who, "/#/notifications")
        await expect(page.locator("header [data-bell]")).to_be_visible()
        await expect(page.get_by_text("暂无通知。")).to_be_visible()
    await check(page, "07-empty")
    english = await open_as(cast.member2, "/#/notifications", lang="en")
    await expect(english.get_by_role("heading", name="Notifications")).to_be_visible()
    await expect(english.get_by_text("No notifications yet.")).to_be_visible()
