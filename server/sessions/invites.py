"""Invitations by email: iTIP REQUEST/CANCEL per participant, queued in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.imip import Mail, message
from scheduling.itip import Attendee, Invite, cancel, request
from scheduling.workdays import WorkCalendar
from server import mail
from server.directory import store as directory_store
from server.sessions import store
from server.sessions.calendar import attendee, invite_of, series_of
from server.sessions.models import Session
from server.signing import Signer

RSVP_LABELS = (
    ("accepted", "接受 Accept"),
    ("tentative", "暂定 Maybe"),
    ("declined", "谢绝 Decline"),
)
SUBJECTS = {"new": "邀请", "update": "更新", "cancel": "取消"}


@dataclass(frozen=True, kw_only=True)
class Calendaring:
    """What scheduling needs from the running server."""

    public_url: str
    sender: str
    sender_name: str
    signer: Signer
    buffer: dt.timedelta
    default_timezone: str
    workdays: WorkCalendar
    wake: Callable[[], None]

    def join_url(self, session_id: int) -> str:
        return f"{self.public_url}/sessions/{session_id}"

    def rsvp_token(self, session: Session, person_id: int) -> str:
        until = (session.until_at or session.ends_at) + dt.timedelta(days=7)
        return self.signer.sign("rsvp", {"s": session.id, "p": person_id}, expires_at=until)

    def rsvp_url(self, session: Session, person_id: int, answer: str) -> str:
        return f"{self.public_url}/rsvp/{self.rsvp_token(session, person_id)}?answer={answer}"

    @property
    def organizer(self) -> Attendee:
        return Attendee(email=self.sender, name=self.sender_name)


async def build_invite(
    db: AsyncSession, ctx: Calendaring, session: Session
) -> tuple[Invite, dict[int, str]]:
    """The session's iTIP view, and each participant's email by person id (those who have one)."""
    participants = (await store.participants_of(db, [session.id]))[session.id]
    people = await directory_store.people_by_ids(db, [p.person_id for p, _name in participants])
    emails = {pid: person.email for pid, person in people.items() if person.email}
    attendees = [
        attendee(name, emails[p.person_id], p.role, p.rsvp)
        for p, name in participants
        if p.person_id in emails
    ]
    venue = await directory_store.venue_by_id(db, session.venue_id) if session.venue_id else None
    agenda = [a.title for a in (await store.agenda_of(db, [session.id]))[session.id]]
    overrides = (await store.overrides_of(db, [session.id]))[session.id]
    invite = invite_of(
        session,
        series_of(session, overrides),
        organizer=ctx.organizer,
        attendees=attendees,
        location=f"{venue.name}（{venue.address}）"
        if venue and venue.address
        else venue.name
        if venue
        else None,
        agenda=agenda,
        join_url=ctx.join_url(session.id),
    )
    return invite, emails


def _when(session: Session) -> str:
    zone = ZoneInfo(session.timezone)
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    repeat = "（周期性会议，详见日历）" if session.rrule else ""
    return f"{start:%Y年%m月%d日 %H:%M}–{end:%H:%M}（{session.timezone}）{repeat}"


def _mail(
    ctx: Calendaring, session: Session, person: tuple[int, str, str], kind: str, note: str | None
) -> Mail:
    person_id, name, email = person
    verb = {"new": "诚邀您参加", "update": "以下会议有更新", "cancel": "以下会议已取消"}[kind]
    text = f"{name}，您好：\n\n{verb}：{session.title}\n时间：{_when(session)}"
    if note:
        text += f"\n说明：{note}"
    links: tuple[tuple[str, str], ...] = ()
    if kind != "cancel":
        text += f"\n参会链接：{ctx.join_url(session.id)}"
        links = tuple(
            (label, ctx.rsvp_url(session, person_id, answer)) for answer, label in RSVP_LABELS
        )
    return Mail(
        sender_email=ctx.sender,
        sender_name=ctx.sender_name,
        to_email=email,
        to_name=name,
        subject=f"{SUBJECTS[kind]}：{session.title}",
        text=text,
        links=links,
    )


async def queue(
    db: AsyncSession,
    ctx: Calendaring,
    session: Session,
    *,
    kind: str,
    only: Sequence[int] | None = None,
    occurrence: dt.datetime | None = None,
    note: str | None = None,
    now: dt.datetime,
) -> int:
    """Queue one email per participant with an address; returns how many were queued.

    ``kind`` is ``new``/``update`` (a REQUEST of the whole series) or ``cancel`` (a CANCEL of
    the series, or of ``occurrence``). ``only`` limits the recipients (e.g. removed people).
    """
    invite, emails = await build_invite(db, ctx, session)
    names = {a.email: a.name for a in invite.attendees}
    recipients = [pid for pid in emails if only is None or pid in only]
    if kind == "cancel":
        ics, method = cancel(invite, now, occurrence), "CANCEL"
    else:
        if not invite.attendees:
            return 0
        ics, method = request(invite, now), "REQUEST"
    for person_id in recipients:
        email = emails[person_id]
        body = _mail(ctx, session, (person_id, names.get(email, email), email), kind, note)
        raw = message(
            body, ics, method, now, domain=ctx.sender.partition("@")[2] or "xieshang.local"
        ).as_bytes()
        mail.enqueue(
            db,
            recipient=email,
            method=method,
            subject=body.subject,
            message=raw,
            session_id=session.id,
            person_id=person_id,
            now=now,
        )
    return len(recipients)
