"""SQL for the directory. Takes a ``db`` session; never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Row, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import Role
from server.db import Reader
from server.directory.models import Person, Token, Unit, Venue, unit_contacts


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def person_by_id(db: AsyncSession, person_id: int) -> Person | None:
    return await db.get(Person, person_id)


async def person_by_username(db: AsyncSession, username: str) -> Person | None:
    return (
        await db.execute(select(Person).where(Person.username == username))
    ).scalar_one_or_none()


async def people_by_email(db: AsyncSession, email: str, limit: int = 2) -> Sequence[Person]:
    """Accounts with this email address, compared without regard to case."""
    query = select(Person).where(func.lower(Person.email) == email.lower()).limit(limit)
    return (await db.execute(query)).scalars().all()


async def people_by_ids(db: AsyncSession, ids: Sequence[int]) -> dict[int, Person]:
    if not ids:
        return {}
    rows = await db.execute(select(Person).where(Person.id.in_(set(ids))))
    return {p.id: p for p in rows.scalars()}


async def languages_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    """The chosen language of each of these people."""
    if not ids:
        return {}
    rows = await db.execute(select(Person.id, Person.language).where(Person.id.in_(set(ids))))
    return {pid: language for pid, language in rows.all()}


async def list_people(
    db: AsyncSession, *, role: Role | None, unit_id: int | None, q: str | None
) -> Sequence[Person]:
    stmt = select(Person).order_by(Person.id)
    if role is not None:
        stmt = stmt.where(Person.role == role)
    if unit_id is not None:
        stmt = stmt.where(Person.unit_id == unit_id)
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(
            or_(Person.name.like(pattern, escape="\\"), Person.username.like(pattern, escape="\\"))
        )
    return (await db.execute(stmt)).scalars().all()


async def count_people(db: AsyncSession) -> int:
    return int((await db.execute(select(func.count()).select_from(Person))).scalar_one())


async def add(db: AsyncSession, row: object) -> None:
    """Insert a row and flush so its id is known."""
    db.add(row)
    await db.flush()


async def unit_by_id(db: AsyncSession, unit_id: int) -> Unit | None:
    return await db.get(Unit, unit_id)


async def unit_by_name(db: AsyncSession, name: str) -> Unit | None:
    return (await db.execute(select(Unit).where(Unit.name == name))).scalar_one_or_none()


async def units_by_ids(db: AsyncSession, ids: Sequence[int]) -> dict[int, Unit]:
    if not ids:
        return {}
    rows = await db.execute(select(Unit).where(Unit.id.in_(set(ids))))
    return {u.id: u for u in rows.scalars()}


async def list_units(db: AsyncSession) -> Sequence[Unit]:
    return (await db.execute(select(Unit).order_by(Unit.name))).scalars().all()


async def set_unit_contacts(db: AsyncSession, unit_id: int, person_ids: Sequence[int]) -> None:
    await db.execute(unit_contacts.delete().where(unit_contacts.c.unit_id == unit_id))
    if person_ids:
        await db.execute(
            unit_contacts.insert(), [{"unit_id": unit_id, "person_id": p} for p in person_ids]
        )


async def contacts_of_units(db: AsyncSession, unit_ids: Sequence[int]) -> dict[int, list[Person]]:
    result: dict[int, list[Person]] = {u: [] for u in unit_ids}
    if not unit_ids:
        return result
    rows = await db.execute(
        select(unit_contacts.c.unit_id, Person)
        .join(Person, Person.id == unit_contacts.c.person_id)
        .where(unit_contacts.c.unit_id.in_(unit_ids))
        .order_by(Person.id)
    )
    for unit_id, person in rows:
        result[unit_id].append(person)
    return result


async def venue_by_id(db: AsyncSession, venue_id: int) -> Venue | None:
    return await db.get(Venue, venue_id)


async def venue_by_name(db: AsyncSession, name: str) -> Venue | None:
    return (await db.execute(select(Venue).where(Venue.name == name))).scalar_one_or_none()


async def list_venues(db: AsyncSession) -> Sequence[Venue]:
    return (await db.execute(select(Venue).order_by(Venue.name))).scalars().all()


# A token's digest and the columns of the Principal it signs in: id, username, name, role,
# unit_id, language.
PersonRow = Row[str, int, str, str, Role, int | None, str]


def _live(now: dt.datetime | BindParameter[Any]) -> tuple[ColumnElement[bool], ...]:
    """A token that still signs its person in: not revoked, not expired, the account active
    (the query joins Token and Person)."""
    return (Token.revoked_at.is_(None), Token.expires_at > now, Person.active.is_(True))


# Built once, its values given as parameters: every request and room connection asks this,
# a crowd's at once in one query (``server.read_batch``).
LIVE_PEOPLE = (
    select(
        Token.digest,
        Person.id,
        Person.username,
        Person.name,
        Person.role,
        Person.unit_id,
        Person.language,
    )
    .join(Token, Person.id == Token.person_id)
    .where(Token.digest.in_(bindparam("digests", expanding=True)), *_live(bindparam("now")))
)


async def live_people(db: Reader, digests: Sequence[str], now: dt.datetime) -> dict[str, PersonRow]:
    """The people these token digests sign in, by digest, as rows of a :class:`Principal`'s
    columns (no object loaded); a digest that signs no one in is left out."""
    rows = await db.execute(LIVE_PEOPLE, {"digests": list(digests), "now": now})
    return {row.digest: row for row in rows}


async def live_digests(db: AsyncSession, digests: Sequence[str], now: dt.datetime) -> set[str]:
    """Which of ``digests`` belong to tokens that still sign an active account in."""
    rows = await db.execute(
        select(Token.digest)
        .join(Person, Person.id == Token.person_id)
        .where(Token.digest.in_(digests), *_live(now))
    )
    return set(rows.scalars())


async def revoke_token(db: AsyncSession, digest: str, now: dt.datetime) -> int:
    result = await db.execute(
        update(Token)
        .where(Token.digest == digest, Token.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def live_digests_of(db: AsyncSession, person_id: int, now: dt.datetime) -> list[str]:
    """The digests of a person's tokens that still sign them in."""
    rows = await db.execute(
        select(Token.digest).where(
            Token.person_id == person_id, Token.revoked_at.is_(None), Token.expires_at > now
        )
    )
    return list(rows.scalars())


