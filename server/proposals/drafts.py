"""提: members draft proposals online, invite co-signers (联名), and submit within the year's
window that staff set. A draft is its author's and its invited co-signers' only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import Principal, Role, require_not_guest, require_staff
from server.db import Database, utcnow
from server.directory import store as directory_store
from server.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from server.i18n import Msg, _
from server.proposals import service, store, tidings
from server.proposals.drafts_schemas import (
    CosignersIn,
    CosignIn,
    SubmitOut,
    WindowIn,
    WindowList,
    WindowOut,
)
from server.proposals.lifecycle import Status
from server.proposals.models import CosignAnswer, Cosigner, Proposal, ProposalTransition
from server.proposals.models import SubmissionWindow as Window
from server.proposals.schemas import CosignerOut, ProposalCreate, ProposalOut, ProposalPatch
from server.proposals.service import SessionsOf, committee_today

DRAFTERS = (Role.MEMBER, Role.LEADER)
# What staff alone set: a member's draft has no number, group, key mark, bundle or supervisor.
STAFF_FIELDS = (
    "number",
    "proposer_ids",
    "group_proposer",
    "key",
    "bundle_lead_id",
    "supervisor_id",
)


def _staff_only(fields_set: set[str], values: dict[str, Any]) -> None:
    given = [f for f in STAFF_FIELDS if f in fields_set and values.get(f) not in (None, [], False)]
    if given:
        raise Invalid(
            _("Staff set these fields, not a proposal's author: {fields}.", fields=tuple(given)),
            errors=[field_error(f, _("set by staff")) for f in given],
        )


async def create_draft(
    database: Database, actor: Principal, body: ProposalCreate, *, sessions_of: SessionsOf
) -> ProposalOut:
    """A member starts a draft; they are its author and first proposer."""
    if actor.role not in DRAFTERS:
        raise Forbidden(_("Only committee members draft proposals; staff register them."))
    _staff_only(body.model_fields_set, body.model_dump())
    async with database.transaction() as db:
        await service.check_references(db, body.model_dump(include={"lead_unit_id", "co_unit_ids"}))
        now = utcnow()
        proposal = Proposal(
            number=None,
            title=body.title,
            summary=body.summary,
            situation=body.situation,
            suggestions=list(body.suggestions),
            public=body.public,
            category=body.category,
            key=False,
            status=Status.DRAFT,
            author_id=actor.id,
            lead_unit_id=body.lead_unit_id,
            created_at=now,
            updated_at=now,
        )
        await store.add(db, proposal)
        await store.set_proposers(db, proposal.id, [actor.id])
        await store.set_co_units(db, proposal.id, body.co_unit_ids)
        await _record_step(db, proposal, None, Status.DRAFT, actor, now)
        await _audit(db, "proposal.draft", actor, proposal.id)
        return (await service.outs(db, [proposal], sessions_of, actor))[0]


async def _record_step(
    db: AsyncSession,
    proposal: Proposal,
    from_status: Status | None,
    to: Status,
    actor: Principal,
    now: Any,
    note: str | None = None,
) -> None:
    step = ProposalTransition(
        proposal_id=proposal.id,
        from_status=from_status,
        to_status=to,
        by_id=actor.id,
        at=now,
        note=note,
    )
    await store.add(db, step)


async def _audit(
    db: AsyncSession, action: str, actor: Principal, proposal_id: int, **detail: Any
) -> None:
    await audit.record(
        db,
        action,
        actor=actor,
        object_type="proposal",
        object_id=proposal_id,
        proposal_id=proposal_id,
        **detail,
    )


async def _own_draft(db: AsyncSession, actor: Principal, proposal_id: int) -> Proposal:
    """The actor's own draft, locked (404 if unseen, 403 if not the author, 409 once submitted)."""
    proposal = await service.visible(db, actor, proposal_id, lock=True)
    if proposal.author_id != actor.id:
        raise Forbidden(_("Only the proposal's author changes it while it is a draft."))
    if proposal.status is not Status.DRAFT:
        raise Conflict(
            _("The proposal is already submitted; staff handle it from here."),
            current=proposal.status.value,
        )
    return proposal


