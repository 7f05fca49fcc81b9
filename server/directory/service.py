"""Directory operations: accounts, login tokens, units and venues."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import (
    Passwords,
    Principal,
    Role,
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
    MePatch,
    PeopleQuery,
    PersonBrief,
    PersonCreate,
    PersonOut,
    PersonPatch,
    UnitCreate,
    UnitOut,
    UnitPatch,
    VenueCreate,
    VenueOut,
    VenuePatch,
)
from server.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    field_error,
    invalid_field,
)
from server.i18n import _
from server.password_rules import password_problem
from server.read_batch import ReadBatch


def principal(person: Person | store.PersonRow) -> Principal:
    """The request identity of a person (an object, or a row of the same columns)."""
    return Principal(
        id=person.id,
        username=person.username,
        name=person.name,
        role=person.role,
        unit_id=person.unit_id,
        language=person.language,
    )


def token_lookup(database: Database) -> ReadBatch[str, Principal]:
    """Who each bearer token's digest belongs to, if the token is live and the account active:
    ``await lookup.get(token_digest(token))``. Every HTTP request and room connection asks; a
    crowd's questions share one query."""

    async def fetch(digests: list[str]) -> dict[str, Principal]:
        async with database.read_columns() as db:
            found = await store.live_people(db, digests, utcnow())
        return {digest: principal(row) for digest, row in found.items()}

    return ReadBatch(fetch)


async def live_token_digests(database: Database, digests: Collection[str]) -> set[str]:
    """Which of these token digests still sign someone in (not revoked or expired, the account
    active): live connections opened with the others must end."""
    wanted, live = sorted(set(digests)), set()
    async with database.read() as db:
        for start in range(0, len(wanted), 500):  # well under every database's parameter limit
            live |= await store.live_digests(db, wanted[start : start + 500], utcnow())
    return live


def login_subject(username: str) -> str:
    # Failed sign-ins are counted per account name tried, kept as a digest: someone who typed
    # their password into the username box must not find it in the audit log.
    return "u:" + hashlib.sha256(username.encode()).hexdigest()[:40]


