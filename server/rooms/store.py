"""SQL for rooms. Takes a ``db`` session; never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Reader
from server.rooms.models import Guest, PollTally, RoomEvent


async def events_after(
    db: AsyncSession, session_id: int, seq: int, limit: int | None = None
) -> Sequence[RoomEvent]:
    stmt = (
        select(RoomEvent)
        .where(RoomEvent.session_id == session_id, RoomEvent.seq > seq)
        .order_by(RoomEvent.seq)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await db.execute(stmt)).scalars().all()


async def timeline(
    db: AsyncSession, session_id: int, types: Sequence[str]
) -> list[tuple[dt.datetime, str, dict[str, Any]]]:
    """The session's events of ``types``, in order, as (time, type, data): what the
    composite recording follows (who held the floor when, whether it is recording)."""
    stmt = (
        select(RoomEvent.at, RoomEvent.type, RoomEvent.data)
        .where(RoomEvent.session_id == session_id, RoomEvent.type.in_(list(types)))
        .order_by(RoomEvent.seq)
    )
    return [(at, kind, dict(data or {})) for at, kind, data in (await db.execute(stmt)).all()]


async def last_event(db: AsyncSession, session_id: int) -> RoomEvent | None:
    stmt = (
        select(RoomEvent)
        .where(RoomEvent.session_id == session_id)
        .order_by(RoomEvent.seq.desc())
        .limit(1)
    )
    return (await db.execute(stmt)).scalar_one_or_none()


# One statement for every append, its values given as parameters: compiled and keyed for the
# statement cache once, not per event (the ORM's insert rebuilt and keyed each row's values).
INSERT_EVENT = insert(cast(Table, RoomEvent.__table__))


async def append(db: AsyncSession, event: RoomEvent) -> None:
    """Insert the event; a concurrent append of the same seq raises IntegrityError.

    A plain INSERT, not the ORM's unit of work: rooms append many small rows, and the event
    object is never read back through the session.
    """
    values = {
        "session_id": event.session_id,
        "seq": event.seq,
        "type": event.type,
        "data": event.data,
        "by": event.by,
        "at": event.at,
    }
    await db.execute(INSERT_EVENT, values)


# Built once: every guest's connection asks it, a hall's crowd at once (server.read_batch).
_GUESTS = select(Guest.token_digest, Guest.id, Guest.session_id, Guest.name).where(
    Guest.token_digest.in_(bindparam("digests", expanding=True))
)


async def guests_by_digest(db: Reader, digests: Sequence[str]) -> dict[str, Any]:
    """The guests whose passes have these digests, by digest, as rows of ``id``,
    ``session_id`` and ``name`` (no object loaded)."""
    rows = await db.execute(_GUESTS, {"digests": list(digests)})
    return {row.token_digest: row for row in rows}


async def add_guest(db: AsyncSession, guest: Guest) -> None:
    db.add(guest)
    await db.flush()


async def tally_of(db: AsyncSession, session_id: int, poll_id: int) -> list[int] | None:
    """The counts in a secret poll's ballot box (None: nobody voted yet)."""
    stmt = select(PollTally.counts).where(
        PollTally.session_id == session_id, PollTally.poll_id == poll_id
    )
    counts = (await db.execute(stmt)).scalar_one_or_none()
    return list(counts) if counts is not None else None


async def cast_ballot(
    db: AsyncSession, session_id: int, poll_id: int, size: int, choices: list[int]
) -> None:
    """Count one secret ballot: only the poll's counts change (no row per ballot)."""
    counts = await tally_of(db, session_id, poll_id)
    if counts is None:
        counts = [0] * size
        for choice in choices:
            counts[choice] += 1
        await db.execute(
            insert(PollTally).values(session_id=session_id, poll_id=poll_id, counts=counts)
        )
        return
    for choice in choices:
        counts[choice] += 1
    await db.execute(
        update(PollTally)
        .where(PollTally.session_id == session_id, PollTally.poll_id == poll_id)
        .values(counts=counts)
    )
