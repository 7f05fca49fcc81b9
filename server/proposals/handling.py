"""Handling a proposal: files, the unit's reply, progress reports, two-way evaluation.

Who may do what:
- the lead unit replies (staff may enter a reply on its behalf); the reply moves the proposal
  from ``handling`` to ``replied``; one reply per handling round; when the proposal lists
  suggestions the reply answers each exactly once with a class (清单式答复: A adopted, B being
  solved with a commitment and date, C not now, D for reference);
- co-handling units send their opinions to the lead unit while the reply is awaited; the
  proposal's units, staff and leaders read them;
- the lead and co-handling units (and staff) report progress at any time while the proposal is
  being handled, and upload files;
- a proposer rates the handling once per round: ``satisfied`` or ``basically_satisfied`` moves
  the proposal to ``evaluated``; ``unsatisfied`` sends it back to ``handling`` for another
  round (recorded in its history) instead of closing it;
- the lead unit rates the proposal's quality once per round (two-way evaluation);
- both may score the staff's weighted criteria (``criteria.py``); when staff allow it, each
  co-signer evaluates the reply too, beside the proposer (it does not move the proposal).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import Principal, Role
from server.db import Database, utcnow
from server.directory import service as directory
from server.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from server.i18n import _
from server.proposals import criteria, files, store, tell
from server.proposals.handling_schemas import (
    AttachmentOut,
    AttachmentRulesOut,
    Commitment,
    EvaluationIn,
    EvaluationOut,
    HandlingOut,
    OnReply,
    OpinionIn,
    OpinionOut,
    ProgressIn,
    ProgressOut,
    QualityIn,
    ReplyGiven,
    ReplyIn,
    ReplyItemOut,
    ReplyOut,
)
from server.proposals.lifecycle import COMMITTEE_ZONE, STATUS_WORDS, Status
from server.proposals.models import (
    EVALUATION_KIND_WORDS,
    Attachment,
    CosignAnswer,
    Evaluation,
    EvaluationKind,
    Opinion,
    ProgressReport,
    Proposal,
    ProposalTransition,
    Reply,
    ReplyClass,
    ReplyItem,
)
from server.shapes import MAX_ID

ATTACHMENT_TYPES = frozenset(files.TYPES)
BEING_HANDLED = frozenset({Status.ASSIGNED, Status.HANDLING, Status.REPLIED, Status.EVALUATED})


async def _proposal(
    db: AsyncSession, actor: Principal, proposal_id: int, *, lock: bool = False
) -> Proposal:
    find = store.by_id_for_update if lock else store.by_id
    proposal = await find(db, proposal_id)
    if proposal is None or not await store.is_visible(db, proposal_id, actor):
        raise NotFound(
            _("There is no proposal {proposal_id} that you can see.", proposal_id=proposal_id)
        )
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


def attachment_rules(max_bytes: int) -> AttachmentRulesOut:
    """The accepted file types and sizes, as the upload checks them (pure)."""
    return AttachmentRulesOut.model_validate(
        {
            "max_bytes": max_bytes,
            "max_name_bytes": files.MAX_NAME_BYTES,
            "types": [
                {"media_type": kind, "words": t.words, "extensions": list(t.extensions)}
                for kind, t in files.TYPES.items()
            ],
        }
    )


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
            _(
                "Files of type {media_type} are not accepted; send PDF, OFD, "
                "Word, Excel, PowerPoint, PNG, JPEG or plain text.",
                media_type=media_type,
            ),
            errors=[field_error("(body)", _("file type not accepted"), "content_type")],
        )
    _check_content(media_type, data)
    async with database.transaction() as db:
        proposal = await _proposal(db, actor, proposal_id)
        own_draft = proposal.status is Status.DRAFT and proposal.author_id == actor.id
        if proposal.status is Status.DRAFT and not own_draft:
            raise Forbidden(_("Only the author adds files to a draft."))
        if not (own_draft or actor.is_staff or actor.unit_id in await _units(db, proposal)):
            raise Forbidden(_("Only the proposal's units and staff add files to it."))
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


def _check_content(declared: str, data: bytes) -> None:
    detected = files.content_mismatch(declared, data)
    if detected is None:
        return
    raise Invalid(
        _(
            "The file is sent as {declared} ({words_for}) but its "
            "content is {words_for2} ({detected}); send it with the "
            "Content-Type of what it is, or send the right file.",
            declared=declared,
            words_for=files.words_for(declared),
            words_for2=files.words_for(detected),
            detected=detected,
        ),
        errors=[
            field_error("(body)", _("content is {detected}", detected=detected), "content_mismatch")
        ],
        declared=declared,
        detected=detected,
    )


async def attachment(database: Database, actor: Principal, attachment_id: int) -> Attachment:
    """A file, for whoever may see its proposal."""
    async with database.read() as db:
        row = await store.attachment_by_id(db, attachment_id)
        if row is None or not await store.is_visible(db, row.proposal_id, actor):
            raise NotFound(
                _("There is no file {attachment_id} that you can see.", attachment_id=attachment_id)
            )
        return row


# ---------------------------------------------------------------- reply and progress


async def reply(
    database: Database,
    actor: Principal,
    proposal_id: int,
    body: ReplyIn,
    *,
    on_reply: Sequence[OnReply] = (),
) -> ReplyOut:
    """The lead unit's formal reply, item by item when the proposal lists suggestions: the
    proposal becomes ``replied``; then each hook of ``on_reply`` runs in the same transaction
    (follow-ups of class-B commitments; notifications to the proposers)."""
    async with database.transaction() as db:
        proposal = await _proposal(db, actor, proposal_id, lock=True)
        if not (actor.is_staff or _is_lead(actor, proposal)):
            raise Forbidden(_("Only the lead unit (or staff on its behalf) replies to a proposal."))
        if proposal.status is not Status.HANDLING:
            raise Conflict(
                _(
                    "A proposal that is {status} takes no reply; it must be "
                    "handling (the lead unit starts handling with a transition).",
                    status=STATUS_WORDS[proposal.status],
                )
            )
        _check_items(proposal, body, committee_day())
        files = (await store.attachments_of(db, [proposal_id]))[proposal_id]
        _check_files(files, body.attachment_ids)
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
        items = [
            ReplyItem(
                reply_id=row.id,
                suggestion=i.suggestion,
                reply_class=ReplyClass(i.reply_class),
                text=i.text,
                due=i.due,
            )
            for i in sorted(body.items, key=lambda i: i.suggestion)
        ]
        for item in items:
            await store.add(db, item)
        await _step(db, proposal, Status.REPLIED, actor, f"reply, round {proposal.round}")
        await tell.of_reply(db, proposal)
        given = _reply_given(proposal, row, items)
        for hook in on_reply:
            await hook(db, given)
        return _reply_out(row, items, files)


def committee_day() -> dt.date:
    """Today in the committee's zone (a promise cannot be due before it)."""
    return utcnow().astimezone(COMMITTEE_ZONE).date()