async def login_failed(
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


DirectoryCheck = Callable[[str, str], Awaitable[Person | None]]


async def login(
    database: Database,
    passwords: Passwords,
    username: str,
    password: str,
    ttl: dt.timedelta,
    limits: audit.LoginLimits,
    directory: DirectoryCheck | None = None,
) -> LoginOut:
    """Check a password and issue a token; too many failures make the account (or the address)
    wait, and every attempt is in the audit log.

    With a ``directory`` (LDAP), a person with no local password here, or no account yet, is
    checked there instead; a local account with its own password never depends on it.
    """
    username = username.strip().lower()
    subject = login_subject(username)
    async with database.read() as db:
        await audit.check_login_allowed(db, subject, limits, utcnow())
        person = await store.person_by_username(db, username)
    ok = await passwords.verify(person.password_hash if person else None, password)
    method = "password"
    if not ok and directory is not None and (person is None or person.password_hash is None):
        method = "ldap"
        found = await directory(username, password)
        ok, person = found is not None, found or person
    if person is None or not ok:
        await login_failed(database, subject, person, "unknown" if person is None else "password")
        raise Unauthorized(_("Wrong username or password."))
    return await issue_token(database, person, subject, ttl, method=method)


async def issue_token(
    database: Database,
    person: Person,
    subject: str,
    ttl: dt.timedelta,
    *,
    method: str = "password",
) -> LoginOut:
    """A new login token for someone whose identity was just proven (by ``method``)."""
    if not person.active:
        await login_failed(database, subject, person, "disabled")
        raise Forbidden(_("This account is disabled; ask committee staff to enable it."))
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
        detail: dict[str, Any] = {} if method == "password" else {"method": method}
        await audit.record(
            db,
            audit.LOGIN_OK,
            actor=principal(person),
            object_type="person",
            object_id=person.id,
            subject=subject,
            **detail,
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


async def update_me(database: Database, actor: Principal, patch: MePatch) -> PersonOut:
    """The signed-in person changes their own settings (their language)."""
    async with database.transaction() as db:
        person = await store.person_by_id(db, actor.id)
        assert person is not None  # the token lookup just found them
        person.language = patch.language
        await audit.record(
            db,
            "person.settings",
            actor=actor,
            object_type="person",
            object_id=person.id,
            language=patch.language,
        )
        await db.flush()
        return PersonOut.model_validate(person)


async def _check_unit(db: AsyncSession, unit_id: int | None, field: str) -> None:
    if unit_id is not None and await store.unit_by_id(db, unit_id) is None:
        raise invalid_field(field, _("there is no unit with id {unit_id}", unit_id=unit_id))


async def add_person(
    database: Database, passwords: Passwords, body: PersonCreate, actor: Principal | None = None
) -> PersonOut:
    """Create an account without a permission check (the CLI and the demo seed use this)."""
    password_hash = await passwords.hash(body.password) if body.password else None
    async with database.transaction() as db:
        if await store.person_by_username(db, body.username) is not None:
            raise Conflict(
                _("The username {username} is taken; choose another.", username=repr(body.username))
            )
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
            language=body.language,
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
    problem = password_problem(password, username)
    if problem is not None:
        raise invalid_field("password", problem)
    password_hash = await passwords.hash(password)
    async with database.transaction() as db:
        person = await store.person_by_username(db, username)
        if person is None:
            raise Invalid(_("There is no account {username}.", username=repr(username)))
        person.password_hash = password_hash
        await store.revoke_tokens_of(db, person.id, utcnow())
        await audit.record(
            db, "person.password", actor=None, object_type="person", object_id=person.id
        )


@dataclass(frozen=True)
class PersonChanged:
    """The account as it is now, and the token digests that stopped working (if any)."""

    person: PersonOut
    revoked: list[str]


def _check_person_patch(actor: Principal, person: Person, changes: dict[str, Any]) -> None:
    own = person.id == actor.id
    if own and (changes.get("active") is False or changes.get("role", person.role) != person.role):
        raise Conflict(_("You cannot deactivate your own account or change its role."))
    role = changes.get("role", person.role)
    unit_id = changes.get("unit_id", person.unit_id)
    if role is Role.UNIT and unit_id is None:
        raise invalid_field("unit_id", _("required for a unit account"))
    password = changes.get("password")
    problem = password_problem(password, person.username) if password else None
    if problem is not None:
        raise invalid_field("password", problem)


async def update_person(
    database: Database,
    passwords: Passwords,
    actor: Principal,
    person_id: int,
    patch: PersonPatch,
) -> PersonChanged:
    """Staff change an account; deactivating it or setting a new password revokes its tokens."""
    require_staff(actor)
    changes = patch.model_dump(include=patch.model_fields_set)
    async with database.transaction() as db:
        person = await store.person_by_id(db, person_id)
        if person is None:
            raise NotFound(_("There is no person {person_id}.", person_id=person_id))
        _check_person_patch(actor, person, changes)
        await _check_unit(db, changes.get("unit_id"), "unit_id")
    password = changes.pop("password", None)
    password_hash = await passwords.hash(password) if password else None
    async with database.transaction() as db:
        person = await store.person_by_id(db, person_id)
        assert person is not None  # people are never deleted
        for name, value in changes.items():
            setattr(person, name, value)
        if password_hash is not None:
            person.password_hash = password_hash
        ends = password_hash is not None or changes.get("active") is False
        revoked = await store.live_digests_of(db, person.id, utcnow()) if ends else []
        if ends:
            await store.revoke_tokens_of(db, person.id, utcnow())
        detail: dict[str, Any] = {"active": person.active} if "active" in changes else {}
        await audit.record(
            db,
            "person.update",
            actor=actor,
            object_type="person",
            object_id=person.id,
            fields=sorted([*changes, *(["password"] if password else [])]),
            **detail,
        )
        await db.flush()
        return PersonChanged(PersonOut.model_validate(person), revoked)


async def list_people(database: Database, actor: Principal, query: PeopleQuery) -> list[PersonOut]:
    """Staff list accounts."""
    require_staff(actor)
    async with database.read() as db:
        rows = await store.list_people(db, role=query.role, unit_id=query.unit_id, q=query.q)
        return [PersonOut.model_validate(p) for p in rows]


MAX_MEMBERS = 2000  # a committee has some hundreds


async def list_members(database: Database, actor: Principal, q: str | None) -> list[PersonBrief]:
    """The active members and leaders, for members choosing co-signers (and staff)."""
    if actor.role not in (Role.MEMBER, Role.LEADER, Role.STAFF):
        raise Forbidden(_("Only committee members and staff see the list of members."))
    async with database.read() as db:
        found: list[Person] = []
        for role in (Role.MEMBER, Role.LEADER):
            found += await store.list_people(db, role=role, unit_id=None, q=q)
        people = sorted((p for p in found if p.active), key=lambda p: p.name)[:MAX_MEMBERS]
        return [PersonBrief.model_validate(p) for p in people]


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


async def _check_contacts(db: AsyncSession, contact_ids: Sequence[int]) -> None:
    found = await store.people_by_ids(db, contact_ids)
    missing = [
        field_error(f"contact_ids.{i}", _("there is no person with id {pid}", pid=pid))
        for i, pid in enumerate(contact_ids)
        if pid not in found
    ]
    if missing:
        raise Invalid(_("Some contact people do not exist."), errors=missing)


async def add_unit(database: Database, body: UnitCreate, actor: Principal | None = None) -> UnitOut:
    """Create a unit without a permission check (the demo seed uses this)."""
    async with database.transaction() as db:
        if await store.unit_by_name(db, body.name) is not None:
            raise Conflict(_("A unit named {name} exists already.", name=repr(body.name)))
        await _check_contacts(db, body.contact_ids)
        unit = Unit(name=body.name, created_at=utcnow())
        await store.add(db, unit)
        await store.set_unit_contacts(db, unit.id, list(dict.fromkeys(body.contact_ids)))
        await audit.record(
            db, "unit.create", actor=actor, object_type="unit", object_id=unit.id, name=unit.name
        )
        return (await _unit_out(db, [unit]))[0]


async def create_unit(database: Database, actor: Principal, body: UnitCreate) -> UnitOut:
    """Staff register an undertaking unit."""
    require_staff(actor)
    return await add_unit(database, body, actor)


async def update_unit(
    database: Database, actor: Principal, unit_id: int, patch: UnitPatch
) -> UnitOut:
    """Staff rename a unit or replace its contact people."""
    require_staff(actor)
    changes = patch.model_dump(include=patch.model_fields_set)
    async with database.transaction() as db:
        unit = await store.unit_by_id(db, unit_id)
        if unit is None:
            raise NotFound(_("There is no unit {unit_id}.", unit_id=unit_id))
        if "name" in changes and changes["name"] != unit.name:
            if await store.unit_by_name(db, changes["name"]) is not None:
                raise Conflict(_("A unit named {name} exists already.", name=repr(changes["name"])))
            unit.name = changes["name"]
        if patch.contact_ids is not None:
            await _check_contacts(db, patch.contact_ids)
            await store.set_unit_contacts(db, unit.id, list(dict.fromkeys(patch.contact_ids)))
        await audit.record(
            db,
            "unit.update",
            actor=actor,
            object_type="unit",
            object_id=unit.id,
            fields=sorted(changes),
        )
        await db.flush()
        return (await _unit_out(db, [unit]))[0]


async def list_units(database: Database, actor: Principal) -> list[UnitOut]:
    """Everyone but guests may see the units."""
    require_not_guest(actor)
    async with database.read() as db:
        return await _unit_out(db, await store.list_units(db))


async def add_venue(
    database: Database, body: VenueCreate, actor: Principal | None = None
) -> VenueOut:
    """Create a venue without a permission check (the demo seed uses this)."""
    async with database.transaction() as db:
        if await store.venue_by_name(db, body.name) is not None:
            raise Conflict(_("A venue named {name} exists already.", name=repr(body.name)))
        venue = Venue(
            name=body.name, address=body.address, capacity=body.capacity, created_at=utcnow()
        )
        await store.add(db, venue)
        await audit.record(
            db,
            "venue.create",
            actor=actor,
            object_type="venue",
            object_id=venue.id,
            name=venue.name,
        )
        return VenueOut.model_validate(venue)


async def create_venue(database: Database, actor: Principal, body: VenueCreate) -> VenueOut:
    """Staff register a venue."""
    require_staff(actor)
    return await add_venue(database, body, actor)


async def update_venue(
    database: Database, actor: Principal, venue_id: int, patch: VenuePatch
) -> VenueOut:
    """Staff change a venue's name, address or capacity."""
    require_staff(actor)
    changes = patch.model_dump(include=patch.model_fields_set)
    async with database.transaction() as db:
        venue = await store.venue_by_id(db, venue_id)
        if venue is None:
            raise NotFound(_("There is no venue {venue_id}.", venue_id=venue_id))
        renamed = "name" in changes and changes["name"] != venue.name
        if renamed and await store.venue_by_name(db, changes["name"]) is not None:
            raise Conflict(_("A venue named {name} exists already.", name=repr(changes["name"])))
        for name, value in changes.items():
            setattr(venue, name, value)
        await audit.record(
            db,
            "venue.update",
            actor=actor,
            object_type="venue",
            object_id=venue.id,
            fields=sorted(changes),
        )
        await db.flush()
        return VenueOut.model_validate(venue)


async def list_venues(database: Database, actor: Principal) -> list[VenueOut]:
    """Every signed-in person may see the venues."""
    del actor
    async with database.read() as db:
        return [VenueOut.model_validate(v) for v in await store.list_venues(db)]


async def count_people(database: Database) -> int:
    """How many accounts exist (the demo seed runs only on an empty database)."""
    async with database.read() as db:
        return await store.count_people(db)


# ---------------------------------------------------------------- for other features


async def names_of(db: AsyncSession, person_ids: Sequence[int]) -> dict[int, str]:
    """The name of each person in ``person_ids`` who exists."""
    return {pid: p.name for pid, p in (await store.people_by_ids(db, person_ids)).items()}


async def briefs_of(db: AsyncSession, person_ids: Sequence[int]) -> dict[int, PersonBrief]:
    """Name, role and unit of each person in ``person_ids`` who exists."""
    found = await store.people_by_ids(db, person_ids)
    return {pid: PersonBrief.model_validate(p) for pid, p in found.items()}


async def unit_names(db: AsyncSession, unit_ids: Sequence[int]) -> dict[int, str]:
    """The name of each unit in ``unit_ids`` that exists."""
    return {uid: u.name for uid, u in (await store.units_by_ids(db, unit_ids)).items()}


async def languages(db: AsyncSession, person_ids: Sequence[int]) -> dict[int, str]:
    """The chosen language of each of these people (their emails are written in it)."""
    return await store.languages_of(db, person_ids)


async def unit_people(
    db: AsyncSession, unit_ids: Sequence[int]
) -> dict[int, list[tuple[int, str, str]]]:
    """(id, name, email) of the people of each unit who have an email address."""
    return await store.unit_people(db, unit_ids)


async def people_of_units(db: AsyncSession, unit_ids: Sequence[int]) -> dict[int, list[int]]:
    """The active people of each unit in ``unit_ids`` (whom a unit's notices reach)."""
    return await store.active_ids_of_units(db, unit_ids)


@dataclass(frozen=True)
class Addressee:
    """Whom a message goes to: a name, and an email address if the person has one."""

    name: str
    email: str | None
    active: bool


async def addressees(db: AsyncSession, person_ids: Sequence[int]) -> dict[int, Addressee]:
    """Name, email address and whether active, of each person in ``person_ids`` who exists."""
    people = await store.people_by_ids(db, person_ids)
    return {pid: Addressee(p.name, p.email, p.active) for pid, p in people.items()}


async def roles_of(db: AsyncSession, person_ids: Sequence[int]) -> dict[int, tuple[str, Role]]:
    """The name and role of each person in ``person_ids`` who exists."""
    return {pid: (p.name, p.role) for pid, p in (await store.people_by_ids(db, person_ids)).items()}
