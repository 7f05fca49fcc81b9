"""SQL for proposals. Takes a ``db`` session; never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import Principal, Role
from server.directory.models import Person
from server.directory.store import like_pattern
from server.proposals.models import (
    Attachment,
    Evaluation,
    FollowUp,
    FollowUpStatus,
    ProgressReport,
    Proposal,
    ProposalTransition,
    Reply,
    proposal_co_units,
    proposal_proposers,
)
from server.sessions.models import Session, SessionStatus, session_proposals


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


async def _grouped(
    db: AsyncSession, model: Any, ids: Sequence[int], order: Any
) -> dict[int, list[Any]]:
    result: dict[int, list[Any]] = {i: [] for i in ids}
    if ids:
        rows = await db.execute(select(model).where(model.proposal_id.in_(ids)).order_by(order))
        for row in rows.scalars():
            result[row.proposal_id].append(row)
    return result


async def attachments_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[Attachment]]:
    return await _grouped(db, Attachment, ids, Attachment.id)


async def attachment_by_id(db: AsyncSession, attachment_id: int) -> Attachment | None:
    return await db.get(Attachment, attachment_id)


async def replies_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[Reply]]:
    return await _grouped(db, Reply, ids, Reply.id)


async def progress_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[ProgressReport]]:
    return await _grouped(db, ProgressReport, ids, ProgressReport.id)


async def progress_by_id(db: AsyncSession, report_id: int) -> ProgressReport | None:
    return await db.get(ProgressReport, report_id)


async def evaluations_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[Evaluation]]:
    return await _grouped(db, Evaluation, ids, Evaluation.id)


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


async def search_follow_ups(
    db: AsyncSession, filters: dict[str, Any], limit: int, offset: int
) -> tuple[Sequence[FollowUp], int]:
    """Follow-ups by status, owner unit, proposal, proposer or overdue-ness; soonest due first."""
    clauses: list[ColumnElement[bool]] = []
    if "status" in filters:
        clauses.append(FollowUp.status == filters["status"])
    if "unit_id" in filters:
        clauses.append(FollowUp.owner_unit_id == filters["unit_id"])
    if "proposal_id" in filters:
        clauses.append(FollowUp.proposal_id == filters["proposal_id"])
    if "proposal_ids" in filters:
        clauses.append(FollowUp.proposal_id.in_(filters["proposal_ids"]))
    if "proposer_id" in filters:
        clauses.append(
            exists().where(
                proposal_proposers.c.proposal_id == FollowUp.proposal_id,
                proposal_proposers.c.person_id == filters["proposer_id"],
            )
        )
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


async def unit_people(
    db: AsyncSession, unit_ids: Sequence[int]
) -> dict[int, list[tuple[int, str, str]]]:
    """(id, name, email) of the people of each unit who have an email address."""
    result: dict[int, list[tuple[int, str, str]]] = {u: [] for u in unit_ids}
    rows = await db.execute(
        select(Person.unit_id, Person.id, Person.name, Person.email)
        .where(Person.unit_id.in_(unit_ids), Person.email.is_not(None))
        .order_by(Person.id)
    )
    for unit_id, person_id, name, email in rows:
        if unit_id is not None and email:
            result[unit_id].append((person_id, name, email))
    return result


async def titles(db: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    """``number title`` of each proposal."""
    rows = await db.execute(
        select(Proposal.id, Proposal.number, Proposal.title).where(Proposal.id.in_(ids))
    )
    return {pid: f"{number} {title}" for pid, number, title in rows}


async def bundle_groups(db: AsyncSession, proposals: Sequence[Proposal]) -> dict[int, set[int]]:
    """Each proposal's 1+N bundle: its lead and every proposal bundled under that lead."""
    leads = {p.bundle_lead_id or p.id for p in proposals}
    rows = await db.execute(
        select(Proposal.id, Proposal.bundle_lead_id).where(
            or_(Proposal.id.in_(leads), Proposal.bundle_lead_id.in_(leads))
        )
    )
    members: dict[int, set[int]] = {lead: {lead} for lead in leads}
    for pid, lead in rows:
        members.setdefault(lead or pid, {lead or pid}).add(pid)
    return {p.id: members[p.bundle_lead_id or p.id] for p in proposals}


async def sessions_of(
    db: AsyncSession, proposals: Sequence[Proposal]
) -> dict[int, list[dict[str, Any]]]:
    """The sessions of each proposal, its bundle's included (id, title, kind, stage, mode,
    status, starts_at), by start time."""
    groups = await bundle_groups(db, proposals)
    everyone = sorted(set().union(*groups.values())) if groups else []
    rows = await db.execute(
        select(
            session_proposals.c.proposal_id,
            Session.id,
            Session.title,
            Session.kind,
            Session.stage,
            Session.mode,
            Session.status,
            Session.starts_at,
        )
        .join(Session, Session.id == session_proposals.c.session_id)
        .where(session_proposals.c.proposal_id.in_(everyone))
        .order_by(Session.starts_at, Session.id)
    )
    by_proposal: dict[int, list[dict[str, Any]]] = {}
    for pid, sid, title, kind, stage, mode, status, starts_at in rows:
        by_proposal.setdefault(pid, []).append(
            {
                "id": sid,
                "title": title,
                "kind": kind.value,
                "stage": stage.value if stage else None,
                "mode": mode.value,
                "status": status.value,
                "starts_at": starts_at,
                "via": pid,
            }
        )
    result: dict[int, list[dict[str, Any]]] = {}
    for p in proposals:
        seen: dict[int, dict[str, Any]] = {}
        for member in sorted(groups[p.id]):
            for s in by_proposal.get(member, []):
                seen.setdefault(s["id"], s)
        result[p.id] = sorted(seen.values(), key=lambda s: (s["starts_at"], s["id"]))
    return result


async def briefs(db: AsyncSession, ids: Sequence[int]) -> Sequence[Proposal]:
    stmt = select(Proposal).where(Proposal.id.in_(ids)).order_by(Proposal.number)
    return (await db.execute(stmt)).scalars().all()


async def session_months(db: AsyncSession) -> list[tuple[str, dt.datetime]]:
    """(kind, start) of every session that was not cancelled."""
    rows = await db.execute(
        select(Session.kind, Session.starts_at).where(Session.status != SessionStatus.CANCELLED)
    )
    return [(kind.value, starts_at) for kind, starts_at in rows]


async def all_proposals(db: AsyncSession) -> Sequence[Proposal]:
    return (await db.execute(select(Proposal).order_by(Proposal.number))).scalars().all()


async def supervisors(db: AsyncSession, ids: Sequence[int]) -> dict[int, tuple[int, str, str]]:
    """(id, name, email) of the supervising leader of each key proposal that has one."""
    rows = await db.execute(
        select(Proposal.id, Person.id, Person.name, Person.email)
        .join(Person, Person.id == Proposal.supervisor_id)
        .where(Proposal.id.in_(ids), Person.email.is_not(None))
    )
    return {pid: (person_id, name, email) for pid, person_id, name, email in rows if email}
