"""HTTP routes of the directory: login, people, units, venues."""

from __future__ import annotations

import datetime as dt

from server.api import Api, Req
from server.audit import service as audit
from server.auth import bearer_token
from server.directory import service
from server.directory.schemas import (
    LoginIn,
    LoginOut,
    PeopleList,
    PeopleQuery,
    PersonCreate,
    PersonOut,
    UnitCreate,
    UnitList,
    UnitOut,
    VenueCreate,
    VenueList,
    VenueOut,
)

api = Api(tag="directory")


@api.post("/api/auth/login", body=LoginIn, response=LoginOut, public=True)
async def login(req: Req, body: LoginIn) -> LoginOut:
    """Sign in with username and password; returns a bearer token."""
    config = req.config
    limits = audit.LoginLimits(
        per_account=config.login_failures_per_account,
        per_address=config.login_failures_per_address,
        window=dt.timedelta(seconds=config.login_window_seconds),
    )
    ttl = dt.timedelta(hours=config.token_ttl_hours)
    return await service.login(
        req.database, req.passwords, body.username, body.password, ttl, limits
    )


@api.post("/api/auth/logout", status=204)
async def logout(req: Req) -> None:
    """Revoke the token this request was made with."""
    req.actor  # noqa: B018 - only a valid token reaches here
    token = bearer_token(req.request)
    assert token is not None
    await service.logout(req.database, token)


@api.get("/api/me", response=PersonOut)
async def me(req: Req) -> PersonOut:
    """The signed-in person."""
    return await service.me(req.database, req.actor)


@api.post("/api/people", body=PersonCreate, response=PersonOut, status=201)
async def create_person(req: Req, body: PersonCreate) -> PersonOut:
    """Create an account (staff)."""
    return await service.create_person(req.database, req.passwords, req.actor, body)


@api.get("/api/people", query=PeopleQuery, response=PeopleList)
async def list_people(req: Req, query: PeopleQuery) -> PeopleList:
    """List accounts (staff), filtered by role, unit or a name fragment."""
    return PeopleList(items=await service.list_people(req.database, req.actor, query))


@api.post("/api/units", body=UnitCreate, response=UnitOut, status=201)
async def create_unit(req: Req, body: UnitCreate) -> UnitOut:
    """Register an undertaking unit (staff)."""
    return await service.create_unit(req.database, req.actor, body)


@api.get("/api/units", response=UnitList)
async def list_units(req: Req) -> UnitList:
    """List the undertaking units."""
    return UnitList(items=await service.list_units(req.database, req.actor))


@api.post("/api/venues", body=VenueCreate, response=VenueOut, status=201)
async def create_venue(req: Req, body: VenueCreate) -> VenueOut:
    """Register a venue (staff)."""
    return await service.create_venue(req.database, req.actor, body)


@api.get("/api/venues", response=VenueList)
async def list_venues(req: Req) -> VenueList:
    """List the venues."""
    return VenueList(items=await service.list_venues(req.database, req.actor))