async def update_draft(
    database: Database,
    actor: Principal,
    proposal_id: int,
    patch: ProposalPatch,
    *,
    sessions_of: SessionsOf,
) -> ProposalOut:
    """The author changes the draft's text, suggestions, units, category or consent."""
    _staff_only(patch.model_fields_set, patch.model_dump())
    changes = patch.model_dump(include=patch.model_fields_set)
    async with database.transaction() as db:
        proposal = await _own_draft(db, actor, proposal_id)
        co_units = changes.get("co_unit_ids")
        if co_units is None:
            co_units = (await store.co_units_of(db, [proposal_id]))[proposal_id]
        lead = changes.get("lead_unit_id", proposal.lead_unit_id)
        if lead is not None and lead in co_units:
            raise Invalid(
                _("The lead unit cannot also be a co-handling unit."),
                errors=[field_error("lead_unit_id", _("also listed as a co-handling unit"))],
            )
        await service.check_references(db, changes)
        if "co_unit_ids" in changes:
            await store.set_co_units(db, proposal_id, changes.pop("co_unit_ids") or [])
        for name, value in changes.items():
            blank = name in ("summary", "situation") and value is None
            setattr(proposal, name, "" if blank else value)
        proposal.updated_at = utcnow()
        await db.flush()
        await _audit(db, "proposal.draft_update", actor, proposal_id, fields=sorted(changes))
        return (await service.outs(db, [proposal], sessions_of, actor))[0]


async def _check_invitees(db: AsyncSession, author_id: int, person_ids: Sequence[int]) -> None:
    people = await directory_store.people_by_ids(db, list(person_ids))
    errors = []
    for i, pid in enumerate(person_ids):
        if pid not in people:
            problem = _("there is no person with id {pid}", pid=pid)
        elif pid == author_id:
            problem = _("the author cannot co-sign their own proposal")
        elif people[pid].role not in DRAFTERS:
            problem = _("person {pid} is not a committee member", pid=pid)
        else:
            continue
        errors.append(field_error(f"person_ids.{i}", problem))
    if errors:
        raise Invalid(
            _(
                "Some invited people cannot co-sign: {problems}.",
                problems=tuple(e["message"] for e in errors),
            ),
            errors=errors,
        )


async def set_cosigners(
    database: Database,
    actor: Principal,
    proposal_id: int,
    body: CosignersIn,
    *,
    sessions_of: SessionsOf,
) -> ProposalOut:
    """The author sets whom the draft invites to co-sign; newly invited members are told."""
    async with database.transaction() as db:
        proposal = await _own_draft(db, actor, proposal_id)
        await _check_invitees(db, actor.id, body.person_ids)
        current = {
            c.person_id: c
            for c, _name in (await store.cosigners_of(db, [proposal_id]))[proposal_id]
        }
        for pid, row in current.items():
            if pid not in body.person_ids:
                await store.delete_row(db, row)
        new = [pid for pid in body.person_ids if pid not in current]
        for position, pid in enumerate(body.person_ids):
            found = current.get(pid)
            if found is None:
                found = Cosigner(
                    proposal_id=proposal_id,
                    person_id=pid,
                    position=position,
                    answer=CosignAnswer.INVITED,
                )
                await store.add(db, found)
            found.position = position
        proposal.updated_at = utcnow()
        await db.flush()
        await _audit(db, "proposal.cosigners", actor, proposal_id, person_ids=body.person_ids)
        await tidings.tell(db, "proposal.cosign_invited", proposal_id, new, author_id=actor.id)
        return (await service.outs(db, [proposal], sessions_of, actor))[0]


async def cosign(
    database: Database,
    actor: Principal,
    proposal_id: int,
    body: CosignIn,
    *,
    sessions_of: SessionsOf,
) -> ProposalOut:
    """An invited member accepts or declines, once, while the proposal is a draft."""
    async with database.transaction() as db:
        proposal = await service.visible(db, actor, proposal_id, lock=True)
        row = await store.cosigner(db, proposal_id, actor.id)
        if row is None:
            raise Forbidden(_("You are not invited to co-sign this proposal."))
        if proposal.status is not Status.DRAFT:
            raise Conflict(_("The proposal is already submitted; co-signing has closed."))
        if row.answer is not CosignAnswer.INVITED:
            raise Conflict(
                _(
                    "You have already answered this invitation ({answer}).",
                    answer=_("accepted") if row.answer is CosignAnswer.ACCEPTED else _("declined"),
                ),
                answer=row.answer.value,
            )
        row.answer = CosignAnswer(body.answer)
        row.answered_at = utcnow()
        await db.flush()
        await _audit(db, "proposal.cosign", actor, proposal_id, answer=body.answer)
        return (await service.outs(db, [proposal], sessions_of, actor))[0]


