"""Follow-up (督办) of action items from approved minutes and of units' reply commitments.

When a session's minutes are approved, each action item in them becomes (or updates) a
follow-up: what, which unit owns it, by when, for which proposal. A later approval of corrected
minutes updates the same follow-ups (matched by session, agenda item and position) and cancels
those the correction removed. Owner units report an item done; staff may also cancel or reopen.
A unit's itemised reply that puts a suggestion in class B (being solved, with a commitment and
a date) adds a follow-up for it, owned by the lead unit (``follow_reply_commitments``).
Open items past their due date are overdue: listed with ``overdue=true`` and their owner unit's
people reminded by email (``server/record/reminders.py``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import Principal, Role
from server.db import Database, utcnow
from server.directory import service as directory
from server.errors import Forbidden, NotFound
from server.i18n import _
from server.proposals import service as proposals
from server.proposals.handling_schemas import ReplyGiven
from server.record import store
from server.record.models import FollowUp, FollowUpStatus
from server.record.schemas import FollowUpList, FollowUpOut, FollowUpPatch, FollowUpQuery

REMOVED_NOTE = "removed from the corrected minutes"


def today(zone: str) -> dt.date:
    return utcnow().astimezone(zoneinfo.ZoneInfo(zone)).date()


INSTRUCTION = "instruction:"  # the source of a follow-up of a leader's instruction


def instruction_of(row: FollowUp) -> int | None:
    """The id of the instruction ``row`` follows up, if it follows one up."""
    return int(row.source.removeprefix(INSTRUCTION)) if row.source.startswith(INSTRUCTION) else None


def follow_up_out(row: FollowUp, day: dt.date) -> FollowUpOut:
    overdue = row.status is FollowUpStatus.OPEN and row.due is not None and row.due < day
    return FollowUpOut(
        id=row.id,
        session_id=row.session_id,
        instruction_id=instruction_of(row),
        proposal_id=row.proposal_id,
        owner_unit_id=row.owner_unit_id,
        text=row.text,
        due=row.due,
        status=row.status,
        overdue=overdue,
        note=row.note,
        created_at=row.created_at,
        updated_at=row.updated_at,
        done_at=row.done_at,
        reminded_at=row.reminded_at,
    )


async def sync_from_minutes(
    db: AsyncSession, session_id: int, content: dict[str, Any], now: dt.datetime
) -> list[int]:
    """Make the follow-ups of approved minutes match their action items (caller's
    transaction); returns the ids of the follow-ups that are open for them."""
    existing = {f.source: f for f in await store.follow_ups_of_session(db, session_id)}
    seen: list[int] = []
    known = await proposals.existing_ids(
        db,
        [
            a["proposal_id"]
            for item in content.get("items", [])
            for a in item.get("actions", [])
            if a.get("proposal_id")
        ],
    )
    units = await directory.unit_names(
        db,
        [
            a["owner_unit_id"]
            for item in content.get("items", [])
            for a in item.get("actions", [])
            if a.get("owner_unit_id")
        ],
    )
    known |= await proposals.existing_ids(
        db, [i for item in content.get("items", []) for i in item.get("proposal_ids", [])[:1]]
    )
    for i, item in enumerate(content.get("items", []), start=1):
        fallback = item.get("proposal_ids", [None])[0] if item.get("proposal_ids") else None
        for k, action in enumerate(item.get("actions", []), start=1):
            # By the room's id for the item when it has one (a correction that removes or adds
            # items keeps each follow-up on its own item), else by its place.
            ref = action.get("ref")
            source = f"{session_id}:r{ref}" if ref else f"{session_id}:{i}:{k}"
            proposal_id = action.get("proposal_id") or fallback
            fields = {
                "text": action["text"],
                "owner_unit_id": action.get("owner_unit_id")
                if action.get("owner_unit_id") in units
                else None,
                "due": dt.date.fromisoformat(action["due"]) if action.get("due") else None,
                "proposal_id": proposal_id
                if proposal_id in known or proposal_id == fallback
                else None,
            }
            row = existing.pop(source, None)
            if row is None:
                row = FollowUp(
                    source=source,
                    session_id=session_id,
                    status=FollowUpStatus.OPEN,
                    created_at=now,
                    updated_at=now,
                    **fields,
                )
                await store.add(db, row)
            else:
                for name, value in fields.items():
                    setattr(row, name, value)
                if row.status is FollowUpStatus.CANCELLED and row.note == REMOVED_NOTE:
                    row.status, row.note = FollowUpStatus.OPEN, None  # back in the minutes
                row.updated_at = now
            seen.append(row.id)
    for gone in existing.values():  # removed by a correction
        if gone.status is FollowUpStatus.OPEN:
            gone.status, gone.updated_at = FollowUpStatus.CANCELLED, now
            gone.note = REMOVED_NOTE
    return seen


def reply_source(proposal_id: int, round_: int, suggestion: int) -> str:
    """The follow-up's ``source`` for a class-B item of a reply."""
    return f"reply:{proposal_id}:{round_}:{suggestion}"


