"""Directory operations: accounts, login tokens, units and venues."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import (
    Passwords,
    Principal,
    new_token,
    require_not_guest,
    require_staff,
    token_digest,
)
from server.db import Database, utcnow
from server.directory import store
from server.directory.models import Person, Token, Unit, Venue
from server.directory.schemas import (
    LoginOut,
    PeopleQuery,
    PersonBrief,
    PersonCreate,
    PersonOut,
    UnitCreate,
    UnitOut,
    VenueCreate,
    VenueOut,
)
from server.errors import Conflict, Forbidden, Invalid, Unauthorized, field_error, invalid_field


def principal(person: Person) -> Principal:
    """The request identity of a person."""
    return Principal(
        id=person.id,
        username=person.username,
        name=person.name,
        role=person.role,
        unit_id=person.unit_id,
    )


async def principal_for_token(database: Database, token: str) -> Principal | None:
    """Who a bearer token belongs to, if it is live and the account active."""
    async with database.read() as db:
        found = await store.live_token(db, token_digest(token), utcnow())
    return principal(found[1]) if found else None


def _login_subject(username: str) -> str:
    # Failed sign-ins are counted per account name tried, kept as a digest: someone who typed
    # their password into the username box must not find it in the audit log.
    return "u:" + hashlib.sha256(username.encode()).hexdigest()[:40]


async def _login_failed(
    database: Database, subject: str, person: Person | None, reason: str
) -> None:
    async with database.transaction() as db:
        await audit.record(
            db,
            audit.LOGIN_FAILED,
            actor=None,
            object_type="person",
            object_id=person.id if person else None,
            subject=subject,
            reason=reason,
        )


async def login(
    database: Database,
    passwords: Passwords,
    username: str,
    password: str,
    ttl: dt.timedelta,
    limits: audit.LoginLimits,
) -> LoginOut:
    """Check a password and issue a token; too many failures make the account (or the address)
    wait, and every attempt is in the audit log."""
    username = username.strip().lower()
    subject = _login_subject(username)
    async with database.read() as db:
        await audit.check_login_allowed(db, subject, limits, utcnow())
        person = await store.person_by_username(db, username)
    ok = await passwords.verify(person.password_hash if person else None, password)
    if person is None or not ok:
        await _login_failed(database, subject, person, "unknown" if person is None else "password")
        raise Unauthorized("Wrong username or password.")
    if not person.active:
        await _login_failed(database, subject, person, "disabled")
        raise Forbidden("This account is disabled; ask committee staff to enable it.")
    token, now = new_token(), utcnow()
    async with database.transaction() as db:
        await store.add(
            db,
            Token(
                person_id=person.id,
                digest=token_digest(token),
                created_at=now,
                expires_at=now + ttl,
            ),
        )
        await audit.record(
            db,
            audit.LOGIN_OK,
            actor=principal(person),
            object_type="person",
            object_id=person.id,
            subject=subject,
        )
    return LoginOut(token=token, expires_at=now + ttl, person=PersonOut.model_validate(person))


async def logout(database: Database, token: str) -> None:
    """Revoke one token."""
    async with database.transaction() as db:
        await store.revoke_token(db, token_digest(token), utcnow())


async def me(database: Database, actor: Principal) -> PersonOut:
    """The signed-in person's own record."""
    async with database.read() as db:
        person = await store.person_by_id(db, actor.id)
    assert person is not None  # the token lookup just found them
    return PersonOut.model_validate(person)


async def _check_unit(db: AsyncSession, unit_id: int | None, field: str) -> None:
    if unit_id is not None and await store.unit_by_id(db, unit_id) is None:
        raise invalid_field(field, f"there is no unit with id {unit_id}")


async def add_person(
    database: Database, passwords: Passwords, body: PersonCreate, actor: Principal | None = None
) -> PersonOut:
    """Create an account without a permission check (the CLI and the demo seed use this)."""
    password_hash = await passwords.hash(body.password) if body.password else None
    async with database.transaction() as db:
        if await store.person_by_username(db, body.username) is not None:
            raise Conflict(f"The username {body.username!r} is taken; choose another.")
        await _check_unit(db, body.unit_id, "unit_id")
        person = Person(
            username=body.username,
            name=body.name,
            email=body.email,
            phone=body.phone,
            role=body.role,
            unit_id=body.unit_id,
            password_hash=password_hash,
            active=body.active,
            created_at=utcnow(),
        )
        await store.add(db, person)
        await audit.record(
            db,
            "person.create",
            actor=actor,
            object_type="person",
            object_id=person.id,
            username=person.username,
            role=person.role.value,
        )
        return PersonOut.model_validate(person)


