"""Answers to invitations (RSVP by signed link, by API, by iTIP REPLY) and personal feeds."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Literal

import icalendar
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.ical_parse import Counter, Reply, parse_counter, parse_reply
from scheduling.intervals import as_utc
from scheduling.itip import ItipError, feed
from scheduling.recurrence import occurrences
from server.audit import service as audit
from server.auth import Principal
from server.db import Database, utcnow
from server.directory import store as directory_store
from server.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from server.i18n import DEFAULT, _, marked
from server.sessions import counters, invites, store
from server.sessions.calendar import series_of
from server.sessions.invites import Calendaring
from server.sessions.models import OccurrenceRsvp, Participant, Rsvp, Session, SessionStatus

ANSWERS = {"accepted": Rsvp.ACCEPTED, "declined": Rsvp.DECLINED, "tentative": Rsvp.TENTATIVE}
FROM_PARTSTAT = {"ACCEPTED": Rsvp.ACCEPTED, "DECLINED": Rsvp.DECLINED, "TENTATIVE": Rsvp.TENTATIVE}
FEED_HISTORY = dt.timedelta(days=180)


async def _record(
    db: AsyncSession,
    session: Session,
    participant: Participant,
    answer: Rsvp,
    occurrence: dt.datetime | None,
    sequence: int,
    now: dt.datetime,
) -> None:
    if session.status is SessionStatus.CANCELLED:
        raise Conflict(_("This session was cancelled; there is nothing to answer."))
    await audit.record(
        db,
        "session.rsvp",
        actor=f"participant [p:{participant.person_id}]",
        actor_id=participant.person_id,
        object_type="session",
        object_id=session.id,
        session_id=session.id,
        answer=answer.value,
        occurrence=occurrence.isoformat() if occurrence else None,
    )
    if occurrence is None:
        participant.rsvp, participant.rsvp_at, participant.rsvp_sequence = answer, now, sequence
        return
    original = as_utc(occurrence)
    series = series_of(session, (await store.overrides_of(db, [session.id]))[session.id])
    if original not in {o.original_start for o in occurrences(series)}:
        raise Invalid(
            _("{isoformat} is not an occurrence of this session.", isoformat=original.isoformat()),
            errors=[field_error("occurrence", _("not an occurrence of this session"))],
        )
    row = await store.occurrence_rsvp(db, participant.id, original)
    if row is None:
        db.add(
            OccurrenceRsvp(
                participant_id=participant.id,
                original_start=original,
                rsvp=answer,
                sequence=sequence,
                stamp=now,
            )
        )
    else:
        row.rsvp, row.sequence, row.stamp = answer, sequence, now


async def _participant(
    db: AsyncSession, session_id: int, person_id: int
) -> tuple[Session, Participant]:
    session = await store.by_id(db, session_id, lock=True)
    participant = await store.participant_of(db, session_id, person_id) if session else None
    if session is None or participant is None:
        raise NotFound(_("You are not a participant of that session."))
    return session, participant


async def answer(
    database: Database,
    actor: Principal,
    session_id: int,
    reply: str,
    occurrence: dt.datetime | None,
) -> Rsvp:
    """The signed-in participant answers for themselves."""
    async with database.transaction() as db:
        session, participant = await _participant(db, session_id, actor.id)
        await _record(
            db, session, participant, ANSWERS[reply], occurrence, session.sequence, utcnow()
        )
    return ANSWERS[reply]


async def check_link(database: Database, ctx: Calendaring, token: str) -> tuple[Session, str, str]:
    """The session, and the name and chosen language of the participant a signed link answers
    for, changing nothing (mail scanners open links; only the confirmation, a POST, records
    the answer)."""
    payload = ctx.signer.verify("rsvp", token, utcnow())
    async with database.read() as db:
        session = await store.by_id(db, int(payload["s"]))
        found = await store.participant_of(db, session.id, int(payload["p"])) if session else None
        if session is None or found is None:
            raise NotFound(_("You are not a participant of that session."))
        if session.status is SessionStatus.CANCELLED:
            raise Conflict(_("This session was cancelled; there is nothing to answer."))
        person = await directory_store.person_by_id(db, found.person_id)
        return session, person.name if person else "", person.language if person else DEFAULT


async def answer_by_link(
    database: Database, ctx: Calendaring, token: str, reply: str
) -> tuple[Session, str, str]:
    """An answer from the signed link in an invitation email (no sign-in needed); the session,
    and the participant's name and chosen language."""
    payload = ctx.signer.verify("rsvp", token, utcnow())
    async with database.transaction() as db:
        session, participant = await _participant(db, int(payload["s"]), int(payload["p"]))
        person = await directory_store.person_by_id(db, participant.person_id)
        await _record(db, session, participant, ANSWERS[reply], None, session.sequence, utcnow())
        return session, person.name if person else "", person.language if person else DEFAULT


@dataclass(frozen=True)
class ItipResult:
    """What an incoming iTIP message did."""

    method: str
    session_id: int
    rsvp: Rsvp | None = None
    applied: bool = False
    counter_id: int | None = None


