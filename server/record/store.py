"""SQL for the record: minutes versions and follow-ups. Takes a ``db`` session; never commits.

Only the record's own tables: what it needs of sessions and proposals it asks their services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.record.models import (
    FollowUp,
    FollowUpStatus,
    Instruction,
    MinutesStatus,
    MinutesVersion,
    SupervisionItem,
    SupervisionRound,
)


async def add(db: AsyncSession, row: object) -> None:
    db.add(row)
    await db.flush()


async def minutes_versions(db: AsyncSession, session_id: int) -> Sequence[MinutesVersion]:
    """Every stored version of a session's minutes, oldest first."""
    stmt = (
        select(MinutesVersion)
        .where(MinutesVersion.session_id == session_id)
        .order_by(MinutesVersion.number)
    )
    return (await db.execute(stmt)).scalars().all()


async def latest_minutes(db: AsyncSession, session_id: int) -> MinutesVersion | None:
    stmt = (
        select(MinutesVersion)
        .where(MinutesVersion.session_id == session_id)
        .order_by(MinutesVersion.number.desc())
        .limit(1)
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def approved_minutes(
    db: AsyncSession, session_ids: Sequence[int]
) -> dict[int, MinutesVersion]:
    """The newest approved version of each session's minutes (sessions without one: absent)."""
    rows = await db.execute(
        select(MinutesVersion)
        .where(
            MinutesVersion.session_id.in_(session_ids),
            MinutesVersion.status == MinutesStatus.APPROVED,
        )
        .order_by(MinutesVersion.session_id, MinutesVersion.number)
    )
    return {row.session_id: row for row in rows.scalars()}


async def follow_ups_of_session(db: AsyncSession, session_id: int) -> Sequence[FollowUp]:
    stmt = select(FollowUp).where(FollowUp.session_id == session_id).order_by(FollowUp.id)
    return (await db.execute(stmt)).scalars().all()


async def follow_up_by_id(db: AsyncSession, follow_up_id: int) -> FollowUp | None:
    stmt = select(FollowUp).where(FollowUp.id == follow_up_id).with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


def _overdue(day: dt.date) -> ColumnElement[bool]:
    return and_(
        FollowUp.status == FollowUpStatus.OPEN, FollowUp.due.is_not(None), FollowUp.due < day
    )


async def claim_overdue(
    db: AsyncSession, day: dt.date, reminded_before: dt.datetime, limit: int
) -> Sequence[FollowUp]:
    """Open items overdue on ``day`` not reminded since ``reminded_before``, locked until the
    transaction ends: a concurrent reminder run (PostgreSQL) skips them, and once this one
    commits their new ``reminded_at`` excludes them; SQLite's write transactions are serial."""
    stmt = (
        select(FollowUp)
        .where(
            _overdue(day),
            or_(FollowUp.reminded_at.is_(None), FollowUp.reminded_at <= reminded_before),
        )
        .order_by(FollowUp.due, FollowUp.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await db.execute(stmt)).scalars().all()


async def search_follow_ups(
    db: AsyncSession, filters: dict[str, Any], limit: int, offset: int
) -> tuple[Sequence[FollowUp], int]:
    """Follow-ups by status, owner unit, proposal(s) or overdue-ness; soonest due first."""
    clauses: list[ColumnElement[bool]] = []
    if "status" in filters:
        clauses.append(FollowUp.status == filters["status"])
    if "unit_id" in filters:
        clauses.append(FollowUp.owner_unit_id == filters["unit_id"])
    if "proposal_id" in filters:
        clauses.append(FollowUp.proposal_id == filters["proposal_id"])
    if "proposal_ids" in filters:
        clauses.append(FollowUp.proposal_id.in_(filters["proposal_ids"]))
    if "overdue_before" in filters:
        clauses.append(_overdue(filters["overdue_before"]))
    if "not_overdue_before" in filters:
        clauses.append(not_(_overdue(filters["not_overdue_before"])))
    total = (
        await db.execute(select(func.count()).select_from(FollowUp).where(*clauses))
    ).scalar_one()
    stmt = (
        select(FollowUp)
        .where(*clauses)
        .order_by(FollowUp.due.is_(None), FollowUp.due, FollowUp.id)
        .limit(limit)
        .offset(offset)
    )
    return (await db.execute(stmt)).scalars().all(), total


# ---------------------------------------------------------------- instructions


async def instructions_of(db: AsyncSession, proposal_ids: Sequence[int]) -> Sequence[Instruction]:
    """The instructions on the proposals in ``proposal_ids``, oldest first."""
    stmt = (
        select(Instruction)
        .where(Instruction.proposal_id.in_(set(proposal_ids)))
        .order_by(Instruction.at, Instruction.id)
    )
    return (await db.execute(stmt)).scalars().all()


# ---------------------------------------------------------------- supervision rounds


async def open_follow_ups(db: AsyncSession, limit: int) -> Sequence[FollowUp]:
    """Every open follow-up, soonest due first."""
    stmt = (
        select(FollowUp)
        .where(FollowUp.status == FollowUpStatus.OPEN)
        .order_by(FollowUp.due.is_(None), FollowUp.due, FollowUp.id)
        .limit(limit)
    )
    return (await db.execute(stmt)).scalars().all()


async def rounds(db: AsyncSession, year: int | None, limit: int) -> Sequence[SupervisionRound]:
    """Supervision rounds (of ``year``, or all), newest first."""
    stmt = select(SupervisionRound).order_by(
        SupervisionRound.starts_on.desc(), SupervisionRound.id.desc()
    )
    if year is not None:
        stmt = stmt.where(SupervisionRound.year == year)
    return (await db.execute(stmt.limit(limit))).scalars().all()


async def round_by_id(
    db: AsyncSession, round_id: int, *, lock: bool = False
) -> SupervisionRound | None:
    stmt = select(SupervisionRound).where(SupervisionRound.id == round_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def round_items(
    db: AsyncSession, round_ids: Sequence[int], unit_id: int | None = None
) -> dict[int, list[SupervisionItem]]:
    """The items of each round (only ``unit_id``'s when given): replies first, then by due."""
    result: dict[int, list[SupervisionItem]] = {i: [] for i in round_ids}
    stmt = select(SupervisionItem).where(SupervisionItem.round_id.in_(set(round_ids)))
    if unit_id is not None:
        stmt = stmt.where(SupervisionItem.owner_unit_id == unit_id)
    stmt = stmt.order_by(
        SupervisionItem.kind.desc(),
        SupervisionItem.due.is_(None),
        SupervisionItem.due,
        SupervisionItem.id,
    )
    for row in (await db.execute(stmt)).scalars():
        result[row.round_id].append(row)
    return result


async def item_by_id(db: AsyncSession, item_id: int) -> SupervisionItem | None:
    stmt = select(SupervisionItem).where(SupervisionItem.id == item_id).with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()
