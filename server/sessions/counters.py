"""Counter-proposals: an attendee asks for another time; staff accept (a new REQUEST) or decline.

They arrive as iTIP COUNTER messages (RFC 5546 §3.2.7) or from the web. Accepting reschedules
the session (or the occurrence) with SEQUENCE + 1 in the same transaction; declining sends the
attendee a DECLINECOUNTER (§3.2.8).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import StringConstraints, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.ical_parse import Counter
from scheduling.imip import Mail, message
from scheduling.intervals import as_utc
from scheduling.itip import decline_counter
from server import mail
from server.auth import Principal, require_staff
from server.db import Database, utcnow
from server.directory import store as directory_store
from server.directory.models import Person
from server.errors import Conflict, NotFound
from server.i18n import _, translate
from server.sessions import invites, records, store
from server.sessions.calendar import attendee
from server.sessions.changes import reschedule_in
from server.sessions.invites import Calendaring
from server.sessions.models import (
    COUNTER_STATE_WORDS,
    CounterProposal,
    CounterState,
    Session,
)
from server.sessions.schemas import MAX_DURATION, RescheduleIn, SessionOut
from server.shapes import FieldProblem, Instant, OutShape, Shape


class CounterIn(Shape):
    """Propose another time for a session, or for one occurrence."""

    starts_at: Instant
    ends_at: Instant
    occurrence: Instant | None = None
    comment: Annotated[str, StringConstraints(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _order(self) -> CounterIn:
        if self.ends_at <= self.starts_at:
            raise FieldProblem("ends_at", _("must be after starts_at"))
        if self.ends_at - self.starts_at > MAX_DURATION:  # staff could never accept it
            raise FieldProblem("ends_at", _("a session lasts at most 24 hours"))
        return self


class CounterOut(OutShape):
    """A counter-proposal and where it stands."""

    id: int
    session_id: int
    person_id: int
    occurrence: dt.datetime | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    comment: str | None
    sequence: int
    state: CounterState
    received_at: dt.datetime
    decided_by_id: int | None
    decided_at: dt.datetime | None


class CounterList(OutShape):
    """A session's counter-proposals, newest last."""

    items: list[CounterOut]


class AcceptIn(Shape):
    """Accept a counter-proposal: the session moves to the proposed time."""

    allow_conflicts: bool = False


class DeclineIn(Shape):
    """Decline a counter-proposal: the attendee is told the time stays."""

    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


async def record(
    db: AsyncSession,
    session: Session,
    person_id: int,
    start: dt.datetime,
    end: dt.datetime,
    occurrence: dt.datetime | None,
    comment: str | None,
    sequence: int,
) -> CounterProposal:
    """Store an open counter-proposal inside the caller's transaction."""
    row = CounterProposal(
        session_id=session.id,
        person_id=person_id,
        occurrence=as_utc(occurrence) if occurrence else None,
        starts_at=start,
        ends_at=end,
        comment=comment,
        sequence=sequence,
        state=CounterState.OPEN,
        received_at=utcnow(),
    )
    db.add(row)
    await db.flush()
    return row


async def from_itip(
    db: AsyncSession, session: Session, person_id: int, counter: Counter
) -> CounterProposal:
    """A COUNTER that arrived as iTIP."""
    return await record(
        db,
        session,
        person_id,
        counter.start,
        counter.end,
        counter.recurrence_id,
        counter.comment,
        counter.sequence,
    )


async def propose(
    database: Database, actor: Principal, session_id: int, body: CounterIn
) -> CounterOut:
    """A participant proposes another time from the web."""
    async with database.transaction() as db:
        session = await store.by_id(db, session_id)
        if session is None or await store.participant_of(db, session_id, actor.id) is None:
            raise NotFound(_("You are not a participant of that session."))
        row = await record(
            db,
            session,
            actor.id,
            body.starts_at,
            body.ends_at,
            body.occurrence,
            body.comment,
            session.sequence,
        )
        return CounterOut.model_validate(row)


