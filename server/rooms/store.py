"""SQL for rooms. Takes a ``db`` session; never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.rooms.models import Guest, Recording, RoomEvent


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


async def append(db: AsyncSession, event: RoomEvent) -> None:
    """Insert the event; a concurrent append of the same seq raises IntegrityError.

    A plain INSERT, not the ORM's unit of work: rooms append many small rows, and the event
    object is never read back through the session.
    """
    await db.execute(
        insert(RoomEvent).values(
            session_id=event.session_id,
            seq=event.seq,
            type=event.type,
            data=event.data,
            by=event.by,
            at=event.at,
        )
    )


async def guest_by_digest(db: AsyncSession, digest: str) -> Guest | None:
    return (
        await db.execute(select(Guest).where(Guest.token_digest == digest))
    ).scalar_one_or_none()


async def add_guest(db: AsyncSession, guest: Guest) -> None:
    db.add(guest)
    await db.flush()


async def add_recording(db: AsyncSession, row: Recording) -> None:
    db.add(row)
    await db.flush()


async def recordings_of(db: AsyncSession, session_id: int) -> Sequence[Recording]:
    stmt = select(Recording).where(Recording.session_id == session_id).order_by(Recording.id)
    return (await db.execute(stmt)).scalars().all()


async def recording_by_id(db: AsyncSession, recording_id: int) -> Recording | None:
    return await db.get(Recording, recording_id)
