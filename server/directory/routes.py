"""HTTP routes of the directory: login, people, units, venues."""

from __future__ import annotations

import datetime as dt

from server.api import Api, Req
from server.audit import service as audit
from server.auth import bearer_token, token_digest
from server.directory import identity, service
from server.directory.identity_routes import LDAP
from server.directory.schemas import (
    LoginIn,
    LoginOut,
    MembersList,
    MePatch,
    PeopleList,
    PeopleQuery,
    PersonCreate,
    PersonOut,
    PersonPatch,
    UnitCreate,
    UnitList,
    UnitOut,
    UnitPatch,
    VenueCreate,
    VenueList,
    VenueOut,
    VenuePatch,
)

api = Api(tag="directory")


@api.post("/api/auth/login", body=LoginIn, response=LoginOut, public=True)
async def login(req: Req, body: LoginIn) -> LoginOut:
    """Sign in with username and password (checked against the organisation's directory too,
    when one is set up, for people without a local password); returns a bearer token."""
    config = req.config
    limits = audit.LoginLimits(
        per_account=config.login_failures_per_account,
        per_address=config.login_failures_per_address,
        window=dt.timedelta(seconds=config.login_window_seconds),
    )
    ttl = dt.timedelta(hours=config.token_ttl_hours)
    directory = req.request.app.get(LDAP)
    return await identity.login(
        req.database, req.passwords, directory, body.username, body.password, ttl, limits
    )


@api.post("/api/auth/logout", status=204)
async def logout(req: Req) -> None:
    """Revoke the token this request was made with."""
    req.actor  # noqa: B018 - only a valid token reaches here
    token = bearer_token(req.request)
    assert token is not None
    await service.logout(req.database, token)
    await req.signed_out(token_digest(token))


@api.get("/api/me", response=PersonOut)
async def me(req: Req) -> PersonOut:
    """The signed-in person."""
    return await service.me(req.database, req.actor)


@api.patch("/api/me", body=MePatch, response=PersonOut)
async def update_me(req: Req, body: MePatch) -> PersonOut:
    """Change your own settings: ``language`` ("zh-CN" or "en") is the one your emails come in,
    and the server's words to you when a request sends no Accept-Language naming one."""
    return await service.update_me(req.database, req.actor, body)


@api.post("/api/people", body=PersonCreate, response=PersonOut, status=201)
async def create_person(req: Req, body: PersonCreate) -> PersonOut:
    """Create an account (staff)."""
    return await service.create_person(req.database, req.passwords, req.actor, body)


@api.get("/api/people", query=PeopleQuery, response=PeopleList)
async def list_people(req: Req, query: PeopleQuery) -> PeopleList:
    """List accounts (staff), filtered by role, unit or a name fragment."""
    return PeopleList(items=await service.list_people(req.database, req.actor, query))


@api.get("/api/members", query=PeopleQuery, response=MembersList)
async def list_members(req: Req, query: PeopleQuery) -> MembersList:
    """The committee's active members and leaders by name (members invite co-signers)."""
    return MembersList(items=await service.list_members(req.database, req.actor, query.q))


@api.patch("/api/people/{person_id}", body=PersonPatch, response=PersonOut)
async def update_person(req: Req, person_id: int, body: PersonPatch) -> PersonOut:
    """Change an account (staff): name, contact, role, unit, active, a new password.
    Deactivating it or setting a password signs the person out everywhere."""
    changed = await service.update_person(req.database, req.passwords, req.actor, person_id, body)
    for digest in changed.revoked:
        await req.signed_out(digest)
    return changed.person


@api.post("/api/units", body=UnitCreate, response=UnitOut, status=201)
async def create_unit(req: Req, body: UnitCreate) -> UnitOut:
    """Register an undertaking unit (staff)."""
    return await service.create_unit(req.database, req.actor, body)


@api.get("/api/units", response=UnitList)
async def list_units(req: Req) -> UnitList:
    """List the undertaking units."""
    return UnitList(items=await service.list_units(req.database, req.actor))


@api.patch("/api/units/{unit_id}", body=UnitPatch, response=UnitOut)
async def update_unit(req: Req, unit_id: int, body: UnitPatch) -> UnitOut:
    """Rename a unit or replace its contact people (staff)."""
    return await service.update_unit(req.database, req.actor, unit_id, body)


@api.post("/api/venues", body=VenueCreate, response=VenueOut, status=201)
async def create_venue(req: Req, body: VenueCreate) -> VenueOut:
    """Register a venue (staff)."""
    return await service.create_venue(req.database, req.actor, body)


@api.get("/api/venues", response=VenueList)
async def list_venues(req: Req) -> VenueList:
    """List the venues."""
    return VenueList(items=await service.list_venues(req.database, req.actor))


@api.patch("/api/venues/{venue_id}", body=VenuePatch, response=VenueOut)
async def update_venue(req: Req, venue_id: int, body: VenuePatch) -> VenueOut:
    """Change a venue's name, address or capacity (staff)."""
    return await service.update_venue(req.database, req.actor, venue_id, body)
