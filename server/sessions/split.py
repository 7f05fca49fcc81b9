"""“This and following”: cut a series at one occurrence and move the rest as a new series.

The first part keeps its UID (with an UNTIL, SEQUENCE + 1); the following part becomes a new
session with a new UID, linked by ``series_parent_id``, and its participants get new invites.
This is what RFC 5546 clients do themselves, since RANGE=THISANDFUTURE is poorly supported.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.intervals import as_utc
from scheduling.recurrence import RecurrenceError, Series, split
from server.auth import Principal
from server.db import utcnow
from server.errors import Invalid, field_error
from server.i18n import _, marked
from server.sessions import invites, planning, store
from server.sessions.calendar import last_end, new_uid, series_of
from server.sessions.invites import Calendaring
from server.sessions.models import (
    AgendaItem,
    OccurrenceOverride,
    Participant,
    Rsvp,
    Session,
    SessionStatus,
)
from server.sessions.schemas import RescheduleIn

COPIED = (
    "kind",
    "mode",
    "title",
    "topic",
    "timezone",
    "venue_id",
    "stage",
    "visibility",
    "lobby",
    "recording",
    "created_by_id",
)


def _store_series(session: Session, series: Series, shift: dt.timedelta = dt.timedelta(0)) -> None:
    session.rrule = series.rrule
    session.rdates = sorted((as_utc(r) + shift).isoformat() for r in series.rdates)
    session.exdates = sorted((e + shift).isoformat() for e in series.exdates)


async def _copy_lists(db: AsyncSession, source: Session, target: Session) -> None:
    for participant, _name in (await store.participants_of(db, [source.id]))[source.id]:
        db.add(
            Participant(
                session_id=target.id,
                person_id=participant.person_id,
                role=participant.role,
                attendance=participant.attendance,
                rsvp=Rsvp.NEEDS_ACTION,
            )
        )
    for item in (await store.agenda_of(db, [source.id]))[source.id]:
        db.add(
            AgendaItem(
                session_id=target.id,
                position=item.position,
                title=item.title,
                proposal_id=item.proposal_id,
                presenter_id=item.presenter_id,
                planned_minutes=item.planned_minutes,
            )
        )
    await store.set_proposals(
        db, target.id, (await store.proposal_ids_of(db, [source.id]))[source.id]
    )
    await db.flush()


async def split_series(
    db: AsyncSession,
    ctx: Calendaring,
    actor: Principal,
    session: Session,
    series: Series,
    body: RescheduleIn,
) -> Session:
    """Move the occurrence ``body.occurrence`` and every later one; returns the new session."""
    assert body.occurrence is not None
    original = as_utc(body.occurrence)
    try:
        head, tail = split(series, original)
    except RecurrenceError as exc:
        raise Invalid(
            _("That occurrence cannot start a new series: {exc}.", exc=exc),
            errors=[field_error("occurrence", marked(exc))],
        ) from None
    shift = body.starts_at - original
    now = utcnow()
    following = Session(
        **{name: getattr(session, name) for name in COPIED},
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        uid=new_uid(ctx.public_url),
        sequence=0,
        status=SessionStatus.SCHEDULED,
        series_parent_id=session.id,
        created_at=now,
        updated_at=now,
    )
    _store_series(following, tail, shift)
    following.until_at = body.ends_at
    await store.add(db, following)
    for override in (await store.overrides_of(db, [session.id]))[session.id]:
        if override.original_start >= original:
            db.add(
                OccurrenceOverride(
                    session_id=following.id,
                    original_start=override.original_start + shift,
                    starts_at=override.starts_at,
                    ends_at=override.ends_at,
                )
            )
            await db.delete(override)
    await db.flush()
    new_series = series_of(following, (await store.overrides_of(db, [following.id]))[following.id])
    following.until_at = last_end(new_series)
    await _copy_lists(db, session, following)
    people = frozenset(
        p.person_id for p, _n in (await store.participants_of(db, [following.id]))[following.id]
    )
    found = await planning.conflicts(
        db,
        ctx,
        session_id=following.id,
        series=new_series,
        people=people,
        venue_id=following.venue_id,
    )
    planning.settle(found, body.allow_conflicts, following, actor.id)
    _store_series(session, head)
    session.sequence += 1
    session.until_at, session.updated_at = last_end(head), now
    await invites.queue(db, ctx, session, kind="update", now=now)
    await invites.queue(db, ctx, following, kind="new", now=now)
    return following
