"""Proposal registry operations: register, change, move through the lifecycle, read."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import workdays
from scheduling.workdays import WorkCalendar
from server.audit import service as audit
from server.auth import Principal, Role, require_not_guest, require_staff
from server.db import Database, utcnow
from server.directory import store as directory_store
from server.directory.schemas import PersonBrief
from server.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from server.i18n import _
from server.proposals import exports, handling, store, tell, tidings
from server.proposals.compliance import FACE_TO_FACE, compliance
from server.proposals.handling_schemas import HandlingOut
from server.proposals.lifecycle import (
    COMMITTEE_ZONE,
    REJECT_REASON_WORDS,
    UNHANDLED,
    RejectReason,
    ReplyTerm,
    Status,
    check_transition,
    reply_due,
    reply_due_by,
    reply_overdue,
    steps_for,
)
from server.proposals.models import Evaluation, EvaluationKind, Proposal, ProposalTransition
from server.proposals.schemas import (
    ComplianceOut,
    CosignerOut,
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


def _due(proposal: Proposal, history: Sequence[ProposalTransition]) -> dt.date | None:
    """The reply's due day while one is awaited or given: set at the assignment (or, for one
    assigned before the day was stored, three months from the last assignment)."""
    if proposal.status in UNHANDLED:
        return None
    if proposal.reply_due is not None:
        return proposal.reply_due
    assigned = [h.at for h in history if h.to_status is Status.ASSIGNED]
    return reply_due(assigned[-1].astimezone(COMMITTEE_ZONE).date()) if assigned else None


async def _shipped_calendar(db: AsyncSession) -> WorkCalendar:
    return workdays.shipped()


@dataclass(frozen=True)
class Deadlines:
    """How a reply's due day is set at the assignment: the configured term, and the working-day
    calendar (the sessions feature keeps the one staff edit; the composition root hands its
    reader in)."""

    term: ReplyTerm = field(default_factory=ReplyTerm)
    calendar: Callable[[AsyncSession], Awaitable[WorkCalendar]] = field(default=_shipped_calendar)


def committee_today() -> dt.date:
    """Today in the committee's zone."""
    return utcnow().astimezone(COMMITTEE_ZONE).date()


class SessionsOf(Protocol):
    """Reads the sessions linked to each proposal: ``{proposal_id: [{"id", "title", "kind",
    "stage", "mode", "status", "starts_at", "via"}]}``. The sessions feature is a floor above,
    so the composition root hands its reader in (``sessions.service.sessions_of_proposals``)."""

    async def __call__(
        self, db: AsyncSession, proposal_ids: Sequence[int]
    ) -> dict[int, list[dict[str, Any]]]: ...


@dataclass(frozen=True)
class CountedSessions:
    """A sessions reader with the setting of which modes count for the ``during`` stage
    (``XIESHANG_DURING_MODES``); the composition root builds it."""

    read: SessionsOf
    during_modes: frozenset[str] = FACE_TO_FACE

    async def __call__(
        self, db: AsyncSession, proposal_ids: Sequence[int]
    ) -> dict[int, list[dict[str, Any]]]:
        return await self.read(db, proposal_ids)


def counted_during(read: SessionsOf) -> frozenset[str]:
    """The modes that count for the ``during`` stage with this reader (default: face to face)."""
    return read.during_modes if isinstance(read, CountedSessions) else FACE_TO_FACE


async def _sessions_of(
    db: AsyncSession, proposals: Sequence[Proposal], read: SessionsOf
) -> dict[int, list[dict[str, Any]]]:
    """The sessions of each proposal, its 1+N bundle's included, by start time."""
    groups = await store.bundle_groups(db, proposals)
    by_proposal = await read(db, sorted(set().union(*groups.values())) if groups else [])
    result: dict[int, list[dict[str, Any]]] = {}
    for p in proposals:
        seen: dict[int, dict[str, Any]] = {}
        for member in sorted(groups[p.id]):
            for s in by_proposal.get(member, []):
                seen.setdefault(s["id"], s)
        result[p.id] = sorted(seen.values(), key=lambda s: (s["starts_at"], s["id"]))
    return result


def _the_proposers(e: Evaluation) -> bool:
    """Whether ``e`` is the proposer's verdict on the handling (not a co-signer's)."""
    return e.kind is EvaluationKind.HANDLING and not e.as_cosigner