def _check_items(proposal: Proposal, body: ReplyIn, today: dt.date) -> None:
    """Each suggestion of the proposal answered exactly once, and no other (the shape has
    already refused an answer twice and a class B without its commitment)."""
    count = len(proposal.suggestions or [])
    errors = [
        field_error(
            f"items.{i}.suggestion",
            _("the proposal has no suggestion {n}", n=item.suggestion)
            if count
            else _("the proposal lists no suggestions; reply with text only"),
        )
        for i, item in enumerate(body.items)
        if item.suggestion > count
    ]
    errors += [
        field_error(f"items.{i}.due", _("the promised date {due} is past", due=item.due))
        for i, item in enumerate(body.items)
        if item.due is not None and item.due < today
    ]
    answered = {item.suggestion for item in body.items}
    missing = [n for n in range(1, count + 1) if n not in answered]
    if missing and not errors:
        errors.append(
            field_error(
                "items",
                _("answer every suggestion; not answered: {missing}", missing=missing),
            )
        )
    if errors and not count:
        raise Invalid(
            _("This proposal lists no suggestions: reply with text, without items."),
            errors=errors,
        )
    if errors:
        raise Invalid(
            _(
                "The reply answers the proposal's {count} suggestions item by item: {summary}.",
                count=count,
                summary=tuple(e["message"] for e in errors),
            ),
            errors=errors,
        )


