"""Proposal registry operations: register, change, move through the lifecycle, read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import Principal, Role, require_not_guest, require_staff
from server.db import Database, utcnow
from server.directory import store as directory_store
from server.directory.schemas import PersonBrief
from server.errors import Conflict, Invalid, NotFound, field_error
from server.proposals import store
from server.proposals.compliance import compliance
from server.proposals.lifecycle import Status, check_transition
from server.proposals.models import Proposal, ProposalTransition
from server.proposals.schemas import (
    ComplianceOut,
    ProposalCreate,
    ProposalList,
    ProposalOut,
    ProposalPatch,
    ProposalQuery,
    TransitionIn,
    TransitionOut,
)

PROPOSER_ROLES = (Role.MEMBER, Role.LEADER)
MAX_JUDGED = 100_000  # proposals judged for a compliance filter (a committee has thousands)


async def _outs(db: AsyncSession, proposals: Sequence[Proposal]) -> list[ProposalOut]:
    ids = [p.id for p in proposals]
    proposers = await store.proposers_of(db, ids)
    co_units = await store.co_units_of(db, ids)
    bundled = await store.bundled_under(db, ids)
    history = await store.history_of(db, ids)
    sessions = await store.sessions_of(db, proposals)
    evaluations = await store.evaluations_of(db, ids)
    return [
        ProposalOut(
            id=p.id,
            number=p.number,
            title=p.title,
            summary=p.summary,
            category=p.category,
            key=p.key,
            group_proposer=p.group_proposer,
            status=p.status,
            proposers=[PersonBrief.model_validate(x) for x in proposers[p.id]],
            lead_unit_id=p.lead_unit_id,
            co_unit_ids=co_units[p.id],
            bundle_lead_id=p.bundle_lead_id,
            bundled_ids=bundled[p.id],
            round=p.round,
            supervisor_id=p.supervisor_id,
            compliance=ComplianceOut.model_validate(compliance(p.status, sessions[p.id])),
            evaluation=next(
                (e.verdict for e in reversed(evaluations[p.id]) if e.kind.value == "handling"),
                None,
            ),
            history=[TransitionOut.model_validate(h) for h in history[p.id]],
            created_at=p.created_at,
            updated_at=p.updated_at,
        )
        for p in proposals
    ]


proposal_outs = _outs  # for the dossier


async def _reference_errors(db: AsyncSession, fields: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    proposer_ids: list[int] = fields.get("proposer_ids") or []
    people = await directory_store.people_by_ids(db, proposer_ids)
    for i, pid in enumerate(proposer_ids):
        if pid not in people:
            errors.append(field_error(f"proposer_ids.{i}", f"there is no person with id {pid}"))
        elif people[pid].role not in PROPOSER_ROLES:
            errors.append(
                field_error(f"proposer_ids.{i}", f"person {pid} is not a committee member")
            )
    unit_ids = [u for u in [fields.get("lead_unit_id")] if u is not None] + list(
        fields.get("co_unit_ids") or []
    )
    units = await directory_store.units_by_ids(db, unit_ids)
    if fields.get("lead_unit_id") is not None and fields["lead_unit_id"] not in units:
        errors.append(
            field_error("lead_unit_id", f"there is no unit with id {fields['lead_unit_id']}")
        )
    for i, uid in enumerate(fields.get("co_unit_ids") or []):
        if uid not in units:
            errors.append(field_error(f"co_unit_ids.{i}", f"there is no unit with id {uid}"))
    supervisor = fields.get("supervisor_id")
    if supervisor is not None:
        found = (await directory_store.people_by_ids(db, [supervisor])).get(supervisor)
        if found is None or found.role is not Role.LEADER:
            errors.append(field_error("supervisor_id", f"person {supervisor} is not a leader"))
    return errors


async def _bundle_errors(
    db: AsyncSession, proposal_id: int | None, lead_id: int | None
) -> list[dict[str, Any]]:
    if lead_id is None:
        return []
    lead = await store.by_id(db, lead_id)
    problem = None
    if lead is None:
        problem = f"there is no proposal with id {lead_id}"
    elif lead_id == proposal_id:
        problem = "a proposal cannot be bundled under itself"
    elif lead.bundle_lead_id is not None:
        problem = f"proposal {lead.number} is itself bundled under another; bundle under that lead"
    elif proposal_id is not None and await store.has_bundled(db, proposal_id):
        problem = "this proposal leads a bundle itself, so it cannot join another"
    return [field_error("bundle_lead_id", problem)] if problem else []


def _raise_if(errors: list[dict[str, Any]]) -> None:
    if errors:
        raise Invalid(
            "Some referenced records do not exist or do not fit: "
            + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            + ".",
            errors=errors,
        )


async def add_proposal(
    database: Database, body: ProposalCreate, by_id: int, actor: Principal | None = None
) -> ProposalOut:
    """Register a proposal (no permission check: the demo seed and staff use this)."""
    async with database.transaction() as db:
        if await store.by_number(db, body.number) is not None:
            raise Conflict(f"Proposal number {body.number} is taken.")
        fields = body.model_dump()
        _raise_if(
            await _reference_errors(db, fields)
            + await _bundle_errors(db, None, body.bundle_lead_id)
        )
        now = utcnow()
        proposal = Proposal(
            number=body.number,
            title=body.title,
            summary=body.summary,
            category=body.category,
            key=body.key,
            group_proposer=body.group_proposer,
            status=Status.SUBMITTED,
            lead_unit_id=body.lead_unit_id,
            bundle_lead_id=body.bundle_lead_id,
            created_at=now,
            updated_at=now,
        )
        await store.add(db, proposal)
        await store.set_proposers(db, proposal.id, body.proposer_ids)
        await store.set_co_units(db, proposal.id, body.co_unit_ids)
        await store.add(
            db,
            ProposalTransition(
                proposal_id=proposal.id,
                from_status=None,
                to_status=Status.SUBMITTED,
                by_id=by_id,
                at=now,
                note=None,
            ),
        )
        await audit.record(
            db,
            "proposal.create",
            actor=actor,
            object_type="proposal",
            object_id=proposal.id,
            proposal_id=proposal.id,
            number=proposal.number,
        )
        return (await _outs(db, [proposal]))[0]


async def create_proposal(
    database: Database, actor: Principal, body: ProposalCreate
) -> ProposalOut:
    """Staff register a proposal; it starts as ``submitted``."""
    require_staff(actor)
    return await add_proposal(database, body, actor.id, actor)


async def _visible(
    db: AsyncSession, actor: Principal, proposal_id: int, *, lock: bool = False
) -> Proposal:
    find = store.by_id_for_update if lock else store.by_id
    proposal = await find(db, proposal_id)
    if proposal is None or not await store.is_visible(db, proposal_id, actor):
        raise NotFound(f"There is no proposal {proposal_id} that you can see.")
    return proposal


async def get_proposal(database: Database, actor: Principal, proposal_id: int) -> ProposalOut:
    """One proposal, if the actor may see it (404 otherwise)."""
    async with database.read() as db:
        return (await _outs(db, [await _visible(db, actor, proposal_id)]))[0]


async def list_proposals(
    database: Database, actor: Principal, query: ProposalQuery
) -> ProposalList:
    """The proposals the actor may see, filtered."""
    require_not_guest(actor)
    filters = query.model_dump(include={"status", "unit_id", "q", "key"})
    async with database.read() as db:
        if query.compliance is None:
            rows, total = await store.search(db, actor, filters, query.limit, query.offset)
            return ProposalList(
                items=await _outs(db, rows), total=total, limit=query.limit, offset=query.offset
            )
        # Compliance is computed, not stored: judge every match, then page.
        rows, _ = await store.search(db, actor, filters, MAX_JUDGED, 0)
        sessions = await store.sessions_of(db, rows)
        wanted = query.compliance == "missing"
        kept = [p for p in rows if bool(compliance(p.status, sessions[p.id])["missing"]) == wanted]
        page = kept[query.offset : query.offset + query.limit]
        return ProposalList(
            items=await _outs(db, page), total=len(kept), limit=query.limit, offset=query.offset
        )


async def update_proposal(
    database: Database, actor: Principal, proposal_id: int, patch: ProposalPatch
) -> ProposalOut:
    """Staff change a proposal's fields (not its status)."""
    require_staff(actor)
    changes = patch.model_dump(include=patch.model_fields_set)
    async with database.transaction() as db:
        proposal = await store.by_id_for_update(db, proposal_id)
        if proposal is None:
            raise NotFound(f"There is no proposal {proposal_id}.")
        merged = {"lead_unit_id": proposal.lead_unit_id, **changes}
        co_units = changes.get("co_unit_ids")
        if co_units is None:
            co_units = (await store.co_units_of(db, [proposal_id]))[proposal_id]
        if merged["lead_unit_id"] is not None and merged["lead_unit_id"] in co_units:
            raise Invalid(
                "The lead unit cannot also be a co-handling unit.",
                errors=[field_error("lead_unit_id", "also listed as a co-handling unit")],
            )
        proposers = changes.get("proposer_ids")
        if proposers is None:
            proposers = [p.id for p in (await store.proposers_of(db, [proposal_id]))[proposal_id]]
        group = changes.get("group_proposer", proposal.group_proposer)
        if not proposers and not group:
            raise Invalid(
                "A proposal needs proposer_ids or a group_proposer.",
                errors=[
                    field_error("proposer_ids", "a proposal needs proposer_ids or a group_proposer")
                ],
            )
        errors = await _reference_errors(db, changes)
        if changes.get("supervisor_id") is not None and not changes.get("key", proposal.key):
            errors.append(field_error("supervisor_id", "only key proposals get a supervisor"))
        if "bundle_lead_id" in changes:
            errors += await _bundle_errors(db, proposal_id, changes["bundle_lead_id"])
        _raise_if(errors)
        await audit.record(
            db,
            "proposal.update",
            actor=actor,
            object_type="proposal",
            object_id=proposal_id,
            proposal_id=proposal_id,
            fields=sorted(changes),
        )
        await _apply(db, proposal, changes)
        return (await _outs(db, [proposal]))[0]