def _steps(proposal: Proposal, actor: Principal | None) -> list[Status]:
    if actor is None:
        return []
    is_lead = actor.unit_id is not None and actor.unit_id == proposal.lead_unit_id
    return steps_for(proposal.status, role=actor.role, is_lead_unit=is_lead)


def _history(steps: Sequence[ProposalTransition], names: dict[int, str]) -> list[TransitionOut]:
    return [
        TransitionOut.model_validate(h).model_copy(
            update={
                "by_name": names.get(h.by_id, ""),
                "reason_words": str(REJECT_REASON_WORDS[RejectReason(h.reason)])
                if h.reason
                else None,
            }
        )
        for h in steps
    ]


async def _outs(
    db: AsyncSession,
    proposals: Sequence[Proposal],
    sessions_of: SessionsOf,
    actor: Principal | None = None,
) -> list[ProposalOut]:
    ids = [p.id for p in proposals]
    proposers = await store.proposers_of(db, ids)
    co_units = await store.co_units_of(db, ids)
    bundled = await store.bundled_under(db, ids)
    history = await store.history_of(db, ids)
    people = await directory_store.people_by_ids(
        db,
        sorted(
            {h.by_id for steps in history.values() for h in steps}
            | {p.leader_id for p in proposals if p.leader_id}
        ),
    )
    names = {pid: person.name for pid, person in people.items()}
    sessions = await _sessions_of(db, proposals, sessions_of)
    evaluations = await store.evaluations_of(db, ids)
    cosigners = await store.cosigners_of(db, ids)
    return [
        ProposalOut(
            id=p.id,
            number=p.number,
            title=p.title,
            summary=p.summary,
            situation=p.situation,
            suggestions=list(p.suggestions or []),
            public=p.public,
            author_id=p.author_id,
            cosigners=[
                CosignerOut(person_id=c.person_id, name=name, answer=c.answer.value)
                for c, name in cosigners[p.id]
            ],
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
            leader_id=p.leader_id,
            leader_name=names.get(p.leader_id) if p.leader_id else None,
            reply_due=_due(p, history[p.id]),
            compliance=ComplianceOut.model_validate(
                compliance(p.status, sessions[p.id], counted_during(sessions_of))
            ),
            evaluation=next(
                (e.verdict for e in reversed(evaluations[p.id]) if _the_proposers(e)),
                None,
            ),
            history=_history(history[p.id], names),
            steps=_steps(p, actor),
            created_at=p.created_at,
            updated_at=p.updated_at,
        )
        for p in proposals
    ]


