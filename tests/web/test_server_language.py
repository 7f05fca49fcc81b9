"""The server's words on a page come in the page's language: web/js/api.js sends the page's
language as Accept-Language, and the field's error shows what the server said, translated."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.conftest import PASSWORD, Cast
from tests.web.conftest import Opener, axe, shot


@pytest.mark.parametrize(
    ("lang", "label", "create", "said"),
    [
        ("zh-CN", "用户名", "新建", "3 至 64 个字符：小写字母、数字"),
        ("en", "Username", "Create", "3 to 64 characters: lowercase letters, digits"),
    ],
)
async def test_a_field_error_from_the_server_is_in_the_pages_language(
    cast: Cast, open_as: Opener, lang: str, label: str, create: str, said: str
) -> None:
    page = await open_as(cast.staff, "/#/admin/people", lang=lang)
    form = page.locator("form").filter(has=page.get_by_label(label, exact=True)).first
    await form.get_by_label(label, exact=True).fill("no spaces allowed")
    await form.locator('input[name="name"]').fill("Test")
    await form.get_by_role("button", name=create).click()
    error = form.locator('[data-field="username"] .error')
    await expect(error).to_contain_text(said)
    assert await axe(page) == []
    await shot(page, f"server-language-field-error-{lang}")


async def test_the_language_switch_saves_the_signed_in_persons_choice(
    cast: Cast, open_as: Opener
) -> None:
    """The header's switch changes the page at once and, for a signed-in person, saves the
    choice (PATCH /api/me): their emails come in it, and signing in elsewhere brings it back."""
    page = await open_as(cast.member, "/#/my/proposals")
    # The header is drawn again once /api/me answers; a key pressed on the first one is lost.
    await page.wait_for_load_state("networkidle")
    switch = page.get_by_role("button", name="English")
    await expect(switch).to_have_attribute("lang", "en")  # read out in the language it names
    await switch.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("link", name="My proposals")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "en")

    async def chosen() -> str:
        return str((await cast.member.get("/api/me")).body["language"])

    for _ in range(100):
        if await chosen() == "en":
            break
        await page.wait_for_timeout(50)
    assert await chosen() == "en"
    await shot(page, "server-language-switched-en")

    fresh = await open_as(None, "/#/login")  # another browser, in Chinese: signing in
    await fresh.get_by_label("用户名").fill("member")
    await fresh.get_by_label("密码").fill(PASSWORD)
    await fresh.get_by_role("button", name="登录").click()
    await expect(fresh.get_by_role("link", name="My proposals")).to_be_visible()
    assert await axe(fresh) == []