async def _apply(db: AsyncSession, proposal: Proposal, changes: dict[str, Any]) -> None:
    if "proposer_ids" in changes:
        await store.set_proposers(db, proposal.id, changes.pop("proposer_ids") or [])
    if "co_unit_ids" in changes:
        await store.set_co_units(db, proposal.id, changes.pop("co_unit_ids") or [])
    for name, value in changes.items():
        setattr(proposal, name, value if name != "summary" or value is not None else "")
    if proposal.lead_unit_id is None and proposal.status not in (
        Status.SUBMITTED,
        Status.FILED,
        Status.REJECTED,
    ):
        raise Conflict("A proposal that is assigned or later needs its lead unit.")
    proposal.updated_at = utcnow()
    await db.flush()


async def transition(
    database: Database, actor: Principal, proposal_id: int, body: TransitionIn
) -> ProposalOut:
    """Move a proposal one step along its lifecycle, recording who and when."""
    async with database.transaction() as db:
        proposal = await _visible(db, actor, proposal_id, lock=True)
        check_transition(
            proposal.status,
            body.to,
            role=actor.role,
            is_lead_unit=actor.unit_id is not None and actor.unit_id == proposal.lead_unit_id,
            has_lead_unit=proposal.lead_unit_id is not None,
            note=body.note,
        )
        now = utcnow()
        await store.add(
            db,
            ProposalTransition(
                proposal_id=proposal.id,
                from_status=proposal.status,
                to_status=body.to,
                by_id=actor.id,
                at=now,
                note=body.note,
            ),
        )
        change: dict[str, Any] = {"from": proposal.status.value, "to": body.to.value}
        await audit.record(
            db,
            "proposal.transition",
            actor=actor,
            object_type="proposal",
            object_id=proposal.id,
            proposal_id=proposal.id,
            **change,
        )
        proposal.status = body.to
        proposal.updated_at = now
        return (await _outs(db, [proposal]))[0]


async def unknown_ids(db: AsyncSession, ids: Sequence[int]) -> list[int]:
    """The ids in ``ids`` that name no proposal (for other features' validation)."""
    found = await store.existing_ids(db, ids)
    return [i for i in ids if i not in found]