async def _reference_errors(db: AsyncSession, fields: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    proposer_ids: list[int] = fields.get("proposer_ids") or []
    people = await directory_store.people_by_ids(db, proposer_ids)
    for i, pid in enumerate(proposer_ids):
        if pid not in people:
            errors.append(
                field_error(f"proposer_ids.{i}", _("there is no person with id {pid}", pid=pid))
            )
        elif people[pid].role not in PROPOSER_ROLES:
            errors.append(
                field_error(
                    f"proposer_ids.{i}", _("person {pid} is not a committee member", pid=pid)
                )
            )
    unit_ids = [u for u in [fields.get("lead_unit_id")] if u is not None] + list(
        fields.get("co_unit_ids") or []
    )
    units = await directory_store.units_by_ids(db, unit_ids)
    if fields.get("lead_unit_id") is not None and fields["lead_unit_id"] not in units:
        errors.append(
            field_error(
                "lead_unit_id",
                _("there is no unit with id {lead_unit_id}", lead_unit_id=fields["lead_unit_id"]),
            )
        )
    for i, uid in enumerate(fields.get("co_unit_ids") or []):
        if uid not in units:
            errors.append(
                field_error(f"co_unit_ids.{i}", _("there is no unit with id {uid}", uid=uid))
            )
    supervisor = fields.get("supervisor_id")
    if supervisor is not None:
        found = (await directory_store.people_by_ids(db, [supervisor])).get(supervisor)
        if found is None or found.role is not Role.LEADER:
            errors.append(
                field_error(
                    "supervisor_id", _("person {supervisor} is not a leader", supervisor=supervisor)
                )
            )
    leader = fields.get("leader_id")
    if leader is not None:
        found = (await directory_store.people_by_ids(db, [leader])).get(leader)
        if found is None or found.role is not Role.LEADER:
            errors.append(
                field_error("leader_id", _("person {leader} is not a leader", leader=leader))
            )
    return errors


def _key_only_errors(changes: dict[str, Any], key: bool) -> list[dict[str, Any]]:
    """Supervising (督办) and leading (领办) leaders are for key proposals only."""
    errors: list[dict[str, Any]] = []
    if changes.get("supervisor_id") is not None and not key:
        errors.append(field_error("supervisor_id", _("only key proposals get a supervisor")))
    if changes.get("leader_id") is not None and not key:
        errors.append(field_error("leader_id", _("only key proposals are led by a leader")))
    return errors


async def _bundle_errors(
    db: AsyncSession, proposal_id: int | None, lead_id: int | None
) -> list[dict[str, Any]]:
    if lead_id is None:
        return []
    lead = await store.by_id(db, lead_id)
    problem = None
    if lead is None:
        problem = _("there is no proposal with id {lead_id}", lead_id=lead_id)
    elif lead_id == proposal_id:
        problem = _("a proposal cannot be bundled under itself")
    elif lead.bundle_lead_id is not None:
        problem = _(
            "proposal {number} is itself bundled under another; bundle under that lead",
            number=lead.number,
        )
    elif proposal_id is not None and await store.has_bundled(db, proposal_id):
        problem = _("this proposal leads a bundle itself, so it cannot join another")
    return [field_error("bundle_lead_id", problem)] if problem else []


async def check_references(db: AsyncSession, fields: dict[str, Any]) -> None:
    """Raise unless every person and unit ``fields`` name exists and fits."""
    _raise_if(await _reference_errors(db, fields))


async def outs(
    db: AsyncSession, proposals: Sequence[Proposal], sessions_of: SessionsOf, actor: Principal
) -> list[ProposalOut]:
    """The proposals as the API shows them to ``actor``."""
    return await _outs(db, proposals, sessions_of, actor)


async def visible(
    db: AsyncSession, actor: Principal, proposal_id: int, *, lock: bool = False
) -> Proposal:
    """The proposal if ``actor`` may see it (404 otherwise)."""
    return await _visible(db, actor, proposal_id, lock=lock)


def _raise_if(errors: list[dict[str, Any]]) -> None:
    if errors:
        raise Invalid(
            _(
                "Some referenced records do not exist or do not fit: {summary}",
                summary=tuple(
                    _("{field}: {message}", field=e["field"], message=e["message"]) for e in errors
                ),
            )
            + ".",
            errors=errors,
        )


async def add_proposal(
    database: Database,
    body: ProposalCreate,
    by_id: int,
    actor: Principal | None = None,
    *,
    sessions_of: SessionsOf,
) -> ProposalOut:
    """Register a proposal (no permission check: the demo seed and staff use this)."""
    async with database.transaction() as db:
        if body.number is None:
            raise Invalid(
                _("Give the proposal's number."),
                errors=[field_error("number", _("required when staff register a proposal"))],
            )
        if not body.proposer_ids and not body.group_proposer:
            raise Invalid(
                _("A proposal needs proposer_ids or a group_proposer."),
                errors=[
                    field_error(
                        "proposer_ids", _("a proposal needs proposer_ids or a group_proposer")
                    )
                ],
            )
        if await store.by_number(db, body.number) is not None:
            raise Conflict(_("Proposal number {number} is taken.", number=body.number))
        fields = body.model_dump()
        errors = await _reference_errors(db, fields)
        errors += _key_only_errors(fields, body.key)
        _raise_if(errors + await _bundle_errors(db, None, body.bundle_lead_id))
        now = utcnow()
        proposal = Proposal(
            number=body.number,
            title=body.title,
            summary=body.summary,
            situation=body.situation,
            suggestions=list(body.suggestions),
            public=body.public,
            category=body.category,
            key=body.key,
            group_proposer=body.group_proposer,
            status=Status.SUBMITTED,
            lead_unit_id=body.lead_unit_id,
            bundle_lead_id=body.bundle_lead_id,
            supervisor_id=body.supervisor_id,
            leader_id=body.leader_id,
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
        return (await _outs(db, [proposal], sessions_of, actor))[0]


async def create_proposal(
    database: Database, actor: Principal, body: ProposalCreate, *, sessions_of: SessionsOf
) -> ProposalOut:
    """Staff register a proposal; it starts as ``submitted``."""
    require_staff(actor)
    return await add_proposal(database, body, actor.id, actor, sessions_of=sessions_of)


async def _visible(
    db: AsyncSession, actor: Principal, proposal_id: int, *, lock: bool = False
) -> Proposal:
    find = store.by_id_for_update if lock else store.by_id
    proposal = await find(db, proposal_id)
    if proposal is None or not await store.is_visible(db, proposal_id, actor):
        raise NotFound(
            _("There is no proposal {proposal_id} that you can see.", proposal_id=proposal_id)
        )
    return proposal


async def get_proposal(
    database: Database, actor: Principal, proposal_id: int, *, sessions_of: SessionsOf
) -> ProposalOut:
    """One proposal, if the actor may see it (404 otherwise)."""
    async with database.read() as db:
        proposal = await _visible(db, actor, proposal_id)
        return (await _outs(db, [proposal], sessions_of, actor))[0]


def _overdue_wanted(query: ProposalQuery) -> bool | None:
    return query.overdue if query.overdue is not None else query.reply_overdue


async def _judged(
    db: AsyncSession, rows: Sequence[Proposal], query: ProposalQuery, sessions_of: SessionsOf
) -> list[Proposal]:
    """The rows that pass the computed filters (stage compliance, reply overdue)."""
    kept = list(rows)
    if query.compliance is not None:
        sessions = await _sessions_of(db, kept, sessions_of)
        wanted = query.compliance == "missing"
        modes = counted_during(sessions_of)
        kept = [
            p
            for p in kept
            if bool(compliance(p.status, sessions[p.id], modes)["missing"]) == wanted
        ]
    overdue = _overdue_wanted(query)
    if overdue is not None:
        history = await store.history_of(db, [p.id for p in kept])
        today = committee_today()
        kept = [
            p for p in kept if reply_overdue(p.status, _due(p, history[p.id]), today) == overdue
        ]
    return kept


async def _matching(
    db: AsyncSession, actor: Principal, query: ProposalQuery, limit: int, offset: int
) -> tuple[Sequence[Proposal], int, bool]:
    """A page of the proposals matching every filter, the total, and whether computed filters
    still have to be applied (then the page is every stored match, to judge before paging)."""
    filters = query.model_dump(include={"status", "unit_id", "q", "key", "category", "year"})
    if query.compliance is None and _overdue_wanted(query) is None:
        rows, total = await store.search(db, actor, filters, limit, offset, query.sort)
        return rows, total, False
    rows, total = await store.search(db, actor, filters, MAX_JUDGED, 0, query.sort)
    return rows, total, True


async def _filtered(
    db: AsyncSession,
    actor: Principal,
    query: ProposalQuery,
    limit: int,
    offset: int,
    sessions_of: SessionsOf,
) -> tuple[Sequence[Proposal], int]:
    rows, total, computed = await _matching(db, actor, query, limit, offset)
    if not computed:
        return rows, total
    # Compliance and overdue-ness are computed, not stored: judge every match, then page.
    kept = await _judged(db, rows, query, sessions_of)
    return kept[offset : offset + limit], len(kept)


async def list_proposals(
    database: Database, actor: Principal, query: ProposalQuery, *, sessions_of: SessionsOf
) -> ProposalList:
    """The proposals the actor may see, filtered, sorted and paged."""
    require_not_guest(actor)
    async with database.read() as db:
        rows, total = await _filtered(db, actor, query, query.limit, query.offset, sessions_of)
        return ProposalList(
            items=await _outs(db, rows, sessions_of, actor),
            total=total,
            limit=query.limit,
            offset=query.offset,
        )


MAX_EXPORTED = 20_000  # rows in one spreadsheet


async def export_proposals(
    database: Database, actor: Principal, query: ProposalQuery, *, sessions_of: SessionsOf
) -> bytes:
    """Every proposal the list would show for ``query`` (all pages) as an .xlsx workbook."""
    require_not_guest(actor)
    async with database.transaction() as db:
        rows, _total = await _filtered(db, actor, query, MAX_EXPORTED, 0, sessions_of)
        outs = await _outs(db, rows, sessions_of)
        ids = {o.lead_unit_id for o in outs if o.lead_unit_id} | {
            u for o in outs for u in o.co_unit_ids
        }
        units = {
            u.id: u.name for u in (await directory_store.units_by_ids(db, sorted(ids))).values()
        }
        await audit.record(
            db,
            "proposal.export",
            actor=actor,
            object_type="proposal",
            rows=len(outs),
            filters=query.model_dump(mode="json", exclude_defaults=True),
        )
    return await asyncio.to_thread(exports.to_xlsx, outs, units, committee_today())


async def update_proposal(
    database: Database,
    actor: Principal,
    proposal_id: int,
    patch: ProposalPatch,
    *,
    sessions_of: SessionsOf,
) -> ProposalOut:
    """Staff change a proposal's fields (not its status); a leader takes or gives up the
    lead of a key proposal (领办, ``leader_id`` only)."""
    changes = patch.model_dump(include=patch.model_fields_set)
    if actor.role is Role.LEADER and set(changes) == {"leader_id"}:
        return await _lead(database, actor, proposal_id, changes["leader_id"], sessions_of)
    require_staff(actor)
    async with database.transaction() as db:
        proposal = await _visible(db, actor, proposal_id, lock=True)
        merged = {"lead_unit_id": proposal.lead_unit_id, **changes}
        co_units = changes.get("co_unit_ids")
        if co_units is None:
            co_units = (await store.co_units_of(db, [proposal_id]))[proposal_id]
        if merged["lead_unit_id"] is not None and merged["lead_unit_id"] in co_units:
            raise Invalid(
                _("The lead unit cannot also be a co-handling unit."),
                errors=[field_error("lead_unit_id", _("also listed as a co-handling unit"))],
            )
        proposers = changes.get("proposer_ids")
        if proposers is None:
            proposers = [p.id for p in (await store.proposers_of(db, [proposal_id]))[proposal_id]]
        group = changes.get("group_proposer", proposal.group_proposer)
        if not proposers and not group:
            raise Invalid(
                _("A proposal needs proposer_ids or a group_proposer."),
                errors=[
                    field_error(
                        "proposer_ids", _("a proposal needs proposer_ids or a group_proposer")
                    )
                ],
            )
        errors = await _reference_errors(db, changes)
        errors += _key_only_errors(changes, changes.get("key", proposal.key))
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
        if changes.get("bundle_lead_id") is not None:  # merged into a 1+N bundle
            proposers = (await store.proposers_of(db, [proposal_id]))[proposal_id]
            lead = changes["bundle_lead_id"]
            await tidings.tell(
                db, "proposal.merged", proposal_id, [p.id for p in proposers], lead_id=lead
            )
        return (await _outs(db, [proposal], sessions_of, actor))[0]


async def _lead(
    database: Database,
    actor: Principal,
    proposal_id: int,
    leader_id: int | None,
    sessions_of: SessionsOf,
) -> ProposalOut:
    """A leader takes the lead of a key proposal (领办), or gives up their own lead."""
    async with database.transaction() as db:
        proposal = await _visible(db, actor, proposal_id, lock=True)
        if leader_id not in (None, actor.id):
            raise Forbidden(
                _("A leader takes the lead of a proposal themself; staff assign other leaders.")
            )
        if leader_id is None and proposal.leader_id != actor.id:
            raise Forbidden(_("Only the leader who leads this proposal may give up its lead."))
        if leader_id is not None and proposal.leader_id not in (None, actor.id):
            raise Conflict(_("Another leader already leads this proposal."))
        _raise_if(_key_only_errors({"leader_id": leader_id}, proposal.key))
        await audit.record(
            db,
            "proposal.lead",
            actor=actor,
            object_type="proposal",
            object_id=proposal_id,
            proposal_id=proposal_id,
            leader_id=leader_id,
        )
        proposal.leader_id, proposal.updated_at = leader_id, utcnow()
        return (await _outs(db, [proposal], sessions_of, actor))[0]


async def _apply(db: AsyncSession, proposal: Proposal, changes: dict[str, Any]) -> None:
    if "proposer_ids" in changes:
        await store.set_proposers(db, proposal.id, changes.pop("proposer_ids") or [])
    if "co_unit_ids" in changes:
        await store.set_co_units(db, proposal.id, changes.pop("co_unit_ids") or [])
    for name, value in changes.items():
        blank = name in ("summary", "situation") and value is None
        setattr(proposal, name, "" if blank else value)
    if proposal.lead_unit_id is None and proposal.status not in (
        Status.SUBMITTED,
        Status.FILED,
        Status.REJECTED,
    ):
        raise Conflict(_("A proposal that is assigned or later needs its lead unit."))
    proposal.updated_at = utcnow()
    await db.flush()


async def transition(
    database: Database,
    actor: Principal,
    proposal_id: int,
    body: TransitionIn,
    *,
    sessions_of: SessionsOf,
    deadlines: Deadlines | None = None,
) -> ProposalOut:
    """Move a proposal one step along its lifecycle, recording who and when (and why, when not
    filed); filing gives a proposal without a number the year's next, assigning sets the
    reply's due day."""
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
                reason=body.reason.value if body.reason else None,
            ),
        )
        await _on_step(db, proposal, body, deadlines or Deadlines())
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
        await tell.of_transition(db, proposal, body.to, body.note)
        return (await _outs(db, [proposal], sessions_of, actor))[0]


