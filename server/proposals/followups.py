"""Follow-up (督办) of action items from approved minutes.

When a session's minutes are approved, each action item in them becomes (or updates) a
follow-up: what, which unit owns it, by when, for which proposal. A later approval of corrected
minutes updates the same follow-ups (matched by session, agenda item and position) and cancels
those the correction removed. Owner units report an item done; staff may also cancel or reopen.
Open items past their due date are overdue: listed with ``overdue=true`` and their owner unit's
people reminded by email through the outbox, at most once a day per item.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import zoneinfo
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server import mail
from server.auth import Principal, Role, require_staff
from server.db import Database, utcnow
from server.directory import store as directory_store
from server.errors import Forbidden, NotFound
from server.proposals import store
from server.proposals.handling_schemas import (
    FollowUpList,
    FollowUpOut,
    FollowUpPatch,
    FollowUpQuery,
    RemindOut,
)
from server.proposals.models import FollowUp, FollowUpStatus

REMIND_EVERY = dt.timedelta(days=1)
REMOVED_NOTE = "removed from the corrected minutes"
log = logging.getLogger(__name__)


def today(zone: str) -> dt.date:
    return utcnow().astimezone(zoneinfo.ZoneInfo(zone)).date()


def follow_up_out(row: FollowUp, day: dt.date) -> FollowUpOut:
    overdue = row.status is FollowUpStatus.OPEN and row.due is not None and row.due < day
    return FollowUpOut(
        id=row.id,
        session_id=row.session_id,
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
    known = await store.existing_ids(
        db,
        [
            a["proposal_id"]
            for item in content.get("items", [])
            for a in item.get("actions", [])
            if a.get("proposal_id")
        ],
    )
    units = await directory_store.units_by_ids(
        db,
        [
            a["owner_unit_id"]
            for item in content.get("items", [])
            for a in item.get("actions", [])
            if a.get("owner_unit_id")
        ],
    )
    known |= await store.existing_ids(
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


def _scope(actor: Principal) -> dict[str, Any]:
    if actor.reads_everything:
        return {}
    if actor.role is Role.UNIT and actor.unit_id is not None:
        return {"unit_id": actor.unit_id}
    if actor.role is Role.MEMBER:
        return {"proposer_id": actor.id}
    raise Forbidden("Follow-ups are for staff, leaders, units and proposers.")


async def list_follow_ups(
    database: Database, actor: Principal, query: FollowUpQuery, zone: str
) -> FollowUpList:
    """Follow-ups the actor may see: staff and leaders all, a unit its own, a member those
    of their proposals."""
    day = today(zone)
    filters = {
        **query.model_dump(include={"status", "unit_id", "proposal_id"}, exclude_none=True),
        **_scope(actor),
    }
    if query.overdue is not None:
        filters["overdue_before" if query.overdue else "not_overdue_before"] = day
    async with database.read() as db:
        rows, total = await store.search_follow_ups(db, filters, query.limit, query.offset)
    return FollowUpList(items=[follow_up_out(r, day) for r in rows], total=total)


async def _sees(db: AsyncSession, actor: Principal, row: FollowUp) -> bool:
    """Whether ``actor`` finds ``row`` in their list (so may be told 403 rather than 404)."""
    if actor.reads_everything:
        return True
    if actor.role is Role.UNIT:
        return actor.unit_id is not None and actor.unit_id == row.owner_unit_id
    if actor.role is Role.MEMBER and row.proposal_id is not None:
        proposers = (await store.proposers_of(db, [row.proposal_id]))[row.proposal_id]
        return any(p.id == actor.id for p in proposers)
    return False


async def update_follow_up(
    database: Database, actor: Principal, follow_up_id: int, body: FollowUpPatch, zone: str
) -> FollowUpOut:
    """The owner unit reports an item done; staff set any status."""
    async with database.transaction() as db:
        row = await store.follow_up_by_id(db, follow_up_id)
        if row is None or not await _sees(db, actor, row):
            raise NotFound(f"There is no follow-up {follow_up_id} that you can see.")
        if not actor.is_staff and body.status is not FollowUpStatus.DONE:
            raise Forbidden("Your unit can report the item done; only staff cancel or reopen.")
        if not actor.is_staff and actor.role is not Role.UNIT:
            raise Forbidden("Only the owner unit and staff update follow-ups.")
        now = utcnow()
        row.status, row.updated_at = body.status, now
        row.done_at = now if body.status is FollowUpStatus.DONE else None
        if body.note is not None:
            row.note = body.note
        return follow_up_out(row, today(zone))


async def remind_overdue(
    database: Database, actor: Principal | None, *, zone: str, sender: str
) -> RemindOut:
    """Queue a reminder to the owner unit of each overdue item not reminded in the last day.
    ``actor`` None: the server's own schedule."""
    if actor is not None:
        require_staff(actor)
    now, day = utcnow(), today(zone)
    reminded: list[int] = []
    async with database.transaction() as db:
        rows, _ = await store.search_follow_ups(db, {"overdue_before": day}, 1000, 0)
        people = await store.unit_people(
            db, sorted({r.owner_unit_id for r in rows if r.owner_unit_id})
        )
        proposals = sorted({r.proposal_id for r in rows if r.proposal_id})
        titles = await store.titles(db, proposals)
        supervisors = await store.supervisors(db, proposals)
        for row in rows:
            if row.reminded_at is not None and now - row.reminded_at < REMIND_EVERY:
                continue
            recipients = people.get(row.owner_unit_id or 0, [])
            if recipients and row.proposal_id in supervisors:  # the supervising leader: a copy
                recipients = [*recipients, supervisors[row.proposal_id]]
            for person_id, name, email in recipients:
                try:
                    message = _reminder(
                        row, name, email, sender, titles.get(row.proposal_id or 0), now
                    )
                except ValueError:  # e.g. an address the email library refuses
                    log.exception("cannot remind %s about follow-up %s", email, row.id)
                    continue
                mail.enqueue(
                    db,
                    recipient=email,
                    method="NOTICE",
                    subject=str(message["Subject"]),
                    message=message.as_bytes(),
                    session_id=row.session_id,
                    person_id=person_id,
                    now=now,
                )
            if recipients:
                row.reminded_at = now
                reminded.append(row.id)
    return RemindOut(reminded=len(reminded), follow_up_ids=reminded)


def _reminder(
    row: FollowUp, name: str, email: str, sender: str, proposal: str | None, now: dt.datetime
) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = email
    summary = " ".join(row.text.split())[:60]  # a header holds no line breaks
    msg["Subject"] = f"督办提醒：{summary}（已逾期）"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or "xieshang.local")
    msg["Auto-Submitted"] = "auto-generated"
    lines = [
        f"{name}：",
        "",
        "以下落实事项已超过完成时限，请尽快办理并在系统中反馈：",
        f"  事项：{row.text}",
        f"  完成时限：{row.due.isoformat() if row.due else '未定'}",
    ]
    if proposal:
        lines.append(f"  关联提案：{proposal}")
    lines += ["", f"Overdue action item (follow-up #{row.id}); please report it done in xieshang."]
    msg.set_content("\n".join(lines), charset="utf-8")
    return msg


class ReminderLoop:
    """Runs :func:`remind_overdue` every ``every`` seconds until stopped (by flag, so a
    shutdown never waits on a cancelled ``wait_for``)."""

    def __init__(self, run: Callable[[], Awaitable[Any]], every: float) -> None:
        self.run, self.every = run, every
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run()
            except Exception:
                log.exception("could not send follow-up reminders")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