async def _check_window(db: AsyncSession) -> None:
    today = committee_today()
    window = await store.window(db, today.year)
    if window is None:
        raise Conflict(
            _(
                "Staff have not set the dates for submitting proposals in {year}; "
                "ask the proposals office.",
                year=today.year,
            ),
            year=today.year,
        )
    if not window.opens <= today <= window.closes:
        raise Conflict(
            _(
                "Proposals for {year} are accepted from {opens} to {closes}; today is {today}.",
                year=window.year,
                opens=window.opens.isoformat(),
                closes=window.closes.isoformat(),
                today=today.isoformat(),
            ),
            opens=window.opens.isoformat(),
            closes=window.closes.isoformat(),
        )


def _check_complete(proposal: Proposal) -> None:
    if not [s for s in proposal.suggestions or [] if s.strip()]:
        raise Invalid(
            _("Add at least one suggestion before submitting."),
            errors=[field_error("suggestions", _("at least one suggestion is needed"))],
        )


async def submit(
    database: Database, actor: Principal, proposal_id: int, *, sessions_of: SessionsOf
) -> SubmitOut:
    """The author submits the draft within the year's window: co-signers who accepted become
    proposers, the others are dropped and the author is told."""
    async with database.transaction() as db:
        proposal = await _own_draft(db, actor, proposal_id)
        _check_complete(proposal)
        await _check_window(db)
        invited = (await store.cosigners_of(db, [proposal_id]))[proposal_id]
        dropped = [(c, n) for c, n in invited if c.answer is not CosignAnswer.ACCEPTED]
        for row, _name in dropped:
            await store.delete_row(db, row)
        accepted = [c.person_id for c, _n in invited if c.answer is CosignAnswer.ACCEPTED]
        await store.set_proposers(db, proposal_id, [actor.id, *accepted])
        now = utcnow()
        await _record_step(db, proposal, Status.DRAFT, Status.SUBMITTED, actor, now)
        proposal.status, proposal.updated_at = Status.SUBMITTED, now
        await db.flush()
        await _audit(
            db, "proposal.submit", actor, proposal_id, dropped=[c.person_id for c, _n in dropped]
        )
        if dropped:
            await tidings.tell(
                db,
                "proposal.cosigners_dropped",
                proposal_id,
                [actor.id],
                person_ids=[c.person_id for c, _n in dropped],
            )
        out = (await service.outs(db, [proposal], sessions_of, actor))[0]
        return SubmitOut(
            **out.model_dump(),
            dropped_cosigners=[
                CosignerOut(person_id=c.person_id, name=n, answer=c.answer.value)
                for c, n in dropped
            ],
            message=submitted_message([n for _c, n in dropped]),
        )


def submitted_message(dropped: list[str]) -> Msg:
    """What the author is told on submitting (the route says it in the reader's language)."""
    if not dropped:
        return _("The proposal is submitted; the proposals office will review it.")
    return _(
        "The proposal is submitted. These invited co-signers had not accepted and are not on it: "
        "{names}.",
        names=tuple(dropped),
    )


# ---------------------------------------------------------------- submission windows


def _window_out(row: Window) -> WindowOut:
    today = committee_today()
    return WindowOut(
        year=row.year, opens=row.opens, closes=row.closes, open_now=row.opens <= today <= row.closes
    )


async def windows(database: Database, actor: Principal) -> WindowList:
    """Every year's submission window (anyone signed in: members see when they may submit)."""
    require_not_guest(actor)
    async with database.read() as db:
        rows = await store.windows(db)
        return WindowList(items=[_window_out(r) for r in rows], today=committee_today())


async def put_window(database: Database, actor: Principal, year: int, body: WindowIn) -> WindowOut:
    """Staff set a year's submission window."""
    require_staff(actor)
    if not 2000 <= year <= 2100:
        raise NotFound(_("No submission window for {year}: years 2000 to 2100 only.", year=year))
    if body.opens.year != year:
        raise Invalid(
            _("The window of {year} opens in {year}.", year=year),
            errors=[field_error("opens", _("not in {year}", year=year))],
        )
    async with database.transaction() as db:
        row = await store.window(db, year)
        if row is None:
            row = Window(year=year, opens=body.opens, closes=body.closes, updated_at=utcnow())
            await store.add(db, row)
        row.opens, row.closes, row.updated_at = body.opens, body.closes, utcnow()
        await db.flush()
        await audit.record(
            db,
            "proposal.window",
            actor=actor,
            object_type="submission_window",
            object_id=year,
            opens=body.opens.isoformat(),
            closes=body.closes.isoformat(),
        )
        return _window_out(row)