async def revoke_tokens_of(db: AsyncSession, person_id: int, now: dt.datetime) -> None:
    await db.execute(
        update(Token)
        .where(Token.person_id == person_id, Token.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def unit_people(
    db: AsyncSession, unit_ids: Sequence[int]
) -> dict[int, list[tuple[int, str, str]]]:
    """(id, name, email) of the people of each unit who have an email address."""
    result: dict[int, list[tuple[int, str, str]]] = {u: [] for u in unit_ids}
    rows = await db.execute(
        select(Person.unit_id, Person.id, Person.name, Person.email)
        .where(Person.unit_id.in_(unit_ids), Person.email.is_not(None))
        .order_by(Person.id)
    )
    for unit_id, person_id, name, email in rows:
        if unit_id is not None and email:
            result[unit_id].append((person_id, name, email))
    return result


async def active_ids_of_units(db: AsyncSession, unit_ids: Sequence[int]) -> dict[int, list[int]]:
    """The ids of the active people of each unit in ``unit_ids``."""
    result: dict[int, list[int]] = {u: [] for u in unit_ids}
    if not unit_ids:
        return result
    rows = await db.execute(
        select(Person.unit_id, Person.id)
        .where(Person.unit_id.in_(set(unit_ids)), Person.active.is_(True))
        .order_by(Person.id)
    )
    for unit_id, person_id in rows.all():
        if unit_id is not None:
            result[unit_id].append(person_id)
    return result


async def people_by_names(db: AsyncSession, names: Sequence[str]) -> dict[str, list[Person]]:
    """The people named each of ``names`` exactly (a name may be shared)."""
    result: dict[str, list[Person]] = {n: [] for n in names}
    if names:
        rows = await db.execute(
            select(Person).where(Person.name.in_(set(names))).order_by(Person.id)
        )
        for p in rows.scalars():
            result[p.name].append(p)
    return result


async def units_by_names(db: AsyncSession, names: Sequence[str]) -> dict[str, Unit]:
    """The units named each of ``names`` exactly."""
    if not names:
        return {}
    rows = await db.execute(select(Unit).where(Unit.name.in_(set(names))))
    return {u.name: u for u in rows.scalars()}
