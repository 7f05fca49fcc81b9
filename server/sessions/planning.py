"""Conflicts, free slots and uploaded busy time: the server side of ``scheduling``."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Sequence
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.expansion import TooComplex
from scheduling.ical_parse import parse_busy
from scheduling.intervals import Booking, BookingIndex, Interval, busy_times, find_clashes
from scheduling.itip import ItipError
from scheduling.recurrence import Series, occurrences
from scheduling.slots import SlotQuery, find_slots
from server.auth import Principal, require_staff
from server.db import Database, utcnow
from server.directory import store as directory_store
from server.errors import Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge, field_error
from server.i18n import _, marked
from server.sessions import store, workday_calendars
from server.sessions.calendar import bookings_of, series_of
from server.sessions.invites import Calendaring
from server.sessions.models import BusyBlock, Session
from server.sessions.schemas import ConflictCheck, SlotRequest
from server.shapes import OutShape

MAX_BUSY_WINDOW = dt.timedelta(days=400)
BUSY_EXPANSION_SECONDS = 3.0  # reading and expanding one upload, in a worker thread


class ConflictOut(OutShape):
    """Who or what is double-booked, by which session, when."""

    resource: Literal["person", "venue"]
    resource_id: int
    name: str
    session_id: int | None  # None: time the person marked busy in their own calendar
    session_title: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    occurrence: dt.datetime


class SlotOut(OutShape):
    """A free time; ``missing`` are optional people who are busy then."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    missing: list[int]


class SlotList(OutShape):
    """Ranked free slots, best first."""

    items: list[SlotOut]


async def _index(
    db: AsyncSession,
    span: Interval,
    people: frozenset[int],
    skip_session: int | None,
    venue_id: int | None = None,
) -> BookingIndex:
    bookings: list[Booking] = []
    found = await store.live_sessions_between(db, span.start, span.end, sorted(people), venue_id)
    for session, who, overrides in found:
        if session.id != skip_session:
            bookings += bookings_of(session, series_of(session, overrides), who, span)
    for block in await store.busy_blocks_between(db, sorted(people), span.start, span.end):
        bookings.append(
            Booking(
                ("busy", block.id),
                Interval(block.starts_at, block.ends_at),
                frozenset({block.person_id}),
            )
        )
    return BookingIndex.of(bookings)


async def conflicts(
    db: AsyncSession,
    ctx: Calendaring,
    *,
    session_id: int | None,
    series: Series,
    people: frozenset[int],
    venue_id: int | None,
    only: dt.datetime | None = None,
) -> list[ConflictOut]:
    """Every clash of the series' live occurrences (or of the one starting at ``only``)."""
    live = [
        o
        for o in occurrences(series)
        if o.status != "cancelled" and (only is None or o.original_start == only)
    ]
    if not live:
        return []
    margin = ctx.buffer + dt.timedelta(days=1)
    span = Interval(min(o.start for o in live) - margin, max(o.end for o in live) + margin)
    index = await _index(db, span, people, session_id, venue_id)
    found = []
    for occ in live:
        candidate = Booking((session_id, occ.original_start), occ.interval, people, venue_id)
        found += [
            (occ.original_start, clash) for clash in find_clashes(candidate, index, ctx.buffer)
        ]
    return await _describe(db, found)


async def _describe(
    db: AsyncSession, found: Sequence[tuple[dt.datetime, Any]]
) -> list[ConflictOut]:
    people = await directory_store.people_by_ids(
        db, [c.resource[1] for _o, c in found if c.resource[0] == "person"]
    )
    result = []
    for occurrence, clash in found:
        kind, rid = clash.resource
        if kind == "person":
            name = people[rid].name if rid in people else str(rid)
        else:
            venue = await directory_store.venue_by_id(db, rid)
            name = venue.name if venue else str(rid)
        key = clash.booking.key
        session_id = key[0] if isinstance(key, tuple) and key[0] != "busy" else None
        result.append(
            ConflictOut(
                resource=kind,
                resource_id=rid,
                name=name,
                session_id=session_id,
                session_title=clash.booking.label or None,
                starts_at=clash.booking.interval.start,
                ends_at=clash.booking.interval.end,
                occurrence=occurrence,
            )
        )
    return result


def settle(found: list[ConflictOut], allow: bool, session: Session, actor_id: int) -> None:
    """Refuse a double booking (409), or, when staff allow it, record who accepted it."""
    if found and not allow:
        refuse(found)
    if found:
        session.conflicts_accepted_by_id, session.conflicts_accepted_at = actor_id, utcnow()


def refuse(found: list[ConflictOut]) -> None:
    """409 listing the conflicts, unless there are none."""
    if not found:
        return
    first = found[0]
    what = first.session_title or _("busy in their own calendar")
    summary = _("{name} is already booked then ({what})", name=first.name, what=what)
    if len(found) > 1:
        message = _(
            "Scheduling conflict: {summary} and {more} more. Choose another time, "
            'or resend with "allow_conflicts": true to keep it anyway.',
            summary=summary,
            more=len(found) - 1,
        )
    else:
        message = _(
            "Scheduling conflict: {summary}. Choose another time, "
            'or resend with "allow_conflicts": true to keep it anyway.',
            summary=summary,
        )
    raise Conflict(
        message,
        conflicts=[c.model_dump(mode="json") for c in found],
    )


