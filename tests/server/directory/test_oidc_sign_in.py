"""OpenID Connect sign-in over HTTP, against a real provider on loopback (no browser): the
redirect, the flow cookie, matching by claim, creating accounts, and refusals in English."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.config import Config
from server.db import Database
from server.directory import service
from server.directory.schemas import PersonCreate
from tests.conftest import PASSWORD, ApiClient
from tests.oidc_provider import Provider, add_user, run_provider


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Provider]:
    with run_provider(tmp_path) as running:
        add_user(
            running.issuer, "u-1", {"preferred_username": "member", "email": "Zhang@Example.org"}
        )
        add_user(running.issuer, "u-2", {"preferred_username": "newcomer", "name": "新来的委员"})
        add_user(running.issuer, "u-3", {"email": "li.si@example.org", "email_verified": False})
        yield running


async def _client(config: Config) -> AsyncIterator[ApiClient]:
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:  # 127.0.0.1
            yield ApiClient(http, str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()


def _oidc(config: Config, provider: Provider, **changes: Any) -> Config:
    settings = {
        "oidc_issuer": provider.issuer,
        "oidc_client_id": "xieshang",
        "oidc_client_secret": "a-client-secret",
        **changes,
    }
    return dataclasses.replace(config, **settings)


async def _sign_in(client: ApiClient, sub: str) -> tuple[int, dict[str, Any]]:
    """Start, choose ``sub`` on the provider's form, and finish with what it sends back."""
    start = await client.post("/api/auth/oidc/start")
    assert start.status == 200, start.text
    async with client.http.post(start.body["url"], data={"sub": sub}, allow_redirects=False) as r:
        assert r.status == 302
        back = urlsplit(r.headers["Location"])
    assert back.path == "/login/oidc"
    answer = {k: v[0] for k, v in parse_qs(back.query).items()}
    reply = await client.post("/api/auth/oidc/finish", answer)
    return reply.status, reply.body


@pytest.fixture
async def member_id(database: Database, config: Config) -> int:
    body = PersonCreate.model_validate(
        {
            "username": "member",
            "name": "张委员",
            "role": "member",
            "password": PASSWORD,
            "email": "zhang@example.org",
        },
        strict=False,
    )
    return (await service.add_person(database, config.passwords(), body)).id


async def test_the_flow_uses_pkce_state_and_nonce_and_keeps_them_in_an_httponly_cookie(
    config: Config, provider: Provider
) -> None:
    async for client in _client(_oidc(config, provider)):
        reply = await client.post("/api/auth/oidc/start")
        query = parse_qs(urlsplit(reply.body["url"]).query)
        assert query["code_challenge_method"] == ["S256"]
        assert query["redirect_uri"] == [config.public_url + "/login/oidc"]
        assert {"state", "nonce", "code_challenge"} <= query.keys()
        cookie = reply.headers["Set-Cookie"]
        assert "xs_oidc=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert query["state"][0] not in cookie  # signed, and not readable by the page's script
        methods = await client.get("/api/auth/methods")
        assert methods.body == {"oidc": {"name": ""}, "ldap": False}


async def test_a_person_is_matched_by_username_or_by_email(
    config: Config, provider: Provider, member_id: int
) -> None:
    async for client in _client(_oidc(config, provider)):
        status, body = await _sign_in(client, "u-1")
        assert status == 200 and body["person"]["id"] == member_id
    async for client in _client(_oidc(config, provider, oidc_claim="email")):
        status, body = await _sign_in(client, "u-1")  # Zhang@Example.org, any case
        assert status == 200 and body["person"]["id"] == member_id
        status, body = await _sign_in(client, "u-3")  # an unverified email address counts not
        assert status == 401 and "missing or unverified" in body["detail"]


async def test_unknown_people_are_refused_or_given_an_account_as_configured(
    config: Config, provider: Provider, member_id: int
) -> None:
    async for client in _client(_oidc(config, provider)):
        status, body = await _sign_in(client, "u-2")
        assert status == 403 and body["code"] == "unknown_person"
        assert "preferred_username: newcomer" in body["detail"]
    async for client in _client(_oidc(config, provider, oidc_create_role="member")):
        status, body = await _sign_in(client, "u-2")
        assert status == 200
        assert body["person"]["username"] == "newcomer"
        assert body["person"]["name"] == "新来的委员" and body["person"]["role"] == "member"
        again, body2 = await _sign_in(client, "u-2")
        assert again == 200 and body2["person"]["id"] == body["person"]["id"]


async def test_a_code_without_its_browsers_cookie_or_a_replayed_code_signs_nobody_in(
    config: Config, provider: Provider, member_id: int
) -> None:
    async for client in _client(_oidc(config, provider)):
        start = await client.post("/api/auth/oidc/start")
        url = start.body["url"]
        async with client.http.post(url, data={"sub": "u-1"}, allow_redirects=False) as r:
            answer = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
        client.http.cookie_jar.clear()  # another browser, e.g. a victim sent the attacker's link
        refused = await client.post("/api/auth/oidc/finish", answer)
        assert refused.status == 400 and refused.body["code"] == "oidc_state"
        assert "not started in this browser" in refused.body["detail"]
        status, _body = await _sign_in(client, "u-1")
        assert status == 200
        # The same code again, with a fresh flow of this browser: the provider refuses it.
        start2 = await client.post("/api/auth/oidc/start")
        state2 = parse_qs(urlsplit(start2.body["url"]).query)["state"][0]
        replay = await client.post("/api/auth/oidc/finish", {**answer, "state": state2})
        assert replay.status == 401, replay.text


async def test_without_a_provider_the_routes_say_so(anon: ApiClient) -> None:
    assert (await anon.get("/api/auth/methods")).body == {"oidc": None, "ldap": False}
    reply = await anon.post("/api/auth/oidc/start")
    assert reply.status == 404 and "not set up" in reply.body["detail"]
