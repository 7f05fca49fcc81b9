"""Sign-in with the organisation's OpenID Connect provider, end to end in Chromium.

The provider is real (tests/oidc_provider.py: the ``oidc-provider-mock`` package as its own
process on a free loopback port, with its own signing key, discovery and JWKS). The
cases it cannot be asked for are made at the edge of the world: a wrong nonce by rewriting the
browser's authorization request on its way to the provider (the token it then signs carries
another nonce), an expired ID token by the provider issuing tokens that are already past their
lifetime.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from playwright.async_api import Page, Route, expect

from server.config import Config
from server.db import Database
from server.directory import service
from server.directory.schemas import PersonCreate
from tests.conftest import PASSWORD, ApiClient
from tests.oidc_provider import Provider, add_user, run_provider
from tests.web.conftest import Opener, axe, shot

PROVIDER_NAME = "市政务统一身份认证"
CLIENT_ID, CLIENT_SECRET = "xieshang-test", "client-secret-for-tests"


@pytest.fixture
def token_max_age() -> int:
    """Seconds the provider's ID tokens live (a test makes them negative: born expired)."""
    return 3600


@pytest.fixture
def running_provider(tmp_path: Path, token_max_age: int) -> Iterator[Provider]:
    with run_provider(tmp_path, token_max_age=token_max_age) as provider:
        yield provider


@pytest.fixture
def provider(running_provider: Provider) -> str:
    """The provider's issuer URL."""
    return running_provider.issuer


@pytest.fixture
def config(config: Config, provider: str) -> Config:
    return dataclasses.replace(
        config,
        oidc_issuer=provider,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_name=PROVIDER_NAME,
    )


@pytest.fixture
async def people(database: Database, config: Config, provider: str) -> dict[str, int]:
    """Accounts here, and the provider's people (one of them has no account here)."""
    ids = {}
    for username, name, role in (("member", "张委员", "member"), ("staff", "王秘书", "staff")):
        body = PersonCreate.model_validate(
            {"username": username, "name": name, "role": role, "password": PASSWORD},
            strict=False,
        )
        ids[username] = (await service.add_person(database, config.passwords(), body)).id
    add_user(
        provider, "u-1001", {"preferred_username": "member", "name": "张委员", "email": "m@x.org"}
    )
    add_user(provider, "u-9999", {"preferred_username": "stranger", "name": "陌生人"})
    return ids


async def _sign_in_with_provider(page: Page, sub: str) -> None:
    await page.get_by_role("button", name=f"使用{PROVIDER_NAME}登录").click()
    await page.locator("input[name=sub]").fill(sub)
    await page.get_by_role("button", name="Authorize").click()


async def test_a_person_signs_in_with_the_organisations_provider(
    open_as: Opener, people: dict[str, int], anon: ApiClient
) -> None:
    page = await open_as(None, "/#/login")
    await expect(page.get_by_role("button", name=f"使用{PROVIDER_NAME}登录")).to_be_visible()
    await _sign_in_with_provider(page, "u-1001")
    await expect(page.locator("header .who")).to_contain_text("张委员")
    assert urlsplit(page.url).path == "/"  # the provider's code is gone from the address bar
    stored = json.loads(await page.evaluate("localStorage.getItem('xs.session')"))
    assert stored["person"]["id"] == people["member"]
    me = await anon.as_(stored["token"]).get("/api/me")
    assert me.status == 200 and me.body["username"] == "member"
    staff = await anon.post("/api/auth/login", {"username": "staff", "password": PASSWORD})
    log = await anon.as_(staff.body["token"]).get(
        "/api/audit", params={"action": "auth.login", "object_id": str(people["member"])}
    )
    assert log.body["items"][0]["detail"] == {"method": "oidc"}


async def test_someone_without_an_account_here_is_refused_in_words(
    open_as: Opener, people: dict[str, int]
) -> None:
    page = await open_as(None, "/#/login")
    await _sign_in_with_provider(page, "u-9999")
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("本系统中没有与您的单位统一身份账号")
    await expect(alert).to_contain_text("stranger")
    assert await page.evaluate("localStorage.getItem('xs.session')") is None
    # The sign-in page is back, with both ways in, and the failed answer gone from the address.
    await expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    assert urlsplit(page.url).path == "/"
    assert await axe(page) == []
    await shot(page, "oidc-unknown-person-desktop")


async def test_an_id_token_with_another_nonce_is_refused(
    open_as: Opener, people: dict[str, int], provider: str
) -> None:
    page = await open_as(None, "/#/login", lang="en")

    async def other_nonce(route: Route) -> None:
        parts = urlsplit(route.request.url)
        query = dict(parse_qsl(parts.query))
        query["nonce"] = "a-nonce-from-another-sign-in"
        await route.continue_(url=urlunsplit(parts._replace(query=urlencode(query))))

    await page.context.route(f"{provider}/oauth2/authorize*", other_nonce)
    await page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    await page.locator("input[name=sub]").fill("u-1001")
    await page.get_by_role("button", name="Authorize").click()
    await expect(page.get_by_role("alert")).to_contain_text("its nonce does not match")
    assert await page.evaluate("localStorage.getItem('xs.session')") is None


@pytest.mark.parametrize("token_max_age", [-600])
async def test_an_expired_id_token_is_refused(open_as: Opener, people: dict[str, int]) -> None:
    page = await open_as(None, "/#/login")
    await _sign_in_with_provider(page, "u-1001")
    await expect(page.get_by_role("alert")).to_contain_text("登录凭据已过期")
    assert await page.evaluate("localStorage.getItem('xs.session')") is None


async def test_the_sign_in_page_offers_the_provider_beside_the_password_form(
    open_as: Opener, people: dict[str, int]
) -> None:
    for phone in (False, True):
        page = await open_as(None, "/#/login", phone=phone)
        await expect(page.get_by_role("button", name=f"使用{PROVIDER_NAME}登录")).to_be_visible()
        await expect(page.get_by_label("密码")).to_be_visible()
        assert await axe(page) == []
        await shot(page, f"oidc-sign-in-{'phone' if phone else 'desktop'}")
    # The password form still signs people in.
    await page.get_by_label("用户名").fill("staff")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.locator("header .who")).to_contain_text("王秘书")


async def test_an_answer_that_was_not_started_in_this_browser_is_refused(
    open_as: Opener, people: dict[str, int]
) -> None:
    page = await open_as(None, "/login/oidc?code=stolen-code&state=someone-elses-state")
    await expect(page.get_by_role("alert")).to_contain_text("本次登录不是在此浏览器中发起的")
    assert await page.evaluate("localStorage.getItem('xs.session')") is None


async def test_an_unreachable_provider_is_reported_and_passwords_still_work(
    open_as: Opener, people: dict[str, int], running_provider: Provider
) -> None:
    page = await open_as(None, "/#/login")
    button = page.get_by_role("button", name=f"使用{PROVIDER_NAME}登录")
    await expect(button).to_be_visible()
    running_provider.stop()  # the provider goes away before anyone signs in
    await button.click()
    await expect(page.get_by_role("alert")).to_contain_text("暂时无法连接单位统一身份认证服务")
    await expect(button).to_be_enabled()
    await shot(page, "oidc-unreachable-desktop")
    await page.get_by_label("用户名").fill("member")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.locator("header .who")).to_contain_text("张委员")
