"""Password sign-in against the organisation's LDAP directory: a real slapd on loopback."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.config import Config
from server.db import Database
from server.directory import service
from server.directory.schemas import PersonCreate
from tests.conftest import PASSWORD, ApiClient
from tests.server.directory.slapd import (
    MEMBERS_GROUP,
    PEOPLE,
    SEARCHER_DN,
    SEARCHER_PASSWORD,
    STAFF_GROUP,
    Slapd,
    start_slapd,
)

ROLE_GROUPS = json.dumps({STAFF_GROUP: "staff", MEMBERS_GROUP: "member"})


@pytest.fixture
def slapd(tmp_path: Path) -> Iterator[Slapd]:
    server = start_slapd(tmp_path / "ldap")
    yield server
    server.stop()


def _ldap_config(config: Config, slapd: Slapd, **changes: object) -> Config:
    env = {
        "XIESHANG_LDAP_URL": slapd.url,
        "XIESHANG_LDAP_USER_DN": f"uid={{username}},{PEOPLE}",
        "XIESHANG_LDAP_ROLE_GROUPS": ROLE_GROUPS,
        "XIESHANG_LDAP_TIMEOUT": "2",
    }
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    parsed = Config.from_env(env)
    fields = {f.name for f in dataclasses.fields(Config) if f.name.startswith("ldap_")}
    return dataclasses.replace(config, **{f: getattr(parsed, f) for f in fields})


async def _serve(config: Config) -> AsyncIterator[ApiClient]:
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        async with ClientSession() as http:
            yield ApiClient(http, str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()


@pytest.fixture
async def ldap_anon(config: Config, slapd: Slapd) -> AsyncIterator[ApiClient]:
    """An anonymous client of a server whose password sign-in also asks the slapd."""
    async for client in _serve(_ldap_config(config, slapd)):
        yield client


async def _local_person(database: Database, config: Config, username: str, **kw: object) -> int:
    body = PersonCreate.model_validate(
        {"username": username, "name": "本地账户", "role": "member", **kw}, strict=False
    )
    return (await service.add_person(database, config.passwords(), body)).id


async def _login(client: ApiClient, username: str, password: str) -> tuple[int, dict]:
    reply = await client.post("/api/auth/login", {"username": username, "password": password})
    return reply.status, reply.body


async def test_a_directory_person_in_a_mapped_group_signs_in_and_gets_an_account(
    ldap_anon: ApiClient,
) -> None:
    status, body = await _login(ldap_anon, "WangLi", "ldap-pass-wangli")
    assert status == 200, body
    assert body["person"]["username"] == "wangli"
    assert body["person"]["role"] == "staff"  # from cn=committee-staff
    assert body["person"]["name"] == "王丽"
    assert body["person"]["email"] == "wangli@example.org"
    staff = ldap_anon.as_(body["token"])
    assert (await staff.get("/api/me")).body["id"] == body["person"]["id"]
    again, body2 = await _login(ldap_anon, "wangli", "ldap-pass-wangli")
    assert again == 200 and body2["person"]["id"] == body["person"]["id"]  # linked, not a copy
    log = (await staff.get("/api/audit", params={"action": "auth.login"})).body["items"]
    assert [e["detail"].get("method") for e in log[:2]] == ["ldap", "ldap"]


async def test_a_wrong_directory_password_is_refused_like_any_wrong_password(
    ldap_anon: ApiClient,
) -> None:
    status, body = await _login(ldap_anon, "wangli", "not-the-password")
    assert status == 401 and body["detail"] == "Wrong username or password."
    assert (await _login(ldap_anon, "nobody-here", "whatever-password"))[0] == 401


async def test_an_empty_password_never_becomes_an_anonymous_bind(ldap_anon: ApiClient) -> None:
    reply = await ldap_anon.post("/api/auth/login", {"username": "wangli", "password": " "})
    assert reply.status == 401, reply.text


async def test_a_directory_person_in_no_mapped_group_is_told_why(ldap_anon: ApiClient) -> None:
    status, body = await _login(ldap_anon, "zhouxin", "ldap-pass-zhouxin")
    assert status == 403
    assert "none of the groups" in body["detail"]


async def test_the_default_role_admits_people_in_no_mapped_group(
    config: Config, slapd: Slapd
) -> None:
    settings = _ldap_config(config, slapd, XIESHANG_LDAP_DEFAULT_ROLE="guest")
    async for client in _serve(settings):
        status, body = await _login(client, "zhouxin", "ldap-pass-zhouxin")
        assert status == 200 and body["person"]["role"] == "guest"


async def test_search_mode_finds_the_entry_with_a_service_account(
    config: Config, slapd: Slapd
) -> None:
    settings = _ldap_config(
        config,
        slapd,
        XIESHANG_LDAP_USER_DN=None,
        XIESHANG_LDAP_SEARCH_BASE=PEOPLE,
        XIESHANG_LDAP_SEARCH_FILTER="(&(objectClass=inetOrgPerson)(uid={username}))",
        XIESHANG_LDAP_BIND_DN=SEARCHER_DN,
        XIESHANG_LDAP_BIND_PASSWORD=SEARCHER_PASSWORD,
    )
    async for client in _serve(settings):
        status, body = await _login(client, "chenming", "ldap-pass-chenming")
        assert status == 200 and body["person"]["role"] == "member"
        # A filter injection finds nobody (the username is escaped in the filter).
        assert (await _login(client, "chen*", "ldap-pass-chenming"))[0] == 401


async def test_an_account_without_a_local_password_is_linked_and_its_role_follows_the_groups(
    ldap_anon: ApiClient, database: Database, config: Config
) -> None:
    person_id = await _local_person(database, config, "chenming", role="guest")
    status, body = await _login(ldap_anon, "chenming", "ldap-pass-chenming")
    assert status == 200
    assert body["person"]["id"] == person_id
    assert body["person"]["name"] == "本地账户"  # staff's record is kept
    assert body["person"]["role"] == "member"  # cn=members maps to member


async def test_local_accounts_keep_their_own_passwords(
    ldap_anon: ApiClient, database: Database, config: Config
) -> None:
    await _local_person(database, config, "member", password=PASSWORD)
    assert (await _login(ldap_anon, "member", PASSWORD))[0] == 200
    # The directory's password for a same-named entry does not open a local account.
    assert (await _login(ldap_anon, "member", "ldap-pass-member"))[0] == 401


async def test_with_the_directory_down_its_people_are_told_and_local_accounts_still_sign_in(
    ldap_anon: ApiClient, slapd: Slapd, database: Database, config: Config
) -> None:
    await _local_person(database, config, "local-one", password=PASSWORD)
    slapd.stop()
    reply = await ldap_anon.post(
        "/api/auth/login", {"username": "wangli", "password": "ldap-pass-wangli"}
    )
    assert reply.status == 503, reply.text
    assert reply.body["code"] == "ldap_unreachable"
    assert "Local accounts still sign in" in reply.body["detail"]
    assert reply.headers.get("Retry-After")
    zh = await ldap_anon.post(
        "/api/auth/login",
        {"username": "wangli", "password": "ldap-pass-wangli"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert "LDAP" in zh.body["detail"] and "本地账号" in zh.body["detail"]
    assert (await _login(ldap_anon, "local-one", PASSWORD))[0] == 200
    slapd.start()
    assert (await _login(ldap_anon, "wangli", "ldap-pass-wangli"))[0] == 200


async def test_the_sign_in_page_learns_that_passwords_go_to_the_directory(
    ldap_anon: ApiClient,
) -> None:
    reply = await ldap_anon.get("/api/auth/methods")
    assert reply.status == 200
    assert reply.body == {"oidc": None, "ldap": True}
