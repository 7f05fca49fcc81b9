"""Selection rounds (优秀提案评选): staff open a round for a year with weighted criteria,
reviewers and candidate proposals; each reviewer scores each candidate (and may revise until
the round is published); the ranking is computed (``ranking.py``); staff publish the chosen
list, which freezes every score.

Who sees what: staff and leaders every round and its ranking; a reviewer the rounds they score
(their own scores, not the ranking, until it is published); everyone signed in the published
rounds and their ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import Principal, Role, require_not_guest, require_staff
from server.db import Database, utcnow
from server.directory import service as directory
from server.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from server.i18n import _
from server.proposals import service as proposals
from server.selection import store
from server.selection.models import Selection, SelectionScore, SelectionStatus
from server.selection.ranking import Criterion, rank, sheet_score
from server.selection.schemas import (
    CandidateOut,
    CriterionOut,
    PublishIn,
    RankingOut,
    RankingRow,
    ReviewerOut,
    ScoreOut,
    ScoresIn,
    SelectionBrief,
    SelectionCreate,
    SelectionList,
    SelectionOut,
    SelectionQuery,
)

REVIEWER_ROLES = frozenset({Role.MEMBER, Role.LEADER, Role.STAFF})


def _criteria(row: Selection) -> list[Criterion]:
    return [Criterion(c["name"], c["weight"], c["max"]) for c in row.criteria]


def _round(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _missing(selection_id: int) -> NotFound:
    return NotFound(
        _("There is no selection round {selection_id} that you can see.", selection_id=selection_id)
    )


async def _visible(
    db: AsyncSession, actor: Principal, selection_id: int, *, lock: bool = False
) -> tuple[Selection, list[int]]:
    require_not_guest(actor)
    find = store.by_id_for_update if lock else store.by_id
    row = await find(db, selection_id)
    if row is None:
        raise _missing(selection_id)
    reviewers = (await store.reviewers_of(db, [row.id]))[row.id]
    published = row.status is SelectionStatus.PUBLISHED
    if not (actor.reads_everything or published or actor.id in reviewers):
        raise _missing(selection_id)
    return row, reviewers


# ---------------------------------------------------------------- open a round


async def _reference_errors(db: AsyncSession, body: SelectionCreate) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    people = await directory.briefs_of(db, body.reviewer_ids)
    for i, pid in enumerate(body.reviewer_ids):
        if pid not in people:
            errors.append(
                field_error(f"reviewer_ids.{i}", _("there is no person with id {pid}", pid=pid))
            )
        elif people[pid].role not in REVIEWER_ROLES:
            errors.append(
                field_error(
                    f"reviewer_ids.{i}",
                    _("person {pid} cannot review: only members, leaders and staff", pid=pid),
                )
            )
    found = await proposals.existing_ids(db, body.proposal_ids)
    for i, pid in enumerate(body.proposal_ids):
        if pid not in found:
            errors.append(
                field_error(f"proposal_ids.{i}", _("there is no proposal with id {pid}", pid=pid))
            )
    return errors


def _raise_if(errors: list[dict[str, Any]]) -> None:
    if errors:
        raise Invalid(
            _(
                "Some referenced records do not exist or do not fit: {summary}",
                summary=tuple(
                    _("{field}: {message}", field=e["field"], message=e["message"])
                    for e in errors[:5]
                ),
            )
            + ".",
            errors=errors,
        )


async def create(database: Database, actor: Principal, body: SelectionCreate) -> SelectionOut:
    """Staff open a round."""
    require_staff(actor)
    async with database.transaction() as db:
        _raise_if(await _reference_errors(db, body))
        row = Selection(
            year=body.year,
            title=body.title or f"{body.year}年度优秀提案评选",
            criteria=[c.model_dump() for c in body.criteria],
            status=SelectionStatus.OPEN,
            created_by_id=actor.id,
            created_at=utcnow(),
            published_at=None,
        )
        await store.add(db, row)
        await store.add_members(db, row.id, body.reviewer_ids, body.proposal_ids)
        await audit.record(
            db,
            "selection.create",
            actor=actor,
            object_type="selection",
            object_id=row.id,
            year=body.year,
            candidates=len(body.proposal_ids),
            reviewers=len(body.reviewer_ids),
        )
        return await _out(db, actor, row, body.reviewer_ids)


# ---------------------------------------------------------------- read


async def _reviewer_outs(
    db: AsyncSession, reviewers: Sequence[int], scores: Sequence[SelectionScore]
) -> list[ReviewerOut]:
    names = await directory.names_of(db, reviewers)
    done: dict[int, int] = dict.fromkeys(reviewers, 0)
    for s in scores:
        if s.reviewer_id in done:
            done[s.reviewer_id] += 1
    return [ReviewerOut(id=r, name=names.get(r, ""), scored=done[r]) for r in reviewers]


async def _out(
    db: AsyncSession, actor: Principal, row: Selection, reviewers: Sequence[int]
) -> SelectionOut:
    candidates = (await store.candidates_of(db, [row.id]))[row.id]
    cards = await proposals.cards(db, [c.proposal_id for c in candidates])
    scores = await store.scores_of(db, row.id)
    mine = {s.proposal_id: list(s.scores) for s in scores if s.reviewer_id == actor.id}
    return SelectionOut(
        id=row.id,
        year=row.year,
        title=row.title,
        status=row.status,
        criteria=[CriterionOut.model_validate(c) for c in row.criteria],
        reviewers=await _reviewer_outs(db, reviewers, scores),
        candidates=[
            CandidateOut(
                proposal_id=c.proposal_id,
                number=cards[c.proposal_id].number,
                title=cards[c.proposal_id].title,
                summary=cards[c.proposal_id].summary,
                category=cards[c.proposal_id].category,
                chosen=c.chosen,
                my_scores=mine.get(c.proposal_id),
            )
            for c in candidates
            if c.proposal_id in cards
        ],
        is_reviewer=actor.id in reviewers,
        created_at=row.created_at,
        published_at=row.published_at,
    )


async def get(database: Database, actor: Principal, selection_id: int) -> SelectionOut:
    """One round with its criteria, reviewers' progress and candidates."""
    async with database.read() as db:
        row, reviewers = await _visible(db, actor, selection_id)
        return await _out(db, actor, row, reviewers)


