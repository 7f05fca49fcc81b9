"""SQL for where rooms' media is placed on Janus. Takes a ``db`` session; never commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.media.janus.models import MediaPlacement


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
