"""Working days: weekends, public holidays, and weekend days made working days (调休).

China's State Council publishes each year's arrangement; xieshang ships it as data in its own
format (``scheduling/data/cn-workdays-YYYY.json``) and staff add the next year's when it is
published, as the same JSON or as an ICS file of all-day events.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import icalendar

from scheduling.problems import Problem

FORMAT = "xieshang-workdays/1"
SATURDAY, SUNDAY = 5, 6
WORKDAY_WORDS = ("上班", "补班", "调休上班", "workday", "working day")
MAX_EVENT_DAYS = 366  # one all-day event of an ICS notice
MAX_ICS_DAYS = 1000  # all of them together (one year's notice names a few dozen)


class CalendarDataError(Problem):
    """A working-day file that cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class WorkCalendar:
    """Which dates are working days."""

    days_off: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()
    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})
    names: Mapping[dt.date, str] = field(default_factory=dict, compare=False)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.days_off:
            return False
        return day.weekday() not in self.weekend

    def workdays(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """Working days from ``first`` to ``last`` inclusive."""
        days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
        return [d for d in days if self.is_workday(d)]

    def merged(self, other: WorkCalendar) -> WorkCalendar:
        """Both calendars' days off and extra working days (``other`` wins on a clash)."""
        return WorkCalendar(
            days_off=(self.days_off - other.extra_workdays) | other.days_off,
            extra_workdays=(self.extra_workdays - other.days_off) | other.extra_workdays,
            weekend=self.weekend,
            names={**self.names, **other.names},
        )


def _date(value: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CalendarDataError(
            "{where}: {value!r} is not a date like 2026-10-01", where=where, value=value
        ) from None


def from_data(data: Mapping[str, Any]) -> WorkCalendar:
    """A calendar from the JSON format xieshang ships."""
    if data.get("format") != FORMAT:
        raise CalendarDataError('expected "format": "{FORMAT}"', FORMAT=FORMAT)
    names: dict[dt.date, str] = {}
    off: set[dt.date] = set()
    extra: set[dt.date] = set()
    for key, target in (("days_off", off), ("extra_workdays", extra)):
        for i, entry in enumerate(data.get(key, [])):
            day = _date(entry.get("date") if isinstance(entry, dict) else entry, f"{key}[{i}]")
            target.add(day)
            if isinstance(entry, dict) and entry.get("name"):
                names[day] = str(entry["name"])
    if off & extra:
        clash = min(off & extra).isoformat()
        raise CalendarDataError("{clash} is both a day off and an extra working day", clash=clash)
    return WorkCalendar(days_off=frozenset(off), extra_workdays=frozenset(extra), names=names)


def from_json(text: str | bytes) -> WorkCalendar:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalendarDataError("not JSON: {exc}", exc=exc) from None
    if not isinstance(data, dict):
        raise CalendarDataError("expected a JSON object")
    return from_data(data)


def _days_of(start: dt.date, end: object) -> int:
    """How many days an all-day event covers (one at least); a notice's are days, not years."""
    days = max((end - start).days, 1) if isinstance(end, dt.date) else 1
    if days > MAX_EVENT_DAYS:
        raise CalendarDataError(
            "an all-day event lasts {days} days (from {start}); a notice covers one year",
            days=days,
            start=start,
        )
    return days


def from_ics(text: str | bytes) -> WorkCalendar:
    """All-day events as days off, or as extra working days when their summary says 上班/补班."""
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        raise CalendarDataError("not an iCalendar file: {exc}", exc=exc) from None
    off: set[dt.date] = set()
    extra: set[dt.date] = set()
    names: dict[dt.date, str] = {}
    listed = 0
    for event in calendar.walk("VEVENT"):
        start = event.decoded("DTSTART")
        if isinstance(start, dt.datetime):
            continue  # only all-day events describe whole days
        end = event.decoded("DTEND") if "DTEND" in event else start + dt.timedelta(days=1)
        days = _days_of(start, end)
        listed += days
        if listed > MAX_ICS_DAYS:  # bound the unrolling below, before doing it
            raise CalendarDataError(
                "the events name more than {MAX_ICS_DAYS} days", MAX_ICS_DAYS=MAX_ICS_DAYS
            )
        summary = str(event.get("SUMMARY", ""))
        target = extra if any(w in summary.lower() for w in WORKDAY_WORDS) else off
        for i in range(days):
            day = start + dt.timedelta(days=i)
            target.add(day)
            names[day] = summary
    return WorkCalendar(
        days_off=frozenset(off - extra), extra_workdays=frozenset(extra), names=names
    )


def shipped(years: Iterable[int] | None = None) -> WorkCalendar:
    """The working-day calendars that ship with xieshang (every year unless ``years`` is given)."""
    calendar = WorkCalendar()
    folder = resources.files("scheduling") / "data"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.startswith("cn-workdays-") or not item.name.endswith(".json"):
            continue
        if years is not None and int(item.name[12:16]) not in set(years):
            continue
        calendar = calendar.merged(from_json(item.read_text(encoding="utf-8")))
    return calendar
