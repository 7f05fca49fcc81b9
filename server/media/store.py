"""SQL for recordings. Takes a ``db`` session; never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.media.models import COMPOSITE, Recording


async def add_recording(db: AsyncSession, row: Recording) -> None:
    db.add(row)
    await db.flush()


async def recordings_of(db: AsyncSession, session_id: int) -> Sequence[Recording]:
    """The session's recordings: its composite first, then the feeds in order."""
    stmt = (
        select(Recording)
        .where(Recording.session_id == session_id)
        .order_by((Recording.kind == COMPOSITE).desc(), Recording.id)
    )
    return (await db.execute(stmt)).scalars().all()


async def recording_by_id(db: AsyncSession, recording_id: int) -> Recording | None:
    return await db.get(Recording, recording_id)


async def feeds_of(db: AsyncSession, session_id: int) -> Sequence[Recording]:
    stmt = (
        select(Recording)
        .where(Recording.session_id == session_id, Recording.kind != COMPOSITE)
        .order_by(Recording.started_at, Recording.id)
    )
    return (await db.execute(stmt)).scalars().all()


async def composite_of(db: AsyncSession, session_id: int) -> Recording | None:
    stmt = select(Recording).where(Recording.session_id == session_id, Recording.kind == COMPOSITE)
    return (await db.execute(stmt)).scalar_one_or_none()


async def request_composite(db: AsyncSession, session_id: int, due: dt.datetime) -> None:
    """Ask for the session's composite (again) from ``due`` on."""
    row = await composite_of(db, session_id)
    if row is None:
        row = Recording(
            session_id=session_id,
            kind=COMPOSITE,
            feed_id="",
            who="",
            name="",
            source=COMPOSITE,
            path="",
            size=0,
            duration_ms=0,
            started_at=due,
            ended_at=due,
        )
        db.add(row)
    row.status, row.reason, row.due_at, row.attempts, row.lease_until = (
        "pending",
        None,
        due,
        0,
        None,
    )
    await db.flush()


async def composites_due(db: AsyncSession, now: dt.datetime, limit: int) -> Sequence[Recording]:
    """Composites to make now: pending and due, or running past their lease (their process
    died), oldest request first."""
    stmt = (
        select(Recording)
        .where(
            Recording.kind == COMPOSITE,
            or_(
                (Recording.status == "pending") & (Recording.due_at <= now),
                (Recording.status == "running") & (Recording.lease_until < now),
            ),
        )
        .order_by(Recording.due_at, Recording.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: never two claims of one row
    )
    return (await db.execute(stmt)).scalars().all()


async def next_due(db: AsyncSession) -> dt.datetime | None:
    """When the earliest pending composite falls due."""
    stmt = select(Recording.due_at).where(
        Recording.kind == COMPOSITE, Recording.status == "pending"
    )
    return (await db.execute(stmt.order_by(Recording.due_at).limit(1))).scalar_one_or_none()