async def next_number(db: AsyncSession, year: int) -> str:
    """The year's next proposal number, ``YYYY-NNNN``."""
    last = await store.last_number(db, year)
    return f"{year:04d}-{int(last[5:]) + 1 if last else 1:04d}"


async def _on_step(
    db: AsyncSession, proposal: Proposal, body: TransitionIn, deadlines: Deadlines
) -> None:
    """What a step brings besides the status: a number, a due day, people told."""
    today = committee_today()
    if body.to is Status.FILED and proposal.number is None:
        proposal.number = await next_number(db, today.year)
    if body.to is Status.ASSIGNED:
        calendar = await deadlines.calendar(db)
        proposal.reply_due = reply_due_by(today, deadlines.term, calendar)
        proposal.reply_reminded_at = None
    kind = {
        Status.FILED: "proposal.filed",
        Status.REJECTED: "proposal.rejected",
        Status.CONVERTED: "proposal.converted",
    }.get(body.to)
    if kind is not None:
        proposers = (await store.proposers_of(db, [proposal.id]))[proposal.id]
        reason = body.reason.value if body.reason else None
        await tidings.tell(
            db, kind, proposal.id, [p.id for p in proposers], reason=reason, note=body.note
        )


@dataclass(frozen=True)
class OverdueReply:
    """A proposal whose reply is overdue, to remind its lead unit of."""

    id: int
    title: str  # number and title
    lead_unit_id: int | None
    reply_due: dt.date


