"""Leaders' instructions (批示) on proposals.

A leader writes an instruction on a proposal they may see: its text, optionally the unit that
owns carrying it out and the day it is due. Staff may record a leader's written instruction on
the leader's behalf, naming the leader (``leader_id``). With an owner unit the instruction
becomes a follow-up (督办) of that unit, in the same transaction: it is listed, reminded when
overdue and reviewed by supervision rounds like every other follow-up. Instructions show on
the proposal's page, its dossier and its timeline, for everyone who may see the proposal.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import Principal, Role
from server.db import Database, utcnow
from server.directory import service as directory
from server.errors import Forbidden, Invalid, NotFound, field_error
from server.i18n import _
from server.notices.kinds import Kind
from server.notices.service import notify_units
from server.proposals import service as proposals
from server.record import followups, store
from server.record.models import FollowUp, FollowUpStatus, Instruction
from server.record.schemas import InstructionIn, InstructionList, InstructionOut


async def _visible(db: AsyncSession, actor: Principal, proposal_id: int) -> None:
    if proposal_id not in await proposals.visible_ids(db, [proposal_id], actor):
        raise NotFound(
            _("There is no proposal {proposal_id} that you can see.", proposal_id=proposal_id)
        )


def _whose(actor: Principal, body: InstructionIn) -> int:
    """The leader whose instruction it is: the leader writing it, or the one staff name."""
    if actor.role is Role.LEADER:
        if body.leader_id not in (None, actor.id):
            raise Forbidden(_("A leader writes their own instructions."))
        return actor.id
    if actor.is_staff:
        if body.leader_id is None:
            raise Invalid(
                _("Name the leader whose instruction you record (leader_id)."),
                errors=[field_error("leader_id", _("staff record an instruction for a leader"))],
            )
        return body.leader_id
    raise Forbidden(_("Only leaders write instructions (staff may record one for a leader)."))


async def _check(db: AsyncSession, leader_id: int, body: InstructionIn, zone: str) -> None:
    errors = []
    found = (await directory.roles_of(db, [leader_id])).get(leader_id)
    if found is None or found[1] is not Role.LEADER:
        errors.append(
            field_error("leader_id", _("person {leader} is not a leader", leader=leader_id))
        )
    unit = body.owner_unit_id
    if unit is not None and not await directory.unit_names(db, [unit]):
        errors.append(field_error("owner_unit_id", _("there is no unit with id {uid}", uid=unit)))
    if body.due is not None and body.due < followups.today(zone):
        errors.append(field_error("due", _("is in the past")))
    if errors:
        raise Invalid(
            _(
                "The instruction cannot be recorded: {summary}.",
                summary="; ".join(f"{e['field']}: {e['message']}" for e in errors),
            ),
            errors=errors,
        )


async def issue(
    database: Database, actor: Principal, proposal_id: int, body: InstructionIn, zone: str
) -> InstructionOut:
    """Record a leader's instruction; with an owner unit it becomes that unit's follow-up."""
    async with database.transaction() as db:
        await _visible(db, actor, proposal_id)
        leader_id = _whose(actor, body)
        await _check(db, leader_id, body, zone)
        now = utcnow()
        row = Instruction(
            proposal_id=proposal_id,
            leader_id=leader_id,
            recorded_by_id=actor.id,
            text=body.text,
            owner_unit_id=body.owner_unit_id,
            due=body.due,
            at=now,
        )
        await store.add(db, row)
        if body.owner_unit_id is not None:
            follow = FollowUp(
                source=f"{followups.INSTRUCTION}{row.id}",
                session_id=None,
                proposal_id=proposal_id,
                owner_unit_id=body.owner_unit_id,
                text=body.text,
                due=body.due,
                status=FollowUpStatus.OPEN,
                created_at=now,
                updated_at=now,
            )
            await store.add(db, follow)
            row.follow_up_id = follow.id
        await audit.record(
            db,
            "proposal.instruction",
            actor=actor,
            object_type="proposal",
            object_id=proposal_id,
            proposal_id=proposal_id,
            instruction_id=row.id,
            leader_id=leader_id,
            owner_unit_id=body.owner_unit_id,
        )
        await instruction_issued(db, row)
        names = await directory.names_of(db, [leader_id])
        return _out(row, names)


async def instruction_issued(db: AsyncSession, row: Instruction) -> None:
    """An instruction was issued (caller's transaction, ``row`` flushed): the owner unit's
    people are told, when it names one."""
    if row.owner_unit_id is None:
        return
    brief = (await proposals.briefs(db, [row.proposal_id])).get(row.proposal_id)
    label = f"{brief.number} {brief.title}".strip() if brief else ""
    await notify_units(
        db,
        unit_ids=[row.owner_unit_id],
        kind=Kind.INSTRUCTION_ISSUED,
        link=f"#/proposals/{row.proposal_id}",
        params={"proposal": label, "text": " ".join(row.text.split())[:120]},
    )


def _out(row: Instruction, names: dict[int, str]) -> InstructionOut:
    return InstructionOut(
        id=row.id,
        proposal_id=row.proposal_id,
        leader_id=row.leader_id,
        leader=names.get(row.leader_id, ""),
        recorded_by_id=row.recorded_by_id,
        text=row.text,
        owner_unit_id=row.owner_unit_id,
        due=row.due,
        follow_up_id=row.follow_up_id,
        at=row.at,
    )


async def instructions_of(db: AsyncSession, proposal_ids: list[int]) -> list[InstructionOut]:
    """The instructions on ``proposal_ids`` (the caller checked who may read them)."""
    rows = await store.instructions_of(db, proposal_ids)
    names = await directory.names_of(db, sorted({r.leader_id for r in rows}))
    return [_out(r, names) for r in rows]


async def list_instructions(
    database: Database, actor: Principal, proposal_id: int
) -> InstructionList:
    """A proposal's instructions, for whoever may see the proposal."""
    async with database.read() as db:
        await _visible(db, actor, proposal_id)
        return InstructionList(items=await instructions_of(db, [proposal_id]))
