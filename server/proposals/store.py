"""SQL for proposals. Takes a ``db`` session; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import Principal, Role
from server.directory.models import Person
from server.directory.store import like_pattern
from server.proposals.models import (
    Proposal,
    ProposalTransition,
    proposal_co_units,
    proposal_proposers,
)


def involves_unit(unit_id: int) -> ColumnElement[bool]:
    """Proposals whose lead or co-handling unit is ``unit_id``."""
    co = exists().where(
        proposal_co_units.c.proposal_id == Proposal.id, proposal_co_units.c.unit_id == unit_id
    )
    return or_(Proposal.lead_unit_id == unit_id, co)


def proposed_by(person_id: int) -> ColumnElement[bool]:
    """Proposals that ``person_id`` is a proposer of."""
    return exists().where(
        proposal_proposers.c.proposal_id == Proposal.id, proposal_proposers.c.person_id == person_id
    )


def visible_to(actor: Principal) -> ColumnElement[bool]:
    """The proposals ``actor`` may read."""
    if actor.reads_everything:
        return true()
    if actor.role is Role.MEMBER:
        return proposed_by(actor.id)
    if actor.role is Role.UNIT and actor.unit_id is not None:
        return involves_unit(actor.unit_id)
    return false()


async def by_id(db: AsyncSession, proposal_id: int) -> Proposal | None:
    return await db.get(Proposal, proposal_id)


async def by_id_for_update(db: AsyncSession, proposal_id: int) -> Proposal | None:
    stmt = select(Proposal).where(Proposal.id == proposal_id).with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def by_number(db: AsyncSession, number: str) -> Proposal | None:
    return (
        await db.execute(select(Proposal).where(Proposal.number == number))
    ).scalar_one_or_none()


async def is_visible(db: AsyncSession, proposal_id: int, actor: Principal) -> bool:
    stmt = select(Proposal.id).where(Proposal.id == proposal_id, visible_to(actor))
    return (await db.execute(stmt)).first() is not None


async def existing_ids(db: AsyncSession, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    rows = await db.execute(select(Proposal.id).where(Proposal.id.in_(set(ids))))
    return set(rows.scalars())


async def visible_ids(db: AsyncSession, ids: Sequence[int], actor: Principal) -> set[int]:
    if not ids:
        return set()
    stmt = select(Proposal.id).where(Proposal.id.in_(set(ids)), visible_to(actor))
    return set((await db.execute(stmt)).scalars())


async def search(
    db: AsyncSession, actor: Principal, filters: dict[str, Any], limit: int, offset: int
) -> tuple[Sequence[Proposal], int]:
    conditions = [visible_to(actor)]
    if filters.get("status") is not None:
        conditions.append(Proposal.status == filters["status"])
    if filters.get("unit_id") is not None:
        conditions.append(involves_unit(filters["unit_id"]))
    if filters.get("key") is not None:
        conditions.append(Proposal.key == filters["key"])
    if filters.get("q"):
        pattern = like_pattern(filters["q"])
        conditions.append(
            or_(
                Proposal.number.like(pattern, escape="\\"),
                Proposal.title.like(pattern, escape="\\"),
                Proposal.summary.like(pattern, escape="\\"),
            )
        )
    total = (
        await db.execute(select(func.count()).select_from(Proposal).where(*conditions))
    ).scalar_one()
    stmt = select(Proposal).where(*conditions).order_by(Proposal.number).limit(limit).offset(offset)
    return (await db.execute(stmt)).scalars().all(), int(total)


async def proposers_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[Person]]:
    result: dict[int, list[Person]] = {i: [] for i in ids}
    rows = await db.execute(
        select(proposal_proposers.c.proposal_id, Person)
        .join(Person, Person.id == proposal_proposers.c.person_id)
        .where(proposal_proposers.c.proposal_id.in_(ids))
        .order_by(proposal_proposers.c.position)
    )
    for proposal_id, person in rows:
        result[proposal_id].append(person)
    return result


async def co_units_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {i: [] for i in ids}
    rows = await db.execute(
        select(proposal_co_units.c.proposal_id, proposal_co_units.c.unit_id)
        .where(proposal_co_units.c.proposal_id.in_(ids))
        .order_by(proposal_co_units.c.unit_id)
    )
    for proposal_id, unit_id in rows:
        result[proposal_id].append(unit_id)
    return result


async def bundled_under(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {i: [] for i in ids}
    rows = await db.execute(
        select(Proposal.bundle_lead_id, Proposal.id)
        .where(Proposal.bundle_lead_id.in_(ids))
        .order_by(Proposal.number)
    )
    for lead_id, proposal_id in rows:
        if lead_id is not None:
            result[lead_id].append(proposal_id)
    return result


async def history_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[ProposalTransition]]:
    result: dict[int, list[ProposalTransition]] = {i: [] for i in ids}
    rows = await db.execute(
        select(ProposalTransition)
        .where(ProposalTransition.proposal_id.in_(ids))
        .order_by(ProposalTransition.at, ProposalTransition.id)
    )
    for step in rows.scalars():
        result[step.proposal_id].append(step)
    return result


async def set_proposers(db: AsyncSession, proposal_id: int, person_ids: Sequence[int]) -> None:
    await db.execute(
        proposal_proposers.delete().where(proposal_proposers.c.proposal_id == proposal_id)
    )
    if person_ids:
        await db.execute(
            proposal_proposers.insert(),
            [
                {"proposal_id": proposal_id, "person_id": p, "position": i}
                for i, p in enumerate(person_ids)
            ],
        )


async def set_co_units(db: AsyncSession, proposal_id: int, unit_ids: Sequence[int]) -> None:
    await db.execute(
        proposal_co_units.delete().where(proposal_co_units.c.proposal_id == proposal_id)
    )
    if unit_ids:
        await db.execute(
            proposal_co_units.insert(),
            [{"proposal_id": proposal_id, "unit_id": u} for u in unit_ids],
        )


async def has_bundled(db: AsyncSession, proposal_id: int) -> bool:
    stmt = select(Proposal.id).where(Proposal.bundle_lead_id == proposal_id).limit(1)
    return (await db.execute(stmt)).first() is not None


async def add(db: AsyncSession, row: object) -> None:
    db.add(row)
    await db.flush()
