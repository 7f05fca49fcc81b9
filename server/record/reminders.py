"""Reminders of overdue follow-ups (督办提醒): each open item past its due date has its owner
unit's people (and a key proposal's supervising leader, in copy) emailed through the outbox,
at most once a day per item; staff may send them now, and the server does it on a schedule."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server import mail
from server.auth import Principal, require_staff
from server.db import Database, utcnow
from server.directory import service as directory
from server.i18n import DEFAULT, _, translate
from server.notices.kinds import Kind
from server.notices.service import notify, wants_email
from server.proposals import service as proposals
from server.record import store
from server.record.followups import today
from server.record.models import FollowUp
from server.record.schemas import RemindOut

REMIND_EVERY = dt.timedelta(days=1)
# A proposer who has not evaluated a reply this long after it came is reminded, once a round.
EVALUATE_WITHIN = dt.timedelta(days=14)
log = logging.getLogger(__name__)


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
        rows = await store.claim_overdue(db, day, now - REMIND_EVERY, 1000)
        people = await directory.unit_people(
            db, sorted({r.owner_unit_id for r in rows if r.owner_unit_id})
        )
        linked = sorted({r.proposal_id for r in rows if r.proposal_id})
        titles = await proposals.titles(db, linked)
        supervisors = await proposals.supervisors(db, linked)
        staff = await directory.people_of_units(
            db, sorted({r.owner_unit_id for r in rows if r.owner_unit_id})
        )
        recipients_ids = {pid for group in people.values() for pid, _n, _e in group}
        recipients_ids |= {pid for pid, _n, _e in supervisors.values()}
        languages = await directory.languages(db, sorted(recipients_ids))
        for row in rows:
            recipients = people.get(row.owner_unit_id or 0, [])
            if recipients and row.proposal_id in supervisors:  # the supervising leader: a copy
                recipients = [*recipients, supervisors[row.proposal_id]]
            told = await _tell(db, row, staff, supervisors, now)
            wanted = await wants_email(db, [r[0] for r in recipients], Kind.FOLLOW_UP_OVERDUE)
            for person_id, name, email in recipients:
                if person_id not in wanted:
                    continue
                try:
                    message = _reminder(
                        row,
                        (name, email, languages.get(person_id, DEFAULT)),
                        sender,
                        titles.get(row.proposal_id or 0),
                        now,
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
            if recipients or told:
                row.reminded_at = now
                reminded.append(row.id)
        replies = await _remind_replies(db, day, now, sender)
    return RemindOut(
        reminded=len(reminded) + len(replies), follow_up_ids=reminded, reply_overdue_ids=replies
    )


async def _remind_replies(db: Any, day: dt.date, now: dt.datetime, sender: str) -> list[int]:
    """Remind each overdue reply's lead unit, at most once a day per proposal."""
    rows = await proposals.claim_overdue_replies(db, day, now, REMIND_EVERY, 1000)
    people = await directory.unit_people(
        db, sorted({r.lead_unit_id for r in rows if r.lead_unit_id})
    )
    reminded = []
    for row in rows:
        for person_id, name, email in people.get(row.lead_unit_id or 0, []):
            try:
                message = _reply_reminder(row, name, email, sender, now)
            except ValueError:
                log.exception("cannot remind %s about proposal %s", email, row.id)
                continue
            mail.enqueue(
                db,
                recipient=email,
                method="NOTICE",
                subject=str(message["Subject"]),
                message=message.as_bytes(),
                session_id=None,
                person_id=person_id,
                now=now,
            )
        reminded.append(row.id)
    return reminded


def _reply_reminder(
    row: proposals.OverdueReply, name: str, email: str, sender: str, now: dt.datetime
) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = email
    msg["Subject"] = f"答复提醒：{' '.join(row.title.split())[:60]}（已逾期）"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or "xieshang.local")
    msg["Auto-Submitted"] = "auto-generated"
    lines = [
        f"{name}：",
        "",
        "以下提案已超过答复期限，请尽快答复并在系统中提交：",
        f"  提案：{row.title}",
        f"  答复期限：{row.reply_due.isoformat()}",
        "",
        f"The reply to proposal #{row.id} is overdue; please reply in xieshang.",
    ]
    msg.set_content("\n".join(lines), charset="utf-8")
    return msg