async def claim_overdue_replies(
    db: AsyncSession, today: dt.date, now: dt.datetime, every: dt.timedelta, limit: int
) -> list[OverdueReply]:
    """The proposals still awaiting a reply after ``reply_due`` and not reminded within
    ``every``, stamped as reminded at ``now`` (the caller queues the reminders in the same
    transaction)."""
    rows = await store.claim_overdue_replies(db, today, now - every, limit)
    claimed = []
    for p in rows:
        assert p.reply_due is not None  # the query's condition
        p.reply_reminded_at = now
        title = f"{p.number} {p.title}" if p.number else p.title
        claimed.append(OverdueReply(p.id, title, p.lead_unit_id, p.reply_due))
        await tidings.tell(db, "proposal.reply_overdue", p.id, [], due=p.reply_due.isoformat())
    await db.flush()
    return claimed


async def unknown_ids(db: AsyncSession, ids: Sequence[int]) -> list[int]:
    """The ids in ``ids`` that name no proposal (for other features' validation)."""
    found = await store.existing_ids(db, ids)
    return [i for i in ids if i not in found]


# ---------------------------------------------------------------- for the record


def ids_handled_by(unit_id: int) -> Select[int]:
    """The ids of the proposals ``unit_id`` handles (lead or co-handling), as a subquery for
    another feature's visibility filter (sessions: units see their proposals' sessions)."""
    return store.ids_involving_unit(unit_id)


