"""Working-day calendars: the notices that ship, plus the years staff add when published."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.workdays import CalendarDataError, WorkCalendar, from_ics, from_json
from server.audit import service as audit
from server.auth import Principal, require_staff
from server.db import Database, utcnow
from server.errors import Invalid, field_error
from server.i18n import _, marked
from server.sessions.models import WorkdayCalendar
from server.shapes import OutShape

Year = Annotated[int, Field(ge=2000, le=2100)]
ICS = "text/calendar"


class DayOut(OutShape):
    """A date with the holiday's name."""

    date: dt.date
    name: str


class WorkdaysOut(OutShape):
    """One year's days off and extra working days, and where they come from."""

    year: int
    source: str
    days_off: list[DayOut]
    extra_workdays: list[DayOut]


def _stored(row: WorkdayCalendar) -> WorkCalendar:
    def days(entries: list[dict[str, str]]) -> frozenset[dt.date]:
        return frozenset(dt.date.fromisoformat(e["date"]) for e in entries)

    names = {dt.date.fromisoformat(e["date"]): e["name"] for e in row.days_off + row.extra_workdays}
    return WorkCalendar(
        days_off=days(row.days_off), extra_workdays=days(row.extra_workdays), names=names
    )


async def effective(db: AsyncSession, shipped: WorkCalendar) -> WorkCalendar:
    """The shipped calendar with every year staff added laid over it (added years win)."""
    calendar = shipped
    for row in (await db.execute(select(WorkdayCalendar).order_by(WorkdayCalendar.year))).scalars():
        year_days = {d for d in shipped.days_off | shipped.extra_workdays if d.year == row.year}
        base = WorkCalendar(
            days_off=calendar.days_off - year_days,
            extra_workdays=calendar.extra_workdays - year_days,
            names=calendar.names,
        )
        calendar = base.merged(_stored(row))
    return calendar


def _year_view(calendar: WorkCalendar, year: int, source: str) -> WorkdaysOut:
    def pick(days: frozenset[dt.date]) -> list[DayOut]:
        return [
            DayOut(date=d, name=calendar.names.get(d, "")) for d in sorted(days) if d.year == year
        ]

    return WorkdaysOut(
        year=year,
        source=source,
        days_off=pick(calendar.days_off),
        extra_workdays=pick(calendar.extra_workdays),
    )


async def get_year(database: Database, shipped: WorkCalendar, year: int) -> WorkdaysOut:
    """One year as the slot finder sees it."""
    async with database.read() as db:
        row = await db.get(WorkdayCalendar, year)
        calendar = await effective(db, shipped)
    source = (
        row.source
        if row
        else (
            "shipped with xieshang"
            if any(d.year == year for d in shipped.days_off)
            else "none: weekends only"
        )
    )
    return _year_view(calendar, year, source)


def parse_notice(data: bytes, media_type: str, year: int) -> WorkCalendar:
    """A notice sent as xieshang's JSON format or as an ICS file of all-day events."""
    try:
        calendar = from_ics(data) if media_type == ICS else from_json(data)
    except CalendarDataError as exc:
        raise Invalid(
            _("The working-day calendar cannot be read: {exc}.", exc=exc),
            errors=[field_error("(body)", marked(exc))],
        ) from None
    outside = sorted(d for d in calendar.days_off | calendar.extra_workdays if d.year != year)
    if outside:
        raise Invalid(
            _(
                "The calendar has dates outside {year}, e.g. {part0}; send one year at a time.",
                year=year,
                part0=outside[0],
            ),
            errors=[
                field_error("(body)", _("{part0} is not in {year}", part0=outside[0], year=year))
            ],
        )
    if not calendar.days_off:
        raise Invalid(
            _("The calendar lists no days off."), errors=[field_error("days_off", _("empty"))]
        )
    return calendar


async def put_year(
    database: Database,
    shipped: WorkCalendar,
    actor: Principal,
    year: int,
    data: bytes,
    media_type: str,
) -> WorkdaysOut:
    """Staff add (or replace) one year's notice, sent as JSON or ICS (read off the event loop)."""
    require_staff(actor)  # before reading the file: a stranger's upload costs nothing
    calendar = await asyncio.to_thread(parse_notice, data, media_type, year)
    source = f"uploaded as {'ICS' if media_type == ICS else 'JSON'} by {actor.name}"

    def entries(days: frozenset[dt.date]) -> list[dict[str, str]]:
        return [{"date": d.isoformat(), "name": calendar.names.get(d, "")} for d in sorted(days)]

    async with database.transaction() as db:
        row = await db.get(WorkdayCalendar, year)
        if row is None:
            row = WorkdayCalendar(year=year)
            db.add(row)
        row.days_off, row.extra_workdays = (
            entries(calendar.days_off),
            entries(calendar.extra_workdays),
        )
        row.source, row.uploaded_by_id, row.uploaded_at = source[:300], actor.id, utcnow()
        await audit.record(
            db,
            "workdays.upload",
            actor=actor,
            object_type="workdays",
            object_id=year,
            days_off=len(calendar.days_off),
            extra_workdays=len(calendar.extra_workdays),
            format="ICS" if media_type == ICS else "JSON",
        )
    return await get_year(database, shipped, year)