def _check_files(files: Sequence[Attachment], ids: Sequence[int]) -> None:
    known = {a.id for a in files}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise Invalid(
            _(
                "Upload the files to this proposal first; unknown attachment ids: {unknown}.",
                unknown=unknown,
            ),
            errors=[
                field_error(
                    "attachment_ids",
                    _("not files of this proposal: {unknown}", unknown=unknown),
                )
            ],
        )


def _reply_given(proposal: Proposal, row: Reply, items: Sequence[ReplyItem]) -> ReplyGiven:
    return ReplyGiven(
        proposal_id=proposal.id,
        number=proposal.number or "",
        title=proposal.title,
        round=row.round,
        reply_id=row.id,
        lead_unit_id=row.unit_id,
        by_id=row.by_id,
        at=row.at,
        commitments=tuple(
            Commitment(suggestion=i.suggestion, text=i.text, due=i.due)
            for i in items
            if i.reply_class is ReplyClass.B and i.due is not None
        ),
    )


def _files_out(ids: Sequence[int], files: Sequence[Attachment]) -> list[AttachmentOut]:
    by_id = {a.id: a for a in files}
    return [AttachmentOut.model_validate(by_id[i]) for i in ids if i in by_id]


def _reply_out(row: Reply, items: Sequence[ReplyItem], files: Sequence[Attachment]) -> ReplyOut:
    return ReplyOut(
        id=row.id,
        proposal_id=row.proposal_id,
        round=row.round,
        unit_id=row.unit_id,
        text=row.text,
        items=[ReplyItemOut.model_validate(i) for i in items],
        attachments=_files_out(row.attachment_ids, files),
        by_id=row.by_id,
        at=row.at,
    )


# ---------------------------------------------------------------- co-handling units' opinions


async def add_opinion(
    database: Database, actor: Principal, proposal_id: int, body: OpinionIn
) -> OpinionOut:
    """A co-handling unit's opinion for the lead unit, while the reply is awaited."""
    async with database.transaction() as db:
        proposal = await _proposal(db, actor, proposal_id, lock=True)
        co = (await store.co_units_of(db, [proposal_id]))[proposal_id]
        if actor.role is not Role.UNIT or actor.unit_id not in co:
            raise Forbidden(
                _("Only the proposal's co-handling units send opinions to the lead unit.")
            )
        if proposal.status not in (Status.ASSIGNED, Status.HANDLING):
            raise Conflict(
                _(
                    "Opinions go to the lead unit before it replies; this proposal is {status}.",
                    status=STATUS_WORDS[proposal.status],
                )
            )
        files = (await store.attachments_of(db, [proposal_id]))[proposal_id]
        _check_files(files, body.attachment_ids)
        row = Opinion(
            proposal_id=proposal_id,
            round=proposal.round,
            unit_id=actor.unit_id,
            text=body.text,
            attachment_ids=list(body.attachment_ids),
            by_id=actor.id,
            at=utcnow(),
        )
        await store.add(db, row)
        await _audit(db, "proposal.opinion", actor, proposal_id, opinion_id=row.id)
        names = await directory.unit_names(db, [row.unit_id])
        await tell.of_opinion(db, proposal, row.unit_id, names.get(row.unit_id, ""))
        return _opinion_out(row, files, names)


def _opinion_out(row: Opinion, files: Sequence[Attachment], names: dict[int, str]) -> OpinionOut:
    return OpinionOut(
        id=row.id,
        proposal_id=row.proposal_id,
        round=row.round,
        unit_id=row.unit_id,
        unit_name=names.get(row.unit_id, ""),
        text=row.text,
        attachments=_files_out(row.attachment_ids, files),
        by_id=row.by_id,
        at=row.at,
    )