async def titles(db: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    """``number title`` of each proposal in ``ids`` that exists."""
    return await store.titles(db, ids)


@dataclass(frozen=True)
class ProposalCard:
    """A proposal as another feature lists it (a selection round's candidate)."""

    id: int
    number: str
    title: str
    summary: str
    category: str | None


async def cards(db: AsyncSession, ids: Sequence[int]) -> dict[int, ProposalCard]:
    """Number, title, summary and category of each proposal in ``ids`` that exists."""
    rows = await store.briefs(db, ids)
    return {p.id: ProposalCard(p.id, p.number or "", p.title, p.summary, p.category) for p in rows}


async def unit_figures(
    db: AsyncSession, actor: Principal, year: int | None
) -> list[dict[str, Any]]:
    """Every proposal ``actor`` may see of ``year`` (its number's; all when None) as per-unit
    statistics count
    it: ``number``, ``status``, ``lead_unit_id``, ``co_unit_ids``, ``reply_due``, ``replied_on``
    (the committee's day of the first reply, None before one), ``verdict`` (the latest handling
    evaluation), and the ``year``."""
    rows, _total = await store.search(db, actor, {"year": year}, MAX_JUDGED, 0)
    ids = [p.id for p in rows]
    co_units = await store.co_units_of(db, ids)
    history = await store.history_of(db, ids)
    replies = await store.replies_of(db, ids)
    evaluations = await store.evaluations_of(db, ids)
    classes = await _latest_reply_classes(db, ids)
    return [
        {
            "id": p.id,
            "number": p.number,
            "year": int(p.number[:4]) if p.number else p.created_at.year,
            "items": [{"class": c} for c in classes[p.id]],  # the latest reply's, by class
            "status": p.status,
            "lead_unit_id": p.lead_unit_id,
            "co_unit_ids": co_units[p.id],
            "reply_due": _due(p, history[p.id]),
            "replied_on": min(r.at for r in replies[p.id]).astimezone(COMMITTEE_ZONE).date()
            if replies[p.id]
            else None,
            "verdict": next(
                (e.verdict for e in reversed(evaluations[p.id]) if e.kind.value == "handling"),
                None,
            ),
        }
        for p in rows
    ]


async def existing_ids(db: AsyncSession, ids: Sequence[int]) -> set[int]:
    """The ids in ``ids`` that name a proposal."""
    return await store.existing_ids(db, ids)


async def visible_ids(db: AsyncSession, ids: Sequence[int], actor: Principal) -> set[int]:
    """The ids in ``ids`` of proposals ``actor`` may see."""
    return await store.visible_ids(db, ids, actor)


async def ids_proposed_by(db: AsyncSession, person_id: int) -> list[int]:
    """The proposals ``person_id`` is a proposer of."""
    return await store.ids_proposed_by(db, person_id)


async def is_proposer(db: AsyncSession, proposal_id: int, person_id: int) -> bool:
    """Whether ``person_id`` is a proposer of ``proposal_id``."""
    proposers = (await store.proposers_of(db, [proposal_id]))[proposal_id]
    return any(p.id == person_id for p in proposers)


async def supervisors(db: AsyncSession, ids: Sequence[int]) -> dict[int, tuple[int, str, str]]:
    """(id, name, email) of the supervising leader of each key proposal that has one."""
    return await store.supervisors(db, ids)


@dataclass(frozen=True)
class AwaitingEvaluation:
    """A replied proposal whose proposers have not evaluated the handling yet."""

    id: int
    label: str  # "number title"
    round: int
    proposer_ids: list[int]


async def awaiting_evaluation(
    db: AsyncSession, replied_before: dt.datetime, limit: int
) -> list[AwaitingEvaluation]:
    """Up to ``limit`` proposals replied before ``replied_before`` and not yet evaluated."""
    rows = await store.replied_before(db, replied_before, limit)
    proposers = await store.proposers_of(db, [p.id for p in rows])
    return [
        AwaitingEvaluation(p.id, tell.label(p), p.round, [x.id for x in proposers[p.id]])
        for p in rows
    ]


@dataclass(frozen=True)
class ProposalBrief:
    """What another feature needs to say which proposal and who handles it."""

    id: int
    number: str
    title: str
    key: bool
    lead_unit_id: int | None
    leader_id: int | None
    reply_due: dt.date | None


async def briefs(db: AsyncSession, ids: Sequence[int]) -> dict[int, ProposalBrief]:
    """A brief of each proposal in ``ids`` that exists."""
    rows = await store.briefs(db, sorted(set(ids)))
    history = await store.history_of(db, [p.id for p in rows])
    return {
        p.id: ProposalBrief(
            p.id,
            p.number or "",
            p.title,
            p.key,
            p.lead_unit_id,
            p.leader_id,
            _due(p, history[p.id]),
        )
        for p in rows
    }


MAX_OVERDUE = 10_000  # proposals awaiting a reply judged at once (a committee has thousands)


async def overdue_replies(db: AsyncSession) -> list[ProposalBrief]:
    """The proposals still awaiting their reply after it was due today, by number."""
    rows = await store.proposals_due_reply(db, MAX_OVERDUE)
    history = await store.history_of(db, [p.id for p in rows])
    today = committee_today()
    found = []
    for p in rows:
        due = _due(p, history[p.id])
        if reply_overdue(p.status, due, today):
            found.append(
                ProposalBrief(
                    p.id, p.number or "", p.title, p.key, p.lead_unit_id, p.leader_id, due
                )
            )
    return found


async def ids_led_by(db: AsyncSession, leader_id: int) -> list[int]:
    """The proposals ``leader_id`` leads (领办)."""
    return await store.led_by(db, leader_id)


@dataclass(frozen=True)
class BundleMember:
    """A proposal of a 1+N bundle, briefly."""

    id: int
    number: str
    title: str
    status: Status
    lead: bool


@dataclass(frozen=True)
class ProposalFile:
    """What the proposals feature knows of one proposal, for its dossier."""

    proposal: ProposalOut
    bundle: list[BundleMember]
    group: set[int]  # the bundle's proposal ids
    readable: set[int]  # those of ``group`` the reader may see
    sessions: list[dict[str, Any]]  # of the bundle, by start (see ``SessionsOf``)
    handling: HandlingOut


async def proposal_file(
    db: AsyncSession, actor: Principal, proposal_id: int, sessions_of: SessionsOf
) -> ProposalFile:
    """A proposal the actor may see with its bundle, sessions and handling (404 otherwise)."""
    proposal = await _visible(db, actor, proposal_id)
    group = (await store.bundle_groups(db, [proposal]))[proposal_id]
    lead = proposal.bundle_lead_id or proposal.id
    members = await store.briefs(db, sorted(group))
    return ProposalFile(
        proposal=(await _outs(db, [proposal], sessions_of, actor))[0],
        bundle=[
            BundleMember(m.id, m.number or "", m.title, m.status, m.id == lead) for m in members
        ],
        group=group,
        readable=await store.visible_ids(db, sorted(group), actor),
        sessions=(await _sessions_of(db, [proposal], sessions_of))[proposal_id],
        handling=await handling.handling_of(db, proposal, actor),
    )


async def figures(db: AsyncSession, sessions_of: SessionsOf) -> list[dict[str, Any]]:
    """Every proposal as statistics count it: ``status``, ``created_at``, its ``compliance``,
    its latest handling ``verdict`` (None before one) and the ``reply_classes`` of its latest
    reply's items."""
    proposals = await store.all_proposals(db)
    sessions = await _sessions_of(db, proposals, sessions_of)
    evaluations = await store.evaluations_of(db, [p.id for p in proposals])
    classes = await _latest_reply_classes(db, [p.id for p in proposals])
    return [
        {
            "status": p.status,
            "created_at": p.created_at,
            "compliance": compliance(p.status, sessions[p.id], counted_during(sessions_of)),
            "verdict": next(
                (e.verdict for e in reversed(evaluations[p.id]) if _the_proposers(e)),
                None,
            ),
            "reply_classes": classes[p.id],
        }
        for p in proposals
    ]


async def _latest_reply_classes(db: AsyncSession, ids: Sequence[int]) -> dict[int, list[str]]:
    """The classes (A–D) of the items of each proposal's latest reply (a second round's reply
    supersedes the first)."""
    replies = await store.replies_of(db, ids)
    latest = {pid: rows[-1].id for pid, rows in replies.items() if rows}
    items = await store.reply_items_of(db, list(latest.values()))
    return {
        pid: [i.reply_class.value for i in items[latest[pid]]] if pid in latest else []
        for pid in ids
    }