def _method(data: bytes) -> str:
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise _unusable(
            ItipError("this is not a readable iCalendar file ({exc})", exc=exc)
        ) from None
    return str(calendar.get("METHOD", "")).upper()


def _read_itip(data: bytes) -> tuple[Literal["REPLY", "COUNTER"], Reply | Counter]:
    """The message's METHOD and content, or 400 saying why it cannot be used."""
    method = _method(data)
    if method not in ("REPLY", "COUNTER"):
        raise _unusable(
            ItipError(f"only REPLY and COUNTER are accepted here, not {method or 'no METHOD'}")
        )
    try:
        if method == "REPLY":
            return "REPLY", parse_reply(data)
        return "COUNTER", parse_counter(data)
    except ItipError as exc:
        raise _unusable(exc) from None


def _unusable(exc: ItipError) -> Invalid:
    return Invalid(
        _("This iTIP message cannot be used: {exc}.", exc=exc),
        errors=[field_error("(body)", marked(exc), "itip")],
    )


async def _sender(
    db: AsyncSession, actor: Principal, uid: str, email: str
) -> tuple[Session, Participant]:
    """The session a message is about and the attendee who sent it, or 403/404."""
    session = await store.by_uid(db, uid)
    # Someone who may not see the session learns nothing about it, not even that its UID exists.
    if session is None or not (
        await store.is_visible(db, session.id, actor)
        or await store.participant_of(db, session.id, actor.id) is not None
    ):
        raise NotFound(_("No session has the UID this message refers to."))
    people = await directory_store.people_by_ids(
        db, [p.person_id for p, _n in (await store.participants_of(db, [session.id]))[session.id]]
    )
    who = next((p for p in people.values() if (p.email or "").lower() == email), None)
    if who is None:
        raise Forbidden(_("{email} is not an attendee of this session.", email=email))
    if not actor.is_staff and actor.id != who.id:
        raise Forbidden(_("You can send only your own answers."))
    return await _participant(db, session.id, who.id)


async def apply_itip(database: Database, actor: Principal, data: bytes) -> ItipResult:
    """An attendee's REPLY (answer) or COUNTER (another time), by mail forwarding or upload.

    A REPLY applies only when newer (SEQUENCE, then DTSTAMP) than what is stored; a message
    from someone who is not an attendee, or a person speaking for someone else, is refused.
    """
    method, message = await asyncio.to_thread(_read_itip, data)  # parsing is slow: off the loop
    async with database.transaction() as db:
        session, participant = await _sender(db, actor, message.uid, message.email)
        if message.sequence > session.sequence:
            raise Invalid(
                _("This message refers to a newer invitation than exists."),
                errors=[field_error("SEQUENCE", _("higher than the session's"))],
            )
        if isinstance(message, Counter):
            row = await counters.from_itip(db, session, participant.person_id, message)
            return ItipResult(method, session.id, counter_id=row.id)
        newer = participant.rsvp_sequence is None or (message.sequence, message.dtstamp) > (
            participant.rsvp_sequence,
            participant.rsvp_at or message.dtstamp,
        )
        if message.recurrence_id is None and not newer:
            return ItipResult(method, session.id, participant.rsvp, False)
        answer = FROM_PARTSTAT[message.partstat]
        await _record(
            db,
            session,
            participant,
            answer,
            message.recurrence_id,
            message.sequence,
            message.dtstamp,
        )
        return ItipResult(method, session.id, answer, True)


def feed_token(ctx: Calendaring, person_id: int, version: int) -> str:
    return ctx.signer.sign("feed", {"p": person_id, "v": version})


async def feed_url(database: Database, ctx: Calendaring, actor: Principal, rotate: bool) -> str:
    """The person's subscription URL; ``rotate`` revokes the old one first."""
    async with database.transaction() as db:
        person = await directory_store.person_by_id(db, actor.id)
        assert person is not None
        if rotate:
            person.feed_version += 1
            await audit.record(
                db, "person.feed_rotate", actor=actor, object_type="person", object_id=actor.id
            )
        version = person.feed_version
    return f"{ctx.public_url}/cal/{feed_token(ctx, actor.id, version)}.ics"


async def feed_ics(database: Database, ctx: Calendaring, token: str) -> bytes:
    """The feed of every session of the person the token names (if it is still current)."""
    payload = ctx.signer.verify("feed", token, utcnow())
    now = utcnow()
    async with database.read() as db:
        person = await directory_store.person_by_id(db, int(payload["p"]))
        if person is None or not person.active or person.feed_version != payload.get("v"):
            raise NotFound(
                _("This calendar link was replaced or revoked; get the new one in xieshang.")
            )
        sessions = await store.sessions_of_person(db, person.id, now - FEED_HISTORY)
        found = [(await invites.build_invite(db, ctx, s))[0] for s in sessions]
    return feed(found, now, name=f"{person.name}的协商日程")
