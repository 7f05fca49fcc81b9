"""Handling a proposal: files, the unit's reply, progress reports, two-way evaluation.

Who may do what:
- the lead unit replies (staff may enter a reply on its behalf); the reply moves the proposal
  from ``handling`` to ``replied``; one reply per handling round;
- the lead and co-handling units (and staff) report progress at any time while the proposal is
  being handled, and upload files;
- a proposer rates the handling once per round: ``satisfied`` or ``basically_satisfied`` moves
  the proposal to ``evaluated``; ``unsatisfied`` sends it back to ``handling`` for another
  round (recorded in its history) instead of closing it;
- the lead unit rates the proposal's quality once per round (two-way evaluation).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.api import MAX_ID
from server.audit import service as audit
from server.auth import Principal, Role
from server.db import Database, utcnow
from server.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from server.proposals import store
from server.proposals.handling_schemas import (
    AttachmentOut,
    EvaluationIn,
    EvaluationOut,
    HandlingOut,
    ProgressIn,
    ProgressOut,
    QualityIn,
    ReplyIn,
    ReplyOut,
)
from server.proposals.lifecycle import Status
from server.proposals.models import (
    Attachment,
    Evaluation,
    EvaluationKind,
    ProgressReport,
    Proposal,
    ProposalTransition,
    Reply,
)

ATTACHMENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/ofd",  # 国家版式文档
        "image/png",
        "image/jpeg",
        "text/plain",
    }
)
BEING_HANDLED = frozenset({Status.ASSIGNED, Status.HANDLING, Status.REPLIED, Status.EVALUATED})


async def _proposal(
    db: AsyncSession, actor: Principal, proposal_id: int, *, lock: bool = False
) -> Proposal:
    find = store.by_id_for_update if lock else store.by_id
    proposal = await find(db, proposal_id)
    if proposal is None or not await store.is_visible(db, proposal_id, actor):
        raise NotFound(f"There is no proposal {proposal_id} that you can see.")
    return proposal


async def _units(db: AsyncSession, proposal: Proposal) -> set[int]:
    co = (await store.co_units_of(db, [proposal.id]))[proposal.id]
    return {u for u in [proposal.lead_unit_id, *co] if u is not None}


def _is_lead(actor: Principal, proposal: Proposal) -> bool:
    return (
        actor.role is Role.UNIT
        and actor.unit_id is not None
        and (actor.unit_id == proposal.lead_unit_id)
    )


async def _audit(
    db: AsyncSession, action: str, actor: Principal, object_id: int, **detail: Any
) -> None:
    await audit.record_on(db, action, actor, "proposal", object_id, **detail)


async def _step(
    db: AsyncSession, proposal: Proposal, to: Status, actor: Principal, note: str | None
) -> None:
    now = utcnow()
    change: dict[str, Any] = {"from": proposal.status.value, "to": to.value}
    await _audit(db, "proposal.transition", actor, proposal.id, **change)
    await store.add(
        db,
        ProposalTransition(
            proposal_id=proposal.id,
            from_status=proposal.status,
            to_status=to,
            by_id=actor.id,
            at=now,
            note=note,
        ),
    )
    proposal.status, proposal.updated_at = to, now


# ---------------------------------------------------------------- files


async def add_attachment(
    database: Database,
    actor: Principal,
    proposal_id: int,
    *,
    name: str,
    media_type: str,
    data: bytes,
) -> AttachmentOut:
    """Store a file on a proposal (its units and staff)."""
    if media_type not in ATTACHMENT_TYPES:
        raise Invalid(
            f"Files of type {media_type} are not accepted; send PDF, OFD, Word, Excel, "
            "PowerPoint, PNG, JPEG or plain text.",
            errors=[field_error("(body)", "file type not accepted", "content_type")],
        )
    async with database.transaction() as db:
        proposal = await _proposal(db, actor, proposal_id)
        if not actor.is_staff and actor.unit_id not in await _units(db, proposal):
            raise Forbidden("Only the proposal's units and staff add files to it.")
        row = Attachment(
            proposal_id=proposal_id,
            name=name,
            media_type=media_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            uploaded_by_id=actor.id,
            created_at=utcnow(),
        )
        await store.add(db, row)
        await _audit(db, "proposal.attachment", actor, proposal_id, file_id=row.id, size=row.size)
        return AttachmentOut.model_validate(row)


async def attachment(database: Database, actor: Principal, attachment_id: int) -> Attachment:
    """A file, for whoever may see its proposal."""
    async with database.read() as db:
        row = await store.attachment_by_id(db, attachment_id)
        if row is None or not await store.is_visible(db, row.proposal_id, actor):
            raise NotFound(f"There is no file {attachment_id} that you can see.")
        return row


# ---------------------------------------------------------------- reply and progress


async def reply(database: Database, actor: Principal, proposal_id: int, body: ReplyIn) -> ReplyOut:
    """The lead unit's formal reply: the proposal becomes ``replied``."""
    async with database.transaction() as db:
        proposal = await _proposal(db, actor, proposal_id, lock=True)
        if not (actor.is_staff or _is_lead(actor, proposal)):
            raise Forbidden("Only the lead unit (or staff on its behalf) replies to a proposal.")
        if proposal.status is not Status.HANDLING:
            raise Conflict(
                f"A proposal that is {proposal.status} takes no reply; it must be handling "
                "(the lead unit starts handling with a transition)."
            )
        files = await store.attachments_of(db, [proposal_id])
        known = {a.id for a in files[proposal_id]}
        unknown = [i for i in body.attachment_ids if i not in known]
        if unknown:
            raise Invalid(
                f"Upload the files to this proposal first; unknown attachment ids: {unknown}.",
                errors=[field_error("attachment_ids", f"not files of this proposal: {unknown}")],
            )
        row = Reply(
            proposal_id=proposal_id,
            round=proposal.round,
            unit_id=proposal.lead_unit_id,
            text=body.text,
            attachment_ids=list(body.attachment_ids),
            by_id=actor.id,
            at=utcnow(),
        )
        await store.add(db, row)
        await _step(db, proposal, Status.REPLIED, actor, f"reply, round {proposal.round}")
        return _reply_out(row, files[proposal_id])


