"""SQL for recordings. Takes a ``db`` session; never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.media.models import Recording


async def add_recording(db: AsyncSession, row: Recording) -> None:
    db.add(row)
    await db.flush()


async def recordings_of(db: AsyncSession, session_id: int) -> Sequence[Recording]:
    stmt = select(Recording).where(Recording.session_id == session_id).order_by(Recording.id)
    return (await db.execute(stmt)).scalars().all()


async def recording_by_id(db: AsyncSession, recording_id: int) -> Recording | None:
    return await db.get(Recording, recording_id)