async def follow_reply_commitments(db: AsyncSession, event: ReplyGiven) -> None:
    """A reply's class-B commitments become follow-ups owned by the lead unit, due when
    promised (a hook of the proposals' reply, run in its transaction)."""
    for c in event.commitments:
        await store.add(
            db,
            FollowUp(
                source=reply_source(event.proposal_id, event.round, c.suggestion),
                session_id=None,
                proposal_id=event.proposal_id,
                owner_unit_id=event.lead_unit_id,
                text=c.text,
                due=c.due,
                status=FollowUpStatus.OPEN,
                created_at=event.at,
                updated_at=event.at,
            ),
        )


async def _scope(db: AsyncSession, actor: Principal) -> dict[str, Any]:
    if actor.reads_everything:
        return {}
    if actor.role is Role.UNIT and actor.unit_id is not None:
        return {"unit_id": actor.unit_id}
    if actor.role is Role.MEMBER:
        return {"proposal_ids": await proposals.ids_proposed_by(db, actor.id)}
    raise Forbidden(_("Follow-ups are for staff, leaders, units and proposers."))


async def list_follow_ups(
    database: Database, actor: Principal, query: FollowUpQuery, zone: str
) -> FollowUpList:
    """Follow-ups the actor may see: staff and leaders all, a unit its own, a member those
    of their proposals."""
    day = today(zone)
    async with database.read() as db:
        filters = {
            **query.model_dump(include={"status", "unit_id", "proposal_id"}, exclude_none=True),
            **await _scope(db, actor),
        }
        if query.overdue is not None:
            filters["overdue_before" if query.overdue else "not_overdue_before"] = day
        rows, total = await store.search_follow_ups(db, filters, query.limit, query.offset)
    return FollowUpList(items=[follow_up_out(r, day) for r in rows], total=total)


async def _sees(db: AsyncSession, actor: Principal, row: FollowUp) -> bool:
    """Whether ``actor`` finds ``row`` in their list (so may be told 403 rather than 404)."""
    if actor.reads_everything:
        return True
    if actor.role is Role.UNIT:
        return actor.unit_id is not None and actor.unit_id == row.owner_unit_id
    if actor.role is Role.MEMBER and row.proposal_id is not None:
        return await proposals.is_proposer(db, row.proposal_id, actor.id)
    return False


async def update_follow_up(
    database: Database, actor: Principal, follow_up_id: int, body: FollowUpPatch, zone: str
) -> FollowUpOut:
    """The owner unit reports an item done; staff set any status."""
    async with database.transaction() as db:
        row = await store.follow_up_by_id(db, follow_up_id)
        if row is None or not await _sees(db, actor, row):
            raise NotFound(
                _(
                    "There is no follow-up {follow_up_id} that you can see.",
                    follow_up_id=follow_up_id,
                )
            )
        if not actor.is_staff and body.status is not FollowUpStatus.DONE:
            raise Forbidden(_("Your unit can report the item done; only staff cancel or reopen."))
        if not actor.is_staff and actor.role is not Role.UNIT:
            raise Forbidden(_("Only the owner unit and staff update follow-ups."))
        now = utcnow()
        row.status, row.updated_at = body.status, now
        row.done_at = now if body.status is FollowUpStatus.DONE else None
        if body.note is not None:
            row.note = body.note
        return follow_up_out(row, today(zone))