async def session_conflicts(
    database: Database, ctx: Calendaring, actor: Principal, session_id: int
) -> list[ConflictOut]:
    """The current conflicts of a session (staff)."""
    require_staff(actor)
    async with database.read() as db:
        session = await store.by_id(db, session_id)
        if session is None:
            raise NotFound(_("There is no session {session_id}.", session_id=session_id))
        people = frozenset(
            p.person_id for p, _n in (await store.participants_of(db, [session_id]))[session_id]
        )
        series = series_of(session, (await store.overrides_of(db, [session_id]))[session_id])
        return await conflicts(
            db, ctx, session_id=session_id, series=series, people=people, venue_id=session.venue_id
        )


async def slots(
    database: Database, ctx: Calendaring, actor: Principal, body: SlotRequest
) -> SlotList:
    """Ranked free slots for the people (and venue) asked about."""
    require_staff(actor)
    window = Interval(body.window_start, body.window_end)
    everyone = frozenset(body.required_ids) | frozenset(body.optional_ids)
    async with database.read() as db:
        index = await _index(db, window, everyone, None, body.venue_id)
        calendar = await workday_calendars.effective(db, ctx.workdays)
        venue_busy = tuple(
            b.interval
            for b in index.bookings
            if body.venue_id is not None and b.venue_id == body.venue_id
        )
    busy = busy_times(index.bookings, everyone, window)
    query = SlotQuery(
        duration=dt.timedelta(minutes=body.duration_minutes),
        window=window,
        timezone=body.timezone or ctx.default_timezone,
        required=frozenset(body.required_ids),
        optional=frozenset(body.optional_ids),
        venue_busy=venue_busy,
        calendar=calendar,
        hours=tuple((h.start, h.end) for h in body.hours) if body.hours else SlotQuery.hours,
        step=dt.timedelta(minutes=body.step_minutes),
        buffer=ctx.buffer,
        limit=body.limit,
    )
    found = find_slots(query, busy)
    return SlotList(
        items=[
            SlotOut(starts_at=s.interval.start, ends_at=s.interval.end, missing=sorted(s.missing))
            for s in found
        ]
    )


class CalendarTooComplex(PayloadTooLarge):
    """An uploaded calendar that would cost too much to expand (413, with the reason)."""

    code = "calendar_too_complex"


async def upload_busy(
    database: Database, actor: Principal, person_id: int, data: bytes, window: Interval
) -> int:
    """Replace a person's uploaded busy time in ``window`` with what their ICS export says.

    The file is read and expanded in a worker thread, against a time budget, before any
    transaction opens: a costly file delays neither other requests nor the database.
    """
    if actor.id != person_id and not actor.is_staff:
        raise Forbidden(_("You can upload busy time for yourself only."))
    if window.duration > MAX_BUSY_WINDOW:
        raise Invalid(
            _("The window is too long; upload at most 400 days at a time."),
            errors=[field_error("to", _("at most 400 days after from"))],
        )
    busy = await asyncio.to_thread(_read_busy, data, window)
    async with database.transaction() as db:
        person = await directory_store.person_by_id(db, person_id)
        if person is None:
            raise NotFound(_("There is no person {person_id}.", person_id=person_id))
        now = utcnow()
        blocks = [
            BusyBlock(person_id=person_id, starts_at=b.start, ends_at=b.end, uploaded_at=now)
            for b in busy
        ]
        await store.replace_busy_blocks(db, person_id, window.start, window.end, blocks)
        return len(blocks)


def _read_busy(data: bytes, window: Interval) -> list[Interval]:
    """The busy intervals of an upload (runs in a worker thread; stops at the time budget)."""
    deadline = time.monotonic() + BUSY_EXPANSION_SECONDS
    try:
        return parse_busy(
            data, window, ZoneInfo("Asia/Shanghai"), lambda: time.monotonic() > deadline
        )
    except ItipError as exc:
        raise Invalid(
            _("The calendar file cannot be used: {exc}", exc=exc),
            errors=[field_error("(body)", marked(exc), "ics")],
        ) from None
    except TooComplex as exc:
        raise CalendarTooComplex(
            _(
                "This calendar is too complex to expand: {exc}. Nothing was stored.",
                exc=marked(exc),
            ),
            errors=[field_error("(body)", marked(exc), "ics")],
        ) from None


async def check(
    database: Database, ctx: Calendaring, actor: Principal, body: ConflictCheck
) -> list[ConflictOut]:
    """Conflicts a one-off session at this time would have (staff; for live warnings)."""
    require_staff(actor)
    series = Series(body.starts_at, body.ends_at, body.timezone or ctx.default_timezone)
    async with database.read() as db:
        return await conflicts(
            db,
            ctx,
            session_id=body.session_id,
            series=series,
            people=frozenset(body.person_ids),
            venue_id=body.venue_id,
        )
