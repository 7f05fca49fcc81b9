"""Invitations by email: iTIP REQUEST/CANCEL per participant, queued in the caller's transaction."""

from __future__ import annotations

import asyncio
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
from server.i18n import Msg, _, translate
from server.notices.kinds import Kind
from server.notices.service import notify
from server.sessions import store
from server.sessions.calendar import attendee, invite_of, series_of
from server.sessions.models import Session
from server.signing import Signer

RSVP_LABELS = (
    ("accepted", _("Accept")),
    ("tentative", _("Maybe")),
    ("declined", _("Decline")),
)


def _subject(kind: str, title: str) -> Msg:
    if kind == "new":
        return _("Invitation: {title}", title=title)
    if kind == "update":
        return _("Updated: {title}", title=title)
    return _("Cancelled: {title}", title=title)


def _greeting(kind: str, name: str, title: str) -> Msg:
    if kind == "new":
        return _("Dear {name},\n\nYou are invited to: {title}", name=name, title=title)
    if kind == "update":
        return _("Dear {name},\n\nThis session has changed: {title}", name=name, title=title)
    return _("Dear {name},\n\nThis session is cancelled: {title}", name=name, title=title)


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


def when(session: Session, language: str) -> str:
    """The session's time in its zone, as a person reading ``language`` writes it."""
    zone = ZoneInfo(session.timezone)
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    day = start.strftime("%Y-%m-%d %H:%M" if language == "en" else "%Y年%m月%d日 %H:%M")
    text = _(
        "{start} to {end} ({zone})", start=day, end=end.strftime("%H:%M"), zone=session.timezone
    )
    if session.rrule:
        text = _("{when}, recurring (see the calendar)", when=text)
    return translate(text, language)


def _mail(
    ctx: Calendaring,
    session: Session,
    person: tuple[int, str, str, str],
    kind: str,
    note: str | None,
) -> Mail:
    person_id, name, email, language = person
    lines = [
        _greeting(kind, name, session.title),
        _("Time: {when}", when=when(session, language)),
    ]
    if note:
        lines.append(_("Note: {note}", note=note))
    links: tuple[tuple[str, str], ...] = ()
    if kind != "cancel":
        lines.append(_("Join: {url}", url=ctx.join_url(session.id)))
        links = tuple(
            (translate(label, language), ctx.rsvp_url(session, person_id, answer))
            for answer, label in RSVP_LABELS
        )
    return Mail(
        sender_email=ctx.sender,
        sender_name=ctx.sender_name,
        to_email=email,
        to_name=name,
        subject=translate(_subject(kind, session.title), language),
        text="\n".join(translate(line, language) for line in lines),
        links=links,
        language=language,
    )


async def _tell(
    db: AsyncSession, session: Session, only: Sequence[int] | None, now: dt.datetime
) -> None:
    """The participants' notice of the change (the invitation itself is their email)."""
    people = (
        only
        if only is not None
        else [p.person_id for p, _ in (await store.participants_of(db, [session.id]))[session.id]]
    )
    await notify(
        db,
        person_ids=people,
        kind=Kind.SESSION_INVITATIONS_CHANGED,
        link=f"#/sessions/{session.id}",
        params={"session": session.title},
        now=now,
    )


def _compose(
    invite: Invite,
    bodies: Sequence[Mail],
    kind: str,
    occurrence: dt.datetime | None,
    now: dt.datetime,
    domain: str,
) -> tuple[str, list[bytes]]:
    """The calendar data and each email's bytes (pure, run off the event loop)."""
    if kind == "cancel":
        ics, method = cancel(invite, now, occurrence), "CANCEL"
    else:
        ics, method = request(invite, now), "REQUEST"
    return method, [message(body, ics, method, now, domain=domain).as_bytes() for body in bodies]


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
    await _tell(db, session, only, now)
    invite, emails = await build_invite(db, ctx, session)
    names = {a.email: a.name for a in invite.attendees}
    recipients = [pid for pid in emails if only is None or pid in only]
    languages = await directory_store.languages_of(db, recipients)
    if kind != "cancel" and not invite.attendees:
        return 0
    bodies = []
    for person_id in recipients:
        email = emails[person_id]
        who = (person_id, names.get(email, email), email, languages.get(person_id, "zh-CN"))
        bodies.append((person_id, _mail(ctx, session, who, kind, note)))
    if not bodies:
        return 0
    # Serialising the calendar and each email takes milliseconds of pure Python apiece (about
    # ten per email): for a hall of a few hundred invitees, seconds in which no room, request
    # or heartbeat would be served if it ran on the event loop.
    domain = ctx.sender.partition("@")[2] or "xieshang.local"
    method, raws = await asyncio.to_thread(
        _compose, invite, [body for _pid, body in bodies], kind, occurrence, now, domain
    )
    for (person_id, body), raw in zip(bodies, raws, strict=True):
        mail.enqueue(
            db,
            recipient=body.to_email,
            method=method,
            subject=body.subject,
            message=raw,
            session_id=session.id,
            person_id=person_id,
            now=now,
        )
    return len(recipients)