async def list_counters(database: Database, actor: Principal, session_id: int) -> CounterList:
    """Every counter-proposal of a session (staff)."""
    require_staff(actor)
    async with database.read() as db:
        rows = await db.execute(
            select(CounterProposal)
            .where(CounterProposal.session_id == session_id)
            .order_by(CounterProposal.id)
        )
        return CounterList(items=[CounterOut.model_validate(r) for r in rows.scalars()])


async def _open_counter(db: AsyncSession, session_id: int, counter_id: int) -> CounterProposal:
    row = await db.get(CounterProposal, counter_id)
    if row is None or row.session_id != session_id:
        raise NotFound(
            _(
                "Session {session_id} has no counter-proposal {counter_id}.",
                session_id=session_id,
                counter_id=counter_id,
            )
        )
    if row.state is not CounterState.OPEN:
        raise Conflict(
            _("This counter-proposal was {state} already.", state=COUNTER_STATE_WORDS[row.state])
        )
    return row


async def accept(
    database: Database,
    ctx: Calendaring,
    actor: Principal,
    session_id: int,
    counter_id: int,
    body: AcceptIn,
) -> SessionOut:
    """Move the session (or occurrence) to the proposed time: a new REQUEST goes out."""
    require_staff(actor)
    async with database.transaction() as db:
        row = await _open_counter(db, session_id, counter_id)
        session = await reschedule_in(db, ctx, actor, session_id, _move(row, body))
        row.state, row.decided_by_id, row.decided_at = CounterState.ACCEPTED, actor.id, utcnow()
        out = (await records.outs(db, [session]))[0]
    ctx.wake()
    return out


def _move(row: CounterProposal, body: AcceptIn) -> RescheduleIn:
    """The reschedule a counter asks for; it may break the rules (an iTIP COUNTER is not
    checked like a request), which is the counter's problem, not the server's."""
    try:
        return RescheduleIn(
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            occurrence=row.occurrence,
            allow_conflicts=body.allow_conflicts,
        )
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise Conflict(
            _(
                "This counter-proposal's time cannot be accepted ({reason}); decline it.",
                reason=reason,
            ),
            counter_id=row.id,
        ) from None


async def decline(
    database: Database,
    ctx: Calendaring,
    actor: Principal,
    session_id: int,
    counter_id: int,
    body: DeclineIn,
) -> CounterOut:
    """Keep the time and tell the attendee with a DECLINECOUNTER."""
    require_staff(actor)
    now = utcnow()
    async with database.transaction() as db:
        row = await _open_counter(db, session_id, counter_id)
        session = await store.by_id(db, session_id)
        person = await directory_store.person_by_id(db, row.person_id)
        participant = await store.participant_of(db, session_id, row.person_id)
        assert session is not None and person is not None
        row.state, row.decided_by_id, row.decided_at = CounterState.DECLINED, actor.id, now
        if person.email and participant is not None:
            invite, _emails = await invites.build_invite(db, ctx, session)
            ics = decline_counter(
                invite,
                attendee(person.name, person.email, participant.role, participant.rsvp),
                now,
                row.occurrence,
            )
            note = _declined_note(ctx, session, person, body.reason)
            raw = message(note, ics, "DECLINECOUNTER", now).as_bytes()
            mail.enqueue(
                db,
                recipient=person.email,
                method="DECLINECOUNTER",
                subject=note.subject,
                message=raw,
                session_id=session_id,
                person_id=person.id,
                now=now,
            )
        out = CounterOut.model_validate(row)
    ctx.wake()
    return out


def _declined_note(ctx: Calendaring, session: Session, person: Person, reason: str | None) -> Mail:
    """The email that keeps the time, in the person's language."""
    language = person.language
    lines = [
        _(
            "Dear {name},\n\nThe new time you suggested was not taken; “{title}” keeps its time.",
            name=person.name,
            title=session.title,
        )
    ]
    if reason:
        lines.append(_("Note: {note}", note=reason))
    return Mail(
        sender_email=ctx.sender,
        sender_name=ctx.sender_name,
        to_email=person.email or "",
        to_name=person.name,
        subject=translate(_("Time unchanged: {title}", title=session.title), language),
        text="\n".join(translate(line, language) for line in lines),
        language=language,
    )
