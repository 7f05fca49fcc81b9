"""The session page lists the composite recording with its state (issue #19): being made,
made (downloadable by staff), failed with the reason; and the list's empty and failed states."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import expect

from server.config import Config
from server.db import Database
from server.media import store as media_store
from server.media.models import Recording
from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, axe, shot
from tests.web.test_session_record_pages import card

START = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)


def feed(session_id: int, path: str, size: int) -> Recording:
    return Recording(
        session_id=session_id, feed_id="f1", who="p:1", name="张委员", source="camera",
        path=path, size=size, duration_ms=185_000, started_at=START,
        ended_at=START + dt.timedelta(minutes=3),
    )  # fmt: skip


def composite(
    session_id: int, status: str, path: str = "", size: int = 0, **extra: object
) -> Recording:
    return Recording(
        session_id=session_id, kind="composite", status=status, feed_id="", who="", name="",
        source="composite", path=path, size=size, duration_ms=185_000 if path else 0,
        started_at=START, ended_at=START + dt.timedelta(minutes=3), due_at=START, **extra,
    )  # fmt: skip


async def test_the_session_page_shows_the_composite_recording_and_its_state(
    cast: Cast, open_as: Opener, database: Database, config: Config
) -> None:
    made = await create_session(cast, title="住建局办理协商")
    making = await create_session(cast, title="教育局办理协商")
    failed = await create_session(cast, title="交通局办理协商")
    nothing = await create_session(cast, title="卫健委办理协商")
    mp4 = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 20
    config.recording_dir.mkdir(parents=True, exist_ok=True)
    (config.recording_dir / "c1.mp4").write_bytes(mp4)
    (config.recording_dir / "s1.webm").write_bytes(b"\x1a\x45\xdf\xa3" * 64)
    async with database.transaction() as db:
        await media_store.add_recording(db, feed(made["id"], "s1.webm", 256))
        await media_store.add_recording(db, composite(made["id"], "done", "c1.mp4", len(mp4)))
        await media_store.add_recording(db, feed(making["id"], "s1.webm", 256))
        await media_store.add_recording(db, composite(making["id"], "running"))
        await media_store.add_recording(db, feed(failed["id"], "s1.webm", 256))
        await media_store.add_recording(
            db, composite(failed["id"], "failed", reason="timeout", attempts=1)
        )

    page = await open_as(cast.staff, f"/#/sessions/{made['id']}")
    recordings = card(page, "录像")
    await expect(recordings.locator("li").first).to_contain_text("合成录像（发言人大画面")
    await expect(recordings.locator("li").first).to_contain_text("3 分钟")
    await expect(recordings.locator("li").nth(1)).to_contain_text("张委员 · 摄像头 · 3 分钟")
    async with page.expect_download() as waiting:
        await recordings.get_by_role("button", name="下载 合成录像").click()
    download = await waiting.value
    saved = await download.path()
    assert saved is not None and saved.read_bytes() == mp4
    assert download.suggested_filename.endswith(".mp4")
    await shot(page, "session-composite-recording")
    assert await axe(page) == []

    page = await open_as(cast.staff, f"/#/sessions/{making['id']}")
    recordings = card(page, "录像")
    await expect(recordings.locator("li").first).to_contain_text("合成录像 正在合成…")
    await expect(recordings.get_by_role("button", name="下载 合成录像")).to_have_count(0)

    page = await open_as(cast.leader, f"/#/sessions/{failed['id']}", phone=True)
    recordings = card(page, "录像")
    await expect(recordings.locator("li").first).to_contain_text("合成失败 超过了合成时限")
    await expect(recordings.get_by_role("button")).to_have_count(0)  # leaders do not download
    await shot(page, "session-composite-failed-phone")
    assert await axe(page) == []

    page = await open_as(cast.staff, f"/#/sessions/{nothing['id']}")
    await expect(card(page, "录像")).to_contain_text("本场会议没有录像。")

    # The list cannot be loaded: said so, with a way to try again.
    await page.route("**/api/sessions/*/recordings", lambda route: route.abort())
    await page.reload()
    recordings = card(page, "录像")
    await expect(recordings.get_by_role("alert")).to_contain_text("录像列表加载失败")
    await page.unroute("**/api/sessions/*/recordings")
    await recordings.get_by_role("button", name="刷新").click()
    await expect(recordings).to_contain_text("本场会议没有录像。")

    english = await open_as(cast.staff, f"/#/sessions/{made['id']}", lang="en")
    await expect(card(english, "Recordings").locator("li").first).to_contain_text(
        "Composite recording (speaker large"
    )