async def _reads_opinions(db: AsyncSession, actor: Principal | None, proposal: Proposal) -> bool:
    """Staff, leaders and the proposal's own units read the co-units' opinions."""
    if actor is None:
        return False
    if actor.reads_everything:
        return True
    return actor.role is Role.UNIT and actor.unit_id in await _units(db, proposal)


async def add_progress(
    database: Database, actor: Principal, proposal_id: int, body: ProgressIn
) -> ProgressOut:
    """A progress report by one of the proposal's units (or staff)."""
    async with database.transaction() as db:
        proposal = await _proposal(db, actor, proposal_id)
        if not actor.is_staff and actor.unit_id not in await _units(db, proposal):
            raise Forbidden(_("Only the proposal's units (and staff) report its progress."))
        if proposal.status not in BEING_HANDLED:
            raise Conflict(
                _(
                    "A proposal that is {status} is not being handled.",
                    status=STATUS_WORDS[proposal.status],
                )
            )
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
        await tell.of_progress(db, proposal, row.unit_id)
        return ProgressOut.model_validate(row)


async def progress_report(
    database: Database, actor: Principal, proposal_id: int, report_id: int
) -> ProgressOut:
    """One progress report (for showing it in a room)."""
    async with database.read() as db:
        await _proposal(db, actor, proposal_id)
        row = await store.progress_by_id(db, report_id)
        if row is None or row.proposal_id != proposal_id:
            raise NotFound(
                _(
                    "Proposal {proposal_id} has no progress report {report_id}.",
                    proposal_id=proposal_id,
                    report_id=report_id,
                )
            )
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


async def cosigner_ids(db: AsyncSession, proposal_id: int) -> set[int]:
    """The members who co-signed ``proposal_id`` and accepted (联名): proposers since the
    submission, but it is the author's evaluation that moves the proposal."""
    cosigners = (await store.cosigners_of(db, [proposal_id]))[proposal_id]
    return {c.person_id for c, _name in cosigners if c.answer is CosignAnswer.ACCEPTED}


