"""Abuse limits on sign-in (per account and per address) and key rotation for signed links."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.config import Config
from server.signing import BadSignature, Signer
from tests.conftest import PASSWORD, ApiClient, Cast
from tests.server.sessions.test_sessions_api import create as create_session

OLD_KEY = "old-signing-key-" + "o" * 32


@pytest.fixture
def config(config: Config) -> Config:
    """Small limits so the tests reach them; the current key plus one earlier key."""
    return config.with_changes(
        login_failures_per_account=3,
        login_failures_per_address=6,
        login_window_seconds=600,
        previous_secret_keys=(OLD_KEY,),
        api_rate=1,  # slow enough that a loaded machine's slow requests still empty the bucket
        api_burst=60,
        guest_joins_per_window=3,
        guest_join_window_seconds=600,
        trusted_proxies=("127.0.0.1",),  # the tests' X-Forwarded-For stands for other clients
    )


async def login(
    client: ApiClient, username: str, password: str, address: str | None = None
) -> tuple[int, str, dict[str, str]]:
    """Sign in; ``address`` is the client address a trusted proxy reports (X-Forwarded-For)."""
    headers = {"X-Forwarded-For": address} if address else {}
    reply = await client.as_(None).post(
        "/api/auth/login", {"username": username, "password": password}, headers=headers
    )
    detail = reply.body.get("detail", "") if isinstance(reply.body, dict) else ""
    return reply.status, detail, reply.headers


async def test_an_account_waits_after_too_many_failures_even_with_the_right_password(
    cast: Cast,
) -> None:
    for _ in range(3):
        assert (await login(cast.anon, "member", "wrong password"))[0] == 401
    status, detail, headers = await login(cast.anon, "member", PASSWORD)
    assert status == 429
    assert "try again in" in detail and "minutes" in detail
    assert 540 <= int(headers["Retry-After"]) <= 600
    # Someone else is not locked out by it, and the username's case does not matter.
    assert (await login(cast.anon, "member2", PASSWORD))[0] == 200
    assert (await login(cast.anon, "MEMBER", PASSWORD))[0] == 429


async def test_failures_from_one_address_do_not_lock_the_owner_out_from_another(
    cast: Cast,
) -> None:
    attacker, owner = "203.0.113.66", "198.51.100.7"
    for _ in range(5):
        assert (await login(cast.anon, "member", "wrong password", attacker))[0] in (401, 429)
    status, detail, _ = await login(cast.anon, "member", PASSWORD, attacker)
    assert status == 429 and "try again in" in detail
    assert (await login(cast.anon, "member", PASSWORD, owner))[0] == 200
    # The owner's sign-in does not lift the attacker's wait, right password or not.
    assert (await login(cast.anon, "member", PASSWORD, attacker))[0] == 429
    assert (await login(cast.anon, "member", "wrong password", owner))[0] == 401


async def test_a_successful_sign_in_starts_the_account_count_again(cast: Cast) -> None:
    for _ in range(2):
        assert (await login(cast.anon, "unit", "nope nope"))[0] == 401
    assert (await login(cast.anon, "unit", PASSWORD))[0] == 200
    for _ in range(2):
        assert (await login(cast.anon, "unit", "nope nope"))[0] == 401
    assert (await login(cast.anon, "unit", PASSWORD))[0] == 200


async def test_one_address_trying_many_accounts_waits_too(cast: Cast) -> None:
    names = [f"nobody{i}" for i in range(6)]
    for name in names:
        assert (await login(cast.anon, name, "guess guess"))[0] == 401
    status, detail, _ = await login(cast.anon, "leader", PASSWORD)
    assert status == 429
    assert "from your address" in detail and "try again in" in detail


async def test_failed_sign_ins_are_audited_without_the_password_or_the_name_typed(
    cast: Cast,
) -> None:
    await login(cast.anon, "correct horse battery", "member")  # fields swapped by mistake
    entries = (await cast.staff.get("/api/audit?action=auth.login_failed")).body["items"]
    assert len(entries) == 1
    assert entries[0]["detail"] == {"reason": "unknown"}
    assert "correct horse" not in str(entries) and "member" not in str(entries)
    assert entries[0]["address"] == "127.0.0.1"


def test_a_rotated_key_still_checks_links_it_signed_until_it_is_dropped() -> None:
    now = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    old = Signer(secret=OLD_KEY).sign("rsvp", {"s": 1, "p": 2})
    new_key = "new-signing-key-" + "n" * 32
    rotating = Signer(secret=new_key, previous=[OLD_KEY])
    assert rotating.verify("rsvp", old, now) == {"s": 1, "p": 2}
    fresh = rotating.sign("rsvp", {"s": 1, "p": 2})
    assert Signer(secret=new_key).verify("rsvp", fresh, now) == {"s": 1, "p": 2}
    with pytest.raises(BadSignature):
        Signer(secret=new_key).verify("rsvp", old, now)  # the old key dropped: link revoked
    with pytest.raises(BadSignature):
        Signer(secret=OLD_KEY).verify("rsvp", fresh, now)  # new links need the new key


async def test_the_server_accepts_links_of_its_previous_key(cast: Cast) -> None:
    session = await create_session(cast)
    payload = {"s": session["id"], "p": cast.ids["member"]}
    old = Signer(secret=OLD_KEY).sign("rsvp", payload)
    unknown = Signer(secret="some-other-key-" + "x" * 32).sign("rsvp", payload)
    assert (await cast.anon.post(f"/rsvp/{old}?answer=accepted")).status == 200
    assert (await cast.anon.post(f"/rsvp/{unknown}?answer=accepted")).status == 403


async def test_one_address_flooding_the_api_gets_429_with_a_wait_and_health_stays_up(
    cast: Cast,
) -> None:
    # The cast's sign-ins used some of the burst; keep asking until the bucket is empty.
    answered, clock = 0, asyncio.get_running_loop().time
    while True:
        started = clock()
        refused = await cast.member.get("/api/me")
        if refused.status != 200:
            break
        answered += 1
        assert answered < 120, "never limited"
    assert clock() - started >= 0.9  # the refusal is held back: a flood slows itself down
    assert answered > 10
    assert refused.status == 429 and refused.content_type == "application/problem+json"
    assert "try again in" in refused.body["detail"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await cast.anon.get("/api/health")).status == 200  # probes are never limited


async def test_guest_joins_per_address_are_counted_across_server_processes(
    cast: Cast, config: Config
) -> None:
    public = await create_session(cast, kind="livelihood_hall", stage=None, visibility="public")
    url = f"/api/sessions/{public['id']}/guest-join"
    for i in range(3):
        assert (await cast.anon.post(url, {"name": f"市民{i}"})).status == 200
    refused = await cast.anon.post(url, {"name": "市民3"})
    assert refused.status == 429 and "try again in" in refused.body["detail"]
    # A second server process over the same database counts the same joins.
    other = TestServer(create_app(config), host="127.0.0.1")
    await other.start_server()
    try:
        async with ClientSession() as http:
            second = ApiClient(http, str(other.make_url("")).rstrip("/"))
            assert (await second.post(url, {"name": "市民4"})).status == 429
    finally:
        await other.close()
