"""Hostile names, titles and chat messages are shown as text in Chromium and never run.

Script tags, event-handler attributes, a right-to-left override and thousands of emoji go in
through the API and the room; the pages must show them literally, run none of them (the strict
CSP would block inline script anyway: these checks would catch an HTML sink even without it),
keep an override from reversing the text after it, and keep the layout.
"""

from __future__ import annotations

from typing import Any

import socketio
from playwright.async_api import Page, expect
from sqlalchemy import text as sql

from server.db import Database
from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, shot

SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '"><img src=x onerror="window.__pwned = 2">'
RTL = "\u202e注意：这段文字被反转"
EMOJI_4K = "😀" * 1000  # what the chat box lets one type (2,000 UTF-16 units)
EMOJI_10K = "👨‍👩‍👧" * 560  # 10 KB of UTF-8: beyond the 2,000-character limit


async def _untouched(page: Page, dialogs: list[str]) -> None:
    assert await page.evaluate("window.__pwned") is None
    assert await page.locator("img[src='x']").count() == 0
    assert dialogs == []


async def _say(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="交流")
    await box.fill(text)
    await page.get_by_role("button", name="发送").click()
    await expect(box).to_have_value("")


async def test_hostile_titles_names_and_messages_are_shown_as_text_and_never_run(
    cast: Cast, open_as: Opener, server: Any, database: Database
) -> None:
    s = await create_session(
        cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        title=f"{SCRIPT}民生议政厅{IMG}"[:200],
        agenda=[{"title": "<b>议题</b>"}],
    )
    sid = s["id"]
    # The API refuses a title with a direction override; one from an older record must still
    # be isolated on the page.
    agenda = [{"title": f"{RTL} <b>议题</b>"}]
    refused = await cast.staff.patch(f"/api/sessions/{sid}", {"agenda": agenda})
    assert refused.status == 400 and "text-direction" in refused.text
    async with database.transaction() as db:
        await db.execute(
            sql("UPDATE agenda_items SET title = :title WHERE session_id = :sid"),
            {"title": agenda[0]["title"], "sid": sid},
        )
    joined = await cast.anon.post(f"/api/sessions/{sid}/guest-join", {"name": "<b>刘</b><script>"})
    assert joined.status == 200, joined.text
    refused = await cast.anon.post(f"/api/sessions/{sid}/guest-join", {"name": "主持人\u202e"})
    assert refused.status == 400 and "text-direction" in refused.text

    host = await open_as(cast.staff, f"/#/rooms/{sid}")
    member = await open_as(cast.member, f"/#/rooms/{sid}")
    dialogs: list[str] = []
    for page in (host, member):
        page.on("dialog", lambda d: dialogs.append(d.message))
    await host.get_by_role("button", name="开始会议").click()
    guest = socketio.AsyncClient(reconnection=False)
    await guest.connect(
        str(server.make_url("")),
        auth={"guest_token": joined.body["guest_token"], "session_id": sid},
        namespaces=["/room"],
        transports=["websocket"],
    )
    lobby = host.locator("#lobby-h + ul")
    await expect(lobby).to_contain_text("<b>刘</b><script>")
    await lobby.get_by_role("button", name="准入").click()

    for text in (SCRIPT, IMG, RTL + "，后面的文字不应被反转", EMOJI_4K):
        await _say(member, text)
    messages = host.locator(".chat .messages")
    await expect(messages).to_contain_text(SCRIPT)
    await expect(messages).to_contain_text(IMG)
    await expect(messages.locator("li").last).to_contain_text("😀😀😀")
    # The override is isolated in its own <bdi>: the speaker's name before it and the text of
    # the rest of the list stay in their own direction.
    isolated = messages.locator("bdi")
    await expect(isolated).to_have_count(1)
    await expect(isolated).to_contain_text("注意：这段文字被反转")
    await expect(host.locator(".agenda bdi")).to_contain_text("<b>议题</b>")
    await expect(host.locator("h1")).to_contain_text(SCRIPT)
    overflow = await host.evaluate(
        "() => [...document.querySelectorAll('.chat .messages li')]"
        ".some((li) => li.scrollWidth > li.clientWidth + 1)"
    )
    assert overflow is False, "a message overflows its column"
    await shot(host, "20-hostile-room-host")
    for page in (host, member):
        await _untouched(page, dialogs)

    try:
        assert (await guest.call("join", None, namespace="/room", timeout=5))["ok"] is True
        ack = await guest.call(
            "command", {"type": "chat.send", "data": {"text": EMOJI_10K}}, namespace="/room"
        )
        assert ack["ok"] is False and ack["error"]["code"] == "invalid"
        assert "2000" in ack["error"]["message"]
    finally:
        await guest.disconnect()

    phone = await open_as(None, f"/join/{sid}", phone=True)
    phone.on("dialog", lambda d: dialogs.append(d.message))
    await phone.get_by_label("您的姓名").fill('<img src=x onerror="window.__pwned=5">')
    await phone.get_by_role("button", name="以来宾身份加入").click()
    await expect(phone.get_by_text("主持人准入后即可进入会议")).to_be_visible()
    await lobby.get_by_role("button", name="准入").click()
    await expect(phone.locator(".agenda bdi")).to_contain_text("<b>议题</b>")
    await expect(phone.locator(".chat .messages")).to_contain_text(SCRIPT)
    await expect(host.locator("main")).to_contain_text('<img src=x onerror="window.__pwned=5">')
    await shot(phone, "21-hostile-room-phone")
    clipped = await phone.evaluate(
        "() => [...document.querySelectorAll('.tile-name')].some((el) =>"
        " el.getBoundingClientRect().left < el.closest('.tile').getBoundingClientRect().left - 1)"
    )
    assert clipped is False, "a long name runs out of its video tile"
    await _untouched(phone, dialogs)