def _reply_out(row: Reply, files: Sequence[Attachment]) -> ReplyOut:
    by_id = {a.id: a for a in files}
    return ReplyOut(
        id=row.id,
        proposal_id=row.proposal_id,
        round=row.round,
        unit_id=row.unit_id,
        text=row.text,
        attachments=[
            AttachmentOut.model_validate(by_id[i]) for i in row.attachment_ids if i in by_id
        ],
        by_id=row.by_id,
        at=row.at,
    )


async def add_progress(
    database: Database, actor: Principal, proposal_id: int, body: ProgressIn
) -> ProgressOut:
    """A progress report by one of the proposal's units (or staff)."""
    async with database.transaction() as db:
        proposal = await _proposal(db, actor, proposal_id)
        if not actor.is_staff and actor.unit_id not in await _units(db, proposal):
            raise Forbidden("Only the proposal's units (and staff) report its progress.")
        if proposal.status not in BEING_HANDLED:
            raise Conflict(f"A proposal that is {proposal.status} is not being handled.")
        row = ProgressReport(
            proposal_id=proposal_id,
            unit_id=actor.unit_id if actor.role is Role.UNIT else proposal.lead_unit_id,
            milestone=body.milestone,
            percent=body.percent,
            text=body.text,
            by_id=actor.id,
            at=utcnow(),
        )
        await store.add(db, row)
        await _audit(db, "proposal.progress", actor, proposal_id, report_id=row.id)
        return ProgressOut.model_validate(row)


async def progress_report(
    database: Database, actor: Principal, proposal_id: int, report_id: int
) -> ProgressOut:
    """One progress report (for showing it in a room)."""
    async with database.read() as db:
        await _proposal(db, actor, proposal_id)
        row = await store.progress_by_id(db, report_id)
        if row is None or row.proposal_id != proposal_id:
            raise NotFound(f"Proposal {proposal_id} has no progress report {report_id}.")
        return ProgressOut.model_validate(row)