async def create_person(
    database: Database, passwords: Passwords, actor: Principal, body: PersonCreate
) -> PersonOut:
    """Staff create an account."""
    require_staff(actor)
    return await add_person(database, passwords, body, actor)


async def set_password(
    database: Database, passwords: Passwords, username: str, password: str
) -> None:
    """Replace a password and revoke the person's tokens (the CLI uses this)."""
    password_hash = await passwords.hash(password)
    async with database.transaction() as db:
        person = await store.person_by_username(db, username)
        if person is None:
            raise Invalid(f"There is no account {username!r}.")
        person.password_hash = password_hash
        await store.revoke_tokens_of(db, person.id, utcnow())
        await audit.record(
            db, "person.password", actor=None, object_type="person", object_id=person.id
        )


async def list_people(database: Database, actor: Principal, query: PeopleQuery) -> list[PersonOut]:
    """Staff list accounts."""
    require_staff(actor)
    async with database.read() as db:
        rows = await store.list_people(db, role=query.role, unit_id=query.unit_id, q=query.q)
        return [PersonOut.model_validate(p) for p in rows]


async def _unit_out(db: AsyncSession, units: Sequence[Unit]) -> list[UnitOut]:
    contacts = await store.contacts_of_units(db, [u.id for u in units])
    return [
        UnitOut(
            id=u.id,
            name=u.name,
            created_at=u.created_at,
            contacts=[PersonBrief.model_validate(p) for p in contacts[u.id]],
        )
        for u in units
    ]


async def add_unit(database: Database, body: UnitCreate) -> UnitOut:
    """Create a unit without a permission check (the demo seed uses this)."""
    async with database.transaction() as db:
        if await store.unit_by_name(db, body.name) is not None:
            raise Conflict(f"A unit named {body.name!r} exists already.")
        found = await store.people_by_ids(db, body.contact_ids)
        missing = [
            field_error(f"contact_ids.{i}", f"there is no person with id {pid}")
            for i, pid in enumerate(body.contact_ids)
            if pid not in found
        ]
        if missing:
            raise Invalid("Some contact people do not exist.", errors=missing)
        unit = Unit(name=body.name, created_at=utcnow())
        await store.add(db, unit)
        await store.set_unit_contacts(db, unit.id, list(dict.fromkeys(body.contact_ids)))
        return (await _unit_out(db, [unit]))[0]


async def create_unit(database: Database, actor: Principal, body: UnitCreate) -> UnitOut:
    """Staff register an undertaking unit."""
    require_staff(actor)
    return await add_unit(database, body)


async def list_units(database: Database, actor: Principal) -> list[UnitOut]:
    """Everyone but guests may see the units."""
    require_not_guest(actor)
    async with database.read() as db:
        return await _unit_out(db, await store.list_units(db))


async def add_venue(database: Database, body: VenueCreate) -> VenueOut:
    """Create a venue without a permission check (the demo seed uses this)."""
    async with database.transaction() as db:
        if await store.venue_by_name(db, body.name) is not None:
            raise Conflict(f"A venue named {body.name!r} exists already.")
        venue = Venue(
            name=body.name, address=body.address, capacity=body.capacity, created_at=utcnow()
        )
        await store.add(db, venue)
        return VenueOut.model_validate(venue)


async def create_venue(database: Database, actor: Principal, body: VenueCreate) -> VenueOut:
    """Staff register a venue."""
    require_staff(actor)
    return await add_venue(database, body)


async def list_venues(database: Database, actor: Principal) -> list[VenueOut]:
    """Every signed-in person may see the venues."""
    del actor
    async with database.read() as db:
        return [VenueOut.model_validate(v) for v in await store.list_venues(db)]


async def count_people(database: Database) -> int:
    """How many accounts exist (the demo seed runs only on an empty database)."""
    async with database.read() as db:
        return await store.count_people(db)
