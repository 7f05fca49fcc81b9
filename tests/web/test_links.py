"""Every link the server writes opens the right page in a fresh browser: the links in a real
invitation email (.eml from the outbox), the calendar feed's links, the check-in QR link and the
public join link, signed out first and signed in after."""

from __future__ import annotations

import asyncio
import email
import re
from email import policy
from pathlib import Path

from playwright.async_api import Page, expect

from server.config import Config
from tests.conftest import PASSWORD, Cast
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, axe, shot

LINK = re.compile(r"https?://[^\s\"'<>]+")


async def mail_to(folder: Path, address: str) -> email.message.EmailMessage:
    """The first message the outbox wrote for ``address`` (waits for the worker)."""
    for _ in range(100):
        found = await asyncio.to_thread(lambda: sorted(folder.glob(f"*{address}*.eml")))
        if found:
            data = await asyncio.to_thread(found[0].read_bytes)
            return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no .eml for {address} in {folder}")


def links_of(message: email.message.EmailMessage) -> set[str]:
    """Every URL in every text part (plain, HTML and the calendar), unfolded."""
    found: set[str] = set()
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        text = part.get_content()
        text = text.replace("\r\n ", "").replace("\n ", "")  # iCalendar folding
        found.update(url.rstrip(".,;)") for url in LINK.findall(text.replace("&amp;", "&")))
    return found


async def sign_in(page: Page, who: str) -> None:
    await expect(page.get_by_label("用户名")).to_be_visible()
    assert "#/login" in page.url
    await page.get_by_label("用户名").fill(who)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()


async def test_every_link_of_an_invitation_opens_its_page_after_signing_in(
    cast: Cast, open_as: Opener, config: Config
) -> None:
    s = await create_session(cast)
    message = await mail_to(config.mail_dir, "member@example.org")
    links = links_of(message)
    base = config.public_url
    assert all(url.startswith(base + "/") for url in links), links
    session_links = {url for url in links if url.startswith(f"{base}/sessions/")}
    rsvp_links = {url for url in links if url.startswith(f"{base}/rsvp/")}
    assert session_links == {f"{base}/sessions/{s['id']}"}
    assert len(rsvp_links) == 3  # accept, tentative, decline
    assert links == session_links | rsvp_links

    for url in session_links:
        page = await open_as(None, url.removeprefix(base))
        await sign_in(page, "member")
        await expect(page.get_by_role("heading", name=s["title"])).to_be_visible()
        assert page.url.endswith(f"/#/sessions/{s['id']}")
        assert await axe(page) == []
    await shot(page, "links-01-session-from-email")

    for url in rsvp_links:
        page = await open_as(None, url.removeprefix(base))
        heading = page.get_by_role("heading", name="确认答复")
        await expect(heading).to_be_visible()
        await expect(page.get_by_role("button")).to_contain_text("确认")
        assert await axe(page) == []
    await shot(page, "links-02-rsvp-from-email")
    # The RSVP pages link to the session too: confirm, then follow it (signing in on the way).
    await page.get_by_role("button").click()
    await expect(page.get_by_text("的答复已记录")).to_be_visible()
    assert await axe(page) == []
    await page.get_by_role("link", name="查看协商详情").click()
    await sign_in(page, "member")
    await expect(page.get_by_role("heading", name=s["title"])).to_be_visible()


async def test_feed_checkin_and_join_links_open_their_pages(
    cast: Cast, open_as: Opener, config: Config
) -> None:
    s = await create_session(cast, visibility="public")
    base = config.public_url
    feed_url = (await cast.member.get("/api/me/calendar")).body["feed_url"]
    assert feed_url.startswith(f"{base}/cal/")
    async with cast.anon.http.get(feed_url) as resp:
        assert resp.status == 200
        feed = (await resp.text()).replace("\r\n ", "")
    feed_links = {url for url in LINK.findall(feed)}
    assert feed_links == {f"{base}/sessions/{s['id']}"}, feed_links

    page = await open_as(None, f"/sessions/{s['id']}")
    await sign_in(page, "member")
    await expect(page.get_by_role("heading", name=s["title"])).to_be_visible()
    page = await open_as(cast.member, f"/sessions/{s['id']}")  # already signed in: straight there
    await expect(page.get_by_role("heading", name=s["title"])).to_be_visible()
    assert "#/login" not in page.url

    checkin = (await cast.staff.get(f"/api/sessions/{s['id']}/checkin-link")).body["url"]
    assert checkin.startswith(f"{base}/checkin/{s['id']}?token=")
    page = await open_as(None, checkin.removeprefix(base))
    await sign_in(page, "member")
    await expect(page.get_by_text("✓")).to_be_visible()
    await shot(page, "links-03-checkin-after-sign-in")

    staff = await open_as(cast.staff, f"/#/sessions/{s['id']}")
    join = await staff.locator("figure.qr figcaption a").first.get_attribute("href")
    assert join == f"{base}/join/{s['id']}"
    page = await open_as(None, join.removeprefix(base), phone=True)
    await expect(page.locator("main form input").first).to_be_visible()  # the guest's name
    assert page.url == join  # no sign-in asked of a guest
    await shot(page, "links-04-join-phone")