async def report_for_room(
    database: Database, proposal_id: object, report_id: object
) -> dict[str, Any] | None:
    """A progress report as a room shows it, or None (the room checks who may show it)."""
    if not isinstance(proposal_id, int) or not isinstance(report_id, int):
        return None
    if not (0 < proposal_id <= MAX_ID and 0 < report_id <= MAX_ID):
        return None
    async with database.read() as db:
        row = await store.progress_by_id(db, report_id)
    if row is None or row.proposal_id != proposal_id:
        return None
    return ProgressOut.model_validate(row).model_dump(mode="json")


# ---------------------------------------------------------------- evaluation


async def evaluate(
    database: Database, actor: Principal, proposal_id: int, body: EvaluationIn
) -> EvaluationOut:
    """A proposer's verdict on the handling of this round."""
    async with database.transaction() as db:
        proposal = await _proposal(db, actor, proposal_id, lock=True)
        proposers = {p.id for p in (await store.proposers_of(db, [proposal_id]))[proposal_id]}
        if actor.id not in proposers:
            raise Forbidden("Only the proposal's proposers evaluate its handling.")
        if proposal.status is not Status.REPLIED:
            raise Conflict(
                f"A proposal is evaluated after the unit's reply; this one is {proposal.status}."
            )
        row = await _evaluation(db, proposal, EvaluationKind.HANDLING, actor, body, proposal.round)
        if body.verdict == "unsatisfied":
            await _step(
                db,
                proposal,
                Status.HANDLING,
                actor,
                f"unsatisfied: handling round {proposal.round + 1}",
            )
            proposal.round += 1
        else:
            await _step(db, proposal, Status.EVALUATED, actor, body.verdict)
        return EvaluationOut.model_validate(row)


async def rate_quality(
    database: Database, actor: Principal, proposal_id: int, body: QualityIn
) -> EvaluationOut:
    """The lead unit's rating of the proposal's quality, once per round, after its reply."""
    async with database.transaction() as db:
        proposal = await _proposal(db, actor, proposal_id, lock=True)
        if not _is_lead(actor, proposal):
            raise Forbidden("Only the lead unit rates a proposal's quality.")
        replies = (await store.replies_of(db, [proposal_id]))[proposal_id]
        if not replies:
            raise Conflict("Rate the proposal's quality after your reply.")
        row = await _evaluation(
            db, proposal, EvaluationKind.QUALITY, actor, body, max(r.round for r in replies)
        )
        return EvaluationOut.model_validate(row)


async def _evaluation(
    db: AsyncSession,
    proposal: Proposal,
    kind: EvaluationKind,
    actor: Principal,
    body: EvaluationIn | QualityIn,
    round_: int,
) -> Evaluation:
    done = (await store.evaluations_of(db, [proposal.id]))[proposal.id]
    if any(e.kind is kind and e.round == round_ for e in done):
        raise Conflict(f"This proposal already has its {kind} evaluation for round {round_}.")
    row = Evaluation(
        proposal_id=proposal.id,
        round=round_,
        kind=kind,
        verdict=body.verdict,
        comment=body.comment,
        by_id=actor.id,
        at=utcnow(),
    )
    await store.add(db, row)
    await _audit(db, f"proposal.{kind.value}", actor, proposal.id, verdict=body.verdict)
    return row


# ---------------------------------------------------------------- reading


async def handling(database: Database, actor: Principal, proposal_id: int) -> HandlingOut:
    """A proposal's replies, progress reports, evaluations and files."""
    async with database.read() as db:
        proposal = await _proposal(db, actor, proposal_id)
        return await handling_of(db, proposal)


async def handling_of(db: AsyncSession, proposal: Proposal) -> HandlingOut:
    files = (await store.attachments_of(db, [proposal.id]))[proposal.id]
    return HandlingOut(
        proposal_id=proposal.id,
        round=proposal.round,
        replies=[
            _reply_out(r, files) for r in (await store.replies_of(db, [proposal.id]))[proposal.id]
        ],
        progress=[
            ProgressOut.model_validate(p)
            for p in (await store.progress_of(db, [proposal.id]))[proposal.id]
        ],
        evaluations=[
            EvaluationOut.model_validate(e)
            for e in (await store.evaluations_of(db, [proposal.id]))[proposal.id]
        ],
        attachments=[AttachmentOut.model_validate(a) for a in files],
    )