async def evaluate(
    database: Database, actor: Principal, proposal_id: int, body: EvaluationIn
) -> EvaluationOut:
    """A proposer's verdict on the handling of this round; or, when staff let co-signers
    evaluate, a co-signer's (recorded beside it; it does not move the proposal)."""
    async with database.transaction() as db:
        proposal = await _proposal(db, actor, proposal_id, lock=True)
        proposers = {p.id for p in (await store.proposers_of(db, [proposal_id]))[proposal_id]}
        if actor.id not in proposers or actor.id in await cosigner_ids(db, proposal_id):
            return await _cosigner_evaluation(db, proposal, actor, body)
        if proposal.status is not Status.REPLIED:
            raise Conflict(
                _(
                    "A proposal is evaluated after the unit's reply; this one is {status}.",
                    status=STATUS_WORDS[proposal.status],
                )
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


async def _cosigner_evaluation(
    db: AsyncSession, proposal: Proposal, actor: Principal, body: EvaluationIn
) -> EvaluationOut:
    settings = await store.evaluation_settings(db)
    allowed = settings is not None and settings.cosigners_evaluate
    if not allowed or actor.id not in await cosigner_ids(db, proposal.id):
        raise Forbidden(_("Only the proposal's proposers evaluate its handling."))
    replies = (await store.replies_of(db, [proposal.id]))[proposal.id]
    if proposal.status not in (Status.REPLIED, Status.EVALUATED) or not replies:
        raise Conflict(
            _(
                "A proposal is evaluated after the unit's reply; this one is {status}.",
                status=STATUS_WORDS[proposal.status],
            )
        )
    row = await _evaluation(
        db,
        proposal,
        EvaluationKind.HANDLING,
        actor,
        body,
        max(r.round for r in replies),
        as_cosigner=True,
    )
    return EvaluationOut.model_validate(row)


async def rate_quality(
    database: Database, actor: Principal, proposal_id: int, body: QualityIn
) -> EvaluationOut:
    """The lead unit's rating of the proposal's quality, once per round, after its reply."""
    async with database.transaction() as db:
        proposal = await _proposal(db, actor, proposal_id, lock=True)
        if not _is_lead(actor, proposal):
            raise Forbidden(_("Only the lead unit rates a proposal's quality."))
        replies = (await store.replies_of(db, [proposal_id]))[proposal_id]
        if not replies:
            raise Conflict(_("Rate the proposal's quality after your reply."))
        row = await _evaluation(
            db, proposal, EvaluationKind.QUALITY, actor, body, max(r.round for r in replies)
        )
        return EvaluationOut.model_validate(row)


async def _scored(
    db: AsyncSession, kind: EvaluationKind, body: EvaluationIn | QualityIn
) -> tuple[list[dict[str, Any]] | None, float | None]:
    """The scores of ``body`` checked against the criteria of ``kind``, and their total."""
    if body.scores is None:
        return None, None
    rows = await store.criteria(db, kind)
    listed = [criteria.Criterion(c.id, c.name, c.weight, c.max) for c in rows]
    given = [criteria.Given(s.criterion_id, s.score) for s in body.scores]
    criteria.check(listed, given)
    return criteria.snapshot(listed, given), criteria.total(listed, given)


async def _evaluation(
    db: AsyncSession,
    proposal: Proposal,
    kind: EvaluationKind,
    actor: Principal,
    body: EvaluationIn | QualityIn,
    round_: int,
    *,
    as_cosigner: bool = False,
) -> Evaluation:
    done = (await store.evaluations_of(db, [proposal.id]))[proposal.id]
    same = [e for e in done if e.kind is kind and e.round == round_]
    if as_cosigner and any(e.by_id == actor.id for e in same):
        raise Conflict(_("You have already evaluated the reply of round {round_}.", round_=round_))
    if not as_cosigner and any(not e.as_cosigner for e in same):
        raise Conflict(
            _(
                "This proposal already has {kind} for round {round_}.",
                kind=EVALUATION_KIND_WORDS[kind],
                round_=round_,
            )
        )
    scores, score = await _scored(db, kind, body)
    row = Evaluation(
        proposal_id=proposal.id,
        round=round_,
        kind=kind,
        verdict=body.verdict,
        comment=body.comment,
        scores=scores,
        score=score,
        as_cosigner=as_cosigner,
        by_id=actor.id,
        at=utcnow(),
    )
    await store.add(db, row)
    await _audit(
        db, f"proposal.{kind.value}", actor, proposal.id, verdict=body.verdict, score=score
    )
    return row


# ---------------------------------------------------------------- reading


async def handling(database: Database, actor: Principal, proposal_id: int) -> HandlingOut:
    """A proposal's replies, progress reports, evaluations and files."""
    async with database.read() as db:
        proposal = await _proposal(db, actor, proposal_id)
        return await handling_of(db, proposal, actor)


async def handling_of(
    db: AsyncSession, proposal: Proposal, actor: Principal | None = None
) -> HandlingOut:
    """The handling of ``proposal``; the co-units' opinions only for ``actor`` if they may
    read them."""
    files = (await store.attachments_of(db, [proposal.id]))[proposal.id]
    replies = (await store.replies_of(db, [proposal.id]))[proposal.id]
    items = await store.reply_items_of(db, [r.id for r in replies])
    opinions: list[OpinionOut] = []
    if await _reads_opinions(db, actor, proposal):
        rows = (await store.opinions_of(db, [proposal.id]))[proposal.id]
        names = await directory.unit_names(db, sorted({o.unit_id for o in rows}))
        opinions = [_opinion_out(o, files, names) for o in rows]
    return HandlingOut(
        proposal_id=proposal.id,
        round=proposal.round,
        replies=[_reply_out(r, items[r.id], files) for r in replies],
        opinions=opinions,
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