async def _tell(
    db: AsyncSession,
    row: FollowUp,
    staff: dict[int, list[int]],
    supervisors: dict[int, tuple[int, str, str]],
    now: dt.datetime,
) -> bool:
    """The in-app notice of an overdue item to its owner unit's people and the supervising
    leader; whether anyone was told. (The reminder is their email: the notice sends none.)"""
    people = list(staff.get(row.owner_unit_id or 0, []))
    if people and row.proposal_id in supervisors:
        people.append(supervisors[row.proposal_id][0])
    told = await notify(
        db,
        person_ids=people,
        kind=Kind.FOLLOW_UP_OVERDUE,
        link="#/follow-ups",
        params={
            "text": " ".join(row.text.split())[:120],
            "due": row.due.isoformat() if row.due else "",
        },
        mail=False,
        now=now,
    )
    return bool(told)


async def remind_evaluations(database: Database, *, limit: int = 500) -> int:
    """Remind the proposers of each reply still unevaluated after ``EVALUATE_WITHIN`` (once per
    proposal and round); returns how many people were reminded."""
    now = utcnow()
    told = 0
    async with database.transaction() as db:
        for waiting in await proposals.awaiting_evaluation(db, now - EVALUATE_WITHIN, limit):
            rows = await notify(
                db,
                person_ids=waiting.proposer_ids,
                kind=Kind.EVALUATION_REMINDER,
                link=f"#/proposals/{waiting.id}",
                params={"proposal": waiting.label},
                key=f"proposal:{waiting.id}:round:{waiting.round}",
                now=now,
            )
            told += len(rows)
    return told


def _reminder(
    row: FollowUp,
    recipient: tuple[str, str, str],
    sender: str,
    proposal: str | None,
    now: dt.datetime,
) -> EmailMessage:
    """The reminder to one person (name, email, language), written in their language."""
    name, email, language = recipient
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = email
    summary = " ".join(row.text.split())[:60]  # a header holds no line breaks
    msg["Subject"] = translate(
        _("Follow-up reminder: {summary} (overdue)", summary=summary), language
    )
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or "xieshang.local")
    msg["Auto-Submitted"] = "auto-generated"
    due = row.due.isoformat() if row.due else _("not set")
    lines = [
        _("Dear {name},", name=name),
        "",
        _("This action item is past its due date; please handle it and report it in xieshang:"),
        _("  Item: {text}", text=row.text),
        _("  Due: {due}", due=due),
    ]
    if proposal:
        lines.append(_("  Proposal: {title}", title=proposal))
    lines += ["", _("(follow-up #{id})", id=row.id)]
    msg.set_content("\n".join(translate(line, language) for line in lines), charset="utf-8")
    msg["Content-Language"] = language  # (set_content drops the Content-* headers before it)
    return msg


class ReminderLoop:
    """Runs :func:`remind_overdue` every ``every`` seconds until stopped (by flag, so a
    shutdown never waits on a cancelled ``wait_for``), but only while ``may_run()`` says so.

    Reminders need exactly one process at a time (:mod:`server.jobs`): two processes reading
    "not reminded today" at once would both queue a reminder. ``wake()`` runs it at once, e.g.
    when this process takes the job lock over from one that died."""

    def __init__(
        self,
        run: Callable[[], Awaitable[Any]],
        every: float,
        may_run: Callable[[], bool] = lambda: True,
    ) -> None:
        self.run, self.every, self.may_run = run, every, may_run
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                if self.may_run():
                    await self.run()
            except Exception:
                log.exception("could not send follow-up reminders")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.every)

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await self._task
