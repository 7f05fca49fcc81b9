"""Login, tokens, logout and who may call what."""

from __future__ import annotations

from sqlalchemy import update

from server.db import Database, utcnow
from server.directory.models import Person, Token
from tests.conftest import PASSWORD, ApiClient, Cast


async def test_login_returns_a_token_that_identifies_the_person(cast: Cast) -> None:
    reply = await cast.anon.post("/api/auth/login", {"username": "member", "password": PASSWORD})
    assert reply.status == 200
    assert reply.body["person"]["username"] == "member"
    assert "password_hash" not in reply.body["person"]
    me = await cast.anon.as_(reply.body["token"]).get("/api/me")
    assert me.status == 200
    assert me.body["id"] == cast.ids["member"]


async def test_wrong_password_is_401_without_saying_which_part_was_wrong(cast: Cast) -> None:
    wrong = await cast.anon.post("/api/auth/login", {"username": "member", "password": "nope-nope"})
    unknown = await cast.anon.post("/api/auth/login", {"username": "nobody", "password": PASSWORD})
    for reply in (wrong, unknown):
        assert reply.status == 401
        assert reply.content_type == "application/problem+json"
        assert reply.body["detail"] == "Wrong username or password."


async def test_logout_revokes_only_that_token(cast: Cast) -> None:
    second = await cast.anon.post("/api/auth/login", {"username": "staff", "password": PASSWORD})
    other = cast.anon.as_(second.body["token"])
    assert (await cast.staff.post("/api/auth/logout")).status == 204
    revoked = await cast.staff.get("/api/me")
    assert revoked.status == 401
    assert "sign in again" in revoked.body["detail"]
    assert (await other.get("/api/me")).status == 200


async def test_expired_token_is_refused(cast: Cast, database: Database) -> None:
    async with database.transaction() as db:
        await db.execute(update(Token).values(expires_at=utcnow()))
    reply = await cast.member.get("/api/me")
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


async def test_disabled_account_cannot_sign_in_or_use_old_tokens(
    cast: Cast, database: Database
) -> None:
    async with database.transaction() as db:
        await db.execute(update(Person).where(Person.username == "member").values(active=False))
    assert (await cast.member.get("/api/me")).status == 401
    reply = await cast.anon.post("/api/auth/login", {"username": "member", "password": PASSWORD})
    assert reply.status == 403
    assert "disabled" in reply.body["detail"]


async def test_tokens_are_stored_only_as_digests(cast: Cast, database: Database) -> None:
    from sqlalchemy import select

    async with database.read() as db:
        digests = set((await db.execute(select(Token.digest))).scalars())
    assert cast.member.token not in digests
    assert all(len(d) == 64 for d in digests)


async def test_anonymous_calls_get_401_and_a_garbage_token_too(anon: ApiClient) -> None:
    for path in ("/api/people", "/api/units", "/api/proposals", "/api/sessions", "/api/me"):
        reply = await anon.get(path)
        assert reply.status == 401, path
        assert reply.body["code"] == "unauthorized"
    assert (await anon.as_("garbage").get("/api/me")).status == 401


async def test_login_body_is_validated(anon: ApiClient) -> None:
    reply = await anon.post("/api/auth/login", {"username": "x"})
    assert reply.status == 400
    assert reply.body["errors"][0]["field"] == "password"


async def test_a_stale_token_does_not_stop_signing_in_again(cast: Cast) -> None:
    stale = cast.anon.as_("stale-token-from-yesterday")
    reply = await stale.post("/api/auth/login", {"username": "member", "password": PASSWORD})
    assert reply.status == 200
    assert (await stale.get("/api/health")).status == 200
    refused = await stale.get("/api/me")
    assert refused.status == 401
    assert "sign in again" in refused.body["detail"]
