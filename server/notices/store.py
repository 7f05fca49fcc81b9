"""SQL of the notices (the only place that builds it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.notices.kinds import Kind
from server.notices.models import Notice, NoticeEmailOff


def add_all(db: AsyncSession, rows: Sequence[Notice]) -> None:
    db.add_all(rows)


async def told_with_key(
    db: AsyncSession, kind: Kind, key: str, person_ids: Collection[int]
) -> set[int]:
    """Those of ``person_ids`` already told ``kind`` with ``key``."""
    rows = await db.execute(
        select(Notice.person_id).where(
            Notice.kind == kind, Notice.key == key, Notice.person_id.in_(set(person_ids))
        )
    )
    return set(rows.scalars())


async def page(
    db: AsyncSession, person_id: int, *, unread_only: bool, before: int | None, limit: int
) -> Sequence[Notice]:
    """One person's notices, newest first, ``limit`` of them older than id ``before``."""
    stmt = select(Notice).where(Notice.person_id == person_id)
    if unread_only:
        stmt = stmt.where(Notice.read_at.is_(None))
    if before is not None:
        stmt = stmt.where(Notice.id < before)
    rows = await db.execute(stmt.order_by(Notice.id.desc()).limit(limit))
    return rows.scalars().all()


async def unread_counts(db: AsyncSession, person_ids: Collection[int]) -> dict[int, int]:
    """How many unread notices each person in ``person_ids`` has (zero included)."""
    counts = dict.fromkeys(person_ids, 0)
    if not person_ids:
        return counts
    rows = await db.execute(
        select(Notice.person_id, func.count())
        .where(Notice.person_id.in_(set(person_ids)), Notice.read_at.is_(None))
        .group_by(Notice.person_id)
    )
    for person_id, count in rows.all():
        counts[person_id] = count
    return counts


async def mark_read(
    db: AsyncSession, person_id: int, ids: Sequence[int] | None, now: dt.datetime
) -> int:
    """Mark the person's unread notices among ``ids`` (all, when None) read; how many were."""
    stmt = update(Notice).where(Notice.person_id == person_id, Notice.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notice.id.in_(set(ids)))
    result = await db.execute(stmt.values(read_at=now).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def email_off(db: AsyncSession, person_ids: Collection[int]) -> set[tuple[int, Kind]]:
    """(person, kind) pairs whose email is turned off, for the people in ``person_ids``."""
    if not person_ids:
        return set()
    rows = await db.execute(
        select(NoticeEmailOff.person_id, NoticeEmailOff.kind).where(
            NoticeEmailOff.person_id.in_(set(person_ids))
        )
    )
    return {(person_id, Kind(kind)) for person_id, kind in rows.all()}


async def set_email(db: AsyncSession, person_id: int, kind: Kind, on: bool) -> None:
    """Turn one kind's email on (no row) or off (a row) for one person."""
    await db.execute(
        delete(NoticeEmailOff).where(
            NoticeEmailOff.person_id == person_id, NoticeEmailOff.kind == kind
        )
    )
    if not on:
        db.add(NoticeEmailOff(person_id=person_id, kind=kind))


async def claim_mail(db: AsyncSession, limit: int) -> Sequence[Notice]:
    """Up to ``limit`` notices whose email is still to be sent, oldest first, locked (another
    process's mailer skips them)."""
    rows = await db.execute(
        select(Notice)
        .where(Notice.mail_pending.is_(True))
        .order_by(Notice.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return rows.scalars().all()
