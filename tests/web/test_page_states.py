"""Every page ends in a state a person can act on: not found, not allowed, failed with a retry,
or signed out and back, and never keeps the previous page's content while the next one loads."""

from __future__ import annotations

from playwright.async_api import Route, expect

from tests.conftest import PASSWORD, Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.web.conftest import Opener, axe, shot


async def test_an_unknown_address_shows_the_not_found_state(cast: Cast, open_as: Opener) -> None:
    page = await open_as(cast.member, "/#/no-such-page")
    await expect(page.get_by_role("heading", name="没有找到该页面。")).to_be_visible()
    await expect(page.get_by_role("link", name="返回首页")).to_be_visible()
    assert await axe(page) == []


async def test_another_members_proposal_is_refused_not_shown_stale(
    cast: Cast, open_as: Opener
) -> None:
    mine = await create_proposal(cast, "2026-0001")  # proposed by 张委员 (member)
    page = await open_as(cast.member2, "/#/proposals")
    await expect(page.locator("main")).not_to_contain_text("加载中")
    await page.goto(page.url.split("#")[0] + f"#/proposals/{mine['id']}")
    state = page.locator("[data-state]")
    await expect(state).to_have_attribute("data-state", "not-found")
    await expect(state).to_contain_text("不在您的权限范围内")
    await expect(page.locator("main")).not_to_contain_text(mine["title"])
    await shot(page, "states-not-allowed-proposal")
    await page.set_viewport_size({"width": 390, "height": 844})
    await shot(page, "states-not-allowed-proposal-phone")
    assert await axe(page) == []


async def test_a_failed_load_offers_a_retry_that_recovers(cast: Cast, open_as: Opener) -> None:
    proposal = await create_proposal(cast, "2026-0002")
    page = await open_as(None, "/#/login")
    failing = True

    async def flaky(route: Route) -> None:
        if failing:
            await route.fulfill(status=503, json={"title": "x", "detail": "数据库暂不可用"})
        else:
            await route.continue_()

    await page.route("**/api/proposals/*/dossier", flaky)
    stored = await cast.staff.get("/api/me")
    await page.evaluate(
        "([token, person]) => localStorage.setItem('xs.session', JSON.stringify({token, person}))",
        [cast.staff.token, stored.body],
    )
    await page.goto(page.url.split("#")[0] + f"#/proposals/{proposal['id']}")
    state = page.locator("[data-state]")
    await expect(state).to_have_attribute("data-state", "failed")
    await expect(state).to_contain_text("数据库暂不可用")
    assert await axe(page) == []
    failing = False
    await page.get_by_role("button", name="重试").click()
    await expect(page.get_by_role("heading", name=proposal["title"], exact=False)).to_be_visible()


async def test_a_signed_out_reader_signs_in_and_comes_back(cast: Cast, open_as: Opener) -> None:
    proposal = await create_proposal(cast, "2026-0003")
    page = await open_as(None, f"/#/proposals/{proposal['id']}")
    await expect(page.get_by_label("用户名")).to_be_visible()
    await page.get_by_label("用户名").fill("staff")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{page.url.split('#')[0]}#/proposals/{proposal['id']}")
    await expect(page.locator("main h1")).to_contain_text(proposal["title"])
