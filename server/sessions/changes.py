"""After scheduling: reschedule and cancel (whole or one occurrence), occurrences, invite.ics."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.intervals import as_utc
from scheduling.itip import cancel, request
from scheduling.recurrence import RecurrenceError, cancel_occurrence, move_occurrence, occurrences
from server import mail
from server.audit import service as audit
from server.auth import Principal, require_staff
from server.db import Database, utcnow
from server.errors import Conflict, Invalid, NotFound, field_error
from server.i18n import _, marked
from server.sessions import invites, planning, records, store
from server.sessions.calendar import last_end, series_of
from server.sessions.invites import Calendaring
from server.sessions.models import STATUS_WORDS, OccurrenceOverride, Session, SessionStatus
from server.sessions.schemas import (
    CancelIn,
    OccurrenceList,
    OccurrenceOut,
    RescheduleIn,
    SessionOut,
)
from server.sessions.split import split_series
from server.shapes import OutShape


class DeliveryOut(OutShape):
    """One email about a session and where it is."""

    id: int
    person_id: int | None
    recipient: str
    method: str
    subject: str
    state: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


class DeliveryList(OutShape):
    """Every email about a session, oldest first."""

    items: list[DeliveryOut]


async def _open(db: AsyncSession, session_id: int) -> Session:
    session = await store.by_id(db, session_id, lock=True)
    if session is None:
        raise NotFound(_("There is no session {session_id}.", session_id=session_id))
    if session.status in (SessionStatus.ENDED, SessionStatus.CANCELLED):
        raise Conflict(
            _(
                "This session is {status}; it can no longer be changed.",
                status=STATUS_WORDS[session.status],
            )
        )
    return session


def _bad_occurrence(exc: RecurrenceError) -> Invalid:
    return Invalid(
        _("That occurrence cannot be changed: {exc}.", exc=exc),
        errors=[field_error("occurrence", marked(exc))],
    )


async def _people(db: AsyncSession, session_id: int) -> frozenset[int]:
    return frozenset(
        p.person_id for p, _n in (await store.participants_of(db, [session_id]))[session_id]
    )


async def reschedule(
    database: Database, ctx: Calendaring, actor: Principal, session_id: int, body: RescheduleIn
) -> SessionOut:
    """Move a session, or one occurrence of a series; invites go out with a higher SEQUENCE."""
    require_staff(actor)
    async with database.transaction() as db:
        session = await reschedule_in(db, ctx, actor, session_id, body)
        out = (await records.outs(db, [session]))[0]
    ctx.wake()
    return out


async def reschedule_in(
    db: AsyncSession, ctx: Calendaring, actor: Principal, session_id: int, body: RescheduleIn
) -> Session:
    """:func:`reschedule` in the caller's transaction; returns the session now holding the time."""
    session = await _move(db, ctx, actor, session_id, body)
    await audit.record(
        db,
        "session.reschedule",
        actor=actor,
        object_type="session",
        object_id=session.id,
        session_id=session_id,
        starts_at=body.starts_at.isoformat(),
        ends_at=body.ends_at.isoformat(),
        occurrence=body.occurrence.isoformat() if body.occurrence else None,
        following=body.following,
        allow_conflicts=body.allow_conflicts,
    )
    return session


async def _move(
    db: AsyncSession, ctx: Calendaring, actor: Principal, session_id: int, body: RescheduleIn
) -> Session:
    session = await _open(db, session_id)
    overrides = (await store.overrides_of(db, [session_id]))[session_id]
    series = series_of(session, overrides)
    if body.following:
        return await split_series(db, ctx, actor, session, series, body)
    only = None
    if body.occurrence is None:
        session.starts_at, session.ends_at = body.starts_at, body.ends_at
        try:
            await records.drop_stale_exceptions(db, session)
        except RecurrenceError as exc:
            raise Invalid(marked(exc), errors=[field_error("starts_at", marked(exc))]) from None
        series = series_of(session, (await store.overrides_of(db, [session_id]))[session_id])
    else:
        only = as_utc(body.occurrence)
        try:
            series = move_occurrence(series, only, body.starts_at, body.ends_at)
        except RecurrenceError as exc:
            raise _bad_occurrence(exc) from None
        await _write_override(db, session_id, overrides, only, body)
    people = await _people(db, session_id)
    found = await planning.conflicts(
        db,
        ctx,
        session_id=session_id,
        series=series,
        people=people,
        venue_id=session.venue_id,
        only=only,
    )
    planning.settle(found, body.allow_conflicts, session, actor.id)
    now = utcnow()
    session.sequence += 1
    session.until_at, session.updated_at = last_end(series), now
    if only is None:
        await store.reset_rsvps(db, session_id)
    await invites.queue(db, ctx, session, kind="update", now=now)
    return session


