"""SQL for proposals. Takes a ``db`` session; never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import Principal, Role
from server.directory.models import Person
from server.directory.store import like_pattern
from server.proposals.lifecycle import AWAITING_REPLY, Status
from server.proposals.models import (
    Attachment,
    Cosigner,
    Evaluation,
    EvaluationCriterion,
    EvaluationKind,
    EvaluationSettings,
    Opinion,
    ProgressReport,
    Proposal,
    ProposalTransition,
    Reply,
    ReplyItem,
    SubmissionWindow,
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


def ids_involving_unit(unit_id: int) -> Select[int]:
    """The ids of the proposals whose lead or co-handling unit is ``unit_id``, as a subquery."""
    return select(Proposal.id).where(involves_unit(unit_id))


def drafted_with(person_id: int) -> ColumnElement[bool]:
    """Proposals ``person_id`` drafted or was invited to co-sign."""
    invited = exists().where(Cosigner.proposal_id == Proposal.id, Cosigner.person_id == person_id)
    return or_(Proposal.author_id == person_id, invited)


def visible_to(actor: Principal) -> ColumnElement[bool]:
    """The proposals ``actor`` may read: a draft only its author and invited co-signers."""
    not_draft = Proposal.status != Status.DRAFT
    if actor.reads_everything:
        return or_(not_draft, drafted_with(actor.id))
    if actor.role is Role.MEMBER:
        return or_(and_(not_draft, proposed_by(actor.id)), drafted_with(actor.id))
    if actor.role is Role.UNIT and actor.unit_id is not None:
        return and_(not_draft, involves_unit(actor.unit_id))
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


SORTABLE = {
    "number": Proposal.number,
    "title": Proposal.title,
    "status": Proposal.status,
    "created_at": Proposal.created_at,
    "updated_at": Proposal.updated_at,
}


def _order(sort: str) -> list[Any]:
    column = SORTABLE[sort.removeprefix("-")]
    first = column.desc() if sort.startswith("-") else column.asc()
    return [first, Proposal.number]  # numbers are unique: a stable order for paging


async def search(
    db: AsyncSession,
    actor: Principal,
    filters: dict[str, Any],
    limit: int,
    offset: int,
    sort: str = "number",
) -> tuple[Sequence[Proposal], int]:
    conditions = [visible_to(actor)]
    if filters.get("status") is not None:
        conditions.append(Proposal.status == filters["status"])
    if filters.get("unit_id") is not None:
        conditions.append(involves_unit(filters["unit_id"]))
    if filters.get("key") is not None:
        conditions.append(Proposal.key == filters["key"])
    if filters.get("category") is not None:
        conditions.append(Proposal.category == filters["category"])
    if filters.get("year") is not None:
        conditions.append(Proposal.number.like(f"{filters['year']:04d}-%"))
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
    stmt = select(Proposal).where(*conditions).order_by(*_order(sort)).limit(limit).offset(offset)
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


async def reply_items_of(db: AsyncSession, reply_ids: Sequence[int]) -> dict[int, list[ReplyItem]]:
    """The items of each reply, by suggestion."""
    result: dict[int, list[ReplyItem]] = {i: [] for i in reply_ids}
    if reply_ids:
        stmt = (
            select(ReplyItem)
            .where(ReplyItem.reply_id.in_(reply_ids))
            .order_by(ReplyItem.reply_id, ReplyItem.suggestion)
        )
        for row in (await db.execute(stmt)).scalars():
            result[row.reply_id].append(row)
    return result


async def opinions_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[Opinion]]:
    return await _grouped(db, Opinion, ids, Opinion.id)


async def progress_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[ProgressReport]]:
    return await _grouped(db, ProgressReport, ids, ProgressReport.id)


async def progress_by_id(db: AsyncSession, report_id: int) -> ProgressReport | None:
    return await db.get(ProgressReport, report_id)


async def evaluations_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[Evaluation]]:
    return await _grouped(db, Evaluation, ids, Evaluation.id)


async def titles(db: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    """``number title`` of each proposal."""
    rows = await db.execute(
        select(Proposal.id, Proposal.number, Proposal.title).where(Proposal.id.in_(ids))
    )
    return {pid: f"{number} {title}" if number else title for pid, number, title in rows}


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


async def ids_proposed_by(db: AsyncSession, person_id: int) -> list[int]:
    """The proposals ``person_id`` is a proposer of."""
    rows = await db.execute(
        select(proposal_proposers.c.proposal_id).where(proposal_proposers.c.person_id == person_id)
    )
    return list(rows.scalars())


async def briefs(db: AsyncSession, ids: Sequence[int]) -> Sequence[Proposal]:
    stmt = select(Proposal).where(Proposal.id.in_(ids)).order_by(Proposal.number)
    return (await db.execute(stmt)).scalars().all()


async def all_proposals(db: AsyncSession) -> Sequence[Proposal]:
    """Every proposal in the committee's hands (drafts are their authors' own)."""
    stmt = select(Proposal).where(Proposal.status != Status.DRAFT).order_by(Proposal.number)
    return (await db.execute(stmt)).scalars().all()


# ---------------------------------------------------------------- drafts, co-signers, filing


async def cosigners_of(
    db: AsyncSession, ids: Sequence[int]
) -> dict[int, list[tuple[Cosigner, str]]]:
    """Each proposal's invited co-signers with their names, in the author's order."""
    result: dict[int, list[tuple[Cosigner, str]]] = {i: [] for i in ids}
    if ids:
        rows = await db.execute(
            select(Cosigner, Person.name)
            .join(Person, Person.id == Cosigner.person_id)
            .where(Cosigner.proposal_id.in_(ids))
            .order_by(Cosigner.position)
        )
        for cosigner, name in rows:
            result[cosigner.proposal_id].append((cosigner, name))
    return result


async def cosigner(db: AsyncSession, proposal_id: int, person_id: int) -> Cosigner | None:
    return await db.get(Cosigner, (proposal_id, person_id))


async def delete_row(db: AsyncSession, row: object) -> None:
    await db.delete(row)
    await db.flush()


async def windows(db: AsyncSession) -> Sequence[SubmissionWindow]:
    stmt = select(SubmissionWindow).order_by(SubmissionWindow.year.desc())
    return (await db.execute(stmt)).scalars().all()


async def window(db: AsyncSession, year: int) -> SubmissionWindow | None:
    return await db.get(SubmissionWindow, year)


async def last_number(db: AsyncSession, year: int) -> str | None:
    """The highest proposal number of ``year`` (``YYYY-NNNN``), if any."""
    stmt = select(func.max(Proposal.number)).where(Proposal.number.like(f"{year:04d}-%"))
    return (await db.execute(stmt)).scalar_one_or_none()


async def claim_overdue_replies(
    db: AsyncSession, today: dt.date, reminded_before: dt.datetime, limit: int
) -> Sequence[Proposal]:
    """Proposals awaiting a reply past ``reply_due``, not reminded since ``reminded_before``."""
    stmt = (
        select(Proposal)
        .where(
            Proposal.status.in_(sorted(AWAITING_REPLY)),
            Proposal.reply_due < today,
            or_(Proposal.reply_reminded_at.is_(None), Proposal.reply_reminded_at < reminded_before),
        )
        .order_by(Proposal.reply_due, Proposal.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await db.execute(stmt)).scalars().all()


async def supervisors(db: AsyncSession, ids: Sequence[int]) -> dict[int, tuple[int, str, str]]:
    """(id, name, email) of the supervising leader of each key proposal that has one."""
    rows = await db.execute(
        select(Proposal.id, Person.id, Person.name, Person.email)
        .join(Person, Person.id == Proposal.supervisor_id)
        .where(Proposal.id.in_(ids), Person.email.is_not(None))
    )
    return {pid: (person_id, name, email) for pid, person_id, name, email in rows if email}


async def replied_before(db: AsyncSession, before: dt.datetime, limit: int) -> list[Proposal]:
    """Proposals still ``replied`` (awaiting their evaluation) whose last reply came before
    ``before``, oldest first."""
    last = (
        select(ProposalTransition.proposal_id, func.max(ProposalTransition.at).label("at"))
        .where(ProposalTransition.to_status == Status.REPLIED)
        .group_by(ProposalTransition.proposal_id)
        .subquery()
    )
    rows = await db.execute(
        select(Proposal)
        .join(last, last.c.proposal_id == Proposal.id)
        .where(Proposal.status == Status.REPLIED, last.c.at < before)
        .order_by(Proposal.id)
        .limit(limit)
    )
    return list(rows.scalars())


# ---------------------------------------------------------------- evaluation criteria


async def criteria(
    db: AsyncSession, kind: EvaluationKind | None = None
) -> list[EvaluationCriterion]:
    """The staff's evaluation criteria (of one kind, or all), in their order."""
    stmt = select(EvaluationCriterion).order_by(
        EvaluationCriterion.kind, EvaluationCriterion.position
    )
    if kind is not None:
        stmt = stmt.where(EvaluationCriterion.kind == kind)
    return list((await db.execute(stmt)).scalars())


async def replace_criteria(db: AsyncSession, rows: Sequence[EvaluationCriterion]) -> None:
    """Replace every criterion with ``rows``."""
    await db.execute(delete(EvaluationCriterion))
    db.add_all(rows)
    await db.flush()


async def evaluation_settings(db: AsyncSession, *, lock: bool = False) -> EvaluationSettings | None:
    """The one row of evaluation settings, if staff ever saved them."""
    stmt = select(EvaluationSettings).where(EvaluationSettings.id == 1)
    if lock:
        stmt = stmt.with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def proposals_due_reply(db: AsyncSession, limit: int) -> Sequence[Proposal]:
    """Proposals that are assigned or being handled (a reply is awaited), by number."""
    stmt = (
        select(Proposal)
        .where(Proposal.status.in_([Status.ASSIGNED, Status.HANDLING]))
        .order_by(Proposal.number)
        .limit(limit)
    )
    return (await db.execute(stmt)).scalars().all()


async def led_by(db: AsyncSession, leader_id: int) -> list[int]:
    """The proposals ``leader_id`` leads (领办)."""
    rows = await db.execute(select(Proposal.id).where(Proposal.leader_id == leader_id))
    return list(rows.scalars())
