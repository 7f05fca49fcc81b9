"""Operations that had no page: a session's current conflicts and its recordings (staff), the
overdue reminders sent now (staff), and who is signed in read fresh from the server."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Locator, Page, expect

from server.config import Config
from server.db import Database
from server.media import store as media_store
from server.media.models import Recording
from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, axe, shot


def card(page: Page, title: str) -> Locator:
    return page.locator("section.card", has=page.get_by_role("heading", name=title, exact=True))


async def test_staff_see_a_sessions_conflicts_and_download_its_recording(
    cast: Cast, open_as: Opener, database: Database, config: Config
) -> None:
    first = await create_session(cast, title="住建局办理协商（上午）")
    second = await create_session(
        cast, title="教育局办理协商（同一时间）"
    )  # same people, same time
    webm = b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 40
    config.recording_dir.mkdir(parents=True, exist_ok=True)
    (config.recording_dir / "s1.webm").write_bytes(webm)
    start = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)
    async with database.transaction() as db:
        await media_store.add_recording(
            db,
            Recording(
                session_id=second["id"], feed_id="f1", who=f"p:{cast.ids['member']}",
                name="张委员", source="camera", path="s1.webm", size=len(webm),
                duration_ms=185_000, started_at=start, ended_at=start + dt.timedelta(minutes=3),
            ),
        )  # fmt: skip

    page = await open_as(cast.staff, f"/#/sessions/{second['id']}")
    clashes = card(page, "当前时间冲突")
    await expect(
        clashes.get_by_role("link", name=first["title"], exact=False).first
    ).to_be_visible()
    recordings = card(page, "录像")
    await expect(recordings).to_contain_text("张委员 · 摄像头 · 3 分钟")
    async with page.expect_download() as waiting:
        await recordings.get_by_role("button", name="下载").click()
    saved = await (await waiting.value).path()
    assert saved is not None and saved.read_bytes() == webm
    await shot(page, "session-conflicts-recordings")
    assert await axe(page) == []

    member = await open_as(cast.member, f"/#/sessions/{second['id']}")
    await expect(member.locator("h1")).to_contain_text(second["title"])
    await expect(card(member, "录像")).to_have_count(0)
    await expect(card(member, "当前时间冲突")).to_have_count(0)


async def test_staff_send_the_overdue_reminders_from_the_follow_ups_page(
    cast: Cast, open_as: Opener
) -> None:
    page = await open_as(cast.staff, "/#/follow-ups")
    await page.get_by_role("button", name="立即发送逾期提醒").click()
    await expect(page.locator("#toast")).to_contain_text("已向 0 个逾期事项的责任单位发送提醒邮件")
    unit = await open_as(cast.unit, "/#/follow-ups")
    await expect(unit.get_by_role("heading", name="督办")).to_be_visible()
    await expect(unit.get_by_role("button", name="立即发送逾期提醒")).to_have_count(0)


async def test_a_deactivated_account_goes_back_to_sign_in_on_its_next_page_load(
    cast: Cast, open_as: Opener
) -> None:
    page = await open_as(cast.member2, "/#/calendar")
    await expect(page.locator("header .who")).to_contain_text("陈委员")
    renamed = await cast.staff.patch(f"/api/people/{cast.ids['member2']}", {"name": "陈委员（新）"})
    assert renamed.status == 200, renamed.text
    await page.reload()
    await expect(page.locator("header .who")).to_contain_text("陈委员（新）")
    off = await cast.staff.patch(f"/api/people/{cast.ids['member2']}", {"active": False})
    assert off.status == 200, off.text
    await page.reload()
    await expect(page.get_by_label("用户名")).to_be_visible()