async def list_rounds(database: Database, actor: Principal, query: SelectionQuery) -> SelectionList:
    """The rounds the actor may see, newest year first."""
    require_not_guest(actor)
    async with database.read() as db:
        rows = await store.listed(db, query.year, None if actor.reads_everything else actor.id)
        ids = [r.id for r in rows]
        reviewers = await store.reviewers_of(db, ids)
        candidates = await store.candidates_of(db, ids)
        mine = await store.scored_counts(db, ids, actor.id)
        return SelectionList(
            items=[
                SelectionBrief(
                    id=r.id,
                    year=r.year,
                    title=r.title,
                    status=r.status,
                    candidates=len(candidates[r.id]),
                    reviewers=len(reviewers[r.id]),
                    is_reviewer=actor.id in reviewers[r.id],
                    my_scored=mine[r.id],
                    created_at=r.created_at,
                    published_at=r.published_at,
                )
                for r in rows
            ]
        )


# ---------------------------------------------------------------- score


def _score_errors(criteria: Sequence[Criterion], scores: Sequence[int]) -> list[dict[str, Any]]:
    if len(scores) != len(criteria):
        return [
            field_error(
                "scores",
                _(
                    "give one score per criterion: {expected}, not {given}",
                    expected=len(criteria),
                    given=len(scores),
                ),
            )
        ]
    return [
        field_error(
            f"scores.{i}",
            _(
                "{name} is scored from 0 to {max}, not {score}",
                name=c.name,
                max=c.max,
                score=s,
            ),
        )
        for i, (c, s) in enumerate(zip(criteria, scores, strict=True))
        if not 0 <= s <= c.max
    ]


async def score(
    database: Database, actor: Principal, selection_id: int, body: ScoresIn
) -> ScoreOut:
    """A reviewer scores one candidate (again: the new scores replace the old) while open."""
    async with database.transaction() as db:
        row, reviewers = await _visible(db, actor, selection_id, lock=True)
        if actor.id not in reviewers:
            raise Forbidden(_("Only the round's reviewers may score its proposals."))
        if row.status is SelectionStatus.PUBLISHED:
            raise Conflict(_("The round is published; its scores are final."))
        candidates = {c.proposal_id for c in (await store.candidates_of(db, [row.id]))[row.id]}
        if body.proposal_id not in candidates:
            raise Invalid(
                _(
                    "Proposal {proposal_id} is not a candidate of this round.",
                    proposal_id=body.proposal_id,
                ),
                errors=[field_error("proposal_id", _("not a candidate of this round"))],
            )
        criteria = _criteria(row)
        errors = _score_errors(criteria, body.scores)
        if errors:
            raise Invalid(
                _(
                    "The scores do not fit the round's criteria: {summary}.",
                    summary=tuple(e["message"] for e in errors[:5]),
                ),
                errors=errors,
            )
        found = await store.score_of(db, row.id, body.proposal_id, actor.id)
        now = utcnow()
        if found is None:
            found = SelectionScore(
                selection_id=row.id,
                proposal_id=body.proposal_id,
                reviewer_id=actor.id,
                scores=list(body.scores),
                at=now,
            )
            await store.add(db, found)
        else:
            found.scores, found.at = list(body.scores), now
        await audit.record(
            db,
            "selection.score",
            actor=actor,
            object_type="selection",
            object_id=row.id,
            proposal_id=body.proposal_id,
        )
        return ScoreOut(
            selection_id=row.id,
            proposal_id=body.proposal_id,
            reviewer_id=actor.id,
            scores=list(body.scores),
            weighted=round(float(sheet_score(criteria, body.scores)), 2),
            at=now,
        )


