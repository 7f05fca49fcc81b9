"""SQL for rooms. Takes a ``db`` session; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.rooms.media_models import MediaPlacement
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


# ---- media placement (Janus)


async def placement_of(db: AsyncSession, session_id: int) -> MediaPlacement | None:
    return await db.get(MediaPlacement, session_id, populate_existing=True)


async def add_placement(db: AsyncSession, placement: MediaPlacement) -> None:
    """Raises IntegrityError when another process placed the room first."""
    db.add(placement)
    await db.flush()


async def move_placement(
    db: AsyncSession, session_id: int, old: str, new: str, room: int, secret: str, at: Any
) -> bool:
    """Move a room off instance ``old``; False when another process moved it already."""
    result = await db.execute(
        update(MediaPlacement)
        .where(MediaPlacement.session_id == session_id, MediaPlacement.instance == old)
        .values(instance=new, janus_room=room, secret=secret, placed_at=at)
    )
    return bool(getattr(result, "rowcount", 0))


async def placement_load(db: AsyncSession) -> dict[str, int]:
    """How many rooms each instance serves."""
    rows = await db.execute(
        select(MediaPlacement.instance, func.count()).group_by(MediaPlacement.instance)
    )
    return {str(row[0]): int(row[1]) for row in rows}


async def drop_placement(db: AsyncSession, session_id: int) -> None:
    await db.execute(delete(MediaPlacement).where(MediaPlacement.session_id == session_id))
