"""SQL for selection rounds. Takes a ``db`` session; never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.selection.models import (
    Selection,
    SelectionCandidate,
    SelectionReviewer,
    SelectionScore,
    SelectionStatus,
)


async def add(db: AsyncSession, row: object) -> None:
    db.add(row)
    await db.flush()


async def by_id(db: AsyncSession, selection_id: int) -> Selection | None:
    return await db.get(Selection, selection_id)


async def by_id_for_update(db: AsyncSession, selection_id: int) -> Selection | None:
    stmt = select(Selection).where(Selection.id == selection_id).with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def listed(
    db: AsyncSession, year: int | None, reviewer_id: int | None
) -> Sequence[Selection]:
    """Rounds by year (newest first); with ``reviewer_id``, only those the person reviews or
    that are published."""
    stmt = select(Selection).order_by(Selection.year.desc(), Selection.id.desc())
    if year is not None:
        stmt = stmt.where(Selection.year == year)
    if reviewer_id is not None:
        assigned = select(SelectionReviewer.selection_id).where(
            SelectionReviewer.person_id == reviewer_id
        )
        stmt = stmt.where(
            or_(Selection.id.in_(assigned), Selection.status == SelectionStatus.PUBLISHED)
        )
    return (await db.execute(stmt)).scalars().all()


async def reviewers_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {i: [] for i in ids}
    rows = await db.execute(
        select(SelectionReviewer.selection_id, SelectionReviewer.person_id)
        .where(SelectionReviewer.selection_id.in_(ids))
        .order_by(SelectionReviewer.person_id)
    )
    for sid, pid in rows:
        result[sid].append(pid)
    return result


async def candidates_of(
    db: AsyncSession, ids: Sequence[int]
) -> dict[int, list[SelectionCandidate]]:
    result: dict[int, list[SelectionCandidate]] = {i: [] for i in ids}
    rows = await db.execute(
        select(SelectionCandidate)
        .where(SelectionCandidate.selection_id.in_(ids))
        .order_by(SelectionCandidate.position)
    )
    for row in rows.scalars():
        result[row.selection_id].append(row)
    return result


async def scores_of(db: AsyncSession, selection_id: int) -> Sequence[SelectionScore]:
    stmt = (
        select(SelectionScore)
        .where(SelectionScore.selection_id == selection_id)
        .order_by(SelectionScore.proposal_id, SelectionScore.reviewer_id)
    )
    return (await db.execute(stmt)).scalars().all()


async def scored_counts(db: AsyncSession, ids: Sequence[int], reviewer_id: int) -> dict[int, int]:
    """How many candidates ``reviewer_id`` has scored in each round of ``ids``."""
    rows = await db.execute(
        select(SelectionScore.selection_id, SelectionScore.proposal_id).where(
            SelectionScore.selection_id.in_(ids), SelectionScore.reviewer_id == reviewer_id
        )
    )
    counts: dict[int, int] = dict.fromkeys(ids, 0)
    for sid, _pid in rows:
        counts[sid] += 1
    return counts


async def score_of(
    db: AsyncSession, selection_id: int, proposal_id: int, reviewer_id: int
) -> SelectionScore | None:
    stmt = select(SelectionScore).where(
        SelectionScore.selection_id == selection_id,
        SelectionScore.proposal_id == proposal_id,
        SelectionScore.reviewer_id == reviewer_id,
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def add_members(
    db: AsyncSession, selection_id: int, reviewer_ids: Sequence[int], proposal_ids: Sequence[int]
) -> None:
    db.add_all(SelectionReviewer(selection_id=selection_id, person_id=p) for p in reviewer_ids)
    db.add_all(
        SelectionCandidate(selection_id=selection_id, proposal_id=p, position=i, chosen=False)
        for i, p in enumerate(proposal_ids)
    )
    await db.flush()


async def choose(db: AsyncSession, selection_id: int, proposal_ids: Sequence[int]) -> None:
    await db.execute(
        update(SelectionCandidate)
        .where(
            SelectionCandidate.selection_id == selection_id,
            SelectionCandidate.proposal_id.in_(proposal_ids),
        )
        .values(chosen=True)
    )