async def _write_override(
    db: AsyncSession,
    session_id: int,
    overrides: list[OccurrenceOverride],
    original: dt.datetime,
    body: RescheduleIn,
) -> None:
    existing = next((o for o in overrides if o.original_start == original), None)
    if existing is None:
        db.add(
            OccurrenceOverride(
                session_id=session_id,
                original_start=original,
                starts_at=body.starts_at,
                ends_at=body.ends_at,
            )
        )
    else:
        existing.starts_at, existing.ends_at = body.starts_at, body.ends_at
    await db.flush()


async def cancel_session(
    database: Database, ctx: Calendaring, actor: Principal, session_id: int, body: CancelIn
) -> SessionOut:
    """Cancel a session (CANCEL to everyone) or one occurrence (an EXDATE and a CANCEL for it)."""
    require_staff(actor)
    async with database.transaction() as db:
        session = await _open(db, session_id)
        overrides = (await store.overrides_of(db, [session_id]))[session_id]
        now = utcnow()
        session.sequence += 1
        session.updated_at = now
        if body.occurrence is None:
            session.status, session.cancel_reason = SessionStatus.CANCELLED, body.reason
            await invites.queue(db, ctx, session, kind="cancel", note=body.reason, now=now)
        else:
            original = as_utc(body.occurrence)
            try:
                cancel_occurrence(series_of(session, overrides), original)
            except RecurrenceError as exc:
                raise _bad_occurrence(exc) from None
            session.exdates = sorted({*(session.exdates or []), original.isoformat()})
            for override in overrides:
                if override.original_start == original:
                    await db.delete(override)
            await invites.queue(
                db, ctx, session, kind="cancel", occurrence=original, note=body.reason, now=now
            )
        await audit.record(
            db,
            "session.cancel",
            actor=actor,
            object_type="session",
            object_id=session_id,
            session_id=session_id,
            occurrence=body.occurrence.isoformat() if body.occurrence else None,
            reason=body.reason,
        )
        out = (await records.outs(db, [session]))[0]
    ctx.wake()
    return out


async def _visible(db: AsyncSession, actor: Principal, session_id: int) -> Session:
    session = await store.by_id(db, session_id)
    if session is None or not await store.is_visible(db, session_id, actor):
        raise NotFound(
            _("There is no session {session_id} that you can see.", session_id=session_id)
        )
    return session


async def list_occurrences(database: Database, actor: Principal, session_id: int) -> OccurrenceList:
    """Every occurrence with its status (a single session has one)."""
    async with database.read() as db:
        session = await _visible(db, actor, session_id)
        series = series_of(session, (await store.overrides_of(db, [session_id]))[session_id])
    found = occurrences(series)
    if session.status is SessionStatus.CANCELLED:
        return OccurrenceList(
            items=[
                OccurrenceOut(
                    original_start=o.original_start, start=o.start, end=o.end, status="cancelled"
                )
                for o in found
            ]
        )
    return OccurrenceList(
        items=[
            OccurrenceOut(
                original_start=o.original_start, start=o.start, end=o.end, status=o.status
            )
            for o in found
        ]
    )


async def invite_ics(
    database: Database, ctx: Calendaring, actor: Principal, session_id: int
) -> bytes:
    """The current REQUEST, or the CANCEL of a cancelled session (staff and participants:
    it lists every attendee's email address)."""
    async with database.read() as db:
        session = await _visible(db, actor, session_id)
        if not actor.is_staff and await store.participant_of(db, session_id, actor.id) is None:
            raise NotFound(_("Only the session's participants have an invitation to download."))
        invite, _emails = await invites.build_invite(db, ctx, session)
    if session.status is SessionStatus.CANCELLED:
        return cancel(invite, utcnow())
    if not invite.attendees:
        raise Conflict(
            _("Nobody in this session has an email address, so there is no invitation to show.")
        )
    return request(invite, utcnow())


async def deliveries(database: Database, actor: Principal, session_id: int) -> DeliveryList:
    """The emails about a session and their state (staff)."""
    require_staff(actor)
    async with database.read() as db:
        if await store.by_id(db, session_id) is None:
            raise NotFound(_("There is no session {session_id}.", session_id=session_id))
        rows = await mail.deliveries(db, session_id)
        return DeliveryList(
            items=[DeliveryOut.model_validate(r, from_attributes=True) for r in rows]
        )