# ---------------------------------------------------------------- rank, publish


@dataclass(frozen=True)
class Sheet:
    """One reviewer's scores of one candidate, for the exports' detail."""

    reviewer: str
    number: str
    title: str
    scores: list[int]
    weighted: float


async def _ranking(db: AsyncSession, row: Selection, reviewers: Sequence[int]) -> RankingOut:
    candidates = (await store.candidates_of(db, [row.id]))[row.id]
    cards = await proposals.cards(db, [c.proposal_id for c in candidates])
    scores = await store.scores_of(db, row.id)
    sheets: dict[int, dict[int, list[int]]] = {}
    for s in scores:
        sheets.setdefault(s.proposal_id, {})[s.reviewer_id] = list(s.scores)
    reviewer_outs = await _reviewer_outs(db, reviewers, scores)
    names = {r.id: r.name for r in reviewer_outs}
    chosen = {c.proposal_id for c in candidates if c.chosen}
    ranked = rank(
        _criteria(row), [c.proposal_id for c in candidates if c.proposal_id in cards], sheets
    )
    return RankingOut(
        selection_id=row.id,
        year=row.year,
        title=row.title,
        status=row.status,
        criteria=[CriterionOut.model_validate(c) for c in row.criteria],
        reviewers=reviewer_outs,
        rows=[
            RankingRow(
                rank=r.rank,
                tied=r.tied,
                proposal_id=r.proposal_id,
                number=cards[r.proposal_id].number,
                title=cards[r.proposal_id].title,
                score=_round(r.score),
                criteria=[_round(m) for m in r.criteria],
                scored_by=len(r.scored_by),
                not_scored_by=[names[x] for x in reviewers if x not in r.scored_by],
                chosen=r.proposal_id in chosen,
            )
            for r in ranked
        ],
    )


def _may_rank(actor: Principal, row: Selection) -> None:
    if not (actor.reads_everything or row.status is SelectionStatus.PUBLISHED):
        raise Forbidden(_("The ranking is for staff and leaders until the round is published."))


async def ranking(database: Database, actor: Principal, selection_id: int) -> RankingOut:
    """The round's ranking (staff and leaders; everyone once published)."""
    async with database.read() as db:
        row, reviewers = await _visible(db, actor, selection_id)
        _may_rank(actor, row)
        return await _ranking(db, row, reviewers)


async def publish(
    database: Database, actor: Principal, selection_id: int, body: PublishIn
) -> RankingOut:
    """Staff publish the chosen list; from then on the scores are final."""
    require_staff(actor)
    async with database.transaction() as db:
        row, reviewers = await _visible(db, actor, selection_id, lock=True)
        if row.status is SelectionStatus.PUBLISHED:
            raise Conflict(_("The round is already published."))
        candidates = {c.proposal_id for c in (await store.candidates_of(db, [row.id]))[row.id]}
        errors = [
            field_error(f"proposal_ids.{i}", _("not a candidate of this round"))
            for i, pid in enumerate(body.proposal_ids)
            if pid not in candidates
        ]
        if errors:
            raise Invalid(_("Only the round's candidates can be chosen."), errors=errors)
        await store.choose(db, row.id, body.proposal_ids)
        row.status, row.published_at = SelectionStatus.PUBLISHED, utcnow()
        await audit.record(
            db,
            "selection.publish",
            actor=actor,
            object_type="selection",
            object_id=row.id,
            chosen=list(body.proposal_ids),
        )
        await db.flush()
        return await _ranking(db, row, reviewers)


async def export(
    database: Database, actor: Principal, selection_id: int
) -> tuple[RankingOut, list[Sheet]]:
    """The ranking and every reviewer's sheet, for the .xlsx and .docx exports."""
    async with database.transaction() as db:
        row, reviewers = await _visible(db, actor, selection_id)
        _may_rank(actor, row)
        out = await _ranking(db, row, reviewers)
        names = {r.id: r.name for r in out.reviewers}
        by_id = {r.proposal_id: r for r in out.rows}
        criteria = _criteria(row)
        sheets = [
            Sheet(
                reviewer=names.get(s.reviewer_id, ""),
                number=by_id[s.proposal_id].number,
                title=by_id[s.proposal_id].title,
                scores=list(s.scores),
                weighted=round(float(sheet_score(criteria, s.scores)), 2),
            )
            for s in await store.scores_of(db, row.id)
            if s.proposal_id in by_id
        ]
        await audit.record(
            db, "selection.export", actor=actor, object_type="selection", object_id=row.id
        )
        return out, sheets
